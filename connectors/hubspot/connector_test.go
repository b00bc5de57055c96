package hubspot

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/hubspot/hubspottest"
)

func TestValidateConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config map[string]any
		errs   string
	}{
		{"ok", map[string]any{connToken: "pat-eu1-x"}, ""},
		{"no token", map[string]any{}, "token is required"},
		{"token with newline", map[string]any{connToken: "pat\r\nX-Evil: 1"}, "without spaces"},
		{"relative base", map[string]any{connToken: "pat", connBaseURL: "api.hubapi.com"}, "absolute"},
		{"bad country", map[string]any{connToken: "pat", connDefaultCountry: "Narnia"}, "default country"},
		{"bad property", map[string]any{connToken: "pat", connKeyProperty: "Hookflow Key"}, "internal name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateConnection(tt.config)
			if tt.errs == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.errs)
		})
	}
}

// TestTestConnection reads one contact with the token; a refused token is permanent and
// the message names HubSpot's category, not the token.
func TestTestConnection(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t)
	require.NoError(t, testConnection(t.Context(), connection(srv, srv.Token, nil)))
	err := testConnection(t.Context(), connection(srv, wrongToken, nil))
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "INVALID_AUTHENTICATION")
	require.NotContains(t, err.Error(), wrongToken)
	require.Len(t, srv.RequestsOf(hubspottest.OpListContacts), 2)
}

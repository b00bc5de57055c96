package amocrm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
)

func TestValidateConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		config map[string]any
		err    string
	}{
		{map[string]any{connSubdomain: "mycompany", connToken: "t"}, ""},
		{map[string]any{connBaseURL: "https://mycompany.kommo.com", connToken: "t", connCountry: "KZ"}, ""},
		{map[string]any{connToken: "t"}, "set subdomain"},
		{map[string]any{connSubdomain: "evil.com/x?", connToken: "t"}, "subdomain"},
		{map[string]any{connBaseURL: "ftp://x", connToken: "t"}, "base_url"},
		{map[string]any{connBaseURL: "https://x.kommo.com?a=1", connToken: "t"}, "query"},
		{map[string]any{connSubdomain: "a", connToken: "t", connCountry: "Narnia"}, "default country"},
	}
	for _, tt := range tests {
		err := validateConnection(tt.config)
		if tt.err == "" {
			require.NoError(t, err, "%v", tt.config)
		} else {
			require.ErrorContains(t, err, tt.err, "%v", tt.config)
		}
	}
}

func TestBaseURLFromSubdomain(t *testing.T) {
	t.Parallel()
	a, err := newAPI(&connectors.Connection{Name: "c", Config: map[string]any{connSubdomain: "mycompany", connToken: "tok-123456789"}}, nil)
	require.NoError(t, err)
	require.Equal(t, "https://mycompany.amocrm.ru", a.base)
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	require.NoError(t, testConnection(t.Context(), connection(srv, srv.Token)))
	err := testConnection(t.Context(), connection(srv, "amo-revoked-token-9999"))
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "401")
	require.NotContains(t, err.Error(), "amo-revoked-token-9999")
}

package http

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateConnection(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		config  map[string]any
		wantErr []string
	}{
		{name: "empty", config: map[string]any{}},
		{name: "none with base", config: map[string]any{connAuth: authNone, connBaseURL: "https://api.example.com/v1"}},
		{name: "basic", config: map[string]any{connAuth: authBasic, connUsername: "u", connPassword: "p", connBaseURL: "https://a.test"}},
		{name: "basic without password", config: map[string]any{connAuth: authBasic, connUsername: "u", connBaseURL: "https://a.test"}},
		{name: "bearer", config: map[string]any{connAuth: authBearer, connToken: "t", connAllowedHosts: []any{"a.test"}}},
		{name: "header", config: map[string]any{connAuth: authHeader, connHeaderName: "X-Api-Key", connHeaderValue: "v", connBaseURL: "https://a.test"}},
		{name: "bearer without destination", config: map[string]any{connAuth: authBearer, connToken: "t"},
			wantErr: []string{"auth bearer needs a base_url or allowed_hosts"}},
		{name: "allowed_hosts not a list", config: map[string]any{connAllowedHosts: "a.test"}, wantErr: []string{"allowed_hosts must be a list"}},
		{name: "allowed_hosts url", config: map[string]any{connAllowedHosts: []any{"https://a.test"}}, wantErr: []string{"not a URL"}},
		{name: "allowed_hosts bad port", config: map[string]any{connAllowedHosts: []any{"a.test:99999"}}, wantErr: []string{"invalid port"}},
		{name: "basic without username", config: map[string]any{connAuth: authBasic, connPassword: "p"}, wantErr: []string{"basic auth needs a username"}},
		{name: "bearer without token", config: map[string]any{connAuth: authBearer}, wantErr: []string{"bearer auth needs a token"}},
		{name: "header without anything", config: map[string]any{connAuth: authHeader},
			wantErr: []string{"header auth needs a header_name", "header auth needs a header_value"}},
		{name: "header with bad name", config: map[string]any{connAuth: authHeader, connHeaderName: "X Api", connHeaderValue: "v"},
			wantErr: []string{`header_name "X Api" is not a valid header name`}},
		{name: "unknown auth", config: map[string]any{connAuth: "oauth"}, wantErr: []string{`auth "oauth" is not one of`}},
		{name: "auth not a string", config: map[string]any{connAuth: 1}, wantErr: []string{"auth must be a string"}},
		{name: "relative base", config: map[string]any{connBaseURL: "/api"}, wantErr: []string{"must be an absolute http or https URL"}},
		{name: "base without scheme", config: map[string]any{connBaseURL: "api.example.com"}, wantErr: []string{"must be an absolute http or https URL"}},
		{name: "ftp base", config: map[string]any{connBaseURL: "ftp://example.com"}, wantErr: []string{"must be an absolute http or https URL"}},
		{name: "base password redacted", config: map[string]any{connBaseURL: "ftp://u:hunter2@example.com"}, wantErr: []string{"u:******@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateConnection(tt.config)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestConnectorValidateConnectionHooked(t *testing.T) {
	t.Parallel()

	c := httpConnector(t)
	require.NotNil(t, c.ValidateConnection)
	require.Error(t, c.ValidateConnection(map[string]any{connAuth: authBearer}))
}

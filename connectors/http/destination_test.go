package http

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

// TestAttackCredentialsWithoutBaseURL is the attack of issue 11: a credentialed
// connection without base_url, stored before the rule existed, and a step URL taken from
// an unauthenticated webhook body. The credentials must not leave; nothing is sent.
func TestAttackCredentialsWithoutBaseURL(t *testing.T) {
	t.Parallel()
	evil := newRecorder(t, nil)
	for _, config := range []map[string]any{
		{connAuth: authBearer, connToken: "tok-SECRET-0123456789"},
		{connAuth: authBasic, connUsername: "ann", connPassword: "pw-SECRET-0123456789"},
		{connAuth: authHeader, connHeaderName: "X-Api-Key", connHeaderValue: "key-SECRET-0123456789"},
	} {
		_, err := invoke(t, map[string]any{inURL: evil.URL + "/steal"}, config)
		require.Error(t, err, config[connAuth])
		require.True(t, connectors.IsPermanent(err), "%v", err)
		require.ErrorContains(t, err, "needs a base_url or allowed_hosts")
	}
	require.Zero(t, evil.count(), "no request may carry the credentials to a host the connection did not name")
}

func TestAllowedHosts(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, nil)
	evil := newRecorder(t, nil)
	host := rec.Listener.Addr().String() // 127.0.0.1:port
	config := map[string]any{connAuth: authBearer, connToken: "tok-SECRET-0123456789", connAllowedHosts: []any{host}}
	_, err := invoke(t, map[string]any{inURL: rec.URL + "/ok"}, config)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok-SECRET-0123456789", rec.last(t).Header.Get("Authorization"))

	_, err = invoke(t, map[string]any{inURL: evil.URL + "/steal"}, config)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "not among the connection's allowed_hosts")
	require.Zero(t, evil.count())
}

func TestHostAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		allowed []string
		want    bool
	}{
		{"https://api.example.com/x", []string{"api.example.com"}, true},
		{"https://API.example.com:443/x", []string{"api.example.com"}, true},
		{"https://api.example.com:8443/x", []string{"api.example.com"}, false},
		{"https://api.example.com:8443/x", []string{"api.example.com:8443"}, true},
		{"http://api.example.com/x", []string{"api.example.com:443"}, false},
		{"https://eu.api.example.com/x", []string{"*.example.com"}, true},
		{"https://example.com/x", []string{"*.example.com"}, false},
		{"https://evil-example.com/x", []string{"*.example.com"}, false},
		{"https://example.com.evil.test/x", []string{"example.com"}, false},
		{"http://[::1]:8080/x", []string{"[::1]:8080"}, true},
	}
	for _, tt := range tests {
		u, err := parseURL(tt.url)
		require.NoError(t, err)
		require.Equal(t, tt.want, hostAllowed(u, tt.allowed), "%s in %v", tt.url, tt.allowed)
	}
}

func TestValidateConnectionCredentialsNeedDestination(t *testing.T) {
	t.Parallel()
	err := validateConnection(map[string]any{connAuth: authBearer, connToken: "t"})
	require.ErrorContains(t, err, "needs a base_url or allowed_hosts")
	require.NoError(t, validateConnection(map[string]any{connAuth: authBearer, connToken: "t", connBaseURL: "https://a.test"}))
	require.NoError(t, validateConnection(map[string]any{connAuth: authBearer, connToken: "t", connAllowedHosts: []any{"a.test"}}))
	require.NoError(t, validateConnection(map[string]any{connAuth: authNone}), "without credentials any URL is fine")
	require.ErrorContains(t, validateConnection(map[string]any{connAllowedHosts: []any{"https://a.test/x"}}), "allowed_hosts")
	require.ErrorContains(t, validateConnection(map[string]any{connAllowedHosts: []any{""}}), "allowed_hosts")
}

package telegram

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
)

func TestRegistered(t *testing.T) {
	t.Parallel()
	c, def, ok := connectors.Default.Action("telegram.send_message")
	require.True(t, ok)
	require.Same(t, connector, c)
	require.Same(t, sendMessageAction, def)
	require.False(t, def.Idempotent, "Telegram has no idempotency key")
	_, p, ok := connectors.Default.Poller("telegram.updates")
	require.True(t, ok)
	require.Same(t, updatesPoller, p)
	spec := c.Spec()
	require.Equal(t, []string{"token"}, spec.SecretFields())
}

func TestValidateConnection(t *testing.T) {
	t.Parallel()

	const token = "123456789:AAH-valid_token"
	tests := []struct {
		name    string
		config  map[string]any
		wantErr string
	}{
		{name: "token only", config: map[string]any{connToken: token}},
		{name: "short token", config: map[string]any{connToken: "123:ABC"}},
		{name: "with base url", config: map[string]any{connToken: token, connBaseURL: "http://localhost:8081/"}},
		{name: "base url with path", config: map[string]any{connToken: token, connBaseURL: "https://proxy.example.com/telegram"}},
		{name: "empty base url", config: map[string]any{connToken: token, connBaseURL: ""}},
		{name: "no token", config: map[string]any{}, wantErr: "token is required"},
		{name: "no colon", config: map[string]any{connToken: "123456789AAH"}, wantErr: "does not look like a bot token"},
		{name: "no digits", config: map[string]any{connToken: "bot:AAH"}, wantErr: "does not look like a bot token"},
		{name: "path injection", config: map[string]any{connToken: "123:AAH/../x"}, wantErr: "does not look like a bot token"},
		{name: "bot prefix pasted", config: map[string]any{connToken: "bot123:AAH"}, wantErr: "does not look like a bot token"},
		{name: "token not a string", config: map[string]any{connToken: 123}, wantErr: "token must be a string"},
		{name: "relative base", config: map[string]any{connToken: token, connBaseURL: "api.telegram.org"}, wantErr: "absolute http or https URL"},
		{name: "base with query", config: map[string]any{connToken: token, connBaseURL: "https://x.test/?a=1"}, wantErr: "must not have a query"},
		{name: "base not a string", config: map[string]any{connToken: token, connBaseURL: true}, wantErr: "base_url must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateConnection(tt.config)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			if s, ok := tt.config[connToken].(string); ok && len(s) > 4 {
				require.NotContains(t, err.Error(), s, "the token must not be quoted")
			}
		})
	}
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	require.NoError(t, connector.TestConnection(t.Context(), connection(srv, srv.Token)))
	require.Equal(t, 1, srv.Calls("getMe"))

	err := connector.TestConnection(t.Context(), connection(srv, wrongToken))
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "Unauthorized")
	require.NotContains(t, err.Error(), wrongToken)

	err = connector.TestConnection(t.Context(), connection(srv, "not-a-token"))
	require.ErrorContains(t, err, "does not look like a bot token")
	require.NotContains(t, err.Error(), "not-a-token")
}

// TestTokenRedactedWithoutSecretList covers connections built by hand, whose Secrets
// list is empty: the token is in every URL, so it is masked anyway.
func TestTokenRedactedWithoutSecretList(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Close() // every call fails with a transport error quoting the URL
	conn := &connectors.Connection{Name: "bare", Connector: "telegram",
		Config: map[string]any{connToken: srv.Token, connBaseURL: srv.URL}}

	err := connector.TestConnection(t.Context(), conn)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err), "a connection error is worth retrying")
	require.NotContains(t, err.Error(), srv.Token)
	require.Contains(t, err.Error(), "/bot"+connectors.RedactedValue+"/getMe")
	require.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(telegramtest.DefaultToken))
}

package telegram

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
)

const webhookSecret = "tg_Secret-Token_42"

// hookReceiver stands in for the engine's /hooks endpoint: it records the secret header
// and body of each delivery to its own path. Other requests are ignored: a fake's pusher
// in another test (or test binary) may still be retrying a closed receiver whose port
// this one was given.
type hookReceiver struct {
	*httptest.Server
	path    string
	mu      sync.Mutex
	secrets []string
	bodies  []map[string]any
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	rc := &hookReceiver{path: "/hooks/" + strings.ReplaceAll(uuid.NewString(), "-", "")}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != rc.path {
			http.NotFound(w, r)
			return
		}
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(data, &body)
		rc.mu.Lock()
		rc.secrets = append(rc.secrets, r.Header.Get(telegramtest.SecretTokenHeader))
		rc.bodies = append(rc.bodies, body)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func TestRegisterWebhook(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	rc := newHookReceiver(t)
	conn := connection(srv, srv.Token)
	hookURL := rc.URL + rc.path

	res, err := connector.RegisterWebhook(t.Context(), conn, connectors.WebhookTarget{URL: hookURL, Secret: webhookSecret})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"ok": true, "url": hookURL, "secret_token": true, "description": "Webhook was set"}, res)
	resJSON, _ := json.Marshal(res)
	require.NotContains(t, string(resJSON), webhookSecret, "the result is shown to users")
	require.NotContains(t, string(resJSON), srv.Token)

	info := srv.Webhook()
	require.Equal(t, hookURL, info.URL)
	require.Equal(t, webhookSecret, info.SecretToken)
	set := requestsOf(srv, "setWebhook")
	require.Len(t, set, 1)
	require.Equal(t, false, set[0].Params["drop_pending_updates"], "pending updates are kept")

	// Telegram now pushes updates to the workflow with the secret.
	d, err := srv.PushUpdate(t.Context(), map[string]any{"message": map[string]any{"text": "hello"}})
	require.NoError(t, err)
	require.True(t, d.Delivered)
	// One POST per attempt: a loaded machine can time out an attempt the receiver did
	// get, and Telegram, like the fake, then delivers again.
	rc.mu.Lock()
	require.Len(t, rc.secrets, len(d.Attempts))
	for i := range rc.secrets {
		require.Equal(t, webhookSecret, rc.secrets[i])
		require.Equal(t, float64(d.UpdateID), rc.bodies[i]["update_id"])
	}
	rc.mu.Unlock()

	// Polling the same bot is refused while the webhook is set.
	call, logs := newPollCall(t, srv, nil, nil)
	_, err = poll(t, call, logs)
	require.ErrorContains(t, err, "a webhook is set for this bot")

	res, err = connector.RegisterWebhook(t.Context(), conn, connectors.WebhookTarget{URL: hookURL, Delete: true})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"ok": true, "deleted": true, "description": "Webhook was deleted"}, res)
	require.Empty(t, srv.Webhook().URL)
	require.Equal(t, false, requestsOf(srv, "deleteWebhook")[0].Params["drop_pending_updates"])

	call, logs = newPollCall(t, srv, nil, nil)
	_, err = poll(t, call, logs)
	require.NoError(t, err, "polling works again once the webhook is deleted")
}

func TestRegisterWebhookWithoutSecret(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	res, err := connector.RegisterWebhook(t.Context(), connection(srv, srv.Token),
		connectors.WebhookTarget{URL: "https://hooks.example.com/hooks/abc"})
	require.NoError(t, err)
	require.Equal(t, false, res.(map[string]any)["secret_token"])
	require.NotContains(t, requestsOf(srv, "setWebhook")[0].Params, "secret_token")
}

func TestRegisterWebhookRefusesBadSecretWithoutCalling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, want string
	}{
		{"space", "my secret", "characters Telegram's secret_token does not allow: use only A-Z, a-z, 0-9, _ and -"},
		{"base64 padding", "c2VjcmV0+/==", "does not allow"},
		{"unicode", "секрет_token", "does not allow"},
		{"too long", strings.Repeat("s", 257), "is 257 characters long but Telegram's secret_token allows at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			_, err := connector.RegisterWebhook(t.Context(), connection(srv, srv.Token),
				connectors.WebhookTarget{URL: "https://hooks.example.com/hooks/abc", Secret: tt.secret})
			require.Error(t, err)
			require.True(t, connectors.IsPermanent(err))
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), tt.secret, "the secret is not quoted")
			require.Zero(t, srv.Calls("setWebhook"), "nothing is sent to Telegram")
		})
	}
}

func TestRegisterWebhookErrors(t *testing.T) {
	t.Parallel()

	t.Run("bad url", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		_, err := connector.RegisterWebhook(t.Context(), connection(srv, srv.Token),
			connectors.WebhookTarget{URL: "/hooks/abc", Secret: webhookSecret})
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "is not an absolute https URL")
		require.Zero(t, srv.Calls("setWebhook"))
	})

	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		_, err := connector.RegisterWebhook(t.Context(), connection(srv, wrongToken),
			connectors.WebhookTarget{URL: "https://hooks.example.com/hooks/abc", Secret: webhookSecret})
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "401: Unauthorized")
		require.NotContains(t, err.Error(), wrongToken)
		require.NotContains(t, err.Error(), webhookSecret)
	})

	t.Run("telegram refuses the url", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		srv.FailNext("setWebhook", 1, 400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
		_, err := connector.RegisterWebhook(t.Context(), connection(srv, srv.Token),
			connectors.WebhookTarget{URL: "http://hooks.example.com/hooks/abc"})
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "An HTTPS URL must be provided")
	})

	t.Run("delete with wrong token", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		srv.SetWebhook("https://hooks.example.com/x", "")
		_, err := connector.RegisterWebhook(t.Context(), connection(srv, wrongToken), connectors.WebhookTarget{Delete: true})
		require.ErrorContains(t, err, "delete telegram webhook")
		require.Equal(t, "https://hooks.example.com/x", srv.Webhook().URL)
	})
}

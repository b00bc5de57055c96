package moysklad

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

func TestRegisterWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secret = "hook-secret-0123456789"
	target := connectors.WebhookTarget{URL: "https://hooks.example.com/hooks/tok123", Secret: secret, SecretQuery: "key",
		Options: map[string]any{"entity_type": "customerorder", "action": "update", "diff_type": "FIELDS"}}

	res, err := registerWebhook(t.Context(), b.conn, target)
	require.NoError(t, err)
	out := res.(map[string]any)
	require.Equal(t, false, out["existing"])
	require.Equal(t, "UPDATE", out["action"])
	require.NotContains(t, out["url"], secret)
	hooks := b.fake.Entities("webhook")
	require.Len(t, hooks, 1)
	require.Equal(t, "https://hooks.example.com/hooks/tok123?key="+secret, hooks[0]["url"])
	require.Equal(t, "FIELDS", hooks[0]["diffType"])

	// Registering again reuses the subscription instead of failing with 30003.
	res, err = registerWebhook(t.Context(), b.conn, target)
	require.NoError(t, err)
	require.Equal(t, true, res.(map[string]any)["existing"])
	require.Len(t, b.fake.Entities("webhook"), 1)

	// A second action for the same workflow, then delete removes both.
	target.Options = map[string]any{"action": "CREATE"}
	_, err = registerWebhook(t.Context(), b.conn, target)
	require.NoError(t, err)
	require.Len(t, b.fake.Entities("webhook"), 2)
	res, err = registerWebhook(t.Context(), b.conn, connectors.WebhookTarget{URL: target.URL, Delete: true})
	require.NoError(t, err)
	require.EqualValues(t, 2, res.(map[string]any)["deleted"])
	require.Empty(t, b.fake.Entities("webhook"))

	// MoySklad can carry the secret only in the URL.
	_, err = registerWebhook(t.Context(), b.conn, connectors.WebhookTarget{URL: target.URL, Secret: secret})
	require.ErrorContains(t, err, `"query"`)
	require.True(t, connectors.IsPermanent(err))
	_, err = registerWebhook(t.Context(), b.conn, connectors.WebhookTarget{URL: target.URL, Secret: secret, SecretQuery: "key",
		Options: map[string]any{"action": "CREATE", "diff_type": "FIELDS"}})
	require.ErrorContains(t, err, "UPDATE webhooks only")
	long := connectors.WebhookTarget{URL: "https://hooks.example.com/hooks/" + strings.Repeat("t", 240), Secret: secret, SecretQuery: "key"}
	_, err = registerWebhook(t.Context(), b.conn, long)
	require.ErrorContains(t, err, "at most 255")
}

// TestLoopGuard: with webhook_prefix set, the connector's writes carry
// X-Lognex-WebHook-DisableByPrefix and MoySklad sends nothing back to Hookflow.
func TestLoopGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	b := setup(t)
	_, err := registerWebhook(t.Context(), b.conn, connectors.WebhookTarget{URL: recv.URL + "/hooks/tok", Secret: "s3cret-value", SecretQuery: "key",
		Options: map[string]any{"entity_type": "counterparty", "action": "CREATE"}})
	require.NoError(t, err)

	b.conn.Config[connWebhookPrefix] = recv.URL
	_, err = b.invoke(t, "moysklad.create_counterparty", map[string]any{"name": "Guarded", "dedupe": "none"})
	require.NoError(t, err)
	var sent []string
	for _, r := range b.fake.Requests() {
		if r.Method == http.MethodPost && r.Path == "entity/counterparty" {
			sent = append(sent, r.Header.Get("X-Lognex-WebHook-DisableByPrefix"))
		}
	}
	require.Equal(t, []string{recv.URL}, sent)

	delete(b.conn.Config, connWebhookPrefix)
	_, err = b.invoke(t, "moysklad.create_counterparty", map[string]any{"name": "Echoed", "dedupe": "none"})
	require.NoError(t, err)
	ds, err := b.fake.WaitDeliveries(t.Context(), 1)
	require.NoError(t, err)
	require.True(t, ds[0].Delivered)
	time.Sleep(50 * time.Millisecond)
	require.EqualValues(t, 1, hits.Load(), "only the unguarded write came back")
}

package trigger

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQueryValues(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[string]any{"a": "1", "b": []any{"2", "3"}, "c": ""}, QueryValues("a=1&b=2&b=3&c="))
	require.Equal(t, map[string]any{}, QueryValues(""))
}

func TestWebhookEnv(t *testing.T) {
	t.Parallel()
	h := http.Header{"X-Request-Id": {"r1"}, "Accept": {"a", "b"}}
	flat := FlattenHeaders(h)
	stored, err := DecodeHeaders(EncodeHeaders(flat))
	require.NoError(t, err)
	received := time.Now().UTC().Truncate(time.Second)
	w := &Webhook{EventID: "e1", Method: "POST", Headers: stored, Query: "src=site",
		ContentType: "application/json", Body: []byte(`{"name":"Ann"}`),
		ReceivedAt: received}
	env := w.Env()
	require.Equal(t, "e1", env["event_id"])
	require.Equal(t, map[string]any{"x-request-id": "r1", "accept": "a, b"}, env["headers"])
	require.Equal(t, map[string]any{"src": "site"}, env["query"])
	require.Equal(t, map[string]any{"name": "Ann"}, env["body"])
	require.Equal(t, received.Format(time.RFC3339), env["received_at"])
	require.NotContains(t, env, "body_malformed")

	w.ContentType, w.Body = "application/x-www-form-urlencoded", []byte("leads[add][0][id]=1&leads[add][0][name]=x&account[subdomain]=y")
	require.Equal(t, map[string]any{"leads": map[string]any{"add": []any{map[string]any{"id": "1", "name": "x"}}},
		"account": map[string]any{"subdomain": "y"}}, w.Env()["body"], "amoCRM's nested form")

	w.ContentType, w.Body = "application/json", []byte(`{"a":`)
	env = w.Env()
	require.Equal(t, `{"a":`, env["body"], "invalid JSON is kept as text")
	require.Equal(t, true, env["body_malformed"])
}

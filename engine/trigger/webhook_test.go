package trigger

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
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

// TestEventEnvMatchesWebhookEnv: a stored event gives the runner the trigger data the
// request gave (EventEnv reads the stored headers straight into trigger.headers), and a
// stored header that is not a string is an error, as it was through DecodeHeaders.
func TestEventEnvMatchesWebhookEnv(t *testing.T) {
	t.Parallel()
	received := time.Now().UTC()
	headers := FlattenHeaders(http.Header{"Content-Type": {"application/json"}, "X-Tag": {"a", "b"}})
	wh := Webhook{EventID: "e1", Method: "POST", Headers: headers, Query: "x=1",
		ContentType: "application/json", Body: []byte(`{"amount":150}`), ReceivedAt: received}
	ev := &store.Event{ID: "e1", Method: "POST", Headers: EncodeHeaders(headers), Query: "x=1",
		ContentType: "application/json", Body: []byte(`{"amount":150}`), ReceivedAt: received}
	got, err := EventEnv(ev, "")
	require.NoError(t, err)
	require.Equal(t, wh.Env(), got)
	require.Equal(t, "a, b", got["headers"].(map[string]any)["x-tag"])

	empty, err := EventEnv(&store.Event{ID: "e2", Method: "GET", ReceivedAt: received}, "")
	require.NoError(t, err)
	require.Equal(t, map[string]any{}, empty["headers"])

	_, err = EventEnv(&store.Event{ID: "e3", Headers: `{"x-n":1}`, ReceivedAt: received}, "")
	require.ErrorContains(t, err, "not a string")
	_, err = EventEnv(&store.Event{ID: "e4", Headers: `{`, ReceivedAt: received}, "")
	require.ErrorContains(t, err, "decode stored headers")
}

package trigger

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDecodeBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ct, body string
		want           any
		malformed      bool
	}{
		{"json object", "application/json", `{"amount":150,"price":1.5,"big":12345678901234567890}`,
			map[string]any{"amount": int64(150), "price": 1.5, "big": "12345678901234567890"}, false},
		{"json with charset", "application/json; charset=utf-8", `[1,"a"]`, []any{int64(1), "a"}, false},
		{"vendor json", "application/vnd.api+json", `{"a":true}`, map[string]any{"a": true}, false},
		{"invalid json kept as text", "application/json", `{"a":`, `{"a":`, true},
		{"plain text", "text/plain", "hello", "hello", false},
		{"xml as text", "application/xml", "<a>1</a>", "<a>1</a>", false},
		{"no content type", "", `{"a":1}`, `{"a":1}`, false},
		{"empty", "application/json", "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, malformed := DecodeBody(tc.ct, []byte(tc.body))
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.malformed, malformed)
		})
	}
}

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
	w := &Webhook{EventID: "e1", Method: "POST", Headers: stored, Query: "src=site",
		ContentType: "application/json", Body: []byte(`{"name":"Ann"}`),
		ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	env := w.Env()
	require.Equal(t, "e1", env["event_id"])
	require.Equal(t, map[string]any{"x-request-id": "r1", "accept": "a, b"}, env["headers"])
	require.Equal(t, map[string]any{"src": "site"}, env["query"])
	require.Equal(t, map[string]any{"name": "Ann"}, env["body"])
	require.Equal(t, "2026-01-02T03:04:05Z", env["received_at"])
	require.NotContains(t, env, "body_malformed")
}

package acmego_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/examples/acmego"
)

// apiKey is distinctive so the suite can look for it in outputs, errors and logs.
const apiKey = "acme-conformance-key-0123456789"

// respondLikeAcme answers like Acme's API: 201 with the new contact, 401 without the key,
// and errors as {"error": {"code", "message"}} with the wait in milliseconds on a 429.
func respondLikeAcme(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("X-Acme-Key") != apiKey {
		status = http.StatusUnauthorized
	}
	switch status {
	case http.StatusOK:
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 7, "email": "ann@example.com", "updated_at": "2024-05-01T10:20:30Z"})
	case http.StatusTooManyRequests:
		w.Header().Set("X-Acme-Retry-After-Ms", "3000") // the suite has set Retry-After: 3
		fallthrough
	default:
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "error", "message": http.StatusText(status)}})
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry: connectors.NewRegistry().With(acmego.Connector),
		Action:   "acme.create_contact",
		Connection: func(baseURL string) map[string]any {
			return map[string]any{"base_url": baseURL, "api_key": apiKey}
		},
		Input: func(string) map[string]any {
			return map[string]any{"email": "ann@example.com", "name": "Ann Lee"}
		},
		Respond:           respondLikeAcme,
		IdempotencyHeader: "Idempotency-Key",
	})
}

func TestLint(t *testing.T) {
	t.Parallel()
	connectortest.LintAll(t, connectors.NewRegistry().With(acmego.Connector))
}

// TestPollFollowsNextURL polls two pages and gets their contacts, oldest first, and the
// newest updated_at as the cursor.
func TestPollFollowsNextURL(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, apiKey, r.Header.Get("X-Acme-Key"))
		page := map[string]any{"data": []any{map[string]any{"id": 2, "updated_at": "2024-05-01T10:05:00Z"}}, "next_url": nil}
		if r.URL.Query().Get("after") == "" {
			assert.Equal(t, "2024-05-01T09:59:30Z", r.URL.Query().Get("updated_after"))
			page = map[string]any{"data": []any{map[string]any{"id": 1, "updated_at": "2024-05-01T10:01:00Z"}},
				"next_url": srv.URL + "/contacts?after=c1"}
		}
		_ = json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(srv.Close)

	_, def, ok := connectors.NewRegistry().With(acmego.Connector).Poller("acme.new_contacts")
	require.True(t, ok)
	conn := connectortest.NewConnection(acmego.Connector, map[string]any{"base_url": srv.URL, "api_key": apiKey})
	res, err := def.New().Poll(t.Context(), &connectors.PollCall{Connection: conn, Cursor: "2024-05-01T10:00:00Z",
		Logger: connectortest.NewTestLogger(t)})
	require.NoError(t, err)
	require.Len(t, res.Items, 2)
	require.Equal(t, "2024-05-01T10:05:00Z", res.Cursor)
}

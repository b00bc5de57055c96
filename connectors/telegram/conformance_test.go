package telegram

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// conformanceToken is distinctive so the suite can look for it in outputs, errors and logs.
const conformanceToken = "555000111:AAConformance-token_7c1e5b9d"

// respondLikeTelegram writes Bot API envelopes: the suite's status with Telegram's
// description for it, and for 429 the wait in parameters.retry_after as well as in the
// Retry-After header the suite sets. A request without the token in its path gets 404,
// as from the real server.
func respondLikeTelegram(w http.ResponseWriter, r *http.Request, status int) {
	if r.URL.Path != "/bot"+conformanceToken+"/sendMessage" {
		status = http.StatusNotFound
	}
	body := map[string]any{"ok": status == http.StatusOK}
	switch status {
	case http.StatusOK:
		body["result"] = map[string]any{
			"message_id": 77, "date": time.Now().Unix(), "text": "New lead: Ann",
			"chat": map[string]any{"id": -1001234567890, "type": "channel", "title": "News"},
			"from": map[string]any{"id": 555000111, "is_bot": true, "first_name": "Hookflow"},
		}
	default:
		body["error_code"] = status
		body["description"] = map[int]string{
			http.StatusBadRequest:          "Bad Request: chat not found",
			http.StatusNotFound:            "Not Found",
			http.StatusTooManyRequests:     "Too Many Requests: retry after 3",
			http.StatusInternalServerError: "Internal Server Error",
			http.StatusServiceUnavailable:  "Service Unavailable",
		}[status]
		if status == http.StatusTooManyRequests {
			body["parameters"] = map[string]any{"retry_after": connectortest.RetryAfterSeconds}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry: connectors.NewRegistry().With(connector),
		Action:   "telegram.send_message",
		Connection: func(baseURL string) map[string]any {
			return map[string]any{connToken: conformanceToken, connBaseURL: baseURL}
		},
		Input: func(string) map[string]any {
			return map[string]any{inChatID: int64(-1001234567890), inText: "New lead: Ann", inParseMode: parseHTML}
		},
		Respond: respondLikeTelegram,
	})
}

func TestLint(t *testing.T) {
	t.Parallel()
	connectortest.LintAll(t, connectors.NewRegistry().With(connector))
}

// TestPollerSpecDocumented holds the poller's fields to the bar LintAll sets for actions,
// since the generated docs show them too.
func TestPollerSpecDocumented(t *testing.T) {
	t.Parallel()
	spec := connector.Spec()
	if len(spec.Pollers) != 1 || spec.Pollers[0].Name != "updates" {
		t.Fatalf("pollers: %+v", spec.Pollers)
	}
	p := spec.Pollers[0]
	if p.Description == "" || p.DefaultKey != "item.update_id" {
		t.Fatalf("poller spec: %+v", p)
	}
	var check func(where string, fields []connectors.Field)
	check = func(where string, fields []connectors.Field) {
		for _, f := range fields {
			if strings.TrimSpace(f.Title) == "" || strings.TrimSpace(f.Description) == "" {
				t.Errorf("%s field %q needs a title and a description", where, f.Name)
			}
			if f.Items != nil {
				check(where+" "+f.Name+" items", []connectors.Field{*f.Items})
			}
		}
	}
	check("input", p.Inputs)
	check("item", p.Item)
	if !spec.RegistersWebhooks {
		t.Error("the spec must say the connector registers webhooks")
	}
}

package bitrix24

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// conformanceCode is the webhook code of the suite's connections: distinctive, so the
// suite can look for the URL in outputs, errors and logs.
const conformanceCode = "conformance7c1e5b9dcode"

// respondLikeBitrix writes Bitrix24's answers: for 200 a result shaped for the method
// called, otherwise the error Bitrix24 gives with that status (503 is its leaky bucket).
func respondLikeBitrix(w http.ResponseWriter, r *http.Request, status int) {
	if !strings.HasPrefix(r.URL.Path, "/rest/1/"+conformanceCode+"/") {
		status = http.StatusUnauthorized
	}
	method := strings.TrimSuffix(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], ".json")
	body := map[string]any{}
	switch status {
	case http.StatusOK:
		switch method {
		case "crm.duplicate.findbycomm", "crm.lead.list", "crm.contact.list", "crm.timeline.comment.list":
			body["result"] = []any{}
		default:
			body["result"] = 7
		}
		body["time"] = map[string]any{"start": 1705764932.99, "finish": 1705764933.1, "duration": 0.11}
	case http.StatusUnauthorized:
		body["error"], body["error_description"] = "INVALID_CREDENTIALS", "Invalid request credentials"
	case http.StatusBadRequest:
		body["error"], body["error_description"] = "", "Access denied."
	case http.StatusTooManyRequests:
		body["error"], body["error_description"] = "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."
	case http.StatusServiceUnavailable:
		body["error"], body["error_description"] = "QUERY_LIMIT_EXCEEDED", "Too many requests"
	default:
		body["error"], body["error_description"] = "INTERNAL_SERVER_ERROR", "Internal server error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func conformanceConnection(baseURL string) map[string]any {
	return map[string]any{connWebhookURL: baseURL + "/rest/1/" + conformanceCode + "/", "default_country": "+7"}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	reg := connectors.NewRegistry().With(connector)
	cases := map[string]map[string]any{
		"bitrix24.create_lead": {"name": "Ann Lee", "email": "Ann@Example.com", "phone": "8 (999) 123-45-67",
			"utm_source": "google", "fields": map[string]any{"UF_CRM_1700000000": "form-1"}},
		"bitrix24.add_comment":  {"entity_type": "lead", "entity_id": int64(7), "comment": "Called back"},
		"bitrix24.find_contact": {"email": "ann@example.com", "phone": "+79991234567"},
	}
	for action, input := range cases {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, connectortest.Case{
				Registry:   reg,
				Action:     action,
				Connection: conformanceConnection,
				Input:      func(string) map[string]any { return input },
				Respond:    respondLikeBitrix,
			})
		})
	}
}

func TestLint(t *testing.T) {
	t.Parallel()
	connectortest.LintAll(t, connectors.NewRegistry().With(connector))
}

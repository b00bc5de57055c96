package amocrm

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// conformanceToken is distinctive so the suite can look for it in outputs, errors and logs.
const conformanceToken = "amo-conformance-token_4b8e1f0a"

// respondLikeAmoCRM answers as amoCRM does: 204 for an empty contact search or lead
// list, the complex and notes answers on success, problem+json errors (validation ones
// with their path), and the non-JSON 429 page.
func respondLikeAmoCRM(w http.ResponseWriter, r *http.Request, status int) {
	if r.Header.Get("Authorization") != "Bearer "+conformanceToken {
		status = http.StatusUnauthorized
	}
	switch status {
	case http.StatusOK:
		var body any
		switch {
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusNoContent)
			return
		case strings.HasSuffix(r.URL.Path, "/leads/complex"):
			body = []any{map[string]any{"id": 9774766, "contact_id": 12117258, "company_id": nil, "request_id": []string{"1"}, "merged": false}}
		case strings.HasSuffix(r.URL.Path, "/notes"):
			body = map[string]any{"_embedded": map[string]any{"notes": []any{map[string]any{"id": 42, "entity_id": 9774766, "request_id": "0"}}}}
		default:
			status = http.StatusNotFound
			body = map[string]any{"title": "Not Found", "status": 404, "detail": "no such path"}
		}
		w.Header().Set("Content-Type", "application/hal+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	case http.StatusTooManyRequests:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html>429 Too Many Requests</html>"))
	default:
		body := map[string]any{"title": http.StatusText(status), "type": "https://httpstatus.es/400", "status": status, "detail": "Request failed"}
		if status == http.StatusBadRequest {
			body["detail"] = "Request validation failed"
			body["validation-errors"] = []any{map[string]any{"request_id": "0", "errors": []any{
				map[string]any{"code": "NotSupportedChoice", "path": "custom_fields_values.0.field_id", "detail": "The value you selected is not a valid choice."}}}}
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

func conformanceConnection(baseURL string) map[string]any {
	return map[string]any{connToken: conformanceToken, connBaseURL: baseURL}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	reg := connectors.NewRegistry().With(connector)
	t.Run("create_lead", func(t *testing.T) {
		t.Parallel()
		connectortest.Run(t, connectortest.Case{
			Registry: reg, Action: "amocrm.create_lead", Connection: conformanceConnection,
			Input:             func(string) map[string]any { return formLead() },
			Respond:           respondLikeAmoCRM,
			IdempotencyHeader: idempotencyHeader,
		})
	})
	t.Run("add_note", func(t *testing.T) {
		t.Parallel()
		connectortest.Run(t, connectortest.Case{
			Registry: reg, Action: "amocrm.add_note", Connection: conformanceConnection,
			Input: func(string) map[string]any {
				return map[string]any{inEntity: "lead", inEntityID: int64(9774766), inText: "Called back"}
			},
			Respond: respondLikeAmoCRM,
		})
	})
	t.Run("find_contact", func(t *testing.T) {
		t.Parallel()
		connectortest.Run(t, connectortest.Case{
			Registry: reg, Action: "amocrm.find_contact", Connection: conformanceConnection,
			Input:   func(string) map[string]any { return map[string]any{"email": "ann@example.com"} },
			Respond: respondLikeAmoCRM,
		})
	})
}

func TestLint(t *testing.T) {
	t.Parallel()
	connectortest.LintAll(t, connectors.NewRegistry().With(connector))
}

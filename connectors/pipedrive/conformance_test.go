package pipedrive

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// conformanceToken is distinctive so the suite can look for it in outputs, errors and logs.
const conformanceToken = "pd-conformance-token-7c1e5b9d"

// respondLikePipedrive writes Pipedrive envelopes: for the suite's 200 the success shape
// of the request's endpoint (201 for creations, an empty search), otherwise the error
// envelope with the suite's status. A request without the token in x-api-token gets 401.
func respondLikePipedrive(w http.ResponseWriter, r *http.Request, status int) {
	if r.Header.Get("x-api-token") != conformanceToken {
		status = http.StatusUnauthorized
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ratelimit-limit", "20")
	w.Header().Set("x-ratelimit-remaining", "19")
	w.Header().Set("x-ratelimit-reset", "2")
	var body map[string]any
	switch {
	case status != http.StatusOK:
		body = map[string]any{"success": false, "error": http.StatusText(status), "error_info": "Please check developers.pipedrive.com"}
	case r.URL.Path == "/v1/persons/search":
		body = map[string]any{"success": true, "data": map[string]any{"items": []any{}}}
	case r.URL.Path == "/v1/persons":
		status = http.StatusCreated
		body = map[string]any{"success": true, "data": map[string]any{"id": 501, "name": "Ann Lee",
			"email": []any{map[string]any{"label": "work", "value": "ann@example.com", "primary": true}}}}
	case r.URL.Path == "/v1/leads":
		status = http.StatusCreated
		body = map[string]any{"success": true, "data": map[string]any{"id": "adf21080-0e10-11eb-879b-05d71fb426ec",
			"title": "Website lead", "person_id": 501, "source_name": "API", "origin": "API"}}
	case r.URL.Path == "/v1/deals":
		status = http.StatusCreated
		body = map[string]any{"success": true, "data": map[string]any{"id": 77, "title": "Order 1", "value": 10,
			"currency": "EUR", "person_id": map[string]any{"name": "Ann Lee", "value": 501}, "status": "open"}}
	default:
		status = http.StatusUnauthorized
		body = map[string]any{"success": false, "error": "unauthorized access", "errorCode": 401}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	conn := func(baseURL string) map[string]any {
		return map[string]any{connAPIToken: conformanceToken, connBaseURL: baseURL}
	}
	cases := map[string]func(string) map[string]any{
		"pipedrive.create_person": func(string) map[string]any {
			return map[string]any{"name": "Ann Lee", "email": "Ann@Example.com", "phone": "8 (999) 123-45-67"}
		},
		"pipedrive.create_lead": func(string) map[string]any {
			return map[string]any{inTitle: "Website lead", inPersonID: int64(501), inValue: 100, inCurrency: "EUR"}
		},
		"pipedrive.create_deal": func(string) map[string]any {
			return map[string]any{inTitle: "Order 1", inValue: 10, inCurrency: "EUR", inPersonID: int64(501)}
		},
	}
	for action, input := range cases {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, connectortest.Case{
				Registry:   connectors.NewRegistry().With(connector),
				Action:     action,
				Connection: conn,
				Input:      input,
				Respond:    respondLikePipedrive,
			})
		})
	}
}

func TestLint(t *testing.T) {
	t.Parallel()
	connectortest.LintAll(t, connectors.NewRegistry().With(connector))
}

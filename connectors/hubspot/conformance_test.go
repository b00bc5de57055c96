package hubspot

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// conformanceToken is distinctive so the suite can look for it in outputs, errors and logs.
const conformanceToken = "pat-na1-conformance-7c1e5b9d-token"

// respondLikeHubSpot answers as HubSpot does: search pages, 201 objects, and error bodies
// with HubSpot's categories for the suite's statuses. A request without the token gets
// 401 INVALID_AUTHENTICATION.
func respondLikeHubSpot(w http.ResponseWriter, r *http.Request, status int) {
	if r.Header.Get("Authorization") != "Bearer "+conformanceToken {
		status = http.StatusUnauthorized
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if !strings.HasSuffix(r.URL.Path, "/search") {
		w.Header().Set("X-HubSpot-RateLimit-Max", "100")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "99")
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	}
	var body map[string]any
	switch {
	case status == http.StatusOK && strings.HasSuffix(r.URL.Path, "/search"):
		body = map[string]any{"total": 0, "results": []any{}}
	case status == http.StatusOK:
		status = http.StatusCreated
		body = map[string]any{"id": "51", "archived": false, "createdAt": "2024-05-01T10:00:00.000Z", "updatedAt": "2024-05-01T10:00:00.000Z",
			"properties": map[string]any{"createdate": "2024-05-01T10:00:00.000Z", "hs_object_id": "51", "email": "ann@example.com", "dealname": "Site lead"}}
	case status == http.StatusTooManyRequests:
		body = map[string]any{"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
			"correlationId": "c0ffee00-0000-0000-0000-000000000001", "policyName": "SECONDLY", "requestId": "r1"}
	default:
		category := map[int]string{http.StatusBadRequest: "VALIDATION_ERROR", http.StatusUnauthorized: "INVALID_AUTHENTICATION"}[status]
		if category == "" {
			category = "INTERNAL_ERROR"
		}
		body = map[string]any{"status": "error", "message": http.StatusText(status), "category": category,
			"correlationId": "c0ffee00-0000-0000-0000-000000000002"}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func conformanceConnection(baseURL string) map[string]any {
	return map[string]any{connToken: conformanceToken, connBaseURL: baseURL, connDefaultCountry: "+7"}
}

func TestConformanceUpsertContact(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   connectors.NewRegistry().With(connector),
		Action:     "hubspot.upsert_contact",
		Connection: conformanceConnection,
		Input: func(string) map[string]any {
			return map[string]any{"name": "Ann Lee", "email": "Ann@Example.com", "phone": "8 (999) 123-45-67",
				"properties": map[string]any{"lifecyclestage": "lead"}}
		},
		Respond: respondLikeHubSpot,
	})
}

func TestConformanceCreateDeal(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   connectors.NewRegistry().With(connector),
		Action:     "hubspot.create_deal",
		Connection: conformanceConnection,
		Input: func(string) map[string]any {
			return map[string]any{"dealname": "Site lead", "amount": int64(1500), "contact_id": "51"}
		},
		Respond: respondLikeHubSpot,
	})
}

func TestLint(t *testing.T) {
	t.Parallel()
	connectortest.LintAll(t, connectors.NewRegistry().With(connector))
}

package moysklad

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// conformanceToken is distinctive so the suite can look for it in outputs, errors and logs.
const conformanceToken = "ms-conformance-token-9f3a61c2"

// respondLikeMoySklad writes MoySklad's answers, gzipped: a list or an entity for 200,
// the error envelope otherwise, and for 429 the wait in X-Lognex-Retry-After (ms) as
// MoySklad sends it. A request without gzip or the token gets what MoySklad answers.
func respondLikeMoySklad(w http.ResponseWriter, r *http.Request, status int) {
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+conformanceToken {
		status = http.StatusUnauthorized
	}
	var body any
	switch {
	case status == http.StatusOK && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/entity/counterparty"):
		body = map[string]any{"meta": map[string]any{"size": 0, "limit": 100, "offset": 0}, "rows": []any{}}
	case status == http.StatusOK && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/entity/organization"):
		body = map[string]any{"meta": map[string]any{"size": 1}, "rows": []any{map[string]any{
			"id": "org-1", "meta": map[string]any{"href": "http://" + r.Host + "/entity/organization/org-1", "type": "organization"}}}}
	case status == http.StatusOK:
		body = map[string]any{"id": "5c1e6a0e-0001-11ee-8000-000000000001", "name": "00001", "sum": 199000,
			"meta": map[string]any{"href": "http://" + r.Host + "/entity/customerorder/5c1e6a0e-0001-11ee-8000-000000000001", "type": "customerorder"}}
	default:
		if status == http.StatusTooManyRequests {
			w.Header().Set("X-Lognex-Retry-After", "3000")
			w.Header().Set("X-RateLimit-Remaining", "0")
		}
		body = map[string]any{"errors": []any{map[string]any{"error": http.StatusText(status), "code": status * 10}}}
	}
	data, _ := json.Marshal(body)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(data)
	_ = zw.Close()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Encoding", "gzip")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func conformanceConnection(baseURL string) map[string]any {
	return map[string]any{connToken: conformanceToken, connBaseURL: baseURL}
}

func TestConformanceCreateCounterparty(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   connectors.NewRegistry().With(connector),
		Action:     "moysklad.create_counterparty",
		Connection: conformanceConnection,
		Input: func(string) map[string]any {
			return map[string]any{"name": "Анна Петрова", "email": "Ann@Example.com", "phone": "8 (999) 123-45-67"}
		},
		Respond: respondLikeMoySklad,
	})
}

func TestConformanceCreateCustomerOrder(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   connectors.NewRegistry().With(connector),
		Action:     "moysklad.create_customer_order",
		Connection: conformanceConnection,
		Input: func(baseURL string) map[string]any {
			return map[string]any{"agent": baseURL + "/entity/counterparty/c-1",
				"positions": []any{map[string]any{"assortment": baseURL + "/entity/product/p-1", "quantity": 2, "price": 199000}}}
		},
		Respond: respondLikeMoySklad,
	})
}

func TestConformanceGet(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Case{
		Registry:   connectors.NewRegistry().With(connector),
		Action:     "moysklad.get",
		Connection: conformanceConnection,
		Input: func(baseURL string) map[string]any {
			return map[string]any{"href": baseURL + "/entity/customerorder/5c1e6a0e-0001-11ee-8000-000000000001"}
		},
		Respond: respondLikeMoySklad,
	})
}

func TestLint(t *testing.T) {
	t.Parallel()
	connectortest.LintAll(t, connectors.NewRegistry().With(connector))
}

package examples_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/connectors/declarative/kit"
)

// docBlock finds the fenced code blocks of docs/integrators.md that name the file they
// show: ```yaml examples/acme/acme.yaml.
var docBlock = regexp.MustCompile("(?ms)^```[a-z]+ ((?:examples|connectors)/[^\\s`]+)\\n(.*?)^```$")

// TestDocShowsTheExamples keeps docs/integrators.md exactly what CI runs: every code block
// that names a file must equal that file, and the main files must be shown.
func TestDocShowsTheExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "integrators.md"))
	require.NoError(t, err)
	shown := map[string]bool{}
	for _, m := range docBlock.FindAllStringSubmatch(string(doc), -1) {
		path, block := m[1], m[2]
		shown[path] = true
		file, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
		require.NoError(t, err, "docs/integrators.md shows %s, which does not exist", path)
		require.Equal(t, string(file), block, "docs/integrators.md shows another %s: copy the file into the doc", path)
	}
	for _, path := range []string{"examples/acme/acme.yaml", "examples/acme/acme/create_contact.yaml",
		"examples/acmego/acmego.go", "examples/acmego/acmego_test.go"} {
		require.True(t, shown[path], "docs/integrators.md must show %s in a block marked with its path", path)
	}
}

func acme(t *testing.T) *declarative.Definition {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("acme", "acme.yaml"))
	require.NoError(t, err)
	def, err := declarative.Parse(declarative.Source{Path: "examples/acme/acme.yaml", Origin: declarative.OriginDir, Data: data})
	require.NoError(t, err)
	return def
}

// TestAcmeFixtures replays the declarative example's fixtures, as
// `hookflow connector test examples/acme/acme.yaml` does.
func TestAcmeFixtures(t *testing.T) {
	t.Parallel()
	report, err := kit.Run(t.Context(), acme(t), filepath.Join("acme", "acme"))
	require.NoError(t, err)
	t.Log("\n" + report.String())
	require.True(t, report.Passed(), "%s", report)
}

// TestAcmeConformance runs the SDK's conformance suite on the declarative example with the
// same fake of Acme as the Go example's: the two connectors behave alike.
func TestAcmeConformance(t *testing.T) {
	t.Parallel()
	c, err := acme(t).Connector(declarative.Options{})
	require.NoError(t, err)
	const apiKey = "acme-conformance-key-0123456789"
	connectortest.Run(t, connectortest.Case{
		Registry: connectors.NewRegistry().With(c),
		Action:   "acme.create_contact",
		Connection: func(baseURL string) map[string]any {
			return map[string]any{"base_url": baseURL, "api_key": apiKey}
		},
		Input: func(string) map[string]any {
			return map[string]any{"email": "ann@example.com", "name": "Ann Lee"}
		},
		Respond: func(w http.ResponseWriter, r *http.Request, status int) {
			w.Header().Set("Content-Type", "application/json")
			if r.Header.Get("X-Acme-Key") != apiKey {
				status = http.StatusUnauthorized
			}
			switch status {
			case http.StatusOK:
				w.WriteHeader(http.StatusCreated)
				_ = json.NewEncoder(w).Encode(map[string]any{"id": 7, "email": "ann@example.com", "updated_at": "2024-05-01T10:20:30Z"})
			case http.StatusTooManyRequests:
				w.Header().Set("X-Acme-Retry-After-Ms", "3000")
				fallthrough
			default:
				w.WriteHeader(status)
				_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "error", "message": http.StatusText(status)}})
			}
		},
		IdempotencyHeader: "Idempotency-Key",
	})
}

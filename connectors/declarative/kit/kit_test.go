package kit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
)

// load reads a connector file into a Definition.
func load(t *testing.T, path string) *declarative.Definition {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	d, err := declarative.Parse(declarative.Source{Path: path, Origin: declarative.OriginDir, Data: data})
	require.NoError(t, err)
	return d
}

func TestRunPasses(t *testing.T) {
	t.Parallel()
	def := load(t, "testdata/acme.yaml")
	r, err := Run(t.Context(), def, "testdata/acme")
	require.NoError(t, err)
	t.Log("\n" + r.String())
	require.True(t, r.Passed(), r.String())
	require.Len(t, r.Cases, 9)
	for _, cv := range r.Coverage {
		require.Equal(t, "ok", cv.Status, cv.Case)
	}
	out := r.String()
	require.Contains(t, out, "PASS wait_header.yaml: 429 waits what Retry-After says, with the same idempotency key (3 requests, waited 7s)")
	require.Contains(t, out, "  refresh             ok (refresh.yaml)")
}

// writeCase writes a fixture into dir.
func writeCase(t *testing.T, dir, name, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
}

const token = `
  - request:
      method: POST
      url: https://auth.acme.test/oauth/token
      form: {grant_type: refresh_token, refresh_token: refresh-token-0001}
    response: {status: 200, body: {access_token: access-token-0001}}
`

const acmeConn = "connection: {client_id: acme-app, client_secret: client-secret-0001, refresh_token: refresh-token-0001}\n"

func TestRunReportsFailures(t *testing.T) {
	t.Parallel()
	def := load(t, "testdata/acme.yaml")
	tests := []struct {
		name, fixture string
		want          []string
	}{
		{"wrong request", acmeConn + `
action: create_issue
input: {project: core, title: t}
exchanges:` + token + `
  - request: {method: PUT, url: https://api.acme.test/v1/projects/other/issues, query: {a: 1}, headers: {X-Custom: v}, body: {title: u}}
    response: {status: 201, body: {id: 1}}
expect: {}
`, []string{"request 2 does not match exchange 2:", "method: want PUT, got POST",
			"url:    want https://api.acme.test/v1/projects/other/issues\n          got  https://api.acme.test/v1/projects/core/issues",
			"query:  want a=1\n          got  (none)", `header X-Custom: want "v", got none`, `body:   want {"title":"u"}`,
			"1 exchange(s) were never requested, the first: PUT"}},
		{"unused exchange", acmeConn + `
action: create_issue
input: {project: core, title: t}
exchanges:` + token + `
  - request: {method: POST, url: https://api.acme.test/v1/projects/core/issues}
    response: {status: 201, body: {id: 1, title: t}}
  - request: {method: GET, url: https://api.acme.test/v1/extra}
    response: {status: 200}
expect: {output: {id: 2}}
`, []string{"1 exchange(s) were never requested, the first: GET https://api.acme.test/v1/extra", "output.id: want 2, got 1"}},
		{"too many requests", acmeConn + `
action: create_issue
input: {project: core, title: t}
exchanges:` + token + `
  - request: {method: POST, url: https://api.acme.test/v1/projects/core/issues}
    response: {status: 500}
expect: {error: {kind: permanent}}
`, []string{"request 3 was not expected: all 2 exchange(s) were used", "want a permanent error, got a retryable one"}},
		{"expectations", acmeConn + `
action: create_issue
input: {project: core, title: t}
exchanges:` + token + `
  - request: {method: POST, url: https://api.acme.test/v1/projects/core/issues}
    response: {status: 201, body: {id: 1, title: t}}
expect: {attempts: 2, waited: 1s, error: {kind: any}, secrets: {refresh_token: other}}
`, []string{"want an error, got success", "attempts: want 2, got 1", "waited: want at least 1s, got 0s",
			`stored secret refresh_token: want "other", got "refresh-token-0001"`}},
		{"short secret", "connection: {client_id: a, client_secret: short, refresh_token: refresh-token-0001}\naction: create_issue\nexchanges: []\nexpect: {}\n",
			[]string{"connection.client_secret: fake secrets must be at least 8 characters"}},
		{"unknown key", "action: create_issue\nexchanges: []\nexpect: {outptu: {}}\n", []string{`unknown field "outptu"`}},
		{"two targets", "action: create_issue\ntrigger: new_issues\nexchanges: []\nexpect: {}\n", []string{"exactly one of action, trigger and test_connection"}},
		{"unknown cover", "covers: [happy]\naction: create_issue\nexchanges: []\nexpect: {}\n", []string{`covers: "happy" is not a required case`}},
		{"poll expectations", acmeConn + `
trigger: new_issues
exchanges:` + token + `
  - request: {method: GET, url: https://api.acme.test/v1/issues, query: {since: 0}}
    response: {status: 200, body: {issues: [{id: 1}, {id: 2}]}}
expect: {item_keys: [2, 1], cursor: 1}
`, []string{"item keys: want [2,1], got [1,2]", "cursor: want 1, got 2"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		writeCase(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml", "name: "+tt.name+"\n"+tt.fixture)
	}
	r, err := Run(t.Context(), def, dir)
	require.NoError(t, err)
	t.Log("\n" + r.String())
	require.False(t, r.Passed())
	byName := map[string]CaseResult{}
	for _, c := range r.Cases {
		byName[c.Name] = c
	}
	for _, tt := range tests {
		c, ok := byName[strings.ReplaceAll(tt.name, " ", "_")+".yaml: "+tt.name]
		if !ok { // a fixture that does not load keeps its file name
			c, ok = byName[strings.ReplaceAll(tt.name, " ", "_")+".yaml"]
		}
		require.True(t, ok, tt.name)
		require.False(t, c.Passed, tt.name)
		for _, w := range tt.want {
			require.Contains(t, c.Reason, w, tt.name)
		}
	}
	for _, cv := range r.Coverage {
		require.Equal(t, "missing", cv.Status, "%s: a failing case proves nothing", cv.Case)
	}
	require.Contains(t, r.String(), "  happy_path          MISSING: no passing fixture covers it")
}

func TestCoverageNotApplicable(t *testing.T) {
	t.Parallel()
	def := &declarative.Definition{File: declarative.File{
		Name: "plain", Title: "Plain", BaseURL: "https://plain.test",
		Connection: declarative.ConnectionSpec{Auth: declarative.Auth{Kind: "bearer", Token: "x"}},
		Actions:    map[string]declarative.Action{"get": {Title: "Get", Request: declarative.Request{Path: "/"}}},
		Triggers: map[string]declarative.Trigger{"t": {Kind: "poll", Title: "T", Items: "body", ItemKey: "item.id",
			Request: declarative.Request{Path: "/"}, Pagination: &declarative.Pagination{Kind: "page_number"}}},
	}}
	cov := map[string]Coverage{}
	for _, c := range coverage(def, []CaseResult{{Passed: true, File: "a.yaml", Covers: []string{"happy_path"}}}) {
		cov[c.Case] = c
	}
	require.Equal(t, Coverage{Case: "happy_path", Status: "ok", By: []string{"a.yaml"}}, cov["happy_path"])
	require.Equal(t, "n/a", cov["refresh"].Status)
	require.Equal(t, "auth kind bearer has no token to refresh", cov["refresh"].Why)
	require.Equal(t, "n/a", cov["same_idempotency"].Status)
	require.Equal(t, "missing", cov["three_pages"].Status, "a trigger pages")
	require.Equal(t, "n/a", cov["repeated_token"].Status, "page numbers cannot repeat")
	require.Equal(t, "missing", cov["wait_header"].Status)
}

func TestSecretChecks(t *testing.T) {
	t.Parallel()
	cs := &caseRun{
		fx:     &Fixture{Action: "create_issue"},
		conn:   &connectors.Connection{Config: map[string]any{"key": "key-secret-0001"}, Secrets: []string{"key"}},
		store:  &memStore{secrets: map[string]string{"refresh_token": "rotated-token-0002"}},
		clock:  newFakeClock(),
		replay: &replayer{},
	}
	cs.output = map[string]any{"echo": "key-secret-0001"}
	cs.logs.WriteString(`{"msg":"got rotated-token-0002"}`)
	problems := cs.checkSecrets()
	require.Equal(t, []string{
		"the value of secret setting refresh_token shows in the logs",
		"the value of secret setting key shows in the output",
		"the value of secret setting key shows in the printed output",
	}, problems)
}

func TestIdempotencyCheck(t *testing.T) {
	t.Parallel()
	def := load(t, "testdata/acme.yaml")
	cs := &caseRun{def: def, fx: &Fixture{Action: "create_issue"}, key: "k-1", replay: &replayer{}}
	cs.replay.sent = []sentRequest{
		{header: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}, body: []byte("grant_type=refresh_token")},
		{header: map[string][]string{"Idempotency-Key": {"k-1"}}},
		{header: map[string][]string{"Idempotency-Key": {"k-2"}}},
	}
	require.Equal(t, []string{`request 3: idempotency key "k-2", want the step's "k-1" on every attempt`}, cs.checkIdempotency())
}

func TestRunMissingDir(t *testing.T) {
	t.Parallel()
	_, err := Run(t.Context(), load(t, "testdata/acme.yaml"), filepath.Join(t.TempDir(), "nope"))
	require.ErrorContains(t, err, "read fixtures of connector acme")
}

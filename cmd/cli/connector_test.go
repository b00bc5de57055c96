package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// kitTestdata holds a sample connector with fixtures covering every required case.
const kitTestdata = "../../connectors/declarative/kit/testdata"

// copyConnector copies the sample connector into a fresh directory with the named
// fixtures only, and returns the connector file's path.
func copyConnector(t *testing.T, fixtures ...string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(kitTestdata, "acme.yaml"))
	require.NoError(t, err)
	file := filepath.Join(dir, "acme.yaml")
	require.NoError(t, os.WriteFile(file, data, 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "acme"), 0o700))
	for _, f := range fixtures {
		data, err := os.ReadFile(filepath.Join(kitTestdata, "acme", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "acme", f), data, 0o600))
	}
	return file
}

func TestConnectorTest(t *testing.T) {
	t.Parallel()
	file := filepath.Join(kitTestdata, "acme.yaml")
	code, out, errOut := runCLI(t, "connector", "test", file)
	require.Equal(t, ExitOK, code, "%s\n%s", out, errOut)
	require.Contains(t, out, "PASS happy_path.yaml: create an issue (2 requests, waited 0s)")
	require.Contains(t, out, "  refresh             ok (refresh.yaml)")
	require.Contains(t, out, "ok: connector acme passes 9 fixture(s)")

	// The fixtures directory may be named.
	code, _, _ = runCLI(t, "connector", "test", file, filepath.Join(kitTestdata, "acme"))
	require.Equal(t, ExitOK, code)
}

func TestConnectorTestMissingCase(t *testing.T) {
	t.Parallel()
	file := copyConnector(t, "happy_path.yaml", "refresh.yaml")
	code, out, errOut := runCLI(t, "connector", "test", file)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, out, "PASS refresh.yaml")
	require.Contains(t, out, "  three_pages         MISSING: no passing fixture covers it")
	require.Contains(t, errOut, "error: connector acme: fixtures in ")
}

func TestConnectorTestFailingCase(t *testing.T) {
	t.Parallel()
	file := copyConnector(t, "happy_path.yaml", "refresh.yaml", "wait_header.yaml", "server_error.yaml", "permanent_4xx.yaml",
		"secrets_redacted.yaml", "three_pages.yaml", "repeated_token.yaml")
	broken := `name: wrong id
connection: {client_id: acme-app, client_secret: client-secret-0001, refresh_token: refresh-token-0001}
action: create_issue
input: {project: core, title: t}
exchanges:
  - request: {method: POST, url: https://auth.acme.test/oauth/token}
    response: {status: 200, body: {access_token: access-token-0001}}
  - request: {method: POST, url: https://api.acme.test/v1/projects/core/issues}
    response: {status: 201, body: {id: 1, title: t}}
expect: {output: {id: 2}}
`
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(file), "acme", "wrong.yaml"), []byte(broken), 0o600))
	code, out, _ := runCLI(t, "connector", "test", file)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, out, "FAIL wrong.yaml: wrong id: output.id: want 2, got 1")
	require.NotContains(t, out, "MISSING", "every required case is covered; one case fails")
}

func TestConnectorTestInvalidFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(file, []byte("hookflow_connector: 1\nname: bad\ntitle: Bad\nbase_url: https://x.test\nconnection:\n  auth: {kind: magic}\n"), 0o600))
	code, _, errOut := runCLI(t, "connector", "test", file)
	require.Equal(t, ExitInvalid, code)
	require.Regexp(t, `(?m)^`+regexp.QuoteMeta(file)+`:\d+:\d+: connection\.auth`, errOut, "problems are printed as file:line:col: path: message")

	code, _, errOut = runCLI(t, "connector", "test", filepath.Join(dir, "missing.yaml"))
	require.Equal(t, ExitInvalid, code)
	require.Contains(t, errOut, "no such file")

	code, _, errOut = runCLI(t, "connector", "test", filepath.Join(kitTestdata, "acme.yaml"), filepath.Join(dir, "nope"))
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "read fixtures of connector acme")
}

func TestConnectorLint(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "connector", "lint", filepath.Join(kitTestdata, "acme.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "acme.yaml: ok (connector acme, 1 action(s), 1 trigger(s)")

	dir := t.TempDir()
	warn := filepath.Join(dir, "warn.yaml")
	require.NoError(t, os.WriteFile(warn, []byte(`hookflow_connector: 1
name: warn
title: Warn
base_url: https://x.test
connection: {auth: {kind: none}}
triggers:
  t:
    kind: poll
    title: T
    items: body.items
    item_key: item.id
    request: {path: /items}
    pagination: {kind: page_number, size: 10, stop: short_page}
`), 0o600))
	code, out, errOut = runCLI(t, "connector", "lint", warn)
	require.Equal(t, ExitOK, code, "warnings do not fail: %s", errOut)
	require.Contains(t, errOut, "warning: "+warn)
	require.Contains(t, out, "warn.yaml: ok (connector warn, 0 action(s), 1 trigger(s)")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("hookflow_connector: 1\nname: bad\n  title: [\n"), 0o600))
	code, _, errOut = runCLI(t, "connector", "lint", bad)
	require.Equal(t, ExitInvalid, code)
	require.Regexp(t, `(?m)^`+regexp.QuoteMeta(bad)+`:\d+(:\d+)?: `, errOut, "a syntax error names its line")
}

func TestConnectorSchema(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "connector", "schema")
	require.Equal(t, ExitOK, code)
	var schema map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &schema))
	props, _ := schema["properties"].(map[string]any)
	require.Contains(t, props, "hookflow_connector")
	require.True(t, strings.HasSuffix(out, "\n"))
}

// TestBuiltinConnectorsPassConnectorTest runs `hookflow connector test` on every built-in
// connector file with its recorded fixtures, as an integrator would: every case passes and
// every required case that applies is covered.
func TestBuiltinConnectorsPassConnectorTest(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "connectors", "builtin", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 3, "github, notion and xero")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, "connector", "test", file)
			require.Equal(t, ExitOK, code, "%s\n%s", out, errOut)
			require.Contains(t, out, "ok: connector "+name+" passes")
			require.NotContains(t, out, "FAIL")
			require.NotContains(t, out, "missing")
		})
	}
}

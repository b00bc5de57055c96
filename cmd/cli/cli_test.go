package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/migrations"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"name":"ok","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"http.request","with":{"url":"https://example.com"}}]}`), 0o600))
	goodYAML := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(goodYAML, []byte("name: ok\ntrigger: {type: webhook}\nsteps:\n  - id: a\n    uses: core.set\n    with: {x: 1}\n"), 0o600))
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"name":"bad","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"http.reqest"},{"id":"b","uses":"http.request","with":{}}]}`), 0o600))

	code, out, _ := runCLI(t, "validate", good, goodYAML)
	require.Equal(t, ExitOK, code)
	require.Contains(t, out, "good.json: ok")
	require.Contains(t, out, "good.yaml: ok")

	code, _, errOut := runCLI(t, "validate", good, bad)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, `bad.json: steps[0].uses: unknown action "http.reqest" (did you mean "http.request"?)`)
	require.Contains(t, errOut, `bad.json: steps[1].with.url: is required by request`)
	require.Equal(t, 1, strings.Count(errOut, "url: is required")+strings.Count(errOut, "url is required"),
		"a missing input is reported once, not again by the action's own check:\n%s", errOut)
	require.Contains(t, errOut, "1 of 2 file(s) invalid")

	// Several problems found by an action's own check are one line each, each with its file
	// and path.
	multi := filepath.Join(dir, "multi.json")
	require.NoError(t, os.WriteFile(multi, []byte(`{"name":"m","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"email.send","connection":"smtp","with":{"subject":"hi"}}]}`), 0o600))
	code, _, errOut = runCLI(t, "validate", multi)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "multi.json: steps[0].with: no recipient: set to, cc or bcc\n")
	require.Contains(t, errOut, "multi.json: steps[0].with: no body: set text, html or both\n")
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		require.True(t, strings.HasPrefix(line, multi+": ") || strings.HasPrefix(line, "error: "), "line %q", line)
	}

	// A bad cron expression does not hide a bad time zone.
	sched := filepath.Join(dir, "sched.json")
	require.NoError(t, os.WriteFile(sched, []byte(`{"name":"s","trigger":{"type":"schedule","schedule":{"cron":"0 25 * * *","timezone":"Europe/Moskva"}},"steps":[{"id":"a","uses":"core.set","with":{"x":1}}]}`), 0o600))
	code, _, errOut = runCLI(t, "validate", sched)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, `sched.json: trigger.schedule.cron: invalid cron expression "0 25 * * *"`)
	require.Contains(t, errOut, `sched.json: trigger.schedule.timezone: unknown time zone "Europe/Moskva"`)

	code, _, errOut = runCLI(t, "validate", filepath.Join(dir, "missing.json"))
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "no such file")

	code, _, _ = runCLI(t, "validate")
	require.Equal(t, ExitUsage, code)
	code, _, _ = runCLI(t, "no-such-command")
	require.Equal(t, ExitUsage, code)
}

func TestUserAndToken(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	code, out, errOut := runCLI(t, "--data-dir", dataDir, "user", "create", "--email", "ops@example.com", "--password", "long enough")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "created admin user ops@example.com")
	require.NoFileExists(t, filepath.Join(dataDir, "secret.key"), "creating a user needs no secret key")

	code, _, errOut = runCLI(t, "--data-dir", dataDir, "user", "create", "--email", "ops@example.com", "--password", "long enough")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "already exists")

	code, out, errOut = runCLI(t, "--data-dir", dataDir, "--log-level", "warn", "token", "create", "--email", "ops@example.com", "--name", "ci")
	require.Equal(t, ExitOK, code, errOut)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Len(t, lines, 1, "only the token, on one line")
	require.True(t, strings.HasPrefix(lines[0], "hf_"))

	code, _, errOut = runCLI(t, "--data-dir", dataDir, "token", "create", "--email", "nobody@example.com")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "not found")

	code, _, _ = runCLI(t, "--data-dir", dataDir, "token", "create")
	require.Equal(t, ExitUsage, code, "missing --email")
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	code, out, errOut := runCLI(t, "--data-dir", dataDir, "migrate")
	require.Equal(t, ExitOK, code, errOut)
	files, err := fs.Glob(migrations.FS, "sqlite/*.sql")
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("database schema at version %d", len(files)))
	require.FileExists(t, filepath.Join(dataDir, "hookflow.db"))

	code, _, errOut = runCLI(t, "--database-url", "mysql://nope", "migrate")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "unsupported database url")
}

func TestJSONLogs(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "--log-format", "json", "migrate")
	require.Equal(t, ExitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.NotEmpty(t, lines)
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		require.NotEmpty(t, rec["msg"])
	}
}

func TestBadEnvironment(t *testing.T) {
	t.Setenv("HOOKFLOW_WORKERS", "many")
	t.Setenv("HOOKFLOW_LEASE", "soon")
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "migrate")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, `HOOKFLOW_WORKERS="many" is not a whole number`)
	require.Contains(t, errOut, `HOOKFLOW_LEASE="soon" is not a duration`)
	require.Equal(t, 1, strings.Count(errOut, "HOOKFLOW_WORKERS"), "each problem once")
}

func TestBadLogSettings(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "--log-format", "xml", "migrate")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "invalid log format")
}

func TestBadWebhookLimits(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--webhook-in-flight", "0"},
		{"--webhook-in-flight-bytes", "-1"},
		{"--webhook-read-timeout", "0s"},
		{"--webhook-max-headers", "0"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--data-dir", t.TempDir(), "serve", "--addr", "127.0.0.1:0"}, args...)...)
		require.Equal(t, ExitUsage, code, args)
		require.Contains(t, errOut, args[0]+" must be more than 0")
	}
}

func TestRetentionSettings(t *testing.T) {
	t.Setenv("HOOKFLOW_RETENTION_MAX_AGE", "7d")
	t.Setenv("HOOKFLOW_RETENTION_MAX_RUNS", "500")
	opts := &Options{}
	cmd := newServeCommand(opts)
	require.Equal(t, 7*24*time.Hour, opts.RetentionMaxAge)
	require.Equal(t, 500, opts.RetentionMaxRuns)
	require.NoError(t, cmd.Flags().Set("retention-max-age", "1d12h"))
	require.Equal(t, 36*time.Hour, opts.RetentionMaxAge)
	require.Error(t, cmd.Flags().Set("retention-max-age", "a month"))

	require.NoError(t, cmd.Flags().Set("retention-max-age", "0"))
	require.NoError(t, cmd.Flags().Set("retention-max-runs", "0"))
	cfg := opts.engineConfig(nil)
	require.Negative(t, cfg.RetentionMaxAge, "0 on the command line: no bound")
	require.Negative(t, cfg.RetentionMaxRuns)

	t.Setenv("HOOKFLOW_RETENTION_MAX_AGE", "a month")
	code, _, errOut := runCLI(t, "--data-dir", t.TempDir(), "serve")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, `HOOKFLOW_RETENTION_MAX_AGE="a month" is not a duration such as 30d or 12h`)
}

// TestValidateWithConnectorFiles checks a workflow against a server's connector folder:
// an action of a declarative file validates, its missing input is reported like a Go
// connector's, and a broken connector file is exit 2 naming its line.
func TestValidateWithConnectorFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	require.NoError(t, os.Mkdir(conns, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(conns, "acme.yaml"), []byte(`hookflow_connector: 1
name: acme
title: Acme CRM
base_url: https://api.acme.test
connection:
  fields: [{name: token, type: string, secret: true, required: true}]
  auth: {kind: bearer, token: "{{ conn.token }}"}
actions:
  create_contact:
    title: Create a contact
    input: [{name: email, type: string, required: true, send: {body: email}}]
    request: {method: POST, path: /contacts}
`), 0o600))
	wf := filepath.Join(dir, "wf.yaml")
	require.NoError(t, os.WriteFile(wf, []byte("name: w\ntrigger: {type: webhook}\nsteps:\n  - id: a\n    uses: acme.create_contact\n    connection: acme\n    with: {email: a@b.test}\n"), 0o600))
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: w\ntrigger: {type: webhook}\nsteps:\n  - id: a\n    uses: acme.create_contact\n    connection: acme\n    with: {}\n"), 0o600))

	code, _, errOut := runCLI(t, "validate", wf)
	require.Equal(t, ExitFailure, code, "without the folder the connector is unknown")
	require.Contains(t, errOut, `unknown action "acme.create_contact"`)

	code, out, errOut := runCLI(t, "validate", "--connectors", conns, wf)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "wf.yaml: ok")

	code, _, errOut = runCLI(t, "validate", "--connectors", conns, bad)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "bad.yaml: steps[0].with.email: is required")

	require.NoError(t, os.WriteFile(filepath.Join(conns, "broken.yaml"), []byte("hookflow_connector: 1\nname: broken\ntitle: B\nbase_url: https://b.test\nconnection: {auth: {kind: bearer}}\n"), 0o600))
	code, _, errOut = runCLI(t, "validate", "--connectors", conns, wf)
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "broken.yaml:5:")
}

package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUserListTokenListRevoke(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	cli := func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"--data-dir", dataDir, "--log-level", "warn"}, args...)...)
	}
	for _, u := range [][]string{{"ops@example.com", "admin"}, {"dev@example.com", "viewer"}} {
		code, _, errOut := cli("user", "create", "--email", u[0], "--password", "long enough", "--role", u[1])
		require.Equal(t, ExitOK, code, errOut)
	}
	code, out, errOut := cli("user", "list")
	require.Equal(t, ExitOK, code, errOut)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Len(t, lines, 3)
	require.Regexp(t, `^ID\s+EMAIL\s+ROLE\s+CREATED\s+DISABLED$`, lines[0])
	require.Regexp(t, `\s+dev@example.com\s+viewer\s+\S+\s+-$`, lines[1], "by email, aligned")
	require.Equal(t, strings.Index(lines[0], "EMAIL"), strings.Index(lines[1], "dev@"), "aligned columns")

	code, tok, errOut := cli("token", "create", "--email", "ops@example.com", "--name", "ci")
	require.Equal(t, ExitOK, code, errOut)
	tok = strings.TrimSpace(tok)
	code, _, errOut = cli("token", "create", "--email", "dev@example.com", "--name", "reader")
	require.Equal(t, ExitOK, code, errOut)

	code, out, errOut = cli("token", "list", "--email", "ops@example.com", "--output", "json")
	require.Equal(t, ExitOK, code, errOut)
	require.NotContains(t, out, tok, "never the token again")
	var ts []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &ts))
	require.Len(t, ts, 1)
	require.Equal(t, "hf_…"+tok[len(tok)-4:], ts[0]["hint"])
	id := ts[0]["id"].(string)

	code, out, errOut = cli("token", "list")
	require.Equal(t, ExitOK, code, errOut)
	require.Len(t, strings.Split(strings.TrimRight(out, "\n"), "\n"), 3, "every user's, with a header")

	code, out, errOut = cli("token", "revoke", id)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, out, "revoked token "+id+" (ci)")
	code, out, _ = cli("token", "list", "--email", "ops@example.com")
	require.Equal(t, ExitOK, code)
	lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Len(t, lines, 2)
	require.False(t, strings.HasSuffix(lines[1], " -"), "listed with the time it was revoked: %s", lines[1])

	code, _, errOut = cli("token", "revoke", "no-such-token")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "not found")
	code, _, _ = cli("user", "list", "--output", "yaml")
	require.Equal(t, ExitUsage, code)
}

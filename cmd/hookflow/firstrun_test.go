package main_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hint matches an attribute of serve's "what next" log line: a command, quoted.
var hint = regexp.MustCompile(`(user_create|token_create)=("(?:[^"\\]|\\.)*")`)

// TestServeSaysWhatNext starts serve on an empty database: once it listens it logs the URL
// it serves and the exact commands that create the first user and token. The commands are
// run as printed, from another directory, and the token they give works; after that, a
// restart no longer shows the hint.
func TestServeSaysWhatNext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "state"), "HOOKFLOW_DATABASE_URL=",
		"HOOKFLOW_ADMIN_EMAIL=", "HOOKFLOW_ADMIN_PASSWORD="}
	s := start(t, dir, env, "serve")
	_, port, _ := strings.Cut(s.addr, "127.0.0.1:")
	require.Contains(t, s.log(), "url=http://127.0.0.1:"+port, "the banner gives the URL served")
	// The hint follows the banner.
	hinted := waitFor(10*time.Second, func() bool { return strings.Contains(s.log(), "No user yet") })
	require.True(t, hinted, "no hint; logs:\n%s", s.log())
	logs := s.log()

	cmds := map[string]string{}
	for _, m := range hint.FindAllStringSubmatch(logs, -1) {
		c, err := strconv.Unquote(m[2])
		require.NoError(t, err)
		cmds[m[1]] = c
	}
	require.Len(t, cmds, 2, "both commands are printed; logs:\n%s", logs)
	require.Contains(t, cmds["user_create"], "user create --email ")
	require.Contains(t, cmds["token_create"], "token create --email ")

	// The printed commands work as they are, from anywhere: they carry the data dir.
	elsewhere := t.TempDir()
	shell := func(command string) string {
		cmd := exec.Command("bash", "-c", command)
		cmd.Dir = elsewhere
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "HOOKFLOW_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "%s\n%s", command, stderr.String())
		return string(out)
	}
	shell(cmds["user_create"])
	token := strings.TrimSpace(shell(cmds["token_create"]))
	status, body := get(t, "http://"+s.addr+"/api/v1/workflows", token)
	require.Equal(t, http.StatusOK, status, body)
	s.stop(t)

	s = start(t, dir, env, "serve")
	s.stop(t) // the hint would have been logged before the shutdown
	require.NotContains(t, s.log(), "No user yet")
}

// waitFor checks cond every 50 ms until it holds or d has passed, and returns its last
// result.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

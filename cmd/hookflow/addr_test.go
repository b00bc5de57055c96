package main_test

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/cmd/cli/clitest"
)

// listenLine is the line that tells where a process listens: its ready banner, or the
// error it exits with when the address is taken.
var listenLine = regexp.MustCompile(`msg="Hookflow (?:listening|worker ready)" addr=(\S+)|error: listen on (\S+): `)

// TestDefaultAddresses runs serve and worker with no --addr and no HOOKFLOW_ADDR. serve
// listens on :8080 and worker on :8081. The ports may be taken on a shared machine; the
// error then names the address the command tried, which is what this test checks.
func TestDefaultAddresses(t *testing.T) {
	t.Parallel()
	for cmd, want := range map[string]string{"serve": "8080", "worker": "8081"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			addr := listenAddress(t, cmd)
			require.True(t, strings.HasSuffix(addr, ":"+want), "%s listens on %s, want port %s", cmd, addr, want)
		})
	}
}

// listenAddress starts `hookflow <cmd>` in a fresh directory without any address setting
// and returns the address it listens on (or failed to listen on), then stops it.
func listenAddress(t *testing.T, command string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(clitest.Binary(t), command, "--workers", "1")
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKFLOW_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1] + m[2]
				break
			}
		}
		close(found)
	}()
	select {
	case addr, ok := <-found:
		require.True(t, ok, "%s exited without saying where it listens; logs:\n%s", command, logs.String())
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return addr
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start in 30s", command)
		return ""
	}
}

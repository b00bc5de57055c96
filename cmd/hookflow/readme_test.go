//go:build unix

package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/cmd/cli/clitest"
)

// TestReadmeWalkthrough runs the README's walk-through as a newcomer would: every ```sh
// block of its "Walk-through" section, top to bottom, in one bash session, against a
// freshly built binary. Only the ports change (8080 and the listener's 9000 become free
// ones) and `go run ./cmd/hookflow` becomes the binary; the server block, which a person
// leaves running in its own terminal, runs in the background. The run must succeed and
// the listener must receive both leads (the second through the connector file the
// walk-through drops into the data directory), so the README cannot drift from the code.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("the README walk-through needs %s", tool)
			}
			t.Skipf("the README walk-through needs %s", tool)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	blocks := walkthroughBlocks(t, string(readme))

	bin := clitest.Binary(t)
	port, sinkPort := freePort(t), freePort(t)
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	replaced := map[string]int{}
	for _, b := range blocks {
		for from, to := range map[string]string{"go run ./cmd/hookflow": shellWord(bin), "8080": port, "9000": sinkPort} {
			replaced[from] += strings.Count(b, from)
			b = strings.ReplaceAll(b, from, to)
		}
		if !strings.HasSuffix(strings.TrimSpace(b), " serve") {
			script.WriteString(b + "\n")
			continue
		}
		// A person leaves the server running in its own terminal and goes on once it
		// listens; here it runs in the background, and the session waits (at most 30 s)
		// for /readyz.
		ready := "http://127.0.0.1:" + port + "/readyz"
		fmt.Fprintf(&script, "%s &\nfor _ in $(seq 300); do curl -fs -o /dev/null %s && break; sleep 0.1; done\ncurl -fsS -o /dev/null %s\n",
			strings.TrimSpace(b), ready, ready)
	}
	for _, from := range []string{"go run ./cmd/hookflow", "8080", "9000"} {
		require.Positive(t, replaced[from], "the walk-through no longer mentions %q: update this test", from)
	}
	script.WriteString(`printf '\nREADME_TEST run_id=%s token=%s\n' "$RUN_ID" "$TOKEN"` + "\nwait\n")

	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKFLOW_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// The server block sets no address: the environment moves it off :8080.
	cmd.Env = append(cmd.Env, "HOOKFLOW_ADDR=127.0.0.1:"+port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	require.NoError(t, cmd.Start())
	// exited is closed once bash has ended; waitErr is then its exit status.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { stopGroup(t, cmd.Process.Pid, exited) })
	output := func() string {
		return fmt.Sprintf("script:\n%s\nstdout:\n%s\nstderr:\n%s", script.String(), stdout.String(), stderr.String())
	}

	marker := regexp.MustCompile(`README_TEST run_id=(\S+) token=(\S+)`)
	var m []string
	deadline := time.After(2 * time.Minute)
	for m == nil {
		select {
		case <-exited:
			t.Fatalf("the walk-through stopped early (%v)\n%s", waitErr, output())
		case <-deadline:
			t.Fatalf("the walk-through did not finish in 2 minutes\n%s", output())
		case <-time.After(50 * time.Millisecond):
			m = marker.FindStringSubmatch(stdout.String())
		}
	}
	runID, token := m[1], m[2]
	require.NotEmpty(t, runID, output())

	var status string
	ended := waitFor(30*time.Second, func() bool {
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/api/v1/runs/"+runID, nil)
		if err != nil {
			return false
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var run struct{ Status string }
		if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&run) != nil {
			return false
		}
		status = run.Status
		return status != "queued" && status != "running" && status != "waiting"
	})
	require.True(t, ended, "the run did not end (status %q)\n%s", status, output())
	require.Equal(t, "succeeded", status, output())
	received := waitFor(10*time.Second, func() bool {
		out := stdout.String()
		return strings.Contains(out, `"name":"Ann"`) && strings.Contains(out, `"amount":150`) &&
			strings.Contains(out, `{"amount":70,"name":"Bea"}`) // through the connector file
	})
	require.True(t, received, "the listener did not print the lead\n%s", output())
}

// walkthroughBlocks returns the ```sh blocks of the README's "## Walk-through" section.
func walkthroughBlocks(t *testing.T, readme string) []string {
	t.Helper()
	_, section, found := strings.Cut(readme, "\n## Walk-through")
	require.True(t, found, "README.md has no Walk-through section")
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for {
		_, rest, ok := strings.Cut(section, "\n```sh\n")
		if !ok {
			break
		}
		block, after, ok := strings.Cut(rest, "\n```")
		require.True(t, ok, "an unterminated ```sh block in the walk-through")
		blocks = append(blocks, block)
		section = after
	}
	require.GreaterOrEqual(t, len(blocks), 5, "the walk-through's shell blocks")
	return blocks
}

// stopGroup ends the bash session and everything it started (the server, the listener):
// SIGTERM to its process group, which lets the server shut down cleanly; SIGKILL to
// whatever is left after 20 s.
func stopGroup(t *testing.T, pid int, exited <-chan struct{}) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(-pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if syscall.Kill(-pid, 0) == nil {
		t.Log("the walk-through's processes outlived SIGTERM by 20 s; killing them")
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	<-exited
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// shellWord quotes s for bash.
func shellWord(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package main_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/cmd/cli/clitest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	clitest.Cleanup()
	os.Exit(code)
}

// process is a running hookflow command.
type process struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs strings.Builder
	done chan error
}

var ready = regexp.MustCompile(`msg="Hookflow (?:listening|worker ready)" addr=(\S+)`)

// start runs `hookflow <args> --addr 127.0.0.1:0` in dir and waits until it logs its
// address.
func start(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(clitest.Binary(t), append(args, "--addr", "127.0.0.1:0")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, done: make(chan error, 1)}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if m := ready.FindStringSubmatch(line); m != nil {
				addrCh <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case p.addr = <-addrCh:
	case <-time.After(30 * time.Second):
		t.Fatalf("%v did not start; logs:\n%s", args, p.log())
	}
	return p
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// stop sends SIGTERM and requires exit 0.
func (p *process) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "SIGTERM ends with exit 0; logs:\n%s", p.log())
	case <-time.After(60 * time.Second):
		t.Fatal("process did not stop after SIGTERM")
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	<-p.done
}

// run runs a short hookflow command and returns its stdout.
func run(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(clitest.Binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	return string(out)
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// TestServeBinary starts the real binary the way the README does: SQLite in ./data, the
// first admin from the environment, /healthz answering, SIGTERM ending it cleanly, and a
// restart finding the same data.
func TestServeBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"HOOKFLOW_ADMIN_EMAIL=admin@example.com", "HOOKFLOW_ADMIN_PASSWORD=long enough", "HOOKFLOW_DATA_DIR=", "HOOKFLOW_DATABASE_URL="}
	// HOOKFLOW_DATA_DIR= empties any inherited setting; the engine then uses ./data.
	s := start(t, dir, env, "serve")
	status, body := get(t, "http://"+s.addr+"/healthz", "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "ok")
	require.FileExists(t, filepath.Join(dir, "data", "hookflow.db"))
	info, err := os.Stat(filepath.Join(dir, "data", "secret.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	token := strings.TrimSpace(run(t, dir, env, "token", "create", "--email", "admin@example.com"))
	status, body = get(t, "http://"+s.addr+"/api/v1/workflows", token)
	require.Equal(t, http.StatusOK, status, body)
	s.stop(t)
	require.Contains(t, s.log(), "Shutting down")

	s = start(t, dir, env, "serve")
	status, body = get(t, "http://"+s.addr+"/api/v1/workflows", token)
	require.Equal(t, http.StatusOK, status, fmt.Sprintf("the token survives a restart: %s", body))
	s.stop(t)
}

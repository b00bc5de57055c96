package cli_test

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
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// buildBinary builds cmd/hookflow with CGO_ENABLED=0, proving the pure-Go build works.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookflow")
	cmd := exec.Command("go", "build", "-o", bin, "../hookflow")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

type server struct {
	cmd  *exec.Cmd
	addr string
	logs *strings.Builder
	done chan error
}

var listening = regexp.MustCompile(`msg="Hookflow listening" addr=(\S+)`)

// startServer runs `hookflow serve` in dir with a free loopback port and waits until it
// logs that it listens.
func startServer(t *testing.T, bin, dir string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &server{cmd: cmd, logs: &strings.Builder{}, done: make(chan error, 1)}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				addrCh <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case s.addr = <-addrCh:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start; logs:\n%s", s.logs.String())
	}
	return s
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-s.done:
		require.NoError(t, err, "SIGTERM ends with exit 0; logs:\n%s", s.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
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
	bin := buildBinary(t)
	dir := t.TempDir()
	env := []string{"HOOKFLOW_ADMIN_EMAIL=admin@example.com", "HOOKFLOW_ADMIN_PASSWORD=long enough", "HOOKFLOW_DATA_DIR=", "HOOKFLOW_DATABASE_URL="}
	// HOOKFLOW_DATA_DIR= empties any inherited setting; the engine then uses ./data.
	s := startServer(t, bin, dir, env...)
	status, body := get(t, "http://"+s.addr+"/healthz", "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "ok")
	require.FileExists(t, filepath.Join(dir, "data", "hookflow.db"))
	info, err := os.Stat(filepath.Join(dir, "data", "secret.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	tokenCmd := exec.Command(bin, "token", "create", "--email", "admin@example.com")
	tokenCmd.Dir = dir
	tokenCmd.Env = append(os.Environ(), "HOOKFLOW_DATA_DIR=", "HOOKFLOW_DATABASE_URL=")
	out, err := tokenCmd.Output()
	require.NoError(t, err)
	token := strings.TrimSpace(string(out))
	status, body = get(t, "http://"+s.addr+"/api/v1/workflows", token)
	require.Equal(t, http.StatusOK, status, body)
	s.stop(t)
	require.Contains(t, s.logs.String(), "Shutting down")

	s = startServer(t, bin, dir, env...)
	status, body = get(t, "http://"+s.addr+"/api/v1/workflows", token)
	require.Equal(t, http.StatusOK, status, fmt.Sprintf("the token survives a restart: %s", body))
	s.stop(t)
}

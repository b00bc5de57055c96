package benchmark

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Bounds of the server's life cycle.
const (
	readyPoll        = 2 * time.Millisecond
	readyTimeout     = 60 * time.Second
	readyRequestWait = time.Second
	idleWait         = 500 * time.Millisecond
	tokenTimeout     = 60 * time.Second
	stopTimeout      = 20 * time.Second // above the server's own 15 s shutdown bound
	killTimeout      = 5 * time.Second
	logTailBytes     = 4 << 10
)

// adminEmail is the account the bench's server is created with.
const adminEmail = "bench@hookflow.invalid"

// server is a hookflow serve process the bench started.
type server struct {
	cmd     *exec.Cmd
	dir     string
	logPath string
	logFile *os.File
	env     []string
	binary  string
	baseURL string
	exited  chan struct{}
	waitErr error

	startToReady time.Duration
}

// startServer runs `hookflow serve` on a free loopback port with a fresh temporary
// data dir and waits for its first ready answer.
func startServer(ctx context.Context, cfg Config, log io.Writer) (srv *server, err error) {
	dir, err := os.MkdirTemp("", "hookflow-bench-")
	if err != nil {
		return nil, fmt.Errorf("create the temporary dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	secret := cfg.secretKey
	if secret == "" {
		if secret, err = randomHex(32); err != nil {
			return nil, err
		}
	}
	password, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, logPath: filepath.Join(dir, "server.log"), binary: cfg.Binary,
		baseURL: "http://" + addr, exited: make(chan struct{})}
	s.env = append(cleanEnv(),
		"HOOKFLOW_DATA_DIR="+filepath.Join(dir, "data"),
		"HOOKFLOW_DATABASE_URL="+cfg.DatabaseURL,
		"HOOKFLOW_SECRET_KEY="+secret,
		"HOOKFLOW_ADMIN_EMAIL="+adminEmail,
		"HOOKFLOW_ADMIN_PASSWORD="+password,
		"HOOKFLOW_LOG_LEVEL=warn",
	)
	args := []string{"serve", "--addr", addr}
	switch {
	case cfg.Mode == ModeIngest:
		args = append(args, "--workers", "0")
	case cfg.Workers > 0:
		args = append(args, "--workers", strconv.Itoa(cfg.Workers))
	}
	s.logFile, err = os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("create the server log: %w", err)
	}
	s.cmd = exec.Command(cfg.Binary, args...)
	s.cmd.Dir = dir
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = s.logFile, s.logFile
	s.cmd.SysProcAttr = sysProcAttr()
	fmt.Fprintf(log, "bench: starting %s %s\n", cfg.Binary, strings.Join(args, " "))
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		_ = s.logFile.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, start); err != nil {
		s.stop(log)
		return nil, err
	}
	return s, nil
}

// waitReady polls GET /readyz every readyPoll until the first 200.
func (s *server) waitReady(ctx context.Context, start time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: readyRequestWait, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: false}}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if ok, _ := getOK(ctx, client, s.baseURL+"/readyz"); ok {
			s.startToReady = time.Since(start)
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the server exited before it was ready (%v)%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("wait for the server to be ready: %w%s", context.Cause(ctx), s.logTail())
		case <-tick.C:
		}
	}
}

// token runs `hookflow token create` for the admin with the server's environment.
func (s *server) token(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.binary, "token", "create", "--email", adminEmail, "--name", "bench")
	cmd.Dir = s.dir
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("create an API token: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	tok := strings.TrimSpace(stdout.String())
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("create an API token: unexpected output %q", tok)
	}
	return tok, nil
}

// alive reports whether the server process still runs.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, waits at most stopTimeout, then SIGKILL, and removes the
// temporary dir.
func (s *server) stop(log io.Writer) {
	if s.alive() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			fmt.Fprintf(log, "bench: the server did not stop within %s of SIGTERM; killing it\n", stopTimeout)
			_ = s.cmd.Process.Kill()
			select {
			case <-s.exited:
			case <-time.After(killTimeout):
				fmt.Fprintf(log, "bench: the server (pid %d) did not exit after SIGKILL\n", s.cmd.Process.Pid)
			}
		}
	}
	_ = s.logFile.Close()
	if err := os.RemoveAll(s.dir); err != nil {
		fmt.Fprintf(log, "bench: remove %s: %v\n", s.dir, err)
	}
}

// logTail returns the end of the server's log, to append to an error.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	return "\nserver log (end):\n" + strings.TrimRight(string(b), "\n")
}

// cleanEnv returns this process's environment without HOOKFLOW_ variables, so the
// server never sees the user's data dir, database or settings. HOOKFLOW_PPROF_ADDR
// passes, to profile the server under the bench's load.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKFLOW_") || strings.HasPrefix(kv, "HOOKFLOW_PPROF_ADDR=") {
			env = append(env, kv)
		}
	}
	return env
}

// freePort returns a loopback address with a port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// getOK reports whether GET url answered 200, and the answer's body.
func getOK(ctx context.Context, client *http.Client, url string) (bool, []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return err == nil && resp.StatusCode == http.StatusOK, body
}

// api is a client of the REST API.
type api struct {
	base   string
	token  string
	client *http.Client
}

// workflowDef is the bench's workflow: webhook → filter amount > 100 → POST to the sink.
func workflowDef(name, sinkURL string) map[string]any {
	return map[string]any{
		"name":    name,
		"trigger": map[string]any{"type": "webhook"},
		"filter":  "trigger.body.amount > 100",
		"steps": []any{map[string]any{
			"id":    "deliver",
			"uses":  "http.request",
			"retry": map[string]any{"initial": "100ms"},
			"with": map[string]any{
				"method": "POST",
				"url":    sinkURL + SinkPath,
				"body":   map[string]any{"id": "{{ trigger.body.id }}", "sent": "{{ trigger.body.sent }}"},
			},
		}},
	}
}

// createWorkflow creates the bench's workflow and returns its id and webhook URL. The
// URL is rebuilt on the API's base URL, so a server configured with a public base URL
// is still reached on loopback.
func (a *api) createWorkflow(ctx context.Context, name, sinkURL string) (id, hookURL string, err error) {
	body, err := json.Marshal(workflowDef(name, sinkURL))
	if err != nil {
		return "", "", fmt.Errorf("encode the workflow: %w", err)
	}
	var out struct {
		ID         string `json:"id"`
		WebhookURL string `json:"webhook_url"`
	}
	if err := a.do(ctx, http.MethodPost, "/api/v1/workflows", body, http.StatusCreated, &out); err != nil {
		return "", "", fmt.Errorf("create the workflow: %w", err)
	}
	_, path, ok := strings.Cut(out.WebhookURL, "/hooks/")
	if out.ID == "" || !ok || path == "" {
		return "", "", fmt.Errorf("create the workflow: answer without id or webhook_url: %+v", out)
	}
	return out.ID, a.base + "/hooks/" + path, nil
}

// counters reads the server's run counters from /metrics, which a server the bench
// starts serves without a token.
func (a *api) counters(ctx context.Context) (RunCounters, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, err := ReadMetrics(ctx, a.client, a.base, "")
	if err != nil {
		return RunCounters{}, fmt.Errorf("read the server's counters: %w", err)
	}
	return runCountersOf(m), nil
}

// runCountersOf picks the run counters out of a scrape; a counter it lacks (never
// incremented, on some versions) stays 0.
func runCountersOf(m Metrics) RunCounters {
	return RunCounters{Claims: int64(m["hookflow_claims_total"]), RunsClaimed: int64(m["hookflow_runs_claimed_total"]),
		RunsDispatched: int64(m["hookflow_runs_dispatched_total"])}
}

// deleteWorkflow deletes a workflow.
func (a *api) deleteWorkflow(ctx context.Context, id string) error {
	if err := a.do(ctx, http.MethodDelete, "/api/v1/workflows/"+id, nil, 0, nil); err != nil {
		return fmt.Errorf("delete the workflow %s: %w", id, err)
	}
	return nil
}

// do sends one API request; want 0 accepts any 2xx.
func (a *api) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	return APIRequest(ctx, a.client, a.base, a.token, method, path, body, want, out)
}

// APIRequest sends one request to the REST API at base with token, for the bench and the
// soak: a JSON body when body is not nil, the answer's JSON decoded into out when out is
// not nil; want 0 accepts any 2xx. The request is bounded by 30 s, the answer by 4 MiB.
func APIRequest(ctx context.Context, client *http.Client, base, token, method, path string, body []byte, want int, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if (want != 0 && resp.StatusCode != want) || (want == 0 && resp.StatusCode/100 != 2) {
		return fmt.Errorf("%s %s answered %s: %.300s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	return nil
}

// dialect asks a server's /readyz which database it uses.
func dialect(ctx context.Context, client *http.Client, base string) (string, error) {
	ok, body := getOK(ctx, client, base+"/readyz")
	if !ok {
		return "", errors.New("the target is not ready: GET /readyz did not answer 200")
	}
	var r struct {
		Database string `json:"database"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Database == "" {
		return "unknown", nil
	}
	return r.Database, nil
}

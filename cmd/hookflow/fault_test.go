package main_test

// Fault tests (issue 16): the real binary under a faulty sink, a PostgreSQL that goes
// away, and a SQLite disk that fills. Each is bounded in webhooks and time; docs/faults.md
// describes them and their figures.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// faultSink answers each call at random (seeded): hangs past the step timeout, resets
// the connection, answers 500, or answers 200 and records the call's Idempotency-Key as
// delivered.
type faultSink struct {
	*httptest.Server
	mu        sync.Mutex
	rnd       *rand.Rand
	delivered map[string]int // Idempotency-Key → 200 answers
	faults    map[string]int // fault kind → count
}

func newFaultSink(t *testing.T, seed uint64, hang time.Duration) *faultSink {
	s := &faultSink{rnd: rand.New(rand.NewPCG(seed, seed)), delivered: map[string]int{}, faults: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		p := s.rnd.IntN(100)
		kind := "ok"
		switch {
		case p < 10:
			kind = "hang"
		case p < 20:
			kind = "reset"
		case p < 30:
			kind = "500"
		}
		s.faults[kind]++
		if kind == "ok" {
			s.delivered[r.Header.Get("Idempotency-Key")]++
		}
		s.mu.Unlock()
		switch kind {
		case "hang":
			// Past the step timeout; the client gives up first.
			select {
			case <-r.Context().Done():
			case <-time.After(hang):
			}
			w.WriteHeader(http.StatusOK)
		case "reset":
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close sends RST, not FIN
			}
			_ = conn.Close()
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *faultSink) snapshot() (map[string]int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := make(map[string]int, len(s.delivered))
	for k, v := range s.delivered {
		d[k] = v
	}
	f := make(map[string]int, len(s.faults))
	for k, v := range s.faults {
		f[k] = v
	}
	return d, f
}

// ack is one acknowledged webhook.
type ack struct{ EventID, RunID string }

// fire posts one webhook and returns its status (0 when the request failed) and ids.
func fire(client *http.Client, url string, body []byte) (int, ack) {
	res, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, ack{}
	}
	defer res.Body.Close()
	var a struct {
		EventID string `json:"event_id"`
		RunID   string `json:"run_id"`
	}
	if json.NewDecoder(res.Body).Decode(&a) != nil {
		return res.StatusCode, ack{}
	}
	return res.StatusCode, ack{EventID: a.EventID, RunID: a.RunID}
}

// TestFaultySink: the sink hangs, resets or answers 500 on 30% of calls. Every
// acknowledged webhook ends with a succeeded run the sink answered 200 for, or a failed
// run once retries ran out (and then no 200 was given); keys answered 200 more than once
// stay within the runs in flight.
func TestFaultySink(t *testing.T) {
	t.Parallel()
	const (
		events  = 200
		workers = 8
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("sink seed %d", seed)
	sink := newFaultSink(t, seed, 3*time.Second)
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "data"), "HOOKFLOW_DATABASE_URL=",
		"HOOKFLOW_SECRET_KEY=" + testSecretKey, fmt.Sprintf("HOOKFLOW_WORKERS=%d", workers)}
	srv, a := setupAPI(t, dir, env)
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "faulty sink", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "send", "uses": "http.request", "timeout": "300ms",
			"retry": map[string]any{"max_attempts": 4, "initial": "20ms", "max": "100ms"},
			"with":  map[string]any{"method": "POST", "url": sink.URL + "/crm", "body": map[string]any{"n": "{{ trigger.body.n }}"}}}},
	}, &wf))

	var (
		mu    sync.Mutex
		acked []ack
		sent  atomic.Int64
	)
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				n := sent.Add(1)
				if n > events {
					return
				}
				status, id := fire(client, wf.WebhookURL, fmt.Appendf(nil, `{"n":%d}`, n))
				if status == http.StatusAccepted {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, acked, events, "a healthy server acknowledges every webhook")

	runs := a.waitFinal(t, 2*time.Minute)
	srv.stop(t)
	byID := map[string]runRow{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	delivered, faults := sink.snapshot()
	succeeded, failed, dup := 0, 0, 0
	for _, k := range acked {
		r, ok := byID[k.RunID]
		require.True(t, ok, "acknowledged run %s is lost", k.RunID)
		require.Equal(t, k.EventID, r.EventID)
		n := delivered[k.RunID+":send"]
		switch r.Status {
		case "succeeded":
			succeeded++
			require.GreaterOrEqual(t, n, 1, "run %s succeeded, so the sink answered 200", k.RunID)
		case "failed":
			failed++
			require.Zero(t, n, "run %s failed although the sink answered 200", k.RunID)
		default:
			t.Fatalf("run %s ended %s", k.RunID, r.Status)
		}
		if n > 1 {
			dup++
		}
	}
	t.Logf("acknowledged %d: succeeded %d, failed after retries %d; sink calls %v; keys delivered twice %d (bound %d)",
		len(acked), succeeded, failed, faults, dup, workers)
	require.Positive(t, faults["hang"]+faults["reset"]+faults["500"], "faults were injected")
	require.LessOrEqual(t, dup, workers)
}

// pgProxy forwards loopback connections to PostgreSQL; cut closes every connection and
// refuses new ones until restore.
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &pgProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
	})
	return p
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		go p.forward(c)
	}
}

func (p *pgProxy) forward(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = c.Close()
		_ = u.Close()
		return
	}
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = u.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *pgProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// loadResult counts what a steady webhook load got back.
type loadResult struct {
	mu     sync.Mutex
	acked  []ack
	status map[int]int
	last2x time.Time
}

func (l *loadResult) add(status int, id ack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status[status]++
	if status >= 200 && status < 300 {
		l.acked = append(l.acked, id)
		l.last2x = time.Now()
	}
}

func (l *loadResult) lastAck() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last2x
}

// steadyLoad posts webhooks from senders, pausing between each, until stop is closed
// or max webhooks were sent.
func steadyLoad(url string, senders, max int, pause time.Duration, body func(n int64) []byte, stop <-chan struct{}) (*loadResult, *sync.WaitGroup) {
	l := &loadResult{status: map[int]int{}}
	client := &http.Client{Timeout: 15 * time.Second}
	var sent atomic.Int64
	wg := &sync.WaitGroup{}
	for range senders {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := sent.Add(1)
				if n > int64(max) {
					return
				}
				status, id := fire(client, url, body(n))
				l.add(status, id)
				time.Sleep(pause)
			}
		})
	}
	return l, wg
}

// waitAckAfter waits until a webhook is acknowledged after t0.
func waitAckAfter(t *testing.T, l *loadResult, t0 time.Time, bound time.Duration, what string) time.Duration {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !l.lastAck().After(t0) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no webhook acknowledged within %s", what, bound)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return l.lastAck().Sub(t0)
}

// TestPostgresAway runs serve against PostgreSQL through a proxy that cuts every
// connection and refuses new ones for 3 s under a steady webhook load: ingress answers
// 503 meanwhile, recovers by itself, and every acknowledged event has a succeeded run;
// calls repeated because their result could not be recorded stay within the workers.
func TestPostgresAway(t *testing.T) {
	t.Parallel()
	const workers = 8
	direct := storetest.URL(t, store.Postgres)
	dir := t.TempDir()
	sink := newKeySink(t, nil)
	baseEnv := []string{"HOOKFLOW_DATA_DIR=" + dir, "HOOKFLOW_SECRET_KEY=" + testSecretKey, "HOOKFLOW_LEASE=2s",
		fmt.Sprintf("HOOKFLOW_WORKERS=%d", workers)}
	run(t, dir, append(baseEnv, "HOOKFLOW_DATABASE_URL="+direct), "migrate")
	run(t, dir, append(baseEnv, "HOOKFLOW_DATABASE_URL="+direct), "user", "create", "--email", "ops@example.com", "--password", "long enough")
	token := strings.TrimSpace(run(t, dir, append(baseEnv, "HOOKFLOW_DATABASE_URL="+direct), "token", "create", "--email", "ops@example.com"))

	u, err := url.Parse(direct)
	require.NoError(t, err)
	proxy := newPGProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	viaProxy := u.String()
	srv := start(t, dir, append(baseEnv, "HOOKFLOW_DATABASE_URL="+viaProxy), "serve")
	a := api{base: "http://" + srv.addr, token: token}
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "pg away", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "send", "uses": "http.request", "retry": map[string]any{"initial": "100ms", "max": "1s"},
			"with": map[string]any{"method": "POST", "url": sink.URL + "/crm", "body": map[string]any{"n": "{{ trigger.body.n }}"}}}},
	}, &wf))

	stop := make(chan struct{})
	load, wg := steadyLoad(wf.WebhookURL, 4, 2000, 20*time.Millisecond, func(n int64) []byte { return fmt.Appendf(nil, `{"n":%d}`, n) }, stop)
	waitAckAfter(t, load, time.Now(), 30*time.Second, "before the cut")
	time.Sleep(500 * time.Millisecond)

	proxy.cut()
	cutAt := time.Now()
	t.Log("database cut")
	time.Sleep(3 * time.Second)
	load.mu.Lock()
	during := map[int]int{}
	for k, v := range load.status {
		during[k] = v
	}
	load.mu.Unlock()
	proxy.restore()
	back := time.Now()
	recovered := waitAckAfter(t, load, back, 30*time.Second, "after the database came back")
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("statuses until the restore: %v; first acknowledgement %s after the restore (cut lasted %s)", during, recovered, back.Sub(cutAt))

	db, err := sql.Open("pgx", direct)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		var open int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE status IN ('queued','running','waiting')`).Scan(&open))
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still open a minute after recovery; log:\n%s", open, srv.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.stop(t)
	for _, k := range load.acked {
		var status string
		err := db.QueryRowContext(ctx, `SELECT r.status FROM events e JOIN runs r ON r.event_id = e.id WHERE e.id = $1 AND r.id = $2`, k.EventID, k.RunID).Scan(&status)
		require.NoError(t, err, "acknowledged event %s / run %s is lost", k.EventID, k.RunID)
		require.Equal(t, "succeeded", status, "run %s", k.RunID)
	}
	keys, _ := sink.counts()
	dup := 0
	for _, n := range keys {
		if n > 1 {
			dup++
		}
	}
	t.Logf("all statuses: %v; acknowledged %d, all with a succeeded run; keys delivered twice %d (bound %d)", load.status, len(load.acked), dup, workers)
	// A step whose call went out while its result could not be recorded runs again.
	require.LessOrEqual(t, dup, workers)
	require.Positive(t, during[http.StatusServiceUnavailable], "ingress answered 503 while the database was away")
	for s := range load.status {
		require.Contains(t, []int{http.StatusAccepted, http.StatusServiceUnavailable}, s, "only 202 or 503, never a dropped connection")
	}
}

// TestSQLiteDiskFull puts the data directory on a small tmpfs, fills it with a filler
// file under a webhook load: ingress answers 503 and logs why; deleting the filler
// brings 202s back without a restart, and every acknowledged event has a succeeded run.
func TestSQLiteDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(data, 0o700))
	// A real small filesystem is the honest fault. SQLite's max_page_count is no fallback:
	// it holds per connection, and the server opens its own.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", data).CombinedOutput(); err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs for the disk-full test (needs root): %v: %s", err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		// Lazy: the killed server may not have closed its files yet.
		if out, err := exec.Command("umount", "-l", data).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", data, err, out)
		}
	})
	sink := newKeySink(t, nil)
	env := []string{"HOOKFLOW_DATA_DIR=" + data, "HOOKFLOW_DATABASE_URL=", "HOOKFLOW_SECRET_KEY=" + testSecretKey}
	srv, a := setupAPI(t, dir, env)
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "disk full", "trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "send", "uses": "http.request", "retry": map[string]any{"initial": "100ms", "max": "1s"},
			"with": map[string]any{"method": "POST", "url": sink.URL + "/crm", "body": map[string]any{"n": "{{ trigger.body.n }}"}}}},
	}, &wf))

	filler := filepath.Join(data, "filler")
	fill(t, filler)
	pad := strings.Repeat("x", 4000)
	stop := make(chan struct{})
	load, wg := steadyLoad(wf.WebhookURL, 4, 3000, 5*time.Millisecond, func(n int64) []byte {
		return fmt.Appendf(nil, `{"n":%d,"pad":%q}`, n, pad)
	}, stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		load.mu.Lock()
		full := load.status[http.StatusServiceUnavailable]
		load.mu.Unlock()
		if full >= 20 {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("no 503 within 30 s of a full disk: %v", load.status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, os.Remove(filler))
	back := time.Now()
	recovered := waitAckAfter(t, load, back, 30*time.Second, "after space returned")
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	line := regexp.MustCompile(`(?im)^.*Store webhook failed.*(full|no space).*$`).FindString(srv.log())
	require.NotEmpty(t, line, "the log says why webhooks are refused; log:\n%s", srv.log())
	t.Logf("log: %s", line)

	runs := a.waitFinal(t, time.Minute)
	srv.stop(t)
	byID := map[string]runRow{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	for _, k := range load.acked {
		r, ok := byID[k.RunID]
		require.True(t, ok, "acknowledged run %s is lost", k.RunID)
		require.Equal(t, k.EventID, r.EventID)
		require.Equal(t, "succeeded", r.Status, "run %s", k.RunID)
	}
	t.Logf("statuses: %v; acknowledged %d, all with a succeeded run; first acknowledgement %s after space returned",
		load.status, len(load.acked), recovered)
	for s := range load.status {
		require.Contains(t, []int{http.StatusAccepted, http.StatusServiceUnavailable}, s)
	}
}

// fill writes path until the filesystem has no space left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	buf := make([]byte, 64<<10)
	for range 1 << 12 { // bounded: 256 MiB at most
		if _, err = f.Write(buf); err != nil {
			break
		}
	}
	require.True(t, errors.Is(err, syscall.ENOSPC), "the filler stops at a full disk: %v", err)
	_ = f.Close()
}

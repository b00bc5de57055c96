package soak

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/cmd/cli/benchmark"
)

// Bounds of single requests.
const (
	requestTimeout = 30 * time.Second
	scrapeTimeout  = 5 * time.Second
	pacingTick     = 2 * time.Millisecond
	drainPoll      = 200 * time.Millisecond
)

// Run starts a server (or uses cfg.Target), creates the soak's workflows, keeps the
// load on for cfg.Duration while sampling, waits for the last deliveries and returns the
// report with its verdicts. Progress goes to log. When ctx ends early (SIGINT) the load
// stops and the report covers what was measured, with Completed false. An error means
// nothing worth reporting was measured: the server did not start, the workflows could
// not be created.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Report, error) {
	if log == nil {
		log = io.Discard
	}
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	bound := setupBound + cfg.Duration + cfg.DrainTimeout + time.Minute
	ctx, cancel := context.WithTimeoutCause(ctx, bound, fmt.Errorf("the soak took longer than its bound of %s", bound))
	defer cancel()

	client := newClient(cfg.Concurrency + 8)
	defer client.CloseIdleConnections()
	rep := &Report{Config: cfg, StartedAt: time.Now().UTC(), Target: cfg.Target}
	base, token, pid := cfg.Target, cfg.Token, 0
	alive := func() (bool, string) { return true, "" }
	if cfg.Target == "" {
		srv, err := benchmark.StartServer(ctx, cfg.Binary, cfg.DatabaseURL, cfg.Workers, log)
		if err != nil {
			return nil, fmt.Errorf("start the server: %w", err)
		}
		defer srv.Stop(log)
		if token, err = srv.Token(ctx); err != nil {
			return nil, fmt.Errorf("%w%s", err, srv.LogTail())
		}
		base, pid = srv.BaseURL(), srv.PID()
		rep.PID = pid
		alive = func() (bool, string) { return srv.Alive(), srv.LogTail() }
	}
	a := &api{base: base, token: token, client: client}
	if rep.Database, err = a.dialect(ctx); err != nil {
		return nil, err
	}

	tr := newTracker(cfg.FailShare, cfg.SlowShare, cfg.Slow)
	sink, err := startSink(tr)
	if err != nil {
		return nil, err
	}
	defer sink.close()
	suffix, err := randomHex(4)
	if err != nil {
		return nil, err
	}
	hooks, ids, err := a.createWorkflows(ctx, "soak-"+suffix, sink.url())
	// Workflows are deleted at the end, also on a server the soak started: the schedule
	// would otherwise keep calling a sink that is gone while the server stops.
	defer func() {
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer dcancel()
		for _, id := range ids {
			if derr := a.do(dctx, http.MethodDelete, "/api/v1/workflows/"+id, 0, nil); derr != nil {
				fmt.Fprintf(log, "soak: delete workflow %s: %v\n", id, derr)
			}
		}
	}()
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(log, "soak: %s at %g webhooks/s and %g reads/s on %s, sampling every %s, warm-up %s\n",
		cfg.Duration, cfg.Rate, cfg.ReadRate, rep.Database, cfg.Interval, cfg.Warmup)
	loadCtx, stopLoad := context.WithTimeout(ctx, cfg.Duration)
	defer stopLoad()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() { generate(loadCtx, cfg, client, hooks, tr) })
	if cfg.ReadRate > 0 {
		wg.Go(func() { readLoop(loadCtx, cfg.ReadRate, a, ids[wfOrders], tr) })
	}
	s := &sampler{cfg: cfg, client: client, base: base, metricsToken: cfg.MetricsToken, pid: pid, tr: tr, start: start, log: log}
	s.loop(loadCtx)
	wg.Wait()
	rep.Windows = s.windows
	rep.LoadSeconds = round2(time.Since(start).Seconds())

	if ctx.Err() != nil {
		rep.Interrupted = context.Cause(ctx).Error()
	} else {
		rep.DrainSeconds = round2(drain(ctx, tr, cfg.DrainTimeout, log).Seconds())
		if ctx.Err() != nil {
			rep.Interrupted = context.Cause(ctx).Error()
		}
	}
	if ok, tail := alive(); !ok {
		rep.Failures = append(rep.Failures, "the server exited during the soak"+tail)
	}
	rep.Completed = rep.Interrupted == ""
	rep.Totals = tr.tally()
	if sc, err := readMetrics(ctx, client, base, cfg.MetricsToken); err == nil {
		rep.Retries = int64(sc.retries)
	}
	rep.evaluate()
	return rep, nil
}

// drain waits until every expected delivery arrived, the timeout passed or ctx ended,
// and returns how long it waited.
func drain(ctx context.Context, tr *tracker, timeout time.Duration, log io.Writer) time.Duration {
	start := time.Now()
	n := tr.pending()
	if n == 0 {
		return 0
	}
	fmt.Fprintf(log, "soak: waiting up to %s for %d deliveries\n", timeout, n)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for tr.pending() > 0 {
		select {
		case <-ctx.Done():
			return time.Since(start)
		case <-tick.C:
		}
	}
	return time.Since(start)
}

// idleConnTimeout closes the load generator's and the sink's idle keep-alive connections.
// A latency spike makes both pools open more connections than the steady rate needs;
// kept for a minute, they held the server's goroutines and open files up for that long,
// and a spike in the last minute read as a leak. Closed after a few seconds, they are
// gone by the next sample, and only a real leak keeps rising.
const idleConnTimeout = 5 * time.Second

// newClient returns a keep-alive client for loopback, never through a proxy.
func newClient(conns int) *http.Client {
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     idleConnTimeout,
		DisableCompression:  true,
	}
	return &http.Client{Transport: t, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// mix maps event id to its workflow and whether it passes the filter: of every ten
// events, six go to orders (two of them filtered out), three to flaky, one to chain.
func mix(id int64) (wf uint8, pass bool) {
	switch r := id % 10; {
	case r < 6:
		return wfOrders, r >= 2
	case r < 9:
		return wfFlaky, true
	default:
		return wfChain, true
	}
}

// generate sends webhooks at cfg.Rate until ctx ends, from at most cfg.Concurrency
// goroutines. A send that falls due while all are busy is skipped and counted as an
// error: the load stays open, as real senders do not wait for a slow server.
func generate(ctx context.Context, cfg Config, client *http.Client, hooks [3]string, tr *tracker) {
	tokens := make(chan int64, cfg.Concurrency)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-tokens:
					if ctx.Err() != nil {
						return
					}
					wf, pass := mix(id)
					amount := 150
					if !pass {
						amount = 50
					}
					start := time.Now()
					tr.register(id, wf, pass, start.UnixNano())
					// A request in flight when the load ends is finished (within the
					// client's timeout), so every event sent has its answer.
					status, err := sendWebhook(context.WithoutCancel(ctx), client, hooks[wf], id, amount, start.UnixNano())
					tr.answered(id, err == nil && status == http.StatusAccepted, time.Since(start))
				}
			}
		})
	}
	var next atomic.Int64
	tick := time.NewTicker(pacingTick)
	defer tick.Stop()
	start := time.Now()
	issued := int64(0)
loop:
	for {
		due := int64(time.Since(start).Seconds() * cfg.Rate)
		for ; issued < due; issued++ {
			select {
			case tokens <- next.Add(1) - 1:
			default:
				tr.fault()
			}
		}
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
	}
	wg.Wait()
}

func sendWebhook(ctx context.Context, client *http.Client, url string, id int64, amount int, sent int64) (int, error) {
	body := fmt.Appendf(nil, `{"id":%d,"amount":%d,"sent":%d}`, id, amount, sent)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return resp.StatusCode, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, nil
}

// readLoop reads through the API at rate until ctx ends, cycling through what an
// operator's UI asks: the runs list, the newest run, a workflow's events, the workflows.
func readLoop(ctx context.Context, rate float64, a *api, ordersID string, tr *tracker) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	runID := ""
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var path string
		switch i % 4 {
		case 0:
			path = "/api/v1/runs?limit=20"
		case 1:
			if runID == "" {
				continue
			}
			path = "/api/v1/runs/" + runID
		case 2:
			path = "/api/v1/workflows/" + ordersID + "/events?limit=20"
		default:
			path = "/api/v1/workflows?limit=20"
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		start := time.Now()
		err := a.do(ctx, http.MethodGet, path, http.StatusOK, &page)
		if ctx.Err() != nil {
			return
		}
		tr.read(err == nil, time.Since(start))
		if i%4 == 0 && err == nil && len(page.Items) > 0 {
			runID = page.Items[0].ID
		}
	}
}

// sampler closes a window every interval: the server's RSS, goroutines, open files and
// queue depth at that moment, and the tracker's observations since the last window.
type sampler struct {
	cfg          Config
	client       *http.Client
	base         string
	metricsToken string
	pid          int
	tr           *tracker
	start        time.Time
	log          io.Writer
	windows      []Window
	last         time.Time
}

func (s *sampler) loop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	s.last = s.start
	for {
		select {
		case <-ctx.Done():
			// The last, partial window is kept when it is at least half an interval.
			if time.Since(s.last) >= s.cfg.Interval/2 {
				s.sample()
			}
			return
		case <-tick.C:
			s.sample()
		}
	}
}

func (s *sampler) sample() {
	now := time.Now()
	acc := s.tr.take()
	w := Window{T: round2(now.Sub(s.start).Seconds()), Requests: len(acc.req), Errors: acc.errors,
		RSSMB: -1, Goroutines: -1, OpenFiles: -1, Queue: -1}
	w.Warmup = now.Sub(s.start) <= s.cfg.Warmup
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	sc, err := readMetrics(ctx, s.client, s.base, s.metricsToken)
	if err != nil {
		fmt.Fprintf(s.log, "soak: %v\n", err)
		w.Errors++
	} else {
		w.Goroutines, w.Queue = sc.goroutines, sc.queue
		w.RSSMB, w.OpenFiles = mb(sc.rss), sc.fds
	}
	if s.pid > 0 {
		// /proc of the child is read directly: the same figures, without a scrape's own cost.
		if rss, err := procRSS(s.pid); err == nil {
			w.RSSMB = mb(rss)
		}
		if fds, err := procFDs(s.pid); err == nil {
			w.OpenFiles = fds
		}
	}
	span := now.Sub(s.last).Seconds()
	s.last = now
	w.RequestsPerSec = round2(float64(len(acc.req)) / span)
	w.DeliveredPerSec = round2(float64(acc.delivered) / span)
	w.ReqP50, w.ReqP95, w.ReqP99 = pct(acc.req, 50), pct(acc.req, 95), pct(acc.req, 99)
	w.E2EP50, w.E2EP99 = pct(acc.e2e, 50), pct(acc.e2e, 99)
	w.APIP99 = pct(acc.api, 99)
	w.Reads = len(acc.api)
	s.windows = append(s.windows, w)
	fmt.Fprintf(s.log, "soak: t=%.0fs rss=%sMB goroutines=%s files=%s queue=%s req/s=%.1f req_p99=%sms e2e_p99=%sms errors=%d\n",
		w.T, num(w.RSSMB, 1), num(w.Goroutines, 0), num(w.OpenFiles, 0), num(w.Queue, 0), w.RequestsPerSec,
		num(w.ReqP99, 1), num(w.E2EP99, 1), w.Errors)
}

// pct returns the p-th percentile of xs by nearest rank, rounded to 2 decimals; -1 for
// no samples.
func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100 + 0.9999999)
	rank = min(max(rank, 1), len(s))
	return round2(s[rank-1])
}

func mb(b float64) float64 { return round2(b / (1 << 20)) }

// api is a client of the REST API.
type api struct {
	base   string
	token  string
	client *http.Client
}

func (a *api) do(ctx context.Context, method, path string, want int, out any) error {
	return a.send(ctx, method, path, nil, want, out)
}

func (a *api) send(ctx context.Context, method, path string, body []byte, want int, out any) error {
	return benchmark.APIRequest(ctx, a.client, a.base, a.token, method, path, body, want, out)
}

// dialect asks /readyz which database the server uses.
func (a *api) dialect(ctx context.Context) (string, error) {
	var r struct {
		Database string `json:"database"`
	}
	if err := a.do(ctx, http.MethodGet, "/readyz", http.StatusOK, &r); err != nil {
		return "", fmt.Errorf("the server is not ready: %w", err)
	}
	if r.Database == "" {
		return "unknown", nil
	}
	return r.Database, nil
}

// workflowDefs returns the soak's workflows, in the order of wfOrders, wfFlaky,
// wfChain, then the schedule.
func workflowDefs(prefix, sink string) []map[string]any {
	deliver := func(id, path string, retry map[string]any) map[string]any {
		return map[string]any{"id": id, "uses": "http.request", "retry": retry,
			"with": map[string]any{"method": "POST", "url": sink + path,
				"body": map[string]any{"id": "{{ trigger.body.id }}"}}}
	}
	quick := map[string]any{"initial": "100ms", "max": "1s", "max_attempts": 5}
	return []map[string]any{
		{"name": prefix + "-orders", "trigger": map[string]any{"type": "webhook"},
			"filter": "trigger.body.amount > 100",
			"steps":  []any{deliver("deliver", sinkPaths[slotOrders], quick)}},
		{"name": prefix + "-flaky", "trigger": map[string]any{"type": "webhook"},
			"steps": []any{deliver("deliver", sinkPaths[slotFlaky], quick)}},
		{"name": prefix + "-chain", "trigger": map[string]any{"type": "webhook"},
			"steps": []any{deliver("a", sinkPaths[slotChainA], quick), deliver("b", sinkPaths[slotChainB], quick)}},
		{"name": prefix + "-tick",
			"trigger": map[string]any{"type": "schedule", "schedule": map[string]any{"cron": "@every " + TickEvery.String()}},
			"steps": []any{map[string]any{"id": "tick", "uses": "http.request", "retry": quick,
				"with": map[string]any{"method": "POST", "url": sink + tickPath,
					"body": map[string]any{"tick": "{{ trigger.scheduled_at }}"}}}}},
	}
}

// createWorkflows creates the workflows and returns the three webhook URLs (rebuilt on
// the API's base URL, so a server with a public base URL is still reached on loopback)
// and the ids of every workflow created, also when a later one failed.
func (a *api) createWorkflows(ctx context.Context, prefix, sink string) (hooks [3]string, ids []string, err error) {
	for i, def := range workflowDefs(prefix, sink) {
		body, err := json.Marshal(def)
		if err != nil {
			return hooks, ids, fmt.Errorf("encode workflow %s: %w", def["name"], err)
		}
		var out struct {
			ID         string `json:"id"`
			WebhookURL string `json:"webhook_url"`
		}
		if err := a.send(ctx, http.MethodPost, "/api/v1/workflows", body, http.StatusCreated, &out); err != nil {
			return hooks, ids, fmt.Errorf("create workflow %s: %w", def["name"], err)
		}
		if out.ID == "" {
			return hooks, ids, fmt.Errorf("create workflow %s: answer without an id", def["name"])
		}
		ids = append(ids, out.ID)
		if i < len(hooks) {
			_, path, ok := strings.Cut(out.WebhookURL, "/hooks/")
			if !ok || path == "" {
				return hooks, ids, fmt.Errorf("create workflow %s: answer without a webhook_url", def["name"])
			}
			hooks[i] = a.base + "/hooks/" + path
		}
	}
	return hooks, ids, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

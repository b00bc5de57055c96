package benchmark

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/cmd/cli/clitest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	clitest.Cleanup()
	os.Exit(code)
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	require.Equal(t, Latency{}, Summarize(nil))
	require.Zero(t, Percentile(nil, 50))

	one := []time.Duration{7 * time.Millisecond}
	require.Equal(t, Latency{Count: 1, P50: 7, P90: 7, P99: 7, Max: 7}, Summarize(one))

	// 1..100 ms in reverse order: nearest rank gives exactly p ms.
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(samples)
	require.Equal(t, Latency{Count: 100, P50: 50, P90: 90, P99: 99, Max: 100}, got)
	require.Equal(t, 100*time.Millisecond, samples[0], "the input is not sorted in place")

	// Ten samples: p50 is the 5th, p90 the 9th, p99 rounds up to the 10th.
	var ten []time.Duration
	for i := 1; i <= 10; i++ {
		ten = append(ten, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 5*time.Millisecond, Percentile(ten, 50))
	require.Equal(t, 9*time.Millisecond, Percentile(ten, 90))
	require.Equal(t, 10*time.Millisecond, Percentile(ten, 99))
	require.Equal(t, time.Millisecond, Percentile(ten, 0.1))

	require.Equal(t, 1.23, Millis(1234567*time.Nanosecond), "2 decimals")
	require.Equal(t, 1.24, Millis(1235001*time.Nanosecond))
	require.Equal(t, 500.0, PerSecond(1000, 2*time.Second))
	require.Zero(t, PerSecond(1000, 0))
}

func TestFilteredSpread(t *testing.T) {
	t.Parallel()
	count := func(n int, f float64) int {
		c := 0
		for i := range n {
			if filtered(i, f) {
				c++
			}
		}
		return c
	}
	require.Equal(t, 150, count(300, 0.5))
	require.Equal(t, 0, count(300, 0))
	require.Equal(t, 300, count(300, 1))
	require.Equal(t, 30, count(300, 0.1))
	require.False(t, filtered(0, 0.5))
	require.True(t, filtered(1, 0.5))
}

func TestSinkCountsDuplicates(t *testing.T) {
	t.Parallel()
	sink := NewSink(10)
	require.NoError(t, sink.Start())
	defer sink.Close()
	require.True(t, strings.HasPrefix(sink.URL(), "http://127.0.0.1:"))

	post := func(body string) int {
		resp, err := http.Post(sink.URL()+SinkPath, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, post(`{"id":3,"sent":"1"}`))
	require.Equal(t, http.StatusOK, post(`{"id":"3","sent":1}`), "a string id counts as the same event")
	require.Equal(t, http.StatusOK, post(`{"id":3}`))
	require.Equal(t, http.StatusOK, post(`{"id":4}`))
	require.Equal(t, http.StatusOK, post(`{"id":"5"}`))
	require.Equal(t, http.StatusOK, post(`{"id":5}`))
	require.Equal(t, http.StatusBadRequest, post(`{"id":10}`), "out of range")
	require.Equal(t, http.StatusBadRequest, post(`{"id":-1}`))
	require.Equal(t, http.StatusBadRequest, post(`{"nope":1}`))
	require.Equal(t, http.StatusBadRequest, post(`not json`))

	require.Equal(t, SinkStats{Deliveries: 6, Unique: 3, Duplicates: 3, DuplicateIDs: 2, Invalid: 4}, sink.Stats())
	first, count := sink.Arrival(3)
	require.Equal(t, int32(3), count)
	require.Positive(t, first)
	_, count = sink.Arrival(0)
	require.Zero(t, count)
	require.False(t, sink.LastFirstArrival().Before(time.Unix(0, first)))
	require.NoError(t, sink.Close())
	require.NoError(t, sink.Close(), "closing twice is harmless")
}

func TestSinkConcurrentRecords(t *testing.T) {
	t.Parallel()
	sink := NewSink(100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				require.True(t, sink.Record(i, int64(g*1000+i+1)))
			}
		})
	}
	wg.Wait()
	st := sink.Stats()
	require.Equal(t, SinkStats{Deliveries: 800, Unique: 100, Duplicates: 700, DuplicateIDs: 100}, st)
}

func TestConfig(t *testing.T) {
	t.Parallel()
	c, err := Config{Mode: ModeE2E, Binary: "x"}.normalize()
	require.NoError(t, err)
	require.Equal(t, EventsDefault, c.Events)
	require.Equal(t, ConcurrencyDefault, c.Concurrency)
	require.Equal(t, FilteredE2EDefault, c.Filtered)
	require.Equal(t, TimeoutDefault, c.Timeout)

	c, err = Config{Mode: ModeE2E, Binary: "x", Filtered: -1}.normalize()
	require.NoError(t, err)
	require.Zero(t, c.Filtered, "negative means none")

	c, err = Config{Binary: "x"}.normalize()
	require.NoError(t, err)
	require.Equal(t, ModeIngest, c.Mode)
	require.Zero(t, c.Filtered)

	for _, bad := range []Config{
		{Mode: "soak"}, {Events: -1}, {Concurrency: ConcurrencyMax + 1}, {Rate: -5}, {Filtered: 1.5},
		{Workers: -1}, {DatabaseURL: "mysql://x"}, {Target: "http://127.0.0.1:8080"},
		{Target: "http://10.0.0.1:8080", Token: "t"}, {Target: "http://example.com", Token: "t"},
		{Target: "https://127.0.0.1", Token: "t"},
	} {
		require.Error(t, bad.Validate(), "%+v", bad)
	}
	c, err = Config{Target: "http://localhost:8080/", Token: "t"}.normalize()
	require.NoError(t, err)
	require.Equal(t, "http://localhost:8080", c.Target)
	require.NoError(t, Config{Target: "http://[::1]:8080", Token: "t"}.Validate())
}

func TestReportText(t *testing.T) {
	t.Parallel()
	r := &Report{Mode: ModeIngest, Database: "sqlite", Events: 20000, Concurrency: 64,
		Server: &ServerStats{StartToReadyMs: 120, IdleRSSMB: 20, IdleAnonMB: 6, IdleFileMB: 14, PeakRSSMB: 200,
			CPUSeconds: 3, LoadCPUSeconds: 2.4, CPUPerWebhookUs: 120.1},
		Ingest: LoadStats{Sent: 20000, Accepted: 19990, ErrorCount: 10, Errors: map[string]int{"503": 10},
			AcceptedPerSec: 12345.6, RequestLatency: Latency{P50: 1, P90: 2, P99: 30, Max: 40}},
		Bare:        &BaselineStats{Load: LoadStats{AcceptedPerSec: 30000}},
		IngestRatio: 0.4115}
	r.evaluate()
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	out := b.String()
	for _, want := range []string{"12,346/s", "10 (10× 503)", "41.2%", "≥ 40% (stretch 50%)", "≤ 25 MB", "120.1 µs", "20.0 MB (anon 6.0 MB, file 14.0 MB)"} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "≥ 10,000/s", "issue 17 set the rate targets as ratios")
	line := lineOf(out)
	require.True(t, strings.HasSuffix(line("peak RSS"), "MISS"), line("peak RSS"))
	require.True(t, strings.HasSuffix(line("request p99"), "MISS"))
	require.True(t, strings.HasSuffix(line("ours / bare"), "PASS, stretch MISS"), line("ours / bare"))
	require.True(t, strings.HasSuffix(line("accepted/s"), "/s"), "accepted/s has no target: %q", line("accepted/s"))
	require.True(t, strings.HasSuffix(line("start to ready"), "PASS"))
	require.True(t, strings.HasSuffix(line("CPU per webhook"), "µs"), "no CPU target in ingest mode: %q", line("CPU per webhook"))
	require.Contains(t, out, "3 target(s) met, 2 missed")
	require.False(t, r.Passed())

	js, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(js), `"accepted_per_sec":12345.6`)
	require.Contains(t, string(js), `"checks":[`)
	require.Contains(t, string(js), `"pass":true,"stretch":50}`, "stretch_pass is left out when false")
	require.Contains(t, string(js), `"cpu_per_webhook_us":120.1`)
}

// lineOf returns a finder of the first line of out whose trimmed text starts with prefix.
func lineOf(out string) func(prefix string) string {
	lines := strings.Split(out, "\n")
	return func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l
			}
		}
		return ""
	}
}

// checkMap returns the checks of r by name.
func checkMap(r *Report) map[string]Check {
	m := map[string]Check{}
	for _, c := range r.Checks {
		m[c.Name] = c
	}
	return m
}

// TestTargets pins issue 17's targets and the runs they apply to: each figure is checked
// only in the mode, database and conditions its target was set for.
func TestTargets(t *testing.T) {
	t.Parallel()
	server := func() *ServerStats {
		return &ServerStats{StartToReadyMs: 90, IdleRSSMB: 25.1, PeakRSSMB: 40, CPUSeconds: 5, LoadCPUSeconds: 4,
			CPUPerWebhookUs: 150, CPUPerDeliveryUs: 300}
	}
	e2e := func(db string, concurrency int, rate float64) *Report {
		return &Report{Mode: ModeE2E, Database: db, Events: 20000, Concurrency: concurrency, Rate: rate,
			Server: server(), Ingest: LoadStats{Accepted: 20000, RequestLatency: Latency{P99: 40}},
			Delivery: &DeliveryStats{Delivered: 10000, Duplicates: 1, Latency: Latency{P50: 5, P99: 25.01}},
			Bare:     &BaselineStats{}, Forwarder: &BaselineStats{Delivery: &DeliveryStats{}},
			IngestRatio: 0.25, DeliveryRatio: 0.3}
	}

	// Ingest on SQLite: ratio ≥ 40 % (stretch 50 %), p99 ≤ 25 ms, idle RSS ≤ 25 MB.
	r := &Report{Mode: ModeIngest, Database: "sqlite", Events: 20000, Concurrency: 64, Server: server(),
		Ingest: LoadStats{RequestLatency: Latency{P99: 25}}, Bare: &BaselineStats{}, IngestRatio: 0.5}
	r.evaluate()
	m := checkMap(r)
	require.Len(t, m, 5, "%+v", r.Checks)
	require.Equal(t, Check{Name: CheckIngestRatio, Value: 50, Op: ">=", Target: 40, Unit: "%", Pass: true, Stretch: 50, StretchPass: true}, m[CheckIngestRatio])
	require.True(t, m[CheckRequestP99].Pass, "25 ms meets ≤ 25 ms")
	require.Equal(t, Check{Name: CheckIdleRSS, Value: 25.1, Op: "<=", Target: 25, Unit: "MB"}, m[CheckIdleRSS])
	require.NotContains(t, m, CheckCPUPerWebhook, "CPU per webhook is shown, not checked, in ingest mode")
	require.Empty(t, r.Notes)
	r.IngestRatio = 0.399
	r.evaluate()
	require.False(t, checkMap(r)[CheckIngestRatio].Pass)

	// Ingest on PostgreSQL: the ratio target is SQLite's only; another concurrency is noted.
	r.Database, r.Concurrency = "postgres", 32
	r.evaluate()
	m = checkMap(r)
	require.NotContains(t, m, CheckIngestRatio)
	require.Contains(t, m, CheckRequestP99)
	require.Len(t, r.Notes, 1)
	require.Contains(t, r.Notes[0], "concurrency 64")

	// e2e at C=16 on SQLite: accepted ≥ 25 % of bare, delivered ≥ 35 % of the forwarder,
	// CPU per webhook ≤ 150 µs, no loss, no duplicate.
	r = e2e("sqlite", 16, 0)
	r.evaluate()
	m = checkMap(r)
	require.Equal(t, Check{Name: CheckIngestRatio, Value: 25, Op: ">=", Target: 25, Unit: "%", Pass: true}, m[CheckIngestRatio])
	require.Equal(t, Check{Name: CheckDeliveryRatio, Value: 30, Op: ">=", Target: 35, Unit: "%"}, m[CheckDeliveryRatio])
	require.Equal(t, Check{Name: CheckCPUPerWebhook, Value: 150, Op: "<=", Target: 150, Unit: "µs", Pass: true}, m[CheckCPUPerWebhook])
	require.False(t, m[CheckDuplicates].Pass)
	require.True(t, m[CheckLost].Pass)
	require.NotContains(t, m, CheckRequestP99, "the p99 target is ingest's")
	require.NotContains(t, m, CheckE2EP50, "latency targets apply at a fixed rate")
	require.Empty(t, r.Notes)

	// e2e at C=64 on PostgreSQL: the forwarder target is 25 %; no accepted/s target.
	r = e2e("postgres", 64, 0)
	r.evaluate()
	m = checkMap(r)
	require.Equal(t, Check{Name: CheckDeliveryRatio, Value: 30, Op: ">=", Target: 25, Unit: "%", Pass: true}, m[CheckDeliveryRatio])
	require.NotContains(t, m, CheckIngestRatio)
	require.Contains(t, m, CheckCPUPerWebhook)
	require.Contains(t, strings.Join(r.Notes, "\n"), "concurrency 16")

	// e2e at 500/s: p50 ≤ 5 ms and p99 ≤ 25 ms; no rate or CPU target.
	r = e2e("sqlite", 64, 500)
	r.evaluate()
	m = checkMap(r)
	require.True(t, m[CheckE2EP50].Pass)
	require.Equal(t, Check{Name: CheckE2EP99, Value: 25.01, Op: "<=", Target: 25, Unit: "ms"}, m[CheckE2EP99])
	require.NotContains(t, m, CheckDeliveryRatio)
	require.NotContains(t, m, CheckCPUPerWebhook)
	require.NotContains(t, m, CheckIngestRatio)
	require.Empty(t, r.Notes)
	r.Rate = 400
	r.evaluate()
	require.Contains(t, strings.Join(r.Notes, "\n"), "500 webhooks/s")

	// A target server: no server figures, so no memory, start or CPU checks.
	r = e2e("sqlite", 16, 0)
	r.Server = nil
	r.evaluate()
	m = checkMap(r)
	for _, name := range []string{CheckIdleRSS, CheckStartToReady, CheckPeakRSS, CheckCPUPerWebhook} {
		require.NotContains(t, m, name)
	}
}

func TestMicrosPer(t *testing.T) {
	t.Parallel()
	require.Equal(t, 150.0, microsPer(3, 20000))
	require.Equal(t, 333.3, microsPer(1, 3000))
	require.Zero(t, microsPer(3, 0))
}

func TestSuitePlans(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Mode, cfg.Concurrency, cfg.Rate = ModeIngest, 3, 7 // replaced by the suite
	plans := suitePlans(cfg)
	var got []string
	for _, p := range plans {
		got = append(got, fmt.Sprintf("%s: %s c=%d rate=%g events=%d", p.label, p.cfg.Mode, p.cfg.Concurrency, p.cfg.Rate, p.cfg.Events))
	}
	require.Equal(t, []string{
		"e2e C=16: e2e c=16 rate=0 events=20000",
		"e2e C=64: e2e c=64 rate=0 events=20000",
		"e2e 500/s: e2e c=64 rate=500 events=5000",
		"ingest C=64: ingest c=64 rate=0 events=20000",
	}, got, "e2e runs first: an ingest run leaves queued runs in a shared database")
	cfg.Events = 300
	require.Equal(t, 300, suitePlans(cfg)[2].cfg.Events)

	cfg.Target, cfg.Token = "http://127.0.0.1:1", "t"
	require.Error(t, ValidateSuite(cfg), "a suite starts its own servers")
	require.Error(t, ValidateSuite(Config{Events: -1}))
	require.NoError(t, ValidateSuite(Config{Events: 10}))
}

// TestSuiteTable builds the combined table from reports as the runs return them: a
// figure a run does not measure reads "–", a figure without a target in that run has
// no verdict, and every check of every run is counted.
func TestSuiteTable(t *testing.T) {
	t.Parallel()
	srv := func(cpu float64) *ServerStats {
		return &ServerStats{StartToReadyMs: 100, IdleRSSMB: 24, PeakRSSMB: 45, CPUPerWebhookUs: cpu}
	}
	ingest := &Report{Mode: ModeIngest, Database: "sqlite", Events: 20000, Concurrency: 64, Server: srv(90),
		Ingest: LoadStats{AcceptedPerSec: 9000, RequestLatency: Latency{P99: 20}}, Bare: &BaselineStats{}, IngestRatio: 0.45}
	e2e := func(c int, rate float64, cpu float64) *Report {
		return &Report{Mode: ModeE2E, Database: "sqlite", Events: 20000, Concurrency: c, Rate: rate, Server: srv(cpu),
			Ingest:   LoadStats{AcceptedPerSec: 3000, RequestLatency: Latency{P99: 30}},
			Delivery: &DeliveryStats{DeliveredPerSec: 1500, Latency: Latency{P50: 4, P99: 30}},
			Bare:     &BaselineStats{}, Forwarder: &BaselineStats{Delivery: &DeliveryStats{}},
			IngestRatio: 0.2, DeliveryRatio: 0.4}
	}
	s := &SuiteReport{Database: "sqlite", Seconds: 61, Runs: []SuiteRun{
		{"ingest C=64", ingest}, {"e2e C=16", e2e(16, 0, 140)}, {"e2e C=64", e2e(64, 0, 200)}, {"e2e 500/s", e2e(64, 500, 900)}}}
	for _, run := range s.Runs {
		run.Report.evaluate()
	}
	var b bytes.Buffer
	require.NoError(t, s.WriteText(&b))
	out := b.String()
	line := lineOf(out)
	cells := func(prefix string) []string {
		l := line(prefix)
		require.NotEmpty(t, l, "no row %q in\n%s", prefix, out)
		return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(l), -1)
	}
	require.Contains(t, line("FIGURE"), "INGEST C=64")
	require.Equal(t, []string{"ours / bare 202 handler", "45% PASS, stretch MISS", "20% MISS", "20%", "–",
		"≥ 40% (stretch 50%) (ingest C=64); ≥ 25% (e2e C=16)"}, cells("ours / bare"))
	require.Equal(t, []string{"delivered/s", "–", "1,500/s", "1,500/s", "1,500/s"}, cells("delivered/s"))
	require.Equal(t, []string{"ours / Go forwarder", "–", "40% PASS", "40% PASS", "–", "≥ 35% (e2e C=16, e2e C=64)"}, cells("ours / Go forwarder"))
	require.Equal(t, []string{"end-to-end p99", "–", "30.00 ms", "30.00 ms", "30.00 ms MISS", "≤ 25 ms (e2e 500/s)"}, cells("end-to-end p99"))
	require.Equal(t, []string{"server CPU per webhook", "90.0 µs", "140.0 µs PASS", "200.0 µs MISS", "900.0 µs",
		"≤ 150 µs (e2e C=16, e2e C=64)"}, cells("server CPU per webhook"))
	require.Equal(t, []string{"idle RSS", "24.0 MB PASS", "24.0 MB PASS", "24.0 MB PASS", "24.0 MB PASS", "≤ 25 MB"}, cells("idle RSS"))
	require.Equal(t, []string{"request p99", "20.00 ms PASS", "30.00 ms", "30.00 ms", "30.00 ms", "≤ 25 ms (ingest C=64)"}, cells("request p99"))

	checks := s.Checks()
	missed := 0
	for _, c := range checks {
		if !c.Pass {
			missed++
		}
	}
	require.Equal(t, 3, missed, "e2e C=16 accepted ratio, e2e C=64 CPU, e2e 500/s p99")
	require.Contains(t, out, fmt.Sprintf("%d target(s) met, 3 missed", len(checks)-3))
	require.Contains(t, out, "missed: accepted/s vs bare 202 (e2e C=16), server CPU per webhook (e2e C=64), end-to-end p99 (e2e 500/s)")
	require.False(t, s.Passed())

	js, err := json.Marshal(s)
	require.NoError(t, err)
	require.Contains(t, string(js), `"label":"e2e 500/s"`)
}

func TestRunE2E(t *testing.T) {
	t.Parallel()
	bin := clitest.Binary(t)
	cfg := DefaultConfig()
	cfg.Binary = bin
	cfg.Mode = ModeE2E
	cfg.Events = 300
	cfg.Concurrency = 8
	cfg.Timeout = 90 * time.Second
	cfg.DrainTimeout = 30 * time.Second
	var log bytes.Buffer
	rep, err := Run(context.Background(), cfg, &log)
	require.NoError(t, err, log.String())

	require.Equal(t, "sqlite", rep.Database)
	require.Equal(t, 300, rep.Ingest.Sent)
	require.Equal(t, 300, rep.Ingest.Accepted, "%+v", rep.Ingest)
	require.Positive(t, rep.Ingest.AcceptedPerSec)
	require.Equal(t, 300, rep.Ingest.RequestLatency.Count)

	d := rep.Delivery
	require.NotNil(t, d)
	require.Equal(t, 150, d.Expected)
	require.Equal(t, 150, d.Delivered)
	require.Zero(t, d.Lost)
	require.Zero(t, d.Duplicates)
	require.Zero(t, d.Unexpected, "filtered events are not delivered")
	require.Positive(t, d.DeliveredPerSec)
	require.Equal(t, 150, d.Latency.Count)
	require.Positive(t, d.Latency.P50)

	require.NotNil(t, rep.Bare)
	require.NotNil(t, rep.Forwarder)
	require.Equal(t, 150, rep.Forwarder.Delivery.Delivered)
	require.Positive(t, rep.IngestRatio)
	require.Positive(t, rep.DeliveryRatio)

	s := rep.Server
	require.NotNil(t, s)
	require.Positive(t, s.StartToReadyMs)
	require.Positive(t, s.IdleRSSMB)
	require.Positive(t, s.IdleAnonMB)
	require.Positive(t, s.IdleFileMB)
	require.InDelta(t, s.IdleRSSMB, s.IdleAnonMB+s.IdleFileMB, 1, "VmRSS is RssAnon + RssFile (+ RssShmem)")
	require.GreaterOrEqual(t, s.PeakRSSMB, s.IdleRSSMB)
	require.Positive(t, s.CPUSeconds)

	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
	}
	require.Subset(t, names, []string{CheckStartToReady, CheckIdleRSS, CheckPeakRSS, CheckDeliveryRatio,
		CheckCPUPerWebhook, CheckLost, CheckDuplicates})
	require.Positive(t, s.CPUPerWebhookUs)
	require.Positive(t, s.CPUPerDeliveryUs)
	requireCountersCover(t, s.Counters, d.Delivered)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.Contains(t, text.String(), "ours / forwarder")
	require.Contains(t, text.String(), "claims (runs claimed) / dispatched")
}

// requireCountersCover checks the server's run counters against the deliveries: every
// delivered run reached a worker through a claim or directly, and runs claimed need
// claims.
func requireCountersCover(t *testing.T, c *RunCounters, delivered int) {
	t.Helper()
	require.NotNil(t, c, "an e2e run reads the server's counters")
	require.GreaterOrEqual(t, c.RunsClaimed+c.RunsDispatched, int64(delivered), "%+v", *c)
	if c.RunsClaimed > 0 {
		require.Positive(t, c.Claims, "%+v", *c)
	}
}

// parseRunCounters is what counters makes of a /metrics answer.
func parseRunCounters(text string) RunCounters {
	m, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		panic(err)
	}
	return runCountersOf(m)
}

// TestParseRunCounters reads the counters out of an exposition with their neighbours:
// help and type lines, labelled series and names that only start alike.
func TestParseRunCounters(t *testing.T) {
	t.Parallel()
	text := `# HELP hookflow_claims_total Claim transactions by this process's workers.
# TYPE hookflow_claims_total counter
hookflow_claims_total 5007
hookflow_claims_total_extra 1
hookflow_runs_claimed_total 12
# TYPE hookflow_runs_dispatched_total counter
hookflow_runs_dispatched_total 1.5e+06
hookflow_runs_finished_total{status="filtered"} 15000
hookflow_runs_dispatched_total_bucket{le="1"} 3
`
	require.Equal(t, RunCounters{Claims: 5007, RunsClaimed: 12, RunsDispatched: 1_500_000}, parseRunCounters(text))
	require.Equal(t, RunCounters{}, parseRunCounters("# nothing here\n"))
	require.Equal(t, "5,007 (12) / 1,500,000", parseRunCounters(text).String())
}

// TestRunSuite runs the whole suite with few events on SQLite and on one shared
// PostgreSQL schema: four real servers one after another, each run complete, no loss
// and no duplicate, and a table with a column per run.
func TestRunSuite(t *testing.T) {
	t.Parallel()
	bin := clitest.Binary(t)
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Binary = bin
			cfg.Events = 120
			cfg.Timeout = 90 * time.Second
			cfg.DrainTimeout = 30 * time.Second
			if d == store.Postgres {
				cfg.DatabaseURL = storetest.URL(t, d)
			}
			var log bytes.Buffer
			s, err := Suite(context.Background(), cfg, &log)
			require.NoError(t, err, log.String())
			require.Equal(t, string(d), s.Database)
			require.Len(t, s.Runs, 4)
			for i, label := range []string{"ingest C=64", "e2e C=16", "e2e C=64", "e2e 500/s"} {
				run := s.Runs[i]
				require.Equal(t, label, run.Label)
				r := run.Report
				require.Equal(t, string(d), r.Database)
				require.Equal(t, 120, r.Ingest.Accepted, "%s: %+v", label, r.Ingest)
				require.NotNil(t, r.Server)
				require.Positive(t, r.Server.IdleRSSMB)
				require.NotNil(t, r.Bare)
				if r.Mode == ModeE2E {
					require.Equal(t, 60, r.Delivery.Delivered, label)
					require.Zero(t, r.Delivery.Lost, label)
					require.Zero(t, r.Delivery.Duplicates, label)
					require.Positive(t, r.Server.CPUPerDeliveryUs, label)
					requireCountersCover(t, r.Server.Counters, r.Delivery.Delivered)
				}
			}
			require.Equal(t, 500.0, s.Runs[3].Report.Rate)
			require.Equal(t, 16, s.Runs[1].Report.Concurrency)
			require.Contains(t, checkMap(s.Runs[1].Report), CheckIngestRatio, "the C=16 run has the accepted/s target")
			require.Contains(t, checkMap(s.Runs[3].Report), CheckE2EP99)
			if d == store.Postgres {
				require.NotEmpty(t, s.Notes, "the shared database is noted")
			}

			var text bytes.Buffer
			require.NoError(t, s.WriteText(&text))
			out := text.String()
			require.Contains(t, out, "E2E 500/S")
			require.Contains(t, out, "target(s) met")
			require.Equal(t, []string{"delivered/s", "–"}, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(lineOf(out)("delivered/s")), -1)[:2],
				"the ingest run delivers nothing")
		})
	}
}

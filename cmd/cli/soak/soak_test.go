package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
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

// synthetic returns n windows' times (every 10 s) and values f(i) plus uniform noise of
// ±noise, from a seeded source so a failure can be replayed.
func synthetic(n int, noise float64, f func(i int) float64) (ts, ys []float64) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		ts = append(ts, float64(10*(i+1)))
		ys = append(ys, f(i)+(r.Float64()*2-1)*noise)
	}
	return ts, ys
}

func TestFlatRules(t *testing.T) {
	t.Parallel()
	// An hour of 10 s windows.
	const n = 360

	// RSS around 60 MB with ±4 MB of noise and a GC sawtooth: flat.
	ts, ys := synthetic(n, 4, func(i int) float64 { return 60 + float64(i%30)/10 })
	v := Flat(CheckRSS, "MB", ts, ys, RuleRSS)
	require.True(t, v.Pass, v.Detail)
	require.InDelta(t, 12, v.Allowed, 1, "20 %% of ~61 MB beats the 8 MB floor")

	// RSS leaking 100 KB a window: 36 MB over the hour.
	ts, ys = synthetic(n, 4, func(i int) float64 { return 60 + 0.1*float64(i) })
	v = Flat(CheckRSS, "MB", ts, ys, RuleRSS)
	require.False(t, v.Pass, v.Detail)
	require.Greater(t, v.Last-v.First, v.Allowed)

	// A small server (20 MB) may grow by the 8 MB floor, not just 20 % (4 MB).
	ts, ys = synthetic(n, 1, func(i int) float64 { return 20 + 6*float64(i)/n })
	v = Flat(CheckRSS, "MB", ts, ys, RuleRSS)
	require.True(t, v.Pass, v.Detail)
	require.Equal(t, 8.0, v.Allowed)

	// A steady climb of 15 MB over the run: the thirds' medians are two thirds of it
	// apart, within the allowance, but the line fitted through every window shows the
	// whole rise.
	ts, ys = synthetic(n, 0.5, func(i int) float64 { return 60 + 15*float64(i)/n })
	v = Flat(CheckRSS, "MB", ts, ys, RuleRSS)
	require.True(t, v.Last-v.First <= v.Allowed, "the medians alone pass: %s", v.Detail)
	require.False(t, v.Pass, "the trend over the whole run does not: %s", v.Detail)

	// Goroutines: steady at ~40 with ±5 passes; one leaked per minute fails.
	ts, ys = synthetic(n, 5, func(int) float64 { return 40 })
	v = Flat(CheckGoroutines, "", ts, ys, RuleGoroutines)
	require.True(t, v.Pass, v.Detail)
	ts, ys = synthetic(n, 5, func(i int) float64 { return 40 + float64(i/6) })
	v = Flat(CheckGoroutines, "", ts, ys, RuleGoroutines)
	require.False(t, v.Pass, v.Detail)

	// Open files: a descriptor leaked every two minutes fails.
	ts, ys = synthetic(n, 1, func(i int) float64 { return 25 + float64(i/12) })
	v = Flat(CheckOpenFiles, "", ts, ys, RuleOpenFiles)
	require.False(t, v.Pass, v.Detail)

	// Latency: p99 noisy between 3 and 30 ms with rare spikes passes; p99 climbing
	// from 5 to 200 ms fails.
	ts, ys = synthetic(n, 12, func(i int) float64 {
		if i%50 == 7 {
			return 400 // a GC pause or a busy neighbour, once in a while
		}
		return 16
	})
	v = Flat(CheckRequestP99, "ms", ts, ys, RuleLatency)
	require.True(t, v.Pass, v.Detail)
	ts, ys = synthetic(n, 2, func(i int) float64 { return 5 + 195*float64(i)/n })
	v = Flat(CheckRequestP99, "ms", ts, ys, RuleLatency)
	require.False(t, v.Pass, v.Detail)

	// Falling series always pass.
	ts, ys = synthetic(n, 1, func(i int) float64 { return 100 - 50*float64(i)/n })
	require.True(t, Flat(CheckRSS, "MB", ts, ys, RuleRSS).Pass)

	// Too few windows decide nothing: a failure, never a silent pass.
	v = Flat(CheckRSS, "MB", ts[:MinWindows-1], ys[:MinWindows-1], RuleRSS)
	require.False(t, v.Pass)
	require.Contains(t, v.Detail, "too few windows")
}

func TestMedianAndSlope(t *testing.T) {
	t.Parallel()
	xs := []float64{5, 1, 3}
	require.Equal(t, 3.0, median(xs))
	require.Equal(t, []float64{5, 1, 3}, xs, "not sorted in place")
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	require.Zero(t, median(nil))
	require.InDelta(t, 2.0, lsSlope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}), 1e-9)
	require.Zero(t, lsSlope([]float64{1, 1}, []float64{1, 5}))
}

// windows returns n synthetic windows every 10 s; the first warm are warm-up.
func windows(n, warm int, f func(i int, w *Window)) []Window {
	var ws []Window
	for i := range n {
		w := Window{T: float64(10 * (i + 1)), Warmup: i < warm, RSSMB: 60, Goroutines: 30, OpenFiles: 20,
			Queue: 0, ReqP50: 1, ReqP95: 2, ReqP99: 4, E2EP50: 3, E2EP99: 8, Requests: 500}
		f(i, &w)
		ws = append(ws, w)
	}
	return ws
}

func verdicts(r *Report) map[string]Verdict {
	m := map[string]Verdict{}
	for _, v := range r.Verdicts {
		m[v.Name] = v
	}
	return m
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	good := func() *Report {
		return &Report{Completed: true, LoadSeconds: 600,
			Totals:  tally{Sent: 30000, Accepted: 30000, Expected: 27000, Delivered: 27000, Ticks: 60},
			Windows: windows(60, 6, func(int, *Window) {})}
	}
	r := good()
	r.evaluate()
	require.True(t, r.Pass, "%+v", r.Verdicts)
	require.Len(t, r.Verdicts, 11)

	// Warm-up windows do not count: a server growing during warm-up and flat after passes.
	r = good()
	r.Windows = windows(60, 6, func(i int, w *Window) {
		if w.Warmup {
			w.RSSMB, w.Goroutines, w.ReqP99 = 10+float64(i)*8, 5, 500
		}
	})
	r.evaluate()
	require.True(t, r.Pass, "%+v", r.Verdicts)

	// Missing values (-1: a failed scrape, a window without deliveries) are left out of
	// the series; the scrape's failure still counts as an error.
	r = good()
	r.Windows = windows(60, 6, func(i int, w *Window) {
		if i == 30 {
			w.Goroutines, w.RSSMB, w.E2EP99, w.Errors = -1, -1, -1, 1
		}
	})
	r.evaluate()
	v := verdicts(r)
	require.True(t, v[CheckGoroutines].Pass)
	require.True(t, v[CheckRSS].Pass)
	require.False(t, v[CheckErrors].Pass)
	require.False(t, r.Pass)

	// A goroutine leak after warm-up fails that check alone.
	r = good()
	r.Windows = windows(60, 6, func(i int, w *Window) { w.Goroutines = 30 + float64(i) })
	r.evaluate()
	v = verdicts(r)
	require.False(t, v[CheckGoroutines].Pass, v[CheckGoroutines].Detail)
	require.True(t, v[CheckRSS].Pass)
	require.False(t, r.Pass)

	// End-to-end latency blowing up (a queue that grows) fails both.
	r = good()
	r.Windows = windows(60, 6, func(i int, w *Window) { w.E2EP99, w.Queue = 8+float64(i*i), float64(i*i) })
	r.evaluate()
	v = verdicts(r)
	require.False(t, v[CheckE2EP99].Pass)
	require.False(t, v[CheckQueue].Pass)

	// Lost, duplicate and unexpected deliveries and missing ticks fail.
	r = good()
	r.Totals.Lost, r.Totals.Delivered = 1, 26999
	r.evaluate()
	require.False(t, verdicts(r)[CheckLost].Pass)
	for _, edit := range []func(*tally){
		func(t *tally) { t.Duplicates = 1 }, func(t *tally) { t.DuplicateTicks = 1 }, func(t *tally) { t.Invalid = 1 },
	} {
		r = good()
		edit(&r.Totals)
		r.evaluate()
		require.False(t, verdicts(r)[CheckDuplicates].Pass)
	}
	r = good()
	r.Totals.Ticks = 50
	r.evaluate()
	require.False(t, verdicts(r)[CheckTicks].Pass)

	// An interrupted run fails, and its losses are not judged.
	r = good()
	r.Completed, r.Interrupted = false, "context canceled"
	r.Totals.Lost = 100
	r.evaluate()
	v = verdicts(r)
	require.False(t, v[CheckCompleted].Pass)
	require.Equal(t, "context canceled", v[CheckCompleted].Detail)
	require.Contains(t, v[CheckLost].Detail, "not checked")
	require.False(t, r.Pass)

	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	require.Contains(t, text.String(), "FAIL  run completed")
	require.Contains(t, text.String(), "verdict: FAIL")
	require.Len(t, regexp.MustCompile(`(?m)^ *\*\d+ `).FindAllString(text.String(), -1), 6, "warm-up windows are marked:\n%s", text.String())
}

func TestSVG(t *testing.T) {
	t.Parallel()
	r := &Report{Completed: true, Database: "sqlite", Config: Config{Duration: 10 * time.Minute, Rate: 50},
		Windows: windows(60, 6, func(i int, w *Window) {
			w.RSSMB = 60 + float64(i%7)
			if i == 20 {
				w.E2EP99 = -1 // a gap, left out of the line
			}
		})}
	r.Database = `a<b&"c"` // escaped, not breaking the XML
	r.evaluate()
	var b bytes.Buffer
	require.NoError(t, r.WriteSVG(&b))

	dec := xml.NewDecoder(&b)
	var panels, polylines []string
	depth, inPanel := 0, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "well-formed XML")
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				require.Equal(t, "svg", el.Name.Local)
				require.Equal(t, "http://www.w3.org/2000/svg", el.Name.Space)
			}
			attr := map[string]string{}
			for _, a := range el.Attr {
				attr[a.Name.Local] = a.Value
			}
			if el.Name.Local == "g" && attr["class"] == "panel" {
				panels = append(panels, attr["id"])
				inPanel = attr["id"]
			}
			if el.Name.Local == "polyline" {
				polylines = append(polylines, inPanel)
				require.NotEmpty(t, attr["points"])
			}
		case xml.EndElement:
			depth--
		}
	}
	require.Zero(t, depth)
	require.Equal(t, []string{"rss", "goroutines", "open-files", "latency"}, panels)
	require.Equal(t, []string{"rss", "goroutines", "open-files", "latency", "latency", "latency", "latency"}, polylines)
	var raw bytes.Buffer
	require.NoError(t, r.WriteSVG(&raw))
	require.Contains(t, raw.String(), "a&lt;b&amp;")
	require.NotContains(t, raw.String(), "http://"+"www.example", "self-contained")
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
hookflow_queue_depth 3
hookflow_step_retries_total{uses="http.request"} 5
hookflow_step_retries_total{uses="weird label } with space"} 2
process_resident_memory_bytes 6.5e+07
process_open_fds 17
go_goroutines_other 1
`
	s, err := parseMetrics(strings.NewReader(text))
	require.NoError(t, err)
	require.Equal(t, scrape{goroutines: 42, queue: 3, retries: 7, rss: 6.5e7, fds: 17}, s)
	_, err = parseMetrics(strings.NewReader("process_open_fds 3\n"))
	require.Error(t, err, "an answer without go_goroutines is not a Hookflow /metrics")
}

func TestSinkFaultsAndAccounting(t *testing.T) {
	t.Parallel()
	tr := newTracker(0.5, 0.2, 20*time.Millisecond)
	srv := httptest.NewServer(tr)
	defer srv.Close()
	post := func(path, body string) int {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().UnixNano()
	// Events 0..199 to the flaky workflow; the shares pick which fail first.
	failing := 0
	for id := range int64(200) {
		tr.register(id+10, wfFlaky, true, now)
		tr.answered(id+10, true, time.Millisecond)
		first := post("/flaky", `{"id":"`+itoa(id+10)+`"}`)
		if share(id+10, 1) < 0.5 {
			failing++
			require.Equal(t, http.StatusInternalServerError, first)
			require.Equal(t, http.StatusOK, post("/flaky", `{"id":`+itoa(id+10)+`}`), "the retry succeeds")
		} else {
			require.Equal(t, http.StatusOK, first)
		}
	}
	require.InDelta(t, 100, failing, 30, "about half fail their first attempt")

	// An orders event filtered out and one passing; a chain with one step missing; a
	// duplicate; an unknown id; a tick twice.
	tr.register(1, wfOrders, false, now)
	tr.answered(1, true, time.Millisecond)
	tr.register(2, wfOrders, true, now)
	tr.answered(2, true, time.Millisecond)
	tr.register(3, wfChain, true, now)
	tr.answered(3, true, time.Millisecond)
	require.Equal(t, http.StatusOK, post("/orders", `{"id":2}`))
	require.Equal(t, http.StatusOK, post("/orders", `{"id":2}`))
	require.Equal(t, http.StatusOK, post("/chain-a", `{"id":3}`))
	require.Equal(t, http.StatusBadRequest, post("/orders", `{"id":99999}`))
	require.Equal(t, http.StatusBadRequest, post("/nope", `{"id":2}`))
	require.Equal(t, http.StatusOK, post("/tick", `{"tick":"t1"}`))
	require.Equal(t, http.StatusOK, post("/tick", `{"tick":"t1"}`))

	got := tr.tally()
	require.Equal(t, tally{Sent: 203, Accepted: 203, Expected: 200 + 1 + 2, Delivered: 200 + 1 + 1, Lost: 1,
		Duplicates: 1, Invalid: 2, Ticks: 1, DuplicateTicks: 1}, got)
	w := tr.take()
	require.Len(t, w.req, 203)
	require.Len(t, w.e2e, 1, "end-to-end latency is of the orders deliveries")
	require.Equal(t, 202, w.delivered, "first deliveries only")
	require.Empty(t, tr.take().req, "take starts a new window")
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }

func TestConfig(t *testing.T) {
	t.Parallel()
	c, err := Config{Duration: 2 * time.Minute, Rate: 30, Binary: "x"}.normalize()
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, c.Interval)
	require.Equal(t, 12*time.Second, c.Warmup)
	require.Equal(t, ConcurrencyDefault, c.Concurrency)
	c, err = Config{Duration: time.Hour, Rate: 50, Binary: "x"}.normalize()
	require.NoError(t, err)
	require.Equal(t, IntervalMax, c.Interval)
	require.Equal(t, WarmupMax, c.Warmup)
	c, err = Config{Duration: 15 * time.Second, Rate: 10, Binary: "x"}.normalize()
	require.NoError(t, err)
	require.Equal(t, IntervalMin, c.Interval)

	for _, bad := range []Config{
		{Duration: 0, Rate: 1}, {Duration: time.Minute, Rate: 0}, {Duration: time.Minute, Rate: -1},
		{Duration: time.Minute, Rate: 1, Warmup: time.Minute}, {Duration: time.Minute, Rate: 1, FailShare: 2},
		{Duration: time.Minute, Rate: 1, Interval: 2 * time.Minute}, {Duration: time.Minute, Rate: 1, Token: "t"},
		{Duration: time.Minute, Rate: 1, Target: "http://127.0.0.1:8080"},
		{Duration: time.Minute, Rate: 1, Target: "http://10.0.0.1:8080", Token: "t"},
		{Duration: time.Minute, Rate: 1, DatabaseURL: "mysql://x"},
	} {
		require.Error(t, bad.Validate(), "%+v", bad)
	}
	c, err = Config{Duration: time.Minute, Rate: 1, Target: "http://[::1]:8080/", Token: "t"}.normalize()
	require.NoError(t, err)
	require.Equal(t, "http://[::1]:8080", c.Target)
}

// TestRunShort soaks a real server process for 15 s at a low rate.
func TestRunShort(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Binary = clitest.Binary(t)
	cfg.Duration = 15 * time.Second
	cfg.Rate = 10
	cfg.DrainTimeout = 30 * time.Second
	var log bytes.Buffer
	rep, err := Run(context.Background(), cfg, &log)
	require.NoError(t, err, log.String())
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.True(t, rep.Pass, "%s\n%s", text.String(), log.String())
	require.True(t, rep.Completed)
	require.Equal(t, "sqlite", rep.Database)
	require.Positive(t, rep.PID)

	require.GreaterOrEqual(t, len(rep.Windows), 12)
	measured := 0
	for _, w := range rep.Windows {
		require.Positive(t, w.RSSMB, "%+v", w)
		require.Positive(t, w.Goroutines)
		require.Positive(t, w.OpenFiles)
		require.Positive(t, w.Requests)
		if !w.Warmup {
			measured++
		}
	}
	require.GreaterOrEqual(t, measured, MinWindows)
	tot := rep.Totals
	require.InDelta(t, 150, tot.Sent, 15)
	require.Equal(t, tot.Sent, tot.Accepted)
	require.Positive(t, tot.Delivered)
	require.Equal(t, tot.Expected, tot.Delivered)
	require.Zero(t, tot.Lost)
	require.Zero(t, tot.Duplicates)
	require.Positive(t, rep.Retries, "the flaky sink's 500s were retried")
	require.Positive(t, tot.Ticks, "the schedule fired")
	for _, v := range rep.Verdicts {
		require.True(t, v.Pass, "%s: %s", v.Name, v.Detail)
	}
	_, err = os.Stat("/proc/" + itoa(int64(rep.PID)))
	require.True(t, os.IsNotExist(err), "the server process is gone")
}

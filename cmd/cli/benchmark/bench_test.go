package benchmark

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
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
		Server: &ServerStats{StartToReadyMs: 120, IdleRSSMB: 20, PeakRSSMB: 200, CPUSeconds: 3},
		Ingest: LoadStats{Sent: 20000, Accepted: 19990, ErrorCount: 10, Errors: map[string]int{"503": 10},
			AcceptedPerSec: 12345.6, RequestLatency: Latency{P50: 1, P90: 2, P99: 30, Max: 40}},
		Bare:        &BaselineStats{Load: LoadStats{AcceptedPerSec: 30000}},
		IngestRatio: 0.4115}
	r.evaluate()
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	out := b.String()
	for _, want := range []string{"12,346/s", "≥ 10,000/s", "10 (10× 503)", "41.2%", "≥ 35%"} {
		require.Contains(t, out, want)
	}
	lines := strings.Split(out, "\n")
	line := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l
			}
		}
		return ""
	}
	require.True(t, strings.HasSuffix(line("peak RSS"), "MISS"), line("peak RSS"))
	require.True(t, strings.HasSuffix(line("request p99"), "MISS"))
	require.True(t, strings.HasSuffix(line("accepted/s"), "PASS"))
	require.True(t, strings.HasSuffix(line("start to ready"), "PASS"))
	require.Contains(t, out, "4 target(s) met, 2 missed")
	require.False(t, r.Passed())

	js, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(js), `"accepted_per_sec":12345.6`)
	require.Contains(t, string(js), `"checks":[`)
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
	require.GreaterOrEqual(t, s.PeakRSSMB, s.IdleRSSMB)
	require.Positive(t, s.CPUSeconds)

	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
	}
	require.Subset(t, names, []string{CheckStartToReady, CheckIdleRSS, CheckPeakRSS, CheckDeliveredRate,
		CheckDeliveryRatio, CheckLost, CheckDuplicates})
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.Contains(t, text.String(), "ours / forwarder")
}

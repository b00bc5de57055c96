//go:build unix

package runner_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookflow/hookflow/connectors"
	_ "github.com/hookflow/hookflow/connectors/http" // registers http.request
	"github.com/hookflow/hookflow/engine/queue"
	"github.com/hookflow/hookflow/engine/runner"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// nopStore accepts every write, so the benchmark measures the runner's own work.
type nopStore struct{ finished atomic.Int64 }

func (s *nopStore) GetEvent(context.Context, string) (*store.Event, error) {
	return nil, errors.New("the benchmark's runs carry their event")
}
func (s *nopStore) ListStepRuns(context.Context, string) ([]store.StepRun, error) { return nil, nil }
func (s *nopStore) SaveStep(context.Context, store.Lease, *store.StepRun, int, time.Time, time.Time) (bool, error) {
	return false, nil
}
func (s *nopStore) SuspendRun(context.Context, store.Lease, *store.StepRun, time.Time, time.Time) error {
	return errors.New("unexpected suspend")
}
func (s *nopStore) ReleaseRun(context.Context, store.Lease, time.Time) error { return nil }
func (s *nopStore) FinishRun(_ context.Context, _ store.Lease, out store.Outcome) error {
	if out.Status != store.RunSucceeded && out.Status != store.RunFiltered {
		return fmt.Errorf("run ended %s: %s", out.Status, out.Error)
	}
	s.finished.Add(1)
	return nil
}

// BenchmarkExecute runs the e2e workflow of `hookflow bench` (filter amount > 100, then
// an http.request POST to a sink on loopback) without a database: every other run is
// filtered, as in the bench. Runs go to the worker as directly dispatched runs do
// (queue.Pool's Reserve and Submit). It is the CPU the engine spends per run besides SQL.
func BenchmarkExecute(b *testing.B) {
	var delivered atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		delivered.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer sink.Close()
	def, err := workflow.Parse(fmt.Appendf(nil, `{"name":"bench","trigger":{"type":"webhook"},"filter":"trigger.body.amount > 100",
		"steps":[{"id":"deliver","uses":"http.request","with":{"method":"POST","url":%q,"body":{"id":"{{ trigger.body.id }}","amount":"{{ trigger.body.amount }}"}}}]}`, sink.URL))
	if err != nil {
		b.Fatal(err)
	}
	wf, err := workflow.Compile(def, connectors.Default)
	if err != nil {
		b.Fatal(err)
	}
	st := &nopStore{}
	var ids atomic.Int64
	r := runner.New(runner.Config{
		Store:   st,
		Version: func(context.Context, string, int) (*workflow.Compiled, error) { return wf, nil },
		Lease:   time.Minute,
		NewID:   func() string { return "s" + strconv.FormatInt(ids.Add(1), 10) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	pool := &queue.Pool[*store.Run]{Workers: 2, PollInterval: time.Hour,
		Claim:  func(context.Context, int) ([]*store.Run, error) { return nil, nil },
		Handle: func(ctx context.Context, run *store.Run) { done <- r.Execute(ctx, run) }}
	stopped := make(chan struct{})
	go func() { pool.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	reserve := func() {
		// Of two workers, the one before last is idle again by now, nearly always; a
		// worker gives its slot back just after its job returns.
		for deadline := time.Now().Add(time.Minute); !pool.Reserve(); runtime.Gosched() {
			if time.Now().After(deadline) {
				b.Fatal("no idle worker within a minute")
			}
		}
	}
	now := time.Now().UTC()
	headers := `{"content-type":"application/json","user-agent":"bench/1.0","accept-encoding":"gzip","content-length":"64"}`
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for i := range b.N {
		amount := 50
		if i%2 == 1 {
			amount = 150
		}
		id := "r" + strconv.Itoa(i)
		owner, until := "bench", now.Add(time.Minute)
		run := &store.Run{ID: id, WorkflowID: "wf", Version: 1, Status: store.RunRunning, Attempt: 1,
			LeaseOwner: &owner, LeaseUntil: &until, CreatedAt: now, EventID: &id,
			Event: &store.Event{ID: id, WorkflowID: "wf", ReceivedAt: now, Method: "POST", Headers: headers,
				ContentType: "application/json", Body: fmt.Appendf(nil, `{"id":%d,"amount":%d,"customer":{"name":"A","email":"a@example.com"}}`, i, amount)}}
		reserve()
		pool.Submit(run)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	if got, want := delivered.Load(), int64(b.N/2); got != want {
		b.Fatalf("sink got %d deliveries, want %d", got, want)
	}
	if got := st.finished.Load(); got != int64(b.N) {
		b.Fatalf("%d runs finished, want %d", got, b.N)
	}
}

// processCPU returns the user and system CPU time this process has used: the runner's
// and the sink's, the same sink in every variant compared.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

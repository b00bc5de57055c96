package store_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// BenchmarkIngestEvent stores events with their queued runs from 32 goroutines per CPU,
// through the group committer.
func BenchmarkIngestEvent(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			w := seedWorkflowB(b, s)
			body := []byte(`{"id":1,"amount":150,"email":"lead@example.com"}`)
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					now := time.Now().UTC()
					ev := &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: now, Method: "POST", Headers: "{}",
						ContentType: "application/json", Body: body, BodySize: int64(len(body)), Verdict: store.VerdictAccepted}
					r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: 1, EventID: &ev.ID, Status: store.RunQueued,
						RunAt: now, CreatedAt: now, UpdatedAt: now}
					if err := s.IngestEvent(ctx, ev, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkClaimAndFinish claims queued runs in batches of 8 and finishes each, as a
// worker process does with 8 workers.
func BenchmarkClaimAndFinish(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			w := seedWorkflowB(b, s)
			ctx := context.Background()
			now := time.Now().UTC()
			for range b.N {
				r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: 1, Status: store.RunQueued, RunAt: now, CreatedAt: now, UpdatedAt: now}
				if err := s.CreateRun(ctx, r, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			done := 0
			for done < b.N {
				runs, err := s.ClaimRuns(ctx, "bench", now, now.Add(time.Minute), 8, nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(runs) == 0 {
					b.Fatalf("no run to claim after %d of %d", done, b.N)
				}
				errs := make(chan error, len(runs))
				for _, r := range runs {
					go func() {
						errs <- s.FinishRun(ctx, store.LeaseOf(&r), store.Outcome{Status: store.RunSucceeded, Now: now})
					}()
				}
				for range runs {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
				done += len(runs)
			}
		})
	}
}

func seedWorkflowB(b *testing.B, s *store.Store) *store.Workflow {
	b.Helper()
	now := time.Now().UTC()
	w := &store.Workflow{ID: newID(), Name: "bench", Enabled: true, Version: 1, TriggerType: "webhook",
		HookToken: newID(), CreatedAt: now, UpdatedAt: now}
	if err := s.CreateWorkflow(context.Background(), w,
		&store.WorkflowVersion{WorkflowID: w.ID, Version: 1, Definition: `{}`, CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkCommitPoll commits polls of 100 items of which 10 are new, as a poll of an
// overlapping window does: claim, seen-set insert, 10 events and runs, state update in
// one transaction. Compare its new_items/s with BenchmarkIngestEvent's events per second.
func BenchmarkCommitPoll(b *testing.B) {
	const window, fresh = 100, 10
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			w := seedWorkflowB(b, s)
			ctx := context.Background()
			at := time.Now().UTC()
			if _, err := s.SyncTriggerState(ctx, w.ID, 1, at, at); err != nil {
				b.Fatal(err)
			}
			next := 0 // the newest key so far; each poll returns the last window keys
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				at = at.Add(time.Second)
				if st, err := s.ClaimPoll(ctx, w.ID, "bench", at, at.Add(time.Minute)); err != nil || st == nil {
					b.Fatalf("claim: %v %v", st, err)
				}
				next += fresh
				items := make([]store.PolledItem, 0, window)
				for k := max(0, next-window); k < next; k++ {
					items = append(items, store.PolledItem{Key: fmt.Sprint(k), Started: started(w, at, nil)})
				}
				if _, err := s.CommitPoll(ctx, store.PollSuccess{WorkflowID: w.ID, Owner: "bench", Now: at, NextAt: at, Items: items}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*fresh)/b.Elapsed().Seconds(), "new_items/s")
		})
	}
}

// Retention settings of the pruning benchmark: the engine's batch, its pause between
// batches (at least the time the last batch took: engine/retention.go) and its default
// count bound.
const (
	benchPruneBatch = 50
	benchPrunePause = 5 * time.Millisecond
	benchKeep       = 10_000
	// benchWindow is how long the benchmark prunes, then rests, in turn: webhooks sent in
	// both kinds of window see the same load from the rest of the machine.
	benchWindow = 250 * time.Millisecond
)

// BenchmarkIngestWhilePruning fills a workflow's history with finished runs (each with
// its event and a step record), then stores webhooks through the group committer from
// 32 goroutines per CPU while the pruner cuts the history down to the newest 10,000 runs
// in its batches. The pruner works in windows of 250 ms with rests of the same length
// between them, so each webhook's latency counts either as "pruning" (the pruner was at
// work when it was sent or answered) or as "base", measured in the same run. It reports
// the p99 of both and their ratio (the target is at most 2), and how fast the pruner
// deleted runs. At least b.N webhooks are sent.
//
// The full fill of 50,000 runs happens from -benchtime 1000x up (use 5000x); smaller
// counts, such as the smoke run's 20x, fill a few hundred runs so that it stays quick.
func BenchmarkIngestWhilePruning(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			w := seedWorkflowB(b, s)
			ctx := context.Background()
			now := time.Now().UTC()
			fill := 50_000
			if b.N < 1000 {
				fill = benchKeep/100 + 20*b.N
			}
			keep := min(benchKeep, fill/5)
			fillHistory(b, s, w, fill, now.Add(-time.Hour))

			held, err := s.ClaimLease(ctx, store.RetentionLease, "bench", now, now.Add(time.Hour))
			if err != nil || !held {
				b.Fatalf("claim retention lease: %v %v", held, err)
			}
			f := store.Fence{Name: store.RetentionLease, Owner: "bench", Now: now, Until: now.Add(time.Hour)}
			var (
				pruning   atomic.Bool // the pruner is in a working window
				done      atomic.Bool
				pruned    int64
				pruneBusy time.Duration
				pruneErr  error
				batches   []time.Duration
			)
			b.ResetTimer()
			go func() {
				defer done.Store(true)
				for {
					pruning.Store(true)
					windowEnd := time.Now().Add(benchWindow)
					for time.Now().Before(windowEnd) {
						start := time.Now()
						p, err := s.PruneRuns(ctx, f, w.ID, store.Retention{Before: now.Add(-30 * 24 * time.Hour), Keep: keep}, benchPruneBatch)
						took := time.Since(start)
						batches = append(batches, took)
						pruneBusy += took
						if err != nil {
							pruneErr = err
							return
						}
						pruned += p["runs"]
						if p["runs"] < benchPruneBatch {
							pruning.Store(false)
							return
						}
						time.Sleep(max(benchPrunePause, took))
					}
					pruning.Store(false)
					time.Sleep(benchWindow)
				}
			}()

			body := []byte(`{"id":1,"amount":150,"email":"lead@example.com"}`)
			var mu sync.Mutex
			var base, during []time.Duration
			var sent atomic.Int64
			var wg sync.WaitGroup
			for range 32 * runtime.GOMAXPROCS(0) {
				wg.Go(func() {
					var myBase, myDuring []time.Duration
					for !done.Load() || sent.Load() < int64(b.N) {
						sent.Add(1)
						busy := pruning.Load()
						at := time.Now().UTC()
						ev := &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: at, Method: "POST", Headers: "{}",
							ContentType: "application/json", Body: body, BodySize: int64(len(body)), Verdict: store.VerdictAccepted}
						r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: 1, EventID: &ev.ID, Status: store.RunQueued,
							RunAt: at, CreatedAt: at, UpdatedAt: at}
						if err := s.IngestEvent(ctx, ev, r); err != nil {
							b.Error(err)
							return
						}
						took := time.Since(at)
						if busy || pruning.Load() {
							myDuring = append(myDuring, took)
						} else {
							myBase = append(myBase, took)
						}
					}
					mu.Lock()
					base, during = append(base, myBase...), append(during, myDuring...)
					mu.Unlock()
				})
			}
			wg.Wait()
			b.StopTimer()
			if pruneErr != nil {
				b.Fatal(pruneErr)
			}
			if want := int64(fill - keep); pruned < want {
				b.Fatalf("pruned %d runs, want at least %d", pruned, want)
			}
			p99Base, p99During := percentile(base, 0.99), percentile(during, 0.99)
			b.ReportMetric(float64(p99Base.Microseconds())/1000, "p99-ms-base")
			b.ReportMetric(float64(p99During.Microseconds())/1000, "p99-ms-pruning")
			if p99Base > 0 {
				b.ReportMetric(float64(p99During)/float64(p99Base), "p99-ratio")
			}
			b.ReportMetric(float64(pruned)/pruneBusy.Seconds(), "pruned-runs/busy-s")
			b.ReportMetric(float64(len(base)), "webhooks-base")
			b.ReportMetric(float64(len(during)), "webhooks-pruning")
			b.ReportMetric(float64(percentile(batches, 0.5).Microseconds())/1000, "batch-ms-p50")
			b.ReportMetric(float64(percentile(batches, 1).Microseconds())/1000, "batch-ms-max")
		})
	}
}

// fillHistory stores n finished runs of w, each with its accepted event and one step
// record, ended at at, in a few statements generated by the database itself. Their ids
// sort before any real (UUIDv7) id, as older runs' ids do.
func fillHistory(b *testing.B, s *store.Store, w *store.Workflow, n int, at time.Time) {
	b.Helper()
	// Every ? is bound in order; PostgreSQL gets them numbered and typed.
	series, id, from := "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) ", "printf('0000fill-%s%08d', i)", "g"
	wf, ts := "?", "?"
	if s.Dialect() == store.Postgres {
		series, id, from = "", "'0000fill-%s' || lpad(i::text, 8, '0')", "generate_series(1, ?::int) i"
		wf, ts = "?::text", "?::timestamptz"
	}
	type stmt struct {
		sql  string
		args []any
	}
	withN := func(sql string, args ...any) stmt {
		if s.Dialect() == store.Postgres {
			return stmt{sql, append(args, n)} // the series comes last, in FROM
		}
		return stmt{series + sql, append([]any{n}, args...)}
	}
	for _, st := range []stmt{
		withN(`INSERT INTO events (id, workflow_id, received_at, method, headers, query, content_type, body, verdict, reason, body_size)
			SELECT `+fmt.Sprintf(id, "e")+`, `+wf+`, `+ts+`, 'POST', '{}', '', 'application/json', '{"amount":150}', 'accepted', '', 14 FROM `+from,
			w.ID, at),
		withN(`INSERT INTO runs (id, workflow_id, version, event_id, status, run_at, attempt, step_index, error, created_at, finished_at, updated_at)
			SELECT `+fmt.Sprintf(id, "r")+`, `+wf+`, 1, `+fmt.Sprintf(id, "e")+`, 'succeeded', `+ts+`, 1, 1, '', `+ts+`, `+ts+`, `+ts+` FROM `+from,
			w.ID, at, at, at, at),
		withN(`INSERT INTO step_runs (id, run_id, step_id, position, status, attempts, input, output, error, started_at, finished_at, duration_ms)
			SELECT `+fmt.Sprintf(id, "s")+`, `+fmt.Sprintf(id, "r")+`, 'a', 0, 'succeeded', 1, '{"x":1}', '{"x":1}', '', `+ts+`, `+ts+`, 1 FROM `+from,
			at, at),
	} {
		q := st.sql
		if s.Dialect() == store.Postgres {
			for k := 1; strings.Contains(q, "?"); k++ {
				q = strings.Replace(q, "?", fmt.Sprintf("$%d", k), 1)
			}
		}
		if _, err := s.WriterDB().ExecContext(context.Background(), q, st.args...); err != nil {
			b.Fatalf("fill history: %v", err)
		}
	}
	if s.Dialect() == store.SQLite {
		// Start from a checkpointed WAL, as a long-running server is, rather than make
		// the first webhooks measured pay for the fill's checkpoint.
		if _, err := s.WriterDB().ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatalf("checkpoint after fill: %v", err)
		}
	}
}

// percentile returns the p-th quantile of the latencies.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkRunLifecycle stores one webhook's event and run and ends the run, one at a
// time, as a process at a moderate rate does: "claimed" queues the run, claims it, loads
// its event and finishes it; "dispatched" stores it leased to the process (direct
// dispatch) and finishes it. The difference is what a claim costs per run.
func BenchmarkRunLifecycle(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, mode := range []string{"claimed", "dispatched"} {
			b.Run(string(d)+"/"+mode, func(b *testing.B) {
				s := storetest.Open(b, d)
				w := seedWorkflowB(b, s)
				ctx := context.Background()
				body := []byte(`{"id":1,"amount":150,"email":"lead@example.com"}`)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					now := time.Now().UTC()
					ev := &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: now, Method: "POST", Headers: "{}",
						ContentType: "application/json", Body: body, BodySize: int64(len(body)), Verdict: store.VerdictAccepted}
					r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: 1, EventID: &ev.ID, Status: store.RunQueued,
						RunAt: now, CreatedAt: now, UpdatedAt: now}
					if mode == "dispatched" {
						r.Leased("bench", now, now.Add(time.Minute))
					}
					if err := s.IngestEvent(ctx, ev, r); err != nil {
						b.Fatal(err)
					}
					if mode == "claimed" {
						runs, err := s.ClaimRuns(ctx, "bench", now, now.Add(time.Minute), 1, nil)
						if err != nil || len(runs) != 1 {
							b.Fatalf("claim: %d runs, %v", len(runs), err)
						}
						r = &runs[0]
						if _, err := s.EventsByID(ctx, []string{*r.EventID}); err != nil {
							b.Fatal(err)
						}
					}
					if err := s.FinishRun(ctx, store.LeaseOf(r), store.Outcome{Status: store.RunSucceeded, Now: now}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSaveStep checkpoints steps of running runs from 32 goroutines per CPU, as the
// workers of a busy process do between the steps of multi-step workflows: each op is one
// step's record and the run's progress, fenced by the run's lease.
func BenchmarkSaveStep(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			w := seedWorkflowB(b, s)
			ctx := context.Background()
			now := time.Now().UTC()
			const runs = 256
			leases := make([]store.Lease, runs)
			for i := range leases {
				ev := &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: now, Method: "POST", Headers: "{}", Verdict: store.VerdictAccepted}
				r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: 1, EventID: &ev.ID, RunAt: now, CreatedAt: now, UpdatedAt: now}
				r.Leased("bench", now, now.Add(time.Hour))
				if err := s.IngestEvent(ctx, ev, r); err != nil {
					b.Fatal(err)
				}
				leases[i] = store.LeaseOf(r)
			}
			output := `{"status":200,"body":{"ok":true}}`
			var n atomic.Int64
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					l := leases[i%runs]
					at := time.Now().UTC()
					st := &store.StepRun{ID: newID(), RunID: l.RunID, StepID: fmt.Sprintf("s%d", i), Position: int(i), Status: store.StepSucceeded,
						Attempts: 1, Output: &output, StartedAt: at, FinishedAt: &at}
					if _, err := s.SaveStep(ctx, l, st, int(i), at, at.Add(time.Hour)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

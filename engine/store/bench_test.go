package store_test

import (
	"context"
	"fmt"
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

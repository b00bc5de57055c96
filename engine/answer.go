package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/hookflow/hookflow/engine/store"
)

// answerPollInterval is how often a request waiting in result mode looks at the database,
// for runs executed by another process; runs of this process wake it at once.
const answerPollInterval = 50 * time.Millisecond

// waiters wakes webhook requests waiting in result mode for their run.
type waiters struct {
	mu sync.Mutex
	m  map[string][]chan struct{}
}

func newWaiters() *waiters { return &waiters{m: map[string][]chan struct{}{}} }

func (w *waiters) register(runID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.m[runID] = append(w.m[runID], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		list := w.m[runID]
		for i, c := range list {
			if c == ch {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(w.m, runID)
		} else {
			w.m[runID] = list
		}
	}
}

func (w *waiters) wake(runID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.m[runID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// observer hears the runner: it counts for the metrics and wakes waiting requests.
type observer struct {
	m *metrics
	w *waiters
}

func (o observer) RunFinished(runID, status string) {
	o.m.RunFinished(runID, status)
	o.w.wake(runID)
}

func (o observer) StepRetried(runID, uses string) { o.m.StepRetried(runID, uses) }

func (o observer) StepFinished(runID, uses, status string, took time.Duration) {
	o.m.StepFinished(runID, uses, status, took)
	if uses == "core.respond" {
		o.w.wake(runID)
	}
}

// awaitAnswer waits up to timeout for a run's core.respond step or its end. pending is
// true when the time ran out first.
func (e *Engine) awaitAnswer(ctx context.Context, runID string, timeout time.Duration) (*Answer, bool) {
	woken, done := e.waiters.register(runID)
	defer done()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(answerPollInterval)
	defer poll.Stop()
	for {
		if a := e.answerOf(ctx, runID); a != nil {
			return a, false
		}
		select {
		case <-woken:
		case <-poll.C:
		case <-deadline.C:
			return nil, true
		case <-ctx.Done():
			return nil, true
		}
	}
}

// answerOf returns what a run answers: its succeeded core.respond step's output, or,
// once it has ended without one, its ids and status. Nil means not yet.
func (e *Engine) answerOf(ctx context.Context, runID string) *Answer {
	run, err := e.store.GetRun(ctx, runID)
	if err != nil {
		return nil
	}
	if wf, err := e.versions.get(ctx, run.WorkflowID, run.Version); err == nil {
		respond := map[string]bool{}
		for _, st := range wf.Steps {
			if st.Uses == "core.respond" {
				respond[st.ID] = true
			}
		}
		if len(respond) > 0 && (run.StepIndex > 0 || isFinal(run.Status)) {
			steps, err := e.store.ListStepRuns(ctx, runID)
			if err == nil {
				for _, st := range steps {
					if respond[st.StepID] && st.Status == store.StepSucceeded && st.Output != nil {
						var a Answer
						if json.Unmarshal([]byte(*st.Output), &a) == nil && a.Status != 0 {
							return &a
						}
					}
				}
			}
		}
	}
	if !isFinal(run.Status) {
		return nil
	}
	eventID := ""
	if run.EventID != nil {
		eventID = *run.EventID
	}
	return &Answer{Status: http.StatusOK, Body: map[string]any{"event_id": eventID, "run_id": run.ID, "status": run.Status}}
}

func isFinal(status string) bool {
	switch status {
	case store.RunSucceeded, store.RunFailed, store.RunFiltered, store.RunCancelled:
		return true
	}
	return false
}

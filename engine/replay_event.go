package engine

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hookflow/hookflow/engine/store"
)

// Audit entries of ReplayEvent for a request that started no run.
const (
	AuditEventReplay = "event.replay"
	AuditKindEvent   = "event"
)

// ReplayEvent starts a new run of a workflow's current version on one of its stored
// webhook requests (the inspector's "replay this request").
//
// An accepted request that started a run is replayed as Replay(run, ReplayStart) does:
// a new run of the same event, naming the first run in replay_of, audited as
// run.replay. A request that started no run (rejected, duplicate, rate limited, too
// large, a sender's check) is copied into a new accepted event, with the reason saying
// which request it replays, and that event starts the run: replaying a refused request
// is an editor's explicit decision to run it although its verification or limits said
// no, so it is recorded in the audit log as event.replay. A request whose body was kept
// only in part is ErrConflict: its run would read a cut body.
func (e *Engine) ReplayEvent(ctx context.Context, workflowID, eventID string) (*Run, error) {
	if err := allow(ctx, RoleEditor, "replay requests"); err != nil {
		return nil, err
	}
	w, err := e.store.GetWorkflow(ctx, workflowID)
	if err != nil {
		return nil, translate(err)
	}
	ev, err := e.store.GetEvent(ctx, eventID)
	if err != nil {
		return nil, translate(err)
	}
	if ev.WorkflowID != w.ID {
		return nil, fmt.Errorf("%w: workflow %s has no event %s", ErrNotFound, workflowID, eventID)
	}
	if int64(len(ev.Body)) < ev.BodySize {
		return nil, fmt.Errorf("%w: only the first %d of the %d bytes of request %s were kept; it cannot be replayed",
			ErrConflict, len(ev.Body), ev.BodySize, eventID)
	}
	if ev.Verdict == store.VerdictAccepted {
		first, err := e.store.FirstRuns(ctx, []string{ev.ID})
		if err != nil {
			return nil, err
		}
		if runID, ok := first[ev.ID]; ok {
			return e.Replay(ctx, runID, ReplayStart)
		}
	}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	var run *store.Run
	if ev.Verdict == store.VerdictAccepted {
		// Accepted but without a first run of its own: run the same event again.
		run = e.queuedRun(w.ID, w.Version, ev.ID, wf, now)
		if err := e.store.CreateRun(ctx, run, nil); err != nil {
			return nil, err
		}
	} else {
		copied := *ev
		copied.ID, copied.ReceivedAt, copied.DedupeKey = newID(), now, nil
		copied.Verdict = store.VerdictAccepted
		copied.Reason = fmt.Sprintf("replay of %s request %s", ev.Verdict, ev.ID)
		run = e.queuedRun(w.ID, w.Version, copied.ID, wf, now)
		if err := e.store.IngestEvent(ctx, &copied, run); err != nil {
			return nil, err
		}
	}
	e.notifier.Notify()
	e.log.Info("Request replayed", slog.String("workflow_id", w.ID), slog.String("event_id", ev.ID),
		slog.String("verdict", ev.Verdict), slog.String("run_id", run.ID))
	e.audit(ctx, AuditEventReplay, AuditKindEvent, ev.ID, "", map[string]any{"workflow_id": w.ID,
		"verdict": ev.Verdict, "reason": ev.Reason, "replay_event_id": *run.EventID, "replay_run_id": run.ID})
	out := runDTO(run)
	return &out, nil
}

package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trace"
	"github.com/hookflow/hookflow/engine/trigger"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Schedules and polls. Every worker process runs the scheduler; the database decides
// which of them acts: a tick is a unique event key per workflow and slot, so it fires
// once however many processes reach it, and a poll is leased to one process at a time.

const (
	// scheduleRefresh is how often the scheduler re-reads which workflows it serves, so a
	// schedule saved through another process applies within it.
	scheduleRefresh = time.Second
	// onTimeWindow is how late a tick may be reached and still count as on time; older
	// ticks were missed (no process ran) and follow the trigger's catch_up.
	onTimeWindow = 15 * time.Second
	// catchUpAllMax caps the runs catch_up "all" starts after downtime.
	catchUpAllMax = 100
	// catchUpHorizon bounds how far back missed ticks of a cron expression are counted.
	catchUpHorizon = 31 * 24 * time.Hour
	// pollTimeout bounds one poll (Telegram's long polls take up to 65s); pollLease
	// outlasts it so a live poll keeps its lease.
	pollTimeout = 90 * time.Second
	pollLease   = pollTimeout + 30*time.Second
	// pollConcurrency is how many polls one process runs at once.
	pollConcurrency = 4
	// seenKeep is how many item keys each poll trigger remembers. It must exceed what a
	// source returns per poll, or old items would come back as new.
	seenKeep = 10000
	// maxKeyLen is the longest item key stored as is; longer keys are stored hashed.
	maxKeyLen = 200
)

// scheduled is one workflow the scheduler serves.
type scheduled struct {
	id      string
	version int
	wf      *workflow.Compiled
	// gen is the registry generation wf was compiled at: a connector file loaded,
	// changed or removed since means compiling again.
	gen uint64
	// lastSlot is the newest tick known to have fired (schedule triggers).
	lastSlot time.Time
	// failures counts the passes in a row whose tick the database refused; the next try
	// waits until retryAt, so a failing database is not asked again at every pass.
	failures int
	retryAt  time.Time
	// nextAt is when the next poll is due (poll triggers), in Unix nanoseconds: the poll's
	// goroutine sets it while the scheduler reads it.
	nextAt atomic.Int64
	// polling is set while a poll of the workflow runs in this process. It is shared by
	// the entries of successive versions, so a new version does not poll beside a poll of
	// the old one.
	polling *atomic.Bool
}

func (s *scheduled) next() time.Time { return time.Unix(0, s.nextAt.Load()).UTC() }

func (s *scheduled) setNext(t time.Time) { s.nextAt.Store(t.UnixNano()) }

// WakeScheduler makes the scheduler re-read the scheduled workflows now rather than at
// its next refresh: a saved workflow's schedule applies at once in this process.
func (e *Engine) WakeScheduler() {
	e.scheduleDirty.Store(true)
	e.wakeScheduler()
}

// wakeScheduler makes the scheduler look at its workflows now, without re-reading them.
func (e *Engine) wakeScheduler() {
	select {
	case e.scheduleWake <- struct{}{}:
	default:
	}
}

// scheduler fires due ticks and starts due polls until ctx ends, then waits for the
// polls in flight.
func (e *Engine) scheduler(ctx context.Context) {
	entries := map[string]*scheduled{}
	var refreshed time.Time
	var refreshedGen uint64
	sem := make(chan struct{}, pollConcurrency)
	var polls sync.WaitGroup
	defer polls.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-e.scheduleWake:
		}
		// The time is read before the registry's generation: whatever a caller changed
		// before moving the clock (a connector file removed) is then seen by this pass, so
		// a due poll never runs with a compiled version the registry has left behind.
		now := e.cfg.Now()
		if gen := e.reg.Generation(); e.scheduleDirty.Swap(false) || gen != refreshedGen || time.Since(refreshed) >= scheduleRefresh {
			if err := e.refreshScheduled(ctx, entries); err != nil && ctx.Err() == nil {
				e.log.Warn("Load scheduled workflows failed", slog.Any("err", err))
			}
			refreshed, refreshedGen = time.Now(), gen
		}
		wait := scheduleRefresh
		for _, s := range entries {
			if s.wf.Poll == nil {
				if now.Before(s.retryAt) {
					wait = min(wait, s.retryAt.Sub(now))
					continue
				}
				e.fireDue(ctx, s, now)
				if s.failures > 0 {
					wait = min(wait, s.retryAt.Sub(now))
					continue
				}
				wait = min(wait, s.wf.Schedule.Next(s.lastSlot).Sub(now))
				continue
			}
			if next := s.next(); now.Before(next) {
				wait = min(wait, next.Sub(now))
				continue
			}
			if s.polling.Load() {
				continue
			}
			select {
			case sem <- struct{}{}:
			default:
				continue // all poll slots busy: try again at the next pass
			}
			s.polling.Store(true)
			polls.Go(func() {
				defer func() { <-sem }()
				defer s.polling.Store(false)
				e.pollOnce(ctx, s)
				e.wakeScheduler() // its next poll time may be the nearest now
			})
		}
		timer.Reset(max(wait, 10*time.Millisecond))
	}
}

// refreshScheduled brings entries in line with the enabled schedule and poll workflows:
// new ones and new versions get their state synced, removed ones are dropped.
func (e *Engine) refreshScheduled(ctx context.Context, entries map[string]*scheduled) error {
	list, err := e.store.ScheduledWorkflows(ctx)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(list))
	now := e.cfg.Now()
	gen := e.reg.Generation()
	for _, w := range list {
		seen[w.ID] = true
		if s, ok := entries[w.ID]; ok && s.version == w.Version && s.gen == gen {
			continue
		}
		wf, err := e.versions.get(ctx, w.ID, w.Version)
		if err != nil {
			e.log.Warn("Load scheduled workflow failed", slog.String("workflow_id", w.ID), slog.Any("err", err))
			continue
		}
		if wf.Schedule == nil {
			continue
		}
		st, err := e.store.SyncTriggerState(ctx, w.ID, w.Version, now, now)
		if err != nil {
			return err
		}
		s := &scheduled{id: w.ID, version: w.Version, wf: wf, gen: gen, lastSlot: now, polling: new(atomic.Bool)}
		s.setNext(st.NextAt)
		if st.LastSlot != nil {
			s.lastSlot = *st.LastSlot
		}
		if old, ok := entries[w.ID]; ok {
			s.polling = old.polling
		}
		entries[w.ID] = s
	}
	for id := range entries {
		if !seen[id] {
			delete(entries, id)
		}
	}
	return nil
}

// dueSlots returns the ticks after last up to now: the newest keep of them, oldest
// first, and how many there are in all.
func dueSlots(sched workflow.Schedule, last, now time.Time, keep int) ([]time.Time, int) {
	first := sched.Next(last)
	if first.After(now) {
		return nil, 0
	}
	if d, ok := workflow.Interval(sched); ok {
		newest := now.Truncate(d)
		total := int(newest.Sub(first)/d) + 1
		n := min(total, keep)
		out := make([]time.Time, n)
		for i := range n {
			out[i] = newest.Add(-time.Duration(n-1-i) * d)
		}
		return out, total
	}
	if now.Sub(last) > catchUpHorizon {
		first = sched.Next(now.Add(-catchUpHorizon))
	}
	var out []time.Time
	total := 0
	for t := first; !t.IsZero() && !t.After(now); t = sched.Next(t) {
		total++
		out = append(out, t)
		if len(out) > keep {
			out = out[1:]
		}
	}
	return out, total
}

// fireDue starts the runs of a schedule's due ticks: every tick when all were reached on
// time; after downtime (the oldest due tick is older than onTimeWindow), what catch_up
// says: nothing, one run for the newest tick, or one per tick.
func (e *Engine) fireDue(ctx context.Context, s *scheduled, now time.Time) {
	slots, total := dueSlots(s.wf.Schedule, s.lastSlot, now, catchUpAllMax)
	if total == 0 {
		return
	}
	oldest := s.wf.Schedule.Next(s.lastSlot)
	late := now.Sub(oldest) > onTimeWindow
	fire, catchUp := slots, false
	if late {
		mode := s.wf.Def.Trigger.Schedule.CatchUp
		switch mode {
		case workflow.CatchUpNone:
			fire = nil
		case workflow.CatchUpAll:
			catchUp = true
		default: // latest
			fire, catchUp = slots[len(slots)-1:], true
		}
		e.log.Info("Schedule missed ticks", slog.String("workflow_id", s.id), slog.Int("missed", total),
			slog.String("catch_up", orDefault(mode, workflow.CatchUpLatest)), slog.Int("runs", len(fire)))
	}
	for _, slot := range fire {
		if err := e.fireSlot(ctx, s, slot, now, catchUp, total); err != nil {
			e.tickFailed(ctx, s, now, "Schedule tick failed; retrying", err)
			return // lastSlot stays: a later pass tries again
		}
		s.lastSlot = slot
	}
	newest := slots[len(slots)-1]
	if s.lastSlot.Before(newest) {
		if err := e.store.AdvanceSlot(ctx, s.id, newest, now); err != nil {
			e.tickFailed(ctx, s, now, "Skip missed ticks failed; retrying", err)
			return
		}
		s.lastSlot = newest
	}
	s.failures, s.retryAt = 0, time.Time{}
}

// Retries of a refused tick start after tickRetryMin and double up to tickRetryMax.
const (
	tickRetryMin = 100 * time.Millisecond
	tickRetryMax = 30 * time.Second
)

// tickFailed logs a refused tick and puts its next try off.
func (e *Engine) tickFailed(ctx context.Context, s *scheduled, now time.Time, msg string, err error) {
	delay := min(tickRetryMin<<min(s.failures, 16), tickRetryMax)
	s.failures++
	s.retryAt = now.Add(delay)
	if ctx.Err() == nil {
		e.log.Warn(msg, slog.String("workflow_id", s.id), slog.Int("failures", s.failures),
			slog.Duration("retry_in", delay), slog.Any("err", err))
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fireSlot starts the run of one tick, unless another process already has.
func (e *Engine) fireSlot(ctx context.Context, s *scheduled, slot, now time.Time, catchUp bool, missed int) error {
	trig := map[string]any{
		"type":         trigger.TypeSchedule,
		"scheduled_at": slot.UTC().Format(time.RFC3339),
		"fired_at":     now.UTC().Format(time.RFC3339Nano),
		"timezone":     orDefault(s.wf.Def.Trigger.Schedule.Timezone, "UTC"),
	}
	if catchUp {
		trig["catch_up"] = true
		trig["missed"] = missed
	}
	key := fmt.Sprintf("schedule:%d", slot.Unix())
	started, err := e.newStarted(s.id, s.version, s.wf, trig, &key, now)
	if err != nil {
		return err
	}
	fired, err := e.store.FireSlot(ctx, started, slot)
	if err != nil {
		return err
	}
	if fired {
		e.metrics.triggers.WithLabelValues(trigger.TypeSchedule).Inc()
		e.notifier.Notify()
	}
	return nil
}

// newStarted builds the event and queued run of a run started by the engine itself (a
// tick, a poll item, a failure alert): the event's body is the trigger object.
func (e *Engine) newStarted(workflowID string, version int, wf *workflow.Compiled, trig map[string]any, dedupe *string, now time.Time) (store.Started, error) {
	data, err := trigger.EncodeInternal(trig)
	if err != nil {
		return store.Started{}, err
	}
	ev := &store.Event{ID: newID(), WorkflowID: workflowID, ReceivedAt: now, Headers: "{}",
		ContentType: trigger.InternalContentType, Body: data, BodySize: int64(len(data)),
		DedupeKey: dedupe, Verdict: store.VerdictAccepted}
	return store.Started{Event: ev, Run: e.queuedRun(workflowID, version, ev.ID, wf, now)}, nil
}

// queuedRun is the run an event starts: due now, with the workflow's deadline.
func (e *Engine) queuedRun(workflowID string, version int, eventID string, wf *workflow.Compiled, now time.Time) *store.Run {
	deadline := e.deadline(wf, now)
	return &store.Run{ID: newID(), WorkflowID: workflowID, Version: version, EventID: &eventID, Status: store.RunQueued,
		RunAt: now, CreatedAt: now, UpdatedAt: now, DeadlineAt: &deadline}
}

// deadline is when a run of wf starting now must have ended: its max_duration, or the
// engine's default.
func (e *Engine) deadline(wf *workflow.Compiled, now time.Time) time.Time {
	if d := wf.Def.MaxDuration.Std(); d > 0 {
		return now.Add(d)
	}
	return now.Add(e.cfg.RunMaxDuration)
}

// pollOnce polls one workflow's source if no other process is, and commits what it
// found, or the failure.
func (e *Engine) pollOnce(ctx context.Context, s *scheduled) {
	now := e.cfg.Now()
	st, err := e.store.ClaimPoll(ctx, s.id, e.owner, now, now.Add(pollLease))
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("Claim poll failed", slog.String("workflow_id", s.id), slog.Any("err", err))
		}
		s.setNext(now.Add(scheduleRefresh))
		return
	}
	if st == nil { // not due after all, or another process polls: follow the shared state
		if cur, err := e.store.GetTriggerState(ctx, s.id); err == nil {
			s.setNext(cur.NextAt)
			if cur.LeaseUntil != nil && cur.LeaseOwner != nil && cur.NextAt.Before(now) {
				s.setNext(*cur.LeaseUntil)
			}
		} else {
			s.setNext(now.Add(scheduleRefresh))
		}
		return
	}
	log := e.log.With(slog.String("workflow_id", s.id))
	next := s.wf.Schedule.Next(now)
	// A poll is a trace of its own: the poller's outbound calls are its children. With
	// tracing off, span is nil and every call on it is free.
	ctx, span := e.cfg.Tracer.Start(ctx, "poll", trace.KindInternal)
	items, cursor, err := e.poll(ctx, s, st, log)
	span.SetString("hookflow.workflow.id", s.id)
	span.SetString("hookflow.poll.uses", s.wf.Def.Trigger.Poll.Uses)
	span.SetInt("hookflow.poll.items", int64(len(items)))
	done := e.cfg.Now()
	if err == nil {
		var polled []store.PolledItem
		if polled, err = e.pollItems(s, items, done); err == nil {
			var res store.PollResult
			res, err = e.store.CommitPoll(ctx, store.PollSuccess{WorkflowID: s.id, Owner: e.owner, Now: done, NextAt: next,
				Items: polled, Cursor: cursor, Backfill: s.wf.Def.Trigger.Poll.Backfill})
			if err == nil {
				s.setNext(next)
				e.metrics.polls.WithLabelValues(s.wf.Def.Trigger.Poll.Uses, "ok").Inc()
				e.metrics.triggers.WithLabelValues(trigger.TypePoll).Add(float64(res.Started))
				if res.Started > 0 {
					e.notifier.Notify()
				}
				log.Debug("Polled", slog.Int("items", len(items)), slog.Int("new", res.New), slog.Int("runs", res.Started))
				span.SetInt("hookflow.poll.new", int64(res.New))
				span.SetInt("hookflow.poll.runs", int64(res.Started))
				span.EndOK()
				return
			}
			if errors.Is(err, store.ErrPollLost) || ctx.Err() != nil {
				span.End(err)
				s.setNext(next)
				return
			}
		}
	}
	span.End(err)
	if ctx.Err() != nil {
		return // shutting down: the lease lapses and another process polls
	}
	e.metrics.polls.WithLabelValues(s.wf.Def.Trigger.Poll.Uses, "failed").Inc()
	e.recordPollFailure(ctx, s, st, err, done, next, log)
	s.setNext(next)
}

// poll renders the trigger's inputs and calls its poller.
func (e *Engine) poll(ctx context.Context, s *scheduled, st *store.TriggerState, log *slog.Logger) ([]any, *string, error) {
	p, def := s.wf.Poll, s.wf.Def.Trigger.Poll
	var cursor any
	if st.Cursor != nil {
		v, err := connectors.DecodeJSON([]byte(*st.Cursor))
		if err != nil {
			return nil, nil, fmt.Errorf("read saved cursor: %w", err)
		}
		cursor = v
	}
	env := map[string]any{
		"cursor":   cursor,
		"workflow": map[string]any{"id": s.id, "name": s.wf.Def.Name, "version": int64(s.version)},
		"now":      e.cfg.Now().UTC().Format(time.RFC3339),
	}
	rendered, err := p.With.Render(ctx, env)
	if err != nil {
		return nil, nil, fmt.Errorf("render trigger.poll.with: %w", err)
	}
	input, _ := rendered.(map[string]any)
	var conn *connectors.Connection
	if def.Connection != "" {
		if conn, err = e.resolveConnection(ctx, def.Connection); err != nil {
			return nil, nil, fmt.Errorf("load connection %q: %w", def.Connection, err)
		}
	}
	call := &connectors.PollCall{WorkflowID: s.id, Input: input, Cursor: cursor, First: !st.Seeded,
		Connection: conn, Logger: log, Eval: evalExpr(ctx)}
	pctx, cancel := context.WithTimeout(e.withOutbound(e.outboundContext(ctx), connectorOf(def.Uses)), pollTimeout)
	defer cancel()
	res, err := p.Poller.New().Poll(pctx, call)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", def.Uses, err)
	}
	if res == nil {
		return nil, nil, nil
	}
	var saved *string
	if res.Cursor != nil {
		b, err := json.Marshal(res.Cursor)
		if err != nil {
			return nil, nil, fmt.Errorf("%s returned a cursor that is not JSON: %w", def.Uses, err)
		}
		saved = new(string(b))
	}
	return res.Items, saved, nil
}

// evalExpr gives pollers the workflow expression language.
func evalExpr(ctx context.Context) func(string, map[string]any) (any, error) {
	return func(src string, env map[string]any) (any, error) {
		names := make([]string, 0, len(env))
		for k := range env {
			names = append(names, k)
		}
		p, err := expr.NewScope(names...).Compile(src)
		if err != nil {
			return nil, err
		}
		return p.Eval(ctx, env)
	}
}

// pollItems keys the items and builds the run each would start.
func (e *Engine) pollItems(s *scheduled, items []any, now time.Time) ([]store.PolledItem, error) {
	out := make([]store.PolledItem, 0, len(items))
	for i, item := range items {
		key, err := itemKey(s.wf.Poll.Key, item)
		if err != nil {
			return nil, fmt.Errorf("trigger.poll.key of item %d: %w", i, err)
		}
		trig := map[string]any{"type": trigger.TypePoll, "item": item, "key": key,
			"polled_at": now.UTC().Format(time.RFC3339Nano)}
		started, err := e.newStarted(s.id, s.version, s.wf, trig, nil, now)
		if err != nil {
			return nil, err
		}
		out = append(out, store.PolledItem{Key: key, Started: started})
	}
	return out, nil
}

// itemKey evaluates an item's de-duplication key as text; long keys are hashed.
func itemKey(p *expr.Program, item any) (string, error) {
	var v any = item
	if p != nil {
		var err error
		if v, err = p.Eval(context.Background(), map[string]any{"item": item}); err != nil {
			return "", err
		}
	}
	var key string
	switch x := v.(type) {
	case nil:
		return "", errors.New("is empty: the item has no such field")
	case string:
		key = x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", fmt.Errorf("encode key: %w", err)
		}
		key = string(b)
	}
	if key == "" {
		return "", errors.New("is empty")
	}
	if len(key) > maxKeyLen {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return key, nil
}

// recordPollFailure saves a failed poll and, when the failure streak reaches the
// trigger's alert_after, starts the on_failure workflow in the same transaction.
func (e *Engine) recordPollFailure(ctx context.Context, s *scheduled, st *store.TriggerState, pollErr error, now, next time.Time, log *slog.Logger) {
	def := s.wf.Def.Trigger.Poll
	alertAfter := def.AlertAfter
	if alertAfter == 0 {
		alertAfter = workflow.AlertAfterDefault
	}
	msg := pollErr.Error()
	var alert *store.Started
	// The alert's run is built only for the failure that completes the streak: st was read
	// under this poll's lease, so no other process changes the count meanwhile.
	if st.ConsecutiveFailures+1 == alertAfter {
		var err error
		if alert, err = e.failureStarted(ctx, s.wf, s.id, map[string]any{
			"kind": "poll", "error": msg, "consecutive_failures": alertAfter, "poller": def.Uses,
		}, now); err != nil {
			log.Warn("Prepare failure alert failed", slog.Any("err", err))
		}
	}
	failures, alerted, err := e.store.CommitPollFailure(ctx, store.PollFailure{WorkflowID: s.id, Owner: e.owner,
		Now: now, NextAt: next, Error: msg, AlertAfter: alertAfter, Alert: alert})
	if err != nil {
		if !errors.Is(err, store.ErrPollLost) {
			log.Warn("Record failed poll failed", slog.Any("err", err))
		}
		return
	}
	log.Warn("Poll failed", slog.Int("consecutive_failures", failures), slog.String("err", msg))
	if alerted {
		e.metrics.triggers.WithLabelValues(trigger.TypeFailure).Inc()
		e.notifier.Notify()
	}
}

// failureStarted builds the run of a workflow's on_failure workflow for a failure
// described by details, or nil when the workflow names none (or it cannot run).
func (e *Engine) failureStarted(ctx context.Context, failed *workflow.Compiled, failedID string, details map[string]any, now time.Time) (*store.Started, error) {
	target := failed.Def.OnFailure
	if target == "" {
		return nil, nil
	}
	w, err := e.store.GetWorkflow(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("load on_failure workflow %s: %w", target, err)
	}
	if !w.Enabled {
		return nil, fmt.Errorf("on_failure workflow %s is disabled", target)
	}
	wf, err := e.versions.get(ctx, w.ID, w.Version)
	if err != nil {
		return nil, err
	}
	trig := map[string]any{"type": trigger.TypeFailure, "failed_at": now.UTC().Format(time.RFC3339Nano),
		"workflow": map[string]any{"id": failedID, "name": failed.Def.Name}}
	for k, v := range details {
		trig[k] = v
	}
	started, err := e.newStarted(w.ID, w.Version, wf, trig, nil, now)
	if err != nil {
		return nil, err
	}
	return &started, nil
}

// failureAlert builds the on_failure run of a run failing for good, for the store to
// insert with the failure in one transaction; nil when the workflow names none. Its event
// is keyed by the failed run, so the alert starts once even if the failure is recorded
// again after a takeover. A run that was itself an alert raises none, so a failing alert
// workflow cannot loop.
func (e *Engine) failureAlert(ctx context.Context, run *store.Run, stepID, errText string) *store.Started {
	log := e.log.With(slog.String("run_id", run.ID), slog.String("workflow_id", run.WorkflowID))
	wf, err := e.versions.get(ctx, run.WorkflowID, run.Version)
	if err != nil || wf.Def.OnFailure == "" {
		return nil
	}
	if run.EventID != nil {
		ev := run.Event
		if ev == nil {
			if ev, err = e.store.GetEvent(ctx, *run.EventID); err != nil {
				log.Warn("Load event of failed run failed", slog.Any("err", err))
				return nil
			}
		}
		if ev.ContentType == trigger.InternalContentType && trigger.InternalEnv(ev.ID, ev.Body)["type"] == trigger.TypeFailure {
			return nil
		}
	}
	started, err := e.failureStarted(ctx, wf, run.WorkflowID, map[string]any{
		"kind": "run", "run_id": run.ID, "error": errText, "step": stepID, "version": int64(run.Version),
	}, e.cfg.Now())
	if err != nil {
		// The alert workflow is gone or disabled: the failure is recorded all the same.
		log.Warn("Failure alert not sent", slog.Any("err", err))
		return nil
	}
	key := "failure:run:" + run.ID
	started.Event.DedupeKey = &key
	return started
}

// alerted counts an alert run stored with a failure and wakes this process's workers.
func (e *Engine) alerted() {
	e.metrics.triggers.WithLabelValues(trigger.TypeFailure).Inc()
	e.notifier.Notify()
}

package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine/workflow"
)

// TriggerTimes are the next times a schedule or poll trigger fires.
type TriggerTimes struct {
	// Cron and Timezone are the trigger's, as written ("" time zone is UTC).
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	// Times are in the trigger's time zone, after the engine's now, earliest first.
	Times []time.Time `json:"times"`
}

// NextTriggerTimes returns the next n times the current version of a workflow's schedule
// or poll trigger fires after the engine's now, computed by the scheduler's own schedule
// code and shown in the trigger's time zone. They are the times the schedule names: a
// disabled workflow's trigger fires none of them. A workflow with another trigger is
// ErrNotFound.
func (e *Engine) NextTriggerTimes(ctx context.Context, id string, n int) (*TriggerTimes, error) {
	w, err := e.GetWorkflow(ctx, id)
	if err != nil {
		return nil, err
	}
	def, err := workflow.Parse(w.Definition)
	if err != nil {
		return nil, fmt.Errorf("parse workflow %s: %w", id, err)
	}
	out := &TriggerTimes{}
	switch {
	case def.Trigger.Schedule != nil && def.Trigger.Type == workflow.TriggerSchedule:
		out.Cron, out.Timezone = def.Trigger.Schedule.Cron, def.Trigger.Schedule.Timezone
	case def.Trigger.Poll != nil && def.Trigger.Type == workflow.TriggerPoll:
		out.Cron, out.Timezone = def.Trigger.Poll.Cron, def.Trigger.Poll.Timezone
	default:
		return nil, fmt.Errorf("%w: workflow %s has a %s trigger, which has no schedule", ErrNotFound, id, def.Trigger.Type)
	}
	sched, err := workflow.ParseSchedule(out.Cron, out.Timezone)
	if err != nil {
		return nil, fmt.Errorf("schedule of workflow %s: %w", id, err)
	}
	loc := time.UTC
	if out.Timezone != "" {
		if l, err := time.LoadLocation(out.Timezone); err == nil {
			loc = l
		}
	}
	t := e.cfg.Now()
	for range n {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		out.Times = append(out.Times, t.In(loc))
	}
	return out, nil
}

package engine

import (
	"context"
	"fmt"
	"time"
)

// DashboardRange is the period the dashboard's chart covers.
type DashboardRange string

// The dashboard's periods.
const (
	// DashboardDay is the last 24 hours in 24 one-hour buckets, the last one the
	// current hour.
	DashboardDay DashboardRange = "24h"
	// DashboardWeek is the last 7 days in 28 six-hour buckets, starting at midnight,
	// 06:00, 12:00 and 18:00 of the time zone asked for; the last one holds now.
	DashboardWeek DashboardRange = "7d"
)

// DashboardListMax bounds the dashboard's lists (recent failures, failing polls).
const DashboardListMax = 10

// DashboardQuery says what the dashboard shows.
type DashboardQuery struct {
	// Range is DashboardDay (the default) or DashboardWeek.
	Range DashboardRange
	// Location is the time zone whose clock the buckets follow: they start on its whole
	// hours (and for a week at its midnight, 06:00, 12:00, 18:00). Nil is UTC.
	Location *time.Location
}

// Dashboard is what the engine has done lately, at one moment.
type Dashboard struct {
	// Now is the moment it was read.
	Now   time.Time      `json:"now"`
	Range DashboardRange `json:"range"`
	// From and To bound the chart: From is the first bucket's start, To the last one's
	// end (after Now).
	From   time.Time     `json:"from"`
	To     time.Time     `json:"to"`
	Bucket time.Duration `json:"bucket"`
	// Buckets are the runs created in each bucket by status, oldest first; every bucket
	// of the range is there, empty or not.
	Buckets []RunBucket `json:"buckets"`
	// Totals sums the buckets by status.
	Totals map[string]int64 `json:"totals"`
	// Failures are the latest runs created in the range that failed, newest first, at
	// most DashboardListMax.
	Failures []FailedRun `json:"failures"`
	// FailingPolls are the enabled poll triggers whose last poll failed, the longest
	// failing first, at most DashboardListMax; FailingPollsTotal counts them all.
	FailingPolls      []FailingPoll `json:"failing_polls"`
	FailingPollsTotal int64         `json:"failing_polls_total"`
	Queue             Queue         `json:"queue"`
}

// RunBucket is the runs created in [Start, Start+Dashboard.Bucket), by status.
type RunBucket struct {
	Start  time.Time        `json:"start"`
	Counts map[string]int64 `json:"counts"`
}

// Total is the number of runs in the bucket.
func (b RunBucket) Total() int64 {
	var n int64
	for _, c := range b.Counts {
		n += c
	}
	return n
}

// FailedRun is a failed run, for the dashboard.
type FailedRun struct {
	ID           string     `json:"id"`
	WorkflowID   string     `json:"workflow_id"`
	WorkflowName string     `json:"workflow_name"`
	Error        string     `json:"error"`
	CreatedAt    time.Time  `json:"created_at"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
}

// FailingPoll is a poll trigger whose last poll failed.
type FailingPoll struct {
	WorkflowID          string     `json:"workflow_id"`
	WorkflowName        string     `json:"workflow_name"`
	LastError           string     `json:"last_error"`
	LastPollAt          *time.Time `json:"last_poll_at,omitempty"`
	FailingSince        *time.Time `json:"failing_since,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
}

// Queue is the run queue's depth.
type Queue struct {
	// Ready counts the runs due and waiting for a worker (queued, or waiting with their
	// delay or backoff over).
	Ready int64 `json:"ready"`
	// Scheduled counts the waiting runs not yet due.
	Scheduled int64 `json:"scheduled"`
	// Running counts the runs workers hold.
	Running int64 `json:"running"`
	// OldestReadyAt is when the longest-waiting ready run became due, and OldestReadyAge
	// how long ago that was; nil and zero when no run is ready.
	OldestReadyAt  *time.Time    `json:"oldest_ready_at,omitempty"`
	OldestReadyAge time.Duration `json:"oldest_ready_age"`
}

// Dashboard reads the engine's recent activity: runs by status over the range, the
// range's latest failures, failing polls and the queue. Every role may read it.
func (e *Engine) Dashboard(ctx context.Context, q DashboardQuery) (*Dashboard, error) {
	if err := allow(ctx, RoleViewer, "read the dashboard"); err != nil {
		return nil, err
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	now := e.cfg.Now().UTC()
	d := &Dashboard{Now: now, Range: q.Range, Totals: map[string]int64{}}
	var n int
	switch q.Range {
	case DashboardDay, "":
		d.Range, d.Bucket, n = DashboardDay, time.Hour, 24
	case DashboardWeek:
		d.Bucket, n = 6*time.Hour, 28
	default:
		return nil, invalid("range", fmt.Sprintf("%q is not a dashboard range; use %s or %s", q.Range, DashboardDay, DashboardWeek))
	}
	last := bucketStart(now, loc, d.Bucket)
	d.From = last.Add(-time.Duration(n-1) * d.Bucket)
	d.To = last.Add(d.Bucket)

	rows, err := e.store.RunHistogram(ctx, d.From, d.Bucket, n)
	if err != nil {
		return nil, err
	}
	d.Buckets = make([]RunBucket, n)
	for i := range d.Buckets {
		d.Buckets[i] = RunBucket{Start: d.From.Add(time.Duration(i) * d.Bucket), Counts: map[string]int64{}}
	}
	for _, r := range rows {
		if r.Bucket < 0 || r.Bucket >= n { // cannot happen: the query bounds the range
			continue
		}
		d.Buckets[r.Bucket].Counts[r.Status] += r.N
		d.Totals[r.Status] += r.N
	}

	failed, err := e.store.RecentFailures(ctx, d.From, DashboardListMax)
	if err != nil {
		return nil, err
	}
	d.Failures = make([]FailedRun, len(failed))
	for i, f := range failed {
		d.Failures[i] = FailedRun{ID: f.ID, WorkflowID: f.WorkflowID, WorkflowName: f.WorkflowName, Error: f.Error,
			CreatedAt: f.CreatedAt.UTC(), FinishedAt: utcPtr(f.FinishedAt)}
	}

	polls, total, err := e.store.FailingPolls(ctx, DashboardListMax)
	if err != nil {
		return nil, err
	}
	d.FailingPollsTotal = total
	d.FailingPolls = make([]FailingPoll, len(polls))
	for i, p := range polls {
		d.FailingPolls[i] = FailingPoll{WorkflowID: p.WorkflowID, WorkflowName: p.WorkflowName, LastError: p.LastError,
			LastPollAt: utcPtr(p.LastPollAt), FailingSince: utcPtr(p.FailingSince), ConsecutiveFailures: p.ConsecutiveFailures}
	}

	qd, err := e.store.Queue(ctx, now)
	if err != nil {
		return nil, err
	}
	d.Queue = Queue{Ready: qd.Ready, Scheduled: qd.Scheduled, Running: qd.Running, OldestReadyAt: utcPtr(qd.OldestReadyAt)}
	if qd.OldestReadyAt != nil && now.After(*qd.OldestReadyAt) {
		d.Queue.OldestReadyAge = now.Sub(*qd.OldestReadyAt)
	}
	return d, nil
}

// bucketStart is the start of the bucket holding t: the whole hour of loc's clock for
// one-hour buckets, and for longer ones (whole hours dividing a day) the last start
// counted from loc's midnight. Where a daylight-saving change falls inside a day, the
// buckets keep their length and their starts move by the change.
func bucketStart(t time.Time, loc *time.Location, size time.Duration) time.Time {
	lt := t.In(loc)
	hours := int(size / time.Hour)
	if hours < 1 {
		hours = 1
	}
	start := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour()-lt.Hour()%hours, 0, 0, 0, loc)
	if start.After(t) { // a daylight-saving gap moved the wall clock forward
		start = start.Add(-size)
	}
	return start.UTC()
}

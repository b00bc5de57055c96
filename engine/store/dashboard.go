package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The dashboard's queries. Each is one aggregate or one short, bounded list; none reads
// a run it does not count or show. Runs and triggers of deleted workflows are left out,
// as every read but the pruner's leaves them out.

// RunBucketCount is how many runs of one status were created in one bucket of a
// histogram.
type RunBucketCount struct {
	// Bucket is the bucket's index: 0 is the one starting at the histogram's start.
	Bucket int
	Status string
	N      int64
}

// RunHistogram counts the runs created in n buckets of the given size from start (start
// included, the end of the last bucket excluded), by bucket and status. A run created
// exactly at a bucket's edge counts in the bucket that starts there. Buckets without
// runs are not returned.
//
// The counting is done by the database, in one GROUP BY over the runs_created index's
// range: the bucket is the run's whole seconds since start divided by the bucket's. On
// SQLite created_at is UTC text ("2006-01-02 15:04:05.999999999+00:00"), whose first 19
// characters strftime reads as seconds since the epoch; on PostgreSQL it is a timestamptz.
// start is taken to the second and the bucket size must be whole seconds, so dropping a
// run's fraction of a second never moves it across an edge.
func (s *Store) RunHistogram(ctx context.Context, start time.Time, size time.Duration, n int) ([]RunBucketCount, error) {
	secs := int64(size / time.Second)
	if secs <= 0 || size%time.Second != 0 || n <= 0 {
		return nil, fmt.Errorf("run histogram: bucket %s, count %d: need whole seconds and at least one bucket", size, n)
	}
	start = start.UTC().Truncate(time.Second)
	end := start.Add(time.Duration(n) * size)
	bucket := "(CAST(strftime('%s', substr(r.created_at, 1, 19)) AS INTEGER) - ?) / ?"
	if s.dialect == Postgres {
		bucket = "CAST(FLOOR((EXTRACT(EPOCH FROM r.created_at) - ?) / ?) AS BIGINT)"
	}
	var rows []RunBucketCount
	err := s.rdb.WithContext(ctx).Raw(`SELECT `+bucket+` AS bucket, r.status AS status, COUNT(*) AS n
		FROM runs r JOIN workflows w ON w.id = r.workflow_id
		WHERE r.created_at >= ? AND r.created_at < ? AND w.deleted_at IS NULL
		GROUP BY 1, 2`, start.Unix(), secs, start, end).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count runs from %s by %s: %w", start.Format(time.RFC3339), size, err)
	}
	return rows, nil
}

// FailedRun is a failed run with its workflow's name.
type FailedRun struct {
	ID           string
	WorkflowID   string
	WorkflowName string
	Error        string
	CreatedAt    time.Time
	FinishedAt   *time.Time
}

// RecentFailures returns up to limit runs created since start that failed, newest first.
func (s *Store) RecentFailures(ctx context.Context, since time.Time, limit int) ([]FailedRun, error) {
	var out []FailedRun
	err := s.rdb.WithContext(ctx).Raw(`SELECT r.id AS id, r.workflow_id AS workflow_id, w.name AS workflow_name,
			r.error AS error, r.created_at AS created_at, r.finished_at AS finished_at
		FROM runs r JOIN workflows w ON w.id = r.workflow_id
		WHERE r.created_at >= ? AND r.status = ? AND w.deleted_at IS NULL
		ORDER BY r.created_at DESC, r.id DESC LIMIT ?`, since.UTC(), RunFailed, limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list failed runs since %s: %w", since.Format(time.RFC3339), err)
	}
	return out, nil
}

// FailingPoll is the state of a poll trigger whose last poll failed.
type FailingPoll struct {
	WorkflowID          string
	WorkflowName        string
	LastError           string
	LastPollAt          *time.Time
	FailingSince        *time.Time
	ConsecutiveFailures int
}

// FailingPolls returns the enabled poll triggers whose last poll failed, the longest
// failing first, at most limit of them, and how many there are in all.
func (s *Store) FailingPolls(ctx context.Context, limit int) ([]FailingPoll, int64, error) {
	const from = ` FROM trigger_states t JOIN workflows w ON w.id = t.workflow_id
		WHERE t.consecutive_failures > 0 AND w.trigger_type = 'poll' AND w.enabled = ? AND w.deleted_at IS NULL`
	db := s.rdb.WithContext(ctx)
	var total int64
	if err := db.Raw(`SELECT COUNT(*)`+from, true).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count failing polls: %w", err)
	}
	var out []FailingPoll
	if total == 0 {
		return out, 0, nil
	}
	err := db.Raw(`SELECT t.workflow_id AS workflow_id, w.name AS workflow_name, t.last_error AS last_error,
			t.last_poll_at AS last_poll_at, t.failing_since AS failing_since,
			t.consecutive_failures AS consecutive_failures`+from+`
		ORDER BY t.failing_since, t.workflow_id LIMIT ?`, true, limit).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list failing polls: %w", err)
	}
	return out, total, nil
}

// QueueDepth is the state of the run queue at one moment.
type QueueDepth struct {
	// Ready counts the queued and waiting runs that are due: they wait for a worker.
	Ready int64
	// Scheduled counts the waiting runs not yet due (a delay, a retry's backoff).
	Scheduled int64
	// Running counts the runs a worker holds.
	Running int64
	// OldestReadyAt is when the longest-waiting ready run became due; nil when none is.
	OldestReadyAt *time.Time
}

// Queue measures the run queue at now. The counts are one GROUP BY over the open runs
// (the runs_open partial index); the oldest due run is the first of the runs_ready
// index, the one the next claim takes.
func (s *Store) Queue(ctx context.Context, now time.Time) (*QueueDepth, error) {
	now = now.UTC()
	db := s.rdb.WithContext(ctx)
	var rows []struct {
		Status string
		Due    int
		N      int64
	}
	err := db.Raw(`SELECT r.status AS status, CASE WHEN r.run_at <= ? THEN 1 ELSE 0 END AS due, COUNT(*) AS n
		FROM runs r JOIN workflows w ON w.id = r.workflow_id
		WHERE r.status IN ('queued', 'waiting', 'running') AND w.deleted_at IS NULL
		GROUP BY 1, 2`, now).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count open runs: %w", err)
	}
	q := &QueueDepth{}
	for _, r := range rows {
		switch {
		case r.Status == RunRunning:
			q.Running += r.N
		case r.Due == 1:
			q.Ready += r.N
		default:
			q.Scheduled += r.N
		}
	}
	if q.Ready == 0 {
		return q, nil
	}
	var oldest Run
	err = db.Table("runs r").Select("r.run_at").Joins("JOIN workflows w ON w.id = r.workflow_id").
		Where("r.status IN ('queued', 'waiting') AND r.run_at <= ? AND w.deleted_at IS NULL", now).
		Order("r.run_at, r.id").Limit(1).Take(&oldest).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound): // claimed since the count
	case err != nil:
		return nil, fmt.Errorf("find the oldest due run: %w", err)
	default:
		at := oldest.RunAt.UTC()
		q.OldestReadyAt = &at
	}
	return q, nil
}

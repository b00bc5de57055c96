package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// TriggerState is the shared state of a workflow's schedule or poll trigger.
type TriggerState struct {
	WorkflowID string `gorm:"primaryKey"`
	// Version is the workflow version the state was set up for; a new version resets the
	// schedule, so a changed cron applies from now on.
	Version int
	// LastSlot is the newest schedule tick fired (or the moment the schedule started).
	LastSlot *time.Time
	// NextAt is when the next poll is due.
	NextAt     time.Time
	LeaseOwner *string
	LeaseUntil *time.Time
	// Cursor is the JSON cursor the last successful poll returned.
	Cursor *string
	// Seeded says a poll has succeeded: later polls start runs for new items.
	Seeded              bool
	LastPollAt          *time.Time
	LastSuccessAt       *time.Time
	LastError           string
	FailingSince        *time.Time
	ConsecutiveFailures int
	ItemsSeen           int64
	RunsStarted         int64
	UpdatedAt           time.Time
}

// SyncTriggerState returns the trigger state of a workflow version, creating it when
// absent. A state set up for another version is reset: the schedule counts from now and
// the next poll is due at nextAt. Cursor, seen items and health survive the reset, so
// editing a poll trigger does not replay its source.
func (s *Store) SyncTriggerState(ctx context.Context, workflowID string, version int, now, nextAt time.Time) (*TriggerState, error) {
	now, nextAt = now.UTC(), nextAt.UTC()
	var st TriggerState
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO trigger_states (workflow_id, version, last_slot, next_at, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow_id) DO NOTHING`, workflowID, version, now, nextAt, now).Error; err != nil {
			return err
		}
		if err := tx.Where("workflow_id = ?", workflowID).Take(&st).Error; err != nil {
			return err
		}
		if st.Version == version {
			return nil
		}
		res := tx.Model(&TriggerState{}).Where("workflow_id = ? AND version = ?", workflowID, st.Version).
			Updates(map[string]any{"version": version, "last_slot": now, "next_at": nextAt, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		return tx.Where("workflow_id = ?", workflowID).Take(&st).Error
	})
	if err != nil {
		return nil, fmt.Errorf("sync trigger state of workflow %s: %w", workflowID, err)
	}
	return &st, nil
}

// GetTriggerState returns a workflow's trigger state.
func (s *Store) GetTriggerState(ctx context.Context, workflowID string) (*TriggerState, error) {
	var st TriggerState
	if err := s.rdb.WithContext(ctx).Where("workflow_id = ?", workflowID).Take(&st).Error; err != nil {
		return nil, fmt.Errorf("get trigger state of workflow %s: %w", workflowID, notFound(err))
	}
	return &st, nil
}

// Started is an event and the run it starts, written together.
type Started struct {
	Event *Event
	Run   *Run
}

// FireSlot stores the event and run of one schedule tick, unless the tick's slot (the
// event's dedupe key) is already taken: that is what makes a tick fire once across all
// processes. It moves the state's last slot forward to slot either way, and reports
// whether this call started the run.
func (s *Store) FireSlot(ctx context.Context, started Started, slot time.Time) (bool, error) {
	fired := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if fired, err = s.insertStarted(ctx, tx.Statement.ConnPool, started); err != nil {
			return err
		}
		runs := 0
		if fired {
			runs = 1
		}
		return tx.Exec(`UPDATE trigger_states SET last_slot = CASE WHEN last_slot IS NULL OR last_slot < ? THEN ? ELSE last_slot END,
			runs_started = runs_started + ?, updated_at = ? WHERE workflow_id = ?`,
			slot.UTC(), slot.UTC(), runs, started.Event.ReceivedAt, started.Event.WorkflowID).Error
	})
	if err != nil {
		return false, fmt.Errorf("fire tick %s of workflow %s: %w", slot.UTC().Format(time.RFC3339), started.Event.WorkflowID, err)
	}
	return fired, nil
}

// AdvanceSlot moves the state's last slot forward to slot, for ticks skipped on purpose
// (catch_up none or latest).
func (s *Store) AdvanceSlot(ctx context.Context, workflowID string, slot, now time.Time) error {
	if err := s.db.WithContext(ctx).Exec(`UPDATE trigger_states SET last_slot = ?, updated_at = ?
		WHERE workflow_id = ? AND (last_slot IS NULL OR last_slot < ?)`, slot.UTC(), now.UTC(), workflowID, slot.UTC()).Error; err != nil {
		return fmt.Errorf("advance schedule of workflow %s: %w", workflowID, err)
	}
	return nil
}

// insertStarted inserts the event (skipped on a taken dedupe key) and then its run, and
// announces the run, in the transaction tx (a gorm transaction's ConnPool or a *sql.Tx).
func (s *Store) insertStarted(ctx context.Context, tx gorm.ConnPool, started Started) (bool, error) {
	inserted := map[string]bool{}
	rows, err := tx.QueryContext(ctx, s.insertSQL("events", eventCols, eventColCount, 1)+
		" ON CONFLICT (workflow_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id",
		appendEvent(nil, started.Event)...)
	if err := collectIDs(rows, err, inserted); err != nil {
		return false, fmt.Errorf("insert event %s: %w", started.Event.ID, err)
	}
	if !inserted[started.Event.ID] {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, s.insertSQL("runs", runCols, runColCount, 1), appendRun(nil, started.Run)...); err != nil {
		return false, fmt.Errorf("insert run %s: %w", started.Run.ID, err)
	}
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", notifyChannel); err != nil {
			return false, fmt.Errorf("notify run %s: %w", started.Run.ID, err)
		}
	}
	return true, nil
}

// ClaimPoll takes the poll of a workflow that is due, for this process only, until
// leaseUntil. It returns the state, or nil when the poll is not due or another process
// holds it.
func (s *Store) ClaimPoll(ctx context.Context, workflowID, owner string, now, leaseUntil time.Time) (*TriggerState, error) {
	now = now.UTC()
	var states []TriggerState
	err := s.db.WithContext(ctx).Raw(`UPDATE trigger_states SET lease_owner = ?, lease_until = ?
		WHERE workflow_id = ? AND next_at <= ? AND (lease_owner IS NULL OR lease_until < ?) RETURNING *`,
		owner, leaseUntil.UTC(), workflowID, now, now).Scan(&states).Error
	if err != nil {
		return nil, fmt.Errorf("claim poll of workflow %s: %w", workflowID, err)
	}
	if len(states) == 0 {
		return nil, nil
	}
	return &states[0], nil
}

// PolledItem is one item a poll returned, with the event and run it would start.
type PolledItem struct {
	Key string
	Started
}

// PollSuccess is the outcome of a successful poll, committed in one transaction.
type PollSuccess struct {
	WorkflowID, Owner string
	Now, NextAt       time.Time
	// Items are the poll's items, oldest first.
	Items []PolledItem
	// Cursor is the JSON cursor to save; nil keeps the saved one.
	Cursor *string
	// Backfill is how many of the newest new items the first poll starts runs for.
	Backfill int
}

// PollResult says what a committed poll did.
type PollResult struct {
	// New counts the items not seen before; Started the runs started for them.
	New, Started int
}

// ErrPollLost means the process no longer held the poll it tried to commit: its lease
// ran out and another process polled.
var ErrPollLost = errors.New("poll lease lost")

// CommitPoll records a successful poll in one transaction: the keys of its items join
// the seen set, each item not seen before starts its run (none on the first poll but
// the backfill), and the cursor, health and next poll time are saved. Nothing is written
// unless the caller still holds the poll.
func (s *Store) CommitPoll(ctx context.Context, p PollSuccess) (PollResult, error) {
	var out PollResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var states []TriggerState
		now := p.Now.UTC()
		if err := tx.Raw(`UPDATE trigger_states SET lease_owner = NULL, lease_until = NULL, next_at = ?,
			cursor = COALESCE(?, cursor), last_poll_at = ?, last_success_at = ?, last_error = '',
			failing_since = NULL, consecutive_failures = 0, updated_at = ?
			WHERE workflow_id = ? AND lease_owner = ? RETURNING *`,
			p.NextAt.UTC(), p.Cursor, now, now, now, p.WorkflowID, p.Owner).Scan(&states).Error; err != nil {
			return err
		}
		if len(states) == 0 {
			return ErrPollLost
		}
		seeding := !states[0].Seeded
		fresh, err := s.insertSeen(tx, p.WorkflowID, p.Items, now)
		if err != nil {
			return err
		}
		out.New = len(fresh)
		if seeding {
			fresh = fresh[max(0, len(fresh)-p.Backfill):]
		}
		if err := s.insertPolled(tx, fresh); err != nil {
			return err
		}
		out.Started = len(fresh)
		return tx.Exec(`UPDATE trigger_states SET seeded = ?, items_seen = items_seen + ?, runs_started = runs_started + ?
			WHERE workflow_id = ?`, true, out.New, out.Started, p.WorkflowID).Error
	})
	if err != nil {
		return PollResult{}, fmt.Errorf("commit poll of workflow %s: %w", p.WorkflowID, err)
	}
	return out, nil
}

// insertPolled inserts the events and runs of new poll items, many rows per statement,
// and announces the runs.
func (s *Store) insertPolled(tx *gorm.DB, items []PolledItem) error {
	if len(items) == 0 {
		return nil
	}
	chunk := len(items)
	if s.dialect == SQLite {
		chunk = sqliteChunkRows
	}
	for from := 0; from < len(items); from += chunk {
		part := items[from:min(from+chunk, len(items))]
		args := make([]any, 0, len(part)*eventColCount)
		for _, it := range part {
			args = appendEvent(args, it.Event)
		}
		if err := tx.Exec(s.insertSQL("events", eventCols, eventColCount, len(part)), args...).Error; err != nil {
			return fmt.Errorf("store poll events: %w", err)
		}
		args = args[:0]
		for _, it := range part {
			args = appendRun(args, it.Run)
		}
		if err := tx.Exec(s.insertSQL("runs", runCols, runColCount, len(part)), args...).Error; err != nil {
			return fmt.Errorf("store poll runs: %w", err)
		}
	}
	return s.notify(tx)
}

// insertSeen adds the items' keys to the workflow's seen set and returns the items whose
// keys were new, in their order; of items sharing a key only the first counts. Keys seen
// before are seen again now: pruning keeps the most recently seen keys, so an item the
// source keeps returning must stay known however many newer ones come.
func (s *Store) insertSeen(tx *gorm.DB, workflowID string, items []PolledItem, now time.Time) ([]PolledItem, error) {
	inserted := map[string]bool{}
	chunk := 100
	if s.dialect == SQLite {
		chunk = 4 * sqliteChunkRows // binding costs the square of a statement's parameters
	}
	for from := 0; from < len(items); from += chunk {
		part := items[from:min(from+chunk, len(items))]
		args := make([]any, 0, 3*len(part))
		dup := map[string]bool{}
		rows := 0
		for _, it := range part {
			if dup[it.Key] {
				continue
			}
			dup[it.Key] = true
			args = append(args, workflowID, it.Key, now)
			rows++
		}
		var keys []string
		q := "INSERT INTO poll_seen (workflow_id, item_key, seen_at) VALUES (?, ?, ?)" +
			strings.Repeat(", (?, ?, ?)", rows-1) + " ON CONFLICT (workflow_id, item_key) DO NOTHING RETURNING item_key"
		if err := tx.Raw(q, args...).Scan(&keys).Error; err != nil {
			return nil, fmt.Errorf("record seen items: %w", err)
		}
		for _, k := range keys {
			inserted[k] = true
		}
		if len(keys) < rows {
			again := make([]string, 0, rows-len(keys))
			for k := range dup {
				if !inserted[k] {
					again = append(again, k)
				}
			}
			if err := tx.Exec("UPDATE poll_seen SET seen_at = ? WHERE workflow_id = ? AND item_key IN ? AND seen_at < ?",
				now, workflowID, again, now).Error; err != nil {
				return nil, fmt.Errorf("refresh seen items: %w", err)
			}
		}
	}
	var fresh []PolledItem
	for _, it := range items {
		if inserted[it.Key] {
			fresh = append(fresh, it)
			delete(inserted, it.Key)
		}
	}
	return fresh, nil
}

// PollFailure is the outcome of a failed poll.
type PollFailure struct {
	WorkflowID, Owner string
	Now, NextAt       time.Time
	Error             string
	// AlertAfter is the failure count at which Alert is started; Alert may be nil.
	AlertAfter int
	// Alert is the on_failure run, started once per failure streak. Its event's dedupe key
	// is set by CommitPollFailure from the streak's start.
	Alert *Started
}

// CommitPollFailure records a failed poll: the error, one more consecutive failure, and
// the next poll time. When the streak reaches AlertAfter it starts the alert run in the
// same transaction. It reports the streak's length and whether the alert started.
func (s *Store) CommitPollFailure(ctx context.Context, p PollFailure) (failures int, alerted bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var states []TriggerState
		now := p.Now.UTC()
		if err := tx.Raw(`UPDATE trigger_states SET lease_owner = NULL, lease_until = NULL, next_at = ?,
			last_poll_at = ?, last_error = ?, failing_since = COALESCE(failing_since, ?),
			consecutive_failures = consecutive_failures + 1, updated_at = ?
			WHERE workflow_id = ? AND lease_owner = ? RETURNING *`,
			p.NextAt.UTC(), now, p.Error, now, now, p.WorkflowID, p.Owner).Scan(&states).Error; err != nil {
			return err
		}
		if len(states) == 0 {
			return ErrPollLost
		}
		failures = states[0].ConsecutiveFailures
		if p.Alert == nil || failures != p.AlertAfter {
			return nil
		}
		key := fmt.Sprintf("poll-failing:%s:%d", p.WorkflowID, states[0].FailingSince.UnixNano())
		p.Alert.Event.DedupeKey = &key
		var err error
		alerted, err = s.insertStarted(ctx, tx.Statement.ConnPool, *p.Alert)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("record failed poll of workflow %s: %w", p.WorkflowID, err)
	}
	return failures, alerted, nil
}

// PruneSeen keeps the newest keep keys of each workflow's seen set and deletes the rest.
func (s *Store) PruneSeen(ctx context.Context, keep int) (int64, error) {
	var ids []string
	if err := s.rdb.WithContext(ctx).Raw(`SELECT workflow_id FROM poll_seen GROUP BY workflow_id HAVING COUNT(*) > ?`, keep).
		Scan(&ids).Error; err != nil {
		return 0, fmt.Errorf("find seen sets to prune: %w", err)
	}
	var total int64
	for _, id := range ids {
		res := s.db.WithContext(ctx).Exec(`DELETE FROM poll_seen WHERE workflow_id = ? AND seen_at <
			(SELECT seen_at FROM poll_seen WHERE workflow_id = ? ORDER BY seen_at DESC LIMIT 1 OFFSET ?)`, id, id, keep-1)
		if res.Error != nil {
			return total, fmt.Errorf("prune seen items of workflow %s: %w", id, res.Error)
		}
		total += res.RowsAffected
	}
	return total, nil
}

// ScheduledWorkflow is an enabled workflow with a schedule or poll trigger.
type ScheduledWorkflow struct {
	ID      string
	Version int
}

// ScheduledWorkflows lists the enabled workflows whose trigger runs on a schedule.
func (s *Store) ScheduledWorkflows(ctx context.Context) ([]ScheduledWorkflow, error) {
	var out []ScheduledWorkflow
	if err := s.rdb.WithContext(ctx).Model(&Workflow{}).Select("id, version").
		Where("enabled = ? AND deleted_at IS NULL AND trigger_type IN ('schedule', 'poll')", true).Order("id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list scheduled workflows: %w", err)
	}
	return out, nil
}

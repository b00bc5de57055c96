package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Pipelined group commits on PostgreSQL. Through database/sql each statement of a
// transaction is a round trip of its own (BEGIN, every INSERT or UPDATE, COMMIT), and on
// a machine whose cores the database shares, each round trip costs two context switches
// and a wake-up of the backend as well as the wait. Here a group commit's statements go
// to the server in one pgx batch (a pipeline: all sent, then all results read), BEGIN and
// COMMIT included, so a round of the writer (batch.go), which takes the batches of
// webhooks, outcomes and checkpoints queued together, is one transaction and one round
// trip (two when the second half depends on the first: deliveries with dedupe keys).
// Statements that used to depend on an earlier statement's RETURNING within the same
// transaction are merged with it through a data-modifying WITH, which PostgreSQL runs
// as one statement.

// pgTx runs fn in one transaction on one pooled connection. fn sends batches with send,
// each one round trip, and closes the results it gets (Close reads every statement's
// results through the callbacks queued with it); the batch fn returns is sent last with
// COMMIT appended. BEGIN goes with the first batch sent.
func (s *Store) pgTx(ctx context.Context, fn func(send func(*pgx.Batch) (pgx.BatchResults, error)) (*pgx.Batch, error)) error {
	conn, err := s.closer[0].Conn(ctx)
	if err != nil {
		return fmt.Errorf("take a connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres connection is a %T, not pgx's", dc)
		}
		pc := sc.Conn()
		began := false
		send := func(b *pgx.Batch) (pgx.BatchResults, error) {
			if began {
				return pc.SendBatch(ctx, b), nil
			}
			began = true
			withBegin := &pgx.Batch{}
			withBegin.Queue("BEGIN")
			withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
			br := pc.SendBatch(ctx, withBegin)
			if _, err := br.Exec(); err != nil { // the BEGIN; the rest are read through their callbacks
				br.Close()
				return nil, err
			}
			return br, nil
		}
		last, err := fn(send)
		if err == nil {
			err = s.pgCommit(send, last)
		}
		if err != nil && began {
			// The connection goes back to the pool: leave no transaction open on it, and
			// have database/sql drop it if even the ROLLBACK fails.
			if _, rbErr := pc.Exec(context.Background(), "ROLLBACK"); rbErr != nil {
				return errors.Join(err, driver.ErrBadConn)
			}
		}
		return err
	})
}

// pgCommit sends last's statements, reading each one's results through its callbacks,
// then COMMIT.
func (s *Store) pgCommit(send func(*pgx.Batch) (pgx.BatchResults, error), last *pgx.Batch) error {
	if last == nil {
		last = &pgx.Batch{}
	}
	last.Queue("COMMIT")
	br, err := send(last)
	if err != nil {
		return err
	}
	return br.Close()
}

// pgWrite is one committer's batch as statements of a pipelined transaction (pgRound),
// and the verdicts their results give.
type pgWrite struct {
	// first holds statements whose results the rest depends on (the events of webhooks
	// with delivery ids): they go, after BEGIN, in a round trip of their own.
	first []*pgx.QueuedQuery
	// then, when set, runs once first's results are read, and queues the rest with
	// add.
	then func(add func(*pgx.QueuedQuery))
	// plain are the statements that need no result of first.
	plain []*pgx.QueuedQuery
	// fenced are writes to leased runs: the round sends them after every batch's other
	// statements, all batches' together in run id order, the order every process locks
	// rows in, so that two processes (or two rounds) finishing or checkpointing the same
	// runs cannot deadlock.
	fenced []fencedQuery
	// errs is each item's verdict, set by the statements' callbacks.
	errs []error
}

// fencedQuery is a statement that locks the row of one run.
type fencedQuery struct {
	runID string
	q     *pgx.QueuedQuery
}

// pgQuery is a statement for a pipeline.
func pgQuery(sql string, args ...any) *pgx.QueuedQuery {
	return &pgx.QueuedQuery{SQL: sql, Arguments: args}
}

// pgRound commits the statements of several batches in one transaction and one pipeline:
// BEGIN, the first statements of each and, once their results are read, the rest of
// each, then the fenced ones of all in run id order, and COMMIT. One round trip, two when
// a batch has first statements.
func (s *Store) pgRound(ws ...*pgWrite) error {
	return s.pgTx(context.Background(), func(send func(*pgx.Batch) (pgx.BatchResults, error)) (*pgx.Batch, error) {
		b := &pgx.Batch{}
		for _, w := range ws {
			b.QueuedQueries = append(b.QueuedQueries, w.first...)
		}
		if len(b.QueuedQueries) > 0 {
			br, err := send(b)
			if err != nil {
				return nil, err
			}
			if err := br.Close(); err != nil {
				return nil, err
			}
			b = &pgx.Batch{}
		}
		add := func(q *pgx.QueuedQuery) { b.QueuedQueries = append(b.QueuedQueries, q) }
		n := 0
		for _, w := range ws {
			b.QueuedQueries = append(b.QueuedQueries, w.plain...)
			if w.then != nil {
				w.then(add)
			}
			n += len(w.fenced)
		}
		fenced := make([]fencedQuery, 0, n)
		for _, w := range ws {
			fenced = append(fenced, w.fenced...)
		}
		slices.SortStableFunc(fenced, func(a, b fencedQuery) int { return strings.Compare(a.runID, b.runID) })
		for _, f := range fenced {
			add(f.q)
		}
		return b, nil
	})
}

// writeIngestsPG is writeIngests on PostgreSQL: one round trip for the batch, two with
// dedupe keys (the runs to insert are those whose events were new).
func (s *Store) writeIngestsPG(batch []ingestItem) ([]error, error) {
	w := s.ingestsPG(batch)
	if err := s.pgRound(w); err != nil {
		return nil, err
	}
	return w.errs, nil
}

// ingestsPG gives a batch of webhooks' statements.
func (s *Store) ingestsPG(batch []ingestItem) *pgWrite {
	withKey := false
	for _, it := range batch {
		withKey = withKey || it.ev.DedupeKey != nil
	}
	w := &pgWrite{errs: make([]error, len(batch))}
	args := make([]any, 0, len(batch)*eventColCount)
	for _, it := range batch {
		args = appendEvent(args, it.ev)
	}
	q := s.insertSQL("events", eventCols, eventColCount, len(batch))
	var inserted map[string]bool
	if withKey {
		// With delivery ids, only events whose id is new are inserted, and RETURNING
		// names them: the others are duplicates (also of each other in the batch).
		inserted = map[string]bool{}
		ev := pgQuery(q+" ON CONFLICT (workflow_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id", args...)
		ev.Query(func(rows pgx.Rows) error { return collectPgIDs(rows, inserted) })
		w.first = []*pgx.QueuedQuery{ev}
	} else {
		w.plain = []*pgx.QueuedQuery{pgQuery(q, args...)}
	}
	w.then = func(add func(*pgx.QueuedQuery)) {
		runs := make([]*Run, 0, len(batch))
		for i, it := range batch {
			if withKey && !inserted[it.ev.ID] {
				w.errs[i] = ErrDuplicate
				continue
			}
			if it.run != nil {
				runs = append(runs, it.run)
			}
		}
		if len(runs) == 0 {
			return
		}
		args := make([]any, 0, len(runs)*runColCount)
		queued, leased := false, []string(nil)
		for _, r := range runs {
			args = appendRun(args, r)
			switch r.Status {
			case RunRunning:
				leased = append(leased, r.ID)
			case RunQueued:
				queued = true
			}
		}
		add(pgQuery(s.insertSQL("runs", runCols, runColCount, len(runs)), args...))
		if len(leased) > 0 {
			// As in writeIngests: runs leased to this process's workers whose workflow
			// another process deleted meanwhile are flagged for cancellation.
			cancelled := map[string]bool{}
			guard := pgQuery(`UPDATE runs SET cancel_requested = TRUE WHERE id = ANY($1)
				AND workflow_id IN (SELECT id FROM workflows WHERE deleted_at IS NOT NULL) RETURNING id`, leased)
			guard.Query(func(rows pgx.Rows) error {
				if err := collectPgIDs(rows, cancelled); err != nil {
					return err
				}
				for _, r := range runs {
					r.CancelRequested = r.CancelRequested || cancelled[r.ID]
				}
				return nil
			})
			add(guard)
		}
		if queued { // only queued runs need a claim; leased ones already have their worker
			add(pgQuery("SELECT pg_notify($1, '')", notifyChannel))
		}
	}
	return w
}

// collectPgIDs adds the ids of a RETURNING id statement to into.
func collectPgIDs(rows pgx.Rows, into map[string]bool) error {
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		into[id] = true
	}
	return rows.Err()
}

// stillRunning is status = 'running' in a form the planner cannot match to the partial
// indexes runs_expiring and runs_open, so that fenced writes find their runs by primary
// key. Those indexes look small to the planner (few runs are running at any time), but
// every run passes through them and leaves a dead entry behind until vacuum: under load,
// an outcome that walked runs_expiring read about 1,800 index entries to find its few
// runs (pg_stat_user_indexes during hookflow bench).
const stillRunning = "(status = 'running') IS TRUE"

// stepColsPG are step_runs' columns with the types a VALUES list needs in a WITH: there
// the parameters take no type from the table.
var stepColsPG = []string{"id text", "run_id text", "step_id text", "position int", "status text", "attempts int",
	"input text", "output text", "error text", "started_at timestamptz", "finished_at timestamptz",
	"duration_ms int", "attempt_errors text"}

const stepCols = "id, run_id, step_id, position, status, attempts, input, output, error, started_at, finished_at, duration_ms, attempt_errors"

// upsertStepsWhereSQL is an INSERT of n step records, numbered from parameter first+1,
// that writes only the records whose run_id the condition cond (over v.run_id) accepts,
// replacing those of earlier attempts.
func upsertStepsWhereSQL(first, n int, cond string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO step_runs (" + stepCols + ") SELECT v.* FROM (VALUES ")
	p := first
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("(")
		for j, c := range stepColsPG {
			if j > 0 {
				b.WriteString(",")
			}
			p++
			b.WriteString("$" + strconv.Itoa(p) + "::" + c[strings.IndexByte(c, ' ')+1:])
		}
		b.WriteString(")")
	}
	b.WriteString(") AS v(" + stepCols + ") WHERE " + cond +
		` ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
		input = excluded.input, output = excluded.output, error = excluded.error, finished_at = excluded.finished_at,
		duration_ms = excluded.duration_ms, attempt_errors = excluded.attempt_errors`)
	return b.String()
}

func appendStep(args []any, st *StepRun) []any {
	return append(args, st.ID, st.RunID, st.StepID, st.Position, st.Status, st.Attempts, st.Input, st.Output,
		st.Error, st.StartedAt, st.FinishedAt, st.DurationMS, st.AttemptErrors)
}

// writeCheckpointsPG is writeCheckpoints on PostgreSQL: one statement per run, the
// fenced UPDATE and its step record together, all of the batch in one round trip.
func (s *Store) writeCheckpointsPG(items []*checkpointItem) ([]error, error) {
	w := checkpointsPG(items)
	if err := s.pgRound(w); err != nil {
		return nil, err
	}
	return w.errs, nil
}

// checkpointPG is a checkpoint's fenced UPDATE with its step record.
var checkpointPG = `WITH held AS (UPDATE runs SET step_index = $1, updated_at = $2, lease_until = $3
		WHERE id = $4 AND lease_owner = $5 AND attempt = $6 AND ` + stillRunning + ` RETURNING cancel_requested),
	step AS (` + upsertStepsWhereSQL(6, 1, "EXISTS (SELECT 1 FROM held)") + `)
	SELECT cancel_requested FROM held`

// checkpointsPG gives a batch of checkpoints' statements, all fenced.
func checkpointsPG(items []*checkpointItem) *pgWrite {
	w := &pgWrite{errs: make([]error, len(items)), fenced: make([]fencedQuery, len(items))}
	for i, it := range items {
		w.errs[i] = ErrLeaseLost // this run only, unless its UPDATE finds the lease held
		q := pgQuery(checkpointPG, appendStep([]any{it.next, it.now, it.leaseUntil, it.lease.RunID, it.lease.Owner, it.lease.Attempt}, it.step)...)
		q.Query(func(rows pgx.Rows) error {
			for rows.Next() {
				w.errs[i] = nil
				if err := rows.Scan(&it.cancel); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		w.fenced[i] = fencedQuery{runID: it.lease.RunID, q: q}
	}
	return w
}

// writeFinishesPG is writeFinishes on PostgreSQL for batches that start no alert: one
// statement per run, its fenced UPDATE and its last step record together, the whole
// batch in one round trip. One statement per run rather than per group of runs ending
// alike: the planner always finds a single run by its primary key, while for a list of
// ids it weighs a sequential scan against stale statistics (a queue table grows and
// churns faster than autovacuum analyses it). The statements go in run id order (see
// pgWrite.fenced).
func (s *Store) writeFinishesPG(items []finishItem) ([]error, error) {
	w := finishesPG(items)
	if err := s.pgRound(w); err != nil {
		return nil, err
	}
	return w.errs, nil
}

const finishPG = `UPDATE runs SET status = $1, error = $2, finished_at = $3, updated_at = $3, lease_owner = NULL, lease_until = NULL
	WHERE id = $4 AND lease_owner = $5 AND attempt = $6 AND ` + stillRunning + ` RETURNING id`

// finishWithStepPG is finishPG with the run's last step record.
var finishWithStepPG = `WITH done AS (` + finishPG + `), step AS (` + upsertStepsWhereSQL(6, 1, "EXISTS (SELECT 1 FROM done)") + `)
	SELECT id FROM done`

// finishesPG gives a batch of outcomes' statements, all fenced. The batch starts no
// alert (those take writeFinishesTx).
func finishesPG(items []finishItem) *pgWrite {
	w := &pgWrite{errs: make([]error, len(items)), fenced: make([]fencedQuery, len(items))}
	for i, it := range items {
		// The verdict is by item, not by run id: two claims of one run may end in the
		// same batch, and only the latest claim's outcome may be written.
		w.errs[i] = ErrLeaseLost // this run only, unless its UPDATE finds the lease held
		args := []any{it.Status, it.Error, it.Now, it.lease.RunID, it.lease.Owner, it.lease.Attempt}
		sql := finishPG
		if it.Last != nil {
			sql, args = finishWithStepPG, appendStep(args, it.Last)
		}
		q := pgQuery(sql, args...)
		q.Query(func(rows pgx.Rows) error {
			for rows.Next() {
				w.errs[i] = nil
			}
			return rows.Err()
		})
		w.fenced[i] = fencedQuery{runID: it.lease.RunID, q: q}
	}
	return w
}

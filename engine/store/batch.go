package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. Concurrent webhooks share one transaction, so one fsync acknowledges
// many of them: each caller still returns only after its own rows are committed. The
// committer takes whatever is queued when it gets to it, so a lone request waits for
// nobody, and a burst fills batches by itself.
//
// The batch statements are plain SQL on database/sql, not gorm: on this path gorm's
// reflection and callbacks cost more than the database's own work. On SQLite each
// connection keeps its statements prepared (sqlitetime.go), so a batch of a given size
// is compiled once.

// ingestBatchMax bounds a batch: 256 events and runs stay well below both databases'
// limits on statement parameters.
const ingestBatchMax = 256

// committer queues group commits of one kind: callers queue items and wait; its writer's
// rounds write whatever is queued and hand each caller its own verdict.
type committer[T any] struct {
	once     sync.Once
	stopOnce sync.Once
	queue    chan *pending[T]
	stop     chan struct{}
	// mu orders enqueueing against close: callers hold it shared while they queue, close
	// holds it alone while it marks the committer closed, so nothing enters the queue
	// after the writer has begun its last drain.
	mu     sync.RWMutex
	closed bool
	// write stores a batch in one transaction of its own and returns one error per item
	// (nil for success), or a single error for the whole batch: a round holding only
	// this committer's batch, or one whose shared transaction failed.
	write func(items []T) ([]error, error)
	// shared commits this committer's batches in its rounds, together with other
	// committers'. On SQLite writeTx writes a batch inside the round's transaction; on
	// PostgreSQL writePG gives a batch's statements for the round's pipeline.
	shared  *writer
	writeTx func(ctx context.Context, tx *sql.Tx, items []T) ([]error, error)
	writePG func(items []T) *pgWrite
	// alone, when set, names the items a round commits in a transaction of their own,
	// after the shared one, rather than in it.
	alone func(T) bool
}

type pending[T any] struct {
	item T
	done chan error
}

func newCommitter[T any](write func([]T) ([]error, error)) *committer[T] {
	return &committer[T]{stop: make(chan struct{}), write: write, queue: make(chan *pending[T], 4*ingestBatchMax)}
}

// do queues item and waits for the commit of its batch.
func (c *committer[T]) do(ctx context.Context, item T) error {
	p := &pending[T]{item: item, done: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errStoreClosed
	}
	// The writer's loops start under the shared lock, so they are all started before
	// close can take the lock alone and the writer wait for them.
	c.once.Do(c.shared.start)
	select {
	case c.queue <- p:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	case <-c.stop:
		c.mu.RUnlock()
		return errStoreClosed
	}
	c.mu.RUnlock()
	c.shared.poke()
	// Once queued the item is committed or failed whatever the caller's context says, so
	// wait for the verdict rather than guess it.
	return <-p.done
}

// close marks the committer closed, so nothing more is queued; the writer's close then
// commits what is queued.
func (c *committer[T]) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.stopOnce.Do(func() { close(c.stop) })
}

func itemsOf[T any](batch []*pending[T]) []T {
	items := make([]T, len(batch))
	for i, p := range batch {
		items[i] = p.item
	}
	return items
}

func (c *committer[T]) commit(batch []*pending[T]) {
	items := itemsOf(batch)
	errs, err := c.write(items)
	if err != nil && len(items) > 1 {
		// One item's failure (or a deadlock with another process) must not sink the others:
		// write each alone, so only the faulty one fails.
		errs, err = make([]error, len(items)), nil
		for i, it := range items {
			one, oneErr := c.write([]T{it})
			switch {
			case oneErr != nil:
				errs[i] = oneErr
			case one != nil:
				errs[i] = one[0]
			}
		}
	}
	deliver(batch, errs, err)
}

// deliver hands each caller of a batch its verdict: err for all, or its own of errs.
func deliver[T any](batch []*pending[T], errs []error, err error) {
	for i, p := range batch {
		switch {
		case err != nil:
			p.done <- err
		case errs != nil:
			p.done <- errs[i]
		default:
			p.done <- nil
		}
	}
}

// take moves up to n queued items into batches of a round: shared, those to write in the
// round's transaction, and alone, those to commit in one of their own (see alone). Each
// is nil when it holds nothing. The batches belong to the round, so rounds of one writer
// may run at once.
func (c *committer[T]) take(n int) (shared, alone roundBatch) {
	var in, out []*pending[T]
	for range n {
		var p *pending[T]
		select {
		case p = <-c.queue:
		default:
		}
		if p == nil {
			break
		}
		if c.alone != nil && c.alone(p.item) {
			out = append(out, p)
		} else {
			in = append(in, p)
		}
	}
	if len(in) > 0 {
		shared = &held[T]{c: c, batch: in}
	}
	if len(out) > 0 {
		alone = &held[T]{c: c, batch: out}
	}
	return shared, alone
}

// held is one committer's batch in a round of a writer, with the verdicts of its write.
type held[T any] struct {
	c     *committer[T]
	batch []*pending[T]
	errs  []error
	pg    *pgWrite
}

// writeTx writes the batch in tx, keeping each item's verdict for deliver.
func (h *held[T]) writeTx(ctx context.Context, tx *sql.Tx) error {
	errs, err := h.c.writeTx(ctx, tx, itemsOf(h.batch))
	h.errs = errs
	return err
}

// writePG gives the batch's statements for the round's pipeline; their results set the
// verdicts.
func (h *held[T]) writePG() *pgWrite {
	h.pg = h.c.writePG(itemsOf(h.batch))
	return h.pg
}

// deliver hands the verdicts of a committed round to the batch's callers.
func (h *held[T]) deliver() {
	errs := h.errs
	if h.pg != nil {
		errs = h.pg.errs
	}
	deliver(h.batch, errs, nil)
}

// commitAlone commits the batch through the committer's write, alone and then item by
// item (one item's failure sinks no other).
func (h *held[T]) commitAlone() { h.c.commit(h.batch) }

// writer commits the batches of several committers in shared transactions. SQLite has a
// single writer connection, so webhooks, run outcomes and step checkpoints committed
// separately took turns on it, each round with its own BEGIN, COMMIT and fsync, and each
// writing again the pages they share (the newest rows of runs and their indexes). A round
// of the writer takes what every committer has queued and commits it in one transaction;
// each caller still returns only once its own rows are committed.
//
// On PostgreSQL a round is one pipeline (pgRound): BEGIN, every batch's statements and
// COMMIT in one round trip, where each committer's batch used to be a pipeline and a
// transaction of its own. There several rounds run at once, each on a connection of its
// own: a commit waits on the server's WAL flush, and concurrent commits share it.
type writer struct {
	parts []roundPart
	// commit writes the batches of a round in one transaction.
	commit func(batches []roundBatch) error
	// parallel is how many rounds may run at once.
	parallel int
	// wake is poked after each item queued; one token stands for any number of them.
	wake           chan struct{}
	stop           chan struct{}
	once, stopOnce sync.Once
	wg             sync.WaitGroup
	// rounds counts committed shared transactions, for tests.
	rounds atomic.Int64
	// inFlight counts the rounds being committed. With parallelMin set, a loop starts a
	// round while another is in flight only once that many items are queued.
	inFlight    atomic.Int32
	parallelMin int
}

// parallelRoundMin is the parallelMin of PostgreSQL's writer. Rounds of the few items
// queued while another round was in flight cost a commit each: on the bench (2 cores,
// PostgreSQL on the same machine) four rounds at once averaged 2.9 items each. Waiting
// for 8 gave 0.81-0.84x CPU per webhook and 1.16-1.20x webhooks accepted, and with the
// database 1 ms away 1.13-1.22x accepted, where one round at a time lost 13-21 %
// (docs/performance.md, "Rounds in flight on PostgreSQL").
const parallelRoundMin = 8

// queued counts the items waiting in the writer's committers.
func (w *writer) queued() int {
	n := 0
	for _, p := range w.parts {
		n += p.queued()
	}
	return n
}

func (c *committer[T]) queued() int { return len(c.queue) }

// roundPart is one committer's side of a writer.
type roundPart interface {
	take(n int) (shared, alone roundBatch)
	queued() int
	close()
}

// roundBatch is one committer's batch in a round.
type roundBatch interface {
	writeTx(ctx context.Context, tx *sql.Tx) error
	writePG() *pgWrite
	deliver()
	commitAlone()
}

// newWriter returns a writer whose rounds are transactions of db, one at a time
// (SQLite).
func newWriter(db *sql.DB) *writer {
	w := newRounds(1)
	w.commit = func(batches []roundBatch) error {
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, b := range batches {
			if err := b.writeTx(ctx, tx); err != nil {
				return err
			}
		}
		return tx.Commit()
	}
	return w
}

// newPipelineWriter returns a writer whose rounds are pipelines of s (PostgreSQL),
// parallel of them at once.
func newPipelineWriter(s *Store, parallel int) *writer {
	w := newRounds(parallel)
	w.parallelMin = parallelRoundMin
	w.commit = func(batches []roundBatch) error {
		ws := make([]*pgWrite, len(batches))
		for i, b := range batches {
			ws[i] = b.writePG()
		}
		return s.pgRound(ws...)
	}
	return w
}

func newRounds(parallel int) *writer {
	return &writer{parallel: max(parallel, 1), wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// join makes c commit through w: writeTx writes a batch inside w's transaction.
func join[T any](w *writer, c *committer[T], writeTx func(ctx context.Context, tx *sql.Tx, items []T) ([]error, error)) {
	c.shared, c.writeTx = w, writeTx
	w.parts = append(w.parts, c)
}

// joinPipeline makes c commit through w's pipelines: writePG gives a batch's statements.
// The items alone names (nil: none) are committed by c's write in a transaction of their
// own, after the round's.
func joinPipeline[T any](w *writer, c *committer[T], writePG func(items []T) *pgWrite, alone func(T) bool) {
	c.shared, c.writePG, c.alone = w, writePG, alone
	w.parts = append(w.parts, c)
}

func (w *writer) start() {
	w.once.Do(func() {
		for range w.parallel {
			w.wg.Go(w.loop)
		}
	})
}

func (w *writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close marks every committer closed, so nothing more is queued, then commits what is
// queued and stops the loops.
func (w *writer) close() {
	for _, p := range w.parts {
		p.close()
	}
	w.stopOnce.Do(func() { close(w.stop) })
	w.wg.Wait()
}

func (w *writer) loop() {
	for {
		stopping := false
		select {
		case <-w.wake:
		case <-w.stop:
			stopping = true
		}
		// Rounds until every queue is empty: what queued during a commit is next. Another
		// loop may take some of it meanwhile: each round owns what it took.
		for {
			// A second round while one is in flight only for a batch worth its own commit;
			// fewer items wait for the round in flight, whose loop takes them next.
			if !stopping && w.parallelMin > 0 && w.inFlight.Load() > 0 && w.queued() < w.parallelMin {
				break
			}
			var shared, alone []roundBatch
			for _, p := range w.parts {
				in, out := p.take(ingestBatchMax)
				if in != nil {
					shared = append(shared, in)
				}
				if out != nil {
					alone = append(alone, out)
				}
			}
			if len(shared) == 0 && len(alone) == 0 {
				break
			}
			w.inFlight.Add(1)
			w.round(shared)
			for _, b := range alone {
				b.commitAlone()
			}
			w.inFlight.Add(-1)
		}
		if stopping {
			return
		}
	}
}

// round commits the batches in one transaction. If that fails, each batch is committed
// on its own (and item by item after that), so that one committer's failure sinks no
// other's items.
func (w *writer) round(batches []roundBatch) {
	switch len(batches) {
	case 0:
		return
	case 1:
		batches[0].commitAlone()
		return
	}
	if err := w.commit(batches); err != nil {
		for _, b := range batches {
			b.commitAlone()
		}
		return
	}
	w.rounds.Add(1)
	for _, b := range batches {
		b.deliver()
	}
}

// inTx runs write in a transaction of db and commits it: a committer's write of its own
// batch.
func inTx(db *sql.DB, write func(ctx context.Context, tx *sql.Tx) ([]error, error)) ([]error, error) {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	errs, err := write(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return errs, nil
}

var errStoreClosed = errors.New("store closed")

// ingestItem is one webhook's rows.
type ingestItem struct {
	ev  *Event
	run *Run
}

// IngestEvent stores an event and, when run is not nil, its queued run, through the group
// committer: it returns once the batch holding them is committed, so a webhook is
// acknowledged only once both are durable. An event whose
// dedupe key its workflow already has is ErrDuplicate, and its run is not stored.
func (s *Store) IngestEvent(ctx context.Context, ev *Event, run *Run) error {
	err := s.ingests.do(ctx, ingestItem{ev: ev, run: run})
	if err != nil && !errors.Is(err, ErrDuplicate) {
		return fmt.Errorf("store event %s of workflow %s: %w", ev.ID, ev.WorkflowID, err)
	}
	return err
}

// sqliteChunkRows is how many rows one SQLite INSERT carries. Each row count is its own
// statement text, kept prepared per connection: a small bound keeps the few texts of a
// batch in the statement cache. (It was chosen when the former driver bound parameters
// in time quadratic in their number.)
const sqliteChunkRows = 8

const (
	eventCols = "id, workflow_id, received_at, method, headers, query, content_type, body, dedupe_key, verdict, reason, body_size"
	// A run is inserted queued, already leased to the ingesting process (direct
	// dispatch: the lease columns are those a claim would set), or already ended filtered
	// (its filter was evaluated at ingress).
	runCols = "id, workflow_id, version, event_id, status, run_at, step_index, created_at, updated_at, deadline_at, replay_of, " +
		"attempt, lease_owner, lease_until, started_at, finished_at"
	// eventColCount and runColCount are the number of columns above.
	eventColCount = 12
	runColCount   = 16
)

// appendEvent appends an event's values in the order of eventCols.
func appendEvent(args []any, e *Event) []any {
	return append(args, e.ID, e.WorkflowID, e.ReceivedAt, e.Method, e.Headers, e.Query, e.ContentType,
		e.Body, e.DedupeKey, e.Verdict, e.Reason, e.BodySize)
}

// appendRun appends a queued run's values in the order of runCols.
func appendRun(args []any, r *Run) []any {
	return append(args, r.ID, r.WorkflowID, r.Version, r.EventID, r.Status, r.RunAt, r.StepIndex, r.CreatedAt,
		r.UpdatedAt, r.DeadlineAt, r.ReplayOf, r.Attempt, r.LeaseOwner, r.LeaseUntil, r.StartedAt, r.FinishedAt)
}

// Leased sets a run about to be ingested to start leased to owner until leaseUntil, as
// a claim at now would: status running, its first attempt. The ingesting process hands
// it to an idle worker of its own after the commit (direct dispatch); should the process
// die first, the lease expires and another claim takes the run over, fencing this one.
func (r *Run) Leased(owner string, now, leaseUntil time.Time) {
	r.Status, r.Attempt = RunRunning, 1
	r.LeaseOwner, r.LeaseUntil, r.StartedAt = &owner, &leaseUntil, &now
}

// Filtered sets a run about to be ingested to end filtered at now, as a worker's
// first attempt would record it: the webhook's filter, evaluated at ingress on the same
// environment, dropped the event, so no worker needs to take the run.
func (r *Run) Filtered(now time.Time) {
	r.Status, r.Attempt = RunFiltered, 1
	r.StartedAt, r.FinishedAt = &now, &now
}

func (s *Store) writeIngests(batch []ingestItem) ([]error, error) {
	if s.dialect == Postgres {
		return s.writeIngestsPG(batch)
	}
	return inTx(s.closer[0], func(ctx context.Context, tx *sql.Tx) ([]error, error) { return s.writeIngestsTx(ctx, tx, batch) })
}

// writeIngestsTx writes a batch of webhooks in tx.
func (s *Store) writeIngestsTx(ctx context.Context, tx *sql.Tx, batch []ingestItem) ([]error, error) {
	chunk := len(batch)
	if s.dialect == SQLite {
		chunk = sqliteChunkRows
	}
	withKey := false
	for _, it := range batch {
		withKey = withKey || it.ev.DedupeKey != nil
	}

	// Events first. With delivery ids, only events whose id is new are inserted, and
	// RETURNING names them: the others are duplicates (also of each other in the batch).
	inserted := map[string]bool{}
	for from := 0; from < len(batch); from += chunk {
		part := batch[from:min(from+chunk, len(batch))]
		args := make([]any, 0, len(part)*eventColCount)
		for _, it := range part {
			args = appendEvent(args, it.ev)
		}
		q := s.insertSQL("events", eventCols, eventColCount, len(part))
		if !withKey {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return nil, err
			}
			continue
		}
		rows, err := tx.QueryContext(ctx, q+" ON CONFLICT (workflow_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id", args...)
		if err := collectIDs(rows, err, inserted); err != nil {
			return nil, err
		}
	}

	errs := make([]error, len(batch))
	runs := make([]*Run, 0, len(batch))
	for i, it := range batch {
		if withKey && !inserted[it.ev.ID] {
			errs[i] = ErrDuplicate
			continue
		}
		if it.run != nil {
			runs = append(runs, it.run)
		}
	}
	for from := 0; from < len(runs); from += chunk {
		part := runs[from:min(from+chunk, len(runs))]
		args := make([]any, 0, len(part)*runColCount)
		for _, r := range part {
			args = appendRun(args, r)
		}
		if _, err := tx.ExecContext(ctx, s.insertSQL("runs", runCols, runColCount, len(part)), args...); err != nil {
			return nil, err
		}
	}
	queued := false
	var leasedWorkflows []any
	for _, r := range runs {
		if r.Status != RunRunning {
			queued = queued || r.Status == RunQueued
		} else if !slices.Contains(leasedWorkflows, any(r.WorkflowID)) {
			leasedWorkflows = append(leasedWorkflows, r.WorkflowID)
		}
	}
	if len(leasedWorkflows) > 0 {
		// A workflow deleted through another process while this one's cache still had its
		// webhook: a claim would skip the run, so its direct worker must not run it either.
		// DeleteWorkflow flags the runs in flight, which this transaction's runs may not be
		// yet; flag them here and tell their workers. Looking the batch's few workflows up
		// by key first spares the UPDATE in the usual case, where none is deleted.
		q := `SELECT id FROM workflows WHERE deleted_at IS NOT NULL AND id IN (?` + strings.Repeat(",?", len(leasedWorkflows)-1) + `)`
		rows, err := tx.QueryContext(ctx, s.rebind(q), leasedWorkflows...)
		deleted := map[string]bool{}
		if err := collectIDs(rows, err, deleted); err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.Status == RunRunning && deleted[r.WorkflowID] {
				if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE runs SET cancel_requested = ? WHERE id = ?`), true, r.ID); err != nil {
					return nil, err
				}
				r.CancelRequested = true
			}
		}
	}
	// Only queued runs need a claim; leased ones already have their worker.
	if queued && s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", notifyChannel); err != nil {
			return nil, err
		}
	}
	return errs, nil
}

// insertSQL builds a multi-row INSERT in the dialect's placeholders.
func (s *Store) insertSQL(table, cols string, ncols, nrows int) string {
	row := "(?" + strings.Repeat(",?", ncols-1) + ")"
	return s.rebind("INSERT INTO " + table + " (" + cols + ") VALUES " + row + strings.Repeat(","+row, nrows-1))
}

// collectIDs adds the ids a RETURNING id statement gave to into, and closes rows.
func collectIDs(rows *sql.Rows, err error, into map[string]bool) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		into[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

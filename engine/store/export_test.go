package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// IsUniqueViolation exposes isUniqueViolation to the store's tests.
var IsUniqueViolation = isUniqueViolation

// WriterDB returns the store's writing pool, for tests that run raw SQL.
func (s *Store) WriterDB() *sql.DB { return s.closer[0] }

// MigrateTo applies the migrations up to version, so that a test can write rows as an
// older release did before it migrates the rest of the way.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	p, done, err := s.migrationProvider()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate %s to %d: %w", s.dialect, version, err)
	}
	return nil
}

// ReaderDB returns the store's reading pool (on PostgreSQL, the only pool).
func (s *Store) ReaderDB() *sql.DB { return s.closer[len(s.closer)-1] }

// CheckpointBatch writes checkpoints of the leased runs as one group commit, as the
// committer does with whatever is queued together, and returns each one's verdict and
// the cancel flag it read.
func (s *Store) CheckpointBatch(leases []Lease, steps []*StepRun, next int, now, leaseUntil time.Time) ([]error, []bool, error) {
	items := make([]*checkpointItem, len(leases))
	for i, l := range leases {
		items[i] = &checkpointItem{lease: l, step: steps[i], next: next, now: now, leaseUntil: leaseUntil}
	}
	errs, err := s.writeCheckpoints(items)
	cancels := make([]bool, len(items))
	for i, it := range items {
		cancels[i] = it.cancel
	}
	return errs, cancels, err
}

// FinishBatch writes outcomes as one group commit.
func (s *Store) FinishBatch(leases []Lease, outs []Outcome) ([]error, error) {
	items := make([]finishItem, len(leases))
	for i, l := range leases {
		items[i] = finishItem{lease: l, Outcome: outs[i]}
	}
	return s.writeFinishes(items)
}

// IngestBatch stores events with their runs (nil for none) as one group commit.
func (s *Store) IngestBatch(evs []*Event, runs []*Run) ([]error, error) {
	items := make([]ingestItem, len(evs))
	for i, ev := range evs {
		items[i] = ingestItem{ev: ev, run: runs[i]}
	}
	return s.writeIngests(items)
}

// SQLiteStmtStats reports how many statements a connection of the store's SQLite driver
// has compiled so far and how many it keeps prepared.
func SQLiteStmtStats(c *sql.Conn) (prepares int64, kept int, err error) {
	err = c.Raw(func(dc any) error {
		uc, ok := dc.(*utcConn)
		if !ok {
			return fmt.Errorf("connection %T is not the store's SQLite connection", dc)
		}
		uc.mu.Lock()
		defer uc.mu.Unlock()
		prepares, kept = uc.prepares, len(uc.stmts)
		return nil
	})
	return prepares, kept, err
}

// SQLiteStmtCache is how many statements a SQLite connection keeps prepared.
const SQLiteStmtCache = sqliteStmtCache

// WriterRounds reports how many shared rounds (transactions holding batches of more than
// one committer) the store's writer has committed.
func (s *Store) WriterRounds() int64 { return s.writer.rounds.Load() }

// Checkpoint is one SaveStep's arguments, for CommitTogether.
type Checkpoint struct {
	Lease           Lease
	Step            *StepRun
	Next            int
	Now, LeaseUntil time.Time
}

// Verdicts are CommitTogether's, each in the order of its items.
type Verdicts struct {
	Ingests, Checkpoints, Finishes []error
	Cancels                        []bool
}

// CommitTogether queues webhooks (evs, with runs[i] or nil), checkpoints and outcomes
// on the store's committers, as that many callers would, and only then starts its
// writer and wakes it: its first round takes them all. It returns once every item has
// its verdict. The store must not have written through its committers before (open a
// second store on the test's database), or a running loop might take part of the items.
func (s *Store) CommitTogether(evs []*Event, runs []*Run, cps []Checkpoint, leases []Lease, outs []Outcome) Verdicts {
	var ing, cp, fin []chan error
	cpItems := make([]*checkpointItem, len(cps))
	for i, ev := range evs {
		ing = append(ing, queueOn(s.ingests, ingestItem{ev: ev, run: runs[i]}))
	}
	for i, c := range cps {
		cpItems[i] = &checkpointItem{lease: c.Lease, step: c.Step, next: c.Next, now: c.Now, leaseUntil: c.LeaseUntil}
		cp = append(cp, queueOn(s.checkpoints, cpItems[i]))
	}
	for i, l := range leases {
		fin = append(fin, queueOn(s.finishes, finishItem{lease: l, Outcome: outs[i]}))
	}
	s.writer.start()
	s.writer.poke()
	wait := func(chs []chan error) []error {
		errs := make([]error, len(chs))
		for i, ch := range chs {
			errs[i] = <-ch
		}
		return errs
	}
	v := Verdicts{Ingests: wait(ing), Checkpoints: wait(cp), Finishes: wait(fin)}
	for _, it := range cpItems {
		v.Cancels = append(v.Cancels, it.cancel)
	}
	return v
}

func queueOn[T any](c *committer[T], item T) chan error {
	p := &pending[T]{item: item, done: make(chan error, 1)}
	c.queue <- p
	return p.done
}

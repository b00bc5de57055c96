package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// sharedWriterDB opens a SQLite file with one table of (kind, value) rows.
func sharedWriterDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqliteDriverName, "file:"+filepath.Join(t.TempDir(), "w.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec("CREATE TABLE rows (kind TEXT NOT NULL, value INTEGER NOT NULL UNIQUE)")
	require.NoError(t, err)
	return db
}

// insertRows is a committer's write: each item a row; an item that breaks the unique
// index fails the whole transaction, as a database error would.
func insertRows(kind string, txs *sync.Map) func(ctx context.Context, tx *sql.Tx, items []int) ([]error, error) {
	return func(ctx context.Context, tx *sql.Tx, items []int) ([]error, error) {
		txs.Store(kind, tx)
		for _, v := range items {
			if _, err := tx.ExecContext(ctx, "INSERT INTO rows (kind, value) VALUES (?, ?)", kind, v); err != nil {
				return nil, err
			}
		}
		return make([]error, len(items)), nil
	}
}

// queueAll queues items on c as do would, without waiting, and returns their verdicts.
func queueAll(c *committer[int], items ...int) []chan error {
	var done []chan error
	for _, v := range items {
		p := &pending[int]{item: v, done: make(chan error, 1)}
		c.queue <- p
		done = append(done, p.done)
	}
	return done
}

// TestWriterSharesTransactions: batches queued on two committers of one writer are
// committed by one transaction, and each caller gets its own verdict. When one batch
// fails, the other still commits, on its own, and the failing one fails item by item
// (only the faulty item).
func TestWriterSharesTransactions(t *testing.T) {
	t.Parallel()
	db := sharedWriterDB(t)
	w := newWriter(db)
	var txs sync.Map
	alone := func(kind string) func([]int) ([]error, error) {
		return func(items []int) ([]error, error) {
			return inTx(db, func(ctx context.Context, tx *sql.Tx) ([]error, error) {
				return insertRows(kind, &sync.Map{})(ctx, tx, items)
			})
		}
	}
	a, b := newCommitter(alone("a")), newCommitter(alone("b"))
	join(w, a, insertRows("a", &txs))
	join(w, b, insertRows("b", &txs))

	da := queueAll(a, 1, 2, 3)
	db2 := queueAll(b, 10, 11)
	w.start()
	w.poke()
	for _, d := range append(da, db2...) {
		require.NoError(t, <-d)
	}
	ta, _ := txs.Load("a")
	tb, _ := txs.Load("b")
	require.Same(t, ta, tb, "both batches were written in one transaction")
	require.EqualValues(t, 1, w.rounds.Load())

	// Value 2 exists: a's batch breaks the unique index, b's does not.
	da = queueAll(a, 20, 2, 21)
	db2 = queueAll(b, 30)
	w.poke()
	require.NoError(t, <-db2[0], "b's item commits although a's batch failed")
	require.NoError(t, <-da[0])
	require.Error(t, <-da[1], "only the faulty item fails")
	require.NoError(t, <-da[2])
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM rows").Scan(&n))
	require.Equal(t, 3+2+2+1, n)
	require.EqualValues(t, 1, w.rounds.Load(), "the failed round was not counted")

	w.close()
	err := a.do(context.Background(), 40)
	require.True(t, errors.Is(err, errStoreClosed), "after close: %v", err)
}

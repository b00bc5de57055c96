package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// openSQLiteConn opens a migrated store on a fresh SQLite file and returns its writer
// connection, held, with a scratch table t.
func openSQLiteConn(t *testing.T) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{URL: storetest.URL(t, store.SQLite)})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(ctx))
	c, err := s.WriterDB().Conn(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.ExecContext(ctx, "CREATE TABLE t (n INTEGER PRIMARY KEY, label TEXT)")
	require.NoError(t, err)
	return c
}

// TestSQLiteStmtCache: a connection compiles a statement once and runs it again from
// its cache, for execs and queries alike, keeps no more than SQLiteStmtCache of them,
// and a statement that failed (a duplicate key, reported as one) runs again fine.
func TestSQLiteStmtCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openSQLiteConn(t)
	before, _, err := store.SQLiteStmtStats(c)
	require.NoError(t, err)
	for i := range 100 {
		_, err := c.ExecContext(ctx, "INSERT INTO t (n, label) VALUES (?, ?)", i, fmt.Sprint("row ", i))
		require.NoError(t, err)
		var label string
		require.NoError(t, c.QueryRowContext(ctx, "SELECT label FROM t WHERE n = ?", i).Scan(&label))
		require.Equal(t, fmt.Sprint("row ", i), label)
	}
	after, kept, err := store.SQLiteStmtStats(c)
	require.NoError(t, err)
	require.LessOrEqual(t, after-before, int64(2), "200 runs of two statements compile each once")
	require.GreaterOrEqual(t, kept, 2)

	_, err = c.ExecContext(ctx, "INSERT INTO t (n, label) VALUES (?, ?)", 7, "again")
	require.Error(t, err)
	require.True(t, store.IsUniqueViolation(err), "%v", err)
	_, err = c.ExecContext(ctx, "INSERT INTO t (n, label) VALUES (?, ?)", 100, "after the error")
	require.NoError(t, err)
	var n int
	require.NoError(t, c.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n))
	require.Equal(t, 101, n)

	// Distinct texts, as IN lists of varying length make, churn the cache but stay bounded.
	for i := range 2 * store.SQLiteStmtCache {
		var got int
		require.NoError(t, c.QueryRowContext(ctx, fmt.Sprintf("SELECT n + %d FROM t WHERE n = 0", i)).Scan(&got))
		require.Equal(t, i, got)
	}
	_, kept, err = store.SQLiteStmtStats(c)
	require.NoError(t, err)
	require.Equal(t, store.SQLiteStmtCache, kept)
	// The evicted insert is compiled again and works.
	_, err = c.ExecContext(ctx, "INSERT INTO t (n, label) VALUES (?, ?)", 101, "evicted")
	require.NoError(t, err)
}

// TestSQLiteStmtReusedWhileRowsOpen: a transaction that runs a query again while it
// iterates the rows of the same query gets correct rows from both; the kept statement
// is not reset under the first reader.
func TestSQLiteStmtReusedWhileRowsOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openSQLiteConn(t)
	for i := range 5 {
		_, err := c.ExecContext(ctx, "INSERT INTO t (n, label) VALUES (?, ?)", i, fmt.Sprint("row ", i))
		require.NoError(t, err)
	}
	const q = "SELECT n, label FROM t WHERE n >= ? ORDER BY n"
	tx, err := c.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	read := func(rows *sql.Rows) (ns []int) {
		for rows.Next() {
			var n int
			var label string
			require.NoError(t, rows.Scan(&n, &label))
			require.Equal(t, fmt.Sprint("row ", n), label)
			ns = append(ns, n)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		return ns
	}
	outer, err := tx.QueryContext(ctx, q, 0)
	require.NoError(t, err)
	var seen []int
	for outer.Next() {
		var n int
		var label string
		require.NoError(t, outer.Scan(&n, &label))
		require.Equal(t, fmt.Sprint("row ", n), label)
		seen = append(seen, n)
		inner, err := tx.QueryContext(ctx, q, n)
		require.NoError(t, err)
		var want []int
		for m := n; m < 5; m++ {
			want = append(want, m)
		}
		require.Equal(t, want, read(inner), "the same SQL while its first rows are open")
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.Equal(t, []int{0, 1, 2, 3, 4}, seen, "the first reader is not cut short")
	// And the kept statement is free again afterwards.
	rows, err := tx.QueryContext(ctx, q, 3)
	require.NoError(t, err)
	require.Equal(t, []int{3, 4}, read(rows))
	require.NoError(t, tx.Commit())
}

// TestSQLiteScript: a text of several statements, as a goose migration is, runs every
// one of them, again on a second run.
func TestSQLiteScript(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openSQLiteConn(t)
	const script = `INSERT INTO t (n, label) VALUES (?, 'a');
		UPDATE t SET label = label || '+' WHERE n = ?;
		INSERT INTO t (label) VALUES ('b');`
	for _, n := range []int{10, 20} {
		_, err := c.ExecContext(ctx, script, n, n)
		require.NoError(t, err)
	}
	var labels string
	require.NoError(t, c.QueryRowContext(ctx, "SELECT group_concat(label, ',') FROM (SELECT label FROM t ORDER BY n)").Scan(&labels))
	require.Equal(t, "a+,b,a+,b", labels)
}

//go:build !hookflow_glebarez

package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStmtCache: a connection keeps each statement it ran for the next run of the same
// SQL, never more than sqliteStmtCache of them; a statement whose rows are still open is
// not handed out twice; times go in as UTC text and come out in UTC.
func TestStmtCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open(sqliteDriverName, "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, "CREATE TABLE t (n INTEGER, at DATETIME)")
	require.NoError(t, err)
	cached := func() (n int, has func(string) bool) {
		c, err := db.Conn(ctx)
		require.NoError(t, err)
		defer c.Close()
		var keys map[string]bool
		require.NoError(t, c.Raw(func(dc any) error {
			lc := dc.(*liteConn)
			lc.mu.Lock()
			defer lc.mu.Unlock()
			keys = map[string]bool{}
			for q := range lc.stmts {
				keys[q] = true
			}
			return nil
		}))
		return len(keys), func(q string) bool { return keys[q] }
	}

	const ins = "INSERT INTO t (n, at) VALUES (?, ?)"
	at := time.Date(2030, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("UTC+3", 3*3600))
	for i := range 3 {
		_, err := db.ExecContext(ctx, ins, i, at)
		require.NoError(t, err)
	}
	_, has := cached()
	require.True(t, has(ins), "the insert is kept")

	const sel = "SELECT n, at FROM t ORDER BY n"
	// Two reads of the same SQL open at once in one transaction, so on one connection.
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	outer, err := tx.QueryContext(ctx, sel)
	require.NoError(t, err)
	var seen int
	for outer.Next() {
		var n int
		var got time.Time
		require.NoError(t, outer.Scan(&n, &got))
		require.Equal(t, seen, n)
		require.True(t, got.Equal(at), "read %v", got)
		require.Equal(t, time.UTC, got.Location())
		var inner int
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT count(*) FROM ("+sel+")").Scan(&inner))
		require.Equal(t, 3, inner)
		rows, err := tx.QueryContext(ctx, sel)
		require.NoError(t, err)
		var firsts int
		for rows.Next() {
			firsts++
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		require.Equal(t, 3, firsts, "the same SQL while its first rows are open")
		seen++
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.NoError(t, tx.Commit())
	require.Equal(t, 3, seen)
	var text string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT CAST(at AS TEXT) FROM t LIMIT 1").Scan(&text))
	require.Equal(t, "2030-01-02 00:04:05.6+00:00", text)

	for i := range 2 * sqliteStmtCache {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n))
		require.Equal(t, i, n)
	}
	n, has := cached()
	require.Equal(t, sqliteStmtCache, n, "bounded")
	require.True(t, has(fmt.Sprintf("SELECT %d", 2*sqliteStmtCache-1)), "the newest kept")
	require.False(t, has(ins), "the least recently used evicted")
	_, err = db.ExecContext(ctx, ins, 9, at)
	require.NoError(t, err, "an evicted statement is prepared again")

	// Text in another format SQLite knows, as datetime('now') writes it, reads as a time
	// in a time column and stays text in a text one.
	_, err = db.ExecContext(ctx, "INSERT INTO t (n, at) VALUES (10, '2030-01-02 03:04:05')")
	require.NoError(t, err)
	var got time.Time
	var same string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT at, CAST(at AS TEXT) FROM t WHERE n = 10").Scan(&got, &same))
	require.True(t, got.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)), "read %v", got)
	require.Equal(t, time.UTC, got.Location())
	require.Equal(t, "2030-01-02 03:04:05", same)
}

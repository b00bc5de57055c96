package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestSQLiteTimeTextIsStable: a database whose times were written as the store has
// written them since migration 6 (UTC text, "2006-01-02 15:04:05.999999999-07:00", the
// fraction's trailing zeros cut) reads back to the same instants, in UTC, and its due runs
// are claimed in time order; times the store writes now are the same text, so old and new
// rows sort together. A change of SQLite driver must keep this test passing unchanged:
// existing databases are compared as text in leases, due times and retention.
func TestSQLiteTimeTextIsStable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := storetest.URL(t, store.SQLite)
	s, err := store.Open(ctx, store.Config{URL: path})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(ctx))
	w := seedWorkflow(t, s)

	old, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { old.Close() })
	base := t0.UTC()
	// The text the store writes for each instant, spelled out rather than
	// formatted, so the fixture does not depend on the layout the code uses.
	day := base.Format("2006-01-02 15:04:05")
	fixture := []struct {
		id, text string
		at       time.Time
	}{
		{"old-0", day + "+00:00", base},
		{"old-half", day + ".5+00:00", base.Add(500 * time.Millisecond)},
		{"old-1ns", day + ".000000001+00:00", base.Add(time.Nanosecond)},
		{"old-late", base.Add(2*time.Second).Format("2006-01-02 15:04:05") + "+00:00", base.Add(2 * time.Second)},
	}
	for _, f := range fixture {
		_, err := old.ExecContext(ctx, `INSERT INTO runs (id, workflow_id, version, status, step_index, run_at, created_at, updated_at)
			VALUES (?, ?, 1, 'queued', 0, ?, ?, ?)`, f.id, w.ID, f.text, f.text, f.text)
		require.NoError(t, err, f.id)
	}
	for _, f := range fixture {
		got, err := s.GetRun(ctx, f.id)
		require.NoError(t, err)
		require.True(t, got.RunAt.Equal(f.at), "%s: read %v, want %v", f.id, got.RunAt, f.at)
		require.Equal(t, time.UTC, got.RunAt.Location(), "%s is read in UTC, as before", f.id)
	}
	next, ok, err := s.NextRunAt(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, next.Equal(base), "next due %v", next)

	// A run written now, 250 ms after base and given in +03:00, lands between old rows.
	fresh := queueRun(t, s, w, base.Add(250*time.Millisecond).In(plus3))
	var text string
	require.NoError(t, old.QueryRowContext(ctx, "SELECT CAST(run_at AS TEXT) FROM runs WHERE id = ?", fresh.ID).Scan(&text))
	require.Equal(t, day+".25+00:00", text, "written as the rows before it")

	var order []string
	for range 5 {
		claimed, err := s.ClaimRuns(ctx, "w", base.Add(time.Second), base.Add(time.Hour), 1, nil)
		require.NoError(t, err)
		if len(claimed) == 0 {
			break
		}
		order = append(order, claimed[0].ID)
	}
	require.Equal(t, []string{"old-0", "old-1ns", fresh.ID, "old-half"}, order, "claimed by due time; old-late is not due")
}

// TestSQLitePragmas: every connection of both pools runs in WAL mode with
// synchronous=FULL, foreign keys on and the busy timeout, and a write transaction takes
// the write lock at BEGIN, so another writer waits for it instead of failing midway.
func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := storetest.URL(t, store.SQLite)
	s, err := store.Open(ctx, store.Config{URL: path})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(ctx))
	for name, pool := range map[string]struct {
		db    *sql.DB
		conns int
	}{"writer": {s.WriterDB(), 1}, "reader": {s.ReaderDB(), 8}} {
		// Holding n connections at once makes each a different one.
		var held []*sql.Conn
		for range pool.conns {
			c, err := pool.db.Conn(ctx)
			require.NoError(t, err)
			held = append(held, c)
		}
		for i, c := range held {
			var mode string
			var sync, fk, busy, temp int
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&temp))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
			require.Equal(t, "wal", mode, "%s %d", name, i)
			require.Equal(t, 2, sync, "%s %d: synchronous=FULL", name, i)
			require.Equal(t, 1, fk, "%s %d", name, i)
			require.Equal(t, 2, temp, "%s %d: temp_store=MEMORY keeps statement journals off disk", name, i)
			require.Equal(t, int(store.SQLiteBusyTimeoutDefault.Milliseconds()), busy, "%s %d", name, i)
		}
		for _, c := range held {
			require.NoError(t, c.Close())
		}
	}

	tx, err := s.WriterDB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	require.NoError(t, err)
	defer other.Close()
	_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.ErrorContains(t, err, "database is locked", "the store's empty write transaction already holds the lock")
}

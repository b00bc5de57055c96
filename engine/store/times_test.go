package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// sqliteTimeLayout is how the SQLite driver writes a time.Time: in the value's own
// offset, with the trailing zeros of the fraction cut.
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

var (
	plus3   = time.FixedZone("UTC+3", 3*3600)
	minus5  = time.FixedZone("UTC-5", -5*3600)
	plus530 = time.FixedZone("UTC+5:30", 5*3600+30*60)
	// testZones mixes offsets east and west, a half hour and UTC itself.
	testZones = []*time.Location{plus3, minus5, plus530, time.UTC,
		time.FixedZone("UTC-9:30", -(9*3600 + 30*60)), time.FixedZone("UTC+14", 14*3600)}
)

// TestTimesCompareAsInstants: times given in any offset are due, ordered and read back by
// the instant they name. SQLite once stored them in their own offset and compared the
// text, so a run due at 10:00-05:00 (15:00 UTC) came before one due at 12:00+03:00
// (09:00 UTC).
func TestTimesCompareAsInstants(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		w := seedWorkflow(t, s)
		late := queueRun(t, s, w, t0.Add(time.Hour).In(minus5))
		early := queueRun(t, s, w, t0.In(plus3))

		next, ok, err := s.NextRunAt(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, next.Equal(t0), "next due is %v, not %v", next, t0)

		claimed, err := s.ClaimRuns(ctx, "w", t0.Add(30*time.Minute).In(plus530), t0.Add(time.Hour), 10, nil)
		require.NoError(t, err)
		require.Len(t, claimed, 1, "only the run due at t0")
		require.Equal(t, early.ID, claimed[0].ID)

		got, err := s.GetRun(ctx, late.ID)
		require.NoError(t, err)
		require.True(t, got.RunAt.Equal(t0.Add(time.Hour)), "read back %v", got.RunAt)
	})
}

// TestMigrationMovesTimesToUTC writes rows as releases before migration 6 did (through
// the plain driver, each time in its own offset), migrates, and checks that every
// DATETIME column of every table then holds its instant in UTC, to the nanosecond, and
// that runs compare by instant.
func TestMigrationMovesTimesToUTC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := storetest.URL(t, store.SQLite)
	s, err := store.Open(ctx, store.Config{URL: path})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.MigrateTo(ctx, 5))

	// The plain driver writes a time in its own offset, as the store once did
	// (_time_format=sqlite: the old driver's layout). Foreign keys are off on this
	// connection, so one row per table needs no others.
	old, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_time_format=sqlite")
	require.NoError(t, err)
	t.Cleanup(func() { old.Close() })

	type cell struct {
		table, column string
		rowid         int64
		want          time.Time
	}
	var cells []cell
	fractions := []time.Duration{0, 999999999, 123456789, 500 * time.Millisecond, time.Microsecond}
	instant := func(k int) time.Time {
		if k == 0 { // 23:30 UTC written in +03:00: its local date is the next day
			return t0.Truncate(24 * time.Hour).Add(23*time.Hour + 30*time.Minute).In(plus3)
		}
		return t0.Add(time.Duration(k)*37*time.Minute + fractions[k%len(fractions)]).In(testZones[k%len(testZones)])
	}
	tables := sqliteTables(t, old)
	require.Contains(t, tables, "runs")
	for _, table := range tables {
		var names, marks []string
		var args []any
		var mine []int
		for _, c := range sqliteColumns(t, old, table) {
			names, marks = append(names, c.name), append(marks, "?")
			switch {
			case c.typ == "DATETIME":
				v := instant(len(cells))
				mine = append(mine, len(cells))
				cells = append(cells, cell{table: table, column: c.name, want: v})
				args = append(args, v)
			case c.typ == "TEXT" && (c.name == "id" || strings.HasSuffix(c.name, "_id")):
				args = append(args, "fixture") // keys line up across tables
			case c.typ == "TEXT":
				args = append(args, table+"."+c.name)
			case c.typ == "BLOB":
				args = append(args, []byte("x"))
			default:
				args = append(args, 0)
			}
		}
		res, err := old.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table,
			strings.Join(names, ", "), strings.Join(marks, ", ")), args...)
		require.NoError(t, err, table)
		rowid, err := res.LastInsertId()
		require.NoError(t, err)
		for _, i := range mine {
			cells[i].rowid = rowid
		}
	}
	require.Greater(t, len(cells), 20, "every DATETIME column of every table")
	// Two runs whose text order is the reverse of their instants'.
	for id, at := range map[string]time.Time{"late": t0.Add(time.Hour).In(minus5), "early": t0.In(plus3)} {
		_, err := old.ExecContext(ctx, `INSERT INTO runs (id, workflow_id, version, status, run_at, created_at, updated_at)
			VALUES (?, 'fixture', 1, 'queued', ?, ?, ?)`, id, at, at, at)
		require.NoError(t, err)
	}
	require.Equal(t, cells[0].want.Format(sqliteTimeLayout), rawText(t, old, cells[0].table, cells[0].column, cells[0].rowid),
		"written as the old store wrote it")

	require.NoError(t, s.Migrate(ctx))
	for _, c := range cells {
		require.Equal(t, c.want.UTC().Format(sqliteTimeLayout), rawText(t, old, c.table, c.column, c.rowid),
			"%s.%s written as %s", c.table, c.column, c.want.Format(sqliteTimeLayout))
	}
	claimed, err := s.ClaimRuns(ctx, "w", t0.Add(30*time.Minute), t0.Add(time.Hour), 10, nil)
	require.NoError(t, err)
	require.Len(t, claimed, 1, "only the run due at t0")
	require.Equal(t, "early", claimed[0].ID)
	require.True(t, claimed[0].RunAt.Equal(t0), "read back %v", claimed[0].RunAt)
	late, err := s.GetRun(ctx, "late")
	require.NoError(t, err)
	require.True(t, late.RunAt.Equal(t0.Add(time.Hour)), "read back %v", late.RunAt)
	require.True(t, late.CreatedAt.Equal(t0.Add(time.Hour)), "read back %v", late.CreatedAt)
}

func sqliteTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		out = append(out, name)
	}
	require.NoError(t, rows.Err())
	return out
}

type sqliteColumn struct{ name, typ string }

func sqliteColumns(t *testing.T, db *sql.DB, table string) []sqliteColumn {
	t.Helper()
	rows, err := db.Query("SELECT name, type FROM pragma_table_info(?)", table)
	require.NoError(t, err)
	defer rows.Close()
	var out []sqliteColumn
	for rows.Next() {
		var c sqliteColumn
		require.NoError(t, rows.Scan(&c.name, &c.typ))
		out = append(out, c)
	}
	require.NoError(t, rows.Err())
	return out
}

// rawText reads a stored time as the text it is, not as the time the driver parses.
func rawText(t *testing.T, db *sql.DB, table, column string, rowid int64) string {
	t.Helper()
	var s string
	require.NoError(t, db.QueryRow(fmt.Sprintf("SELECT CAST(%s AS TEXT) FROM %s WHERE rowid = ?", column, table), rowid).Scan(&s))
	return s
}

// Package storetest opens real databases for tests: a SQLite file in the test's temporary
// directory, or a fresh schema on the PostgreSQL server named by HOOKFLOW_TEST_DATABASE_URL
// (default: the local server, database test). Without PostgreSQL a test skips, unless the
// CI environment variable is set: then it fails, so CI never passes by skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for creating schemas

	"github.com/hookflow/hookflow/engine/store"
)

// PostgresURLDefault is the local test server: trust auth, database test.
const PostgresURLDefault = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the databases every store-backed suite runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// URL returns a database URL for a fresh, empty database of the dialect, removed when the
// test ends: a SQLite file path, or a postgres URL whose search_path is a new schema.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "hookflow.db")
	}
	base := os.Getenv("HOOKFLOW_TEST_DATABASE_URL")
	if base == "" {
		base = PostgresURLDefault
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", base)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("postgres at %s is required when CI is set: %v", redact(base), err)
		}
		t.Skipf("postgres at %s not reachable, skipping: %v", redact(base), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", redact(base), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store on a fresh database of the dialect, closed when the test
// ends.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{URL: URL(t, d)})
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return s
}

// ForEachDialect runs fn as a parallel subtest on each dialect.
func ForEachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("(unparsable url, %d bytes)", len(s))
	}
	return u.Redacted()
}

// ClockShiftEnv names a duration (such as 8760h or -8760h) that moves every test clock
// away from the wall clock, to prove that no test depends on today's date and that no
// time of an engine's clock reaches a timer or a context deadline as an instant.
const ClockShiftEnv = "HOOKFLOW_TEST_CLOCK_SHIFT"

// ClockStart is where a test's fake clock starts: now, in UTC, shifted by
// HOOKFLOW_TEST_CLOCK_SHIFT when it is set. Tests never start a clock at a fixed date.
// A shift that does not parse panics: it is a mistake in how the tests were started.
func ClockStart() time.Time {
	now := time.Now().UTC()
	v := os.Getenv(ClockShiftEnv)
	if v == "" {
		return now
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", ClockShiftEnv, v, err))
	}
	return now.Add(d)
}

package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestVacuumInto: the copy opens at the same schema version with the same rows; an
// existing target is refused, and PostgreSQL is pointed at pg_dump.
func TestVacuumInto(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		target := filepath.Join(t.TempDir(), "copy.db")
		if d == store.Postgres {
			require.ErrorIs(t, s.VacuumInto(ctx, target), store.ErrBackupPostgres)
			return
		}
		_, err := s.EnsureSetting(ctx, "secret_key_fingerprint", "feedface", storetest.ClockStart())
		require.NoError(t, err)
		require.NoError(t, s.VacuumInto(ctx, target))
		require.ErrorContains(t, s.VacuumInto(ctx, target), "exists")

		c, err := store.Open(ctx, store.Config{URL: target})
		require.NoError(t, err)
		defer c.Close()
		want, _, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		got, _, err := c.MigrationStatus(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got)
		fp, err := c.Setting(ctx, "secret_key_fingerprint")
		require.NoError(t, err)
		require.Equal(t, "feedface", fp)
		none, err := c.Setting(ctx, "no such setting")
		require.NoError(t, err)
		require.Empty(t, none)
		check, err := c.QuickCheck(ctx)
		require.NoError(t, err)
		require.Equal(t, "ok", check)
		counts, err := c.CountForBackup(ctx)
		require.NoError(t, err)
		require.Equal(t, store.BackupCounts{}, counts)
	})
}

func TestSQLiteInUseWithoutSharedMemory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	inUse, err := store.SQLiteInUse(path)
	require.NoError(t, err)
	require.False(t, inUse, "no -shm file: no connection has it open")
	require.NoError(t, os.WriteFile(path+"-shm", make([]byte, 32<<10), 0o600))
	inUse, err = store.SQLiteInUse(path)
	require.NoError(t, err)
	require.False(t, inUse, "a -shm file left by a crash holds no lock")
}

func TestDialectOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, store.Postgres, store.DialectOf("postgres://u@h/db"))
	require.Equal(t, store.Postgres, store.DialectOf("postgresql://u@h/db"))
	require.Equal(t, store.SQLite, store.DialectOf(""))
	require.Equal(t, store.SQLite, store.DialectOf("/var/lib/hookflow/hookflow.db"))
	p, err := store.SQLitePath("", "/data")
	require.NoError(t, err)
	require.Equal(t, "/data/"+store.SQLiteFileName, p)
}

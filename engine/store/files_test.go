package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
)

// TestDatabaseFilesArePrivate: the SQLite database and its WAL and shared-memory files are
// readable by their owner only, in a directory only the owner can enter, on a new install
// and on one whose files were created readable by all.
func TestDatabaseFilesArePrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := store.Open(ctx, store.Config{DataDir: dir})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx)) // writes, so the WAL exists
	db := filepath.Join(dir, store.SQLiteFileName)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	require.NoError(t, s.Close())

	// An older install's files, readable by everyone, are tightened at the next start.
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			require.NoError(t, os.Chmod(p, 0o644))
		}
	}
	s, err = store.Open(ctx, store.Config{DataDir: dir})
	require.NoError(t, err)
	defer s.Close()
	fi, err = os.Stat(db)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

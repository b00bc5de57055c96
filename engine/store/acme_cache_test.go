package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestACMECacheRows: values are stored, replaced and deleted by name; a missing name is
// ErrNotFound, and deleting it is no error.
func TestACMECacheRows(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		now := storetest.ClockStart()

		_, err := s.GetACME(ctx, "hooks.example.test")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.PutACME(ctx, "hooks.example.test", "v1:first", now))
		require.NoError(t, s.PutACME(ctx, "acme_account+key", "v1:account", now))
		got, err := s.GetACME(ctx, "hooks.example.test")
		require.NoError(t, err)
		require.Equal(t, "v1:first", got)
		require.NoError(t, s.PutACME(ctx, "hooks.example.test", "v1:renewed", now.Add(time.Hour)))
		got, err = s.GetACME(ctx, "hooks.example.test")
		require.NoError(t, err)
		require.Equal(t, "v1:renewed", got)

		require.NoError(t, s.DeleteACME(ctx, "hooks.example.test"))
		require.NoError(t, s.DeleteACME(ctx, "hooks.example.test"))
		_, err = s.GetACME(ctx, "hooks.example.test")
		require.ErrorIs(t, err, store.ErrNotFound)
		got, err = s.GetACME(ctx, "acme_account+key")
		require.NoError(t, err)
		require.Equal(t, "v1:account", got, "other names are untouched")
	})
}

// TestLockACME: while one store (a process) holds a host's order lock, another store on
// the same database waits for it; another host is not held up; after the unlock the
// waiter gets the lock.
func TestLockACME(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		url := storetest.URL(t, d)
		open := func() *store.Store {
			s, err := store.Open(context.Background(), store.Config{URL: url})
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		}
		a, b := open(), open()
		require.NoError(t, a.Migrate(context.Background()))
		host := "lock-" + string(d) + ".example.test" // SQLite's lock is process-wide

		unlock, err := a.LockACME(context.Background(), host)
		require.NoError(t, err)

		// The second process cannot take it while the first holds it: its wait ends
		// only by its own deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err = b.LockACME(ctx, host)
		cancel()
		require.Error(t, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		other, err := b.LockACME(context.Background(), "other-"+host)
		require.NoError(t, err, "a different host is not held up")
		other()

		got := make(chan func(), 1)
		go func() {
			u, err := b.LockACME(context.Background(), host)
			if err != nil {
				t.Errorf("lock after unlock: %v", err)
				u = func() {}
			}
			got <- u
		}()
		unlock()
		select {
		case u := <-got:
			u()
		case <-time.After(30 * time.Second):
			t.Fatal("the waiting process never got the lock")
		}
	})
}

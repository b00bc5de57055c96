package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

func TestConnectorFiles(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()

		f := &store.ConnectorFile{ID: newID(), Name: "acme", Source: "v1", CreatedAt: t0, UpdatedAt: t0, UpdatedBy: "a@example.com"}
		require.NoError(t, s.CreateConnectorFile(ctx, f))
		require.Equal(t, 1, f.Revision)
		dup := &store.ConnectorFile{ID: newID(), Name: "acme", Source: "other", CreatedAt: t0, UpdatedAt: t0}
		require.ErrorIs(t, s.CreateConnectorFile(ctx, dup), store.ErrConflict)

		later := t0.Add(1e9)
		upd := &store.ConnectorFile{ID: newID(), Name: "acme", Source: "v2", CreatedAt: later, UpdatedAt: later, UpdatedBy: "b@example.com"}
		created, err := s.SaveConnectorFile(ctx, upd)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, f.ID, upd.ID, "an update keeps the row's id")
		require.Equal(t, 2, upd.Revision)

		fresh := &store.ConnectorFile{ID: newID(), Name: "zeta", Source: "z1", CreatedAt: t0, UpdatedAt: t0}
		created, err = s.SaveConnectorFile(ctx, fresh)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, 1, fresh.Revision)

		got, err := s.ConnectorFileByName(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, "v2", got.Source)
		require.Equal(t, 2, got.Revision)
		require.Equal(t, "b@example.com", got.UpdatedBy)
		require.True(t, got.CreatedAt.Equal(t0), "created_at stays")
		require.True(t, got.UpdatedAt.Equal(later))

		heads, err := s.ConnectorFileHeads(ctx)
		require.NoError(t, err)
		require.Len(t, heads, 2)
		require.Equal(t, "acme", heads[0].Name)
		require.Equal(t, 2, heads[0].Revision)
		require.Empty(t, heads[0].Source, "heads leave the source out")

		gone, err := s.DeleteConnectorFile(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, "v2", gone.Source)
		_, err = s.DeleteConnectorFile(ctx, "acme")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.ConnectorFileByName(ctx, "acme")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestSaveConnectorFileRace: many first writes of one name at once make one row whose
// revision counts every write.
func TestSaveConnectorFileRace(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		const writers = 6
		var created atomic.Int32
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				c, err := s.SaveConnectorFile(context.Background(), &store.ConnectorFile{ID: newID(), Name: "acme", Source: "x", CreatedAt: t0, UpdatedAt: t0})
				if err != nil {
					t.Error(err)
					return
				}
				if c {
					created.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), created.Load())
		got, err := s.ConnectorFileByName(context.Background(), "acme")
		require.NoError(t, err)
		require.Equal(t, writers, got.Revision)
	})
}

func TestSwapConnectionSecrets(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		require.NoError(t, s.CreateConnection(ctx, &store.Connection{ID: newID(), Name: "c", Connector: "x",
			Config: "{}", Secrets: "old", CreatedAt: t0, UpdatedAt: t0}))

		// Every swapper expects "old": one finds it and writes, the others find the
		// winner's value and write nothing.
		const swappers = 5
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range swappers {
			wg.Go(func() {
				ok, err := s.SwapConnectionSecrets(ctx, "c", t0, func(sealed string) (string, error) {
					if sealed != "old" {
						return "", store.ErrSecretsChanged
					}
					return "new-" + string(rune('a'+i)), nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), won.Load())
		c, err := s.ConnectionByName(ctx, "c")
		require.NoError(t, err)
		require.Contains(t, c.Secrets, "new-")

		_, err = s.SwapConnectionSecrets(ctx, "missing", t0, func(string) (string, error) { return "", nil })
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

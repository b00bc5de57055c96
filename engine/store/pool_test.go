package store_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestPoolSettingsPostgres checks that the pool settings reach database/sql, that the
// default is kept without them, and that connections carry application_name.
func TestPoolSettingsPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := storetest.URL(t, store.Postgres)

	s, err := store.Open(ctx, store.Config{URL: dsn, Pool: store.Pool{MaxConns: 5, MaxIdleConns: 2, ConnMaxLifetime: time.Hour}})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, 5, s.Stats().MaxOpenConnections)
	var name string
	require.NoError(t, s.WriterDB().QueryRowContext(ctx, "SHOW application_name").Scan(&name))
	require.Equal(t, store.ApplicationName, name)

	def, err := store.Open(ctx, store.Config{URL: dsn})
	require.NoError(t, err)
	defer def.Close()
	require.Equal(t, store.PoolMaxConnsDefault, def.Stats().MaxOpenConnections)

	// A name in the URL is kept, and migrations may take the direct way.
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("application_name", "hookflow_direct")
	u.RawQuery = q.Encode()
	named, err := store.Open(ctx, store.Config{URL: u.String(), DirectURL: u.String(), Pool: store.Pool{MaxConns: 2}})
	require.NoError(t, err)
	defer named.Close()
	require.NoError(t, named.WriterDB().QueryRowContext(ctx, "SHOW application_name").Scan(&name))
	require.Equal(t, "hookflow_direct", name)
	require.NoError(t, named.Migrate(ctx))
	cur, latest, err := named.MigrationStatus(ctx)
	require.NoError(t, err)
	require.Equal(t, latest, cur)

	_, err = store.Open(ctx, store.Config{URL: dsn, DirectURL: "mysql://x"})
	require.ErrorContains(t, err, "is not a postgres:// url")
}

// TestPoolSettingsSQLite checks that SQLite keeps its own pools whatever Pool says: one
// writer, so that writers queue in Go.
func TestPoolSettingsSQLite(t *testing.T) {
	t.Parallel()
	s, err := store.Open(context.Background(), store.Config{URL: storetest.URL(t, store.SQLite), Pool: store.Pool{MaxConns: 7}})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, 1, s.Stats().MaxOpenConnections)
}

package store_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestMissingSchemaIsNamed: a PostgreSQL URL whose search_path (as a parameter or in
// options) names a schema that does not exist gets an error that names the schema and
// how to create it, from Migrate and MigrationStatus, instead of goose's "no schema has
// been selected to create in".
func TestMissingSchemaIsNamed(t *testing.T) {
	t.Parallel()
	base, err := url.Parse(storetest.URL(t, store.Postgres)) // skips without PostgreSQL
	require.NoError(t, err)
	for name, set := range map[string]func(q url.Values, schema string){
		"search_path": func(q url.Values, schema string) { q.Set("search_path", schema) },
		"options": func(q url.Values, schema string) {
			q.Del("search_path")
			q.Set("options", "-csearch_path="+schema)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			schema := fmt.Sprintf("missing_%d", time.Now().UnixNano())
			u := *base
			q := u.Query()
			set(q, schema)
			u.RawQuery = q.Encode()
			s, err := store.Open(ctx, store.Config{URL: u.String()})
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })

			err = s.Migrate(ctx)
			require.Error(t, err)
			require.Contains(t, err.Error(), `"`+schema+`"`)
			require.Contains(t, err.Error(), "CREATE SCHEMA "+schema)
			_, _, err = s.MigrationStatus(ctx)
			require.Error(t, err)
			require.Contains(t, err.Error(), "CREATE SCHEMA "+schema)
		})
	}
}

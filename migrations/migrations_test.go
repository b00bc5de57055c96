package migrations

import (
	"io/fs"
	"regexp"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

var fileName = regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)

// TestDialectsInStep fails when the dialect folders hold different sets of versions: a
// migration written for one database only would leave the other behind.
func TestDialectsInStep(t *testing.T) {
	t.Parallel()
	versions := map[string][]string{}
	for _, d := range Dialects {
		entries, err := fs.ReadDir(FS, d)
		require.NoError(t, err)
		require.NotEmpty(t, entries, d)
		for _, e := range entries {
			m := fileName.FindStringSubmatch(e.Name())
			require.NotNil(t, m, "%s/%s: name must be NNNNN_name.sql", d, e.Name())
			versions[d] = append(versions[d], e.Name())
		}
		sort.Strings(versions[d])
	}
	require.Equal(t, versions["sqlite"], versions["postgres"], "sqlite and postgres migrations must have the same files")
}

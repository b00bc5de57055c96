//go:build linux

package memtrim

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rssFileKB reads RssFile (resident file-backed pages) of this process.
func rssFileKB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestReleaseDropsResidentPagesOfThisProcess releases the test binary's own pages: the
// release reports what was resident, the process's file-backed resident set shrinks, and
// the code and data it keeps using (the rest of this test, the runtime, fmt) still work.
func TestReleaseDropsResidentPagesOfThisProcess(t *testing.T) {
	before := rssFileKB(t)
	n, err := Release(context.Background(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	after := rssFileKB(t)
	t.Logf("RssFile %d kB before, %d kB after; %d kB released", before, after, n>>10)
	require.Positive(t, n)
	require.Less(t, after, before)
	// Everything still runs from the page cache.
	_, err = ParseSmaps(strings.NewReader(smapsEntry("00400000-00401000 r-xp 00000000 fd:01 1 /x", 4, 0)), "/x")
	require.NoError(t, err)
}

func TestReleaseStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := Release(ctx, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
}

package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestListenBackoffResetsAfterAGoodSession breaks the LISTEN session of a store again and
// again, each time after it has been listening: every break is a new outage, so each
// reconnection comes after the shortest delay. (Without the reset the delay doubled with
// every break, to 3.2 s at the sixth.)
func TestListenBackoffResetsAfterAGoodSession(t *testing.T) {
	t.Parallel()
	var b [4]byte
	_, _ = rand.Read(b[:])
	app := "listen-test-" + hex.EncodeToString(b[:])
	url := storetest.URL(t, store.Postgres) + "&application_name=" + app
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := store.Open(ctx, store.Config{URL: url})
	require.NoError(t, err)
	defer s.Close()
	wakes := make(chan struct{}, 100)
	go s.ListenRuns(ctx, func() { wakes <- struct{}{} })

	admin, err := sql.Open("pgx", storetest.PostgresURLDefault)
	require.NoError(t, err)
	defer admin.Close()
	listener := func() int {
		var pid int
		err := admin.QueryRow(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, app).Scan(&pid)
		if err != nil {
			return 0
		}
		return pid
	}
	waitListener := func() (int, time.Duration) {
		start := time.Now()
		for time.Since(start) < 20*time.Second {
			if pid := listener(); pid != 0 {
				return pid, time.Since(start)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatal("the store did not listen within 20s")
		return 0, 0
	}
	pid, _ := waitListener()
	var last time.Duration
	for range 6 {
		_, err := admin.Exec(`SELECT pg_terminate_backend($1)`, pid)
		require.NoError(t, err)
		select {
		case <-wakes: // the loss wakes the workers, whose polling covers the gap
		case <-time.After(20 * time.Second):
			t.Fatal("no wake-up after the session broke")
		}
		pid, last = waitListener()
	}
	require.Less(t, last, 1500*time.Millisecond, "the sixth reconnection waited as long as a sixth failure in a row")
}

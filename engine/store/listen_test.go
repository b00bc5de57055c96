package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	go s.ListenRuns(ctx, func() { wakes <- struct{}{} }, func(string) {})

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

// TestIngestNotifiesOnlyForQueuedRuns listens on the runs channel while a PostgreSQL store
// ingests webhooks: a run the filter ended at ingress and one leased to its process's
// worker need no claim, so no process may be woken for them; a queued run wakes them.
// Notifications arrive in commit order, so everything the store sent comes before a
// marker sent after its commits. (Every webhook the filter dropped used to notify: on
// the bench, 5,000 claims that found nothing for 15,000 runs, each followed by a query
// for the next due run.)
func TestIngestNotifiesOnlyForQueuedRuns(t *testing.T) {
	t.Parallel()
	var b [4]byte
	_, _ = rand.Read(b[:])
	app := "notify-test-" + hex.EncodeToString(b[:])
	url := storetest.URL(t, store.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, store.Config{URL: url + "&application_name=" + app})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Migrate(ctx))
	w := seedWorkflow(t, s)

	listener, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer listener.Close(context.WithoutCancel(ctx))
	_, err = listener.Exec(ctx, "LISTEN hookflow_runs")
	require.NoError(t, err)
	admin, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer admin.Close()

	// sentSince counts the notifications the store's connections sent before a marker
	// sent now; other tests share the database and its channel.
	sentSince := func() int {
		ours := map[uint32]bool{}
		rows, err := admin.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
		require.NoError(t, err)
		for rows.Next() {
			var pid uint32
			require.NoError(t, rows.Scan(&pid))
			ours[pid] = true
		}
		require.NoError(t, rows.Err())
		require.NotEmpty(t, ours, "the store holds no connection")
		marker := "marker-" + newID()
		_, err = admin.ExecContext(ctx, `SELECT pg_notify('hookflow_runs', $1)`, marker)
		require.NoError(t, err)
		n := 0
		for {
			msg, err := listener.WaitForNotification(ctx)
			require.NoError(t, err)
			if msg.Payload == marker {
				return n
			}
			if ours[msg.PID] {
				n++
			}
		}
	}

	ingest := func(shape func(r *store.Run)) {
		ev := &store.Event{ID: newID(), WorkflowID: w.ID, ReceivedAt: t0, Method: "POST", Headers: "{}",
			Body: []byte(`{"amount":5}`), Verdict: store.VerdictAccepted}
		r := &store.Run{ID: newID(), WorkflowID: w.ID, Version: w.Version, EventID: &ev.ID, Status: store.RunQueued,
			RunAt: t0, CreatedAt: t0, UpdatedAt: t0}
		shape(r)
		require.NoError(t, s.IngestEvent(ctx, ev, r))
	}
	for range 3 {
		ingest(func(r *store.Run) { r.Filtered(t0) })
		ingest(func(r *store.Run) { r.Leased("this-process", t0, t0.Add(time.Minute)) })
	}
	require.Zero(t, sentSince(), "webhooks whose runs need no claim woke the workers")

	ingest(func(*store.Run) {})
	require.Equal(t, 1, sentSince(), "a queued run must wake the workers")
}

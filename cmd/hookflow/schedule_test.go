package main_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestScheduleTwoProcessesPostgres runs an @every 1s workflow for 5 seconds on two
// processes sharing PostgreSQL (a server and a worker): the sink hears of each tick
// exactly once, and no tick in the span is skipped.
func TestScheduleTwoProcessesPostgres(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	slots := map[string]int{}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Slot string }
		if err := json.NewDecoder(r.Body).Decode(&body); err == nil {
			mu.Lock()
			slots[body.Slot]++
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(sink.Close)

	url := storetest.URL(t, store.Postgres)
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATABASE_URL=" + url, "HOOKFLOW_DATA_DIR=" + dir, "HOOKFLOW_SECRET_KEY=" + testSecretKey}
	run(t, dir, env, "migrate")
	srv, a := setupAPI(t, dir, env)
	worker := start(t, dir, env, "worker")
	var wf struct{ ID string }
	require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
		"name": "every second", "trigger": map[string]any{"type": "schedule", "schedule": map[string]any{"cron": "@every 1s"}},
		"steps": []any{map[string]any{"id": "send", "uses": "http.request",
			"with": map[string]any{"method": "POST", "url": sink.URL, "body": map[string]any{"slot": "{{ trigger.scheduled_at }}"}}}},
	}, &wf))
	time.Sleep(5 * time.Second)
	srv.stop(t)
	worker.stop(t)

	mu.Lock()
	defer mu.Unlock()
	var got []string
	for slot, n := range slots {
		require.Equal(t, 1, n, "tick %s ran %d times", slot, n)
		got = append(got, slot)
	}
	sort.Strings(got)
	t.Logf("ticks: %v", got)
	require.GreaterOrEqual(t, len(got), 4, "5 seconds of @every 1s")
	for i := 1; i < len(got); i++ {
		prev, err := time.Parse(time.RFC3339, got[i-1])
		require.NoError(t, err)
		cur, err := time.Parse(time.RFC3339, got[i])
		require.NoError(t, err)
		require.Equal(t, time.Second, cur.Sub(prev), "no tick skipped between %s and %s", got[i-1], got[i])
	}
}

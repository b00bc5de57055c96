package engine_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for pg_stat_activity
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// withParams returns the postgres URL with extra query parameters.
func withParams(t *testing.T, dsn string, kv ...string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	for i := 0; i < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// runBatch sends n webhooks to the workflow, spread over the engines, and waits for every
// run to succeed.
func runBatch(t *testing.T, engines []*enginetest.Engine, wf *engine.Workflow, n int) {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			res, err := engines[i%len(engines)].Ingest(context.Background(), wf.HookToken, engine.IngestRequest{
				Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}, Body: fmt.Appendf(nil, `{"n":%d}`, i)})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = res.RunID
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, id := range ids {
		run := enginetest.WaitRun(t, engines[0].Engine, id)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	}
}

const poolWorkflow = `{"name": "pool", "trigger": {"type": "webhook"}, "steps": [
	{"id": "a", "uses": "core.set", "with": {"n": "{{ trigger.body.n }}"}},
	{"id": "each", "uses": "core.set", "for_each": "[1, 2, 3]", "with": {"v": "{{ item }}"}},
	{"id": "c", "uses": "core.set", "with": {"done": true}}]}`

// TestDBConnectionsWithinLimitPostgres runs three processes' worth of engines, each with
// a pool of 3 and 8 workers, on one database under a burst of webhooks, and counts their
// server connections in pg_stat_activity by application_name: never more than 3 × (3 + the
// LISTEN connection).
func TestDBConnectionsWithinLimitPostgres(t *testing.T) {
	t.Parallel()
	var b [4]byte
	_, _ = rand.Read(b[:])
	app := "hookflow_pool_" + hex.EncodeToString(b[:])
	dsn := withParams(t, storetest.URL(t, store.Postgres), "application_name", app)
	const processes, maxConns = 3, 3
	var engines []*enginetest.Engine
	for range processes {
		engines = append(engines, enginetest.New(t, store.Postgres, enginetest.Options{DatabaseURL: dsn, Workers: 8,
			Configure: func(c *engine.Config) { c.DBMaxConns = maxConns }}))
	}
	wf, err := engines[0].CreateWorkflow(context.Background(), []byte(poolWorkflow))
	require.NoError(t, err)

	base := os.Getenv("HOOKFLOW_TEST_DATABASE_URL")
	if base == "" {
		base = storetest.PostgresURLDefault
	}
	probe, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer probe.Close()
	count := func() int {
		var n int
		require.NoError(t, probe.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n))
		return n
	}
	stop := make(chan struct{})
	seen := make(chan int)
	go func() {
		most := 0
		for {
			select {
			case <-stop:
				seen <- most
				return
			default:
			}
			var n int
			if probe.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n) == nil {
				most = max(most, n)
			}
		}
	}()
	runBatch(t, engines, wf, 120)
	close(stop)
	most := <-seen
	now := count()
	t.Logf("connections of %d engines: at most %d seen, %d now", processes, most, now)
	require.Positive(t, most)
	require.LessOrEqual(t, most, processes*(maxConns+1))
	require.LessOrEqual(t, now, processes*(maxConns+1))
}

// TestSmallPoolRunsWorkflowPostgres runs a workflow end to end on a pool of 2 connections
// with 8 workers and simple-protocol queries (what PgBouncer in transaction mode needs):
// nothing waits on a second connection while it holds one, so nothing deadlocks.
func TestSmallPoolRunsWorkflowPostgres(t *testing.T) {
	t.Parallel()
	dsn := withParams(t, storetest.URL(t, store.Postgres), "default_query_exec_mode", "simple_protocol")
	eng := enginetest.New(t, store.Postgres, enginetest.Options{DatabaseURL: dsn, Workers: 8,
		Configure: func(c *engine.Config) { c.DBMaxConns, c.DBMaxIdleConns = 2, 1 }})
	wf, err := eng.CreateWorkflow(context.Background(), []byte(poolWorkflow))
	require.NoError(t, err)
	runBatch(t, []*enginetest.Engine{eng}, wf, 40)
}

// TestDBPoolValidation checks that pool settings out of range are refused at Open.
func TestDBPoolValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		set  func(*engine.Config)
		want string
	}{
		{func(c *engine.Config) { c.DBMaxConns = 1 }, "database max connections must be at least 2, got 1"},
		{func(c *engine.Config) { c.DBMaxConns, c.DBMaxIdleConns = 3, 4 }, "must not exceed max connections"},
		{func(c *engine.Config) { c.DBConnMaxLifetime = -1 }, "max lifetime must be 0 (none) or more"},
	} {
		cfg := engine.Config{DataDir: t.TempDir(), SecretKey: enginetest.SecretKey}
		tc.set(&cfg)
		_, err := engine.Open(context.Background(), cfg)
		require.ErrorContains(t, err, tc.want)
	}
	require.Equal(t, 10, engine.DBMaxConnsFor(-1), "ingest only")
	require.Equal(t, 14, engine.DBMaxConnsFor(8))
	require.Equal(t, 20, engine.DBMaxConnsFor(32))
	require.Equal(t, 20, engine.DBMaxConnsFor(256))
}

// TestMetricsToken checks that with a metrics token /metrics answers 401 to requests
// without it or with another, and the metrics to the right one.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{NoStart: true,
		Configure: func(c *engine.Config) { c.MetricsToken = "s3cret-metrics" }})
	srv := httptest.NewServer(eng.MetricsHandler())
	defer srv.Close()
	get := func(auth string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	for _, auth := range []string{"", "Bearer wrong", "Basic s3cret-metrics", "Bearer s3cret-metric"} {
		code, body := get(auth)
		require.Equal(t, http.StatusUnauthorized, code, auth)
		require.NotContains(t, body, "hookflow_")
	}
	code, body := get("Bearer s3cret-metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "go_goroutines")
}

// TestQueueMetrics scrapes /metrics with runs waiting in the queue: their number and the
// age of the oldest, read from the database on each scrape.
func TestQueueMetrics(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		eng := enginetest.New(t, d, enginetest.Options{NoStart: true, Configure: func(c *engine.Config) { c.Now = clock.Now }})
		srv := httptest.NewServer(eng.MetricsHandler())
		defer srv.Close()
		scrape := func() string {
			resp, err := srv.Client().Get(srv.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			return string(body)
		}
		body := scrape()
		require.Contains(t, body, "hookflow_queue_depth 0\n")
		require.Contains(t, body, "hookflow_queue_oldest_seconds 0\n")

		wf, err := eng.CreateWorkflow(context.Background(), []byte(poolWorkflow))
		require.NoError(t, err)
		for range 3 {
			ingest(t, eng.Engine, wf, `{"n":1}`)
		}
		clock.Advance(90 * time.Second)
		body = scrape()
		require.Contains(t, body, "hookflow_queue_depth 3\n")
		require.Contains(t, body, "hookflow_queue_oldest_seconds 90\n")
	})
}

package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
	"github.com/hookflow/hookflow/web/ui"
)

// benchRuns is how many runs the runs page benchmark stores.
const benchRuns = 10_000

// BenchmarkRunsPage renders /runs through the real handler (session lookup, service
// calls, templates) on a SQLite database holding 10,000 finished runs of two workflows
// (succeeded, filtered and failed), ingested as webhooks and run by the workers. It
// reports the median and 99th percentile of one request, in milliseconds.
func BenchmarkRunsPage(b *testing.B) {
	ctx := context.Background()
	eng := enginetest.New(b, store.SQLite, enginetest.Options{Workers: 8, Registry: connectors.Default})
	if _, err := eng.CreateUser(ctx, adminEmail, adminPassword, engine.RoleAdmin); err != nil {
		b.Fatal(err)
	}
	leads, err := eng.CreateWorkflow(ctx, []byte(`{"name":"Leads","trigger":{"type":"webhook"},"filter":"trigger.body.n % 4 != 0",
		"steps":[{"id":"shape","uses":"core.set","with":{"n":"{{ trigger.body.n }}","name":"Lead {{ trigger.body.n }}"}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	orders, err := eng.CreateWorkflow(ctx, []byte(`{"name":"Orders","trigger":{"type":"webhook"},"filter":"trigger.body.v > 1","steps":[]}`))
	if err != nil {
		b.Fatal(err)
	}
	fill(b, eng.Engine, leads, orders)

	token, _, err := eng.SignIn(ctx, adminEmail, adminPassword, engine.Client{Addr: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	h := web.New(eng.Engine, web.Config{})
	from := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")
	// The baseline is a page with no runs on it (the account settings: the same session
	// lookup, layout and middleware), so the figures read as a ratio on a noisy machine.
	for _, bc := range []struct{ name, query string }{
		{"baseline account page", "/settings/account"},
		{"first page", ""},
		{"failed", "?status=failed"},
		{"workflow and time", "?" + url.Values{"workflow": {orders.ID}, "from": {from}}.Encode()},
	} {
		path := "/runs" + bc.query
		if strings.HasPrefix(bc.query, "/") {
			path = bc.query
		}
		b.Run(bc.name, func(b *testing.B) {
			get := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.AddCookie(&http.Cookie{Name: ui.SessionCookie, Value: token})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			if rec := get(); rec.Code != http.StatusOK || (path != bc.query && strings.Count(rec.Body.String(), `<a href="/runs/`) != 50) {
				b.Fatalf("GET /runs%s: %d, %d runs, %d bytes", bc.query, rec.Code, strings.Count(rec.Body.String(), `<a href="/runs/`), rec.Body.Len())
			}
			for range 10 { // warm the database's page cache, as a server in use has it
				get()
			}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				rec := get()
				took = append(took, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", path, rec.Code)
				}
			}
			b.StopTimer()
			slices.Sort(took)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
			b.ReportMetric(ms(took[min(len(took)-1, len(took)*99/100)]), "p99-ms")
		})
	}
}

// fill ingests benchRuns webhooks, 70 % for leads (a quarter filtered) and 30 % for
// orders (a third failing their filter), and waits until the workers have ended them.
func fill(b *testing.B, eng *engine.Engine, leads, orders *engine.Workflow) {
	b.Helper()
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > benchRuns {
					return
				}
				token, body := leads.HookToken, fmt.Sprintf(`{"n":%d,"email":"lead%d@example.com"}`, n, n)
				if n%10 >= 7 {
					token, body = orders.HookToken, fmt.Sprintf(`{"v":%d}`, n)
					if n%3 == 0 {
						body = `{"v":"not a number"}`
					}
				}
				if _, err := eng.Ingest(ctx, token, engine.IngestRequest{Method: http.MethodPost,
					Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		c, err := eng.Count(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if c.Runs[engine.RunQueued]+c.Runs[engine.RunRunning] == 0 {
			b.Logf("runs: %v", c.Runs)
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("runs did not end within 5 minutes: %v", c.Runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

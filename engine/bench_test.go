package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// BenchmarkEndToEnd ingests b.N webhooks (half filtered) and waits until every
// unfiltered one reached the sink through http.request: ingest, claim (or direct
// dispatch), filter, step and finish, all on a real database.
func BenchmarkEndToEnd(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			var delivered atomic.Int64
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				delivered.Add(1)
				w.WriteHeader(http.StatusOK)
			}))
			defer sink.Close()
			eng := enginetest.New(b, d, enginetest.Options{Workers: 32})
			wf, err := eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(`{"name":"e2e","trigger":{"type":"webhook"},
				"filter":"trigger.body.amount > 100","steps":[{"id":"deliver","uses":"http.request",
				"with":{"method":"POST","url":%q,"body":{"id":"{{ trigger.body.id }}"}}}]}`, sink.URL)))
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					amount := 150
					if i%2 == 0 {
						amount = 50
					}
					_, err := eng.Ingest(context.Background(), wf.HookToken, engine.IngestRequest{Method: "POST",
						Header: http.Header{"Content-Type": {"application/json"}}, Body: fmt.Appendf(nil, `{"id":%d,"amount":%d}`, i, amount)})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			want := (n.Load() + 1) / 2
			deadline := time.Now().Add(5 * time.Minute)
			for delivered.Load() < want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			if got := delivered.Load(); got < want {
				b.Fatalf("delivered %d of %d", got, want)
			}
			rec := httptest.NewRecorder()
			eng.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			var claims, claimed, dispatched float64
			for _, line := range strings.Split(rec.Body.String(), "\n") {
				if v, ok := strings.CutPrefix(line, "hookflow_runs_dispatched_total "); ok {
					dispatched, _ = strconv.ParseFloat(v, 64)
				}
				if v, ok := strings.CutPrefix(line, "hookflow_claims_total "); ok {
					claims, _ = strconv.ParseFloat(v, 64)
				}
				if v, ok := strings.CutPrefix(line, "hookflow_runs_claimed_total "); ok {
					claimed, _ = strconv.ParseFloat(v, 64)
				}
			}
			if claims > 0 {
				b.ReportMetric(claimed/claims, "runs/claim")
			}
			// The share of runs handed straight to an idle worker (direct dispatch).
			b.ReportMetric(dispatched/(claimed+dispatched), "dispatched/run")
		})
	}
}

package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
)

// BenchmarkIngress measures the webhook path with storage, in process: the handler
// looks the webhook up, stores the event and its queued run (group commit) and answers
// 202. Parallelism 32 per CPU stands for concurrent senders; no workers run.
func BenchmarkIngress(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			eng := enginetest.New(b, d, enginetest.Options{Workers: -1})
			h := web.New(eng.Engine, web.Config{})
			wf, err := eng.CreateWorkflow(b.Context(), []byte(`{"name":"bench","trigger":{"type":"webhook"},
				"filter":"trigger.body.amount > 100","steps":[{"id":"s","uses":"core.set","with":{"id":"{{ trigger.body.id }}"}}]}`))
			if err != nil {
				b.Fatal(err)
			}
			path := "/hooks/" + wf.HookToken
			var n atomic.Int64
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := fmt.Appendf(nil, `{"id":%d,"amount":150,"email":"lead@example.com"}`, n.Add(1))
					req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusAccepted {
						b.Errorf("status %d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
		})
	}
}

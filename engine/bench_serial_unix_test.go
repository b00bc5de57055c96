//go:build unix

package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// BenchmarkEndToEndSerial sends one webhook at a time and waits for its delivery at the
// sink: the path of a run at a moderate rate, where nothing batches (ingest, pickup,
// step, outcome). It reports the process's CPU time per delivered webhook (load
// generator and sink included, the same in every variant).
func BenchmarkEndToEndSerial(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			arrived := make(chan struct{}, 1)
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusOK)
				arrived <- struct{}{}
			}))
			defer sink.Close()
			eng := enginetest.New(b, d, enginetest.Options{Workers: 32})
			wf, err := eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(`{"name":"serial","trigger":{"type":"webhook"},
				"steps":[{"id":"deliver","uses":"http.request","with":{"method":"POST","url":%q,"body":{"id":"{{ trigger.body.id }}"}}}]}`, sink.URL)))
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := processCPU(b)
			b.ResetTimer()
			for i := range b.N {
				if _, err := eng.Ingest(context.Background(), wf.HookToken, engine.IngestRequest{Method: "POST",
					Header: http.Header{"Content-Type": {"application/json"}}, Body: fmt.Appendf(nil, `{"id":%d}`, i)}); err != nil {
					b.Fatal(err)
				}
				select {
				case <-arrived:
				case <-time.After(time.Minute):
					b.Fatalf("webhook %d not delivered within a minute", i)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU returns the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

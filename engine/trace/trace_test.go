package trace

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTraceparent(t *testing.T) {
	sc, ok := ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	require.True(t, ok)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", sc.TraceID.String())
	require.Equal(t, "00f067aa0ba902b7", sc.SpanID.String())
	require.Equal(t, byte(1), sc.Flags)
	require.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", sc.Traceparent())
	// A later version may append fields.
	_, ok = ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")
	require.True(t, ok)
	for _, bad := range []string{"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"} {
		_, ok := ParseTraceparent(bad)
		require.False(t, ok, bad)
	}
}

func TestRunContextIsStable(t *testing.T) {
	caller, _ := ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	a, b := RunContext("run-1", caller), RunContext("run-1", caller)
	require.Equal(t, a, b, "every process derives the same run span")
	require.Equal(t, caller.TraceID, a.TraceID)
	require.NotEqual(t, caller.SpanID, a.SpanID)
	own := RunContext("run-1", SpanContext{})
	require.True(t, own.Valid())
	require.Equal(t, a.SpanID, own.SpanID)
	require.NotEqual(t, RunContext("run-2", SpanContext{}).TraceID, own.TraceID)
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, ok, err := ConfigFromEnv(env(nil))
	require.NoError(t, err)
	require.False(t, ok, "no endpoint: tracing off")

	cfg, ok, err := ConfigFromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
		"OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%3Db, x = y "}))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "http://collector:4318/v1/traces", cfg.Endpoint)
	require.Equal(t, map[string]string{"api-key": "a=b", "x": "y"}, cfg.Headers)

	cfg, _, err = ConfigFromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/custom", "OTEL_SERVICE_NAME": "hf-eu"}))
	require.NoError(t, err)
	require.Equal(t, "https://b/custom", cfg.Endpoint, "the traces endpoint is used as is")
	require.Equal(t, "hf-eu", cfg.ServiceName)

	for _, m := range []map[string]string{{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a", "OTEL_EXPORTER_OTLP_HEADERS": "novalue"}} {
		_, _, err := ConfigFromEnv(env(m))
		require.Error(t, err, m)
	}
}

// TestNilTracerAllocatesNothing: with tracing off the hooks cost no allocation.
func TestNilTracerAllocatesNothing(t *testing.T) {
	var tr *Tracer
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		_, s := tr.Start(ctx, "step a", KindInternal)
		s.SetString("k", "v")
		s.SetInt("n", 1)
		s.End(errors.New("x"))
		tr.StartWith(SpanContext{}, SpanID{}, "run", KindInternal).EndOK()
	})
	// errors.New allocates in the closure itself; the tracer adds nothing to it.
	require.LessOrEqual(t, allocs, 1.0)
	require.False(t, tr.Enabled())
	require.NoError(t, tr.Shutdown(ctx))
}

// TestQueueFullDrops: while the collector hangs, spans past the queue are dropped and
// End does not block; Shutdown exports what was queued.
func TestQueueFullDrops(t *testing.T) {
	arrived, release := make(chan int, 10), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- 1
		<-release
	}))
	defer srv.Close()
	tr := New(Config{Endpoint: srv.URL + "/v1/traces", QueueSize: 1, BatchSize: 1})
	_, s := tr.Start(context.Background(), "one", KindInternal)
	s.End(nil)
	<-arrived // the exporter is now stuck in its first request
	for _, name := range []string{"two", "three", "four"} {
		_, s := tr.Start(context.Background(), name, KindInternal)
		s.End(nil)
	}
	require.Equal(t, uint64(2), tr.Dropped(), "the queue holds one span")
	close(release)
	require.NoError(t, tr.Shutdown(context.Background()))
	require.Len(t, arrived, 1, "the queued span went in a second request")
	require.Equal(t, uint64(2), tr.exported.Load())
	_, late := tr.Start(context.Background(), "late", KindInternal)
	late.End(nil)
	require.Equal(t, uint64(3), tr.Dropped(), "after Shutdown spans are dropped")
}

package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trace"
)

// otlpSpan is what the receiver decodes of a span.
type otlpSpan struct {
	TraceID      string `json:"traceId"`
	SpanID       string `json:"spanId"`
	ParentSpanID string `json:"parentSpanId"`
	Name         string `json:"name"`
	Kind         int    `json:"kind"`
	Start        string `json:"startTimeUnixNano"`
	End          string `json:"endTimeUnixNano"`
	Attributes   []struct {
		Key   string `json:"key"`
		Value struct {
			StringValue *string `json:"stringValue"`
			IntValue    *string `json:"intValue"`
		} `json:"value"`
	} `json:"attributes"`
	Status struct {
		Code int `json:"code"`
	} `json:"status"`
}

func (s otlpSpan) attr(k string) string {
	for _, a := range s.Attributes {
		if a.Key == k {
			switch {
			case a.Value.StringValue != nil:
				return *a.Value.StringValue
			case a.Value.IntValue != nil:
				return *a.Value.IntValue
			}
		}
	}
	return ""
}

// otlpReceiver is an in-process OTLP/HTTP collector: it decodes the JSON export
// requests posted to /v1/traces.
type otlpReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	spans   []otlpSpan
	service string
	headers http.Header
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	rcv := &otlpReceiver{}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want JSON on /v1/traces", http.StatusBadRequest)
			return
		}
		var req struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []struct {
						Key   string `json:"key"`
						Value struct {
							StringValue string `json:"stringValue"`
						} `json:"value"`
					} `json:"attributes"`
				} `json:"resource"`
				ScopeSpans []struct {
					Spans []otlpSpan `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		rcv.headers = r.Header.Clone()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					rcv.service = a.Value.StringValue
				}
			}
			for _, ss := range rs.ScopeSpans {
				rcv.spans = append(rcv.spans, ss.Spans...)
			}
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

// waitRunSpan waits for the run's span: the runner records it after the run's outcome,
// so it may arrive after the run reads as ended.
func (r *otlpReceiver) waitRunSpan(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, s := range r.received() {
			if s.Name == "run" {
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond)
}

func (r *otlpReceiver) received() []otlpSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]otlpSpan(nil), r.spans...)
}

// TestTraceContinuesCallersTrace: a webhook carrying a traceparent starts a 3-step run;
// the collector gets one run span whose parent is the caller's span, in the caller's
// trace, 3 step spans under it, and the HTTP call's span under its step; the call
// itself carries the trace on to the service.
func TestTraceContinuesCallersTrace(t *testing.T) {
	t.Parallel()
	rcv := newOTLPReceiver(t)
	cfg, ok, err := trace.ConfigFromEnv(func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL + "/",
			"OTEL_SERVICE_NAME": "hookflow-test", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=k%201"}[k]
	})
	require.NoError(t, err)
	require.True(t, ok)
	cfg.Interval = 20 * time.Millisecond
	tracer := trace.New(cfg)

	var mu sync.Mutex
	var sentTraceparent string
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sentTraceparent = r.Header.Get("Traceparent")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(svc.Close)

	eng := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) { c.Tracer = tracer }})
	wf := createWorkflow(t, eng.Engine, `{"name":"traced","trigger":{"type":"webhook"},"steps":[
	  {"id":"first","uses":"core.set","with":{"a":1}},
	  {"id":"call","uses":"http.request","with":{"method":"POST","url":"%s/hook","body":{"a":1}}},
	  {"id":"last","uses":"core.set","with":{"b":2}}]}`, svc.URL)

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	res, err := eng.Ingest(context.Background(), wf.HookToken, engine.IngestRequest{Method: "POST",
		Header: http.Header{"Content-Type": {"application/json"}, "Traceparent": {"00-" + callerTrace + "-" + callerSpan + "-01"}},
		Body:   []byte(`{}`)})
	require.NoError(t, err)
	run := enginetest.WaitRun(t, eng.Engine, res.RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	rcv.waitRunSpan(t)

	spans := rcv.received()
	byName := map[string][]otlpSpan{}
	for _, s := range spans {
		require.Equal(t, callerTrace, s.TraceID, "every span is in the caller's trace: %s", s.Name)
		byName[s.Name] = append(byName[s.Name], s)
	}
	require.Len(t, byName["run"], 1, "%+v", spans)
	runSpan := byName["run"][0]
	require.Equal(t, callerSpan, runSpan.ParentSpanID)
	require.Equal(t, res.RunID, runSpan.attr("hookflow.run.id"))
	require.Equal(t, wf.ID, runSpan.attr("hookflow.workflow.id"))
	require.Equal(t, engine.RunSucceeded, runSpan.attr("hookflow.run.status"))
	steps := map[string]otlpSpan{}
	for _, id := range []string{"first", "call", "last"} {
		require.Len(t, byName["step "+id], 1)
		s := byName["step "+id][0]
		require.Equal(t, runSpan.SpanID, s.ParentSpanID, "step %s under the run", id)
		require.Equal(t, id, s.attr("hookflow.step.id"))
		require.Equal(t, "1", s.attr("hookflow.step.attempt"))
		require.Equal(t, "succeeded", s.attr("hookflow.step.status"))
		steps[id] = s
	}
	require.Equal(t, "http.request", steps["call"].attr("hookflow.step.uses"))
	require.Len(t, byName["HTTP POST"], 1)
	httpSpan := byName["HTTP POST"][0]
	require.Equal(t, steps["call"].SpanID, httpSpan.ParentSpanID)
	require.Equal(t, 3, httpSpan.Kind, "client")
	require.Equal(t, "200", httpSpan.attr("http.response.status_code"))
	require.Len(t, spans, 5)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, "00-"+callerTrace+"-"+httpSpan.SpanID+"-01", sentTraceparent)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	require.Equal(t, "hookflow-test", rcv.service)
	require.Equal(t, "k 1", rcv.headers.Get("X-Api-Key"))
}

// TestTraceRetriedStepKeepsOneRunSpan: a step that fails once and then succeeds gives
// two step spans (attempts 1 and 2) under one run span, though the run was claimed twice.
func TestTraceRetriedStepKeepsOneRunSpan(t *testing.T) {
	t.Parallel()
	rcv := newOTLPReceiver(t)
	tracer := trace.New(trace.Config{Endpoint: rcv.URL + "/v1/traces", Interval: 20 * time.Millisecond})
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) { c.Tracer = tracer }})
	sink := newScriptSink(t, time.Now)
	sink.plan("/flaky", reply{status: 503}, reply{status: 200})
	wf := createWorkflow(t, eng.Engine, `{"name":"retry","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","retry":{"max_attempts":3,"initial":"10ms","max":"20ms"},"with":{"url":"%s/flaky"}}]}`, sink.URL)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	rcv.waitRunSpan(t)

	var runSpans, stepSpans []otlpSpan
	for _, s := range rcv.received() {
		switch s.Name {
		case "run":
			runSpans = append(runSpans, s)
		case "step call":
			stepSpans = append(stepSpans, s)
		}
	}
	require.Len(t, runSpans, 1)
	require.Empty(t, runSpans[0].ParentSpanID, "no caller: the run's span is the root")
	require.Len(t, stepSpans, 2)
	for i, s := range stepSpans {
		require.Equal(t, runSpans[0].TraceID, s.TraceID)
		require.Equal(t, runSpans[0].SpanID, s.ParentSpanID)
		require.Equal(t, fmt.Sprint(i+1), s.attr("hookflow.step.attempt"))
	}
	require.Equal(t, 2, stepSpans[0].Status.Code, "the failed attempt is an error")
	require.Equal(t, "waiting", stepSpans[0].attr("hookflow.step.status"))
}

// metricValue finds a sample line of the text format and returns its value.
func metricValue(t *testing.T, text, series string) string {
	t.Helper()
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestOperationsMetrics scrapes /metrics after real activity: a step failing once then
// succeeding (a retry, a 5xx and a 2xx outbound request), a call to a closed port (an
// outbound error), a poll that works and one that fails.
func TestOperationsMetrics(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	sink := newScriptSink(t, time.Now)
	sink.plan("/flaky", reply{status: 503}, reply{status: 200})
	retried := createWorkflow(t, eng.Engine, `{"name":"retry","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","retry":{"max_attempts":3,"initial":"10ms","max":"20ms"},"with":{"url":"%s/flaky"}}]}`, sink.URL)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, retried, `{}`).RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)

	// A port that was listening and is closed now refuses the connection: no response.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())
	refused := createWorkflow(t, eng.Engine, `{"name":"refused","trigger":{"type":"webhook"},"steps":[
	  {"id":"call","uses":"http.request","retry":{"max_attempts":1},"with":{"url":"http://%s/x"}}]}`, closed)
	run = enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, refused, `{}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)

	good, bad := newFeedAPI(t, 1), newFeedAPI(t, 1)
	bad.setBroken(true)
	feed := func(name, url string) *engine.Workflow {
		return createWorkflow(t, eng.Engine, `{"name": %q, "trigger": {"type": "poll", "poll": {"uses": "http.poll", "cron": "@every 1h",
		  "with": {"url": "%s/items", "items": "body.data"}}},
		  "steps": [{"id": "got", "uses": "core.set", "with": {"id": "{{ trigger.item.id }}"}}]}`, name, url)
	}
	okFeed, badFeed := feed("ok", good.URL), feed("bad", bad.URL)
	require.Eventually(t, func() bool {
		okState, err := eng.GetTriggerState(context.Background(), okFeed.ID)
		require.NoError(t, err)
		badState, err := eng.GetTriggerState(context.Background(), badFeed.ID)
		require.NoError(t, err)
		return okState.Seeded && badState.ConsecutiveFailures > 0
	}, 20*time.Second, 10*time.Millisecond)

	text := metricsText(t, eng.Engine)
	require.Equal(t, "1", metricValue(t, text, `hookflow_step_retries_total{uses="http.request"}`), text)
	// The retried call's 503 and the bad feed's 500.
	require.Equal(t, "2", metricValue(t, text, `hookflow_outbound_requests_total{class="5xx",connector="http"}`), text)
	require.Equal(t, "1", metricValue(t, text, `hookflow_outbound_requests_total{class="error",connector="http"}`), text)
	// The retried call's 200 and the good feed's.
	require.Equal(t, "2", metricValue(t, text, `hookflow_outbound_requests_total{class="2xx",connector="http"}`), text)
	require.Equal(t, "1", metricValue(t, text, `hookflow_polls_total{outcome="ok",poller="http.poll"}`), text)
	require.Equal(t, "1", metricValue(t, text, `hookflow_polls_total{outcome="failed",poller="http.poll"}`), text)
}

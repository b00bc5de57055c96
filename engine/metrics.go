package engine

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors/httpclient"
	"github.com/hookflow/hookflow/engine/trace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the engine's Prometheus series. Each engine has its own registry, so tests
// that open many engines in one process do not collide.
type metrics struct {
	reg          *prometheus.Registry
	webhooks     *prometheus.CounterVec
	triggers     *prometheus.CounterVec
	runsFinished *prometheus.CounterVec
	runsClaimed  prometheus.Counter
	dispatched   prometheus.Counter
	claims       prometheus.Counter
	steps        *prometheus.CounterVec
	stepDuration *prometheus.HistogramVec
	inFlight     prometheus.Gauge
	unrecorded   prometheus.Counter
	authFailures *prometheus.CounterVec
	pruned       *prometheus.CounterVec
	retries      *prometheus.CounterVec
	outbound     *prometheus.CounterVec
	polls        *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		triggers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_triggered_runs_total", Help: "Runs started by the engine itself, by trigger: schedule, poll, failure.",
		}, []string{"trigger"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_webhooks_total", Help: "Webhook requests by verdict: accepted, duplicate, rejected, rate_limited, too_large, check.",
		}, []string{"verdict"}),
		runsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_runs_finished_total", Help: "Runs ended by this process, by final status.",
		}, []string{"status"}),
		runsClaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookflow_runs_claimed_total", Help: "Runs claimed by this process's workers (takeovers and resumptions included).",
		}),
		dispatched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookflow_runs_dispatched_total", Help: "Runs handed straight to an idle worker of the process that ingested them, without a claim.",
		}),
		claims: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookflow_claims_total", Help: "Claim transactions by this process's workers; runs claimed per claim shows how well claims batch.",
		}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_steps_total", Help: "Steps ended by this process, by action and status.",
		}, []string{"uses", "status"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookflow_step_duration_seconds", Help: "Time spent in steps' attempts, by action.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"uses"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookflow_runs_in_flight", Help: "Runs this process is executing now.",
		}),
		unrecorded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookflow_webhooks_unrecorded_total", Help: "Refused webhook requests not kept for the inspector because a flood exceeded the recording budget.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_api_auth_failures_total", Help: "API requests refused for their token: missing, invalid, or throttled (refused unchecked while their client address is slowed down).",
		}, []string{"reason"}),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_pruned_rows_total", Help: "Rows deleted by retention by this process, by table: runs, step_runs, events, and the rest of deleted workflows.",
		}, []string{"table"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_step_retries_total", Help: "Failed step attempts scheduled to be tried again, by action (connector.action).",
		}, []string{"uses"}),
		outbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_outbound_requests_total", Help: "HTTP requests sent by connectors' actions and pollers, by connector and status class: 1xx to 5xx, or error when no response arrived.",
		}, []string{"connector", "class"}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_polls_total", Help: "Polls run by this process, by poller (connector.poller) and outcome: ok or failed.",
		}, []string{"poller", "outcome"}),
	}
	m.reg.MustRegister(m.retries, m.outbound, m.polls)
	m.reg.MustRegister(m.webhooks, m.triggers, m.runsFinished, m.runsClaimed, m.dispatched, m.claims, m.steps, m.stepDuration, m.inFlight, m.unrecorded, m.authFailures, m.pruned,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// queueCollector reads the queue's depth and the age of its oldest due run from the
// database at each scrape: the queue is the cluster's, not this process's, so a counter
// kept in memory could not know it.
type queueCollector struct {
	e      *Engine
	depth  *prometheus.Desc
	oldest *prometheus.Desc
}

func newQueueCollector(e *Engine) *queueCollector {
	return &queueCollector{e: e,
		depth:  prometheus.NewDesc("hookflow_queue_depth", "Runs due and not yet claimed (queued, or waiting whose time has come), in the whole database.", nil, nil),
		oldest: prometheus.NewDesc("hookflow_queue_oldest_seconds", "How long the oldest due, unclaimed run has been due; 0 when none is.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.oldest }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := c.e.cfg.Now()
	depth, oldest, err := c.e.store.QueueStats(ctx, now)
	if err != nil {
		// An invalid metric makes the scrape report the error instead of a wrong zero.
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		// Milliseconds: PostgreSQL keeps microseconds, and finer digits are noise.
		age = max(now.Sub(oldest).Round(time.Millisecond).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}

// RunFinished implements runner.Observer.
func (m *metrics) RunFinished(_, status string) { m.runsFinished.WithLabelValues(status).Inc() }

// StepFinished implements runner.Observer.
func (m *metrics) StepFinished(_, uses, status string, took time.Duration) {
	m.steps.WithLabelValues(uses, status).Inc()
	m.stepDuration.WithLabelValues(uses).Observe(took.Seconds())
}

// StepRetried implements runner.Observer.
func (m *metrics) StepRetried(_, uses string) { m.retries.WithLabelValues(uses).Inc() }

// outboundObserver counts a connector's HTTP requests by status class and records a
// client span for each under the step's (or poll's) span.
type outboundObserver struct {
	m         *metrics
	tracer    *trace.Tracer
	connector string
}

// Request implements httpclient.Observer.
func (o outboundObserver) Request(ctx context.Context, req *http.Request) func(int, error) {
	var span *trace.Span
	if o.tracer.Enabled() {
		// Guarded so that the span's name is not built when tracing is off.
		_, span = o.tracer.Start(ctx, "HTTP "+req.Method, trace.KindClient)
	}
	if span != nil {
		req.Header.Set("Traceparent", span.Context().Traceparent())
		span.SetString("http.request.method", req.Method)
		span.SetString("server.address", req.URL.Hostname())
		if o.connector != "" {
			span.SetString("hookflow.connector", o.connector)
		}
	}
	return func(status int, err error) {
		o.m.outbound.WithLabelValues(o.connector, statusClass(status)).Inc()
		if span == nil {
			return
		}
		if status > 0 {
			span.SetInt("http.response.status_code", int64(status))
		}
		switch {
		case err != nil:
			span.End(err)
		case status >= 500:
			span.End(fmt.Errorf("status %d", status))
		default:
			span.End(nil)
		}
	}
}

// statusClass buckets a status for the outbound metric: six values at most, so the
// series stay few.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// withOutbound puts the outbound observer for a connector's calls in ctx.
func (e *Engine) withOutbound(ctx context.Context, connector string) context.Context {
	return httpclient.WithObserver(ctx, outboundObserver{m: e.metrics, tracer: e.cfg.Tracer, connector: connector})
}

// MetricsHandler serves the engine's metrics in the Prometheus text format. With
// Config.MetricsToken set, a request without "Authorization: Bearer <token>" gets 401.
func (e *Engine) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(e.metrics.reg, promhttp.HandlerOpts{})
	if e.cfg.MetricsToken == "" {
		return h
	}
	want := sha256.Sum256([]byte(e.cfg.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Hashing first makes the comparison's time independent of the token's length.
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <HOOKFLOW_METRICS_TOKEN>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// CountAuthFailure counts an API request refused for its token, by reason (missing,
// invalid, throttled), for /metrics.
func (e *Engine) CountAuthFailure(reason string) {
	e.metrics.authFailures.WithLabelValues(reason).Inc()
}

// connectorOf is the connector part of "connector.action".
func connectorOf(uses string) string {
	name, _, _ := strings.Cut(uses, ".")
	return name
}

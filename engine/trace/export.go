package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	QueueSizeDefault = 2048
	BatchSizeDefault = 512
	IntervalDefault  = 5 * time.Second
	TimeoutDefault   = 10 * time.Second
)

// Config sets up a Tracer.
type Config struct {
	// Endpoint is the full URL spans are POSTed to (…/v1/traces).
	Endpoint string
	// Headers are sent with every export (an API key of a hosted collector).
	Headers map[string]string
	// ServiceName is the resource's service.name. Default "hookflow".
	ServiceName string
	// QueueSize bounds the finished spans waiting for export; more are dropped.
	QueueSize int
	// BatchSize is the most spans one request carries.
	BatchSize int
	// Interval is how long a span may wait for its batch to fill.
	Interval time.Duration
	// Timeout bounds one export request.
	Timeout time.Duration
	// Client sends the exports. Default: a plain http.Client (the collector is the
	// operator's own service, not a workflow's destination, so the outbound policy does
	// not apply).
	Client *http.Client
	Logger *slog.Logger
}

// ConfigFromEnv reads the standard OpenTelemetry variables: OTEL_EXPORTER_OTLP_ENDPOINT
// (spans go to its /v1/traces), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is, and
// first), OTEL_EXPORTER_OTLP_HEADERS (and the _TRACES_ one) and OTEL_SERVICE_NAME. ok is
// false when no endpoint is set: tracing is off.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	cfg.Endpoint = strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	if cfg.Endpoint == "" {
		base := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
		if base == "" {
			return cfg, false, nil
		}
		cfg.Endpoint = strings.TrimRight(base, "/") + "/v1/traces"
	}
	if u, perr := url.Parse(cfg.Endpoint); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, false, fmt.Errorf("OTLP traces endpoint %q: want an http:// or https:// URL", cfg.Endpoint)
	}
	if p := getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/json" && p != "http/protobuf" {
		return cfg, false, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: Hookflow exports OTLP over HTTP with JSON only", p)
	}
	cfg.Headers = map[string]string{}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		if err := parseHeaders(getenv(name), cfg.Headers); err != nil {
			return cfg, false, fmt.Errorf("%s: %w", name, err)
		}
	}
	cfg.ServiceName = strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))
	return cfg, true, nil
}

// parseHeaders reads "k1=v1,k2=v2" with URL-encoded values, as the OTel spec writes them.
func parseHeaders(s string, into map[string]string) error {
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("%q is not key=value", pair)
		}
		dv, err := url.QueryUnescape(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("header %s: %w", strings.TrimSpace(k), err)
		}
		into[strings.TrimSpace(k)] = dv
	}
	return nil
}

// Tracer records spans and exports them in the background.
type Tracer struct {
	cfg      Config
	queue    chan *Span
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	dropped  atomic.Uint64
	exported atomic.Uint64
}

// New starts a Tracer exporting to cfg.Endpoint. Call Shutdown to flush it.
func New(cfg Config) *Tracer {
	if cfg.ServiceName == "" {
		cfg.ServiceName = "hookflow"
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = QueueSizeDefault
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = BatchSizeDefault
	}
	if cfg.Interval <= 0 {
		cfg.Interval = IntervalDefault
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = TimeoutDefault
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Tracer{cfg: cfg, queue: make(chan *Span, cfg.QueueSize), stop: make(chan struct{}), done: make(chan struct{})}
	go t.loop()
	return t
}

// Dropped counts the spans dropped because the queue was full or an export failed.
func (t *Tracer) Dropped() uint64 {
	if t == nil {
		return 0
	}
	return t.dropped.Load()
}

func (t *Tracer) enqueue(s *Span) {
	select {
	case <-t.stop:
		t.dropped.Add(1) // after Shutdown: nobody will send it
		return
	default:
	}
	select {
	case t.queue <- s:
	default:
		t.dropped.Add(1)
	}
}

// Shutdown exports the queued spans and stops the exporter; ctx bounds the wait.
// Spans ended later are dropped. It is safe to call more than once.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.once.Do(func() { close(t.stop) })
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush traces: %w", ctx.Err())
	}
}

func (t *Tracer) loop() {
	defer close(t.done)
	tick := time.NewTicker(t.cfg.Interval)
	defer tick.Stop()
	batch := make([]*Span, 0, t.cfg.BatchSize)
	flush := func() {
		if len(batch) > 0 {
			t.export(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case s := <-t.queue:
			batch = append(batch, s)
			if len(batch) >= t.cfg.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
		case <-t.stop:
			for {
				select {
				case s := <-t.queue:
					batch = append(batch, s)
					if len(batch) >= t.cfg.BatchSize {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// export sends one batch; a failed batch is dropped (counted), never retried, so a
// collector that is down costs the engine nothing but the attempts.
func (t *Tracer) export(batch []*Span) {
	body, err := json.Marshal(t.encode(batch))
	if err != nil {
		t.dropped.Add(uint64(len(batch)))
		t.cfg.Logger.Warn("Encode traces failed", slog.Any("err", err))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		t.dropped.Add(uint64(len(batch)))
		t.cfg.Logger.Warn("Export traces failed", slog.Any("err", err))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range t.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := t.cfg.Client.Do(req)
	if err != nil {
		t.dropped.Add(uint64(len(batch)))
		t.cfg.Logger.Warn("Export traces failed", slog.Int("spans", len(batch)), slog.Any("err", err))
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		t.dropped.Add(uint64(len(batch)))
		t.cfg.Logger.Warn("Export traces refused", slog.Int("spans", len(batch)), slog.Int("status", resp.StatusCode))
		return
	}
	t.exported.Add(uint64(len(batch)))
}

// The OTLP/JSON shapes (opentelemetry-proto's JSON mapping: ids in hex, 64-bit
// integers as strings, enums as numbers).
type (
	otlpRequest struct {
		ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	}
	otlpResourceSpans struct {
		Resource   otlpResource     `json:"resource"`
		ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
	}
	otlpResource struct {
		Attributes []otlpKeyValue `json:"attributes"`
	}
	otlpScopeSpans struct {
		Scope otlpScope  `json:"scope"`
		Spans []otlpSpan `json:"spans"`
	}
	otlpScope struct {
		Name string `json:"name"`
	}
	otlpSpan struct {
		TraceID           string         `json:"traceId"`
		SpanID            string         `json:"spanId"`
		ParentSpanID      string         `json:"parentSpanId,omitempty"`
		Name              string         `json:"name"`
		Kind              int            `json:"kind"`
		StartTimeUnixNano string         `json:"startTimeUnixNano"`
		EndTimeUnixNano   string         `json:"endTimeUnixNano"`
		Attributes        []otlpKeyValue `json:"attributes,omitempty"`
		Status            *otlpStatus    `json:"status,omitempty"`
	}
	otlpStatus struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
	otlpKeyValue struct {
		Key   string       `json:"key"`
		Value otlpAnyValue `json:"value"`
	}
	otlpAnyValue struct {
		StringValue *string `json:"stringValue,omitempty"`
		IntValue    *string `json:"intValue,omitempty"`
		BoolValue   *bool   `json:"boolValue,omitempty"`
	}
)

func (t *Tracer) encode(batch []*Span) otlpRequest {
	spans := make([]otlpSpan, len(batch))
	for i, s := range batch {
		o := otlpSpan{
			TraceID: s.sc.TraceID.String(), SpanID: s.sc.SpanID.String(), Name: s.name, Kind: int(s.kind),
			StartTimeUnixNano: unixNano(s.start), EndTimeUnixNano: unixNano(s.end),
		}
		if !s.parent.IsZero() {
			o.ParentSpanID = s.parent.String()
		}
		for _, a := range s.attrs {
			o.Attributes = append(o.Attributes, keyValue(a))
		}
		if s.status != statusUnset {
			o.Status = &otlpStatus{Code: s.status, Message: s.statusMs}
		}
		spans[i] = o
	}
	return otlpRequest{ResourceSpans: []otlpResourceSpans{{
		Resource:   otlpResource{Attributes: []otlpKeyValue{keyValue(Attr{"service.name", t.cfg.ServiceName})}},
		ScopeSpans: []otlpScopeSpans{{Scope: otlpScope{Name: "github.com/hookflow/hookflow"}, Spans: spans}},
	}}}
}

func keyValue(a Attr) otlpKeyValue {
	kv := otlpKeyValue{Key: a.Key}
	switch v := a.Value.(type) {
	case string:
		kv.Value.StringValue = &v
	case int64:
		s := fmt.Sprint(v)
		kv.Value.IntValue = &s
	case bool:
		kv.Value.BoolValue = &v
	default:
		s := fmt.Sprint(v)
		kv.Value.StringValue = &s
	}
	return kv
}

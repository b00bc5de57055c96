// Package trace records OpenTelemetry spans and exports them over OTLP/HTTP with the
// JSON encoding. It is a small exporter of its own rather than the OpenTelemetry SDK:
// Hookflow needs four kinds of span (run, step, poll, outbound call), W3C traceparent
// parsing and a bounded batch queue, and the SDK with its protobuf exporter would add
// megabytes to the one binary for that.
//
// A nil *Tracer is valid and records nothing: Start returns a nil *Span, whose methods
// do nothing, so code paths stay the same with tracing off and allocate nothing.
package trace

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// TraceID and SpanID are W3C trace context identifiers.
type (
	TraceID [16]byte
	SpanID  [8]byte
)

// IsZero reports whether the id is all zeros, which W3C treats as invalid.
func (t TraceID) IsZero() bool { return t == TraceID{} }

// IsZero reports whether the id is all zeros, which W3C treats as invalid.
func (s SpanID) IsZero() bool { return s == SpanID{} }

func (t TraceID) String() string { return hex.EncodeToString(t[:]) }
func (s SpanID) String() string  { return hex.EncodeToString(s[:]) }

// SpanContext identifies a span: the parent of spans started under it.
type SpanContext struct {
	TraceID TraceID
	SpanID  SpanID
	Flags   byte // 1 = sampled
}

// Valid reports whether both ids are non-zero.
func (sc SpanContext) Valid() bool { return !sc.TraceID.IsZero() && !sc.SpanID.IsZero() }

// Traceparent formats sc as a W3C traceparent header value.
func (sc SpanContext) Traceparent() string {
	return "00-" + sc.TraceID.String() + "-" + sc.SpanID.String() + "-" + hex.EncodeToString([]byte{sc.Flags})
}

// ParseTraceparent reads a W3C traceparent header ("00-<32 hex>-<16 hex>-<2 hex>").
// Later versions are read by their first four fields, as the recommendation asks.
func ParseTraceparent(s string) (SpanContext, bool) {
	var sc SpanContext
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') {
		return sc, false
	}
	ver, err := hex.DecodeString(s[:2])
	if err != nil || ver[0] == 0xff || (ver[0] == 0 && len(s) != 55) {
		return sc, false
	}
	if !lowerHex(s[3:35]) || !lowerHex(s[36:52]) || !lowerHex(s[53:55]) {
		return sc, false
	}
	_, _ = hex.Decode(sc.TraceID[:], []byte(s[3:35]))
	_, _ = hex.Decode(sc.SpanID[:], []byte(s[36:52]))
	var flags [1]byte
	_, _ = hex.Decode(flags[:], []byte(s[53:55]))
	sc.Flags = flags[0]
	return sc, sc.Valid()
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// RunContext returns the span context of a run's span. It is derived from the run id
// (and the caller's trace, when the run was started by a traced request), so every
// process that executes part of the run, after a retry wait or a takeover, puts its
// step spans under the same run span without storing the span's id.
func RunContext(runID string, caller SpanContext) SpanContext {
	sum := sha256.Sum256([]byte("hookflow run " + runID))
	sc := SpanContext{Flags: 1}
	copy(sc.SpanID[:], sum[:8])
	if caller.Valid() {
		sc.TraceID, sc.Flags = caller.TraceID, caller.Flags|1
	} else {
		copy(sc.TraceID[:], sum[8:24])
	}
	return sc
}

type ctxKey struct{}

// ContextWith returns ctx carrying sc as the parent of the spans started under it.
func ContextWith(ctx context.Context, sc SpanContext) context.Context {
	return context.WithValue(ctx, ctxKey{}, sc)
}

// FromContext returns the span context ctx carries, or the zero one.
func FromContext(ctx context.Context) SpanContext {
	sc, _ := ctx.Value(ctxKey{}).(SpanContext)
	return sc
}

// Kind is a span's OTLP kind.
type Kind int

// OTLP span kinds.
const (
	KindInternal Kind = 1
	KindServer   Kind = 2
	KindClient   Kind = 3
)

// Status codes of OTLP.
const (
	statusUnset = 0
	statusOK    = 1
	statusError = 2
)

// Attr is a span attribute: a string, int64 or bool value.
type Attr struct {
	Key   string
	Value any
}

// Span is a span being recorded. A nil *Span ignores every call.
type Span struct {
	t        *Tracer
	sc       SpanContext
	parent   SpanID
	name     string
	kind     Kind
	start    time.Time
	end      time.Time
	attrs    []Attr
	status   int
	statusMs string
}

// Context returns the span's own context, for children and propagation.
func (s *Span) Context() SpanContext {
	if s == nil {
		return SpanContext{}
	}
	return s.sc
}

// SetString adds a string attribute.
func (s *Span) SetString(k, v string) {
	if s != nil {
		s.attrs = append(s.attrs, Attr{k, v})
	}
}

// SetInt adds an integer attribute.
func (s *Span) SetInt(k string, v int64) {
	if s != nil {
		s.attrs = append(s.attrs, Attr{k, v})
	}
}

// StartedAgo moves the span's start back by d (a run span starts when the run was
// created). A duration, not a time: the caller's clock (the engine's, maybe a test's
// fake) need not be the tracer's, which stamps every span with time.Now.
func (s *Span) StartedAgo(d time.Duration) {
	if s != nil && d > 0 {
		s.start = s.start.Add(-d)
	}
}

// End finishes the span, with an error status when err is not nil, and queues it for
// export. It never blocks: a full queue drops the span.
func (s *Span) End(err error) {
	if s == nil {
		return
	}
	s.end = time.Now()
	if err != nil {
		s.status, s.statusMs = statusError, err.Error()
	}
	s.t.enqueue(s)
}

// EndOK finishes the span with an OK status.
func (s *Span) EndOK() {
	if s == nil {
		return
	}
	s.status = statusOK
	s.End(nil)
}

// Start begins a span under the span context ctx carries (a new trace when none) and
// returns ctx carrying the new span. On a nil Tracer it returns ctx and nil.
func (t *Tracer) Start(ctx context.Context, name string, kind Kind) (context.Context, *Span) {
	if t == nil {
		return ctx, nil
	}
	s := t.newSpan(FromContext(ctx), name, kind)
	return ContextWith(ctx, s.sc), s
}

// StartWith begins a span with a given context and parent span id: a run span, whose ids
// are RunContext's.
func (t *Tracer) StartWith(sc SpanContext, parent SpanID, name string, kind Kind) *Span {
	if t == nil {
		return nil
	}
	return &Span{t: t, sc: sc, parent: parent, name: name, kind: kind, start: time.Now()}
}

func (t *Tracer) newSpan(parent SpanContext, name string, kind Kind) *Span {
	s := &Span{t: t, name: name, kind: kind, start: time.Now()}
	if parent.Valid() {
		s.sc.TraceID, s.parent, s.sc.Flags = parent.TraceID, parent.SpanID, parent.Flags|1
	} else {
		_, _ = rand.Read(s.sc.TraceID[:])
		s.sc.Flags = 1
	}
	_, _ = rand.Read(s.sc.SpanID[:])
	return s
}

// Enabled reports whether spans are recorded.
func (t *Tracer) Enabled() bool { return t != nil }

func unixNano(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

package connectortest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// NewCall returns a call as the runner builds it: fresh run and step IDs, attempt 1, the
// idempotency key "<run id>:<step id>" and a logger writing to t's log. Change its fields
// for other cases (Attempt: 2 with the same IdempotencyKey for a retry).
func NewCall(t testing.TB, input map[string]any, conn *connectors.Connection) *connectors.Call {
	t.Helper()
	runID, stepID := "run_"+randomHex(8), "step_"+randomHex(4)
	return &connectors.Call{
		RunID:          runID,
		StepID:         stepID,
		Attempt:        1,
		StartedAt:      time.Now().UTC(),
		IdempotencyKey: runID + ":" + stepID,
		Input:          input,
		Connection:     conn,
		Logger:         NewTestLogger(t),
	}
}

// NewConnection returns the connection a step of connector c would get for config, with
// the secret field names taken from c's spec. It returns nil for a nil config.
func NewConnection(c *connectors.Connector, config map[string]any) *connectors.Connection {
	if config == nil {
		return nil
	}
	spec := c.Spec()
	return &connectors.Connection{
		Name:      "test-" + c.Name,
		Connector: c.Name,
		Config:    config,
		Secrets:   spec.SecretFields(),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// Invoke runs one call through the lifecycle the runner uses: a new action from the
// factory, Validate (its error made permanent) when the action is a Validator, Run, and
// Close when it is a Closer.
func Invoke(ctx context.Context, def *connectors.ActionDef, call *connectors.Call) (out any, err error) {
	action := def.New()
	if action == nil {
		return nil, fmt.Errorf("action %s: factory returned nil", def.Name)
	}
	if c, ok := action.(connectors.Closer); ok {
		defer func() {
			if cerr := c.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close action %s: %w", def.Name, cerr)
			}
		}()
	}
	if v, ok := action.(connectors.Validator); ok {
		if err := v.Validate(call.Input); err != nil {
			if !connectors.IsPermanent(err) {
				err = connectors.Permanent(err)
			}
			return nil, fmt.Errorf("validate input of step %s: %w", call.StepID, err)
		}
	}
	return action.Run(ctx, call)
}

// NewTestLogger returns a debug-level logger that writes each record to t's log, so the
// output shows with the failing test. Records logged after the test ends are dropped
// rather than panicking.
func NewTestLogger(t testing.TB) *slog.Logger {
	return slog.New(newTestHandler(t))
}

func newTestHandler(t testing.TB) slog.Handler {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	// Output, not Log: Log would stamp every line with this file's name and line.
	return w.t.Output().Write(p)
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

// LogBuffer collects log output; it is safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// NewCaptureLogger returns a debug-level logger that writes JSON records to the returned
// buffer, for assertions on what was logged, and also to t's log.
func NewCaptureLogger(t testing.TB) (*slog.Logger, *LogBuffer) {
	buf := &LogBuffer{}
	h := slog.NewMultiHandler(
		slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
		newTestHandler(t),
	)
	return slog.New(h), buf
}

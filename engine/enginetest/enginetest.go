// Package enginetest builds real engines for tests: a fresh SQLite file or PostgreSQL
// schema, a temporary data directory, a fixed secret key, logs routed to the test, and
// workers that stop when the test ends.
package enginetest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// SecretKey is the fixed key of test engines (hex of 32 bytes).
const SecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// Options adjust a test engine.
type Options struct {
	// DatabaseURL reuses a database (for restart tests); empty means a fresh one.
	DatabaseURL string
	// DataDir reuses a data directory; empty means a fresh one.
	DataDir string
	// Workers as in engine.Config; zero means 2, negative none.
	Workers  int
	Registry *connectors.Registry
	// NoStart leaves the workers stopped.
	NoStart bool
	// Configure adjusts the engine config before opening (clock, lease, ...).
	Configure func(*engine.Config)
}

// Engine is a test engine with what it was opened on.
type Engine struct {
	*engine.Engine
	DatabaseURL string
	DataDir     string
}

// New opens an engine on a fresh database of dialect d and starts its workers. It is
// closed when the test ends.
func New(t testing.TB, d store.Dialect, opts Options) *Engine {
	t.Helper()
	if opts.DatabaseURL == "" {
		opts.DatabaseURL = storetest.URL(t, d)
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Workers == 0 {
		opts.Workers = 2
	}
	cfg := engine.Config{
		DataDir:      opts.DataDir,
		DatabaseURL:  opts.DatabaseURL,
		SecretKey:    SecretKey,
		Workers:      opts.Workers,
		Registry:     opts.Registry,
		PollInterval: 50 * time.Millisecond,
		Logger:       Logger(t),
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	eng, err := engine.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open engine on %s: %v", d, err)
	}
	var once sync.Once
	closeEngine := func() {
		once.Do(func() {
			if err := eng.Close(); err != nil {
				t.Errorf("close engine: %v", err)
			}
		})
	}
	t.Cleanup(closeEngine)
	if !opts.NoStart {
		eng.Start(context.Background())
	}
	return &Engine{Engine: eng, DatabaseURL: opts.DatabaseURL, DataDir: opts.DataDir}
}

// Token creates an admin user and returns an API token for it.
func Token(t testing.TB, eng *engine.Engine) string {
	t.Helper()
	ctx := context.Background()
	email := "admin@example.com"
	if _, err := eng.CreateUser(ctx, email, "correct horse battery", engine.RoleAdmin); err != nil && !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("create admin: %v", err)
	}
	tok, err := eng.CreateToken(ctx, email, "test")
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok
}

// WaitRun waits until a run reaches a final status and returns it with its steps. It
// gives up after a generous bound, so a stuck run fails the test instead of hanging it.
func WaitRun(t testing.TB, eng *engine.Engine, runID string) *engine.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := eng.GetRun(context.Background(), runID)
		if err != nil {
			t.Fatalf("get run %s: %v", runID, err)
		}
		switch r.Status {
		case engine.RunSucceeded, engine.RunFailed, engine.RunFiltered, engine.RunCancelled:
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %s after 20s", runID, r.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Clock is a settable clock for tests: engines read it instead of the wall clock, so a
// test moves time forward rather than sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t. Start it from ClockStart (or a time derived
// from it), never from a fixed date.
func NewClock(t time.Time) *Clock { return &Clock{now: t.UTC()} }

// ClockStart is where test clocks start: the wall clock, shifted by
// HOOKFLOW_TEST_CLOCK_SHIFT when set (storetest.ClockStart).
func ClockStart() time.Time { return storetest.ClockStart() }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// WaitStatus waits until a run has the given status, within a generous bound.
func WaitStatus(t testing.TB, eng *engine.Engine, runID, status string) *engine.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := eng.GetRun(context.Background(), runID)
		if err != nil {
			t.Fatalf("get run %s: %v", runID, err)
		}
		if r.Status == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s, not %s, after 20s (error %q)", runID, r.Status, status, r.Error)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Logger returns a slog logger writing to the test's log; benchmarks log nothing, so
// their output stays a table.
func Logger(t testing.TB) *slog.Logger {
	if _, bench := t.(*testing.B); bench {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

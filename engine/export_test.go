package engine

import (
	"context"
	"sync"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/engine/store"
)

// PauseHeartbeat stops this process's lease renewals until resume is called: a test's way
// to stall a live process past its lease, as a long GC pause or a frozen VM would.
func (e *Engine) PauseHeartbeat() (resume func()) {
	e.beatPaused.Store(true)
	return func() { e.beatPaused.Store(false) }
}

// StopRequested reports whether this process has heard that the run it holds in flight
// is to be cancelled.
func (e *Engine) StopRequested(runID string) bool {
	_, ok := e.cancelHeard.Load(runID)
	return ok
}

// CountTokenUseWrites makes the engine count its writes of API tokens' last use, per
// token, as well as writing them.
func (e *Engine) CountTokenUseWrites() (counts func() map[string]int) {
	u := e.tokenUse()
	var mu sync.Mutex
	n := map[string]int{}
	write := u.write
	u.write = func(ctx context.Context, id string, at time.Time) error {
		mu.Lock()
		n[id]++
		mu.Unlock()
		return write(ctx, id, at)
	}
	return func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range n {
			out[k] = v
		}
		return out
	}
}

// SetConnectorLoader replaces how connector files become connectors, so the loader's
// reload, name and keep-the-last-good rules can be tested with hand-built connectors.
// Call it before Start.
func (e *Engine) SetConnectorLoader(load func(declarative.Source) (*connectors.Connector, error)) {
	e.files.mu.Lock()
	defer e.files.mu.Unlock()
	e.files.load = load
}

// ConnectionCredentials returns the credential store the engine hands to the actions and
// pollers using the named connection.
func (e *Engine) ConnectionCredentials(ctx context.Context, name string) (connectors.CredentialStore, error) {
	c, err := e.resolveConnection(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.Credentials, nil
}

// IdleWorkers returns how many of the engine's workers are idle now: direct dispatch
// needs one.
func (e *Engine) IdleWorkers() int {
	pool := e.pool.Load()
	if pool == nil {
		return 0
	}
	return pool.Idle()
}

// ClaimAsPool claims up to n due runs as the worker pool does: each is registered in
// flight in this process before it is returned.
func (e *Engine) ClaimAsPool(ctx context.Context, n int) ([]store.Run, error) {
	return e.claimRuns(ctx, n)
}

// HandBack stores a run this process claimed as due again while it stays registered in
// flight: the moment between a worker storing its run's hand-off (a retry's wait, a
// release) and the worker returning, when another worker's claim may already find it.
func (e *Engine) HandBack(ctx context.Context, run *store.Run) error {
	return e.store.ReleaseRun(ctx, store.LeaseOf(run), e.cfg.Now())
}

// InFlightAttempt returns the attempt this process has registered in flight for a run.
func (e *Engine) InFlightAttempt(runID string) (int, bool) {
	v, ok := e.inflight.Load(runID)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

package engine

import (
	"context"
	"sync"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
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

package engine

import (
	"context"
	"sync"
	"time"
)

// PauseHeartbeat stops this process's lease renewals until resume is called: a test's way
// to stall a live process past its lease, as a long GC pause or a frozen VM would.
func (e *Engine) PauseHeartbeat() (resume func()) {
	e.beatPaused.Store(true)
	return func() { e.beatPaused.Store(false) }
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

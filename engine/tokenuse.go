package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// TokenUseInterval is how often, at most, a token's last use is written to the database:
// an API client making many calls costs one write a minute, not one per call.
const TokenUseInterval = time.Minute

// tokenUse keeps the last use of each API token in memory and writes it when the token's
// previous write is at least TokenUseInterval old, and on Close. A process that dies loses
// at most a minute of last-use times, which are informative only.
type tokenUse struct {
	write func(ctx context.Context, id string, at time.Time) error
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]time.Time // used since the last write
	written map[string]time.Time // when each token was last written
}

func (e *Engine) tokenUse() *tokenUse {
	e.tokensOnce.Do(func() {
		e.tokens = &tokenUse{write: e.store.TouchAPIToken, log: e.log,
			pending: map[string]time.Time{}, written: map[string]time.Time{}}
	})
	return e.tokens
}

// used records a use of token id at now, and writes it when the interval has passed. The
// write happens on the calling request, once a minute per token, so it needs no goroutine
// to outlive the engine.
func (u *tokenUse) used(ctx context.Context, id string, now time.Time) {
	u.mu.Lock()
	last, ok := u.written[id]
	if ok && now.Sub(last) < TokenUseInterval {
		u.pending[id] = now
		u.mu.Unlock()
		return
	}
	u.written[id] = now
	delete(u.pending, id)
	u.mu.Unlock()
	// A failed write is logged, not returned: the request was authenticated all the same.
	if err := u.write(context.WithoutCancel(ctx), id, now); err != nil {
		u.log.Warn("Recording API token use failed", slog.String("token_id", id), slog.Any("err", err))
	}
}

// flush writes every pending last use.
func (u *tokenUse) flush(ctx context.Context) {
	u.mu.Lock()
	pending := u.pending
	u.pending = map[string]time.Time{}
	for id, at := range pending {
		u.written[id] = at
	}
	u.mu.Unlock()
	for id, at := range pending {
		if err := u.write(ctx, id, at); err != nil {
			u.log.Warn("Recording API token use failed", slog.String("token_id", id), slog.Any("err", err))
		}
	}
}

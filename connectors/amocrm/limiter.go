package amocrm

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

const (
	// requestsPerSecond is amoCRM's documented limit; above it the API answers 429, and
	// repeated excess can get the account's IP blocked.
	requestsPerSecond = 7
	// limiterWindow is a little over a second: requests reach amoCRM a little after they
	// leave, unevenly, and amoCRM counts arrivals.
	limiterWindow = time.Second + 50*time.Millisecond
)

// limiters holds one limiter per token (keyed by its hash, so the map holds no secret),
// shared by every call and poll of this process that uses the token.
var limiters sync.Map // [32]byte → *limiter

// limiter lets at most requestsPerSecond requests start in any limiterWindow.
type limiter struct {
	mu     sync.Mutex
	starts []time.Time // the last requestsPerSecond start times, oldest first
}

func limiterFor(token string) *limiter {
	key := sha256.Sum256([]byte(token))
	l, _ := limiters.LoadOrStore(key, &limiter{})
	return l.(*limiter)
}

// wait blocks until a request may start, or ctx is done.
func (l *limiter) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		if len(l.starts) < requestsPerSecond {
			l.starts = append(l.starts, now)
			l.mu.Unlock()
			return nil
		}
		next := l.starts[0].Add(limiterWindow)
		if !now.Before(next) {
			l.starts = append(l.starts[1:], now)
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

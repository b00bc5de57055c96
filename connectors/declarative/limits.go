package declarative

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// limiter applies a connection's rate and concurrency limits. One limiter serves every
// action and trigger of one connection in this process.
type limiter struct {
	clock Clock
	// sem holds one token per request in flight; nil without a concurrency limit.
	sem chan struct{}

	// The token bucket: n requests per per, refilled continuously; n == 0 without a rate.
	n   float64
	per time.Duration

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newLimiter(l Limits, clock Clock) (*limiter, error) {
	out := &limiter{clock: clock}
	if l.Concurrency > 0 {
		out.sem = make(chan struct{}, l.Concurrency)
	}
	if l.Rate != "" {
		n, per, err := parseRate(l.Rate)
		if err != nil {
			return nil, err
		}
		out.n, out.per, out.tokens = float64(n), per, float64(n)
	}
	return out, nil
}

// parseRate reads "N/duration" ("15/3s", "5000/1h", "10/s").
func parseRate(s string) (int, time.Duration, error) {
	num, dur, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("rate %q: want N/duration such as 15/3s", s)
	}
	dur = strings.TrimSpace(dur)
	if dur != "" && (dur[0] < '0' || dur[0] > '9') {
		dur = "1" + dur // "10/s" means per one second
	}
	per, err := time.ParseDuration(dur)
	if err != nil || per <= 0 {
		return 0, 0, fmt.Errorf("rate %q: want N/duration such as 15/3s", s)
	}
	return n, per, nil
}

// acquire waits for a rate token and then a concurrency slot, or until ctx is done. The
// slot is given back by the returned release.
func (l *limiter) acquire(ctx context.Context) (release func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	if err := l.takeToken(ctx); err != nil {
		return nil, err
	}
	if l.sem == nil {
		return func() {}, nil
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a free request slot: %w", ctx.Err())
	}
}

func (l *limiter) takeToken(ctx context.Context) error {
	if l.n == 0 {
		return nil
	}
	for {
		l.mu.Lock()
		now := l.clock.Now()
		if !l.last.IsZero() {
			if elapsed := now.Sub(l.last); elapsed > 0 {
				l.tokens = min(l.n, l.tokens+l.n*float64(elapsed)/float64(l.per))
			}
		}
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - l.tokens) * float64(l.per) / l.n)
		l.mu.Unlock()
		if err := l.clock.Sleep(ctx, max(wait, time.Millisecond)); err != nil {
			return fmt.Errorf("wait for the rate limit: %w", err)
		}
	}
}

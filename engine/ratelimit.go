package engine

import (
	"math"
	"sync"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// rateLimiter applies each connection's rate_limit and rate_burst across this process's
// workers, as a generic cell-rate algorithm: every call reserves the next slot, and the
// caller waits until its slot comes.
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	interval time.Duration // time between calls at the steady rate
	burst    int
	tat      time.Time // theoretical arrival time of the next call
}

func newRateLimiter() *rateLimiter { return &rateLimiter{buckets: map[string]*bucket{}} }

// Reserve takes a slot for one call through conn and returns how long to wait for it.
func (l *rateLimiter) Reserve(conn *connectors.Connection, now time.Time) time.Duration {
	rate := number(conn.Config["rate_limit"])
	if rate <= 0 {
		return 0
	}
	burst := int(number(conn.Config["rate_burst"]))
	if burst < 1 {
		burst = 1
	}
	interval := time.Duration(float64(time.Second) / rate)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[conn.Name]
	if b == nil || b.interval != interval || b.burst != burst {
		b = &bucket{interval: interval, burst: burst, tat: now}
		l.buckets[conn.Name] = b
	}
	if b.tat.Before(now) {
		b.tat = now
	}
	allowAt := b.tat.Add(-time.Duration(burst-1) * interval)
	b.tat = b.tat.Add(interval)
	if !now.Before(allowAt) {
		return 0
	}
	return allowAt.Sub(now)
}

func number(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case float64:
		if math.IsNaN(n) {
			return 0
		}
		return n
	}
	return 0
}

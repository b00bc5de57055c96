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
	return l.take("connection:"+conn.Name, rate, int(number(conn.Config["rate_burst"])), now, true)
}

// Allow takes a slot for key when one is free now; otherwise it takes nothing and says
// how long until one is.
func (l *rateLimiter) Allow(key string, rate float64, burst int, now time.Time) (bool, time.Duration) {
	wait := l.take(key, rate, burst, now, false)
	return wait == 0, wait
}

// take computes the wait for the next slot of key; it books the slot when the wait is
// zero, or always when reserve is set.
func (l *rateLimiter) take(key string, rate float64, burst int, now time.Time, reserve bool) time.Duration {
	if burst < 1 {
		burst = 1
	}
	interval := time.Duration(float64(time.Second) / rate)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil || b.interval != interval || b.burst != burst {
		b = &bucket{interval: interval, burst: burst, tat: now}
		l.buckets[key] = b
	}
	tat := b.tat
	if tat.Before(now) {
		tat = now
	}
	allowAt := tat.Add(-time.Duration(burst-1) * interval)
	wait := time.Duration(0)
	if now.Before(allowAt) {
		wait = allowAt.Sub(now)
	}
	if wait == 0 || reserve {
		b.tat = tat.Add(interval)
	}
	return wait
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

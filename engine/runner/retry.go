package runner

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/hookflow/hookflow/engine/workflow"
)

// Retry defaults, for steps that set no retry policy or leave parts of it out.
const (
	MaxAttemptsDefault = 5
	InitialDefault     = time.Second
	MaxBackoffDefault  = 10 * time.Minute
	MultiplierDefault  = 2.0
	JitterDefault      = 0.2
	// RetryAfterMax caps the wait a service may ask for with Retry-After.
	RetryAfterMax = time.Hour
)

// Policy is a step's resolved retry policy.
type Policy struct {
	MaxAttempts int
	Initial     time.Duration
	Max         time.Duration
	Multiplier  float64
	Jitter      float64
}

// PolicyFor fills a step's retry settings with the defaults.
func PolicyFor(r *workflow.Retry) Policy {
	p := Policy{MaxAttempts: MaxAttemptsDefault, Initial: InitialDefault, Max: MaxBackoffDefault,
		Multiplier: MultiplierDefault, Jitter: JitterDefault}
	if r == nil {
		return p
	}
	if r.MaxAttempts > 0 {
		p.MaxAttempts = r.MaxAttempts
	}
	if r.Initial > 0 {
		p.Initial = r.Initial.Std()
	}
	if r.Max > 0 {
		p.Max = r.Max.Std()
	}
	if r.Multiplier >= 1 {
		p.Multiplier = r.Multiplier
	}
	if r.Jitter > 0 {
		p.Jitter = r.Jitter
	}
	return p
}

// Backoff returns the wait after the given failed attempt (1 for the first): Initial
// times Multiplier^(attempt-1), capped at Max, spread by ±Jitter so that many runs
// failing together do not retry together. rnd returns a float in [0, 1).
func (p Policy) Backoff(attempt int, rnd func() float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(p.Initial) * math.Pow(p.Multiplier, float64(attempt-1))
	if d > float64(p.Max) || math.IsInf(d, 0) {
		d = float64(p.Max)
	}
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*rnd()-1)
	}
	return time.Duration(d)
}

// Wait is the time before the next attempt: the larger of the backoff and what the
// service asked for (capped at RetryAfterMax).
func (p Policy) Wait(attempt int, retryAfter time.Duration, rnd func() float64) time.Duration {
	return max(p.Backoff(attempt, rnd), min(retryAfter, RetryAfterMax))
}

func defaultRand() float64 { return rand.Float64() }

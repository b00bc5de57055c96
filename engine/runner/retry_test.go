package runner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/workflow"
)

func TestPolicyFor(t *testing.T) {
	t.Parallel()
	require.Equal(t, Policy{MaxAttempts: 5, Initial: time.Second, Max: 10 * time.Minute, Multiplier: 2, Jitter: 0.2}, PolicyFor(nil))
	p := PolicyFor(&workflow.Retry{MaxAttempts: 8, Initial: workflow.Duration(2 * time.Second), Max: workflow.Duration(time.Minute)})
	require.Equal(t, Policy{MaxAttempts: 8, Initial: 2 * time.Second, Max: time.Minute, Multiplier: 2, Jitter: 0.2}, p)
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := Policy{MaxAttempts: 10, Initial: time.Second, Max: 10 * time.Second, Multiplier: 2}
	mid := func() float64 { return 0.5 }
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {60, 10 * time.Second}} {
		require.Equal(t, tc.want, p.Backoff(tc.attempt, mid), "attempt %d", tc.attempt)
	}
	p.Jitter = 0.2
	require.Equal(t, 800*time.Millisecond, p.Backoff(1, func() float64 { return 0 }))
	require.Equal(t, time.Second, p.Backoff(1, mid))
	require.InDelta(t, float64(1200*time.Millisecond), float64(p.Backoff(1, func() float64 { return 0.9999999 })), float64(time.Millisecond))
}

func TestWaitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	p := Policy{MaxAttempts: 5, Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	mid := func() float64 { return 0.5 }
	require.Equal(t, 2*time.Second, p.Wait(1, 2*time.Second, mid), "Retry-After longer than the backoff wins")
	require.Equal(t, 100*time.Millisecond, p.Wait(1, 10*time.Millisecond, mid), "the backoff wins when longer")
	require.Equal(t, RetryAfterMax, p.Wait(1, 48*time.Hour, mid), "Retry-After is capped")
}

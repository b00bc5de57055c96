package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAuthGuard: five free failures, then pauses doubling from 1 s up to a minute;
// the window closes a minute after the last failure; other addresses are unaffected.
func TestAuthGuard(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	g := newAuthGuard(func() time.Time { return now })
	for i := range AuthFreeFailures {
		first, block := g.failed("10.0.0.1")
		require.Equal(t, i == 0, first, "only the first failure of a window is logged")
		require.Zero(t, block)
	}
	require.Zero(t, g.blocked("10.0.0.1"))
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		_, block := g.failed("10.0.0.1")
		require.Equal(t, want, block)
		require.Equal(t, want, g.blocked("10.0.0.1"))
		now = now.Add(want)
		require.Zero(t, g.blocked("10.0.0.1"))
	}
	require.Zero(t, g.blocked("10.0.0.2"))
	for range 20 {
		g.failed("10.0.0.1")
	}
	require.Equal(t, authBlockMax, g.blocked("10.0.0.1"), "the pause is capped")

	now = now.Add(AuthFailureWindow + time.Second)
	first, block := g.failed("10.0.0.1")
	require.True(t, first, "a new window")
	require.Zero(t, block)

	g.sweep(now.Add(2 * AuthFailureWindow))
	require.Empty(t, g.addrs)
}

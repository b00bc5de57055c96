package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

func TestRateLimiterReserve(t *testing.T) {
	t.Parallel()
	l := newRateLimiter()
	conn := &connectors.Connection{Name: "c", Config: map[string]any{"rate_limit": int64(10), "rate_burst": int64(2)}}
	now := time.Unix(1000, 0)
	require.Zero(t, l.Reserve(conn, now))
	require.Zero(t, l.Reserve(conn, now), "the burst allows two at once")
	require.Equal(t, 100*time.Millisecond, l.Reserve(conn, now))
	require.Equal(t, 200*time.Millisecond, l.Reserve(conn, now), "each reservation books the next slot")
	require.Zero(t, l.Reserve(conn, now.Add(time.Second)), "slots free up over time")
	require.Zero(t, l.Reserve(&connectors.Connection{Name: "free", Config: map[string]any{}}, now), "no limit set")
}

func TestRateLimiterAllow(t *testing.T) {
	t.Parallel()
	l := newRateLimiter()
	now := time.Unix(1000, 0)
	for range 5 {
		ok, _ := l.Allow("hook", 5, 5, now)
		require.True(t, ok)
	}
	ok, wait := l.Allow("hook", 5, 5, now)
	require.False(t, ok, "the sixth immediate request")
	require.Equal(t, 200*time.Millisecond, wait)
	ok, wait2 := l.Allow("hook", 5, 5, now)
	require.False(t, ok)
	require.Equal(t, wait, wait2, "a refusal books nothing")
	ok, _ = l.Allow("hook", 5, 5, now.Add(200*time.Millisecond))
	require.True(t, ok)
}

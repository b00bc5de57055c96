package ingress

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLimiterShares: a workflow alone gets 3/4 of the budget, the rest stays for others,
// and each newcomer gets 3/4 of what is left; bytes follow the same rule.
func TestLimiterShares(t *testing.T) {
	t.Parallel()
	l := newLimiter(16, 1000)
	take := func(key string, n int) int {
		got := 0
		for range n {
			if l.acquire(key) == nil {
				break
			}
			got++
		}
		return got
	}
	require.Equal(t, 12, take("a", 100), "alone: 3/4 of 16")
	require.Equal(t, 3, take("b", 100), "3/4 of the 4 left, rounded up")
	require.Equal(t, 1, take("c", 100), "the last slot")
	require.Nil(t, l.acquire("d"), "the budget is spent")

	one := newLimiter(1, 1)
	tk := one.acquire("a")
	require.NotNil(t, tk, "a budget of one admits one")
	require.Nil(t, one.acquire("a"))
	tk.release()
	tk.release()
	require.NotNil(t, one.acquire("b"), "release gives the slot back, once")

	b := newLimiter(100, 1000)
	x := b.acquire("x")
	require.True(t, x.grow(750))
	require.False(t, x.grow(1), "3/4 of the bytes")
	y := b.acquire("y")
	require.False(t, y.grow(200), "3/4 of the 250 left is 188")
	require.True(t, y.grow(188))
	x.release()
	require.True(t, y.grow(500), "freed bytes are shared again")

	m := newLimiter(4, 100)
	lookups := []*ticket{m.acquire(lookupKey), m.acquire(lookupKey), m.acquire(lookupKey)}
	require.Nil(t, m.acquire(lookupKey), "lookups too hold at most 3/4")
	require.True(t, lookups[0].move("w"))
	require.Equal(t, map[string]*usage{lookupKey: {reqs: 2}, "w": {reqs: 1}}, m.held)
	lookups[0].release()
	lookups[1].release()
	lookups[2].release()
	require.Empty(t, m.held)
	require.Zero(t, m.reqs)
}

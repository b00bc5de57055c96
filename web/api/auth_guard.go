package api

import (
	"sync"
	"time"
)

// API token failure throttling, per client address.
const (
	// AuthFreeFailures is how many failed authentications a client address may make in
	// AuthFailureWindow before it is slowed down.
	AuthFreeFailures = 5
	// AuthFailureWindow is how long failures are remembered after the last one; it is
	// also the log sampling period (one line per address and window).
	AuthFailureWindow = time.Minute
	// authBlockBase is the first pause: each failure past the free ones doubles it.
	authBlockBase = time.Second
	// authBlockMax caps the pause.
	authBlockMax = time.Minute
	// authMaxAddrs bounds the addresses tracked, so that a scan from many addresses
	// cannot grow the table without end.
	authMaxAddrs = 10000
)

// authGuard slows down client addresses that keep sending bad API tokens. Tokens carry
// 256 random bits, so guessing is hopeless anyway; the guard keeps a scanner from
// turning failures into database lookups and log lines at full speed.
type authGuard struct {
	mu    sync.Mutex
	now   func() time.Time
	addrs map[string]*authFailures
}

type authFailures struct {
	last         time.Time // the latest failure
	count        int       // failures since the window opened
	blockedUntil time.Time
}

func newAuthGuard(now func() time.Time) *authGuard {
	if now == nil {
		now = time.Now
	}
	return &authGuard{now: now, addrs: map[string]*authFailures{}}
}

// blocked returns how long addr must still wait before its tokens are checked again.
func (g *authGuard) blocked(addr string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.addrs[addr]
	if f == nil {
		return 0
	}
	return max(f.blockedUntil.Sub(g.now()), 0)
}

// failed records a failed authentication from addr. first says it opens a new window
// (log it); block is the pause it starts, zero while the address has free failures.
func (g *authGuard) failed(addr string) (first bool, block time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	f := g.addrs[addr]
	if f == nil || now.Sub(f.last) >= AuthFailureWindow {
		if f == nil && len(g.addrs) >= authMaxAddrs {
			g.sweep(now)
			if len(g.addrs) >= authMaxAddrs {
				return true, 0 // untracked: still counted and refused, just not slowed
			}
		}
		f = &authFailures{}
		g.addrs[addr] = f
	}
	f.last = now
	f.count++
	if f.count > AuthFreeFailures {
		block = min(authBlockBase<<min(f.count-AuthFreeFailures-1, 16), authBlockMax)
		f.blockedUntil = now.Add(block)
	}
	return f.count == 1, block
}

// sweep forgets addresses whose window has closed and whose pause is over.
func (g *authGuard) sweep(now time.Time) {
	for addr, f := range g.addrs {
		if now.Sub(f.last) >= AuthFailureWindow && !now.Before(f.blockedUntil) {
			delete(g.addrs, addr)
		}
	}
}

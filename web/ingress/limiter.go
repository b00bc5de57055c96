package ingress

import "sync"

// limiter admits webhook requests against two budgets shared by every workflow: requests
// in flight and body bytes in flight. On top of the budgets it applies one fairness rule,
// to requests and bytes alike:
//
//	a workflow may hold at most 3/4 of what the other workflows leave free.
//
// A workflow alone may use 3/4 of the server's budget, which is full speed in practice
// (commits are serial, so throughput stops growing long before that many requests); the
// last quarter stays for the others however hard it is pushed. A second busy workflow
// may then take 3/4 of that quarter, and so on: every workflow that arrives finds room,
// and no single URL can fill the server.
type limiter struct {
	mu       sync.Mutex
	maxReqs  int
	maxBytes int64
	reqs     int
	bytes    int64
	held     map[string]*usage
}

type usage struct {
	reqs  int
	bytes int64
}

func newLimiter(maxReqs int, maxBytes int64) *limiter {
	return &limiter{maxReqs: maxReqs, maxBytes: maxBytes, held: map[string]*usage{}}
}

// share is how much of free a workflow may hold: 3/4 rounded up, so that a budget of
// one still admits one request.
func share[T int | int64](free T) T { return free - free/4 }

// fits reports whether key may hold reqs more requests and n more bytes.
func (l *limiter) fits(key string, reqs int, n int64) bool {
	var u usage
	if h := l.held[key]; h != nil {
		u = *h
	}
	if l.reqs+reqs > l.maxReqs || l.bytes+n > l.maxBytes {
		return false
	}
	otherReqs, otherBytes := l.reqs-u.reqs, l.bytes-u.bytes
	if reqs > 0 && u.reqs+reqs > share(l.maxReqs-otherReqs) {
		return false
	}
	return n == 0 || u.bytes+n <= share(l.maxBytes-otherBytes)
}

func (l *limiter) add(key string, reqs int, n int64) {
	h := l.held[key]
	if h == nil {
		h = &usage{}
		l.held[key] = h
	}
	h.reqs += reqs
	h.bytes += n
	l.reqs += reqs
	l.bytes += n
	if h.reqs == 0 && h.bytes == 0 {
		delete(l.held, key)
	}
}

// acquire admits one request for key, or returns nil when it does not fit.
func (l *limiter) acquire(key string) *ticket {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.fits(key, 1, 0) {
		return nil
	}
	l.add(key, 1, 0)
	return &ticket{l: l, key: key}
}

// ticket is one admitted request: its key and the bytes it holds.
type ticket struct {
	l     *limiter
	key   string
	bytes int64
	done  bool
}

// move hands the request over to another key (the workflow, once its token is looked
// up). When it does not fit there the ticket is released and move returns false.
func (t *ticket) move(key string) bool {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.add(t.key, -1, -t.bytes)
	if !l.fits(key, 1, t.bytes) {
		t.done = true
		return false
	}
	t.key = key
	l.add(key, 1, t.bytes)
	return true
}

// grow reserves n more bytes for the request; false means they do not fit.
func (t *ticket) grow(n int64) bool {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.fits(t.key, 0, n) {
		return false
	}
	l.add(t.key, 0, n)
	t.bytes += n
	return true
}

// release gives everything back; calling it twice is harmless.
func (t *ticket) release() {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	l.add(t.key, -1, -t.bytes)
}

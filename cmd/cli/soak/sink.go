package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Workflows of the mix, and the sink paths their steps post to.
const (
	wfOrders = iota // filter amount > 100, then one delivery to /orders
	wfFlaky         // one delivery to /flaky, which fails or is slow for a share
	wfChain         // two deliveries: /chain-a then /chain-b
)

// Sink paths; the index is the slot in event.got.
var sinkPaths = [...]string{"/orders", "/flaky", "/chain-a", "/chain-b"}

const (
	slotOrders = iota
	slotFlaky
	slotChainA
	slotChainB
	slotCount
)

const tickPath = "/tick"

// event is what the soak knows of one webhook it sent.
type event struct {
	sent     int64 // unix nanos
	wf       uint8
	pass     bool // passes the workflow's filter
	accepted bool // answered 202
	got      [slotCount]uint16
	first    [slotCount]int64 // unix nanos of the first delivery
	attempts uint16           // requests to /flaky, failed ones included
}

// expects reports whether slot should receive e.
func (e *event) expects(slot int) bool {
	if !e.accepted || !e.pass {
		return false
	}
	switch e.wf {
	case wfOrders:
		return slot == slotOrders
	case wfFlaky:
		return slot == slotFlaky
	default:
		return slot == slotChainA || slot == slotChainB
	}
}

// tracker records the events sent and their deliveries, and collects the current
// window's samples. The sink is its HTTP face.
type tracker struct {
	failShare, slowShare float64
	slow                 time.Duration

	mu      sync.Mutex
	events  map[int64]*event
	ticks   map[string]int
	invalid int64
	win     windowAcc
}

// windowAcc collects one sampling window's observations.
type windowAcc struct {
	req       []float64 // webhook request latencies, ms
	e2e       []float64 // send to first delivery of /orders, ms
	api       []float64 // API read latencies, ms
	delivered int       // first deliveries, every path
	errors    int       // webhooks not answered 202, transport errors, skipped sends, failed reads and scrapes
}

func newTracker(failShare, slowShare float64, slow time.Duration) *tracker {
	return &tracker{failShare: failShare, slowShare: slowShare, slow: slow,
		events: map[int64]*event{}, ticks: map[string]int{}}
}

// register records event id before it is sent: its delivery may arrive before its 202.
func (t *tracker) register(id int64, wf uint8, pass bool, sent int64) {
	t.mu.Lock()
	t.events[id] = &event{sent: sent, wf: wf, pass: pass}
	t.mu.Unlock()
}

// answered records the webhook's answer and latency.
func (t *tracker) answered(id int64, ok bool, latency time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.events[id]; e != nil && ok {
		e.accepted = true
	}
	t.win.req = append(t.win.req, ms(latency))
	if !ok {
		t.win.errors++
	}
}

// read records an API read.
func (t *tracker) read(ok bool, latency time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.win.api = append(t.win.api, ms(latency))
	if !ok {
		t.win.errors++
	}
}

// fault counts one error that is not a request's answer (a skipped send, a failed scrape).
func (t *tracker) fault() {
	t.mu.Lock()
	t.win.errors++
	t.mu.Unlock()
}

// take returns the window's observations and starts a new window.
func (t *tracker) take() windowAcc {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.win
	t.win = windowAcc{}
	return w
}

// share maps id to a fraction in [0, 1), the same for the same id and salt, so which
// events fail or are slow is spread evenly and fixed.
func share(id int64, salt uint64) float64 {
	x := uint64(id)*0x9E3779B97F4A7C15 ^ salt
	x ^= x >> 31
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 29
	return float64(x>>11) / (1 << 53)
}

// ServeHTTP is the sink: a delivery body's "id" names the event; /tick bodies carry
// the schedule's "tick". /flaky answers 500 at the first attempt of a share of events
// and slowly for another share.
func (t *tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if r.URL.Path == tickPath {
		var d struct {
			Tick string `json:"tick"`
		}
		if json.Unmarshal(body, &d) != nil || d.Tick == "" {
			t.mu.Lock()
			t.invalid++
			t.mu.Unlock()
			http.Error(w, "no tick", http.StatusBadRequest)
			return
		}
		t.mu.Lock()
		t.ticks[d.Tick]++
		t.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	slot := -1
	for i, p := range sinkPaths {
		if r.URL.Path == p {
			slot = i
		}
	}
	id, ok := parseID(body)
	if slot < 0 || !ok {
		t.mu.Lock()
		t.invalid++
		t.mu.Unlock()
		http.Error(w, "unknown path or no id", http.StatusBadRequest)
		return
	}
	if slot == slotFlaky {
		t.mu.Lock()
		e := t.events[id]
		attempt := 0
		if e != nil {
			e.attempts++
			attempt = int(e.attempts)
		}
		t.mu.Unlock()
		if attempt == 1 && share(id, 1) < t.failShare {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		if share(id, 2) < t.slowShare {
			timer := time.NewTimer(t.slow)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				timer.Stop()
				return
			}
		}
	}
	now := time.Now().UnixNano()
	t.mu.Lock()
	e := t.events[id]
	if e == nil {
		t.invalid++
		t.mu.Unlock()
		http.Error(w, "unknown event", http.StatusBadRequest)
		return
	}
	e.got[slot]++
	if e.got[slot] == 1 {
		e.first[slot] = now
		t.win.delivered++
		if slot == slotOrders {
			t.win.e2e = append(t.win.e2e, ms(time.Duration(now-e.sent)))
		}
	}
	t.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// tally is the delivery accounting over every event sent.
type tally struct {
	Sent           int64 `json:"sent"`
	Accepted       int64 `json:"accepted"`
	Expected       int64 `json:"expected_deliveries"`
	Delivered      int64 `json:"delivered"`
	Lost           int64 `json:"lost"`
	Duplicates     int64 `json:"duplicates"`
	Invalid        int64 `json:"unexpected"`
	Ticks          int64 `json:"ticks"`
	DuplicateTicks int64 `json:"duplicate_ticks"`
}

func (t *tracker) tally() tally {
	t.mu.Lock()
	defer t.mu.Unlock()
	var s tally
	for _, e := range t.events {
		s.Sent++
		if e.accepted {
			s.Accepted++
		}
		for slot := range slotCount {
			if e.got[slot] > 1 {
				s.Duplicates += int64(e.got[slot] - 1)
			}
			if !e.expects(slot) {
				// A delivery nobody expects: a filtered event or an unanswered one
				// that was delivered anyway; only the former is wrong.
				if e.accepted && e.got[slot] > 0 {
					s.Invalid++
				}
				continue
			}
			s.Expected++
			if e.got[slot] > 0 {
				s.Delivered++
			} else {
				s.Lost++
			}
		}
	}
	s.Invalid += t.invalid
	for _, n := range t.ticks {
		s.Ticks++
		s.DuplicateTicks += int64(n - 1)
	}
	return s
}

// pending returns the expected deliveries not yet made.
func (t *tracker) pending() int64 { return t.tally().Lost }

// parseID reads a body's "id": a whole number or a string holding one.
func parseID(body []byte) (int64, bool) {
	var d struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(body, &d); err != nil || len(d.ID) == 0 {
		return 0, false
	}
	id, err := strconv.ParseInt(string(bytes.Trim(d.ID, `"`)), 10, 64)
	return id, err == nil && id >= 0
}

// sinkServer serves a tracker on a free loopback port.
type sinkServer struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

func startSink(h http.Handler) (*sinkServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the sink: %w", err)
	}
	s := &sinkServer{ln: ln, done: make(chan struct{}), srv: &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: idleConnTimeout,
	}}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

func (s *sinkServer) url() string { return "http://" + s.ln.Addr().String() }

// close stops the sink: gracefully within a second, then by closing every connection.
func (s *sinkServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = s.srv.Close()
	}
	<-s.done
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

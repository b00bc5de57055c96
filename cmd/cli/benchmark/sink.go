package benchmark

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
	"sync/atomic"
	"time"
)

// SinkPath is the path the workflow's http.request step posts to.
const SinkPath = "/deliver"

// sinkBodyMax caps the body a sink reads; a delivery is a few dozen bytes.
const sinkBodyMax = 64 << 10

// Sink is the receiving end of deliveries: an HTTP server on loopback that records,
// for every event id in [0, n), the time of its first arrival and how many times it
// arrived. Recording is a few atomic operations on preallocated slices, so the sink is
// not the bottleneck of a run.
type Sink struct {
	first  []atomic.Int64 // unix nanos of the first arrival; 0 = none
	counts []atomic.Int32

	deliveries atomic.Int64 // requests with a valid id
	unique     atomic.Int64 // ids seen at least once
	invalid    atomic.Int64 // requests without a usable id
	lastFirst  atomic.Int64 // latest first arrival, unix nanos

	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	err  error
	once sync.Once
}

// SinkStats are a sink's counters.
type SinkStats struct {
	// Deliveries is the number of requests that carried a valid id.
	Deliveries int64 `json:"deliveries"`
	// Unique is the number of distinct ids received.
	Unique int64 `json:"unique"`
	// Duplicates is the number of extra deliveries: Deliveries − Unique.
	Duplicates int64 `json:"duplicates"`
	// DuplicateIDs is the number of ids received more than once.
	DuplicateIDs int64 `json:"duplicate_ids"`
	// Invalid is the number of requests whose body had no id in range.
	Invalid int64 `json:"invalid"`
}

// NewSink returns a sink for event ids 0 to n−1. Start serves it on loopback; as an
// http.Handler it can also be mounted elsewhere.
func NewSink(n int) *Sink {
	return &Sink{first: make([]atomic.Int64, n), counts: make([]atomic.Int32, n), done: make(chan struct{})}
}

// Start listens on a free loopback port and serves the sink until Close.
func (s *Sink) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the sink: %w", err)
	}
	s.ln = ln
	s.srv = newLoopbackServer(s)
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return nil
}

// URL returns the sink's base URL, http://127.0.0.1:<port>; deliveries go to
// URL()+SinkPath.
func (s *Sink) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops the sink's server. Requests in flight get shutdownWait to finish; then
// every connection is closed, since a client may keep connections it never used.
func (s *Sink) Close() error {
	if s.srv == nil {
		return nil
	}
	var err error
	s.once.Do(func() {
		shutdown(s.srv)
		<-s.done
		if s.err != nil {
			err = fmt.Errorf("sink server: %w", s.err)
		}
	})
	return err
}

// shutdownWait bounds the graceful part of stopping a loopback server.
const shutdownWait = time.Second

// shutdown stops srv: gracefully within shutdownWait, then by closing every connection.
// Go's Shutdown waits up to 5 s for connections that never sent a request, which a
// client's pool may hold; they carry nothing to wait for.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}

// ServeHTTP records one delivery: a JSON body whose "id" is an event id, as a number or
// a string of digits. It answers 200, or 400 for a body without a usable id.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixNano()
	if r.Method != http.MethodPost || r.URL.Path != SinkPath {
		http.Error(w, "POST "+SinkPath+" only", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, sinkBodyMax))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	id, ok := parseID(body)
	if !ok || !s.Record(id, now) {
		s.invalid.Add(1)
		http.Error(w, "no event id in range", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Record counts an arrival of event id at unix nanos at and reports whether id is in
// range.
func (s *Sink) Record(id int, at int64) bool {
	if id < 0 || id >= len(s.first) {
		return false
	}
	s.deliveries.Add(1)
	if s.counts[id].Add(1) == 1 {
		s.first[id].Store(at)
		s.unique.Add(1)
		for {
			last := s.lastFirst.Load()
			if at <= last || s.lastFirst.CompareAndSwap(last, at) {
				break
			}
		}
	}
	return true
}

// Arrival returns the first arrival of id (unix nanos, 0 for none) and its count.
func (s *Sink) Arrival(id int) (first int64, count int32) {
	if id < 0 || id >= len(s.first) {
		return 0, 0
	}
	return s.first[id].Load(), s.counts[id].Load()
}

// Unique returns the number of distinct ids received so far.
func (s *Sink) Unique() int64 { return s.unique.Load() }

// LastFirstArrival returns the latest first arrival of any id, or the zero time.
func (s *Sink) LastFirstArrival() time.Time {
	n := s.lastFirst.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Stats returns the sink's counters.
func (s *Sink) Stats() SinkStats {
	st := SinkStats{Deliveries: s.deliveries.Load(), Unique: s.unique.Load(), Invalid: s.invalid.Load()}
	st.Duplicates = st.Deliveries - st.Unique
	if st.Duplicates > 0 {
		for i := range s.counts {
			if s.counts[i].Load() > 1 {
				st.DuplicateIDs++
			}
		}
	}
	return st
}

// parseID finds the "id" of a delivery body: a whole number or a string holding one.
func parseID(body []byte) (int, bool) {
	var d struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(body, &d); err != nil || len(d.ID) == 0 {
		return 0, false
	}
	raw := bytes.Trim(d.ID, `"`)
	id, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, false
	}
	return id, true
}

// newLoopbackServer returns an http.Server with bounded timeouts for the sink and the
// baselines.
func newLoopbackServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

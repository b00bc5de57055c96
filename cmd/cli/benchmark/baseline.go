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
)

// bodyMax caps the webhook body a baseline reads, like the server's 1 MiB limit.
const bodyMax = 1 << 20

// bareHandler is the first baseline: it reads the body and answers 202, the least an
// HTTP server in Go can do per webhook.
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, bodyMax)); err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// forwarder is the second baseline: a synchronous Go forwarder that decodes the body,
// applies amount > 100 and posts {id, sent} to the sink before answering 202. It has
// no durability: it is what the workflow does with nothing stored.
type forwarder struct {
	client *http.Client
	sink   string
}

// ServeHTTP forwards one webhook synchronously.
func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, bodyMax))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	var ev struct {
		ID     json.RawMessage `json:"id"`
		Amount float64         `json:"amount"`
		Sent   json.RawMessage `json:"sent"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "invalid JSON", http.StatusBadRequest)
		return
	}
	if ev.Amount > 100 {
		out, err := json.Marshal(map[string]json.RawMessage{"id": ev.ID, "sent": ev.Sent})
		if err != nil {
			http.Error(w, "encode delivery", http.StatusInternalServerError)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, f.sink, bytes.NewReader(out))
		if err != nil {
			http.Error(w, "build delivery", http.StatusInternalServerError)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.client.Do(req)
		if err != nil {
			http.Error(w, "deliver: "+err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyMax))
		_ = resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			http.Error(w, "sink answered "+resp.Status, http.StatusBadGateway)
			return
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// serveLoopback serves h on a free loopback port and returns its base URL and a stop
// function that waits at most shutdownWait.
func serveLoopback(h http.Handler) (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := newLoopbackServer(h)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop := func() error {
		shutdown(srv)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// runBare measures the bare 202 handler with the run's load.
func runBare(ctx context.Context, cfg Config) (*BaselineStats, error) {
	base, stop, err := serveLoopback(bareHandler())
	if err != nil {
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	res, err := generate(ctx, plan{url: base + "/hook", events: cfg.Events, concurrency: cfg.Concurrency,
		rate: cfg.Rate, filtered: cfg.Filtered})
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("stop the bare handler: %w", serr)
	}
	if err != nil {
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	st := res.stats(http.StatusAccepted)
	return &BaselineStats{Load: st}, nil
}

// runForwarder measures the synchronous forwarder with the run's load, delivering to a
// sink of its own.
func runForwarder(ctx context.Context, cfg Config) (*BaselineStats, error) {
	sink := NewSink(cfg.Events)
	if err := sink.Start(); err != nil {
		return nil, fmt.Errorf("forwarder: %w", err)
	}
	defer sink.Close()
	client := newClient(cfg.Concurrency)
	defer client.CloseIdleConnections()
	base, stop, err := serveLoopback(&forwarder{client: client, sink: sink.URL() + SinkPath})
	if err != nil {
		return nil, fmt.Errorf("forwarder: %w", err)
	}
	res, err := generate(ctx, plan{url: base + "/hook", events: cfg.Events, concurrency: cfg.Concurrency,
		rate: cfg.Rate, filtered: cfg.Filtered})
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("stop the forwarder: %w", serr)
	}
	if err != nil {
		return nil, fmt.Errorf("forwarder: %w", err)
	}
	client.CloseIdleConnections()
	if err := sink.Close(); err != nil {
		return nil, fmt.Errorf("forwarder: %w", err)
	}
	st := &BaselineStats{Load: res.stats(http.StatusAccepted)}
	d := deliveries(res, sink, cfg.Filtered)
	st.Delivery = &d
	return st, nil
}

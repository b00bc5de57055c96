package benchmark

import (
	"bytes"
	"context"
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

// Amounts of events that pass and that fail the workflow's filter `amount > 100`.
const (
	amountPass = 150
	amountDrop = 50
)

// requestTimeout bounds one webhook request.
const requestTimeout = 30 * time.Second

// pacingTick is the period of the rate limiter's ticker.
const pacingTick = time.Millisecond

// plan is what a load generator sends.
type plan struct {
	url         string
	events      int
	concurrency int
	rate        float64 // webhooks/s; 0 = as fast as possible
	filtered    float64
}

// loadResult is what a load generator measured, per event id.
type loadResult struct {
	latency []time.Duration // request latency; valid where status != statusNotSent
	sentAt  []int64         // unix nanos in the body
	status  []int16         // HTTP status; statusTransport for a transport error

	firstSend    time.Time
	lastResponse time.Time
	transportErr string // the first transport error, as a sample
}

// Status values that are not HTTP statuses.
const (
	statusNotSent   = 0
	statusTransport = -1
)

// newClient returns a keep-alive client sized for c concurrent requests.
func newClient(c int) *http.Client {
	t := &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        c * 2,
		MaxIdleConnsPerHost: c,
		MaxConnsPerHost:     c,
		IdleConnTimeout:     60 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: t, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// generate sends p.events webhooks from p.concurrency goroutines sharing one counter
// and one keep-alive client, paced at p.rate when it is set. It returns when every
// event was sent or ctx is done; the latter is an error.
func generate(ctx context.Context, p plan) (*loadResult, error) {
	res := &loadResult{
		latency: make([]time.Duration, p.events),
		sentAt:  make([]int64, p.events),
		status:  make([]int16, p.events),
	}
	client := newClient(p.concurrency)
	defer client.CloseIdleConnections()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var tokens chan struct{}
	if p.rate > 0 {
		tokens = make(chan struct{}, p.concurrency)
		go pace(ctx, tokens, p.rate, p.events)
	}

	var (
		next      atomic.Int64
		firstSend atomic.Int64
		lastResp  atomic.Int64
		errOnce   sync.Once
		wg        sync.WaitGroup
	)
	for range p.concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= p.events || ctx.Err() != nil {
					return
				}
				if tokens != nil {
					select {
					case <-tokens:
					case <-ctx.Done():
						return
					}
				}
				start := time.Now()
				sent := start.UnixNano()
				firstSend.CompareAndSwap(0, sent)
				status, err := send(ctx, client, p.url, i, amountFor(i, p.filtered), sent)
				end := time.Now()
				res.latency[i] = end.Sub(start)
				res.sentAt[i] = sent
				res.status[i] = int16(status)
				if err != nil {
					res.status[i] = statusTransport
					errOnce.Do(func() { res.transportErr = err.Error() })
				}
				for {
					last := lastResp.Load()
					if end.UnixNano() <= last || lastResp.CompareAndSwap(last, end.UnixNano()) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		answered := 0
		for _, s := range res.status {
			if s > 0 {
				answered++
			}
		}
		return nil, fmt.Errorf("send webhooks: %d of %d answered: %w", answered, p.events, context.Cause(ctx))
	}
	res.firstSend = time.Unix(0, firstSend.Load())
	res.lastResponse = time.Unix(0, lastResp.Load())
	return res, nil
}

// pace puts n tokens into tokens at rate per second, checking every pacingTick; it
// stops early when ctx is done.
func pace(ctx context.Context, tokens chan<- struct{}, rate float64, n int) {
	ticker := time.NewTicker(pacingTick)
	defer ticker.Stop()
	start := time.Now()
	issued := 0
	for issued < n {
		due := min(int(time.Since(start).Seconds()*rate)+1, n)
		for ; issued < due; issued++ {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		if issued >= n {
			return
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return
		}
	}
}

// amountFor returns event i's amount.
func amountFor(i int, fraction float64) int {
	if filtered(i, fraction) {
		return amountDrop
	}
	return amountPass
}

// send posts one event and returns the answer's status after reading its body.
func send(ctx context.Context, client *http.Client, url string, id, amount int, sent int64) (int, error) {
	body := make([]byte, 0, 64)
	body = append(body, `{"id":`...)
	body = strconv.AppendInt(body, int64(id), 10)
	body = append(body, `,"amount":`...)
	body = strconv.AppendInt(body, int64(amount), 10)
	body = append(body, `,"sent":`...)
	body = strconv.AppendInt(body, sent, 10)
	body = append(body, '}')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return resp.StatusCode, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, nil
}

// loadStats summarises a load result as seen by its sender.
func (r *loadResult) stats(accept int) LoadStats {
	st := LoadStats{Errors: map[string]int{}}
	lat := make([]time.Duration, 0, len(r.status))
	for i, s := range r.status {
		if s == statusNotSent {
			continue
		}
		st.Sent++
		lat = append(lat, r.latency[i])
		switch {
		case int(s) == accept:
			st.Accepted++
		case s == statusTransport:
			st.Errors["transport"]++
		default:
			st.Errors[strconv.Itoa(int(s))]++
		}
	}
	st.ErrorCount = st.Sent - st.Accepted
	st.Seconds = round2(r.lastResponse.Sub(r.firstSend).Seconds())
	st.AcceptedPerSec = PerSecond(st.Accepted, r.lastResponse.Sub(r.firstSend))
	st.RequestLatency = Summarize(lat)
	st.TransportError = r.transportErr
	if len(st.Errors) == 0 {
		st.Errors = nil
	}
	return st
}

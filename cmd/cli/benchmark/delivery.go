package benchmark

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// drainPoll is how often the drain checks the sink.
const drainPoll = 5 * time.Millisecond

// duplicateGrace is how long the drain keeps listening after the last expected delivery,
// so a late duplicate is counted.
const duplicateGrace = 250 * time.Millisecond

// expected counts the events that should reach the sink: accepted and not filtered.
func expected(res *loadResult, fraction float64) int {
	n := 0
	for i, s := range res.status {
		if s == http.StatusAccepted && !filtered(i, fraction) {
			n++
		}
	}
	return n
}

// drain waits until the sink has want distinct ids, then duplicateGrace more; or until
// timeout, ctx or exited (the server process ended) stops it. Only the last two are
// errors: a timeout leaves the missing events counted as lost.
func drain(ctx context.Context, sink *Sink, want int, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for sink.Unique() < int64(want) {
		select {
		case <-deadline.C:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("wait for deliveries: %w", context.Cause(ctx))
		case <-exited:
			return fmt.Errorf("wait for deliveries: the server exited")
		case <-tick.C:
		}
	}
	grace := time.NewTimer(duplicateGrace)
	defer grace.Stop()
	select {
	case <-grace.C:
	case <-ctx.Done():
	case <-exited:
	}
	return nil
}

// deliveries compares what the sink received with what was accepted.
func deliveries(res *loadResult, sink *Sink, fraction float64) DeliveryStats {
	st := DeliveryStats{}
	lat := make([]time.Duration, 0, len(res.status))
	for i, s := range res.status {
		first, count := sink.Arrival(i)
		want := s == http.StatusAccepted && !filtered(i, fraction)
		if want {
			st.Expected++
		}
		switch {
		case count == 0:
			if want {
				st.Lost++
			}
		case !want:
			st.Unexpected++
		default:
			st.Delivered++
			lat = append(lat, time.Duration(first-res.sentAt[i]))
		}
	}
	ss := sink.Stats()
	st.Duplicates = ss.Duplicates
	st.Unexpected += int(ss.Invalid)
	if last := sink.LastFirstArrival(); !last.IsZero() {
		span := last.Sub(res.firstSend)
		st.Seconds = round2(span.Seconds())
		st.DeliveredPerSec = PerSecond(st.Delivered, span)
	}
	st.Latency = Summarize(lat)
	return st
}

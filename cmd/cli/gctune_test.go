package cli

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGCTunerFollowsAllocationRate: the target rises under a fast allocation rate, stays
// up between the two thresholds, and falls back once the rate is low.
func TestGCTunerFollowsAllocationRate(t *testing.T) {
	t.Parallel()
	var applied []int
	g := &gcTuner{current: gcTargetIdle, set: func(p int) int { applied = append(applied, p); return 0 },
		log: slog.New(slog.DiscardHandler)}
	steps := []struct {
		rate float64
		want int
	}{
		{0, gcTargetIdle},
		{gcIdleRate, gcTargetIdle},                    // between the thresholds while idle: stays idle
		{gcBusyRate, gcTargetBusy},                    // busy
		{(gcBusyRate + gcIdleRate) / 2, gcTargetBusy}, // between while busy: stays busy
		{gcIdleRate, gcTargetBusy},
		{gcIdleRate - 1, gcTargetIdle}, // below the lower threshold: back
		{100 << 20, gcTargetBusy},
	}
	for i, st := range steps {
		g.observe(st.rate)
		require.Equal(t, st.want, g.current, "step %d (%.0f bytes/s)", i, st.rate)
	}
	require.Equal(t, []int{gcTargetBusy, gcTargetIdle, gcTargetBusy}, applied, "a target is applied only when it changes")
}

// TestGCTunerReadsTheRuntime: the tuner's loop reads the process's real allocation rate:
// allocating fast raises the target, and it stops with its context.
func TestGCTunerReadsTheRuntime(t *testing.T) {
	var mu sync.Mutex
	var applied []int
	g := &gcTuner{current: gcTargetIdle, log: slog.New(slog.DiscardHandler), set: func(p int) int {
		mu.Lock()
		defer mu.Unlock()
		applied = append(applied, p)
		return 0
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.run(ctx, 20*time.Millisecond) }()

	raised := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(applied) > 0 && applied[0] == gcTargetBusy
	}
	// Allocate well above gcBusyRate (256 KB at a time, kept alive only briefly) until the
	// tuner raises the target; bounded in time.
	var sink [][]byte
	deadline := time.Now().Add(10 * time.Second)
	for !raised() && time.Now().Before(deadline) {
		for range 64 {
			sink = append(sink, make([]byte, 256<<10))
		}
		sink = sink[:0]
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	require.True(t, raised(), "applied %v", applied)
	_ = sink
}

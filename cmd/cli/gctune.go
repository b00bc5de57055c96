package cli

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"
)

// The garbage collector's target follows the load. A webhook allocates about 34 KB in
// 450 objects that die within milliseconds while the live heap stays at 10-20 MB, so
// under load Go's default target (GOGC=100) ran the collector every few megabytes and
// took 8-9 % of the server's CPU; at 400 it takes 1-2 % (docs/performance.md). At a
// trickle the collector costs nothing either way, but a target of 400 lets the heap
// climb for minutes before its first collection, which looks like a leak on a
// dashboard and in the soak. So serve and worker run at 100 and raise the target to
// 400 while the process allocates fast, and go back once it slows down. A GOGC the
// user sets is left alone.
const (
	gcTargetIdle = 100
	gcTargetBusy = 400
	// gcBusyRate raises the target: about 250 webhooks a second.
	gcBusyRate = 8 << 20 // bytes allocated per second
	// gcIdleRate lowers it again; the gap keeps a load near the threshold from
	// switching back and forth.
	gcIdleRate = 4 << 20
	// gcTunerInterval is how often the allocation rate is read: a burst gets the busy
	// target within half a second (at 1 s a 10,000-webhook bench run spent half its
	// time at the idle one).
	gcTunerInterval = 250 * time.Millisecond
)

// gcTargetFromEnv reports whether the environment sets GOGC, which the runtime applied.
func gcTargetFromEnv() bool {
	v, ok := os.LookupEnv("GOGC")
	return ok && strings.TrimSpace(v) != ""
}

// gcTuner sets the collector's target from the allocation rate.
type gcTuner struct {
	current int
	// set applies a target (debug.SetGCPercent).
	set func(percent int) int
	log *slog.Logger
}

func newGCTuner(log *slog.Logger) *gcTuner {
	return &gcTuner{current: gcTargetIdle, set: debug.SetGCPercent, log: log}
}

// next is the target for an allocation rate in bytes per second.
func (g *gcTuner) next(rate float64) int {
	switch {
	case g.current != gcTargetBusy && rate >= gcBusyRate:
		return gcTargetBusy
	case g.current == gcTargetBusy && rate < gcIdleRate:
		return gcTargetIdle
	}
	return g.current
}

// observe applies the target for rate when it differs from the current one.
func (g *gcTuner) observe(rate float64) {
	n := g.next(rate)
	if n == g.current {
		return
	}
	g.set(n)
	g.current = n
	g.log.Debug("Garbage collector target", slog.Int("gogc", n), slog.Float64("alloc_mb_per_s", rate/(1<<20)))
}

// run reads the allocation rate every interval and adjusts the target until ctx ends.
func (g *gcTuner) run(ctx context.Context, every time.Duration) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last, at := read(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, total := time.Now(), read()
		if secs := now.Sub(at).Seconds(); secs > 0 && total >= last {
			g.observe(float64(total-last) / secs)
		}
		last, at = total, now
	}
}

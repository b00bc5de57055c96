package soak

import (
	"fmt"
	"math"
	"slices"
)

// Rule says how far a series may rise between the first and the last third of the
// measured windows (after warm-up) and still count as flat: by Rel times the first
// third's median plus Abs, or by Floor when that is more (the allowance is
// max(Rel·base + Abs, Floor)).
type Rule struct {
	Rel   float64 `json:"rel"`
	Abs   float64 `json:"abs"`
	Floor float64 `json:"floor,omitempty"`
	// Slope also bounds the least-squares line through every measured window: its rise
	// over the measured span must stay within the allowance too. Off for latencies,
	// whose windows are too noisy on a shared machine for a line to mean much.
	Slope bool `json:"slope"`
}

// The rules of the verdict; docs/soak.md states them in words.
var (
	// RuleRSS: RSS may grow by 20 % or 8 MB, whichever is more.
	RuleRSS = Rule{Rel: 0.20, Floor: 8, Slope: true}
	// RuleGoroutines: goroutines may grow by 20 % + 10.
	RuleGoroutines = Rule{Rel: 0.20, Abs: 10, Slope: true}
	// RuleOpenFiles: open files may grow by 20 % + 10.
	RuleOpenFiles = Rule{Rel: 0.20, Abs: 10, Slope: true}
	// RuleLatency: a p99 may double plus 10 ms.
	RuleLatency = Rule{Rel: 1.0, Abs: 10}
	// RuleE2E: the send-to-sink p99 may double plus 100 ms: it includes the worker's
	// pickup, whose timing is coarser than a request's.
	RuleE2E = Rule{Rel: 1.0, Abs: 100}
	// RuleQueue: the queue's depth may double plus 20 runs.
	RuleQueue = Rule{Rel: 1.0, Abs: 20}
)

// MinWindows is the fewest measured windows (after warm-up) a flatness verdict needs: a
// third of them each for the first and last medians.
const MinWindows = 6

// Verdict is the outcome of one check.
type Verdict struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
	// First and Last are the medians of the first and last thirds, Allowed the most the
	// last may rise over the first, SlopeRise the fitted line's rise over the span; set
	// for flatness checks.
	First     float64 `json:"first"`
	Last      float64 `json:"last"`
	Allowed   float64 `json:"allowed"`
	SlopeRise float64 `json:"slope_rise"`
}

// Flat judges whether ys, measured at times ts (seconds, ascending; warm-up excluded),
// stays flat under r. unit names the values in the detail.
func Flat(name, unit string, ts, ys []float64, r Rule) Verdict {
	v := Verdict{Name: name}
	if len(ys) != len(ts) || len(ys) < MinWindows {
		v.Detail = fmt.Sprintf("too few windows after warm-up: %d, need %d", len(ys), MinWindows)
		return v
	}
	third := len(ys) / 3
	v.First = round2(median(ys[:third]))
	v.Last = round2(median(ys[len(ys)-third:]))
	v.Allowed = round2(max(r.Rel*v.First+r.Abs, r.Floor))
	rise := v.Last - v.First
	v.Pass = rise <= v.Allowed
	v.Detail = fmt.Sprintf("first third %s, last third %s (allowed rise %s)", fmtVal(v.First, unit), fmtVal(v.Last, unit), fmtVal(v.Allowed, unit))
	if r.Slope {
		slope := lsSlope(ts, ys)
		v.SlopeRise = round2(slope * (ts[len(ts)-1] - ts[0]))
		if v.SlopeRise > v.Allowed {
			v.Pass = false
		}
		v.Detail += fmt.Sprintf("; trend %+g over the run", v.SlopeRise)
	}
	return v
}

// Zero judges a count that must be zero.
func Zero(name string, n int64, what string) Verdict {
	return Verdict{Name: name, Pass: n == 0, Detail: fmt.Sprintf("%d %s", n, what)}
}

// median returns the median of xs (the mean of the two middle values for an even
// count), leaving xs as it was.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// lsSlope returns the least-squares slope of ys over ts; 0 when ts do not vary.
func lsSlope(ts, ys []float64) float64 {
	n := float64(len(ts))
	var st, sy float64
	for i := range ts {
		st += ts[i]
		sy += ys[i]
	}
	mt, my := st/n, sy/n
	var num, den float64
	for i := range ts {
		num += (ts[i] - mt) * (ys[i] - my)
		den += (ts[i] - mt) * (ts[i] - mt)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func fmtVal(x float64, unit string) string {
	if unit == "" {
		return fmt.Sprintf("%g", x)
	}
	return fmt.Sprintf("%g %s", x, unit)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

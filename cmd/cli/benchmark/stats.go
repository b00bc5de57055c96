package benchmark

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a set of durations, in milliseconds rounded to 2 decimals.
type Latency struct {
	// Count is the number of samples.
	Count int `json:"count"`
	// P50 is the median.
	P50 float64 `json:"p50_ms"`
	// P90 is the 90th percentile.
	P90 float64 `json:"p90_ms"`
	// P99 is the 99th percentile.
	P99 float64 `json:"p99_ms"`
	// Max is the largest sample.
	Max float64 `json:"max_ms"`
}

// Summarize returns the percentiles of samples, computed on a sorted copy; samples is
// left as it was. No samples give a zero Latency.
func Summarize(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return Latency{
		Count: len(sorted),
		P50:   Millis(Percentile(sorted, 50)),
		P90:   Millis(Percentile(sorted, 90)),
		P99:   Millis(Percentile(sorted, 99)),
		Max:   Millis(sorted[len(sorted)-1]),
	}
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted, an ascending slice,
// by the nearest-rank method: the smallest sample with at least p% of the samples at or
// below it. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Millis converts d to milliseconds rounded to 2 decimals.
func Millis(d time.Duration) float64 {
	return round2(float64(d) / float64(time.Millisecond))
}

// PerSecond returns n events over d as a rate rounded to 2 decimals; 0 when d is not
// positive.
func PerSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round2(float64(n) / d.Seconds())
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// ratio returns a/b rounded to 4 decimals, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*10000) / 10000
}

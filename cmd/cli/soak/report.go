package soak

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Window is one sampling interval. Gauges (RSS, goroutines, open files, queue) are read
// at its end; latencies and rates cover the interval. -1 marks a value that could not be
// read or a latency without samples.
type Window struct {
	// T is the end of the window, in seconds since the load started.
	T float64 `json:"t_s"`
	// Warmup windows are shown but left out of the verdicts.
	Warmup          bool    `json:"warmup,omitempty"`
	RSSMB           float64 `json:"rss_mb"`
	Goroutines      float64 `json:"goroutines"`
	OpenFiles       float64 `json:"open_files"`
	Queue           float64 `json:"queue_depth"`
	Requests        int     `json:"requests"`
	RequestsPerSec  float64 `json:"requests_per_sec"`
	ReqP50          float64 `json:"request_p50_ms"`
	ReqP95          float64 `json:"request_p95_ms"`
	ReqP99          float64 `json:"request_p99_ms"`
	E2EP50          float64 `json:"e2e_p50_ms"`
	E2EP99          float64 `json:"e2e_p99_ms"`
	Reads           int     `json:"reads"`
	APIP99          float64 `json:"api_p99_ms"`
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	Errors          int     `json:"errors"`
}

// Report is the outcome of a soak run.
type Report struct {
	Config       Config    `json:"config"`
	StartedAt    time.Time `json:"started_at"`
	Database     string    `json:"database"`
	Target       string    `json:"target,omitempty"`
	PID          int       `json:"pid,omitempty"`
	LoadSeconds  float64   `json:"load_seconds"`
	DrainSeconds float64   `json:"drain_seconds"`
	Windows      []Window  `json:"windows"`
	Totals       tally     `json:"totals"`
	Retries      int64     `json:"retries"`
	// Completed is false when the run was interrupted (SIGINT, its bound) before the
	// load and the drain ended; Interrupted says why.
	Completed   bool      `json:"completed"`
	Interrupted string    `json:"interrupted,omitempty"`
	Failures    []string  `json:"failures,omitempty"`
	Verdicts    []Verdict `json:"verdicts"`
	Pass        bool      `json:"pass"`
}

// Names of the verdicts.
const (
	CheckRSS        = "rss"
	CheckGoroutines = "goroutines"
	CheckOpenFiles  = "open files"
	CheckRequestP99 = "request p99"
	CheckE2EP99     = "end-to-end p99"
	CheckQueue      = "queue depth"
	CheckLost       = "lost deliveries"
	CheckDuplicates = "duplicate deliveries"
	CheckErrors     = "errors"
	CheckTicks      = "schedule ticks"
	CheckCompleted  = "run completed"
)

// series returns the measured (non-warm-up) windows' times and values of one field,
// leaving out missing values.
func series(ws []Window, get func(Window) float64) (ts, ys []float64) {
	for _, w := range ws {
		if v := get(w); !w.Warmup && v >= 0 {
			ts = append(ts, w.T)
			ys = append(ys, v)
		}
	}
	return ts, ys
}

// evaluate fills Verdicts and Pass.
func (r *Report) evaluate() {
	flat := func(name, unit string, get func(Window) float64, rule Rule) {
		ts, ys := series(r.Windows, get)
		r.Verdicts = append(r.Verdicts, Flat(name, unit, ts, ys, rule))
	}
	flat(CheckRSS, "MB", func(w Window) float64 { return w.RSSMB }, RuleRSS)
	flat(CheckGoroutines, "", func(w Window) float64 { return w.Goroutines }, RuleGoroutines)
	flat(CheckOpenFiles, "", func(w Window) float64 { return w.OpenFiles }, RuleOpenFiles)
	flat(CheckRequestP99, "ms", func(w Window) float64 { return w.ReqP99 }, RuleLatency)
	flat(CheckE2EP99, "ms", func(w Window) float64 { return w.E2EP99 }, RuleE2E)
	flat(CheckQueue, "runs", func(w Window) float64 { return w.Queue }, RuleQueue)

	t := r.Totals
	if r.Completed {
		r.Verdicts = append(r.Verdicts, Zero(CheckLost, t.Lost, fmt.Sprintf("of %d expected deliveries not made within the drain", t.Expected)))
	} else {
		r.Verdicts = append(r.Verdicts, Verdict{Name: CheckLost, Detail: "not checked: the run did not complete"})
	}
	r.Verdicts = append(r.Verdicts, Zero(CheckDuplicates, t.Duplicates+t.DuplicateTicks+t.Invalid,
		fmt.Sprintf("extra deliveries (%d duplicate, %d duplicate ticks, %d unexpected)", t.Duplicates, t.DuplicateTicks, t.Invalid)))
	var errs int64
	for _, w := range r.Windows {
		errs += int64(w.Errors)
	}
	r.Verdicts = append(r.Verdicts, Zero(CheckErrors, errs, "webhooks not answered 202, skipped sends, failed reads or scrapes"))
	// The schedule fires every TickEvery; the first tick and the last may fall outside
	// the load, and the sink's answer to the latest may still be on its way.
	want := int64(r.LoadSeconds/TickEvery.Seconds()) - 2
	r.Verdicts = append(r.Verdicts, Verdict{Name: CheckTicks, Pass: t.Ticks >= want,
		Detail: fmt.Sprintf("%d ticks delivered, at least %d wanted", t.Ticks, max(want, 0))})
	done := Verdict{Name: CheckCompleted, Pass: r.Completed && len(r.Failures) == 0, Detail: "load and drain ran to the end"}
	if !done.Pass {
		done.Detail = strings.Join(append([]string{r.Interrupted}, r.Failures...), "; ")
		done.Detail = strings.Trim(done.Detail, "; ")
	}
	r.Verdicts = append(r.Verdicts, done)
	r.Pass = true
	for _, v := range r.Verdicts {
		r.Pass = r.Pass && v.Pass
	}
}

// WriteText writes the windows, the totals and the verdicts as text.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "hookflow soak: %s at %g webhooks/s, %g reads/s on %s", r.Config.Duration, r.Config.Rate, r.Config.ReadRate, r.Database)
	if r.Target != "" {
		fmt.Fprintf(&b, " (target %s)", r.Target)
	}
	fmt.Fprintf(&b, "\nsampled every %s; the first %s is warm-up (*), left out of the verdicts\n\n", r.Config.Interval, r.Config.Warmup)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "t (s)\tRSS MB\tgoroutines\tfiles\tqueue\treq/s\treq p50\treq p95\treq p99\te2e p50\te2e p99\tAPI p99\tdelivered/s\terrors\t")
	for _, x := range r.Windows {
		mark := ""
		if x.Warmup {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s%.0f\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%d\t\n", mark, x.T,
			num(x.RSSMB, 1), num(x.Goroutines, 0), num(x.OpenFiles, 0), num(x.Queue, 0), x.RequestsPerSec,
			num(x.ReqP50, 1), num(x.ReqP95, 1), num(x.ReqP99, 1), num(x.E2EP50, 1), num(x.E2EP99, 1), num(x.APIP99, 1),
			x.DeliveredPerSec, x.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	t := r.Totals
	fmt.Fprintf(&b, "\nwebhooks sent %d, accepted %d; deliveries expected %d, made %d, lost %d, duplicate %d; retries %d; schedule ticks %d\n",
		t.Sent, t.Accepted, t.Expected, t.Delivered, t.Lost, t.Duplicates, r.Retries, t.Ticks)
	fmt.Fprintf(&b, "load %.0f s, drain %.1f s (latencies in ms)\n\n", r.LoadSeconds, r.DrainSeconds)
	for _, v := range r.Verdicts {
		res := "PASS"
		if !v.Pass {
			res = "FAIL"
		}
		fmt.Fprintf(&b, "%-4s  %-21s %s\n", res, v.Name, v.Detail)
	}
	if r.Pass {
		b.WriteString("\nverdict: flat, nothing lost: PASS\n")
	} else {
		b.WriteString("\nverdict: FAIL\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// num formats x with prec decimals, or "-" for a missing value.
func num(x float64, prec int) string {
	if x < 0 || math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, x)
}

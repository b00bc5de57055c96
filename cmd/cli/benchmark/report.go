package benchmark

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report holds every figure of a run. Sections that do not apply are nil: Server for a
// target, Delivery and Forwarder in ingest mode, the baselines without Baselines.
type Report struct {
	// Mode is ModeIngest or ModeE2E.
	Mode string `json:"mode"`
	// Database is the server's database: sqlite or postgres.
	Database string `json:"database"`
	// Events is the number of webhooks sent.
	Events int `json:"events"`
	// Concurrency is the number of concurrent senders.
	Concurrency int `json:"concurrency"`
	// Rate is the offered rate in webhooks/s; 0 = as fast as possible.
	Rate float64 `json:"rate"`
	// Filtered is the fraction of events with amount ≤ 100.
	Filtered float64 `json:"filtered"`
	// Workers is the server's --workers: 0 in ingest mode, -1 for the server's default.
	Workers int `json:"workers"`
	// Target is the base URL of a server the bench did not start, if any.
	Target string `json:"target,omitempty"`
	// StartedAt is when the run started.
	StartedAt time.Time `json:"started_at"`
	// Seconds is the length of the whole run, baselines included.
	Seconds float64 `json:"seconds"`

	// Server has the figures of the process the bench started.
	Server *ServerStats `json:"server,omitempty"`
	// Ingest is the webhook load as the senders saw it.
	Ingest LoadStats `json:"ingest"`
	// Delivery compares the sink's arrivals with the accepted events (e2e mode).
	Delivery *DeliveryStats `json:"delivery,omitempty"`
	// Bare is the bare net/http 202 handler under the same load.
	Bare *BaselineStats `json:"bare,omitempty"`
	// Forwarder is the synchronous Go forwarder under the same load (e2e mode).
	Forwarder *BaselineStats `json:"forwarder,omitempty"`
	// IngestRatio is our accepted/s divided by the bare handler's; 0 without it.
	IngestRatio float64 `json:"ingest_ratio,omitempty"`
	// DeliveryRatio is our delivered/s divided by the forwarder's; 0 without it.
	DeliveryRatio float64 `json:"delivery_ratio,omitempty"`
	// Checks are the project's targets that apply to this run, each PASS or MISS.
	Checks []Check `json:"checks"`
	// Notes qualify the checks, e.g. a run at another concurrency than the targets'.
	Notes []string `json:"notes,omitempty"`
}

// ServerStats are the figures of a server process.
type ServerStats struct {
	// PID is the process id.
	PID int `json:"pid"`
	// StartToReadyMs is the time from exec to the first 200 from GET /readyz.
	StartToReadyMs float64 `json:"start_to_ready_ms"`
	// IdleRSSMB is VmRSS after ready and half a second idle, in MiB.
	IdleRSSMB float64 `json:"idle_rss_mb"`
	// IdleAnonMB and IdleFileMB split IdleRSSMB: the process's own memory (heap, stacks)
	// and the pages of files it maps, mostly its executable's code and read-only data.
	IdleAnonMB float64 `json:"idle_anon_mb,omitempty"`
	IdleFileMB float64 `json:"idle_file_mb,omitempty"`
	// PeakRSSMB is VmHWM at the end of the run, in MiB.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// CPUSeconds is the user plus system CPU time of the whole process life.
	CPUSeconds float64 `json:"cpu_seconds"`
	// LoadCPUSeconds is the part of CPUSeconds spent from the first send to the end of
	// the drain.
	LoadCPUSeconds float64 `json:"load_cpu_seconds"`
	// CPUPerWebhookUs is LoadCPUSeconds per accepted webhook, in µs: with workers on,
	// each accepted webhook is also claimed, filtered and (unless filtered) delivered.
	CPUPerWebhookUs float64 `json:"cpu_per_webhook_us"`
	// CPUPerDeliveryUs is LoadCPUSeconds per delivered webhook (e2e mode), in µs.
	CPUPerDeliveryUs float64 `json:"cpu_per_delivery_us,omitempty"`
	// Counters are the server's run counters at the end of the run (e2e mode).
	Counters *RunCounters `json:"counters,omitempty"`
}

// RunCounters say how runs reached the server's workers: a run reaches one through a
// claim (a transaction that may take several) or handed over directly by the process
// that ingested it. Claims that take nothing are work for nothing: the count caught
// every filtered webhook waking the workers for a claim (docs/performance.md).
type RunCounters struct {
	// Claims is hookflow_claims_total: claim transactions.
	Claims int64 `json:"claims"`
	// RunsClaimed is hookflow_runs_claimed_total: runs those claims took.
	RunsClaimed int64 `json:"runs_claimed"`
	// RunsDispatched is hookflow_runs_dispatched_total: runs handed to a worker without
	// a claim.
	RunsDispatched int64 `json:"runs_dispatched"`
}

// String is "claims (runs claimed) / runs dispatched".
func (c RunCounters) String() string {
	return fmt.Sprintf("%s (%s) / %s", thousands(float64(c.Claims)), thousands(float64(c.RunsClaimed)),
		thousands(float64(c.RunsDispatched)))
}

// LoadStats are the webhook requests as their sender saw them.
type LoadStats struct {
	// Sent is the number of requests sent.
	Sent int `json:"sent"`
	// Accepted is the number answered 202.
	Accepted int `json:"accepted"`
	// ErrorCount is Sent − Accepted.
	ErrorCount int `json:"error_count"`
	// Errors counts the other answers by status code, "transport" for no answer.
	Errors map[string]int `json:"errors,omitempty"`
	// TransportError is the first transport error, as a sample.
	TransportError string `json:"transport_error,omitempty"`
	// Seconds is the time from the first send to the last answer.
	Seconds float64 `json:"seconds"`
	// AcceptedPerSec is Accepted / Seconds.
	AcceptedPerSec float64 `json:"accepted_per_sec"`
	// RequestLatency is the latency of every request, send to answer read.
	RequestLatency Latency `json:"request_latency"`
}

// DeliveryStats compare the sink's arrivals with the accepted events.
type DeliveryStats struct {
	// Expected is the number of accepted events with amount > 100.
	Expected int `json:"expected"`
	// Delivered is the number of expected events that reached the sink.
	Delivered int `json:"delivered"`
	// Lost is the number of expected events that never reached the sink.
	Lost int `json:"lost"`
	// Duplicates is the number of extra deliveries of ids already delivered.
	Duplicates int64 `json:"duplicates"`
	// Unexpected counts deliveries of filtered or unaccepted events and bodies without a
	// usable id.
	Unexpected int `json:"unexpected"`
	// Seconds is the time from the first send to the last first delivery.
	Seconds float64 `json:"seconds"`
	// DeliveredPerSec is Delivered / Seconds.
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	// Latency is end to end, the body's send time to the first arrival at the sink.
	Latency Latency `json:"latency"`
}

// BaselineStats are the figures of a baseline handler.
type BaselineStats struct {
	// Load is its webhook load as the senders saw it.
	Load LoadStats `json:"load"`
	// Delivery is its deliveries to the sink (the forwarder only).
	Delivery *DeliveryStats `json:"delivery,omitempty"`
}

// Check is one target of the project, measured.
type Check struct {
	// Name says what is measured.
	Name string `json:"name"`
	// Value is the measurement, in Unit.
	Value float64 `json:"value"`
	// Op is "<=" or ">=".
	Op string `json:"op"`
	// Target is the bound, in Unit.
	Target float64 `json:"target"`
	// Unit is the unit of Value and Target.
	Unit string `json:"unit"`
	// Pass reports whether Value meets Target.
	Pass bool `json:"pass"`
	// Stretch is a second, harder bound in Unit shown next to Target; 0 for none. It
	// does not count in Pass.
	Stretch float64 `json:"stretch,omitempty"`
	// StretchPass reports whether Value meets Stretch.
	StretchPass bool `json:"stretch_pass,omitempty"`
}

// Names of checks, also the keys WriteText attaches them by. CheckAcceptedRate and
// CheckDeliveredRate name rows without a target since issue 17 set the rate targets as
// ratios to the baselines.
const (
	CheckStartToReady  = "start to ready"
	CheckIdleRSS       = "idle RSS"
	CheckPeakRSS       = "peak RSS"
	CheckCPUPerWebhook = "server CPU per webhook"
	CheckAcceptedRate  = "accepted/s"
	CheckRequestP99    = "request p99"
	CheckIngestRatio   = "accepted/s vs bare 202"
	CheckDeliveredRate = "delivered/s"
	CheckDeliveryRatio = "delivered/s vs forwarder"
	CheckE2EP50        = "end-to-end p50"
	CheckE2EP99        = "end-to-end p99"
	CheckLost          = "lost"
	CheckDuplicates    = "duplicates"
)

// Conditions the targets were set at (issue 17).
const (
	// targetConcurrency is the concurrency of the ingest targets and of the delivery
	// runs.
	targetConcurrency = 64
	// targetE2EConcurrency is the concurrency of the accepted/s target with workers on:
	// a sender that sends a few at a time.
	targetE2EConcurrency = 16
	targetEvents         = 20000
	targetRate           = 500
)

// Targets of issue 17 and the older ones it kept (start to ready, peak RSS, no loss).
const (
	targetStartToReadyMs   = 300
	targetIdleRSSMB        = 25
	targetPeakRSSMB        = 150
	targetIngestRatio      = 40 // % of the bare handler, SQLite ingest at C=64
	stretchIngestRatio     = 50
	targetRequestP99Ms     = 25 // ingest at C=64
	targetE2EAcceptedRatio = 25 // % of the bare handler, workers on, C=16
	targetDeliverySQLite   = 35 // % of the forwarder
	targetDeliveryPostgres = 25
	targetE2EP50Ms         = 5 // at 500 webhooks/s
	targetE2EP99Ms         = 25
	targetCPUPerWebhookUs  = 150 // with workers on, as fast as possible
)

func newCheck(name string, value float64, op string, target float64, unit string) Check {
	return Check{Name: name, Value: value, Op: op, Target: target, Unit: unit, Pass: meets(value, op, target)}
}

func meets(value float64, op string, bound float64) bool {
	if op == ">=" {
		return value >= bound
	}
	return value <= bound
}

// withStretch adds a stretch bound to c.
func withStretch(c Check, stretch float64) Check {
	c.Stretch = stretch
	c.StretchPass = meets(c.Value, c.Op, stretch)
	return c
}

// evaluate fills r.Checks and r.Notes with the targets that apply to the run. A figure
// the run does not measure, or measures under other conditions than its target's (the
// accepted/s ratio with workers on at another concurrency than 16, the CPU per webhook
// at a fixed rate), gets no check: it is shown without a verdict.
func (r *Report) evaluate() {
	r.Checks, r.Notes = nil, nil
	sqlite := r.Database == "sqlite"
	postgres := r.Database == "postgres"
	if s := r.Server; s != nil {
		r.Checks = append(r.Checks,
			newCheck(CheckStartToReady, s.StartToReadyMs, "<=", targetStartToReadyMs, "ms"),
			newCheck(CheckIdleRSS, s.IdleRSSMB, "<=", targetIdleRSSMB, "MB"),
			newCheck(CheckPeakRSS, s.PeakRSSMB, "<=", targetPeakRSSMB, "MB"))
		if r.Events != targetEvents {
			r.Notes = append(r.Notes, fmt.Sprintf("the peak RSS target is set for a %d-event run", targetEvents))
		}
	}
	switch r.Mode {
	case ModeIngest:
		if r.Rate == 0 && sqlite && r.Bare != nil {
			r.Checks = append(r.Checks, withStretch(
				newCheck(CheckIngestRatio, pctValue(r.IngestRatio), ">=", targetIngestRatio, "%"), stretchIngestRatio))
		}
		r.Checks = append(r.Checks, newCheck(CheckRequestP99, r.Ingest.RequestLatency.P99, "<=", targetRequestP99Ms, "ms"))
		if r.Concurrency != targetConcurrency && r.Rate == 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("the ingest targets are set at concurrency %d", targetConcurrency))
		}
	case ModeE2E:
		d := r.Delivery
		if d == nil {
			break
		}
		if r.Rate == 0 {
			if r.Bare != nil && r.Concurrency == targetE2EConcurrency {
				r.Checks = append(r.Checks, newCheck(CheckIngestRatio, pctValue(r.IngestRatio), ">=", targetE2EAcceptedRatio, "%"))
			}
			if r.Forwarder != nil && (sqlite || postgres) {
				target := float64(targetDeliverySQLite)
				if postgres {
					target = targetDeliveryPostgres
				}
				r.Checks = append(r.Checks, newCheck(CheckDeliveryRatio, pctValue(r.DeliveryRatio), ">=", target, "%"))
			}
			if s := r.Server; s != nil && s.CPUPerWebhookUs > 0 {
				r.Checks = append(r.Checks, newCheck(CheckCPUPerWebhook, s.CPUPerWebhookUs, "<=", targetCPUPerWebhookUs, "µs"))
			}
			if r.Concurrency != targetE2EConcurrency {
				r.Notes = append(r.Notes, fmt.Sprintf("the accepted/s target with workers on is set at concurrency %d", targetE2EConcurrency))
			}
		} else {
			r.Checks = append(r.Checks,
				newCheck(CheckE2EP50, d.Latency.P50, "<=", targetE2EP50Ms, "ms"),
				newCheck(CheckE2EP99, d.Latency.P99, "<=", targetE2EP99Ms, "ms"))
			if r.Rate != targetRate {
				r.Notes = append(r.Notes, fmt.Sprintf("the end-to-end latency targets are set at %d webhooks/s", targetRate))
			}
		}
		r.Checks = append(r.Checks,
			newCheck(CheckLost, float64(d.Lost), "<=", 0, ""),
			newCheck(CheckDuplicates, float64(d.Duplicates), "<=", 0, ""))
	}
	if !sqlite && !postgres {
		r.Notes = append(r.Notes, "the server's database is unknown; only the targets of both databases apply")
	}
}

// pctValue turns a ratio into a percentage with 1 decimal.
func pctValue(ratio float64) float64 { return math.Round(ratio*1000) / 10 }

// Passed reports whether every check passed.
func (r *Report) Passed() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return true
}

func (r *Report) check(name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// WriteText writes the report as an aligned table: figure, value, target and PASS or
// MISS where the project sets a target.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "hookflow bench: mode %s, %s, %d events, concurrency %d, rate %s, %s filtered, workers %s\n",
		r.Mode, r.Database, r.Events, r.Concurrency, rateText(r.Rate), pct(r.Filtered), workersText(r.Workers))
	if r.Target != "" {
		fmt.Fprintf(&b, "target: %s (not started by the bench: no memory, CPU or start figures)\n", r.Target)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(name, value, check string) {
		target, verdict := "", ""
		if c := r.check(check); c != nil {
			target, verdict = targetText(c), verdictText(c)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name, value, target, verdict)
	}
	section := func(title string) { fmt.Fprintf(tw, "%s\t\t\t\n", title) }
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", "FIGURE", "VALUE", "TARGET", "VERDICT")

	if s := r.Server; s != nil {
		section("server")
		row("start to ready", ms(s.StartToReadyMs), CheckStartToReady)
		row("idle RSS", mb(s.IdleRSSMB)+rssSplit(s), CheckIdleRSS)
		row("peak RSS", mb(s.PeakRSSMB), CheckPeakRSS)
		row("CPU seconds", fmt.Sprintf("%.2f s (%.2f s under load)", s.CPUSeconds, s.LoadCPUSeconds), "")
		if s.CPUPerWebhookUs > 0 {
			row("CPU per webhook", us(s.CPUPerWebhookUs), CheckCPUPerWebhook)
		}
		if s.CPUPerDeliveryUs > 0 {
			row("CPU per delivery", us(s.CPUPerDeliveryUs), "")
		}
		if s.Counters != nil {
			row("claims (runs claimed) / dispatched", s.Counters.String(), "")
		}
	}
	section("ingest (webhook → 202)")
	row("sent / accepted", fmt.Sprintf("%s / %s", thousands(float64(r.Ingest.Sent)), thousands(float64(r.Ingest.Accepted))), "")
	row("errors", errorsText(r.Ingest), "")
	row("accepted/s", rateValue(r.Ingest.AcceptedPerSec), CheckAcceptedRate)
	row("request p50 / p90", fmt.Sprintf("%.2f / %.2f ms", r.Ingest.RequestLatency.P50, r.Ingest.RequestLatency.P90), "")
	row("request p99", ms(r.Ingest.RequestLatency.P99), CheckRequestP99)
	row("request max", ms(r.Ingest.RequestLatency.Max), "")
	if r.Bare != nil {
		row("bare 202 handler accepted/s", rateValue(r.Bare.Load.AcceptedPerSec)+bareErrors(r.Bare.Load), "")
		row("bare 202 handler request p50 / p99", fmt.Sprintf("%.2f / %.2f ms", r.Bare.Load.RequestLatency.P50, r.Bare.Load.RequestLatency.P99), "")
		row("ours / bare", pct(r.IngestRatio), CheckIngestRatio)
	}
	if d := r.Delivery; d != nil {
		section("delivery (webhook → sink)")
		row("expected / delivered", fmt.Sprintf("%s / %s", thousands(float64(d.Expected)), thousands(float64(d.Delivered))), "")
		row("lost", strconv.Itoa(d.Lost), CheckLost)
		row("duplicates", strconv.FormatInt(d.Duplicates, 10), CheckDuplicates)
		if d.Unexpected > 0 {
			row("unexpected (filtered or unknown ids)", strconv.Itoa(d.Unexpected), "")
		}
		row("delivered/s", rateValue(d.DeliveredPerSec), CheckDeliveredRate)
		row("end-to-end p50", ms(d.Latency.P50), CheckE2EP50)
		row("end-to-end p90", ms(d.Latency.P90), "")
		row("end-to-end p99", ms(d.Latency.P99), CheckE2EP99)
		row("end-to-end max", ms(d.Latency.Max), "")
		if f := r.Forwarder; f != nil && f.Delivery != nil {
			row("Go forwarder delivered/s", rateValue(f.Delivery.DeliveredPerSec)+bareErrors(f.Load), "")
			row("Go forwarder end-to-end p50 / p99", fmt.Sprintf("%.2f / %.2f ms", f.Delivery.Latency.P50, f.Delivery.Latency.P99), "")
			row("ours / forwarder", pct(r.DeliveryRatio), CheckDeliveryRatio)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("format the report: %w", err)
	}
	pass, miss := 0, 0
	for _, c := range r.Checks {
		if c.Pass {
			pass++
		} else {
			miss++
		}
	}
	fmt.Fprintf(&b, "\n%d target(s) met, %d missed; run took %.1f s\n", pass, miss, r.Seconds)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// targetText is the bound of c, with its stretch bound if it has one.
func targetText(c *Check) string {
	op := "≤"
	if c.Op == ">=" {
		op = "≥"
	}
	text := op + " " + boundText(c.Target, c.Unit)
	if c.Stretch != 0 {
		text += " (stretch " + boundText(c.Stretch, c.Unit) + ")"
	}
	return text
}

func boundText(v float64, unit string) string {
	switch unit {
	case "/s":
		return thousands(v) + "/s"
	case "":
		return strconv.FormatFloat(v, 'f', -1, 64)
	case "%":
		return strconv.FormatFloat(v, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
}

// verdictText is PASS or MISS, and the stretch bound's verdict if c has one.
func verdictText(c *Check) string {
	v := "MISS"
	if c.Pass {
		v = "PASS"
	}
	if c.Stretch != 0 {
		if c.StretchPass {
			v += ", stretch PASS"
		} else {
			v += ", stretch MISS"
		}
	}
	return v
}

func errorsText(s LoadStats) string {
	if s.ErrorCount == 0 {
		return "0"
	}
	parts := make([]string, 0, len(s.Errors))
	for _, k := range slices.Sorted(maps.Keys(s.Errors)) {
		parts = append(parts, fmt.Sprintf("%d× %s", s.Errors[k], k))
	}
	text := fmt.Sprintf("%d (%s)", s.ErrorCount, strings.Join(parts, ", "))
	if s.TransportError != "" {
		text += ": " + s.TransportError
	}
	return text
}

func bareErrors(s LoadStats) string {
	if s.ErrorCount == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d errors)", s.ErrorCount)
}

func rateText(rate float64) string {
	if rate == 0 {
		return "unlimited"
	}
	return thousands(rate) + "/s"
}

func workersText(n int) string {
	switch {
	case n < 0:
		return "server default"
	case n == 0:
		return "0 (ingest only)"
	}
	return strconv.Itoa(n)
}

// rssSplit is " (anon A MB, file F MB)", or "" without the split.
func rssSplit(s *ServerStats) string {
	if s.IdleAnonMB == 0 && s.IdleFileMB == 0 {
		return ""
	}
	return fmt.Sprintf(" (anon %.1f MB, file %.1f MB)", s.IdleAnonMB, s.IdleFileMB)
}

func ms(v float64) string        { return fmt.Sprintf("%.2f ms", v) }
func us(v float64) string        { return fmt.Sprintf("%.1f µs", v) }
func mb(v float64) string        { return fmt.Sprintf("%.1f MB", v) }
func pct(f float64) string       { return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%" }
func rateValue(v float64) string { return thousands(v) + "/s" }

// thousands formats v rounded to a whole number with comma separators.
func thousands(v float64) string {
	n := int64(math.Round(v))
	s := strconv.FormatInt(max(n, -n), 10)
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

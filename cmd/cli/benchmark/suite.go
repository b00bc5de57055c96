package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// SuiteRateEventsMax caps the events of the suite's fixed-rate run: 5,000 at 500/s is
// 10 s of load.
const SuiteRateEventsMax = 5000

// SuiteRun is one run of the suite and its report.
type SuiteRun struct {
	// Label names the run in the table, e.g. "e2e C=16".
	Label string `json:"label"`
	// Report is the run's report, with its own checks.
	Report *Report `json:"report"`
}

// SuiteReport holds the standard set of runs on one database: ingest at C=64, e2e at
// C=16 and C=64, and e2e at 500 webhooks/s.
type SuiteReport struct {
	// Database is the servers' database: sqlite or postgres.
	Database string `json:"database"`
	// StartedAt is when the suite started.
	StartedAt time.Time `json:"started_at"`
	// Seconds is the length of the whole suite.
	Seconds float64 `json:"seconds"`
	// Runs are in the table's order (not the order they ran in).
	Runs []SuiteRun `json:"runs"`
	// Notes qualify the table.
	Notes []string `json:"notes,omitempty"`
}

// suitePlan is one run of the suite: its place in the table and its configuration.
type suitePlan struct {
	label string
	cfg   Config
}

// suitePlans returns the suite's runs in the order they run: the e2e runs first, the
// ingest run last, because on a shared PostgreSQL database an ingest run leaves its runs
// queued and a later server's workers would take them. Every run drains its deliveries,
// so an e2e run leaves nothing queued. Mode, Concurrency and Rate of cfg are replaced;
// the fixed-rate run sends at most SuiteRateEventsMax events.
func suitePlans(cfg Config) []suitePlan {
	at := func(mode string, concurrency int, rate float64) Config {
		c := cfg
		c.Mode, c.Concurrency, c.Rate = mode, concurrency, rate
		return c
	}
	events := cfg.Events
	if events == 0 {
		events = EventsDefault
	}
	rated := at(ModeE2E, targetConcurrency, targetRate)
	rated.Events = min(events, SuiteRateEventsMax)
	return []suitePlan{
		{"e2e C=16", at(ModeE2E, targetE2EConcurrency, 0)},
		{"e2e C=64", at(ModeE2E, targetConcurrency, 0)},
		{"e2e 500/s", rated},
		{"ingest C=64", at(ModeIngest, targetConcurrency, 0)},
	}
}

// suiteOrder is the table's column order: the runs as issue 17 lists its figures.
var suiteOrder = []string{"ingest C=64", "e2e C=16", "e2e C=64", "e2e 500/s"}

// ValidateSuite checks a suite's configuration without running anything: a suite starts
// its own servers, so it takes no target.
func ValidateSuite(cfg Config) error {
	if cfg.Target != "" {
		return errors.New("a suite starts its own servers: it takes no target")
	}
	for _, p := range suitePlans(cfg) {
		if err := p.cfg.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Suite runs the standard set of runs on the database of cfg (SQLite in fresh temporary
// dirs, or the PostgreSQL database given, shared by the runs) and returns their reports
// for one combined table. It returns an error when a run could not be completed.
func Suite(ctx context.Context, cfg Config, log io.Writer) (*SuiteReport, error) {
	if log == nil {
		log = io.Discard
	}
	if err := ValidateSuite(cfg); err != nil {
		return nil, err
	}
	started := time.Now()
	out := &SuiteReport{StartedAt: started.UTC()}
	suffix, err := randomHex(4)
	if err != nil {
		return nil, err
	}
	shared := cfg.DatabaseURL != ""
	if shared {
		if cfg.secretKey, err = randomHex(32); err != nil {
			return nil, err
		}
		out.Notes = append(out.Notes, "the runs share the PostgreSQL database given, one after another: "+
			"later runs start on the tables earlier runs filled")
	}
	byLabel := map[string]*Report{}
	plans := suitePlans(cfg)
	for i, p := range plans {
		c := p.cfg
		c.workflowName = "bench-" + strings.NewReplacer(" ", "-", "=", "", "/", "").Replace(p.label) + "-" + suffix
		c.deleteWorkflow = shared
		fmt.Fprintf(log, "bench: suite run %d/%d: %s\n", i+1, len(plans), p.label)
		rep, err := Run(ctx, c, log)
		if err != nil {
			return nil, fmt.Errorf("suite run %s: %w", p.label, err)
		}
		byLabel[p.label] = rep
		out.Database = rep.Database
	}
	for _, label := range suiteOrder {
		out.Runs = append(out.Runs, SuiteRun{Label: label, Report: byLabel[label]})
	}
	out.Seconds = round2(time.Since(started).Seconds())
	return out, nil
}

// Checks returns every check of every run, each named "figure (run)".
func (s *SuiteReport) Checks() []Check {
	var out []Check
	for _, run := range s.Runs {
		for _, c := range run.Report.Checks {
			c.Name += " (" + run.Label + ")"
			out = append(out, c)
		}
	}
	return out
}

// Passed reports whether every check of every run passed.
func (s *SuiteReport) Passed() bool {
	for _, run := range s.Runs {
		if !run.Report.Passed() {
			return false
		}
	}
	return true
}

// suiteRow is one figure of the combined table: its value in a run, ok false when the run
// does not measure it, and the check that gives it a verdict.
type suiteRow struct {
	name  string
	check string
	value func(r *Report) (string, bool)
}

var suiteRows = []suiteRow{
	{"start to ready", CheckStartToReady, func(r *Report) (string, bool) {
		return serverFigure(r, func(s *ServerStats) string { return ms(s.StartToReadyMs) })
	}},
	{"idle RSS", CheckIdleRSS, func(r *Report) (string, bool) {
		return serverFigure(r, func(s *ServerStats) string { return mb(s.IdleRSSMB) })
	}},
	{"idle anon / file", "", func(r *Report) (string, bool) {
		if r.Server == nil || (r.Server.IdleAnonMB == 0 && r.Server.IdleFileMB == 0) {
			return "", false
		}
		return fmt.Sprintf("%.1f / %.1f MB", r.Server.IdleAnonMB, r.Server.IdleFileMB), true
	}},
	{"peak RSS", CheckPeakRSS, func(r *Report) (string, bool) {
		return serverFigure(r, func(s *ServerStats) string { return mb(s.PeakRSSMB) })
	}},
	{"accepted/s", "", func(r *Report) (string, bool) { return rateValue(r.Ingest.AcceptedPerSec), true }},
	{"ours / bare 202 handler", CheckIngestRatio, func(r *Report) (string, bool) {
		return pct(r.IngestRatio), r.Bare != nil && r.Rate == 0
	}},
	{"request p99", CheckRequestP99, func(r *Report) (string, bool) { return ms(r.Ingest.RequestLatency.P99), true }},
	{"delivered/s", "", func(r *Report) (string, bool) {
		if r.Delivery == nil {
			return "", false
		}
		return rateValue(r.Delivery.DeliveredPerSec), true
	}},
	{"ours / Go forwarder", CheckDeliveryRatio, func(r *Report) (string, bool) {
		return pct(r.DeliveryRatio), r.Delivery != nil && r.Forwarder != nil && r.Rate == 0
	}},
	{"end-to-end p50", CheckE2EP50, func(r *Report) (string, bool) {
		if r.Delivery == nil {
			return "", false
		}
		return ms(r.Delivery.Latency.P50), true
	}},
	{"end-to-end p99", CheckE2EP99, func(r *Report) (string, bool) {
		if r.Delivery == nil {
			return "", false
		}
		return ms(r.Delivery.Latency.P99), true
	}},
	{"server CPU per webhook", CheckCPUPerWebhook, func(r *Report) (string, bool) {
		return serverFigure(r, func(s *ServerStats) string { return us(s.CPUPerWebhookUs) })
	}},
	{"server CPU per delivery", "", func(r *Report) (string, bool) {
		if r.Server == nil || r.Server.CPUPerDeliveryUs == 0 {
			return "", false
		}
		return us(r.Server.CPUPerDeliveryUs), true
	}},
	{"claims (claimed) / dispatched", "", func(r *Report) (string, bool) {
		if r.Server == nil || r.Server.Counters == nil {
			return "", false
		}
		return r.Server.Counters.String(), true
	}},
	{"lost / duplicates", "", func(r *Report) (string, bool) {
		if r.Delivery == nil {
			return "", false
		}
		return fmt.Sprintf("%d / %d", r.Delivery.Lost, r.Delivery.Duplicates), true
	}},
}

func serverFigure(r *Report, f func(s *ServerStats) string) (string, bool) {
	if r.Server == nil {
		return "", false
	}
	return f(r.Server), true
}

// WriteText writes one table: a row per figure, a column per run. A cell holds the
// figure and, where the run's conditions are those of a target, PASS or MISS; "–" where
// the run does not measure the figure. The TARGET column names the run a target applies
// to when the runs' targets differ.
func (s *SuiteReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "hookflow bench --suite: %s, %d runs\n\n", s.Database, len(s.Runs))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	header := []string{"FIGURE"}
	for _, run := range s.Runs {
		header = append(header, strings.ToUpper(run.Label))
	}
	header = append(header, "TARGET")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range suiteRows {
		cells := []string{row.name}
		var targets []string
		var targetRuns []string
		for _, run := range s.Runs {
			value, ok := row.value(run.Report)
			if !ok {
				cells = append(cells, "–")
				continue
			}
			if c := run.Report.check(row.check); row.check != "" && c != nil {
				value += " " + verdictText(c)
				targets = append(targets, targetText(c))
				targetRuns = append(targetRuns, run.Label)
			}
			cells = append(cells, value)
		}
		cells = append(cells, joinTargets(targets, targetRuns, len(s.Runs)))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("format the suite table: %w", err)
	}
	pass, miss := 0, 0
	var missed []string
	for _, c := range s.Checks() {
		if c.Pass {
			pass++
		} else {
			miss++
			missed = append(missed, c.Name)
		}
	}
	fmt.Fprintf(&b, "\n%d target(s) met, %d missed; suite took %.1f s\n", pass, miss, s.Seconds)
	if len(missed) > 0 {
		fmt.Fprintf(&b, "missed: %s\n", strings.Join(missed, ", "))
	}
	for _, run := range s.Runs {
		r := run.Report
		fmt.Fprintf(&b, "%s: %s events, %s, %s filtered, workers %s\n", run.Label, thousands(float64(r.Events)),
			rateText(r.Rate), pct(r.Filtered), workersText(r.Workers))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// joinTargets is the TARGET cell of a row: the target alone when every run that has it
// has the same one, else each with its run.
func joinTargets(targets, runs []string, total int) string {
	if len(targets) == 0 {
		return ""
	}
	same := true
	for _, t := range targets[1:] {
		same = same && t == targets[0]
	}
	if same && len(targets) == total {
		return targets[0]
	}
	parts := make([]string, len(targets))
	for i := range targets {
		parts[i] = targets[i] + " (" + runs[i] + ")"
	}
	if same {
		return targets[0] + " (" + strings.Join(runs, ", ") + ")"
	}
	return strings.Join(parts, "; ")
}

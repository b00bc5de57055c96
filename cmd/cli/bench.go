package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/cmd/cli/benchmark"
)

func newBenchCommand(_ *Options) *cobra.Command {
	cfg := benchmark.DefaultConfig()
	var noBaselines, asJSON, suite bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure this build: ingest and delivery rates, latencies, losses, memory, CPU and start time",
		Long: "Start a server on loopback with a fresh temporary data dir (or use --target), create the workflow " +
			"'webhook → filter amount > 100 → http.request POST to a local sink', fire the events at it and report " +
			"accepted/s, delivered/s, request and end-to-end latencies, lost and duplicate deliveries, the server's " +
			"idle and peak RSS, CPU seconds and start-to-ready time, against the project's targets. The same load is " +
			"first sent to a bare net/http 202 handler (and in e2e mode to a synchronous Go forwarder) to give ratios.\n\n" +
			"The bench never touches your data dir and ignores HOOKFLOW_ variables; --database-url must name an empty " +
			"PostgreSQL database or schema. All traffic stays on loopback. Missed targets are reported as MISS and " +
			"still exit 0; the exit code is 1 only when the run could not be completed.\n\n" +
			"--suite runs the standard set one after another on the given database (SQLite by default): ingest at " +
			"concurrency 64, e2e at concurrency 16 and 64, and e2e at 500 webhooks/s (at most 5,000 events), and " +
			"prints one table with every figure of each run and PASS or MISS where a target applies; \"–\" marks a " +
			"figure a run does not measure.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if f.Changed("filtered") && cfg.Filtered == 0 {
				cfg.Filtered = -1 // an explicit 0: no filtered events, whatever the mode
			}
			cfg.Baselines = !noBaselines
			if cfg.Target == "" && cfg.Token != "" {
				return &ExitError{Code: ExitUsage, Err: errors.New("--token applies only with --target")}
			}
			if suite {
				for _, name := range []string{"mode", "concurrency", "rate", "target"} {
					if f.Changed(name) {
						return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--%s does not apply with --suite, which sets the runs itself", name)}
					}
				}
				if err := benchmark.ValidateSuite(cfg); err != nil {
					return &ExitError{Code: ExitUsage, Err: fmt.Errorf("bench: %w", err)}
				}
			} else if err := cfg.Validate(); err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("bench: %w", err)}
			}
			// On SIGINT or SIGTERM the run stops, and still stops its server and removes
			// its temporary dir.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var rep interface{ WriteText(io.Writer) error }
			var err error
			if suite {
				rep, err = benchmark.Suite(ctx, cfg, cmd.ErrOrStderr())
			} else {
				rep, err = benchmark.Run(ctx, cfg, cmd.ErrOrStderr())
			}
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("bench: %w", err)}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(rep); err != nil {
					return &ExitError{Code: ExitFailure, Err: fmt.Errorf("write the report: %w", err)}
				}
				return nil
			}
			if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("write the report: %w", err)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	// A local --database-url shadows the global one: the bench's default is a temporary
	// SQLite database, never HOOKFLOW_DATABASE_URL.
	f.StringVar(&cfg.DatabaseURL, "database-url", "", "postgres://... URL of an empty database or schema; default SQLite in a temporary data dir")
	f.StringVar(&cfg.Mode, "mode", benchmark.ModeIngest, "ingest (serve --workers 0: durable ingest only) or e2e (serve with workers: delivery to the sink)")
	f.IntVar(&cfg.Events, "events", benchmark.EventsDefault, "webhooks to send")
	f.IntVar(&cfg.Concurrency, "concurrency", benchmark.ConcurrencyDefault, "concurrent senders")
	f.Float64Var(&cfg.Rate, "rate", 0, "offered webhooks per second; 0 sends as fast as possible")
	f.Float64Var(&cfg.Filtered, "filtered", 0, "fraction of events with amount ≤ 100, dropped by the filter; default 0.5 in e2e, 0 in ingest")
	f.IntVar(&cfg.Workers, "workers", 0, "server workers in e2e mode; default the server's default")
	f.DurationVar(&cfg.Timeout, "timeout", benchmark.TimeoutDefault, "bound for the whole run")
	f.DurationVar(&cfg.DrainTimeout, "drain-timeout", benchmark.DrainTimeoutDefault, "wait for deliveries after the last send; undelivered events then count as lost")
	f.BoolVar(&noBaselines, "no-baselines", false, "skip the bare 202 handler and the Go forwarder")
	f.StringVar(&cfg.Target, "target", "", "base URL of a running server on loopback to measure instead of starting one (needs --token)")
	f.StringVar(&cfg.Token, "token", "", "API token of the --target server")
	f.StringVar(&cfg.Binary, "binary", "", "hookflow binary to start as the server; default this executable")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&suite, "suite", false, "run the standard set (ingest C=64, e2e C=16, e2e C=64, e2e at 500/s) and print one table")
	return cmd
}

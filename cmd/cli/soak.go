package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/cmd/cli/soak"
)

func newSoakCommand(_ *Options) *cobra.Command {
	cfg := soak.DefaultConfig()
	var asJSON bool
	var svgPath string
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Keep a steady mixed load on a server and check that RSS, goroutines, open files and latencies stay flat",
		Long: "Start a server on loopback with a fresh temporary data dir (or use --target), create four workflows " +
			"(a filtered webhook delivering to a local sink, a webhook whose sink answers 500 or slowly so retries " +
			"happen, a two-step webhook, a schedule every 10 s) and keep webhooks at --rate and API reads at " +
			"--read-rate on them for --duration. Every --interval it samples the server's RSS, goroutines, open " +
			"files and queue depth and the window's request and end-to-end latencies; after the warm-up, the last " +
			"third of the windows is compared with the first third. It then waits for the last deliveries and " +
			"checks that none was lost or duplicated. docs/soak.md gives the rules.\n\n" +
			"The soak never touches your data dir and ignores HOOKFLOW_ variables. All traffic stays on loopback. " +
			"Exit 0 when every verdict passes, 1 when one fails or the run could not complete (the report is " +
			"still printed; Ctrl-C stops the load and reports what was measured), 2 for bad flags.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("soak: %w", err)}
			}
			// On SIGINT or SIGTERM the load stops; the server is still stopped, its
			// temporary dir removed, and the report written.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := soak.Run(ctx, cfg, cmd.ErrOrStderr())
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("soak: %w", err)}
			}
			if svgPath != "" {
				if err := writeSVG(svgPath, rep); err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				err = enc.Encode(rep)
			} else {
				err = rep.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("write the report: %w", err)}
			}
			if !rep.Pass {
				return &ExitError{Code: ExitFailure, Err: errors.New("soak: a verdict failed or the run did not complete")}
			}
			return nil
		},
	}
	f := cmd.Flags()
	// A local --database-url shadows the global one: the soak's default is a temporary
	// SQLite database, never HOOKFLOW_DATABASE_URL.
	f.StringVar(&cfg.DatabaseURL, "database-url", "", "postgres://... URL of an empty database or schema; default SQLite in a temporary data dir")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long the load runs")
	f.Float64Var(&cfg.Rate, "rate", cfg.Rate, "webhooks per second, spread over the three webhook workflows")
	f.Float64Var(&cfg.ReadRate, "read-rate", cfg.ReadRate, "API reads per second (runs list, a run, a workflow's events, workflows); 0 for none")
	f.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "most webhooks in flight; a send due while all are busy is skipped and counted as an error")
	f.IntVar(&cfg.Workers, "workers", 0, "server workers; default the server's default")
	f.DurationVar(&cfg.Interval, "interval", 0, "sampling interval; default duration/24 between 1s and 10s")
	f.DurationVar(&cfg.Warmup, "warmup", 0, "left out of the verdicts; default 10% of the duration, at most 5m")
	f.DurationVar(&cfg.DrainTimeout, "drain-timeout", cfg.DrainTimeout, "wait for deliveries after the load; undelivered then count as lost")
	f.Float64Var(&cfg.FailShare, "fail-share", cfg.FailShare, "share of the flaky workflow's events whose first delivery attempt gets a 500")
	f.Float64Var(&cfg.SlowShare, "slow-share", cfg.SlowShare, "share of the flaky workflow's events answered after --slow")
	f.DurationVar(&cfg.Slow, "slow", cfg.Slow, "how long the sink takes for a slow answer")
	f.StringVar(&cfg.Target, "target", "", "base URL of a running server on loopback to soak instead of starting one (needs --token)")
	f.StringVar(&cfg.Token, "token", "", "API token of the --target server")
	f.StringVar(&cfg.MetricsToken, "metrics-token", "", "bearer token of the --target server's /metrics, if it needs one")
	f.StringVar(&cfg.Binary, "binary", "", "hookflow binary to start as the server; default this executable")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&svgPath, "svg", "", "write a chart of the windows to this SVG file")
	return cmd
}

// writeSVG writes the report's chart to path.
func writeSVG(path string, rep *soak.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the chart: %w", err)
	}
	if err := rep.WriteSVG(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write the chart %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the chart %s: %w", path, err)
	}
	return nil
}

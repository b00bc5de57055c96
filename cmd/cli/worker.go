package cli

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/web"
)

// WorkerAddrDefault is the health and metrics address of `hookflow worker`; it differs
// from serve's so both can run on one host unconfigured.
const WorkerAddrDefault = ":8081"

func newWorkerCommand(opts *Options) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run workers only: claim and execute runs; serve /healthz, /readyz and /metrics",
		Long: "Run workers only. Any number of workers and servers can share one PostgreSQL database " +
			"(HOOKFLOW_DATABASE_URL): each run is claimed by one worker at a time, and a crashed " +
			"worker's runs are taken over when its leases expire.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.RetentionMaxRuns < 0 {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--retention-max-runs must be 0 or more, got %d", opts.RetentionMaxRuns)}
			}
			if opts.Workers < 1 {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--workers must be at least 1 for a worker, got %d", opts.Workers)}
			}
			return runProcess(cmd, opts, process{
				addr:   addr,
				banner: "Hookflow worker ready",
				handler: func(eng *engine.Engine, log *slog.Logger) http.Handler {
					return web.NewOps(eng, log)
				},
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", env("HOOKFLOW_ADDR", WorkerAddrDefault), "listen address of the health and metrics endpoints [HOOKFLOW_ADDR]")
	f.IntVar(&opts.Workers, "workers", opts.envInt("HOOKFLOW_WORKERS", engine.WorkersDefault), "runs executed at once [HOOKFLOW_WORKERS]")
	opts.addWorkerFlags(cmd)
	return cmd
}

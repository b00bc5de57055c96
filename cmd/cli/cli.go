// Package cli holds Hookflow's cobra commands: flags and environment variables turned
// into an engine.Config, a logger, and the wiring of engine and web. It is importable so
// a custom build's main stays about ten lines.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookflow/hookflow/connectors/httpclient"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/trace"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed, e.g. an invalid workflow
	ExitUsage   = 2 // bad flags or arguments
)

// ExitError carries an exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Options are the settings shared by every command, each from a flag or its
// environment variable. The listen address is not among them: serve and worker each
// keep their own, since their defaults differ.
type Options struct {
	DataDir       string
	DatabaseURL   string
	BaseURL       string
	SecretKey     string
	AdminEmail    string
	AdminPassword string
	Workers       int
	// Webhook ingress limits (serve only).
	WebhookInFlight      int
	WebhookInFlightBytes int
	WebhookReadTimeout   time.Duration
	WebhookMaxHeaders    int
	Lease                time.Duration
	LogFormat            string
	LogLevel             string
	// OutboundPrivate, OutboundAllow and OutboundDeny are the outbound network policy;
	// the lists are comma-separated.
	OutboundPrivate string
	OutboundAllow   string
	OutboundDeny    string
	// RetentionMaxAge and RetentionMaxRuns bound the history kept; zero means no bound.
	RetentionMaxAge  time.Duration
	RetentionMaxRuns int
	// ConnectorsReload is how often connector files are looked at again; zero: only at
	// start and after an upload.
	ConnectorsReload time.Duration
	// BackupInterval and BackupKeep schedule backups of a SQLite database; zero interval:
	// none.
	BackupInterval time.Duration
	BackupKeep     int
	// SessionIdleTimeout and SessionMaxAge end UI sessions (serve).
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	// DB holds the database pool and metrics-token settings (db.go).
	DB dbOptions
	// TLS holds serve's HTTPS settings (tls.go).
	TLS tlsOptions
	// envErrs are environment variables that did not parse, by name; commands refuse to
	// run on them rather than silently fall back to a default.
	envErrs map[string]error

	// Limits are the defaults of workflows' run limits.
	Limits runLimits
	// secrets are the secret settings, each with its *_FILE twin.
	secrets []*secretSetting
}

// secretSetting is a setting that holds a secret. Besides its variable and flag it has a
// *_FILE twin naming a file that holds the value (Docker and Kubernetes secrets, systemd
// credentials), so the secret never needs the command line, which every user of the
// machine can read in /proc/PID/cmdline.
type secretSetting struct {
	env, flag string
	value     *string
	file      string
}

// addSecret registers flags for a secret setting and its *_FILE twin.
func (o *Options) addSecret(fs *pflag.FlagSet, value *string, name, flag, usage string) {
	s := &secretSetting{env: name, flag: flag, value: value}
	fs.StringVar(value, flag, env(name, ""), usage+" ["+name+"]")
	fs.StringVar(&s.file, flag+"-file", env(name+"_FILE", ""), "file holding the "+flag+", instead of the value itself ["+name+"_FILE]")
	o.secrets = append(o.secrets, s)
}

// resolveSecrets reads the *_FILE settings of cmd into their values, and warns about a
// secret given on the command line.
func (o *Options) resolveSecrets(cmd *cobra.Command) error {
	for _, s := range o.secrets {
		f := cmd.Flags().Lookup(s.flag)
		if f == nil {
			continue // a flag of another command
		}
		if f.Changed {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: --%s shows in the process list to every user of this machine; use %s_FILE or %s instead\n",
				s.flag, s.env, s.env)
		}
		if s.file == "" {
			continue
		}
		if *s.value != "" {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("set %s or %s_FILE (--%s or --%s-file), not both", s.env, s.env, s.flag, s.flag)}
		}
		data, err := os.ReadFile(s.file)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("read %s_FILE: %w", s.env, err)}
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s_FILE %s is empty", s.env, s.file)}
		}
		*s.value = v
	}
	return nil
}

func (o *Options) badEnv(name string, err error) {
	if o.envErrs == nil {
		o.envErrs = map[string]error{}
	}
	o.envErrs[name] = err
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string) int {
	return run(context.Background(), args, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil && exit.Err.Error() != "" {
			fmt.Fprintln(stderr, "error:", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintln(stderr, "error:", err)
	if strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "flag") ||
		strings.Contains(err.Error(), "arg(s)") {
		return ExitUsage
	}
	return ExitFailure
}

// NewRootCommand builds the hookflow command tree.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	opts := &Options{}
	root := &cobra.Command{
		Use:           "hookflow",
		Short:         "Hookflow: webhooks, schedules and polls into workflows that call your services",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if len(opts.envErrs) > 0 {
			errs := make([]error, 0, len(opts.envErrs))
			for _, name := range slices.Sorted(maps.Keys(opts.envErrs)) {
				errs = append(errs, opts.envErrs[name])
			}
			return &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
		}
		if err := opts.checkDB(); err != nil {
			return err
		}
		return opts.resolveSecrets(cmd)
	}
	f := root.PersistentFlags()
	f.StringVar(&opts.DataDir, "data-dir", env("HOOKFLOW_DATA_DIR", engine.DataDirDefault), "data directory: SQLite database, generated secret key, and the connector files in its connectors folder [HOOKFLOW_DATA_DIR]")
	opts.addSecret(f, &opts.DatabaseURL, "HOOKFLOW_DATABASE_URL", "database-url", "postgres://... URL, or a SQLite file path; default SQLite in the data dir")
	opts.addOpsFlags(f)
	opts.addSecret(f, &opts.SecretKey, "HOOKFLOW_SECRET_KEY", "secret-key", "key encrypting connection secrets, 64 hex digits or base64 of 32 bytes; default a key file generated in the data dir")
	f.StringVar(&opts.LogFormat, "log-format", env("HOOKFLOW_LOG_FORMAT", "text"), "log format: text or json [HOOKFLOW_LOG_FORMAT]")
	f.StringVar(&opts.LogLevel, "log-level", env("HOOKFLOW_LOG_LEVEL", "info"), "log level: debug, info, warn or error [HOOKFLOW_LOG_LEVEL]")
	root.AddCommand(
		newServeCommand(opts),
		newWorkerCommand(opts),
		newMigrateCommand(opts),
		newValidateCommand(),
		newUserCommand(opts),
		newTokenCommand(opts),
		newBenchCommand(opts),
		newSoakCommand(opts),
		newConnectorCommand(),
		newBackupCommand(opts),
		newRestoreCommand(opts),
		newExportCommand(opts),
	)
	return root
}

// env returns the environment variable name, or def when it is not set.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func (o *Options) envInt(name string, def int) int {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		o.badEnv(name, fmt.Errorf("%s=%q is not a whole number", name, v))
		return def
	}
	return n
}

func (o *Options) envDuration(name string, def time.Duration) time.Duration {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		o.badEnv(name, fmt.Errorf("%s=%q is not a duration such as 30s or 2m", name, v))
		return def
	}
	return d
}

// envAge reads a duration that may be written in days ("30d").
func (o *Options) envAge(name string, def time.Duration) time.Duration {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	d, err := workflow.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		o.badEnv(name, fmt.Errorf("%s=%q is not a duration such as 30d or 12h", name, v))
		return def
	}
	return d
}

// ageValue is a flag holding a duration that may be written in days.
type ageValue struct{ d *time.Duration }

func (a ageValue) String() string {
	if a.d == nil {
		return ""
	}
	if *a.d > 0 && *a.d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", *a.d/(24*time.Hour))
	}
	return a.d.String()
}

func (a ageValue) Set(s string) error {
	d, err := workflow.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration such as 30d or 12h", s)
	}
	*a.d = d
	return nil
}

func (ageValue) Type() string { return "duration" }

// addWorkerFlags adds the flags of processes that run workers.
func (o *Options) addWorkerFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&o.Lease, "lease", o.envDuration("HOOKFLOW_LEASE", engine.LeaseDefault),
		"how long a claimed run stays with a silent worker before another takes it over; live workers renew it [HOOKFLOW_LEASE]")
	f.StringVar(&o.OutboundPrivate, "outbound-private", env("HOOKFLOW_OUTBOUND_PRIVATE", engine.OutboundPrivateDefault),
		"whether workflows may call private and loopback addresses: allow or deny; link-local, cloud metadata and this server's own addresses are always refused [HOOKFLOW_OUTBOUND_PRIVATE]")
	f.StringVar(&o.OutboundAllow, "outbound-allow", env("HOOKFLOW_OUTBOUND_ALLOW", ""),
		"comma-separated CIDRs and host names (*.example.com) workflows may call whatever the private rule and the deny list say [HOOKFLOW_OUTBOUND_ALLOW]")
	f.StringVar(&o.OutboundDeny, "outbound-deny", env("HOOKFLOW_OUTBOUND_DENY", ""),
		"comma-separated CIDRs and host names workflows may not call unless the allow list has them [HOOKFLOW_OUTBOUND_DENY]")
	f.DurationVar(&o.ConnectorsReload, "connectors-reload", o.envDuration("HOOKFLOW_CONNECTORS_RELOAD", engine.ConnectorsReloadDefault),
		"how often the connector files of DATA_DIR/connectors and the uploaded ones are looked at again; 0: only at start and after an upload through this process [HOOKFLOW_CONNECTORS_RELOAD]")
	f.DurationVar(&o.BackupInterval, "backup-interval", o.envDuration("HOOKFLOW_BACKUP_INTERVAL", 0),
		"how often a backup of the SQLite database is written into DATA_DIR/backups; 0: never; PostgreSQL refuses it (docs/backup.md) [HOOKFLOW_BACKUP_INTERVAL]")
	f.IntVar(&o.BackupKeep, "backup-keep", o.envInt("HOOKFLOW_BACKUP_KEEP", engine.BackupKeepDefault),
		"how many scheduled backups are kept; older ones are deleted [HOOKFLOW_BACKUP_KEEP]")
	o.addLimitFlags(cmd)
	o.RetentionMaxAge = o.envAge("HOOKFLOW_RETENTION_MAX_AGE", engine.RetentionMaxAgeDefault)
	cmd.Flags().Var(ageValue{&o.RetentionMaxAge}, "retention-max-age",
		"finished runs, their steps and events are deleted this long after they ended, unless a workflow sets retention.max_age; 0 keeps them whatever their age [HOOKFLOW_RETENTION_MAX_AGE]")
	cmd.Flags().IntVar(&o.RetentionMaxRuns, "retention-max-runs", o.envInt("HOOKFLOW_RETENTION_MAX_RUNS", engine.RetentionMaxRunsDefault),
		"finished runs beyond each workflow's newest N are deleted, unless a workflow sets retention.max_runs; 0 keeps them whatever their number [HOOKFLOW_RETENTION_MAX_RUNS]")
}

func (o *Options) logger(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("invalid log level %q: use debug, info, warn or error", o.LogLevel)}
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch o.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, hopts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(stderr, hopts)), nil
	}
	return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("invalid log format %q: use text or json", o.LogFormat)}
}

func (o *Options) engineConfig(log *slog.Logger) engine.Config {
	c := engine.Config{
		DataDir:     o.DataDir,
		DatabaseURL: o.DatabaseURL,
		SecretKey:   o.SecretKey,
		Workers:     o.Workers,
		Lease:       o.Lease,
		Logger:      log,

		OutboundPrivate:       o.OutboundPrivate,
		OutboundAllow:         httpclient.ParseList(o.OutboundAllow),
		OutboundDeny:          httpclient.ParseList(o.OutboundDeny),
		StepDataLimit:         int64(o.Limits.StepData),
		RunDataLimit:          int64(o.Limits.RunData),
		ForEachItemsLimit:     o.Limits.ForEachItems,
		ExpressionMemoryLimit: int64(o.Limits.ExpressionMemory),
		// The engine reads zero as "default"; on the command line it means "no bound".
		RetentionMaxAge:  noBound(o.RetentionMaxAge),
		RetentionMaxRuns: noBound(o.RetentionMaxRuns),

		ConnectorsReload: noBound(o.ConnectorsReload),

		BackupInterval: o.BackupInterval,
		BackupKeep:     o.BackupKeep,

		SessionIdleTimeout: o.SessionIdleTimeout,
		SessionMaxAge:      o.SessionMaxAge,
	}
	o.setDB(&c)
	return c
}

// noBound maps a setting of zero, "no bound" on the command line, to the engine's -1.
func noBound[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// openEngine opens the engine for a command.
func (o *Options) openEngine(cmd *cobra.Command) (*engine.Engine, *slog.Logger, error) {
	log, err := o.logger(cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	cfg := o.engineConfig(log)
	tcfg, traced, err := trace.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	if traced {
		tcfg.Logger = log
		cfg.Tracer = trace.New(tcfg) // the engine's Close flushes it
	}
	eng, err := engine.Open(cmd.Context(), cfg)
	if err != nil {
		_ = cfg.Tracer.Shutdown(context.Background())
		return nil, nil, err
	}
	return eng, log, nil
}

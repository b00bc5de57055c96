// Package bench is Hookflow's load tool, behind `hookflow bench`: it starts (or
// targets) a server, creates the workflow "webhook → filter amount > 100 → http.request
// POST to a local sink", fires events at it over loopback and measures ingest rate,
// delivery rate, latencies, losses, duplicates and the server's memory, CPU and start
// time. The same load is first sent to baselines (a bare net/http 202 handler and a
// synchronous Go forwarder) so the figures read as ratios to what the machine can do.
//
// Every loop is bounded in count and time, and all traffic stays on loopback.
//
// The package is not named loadtest: the import rules (imports_test.go) take a package
// whose name ends in "test" for test support, which the CLI may not import.
package benchmark

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Modes of a run.
const (
	// ModeIngest starts the server with --workers 0 and measures only the webhook
	// ingest: every 202 is sent after the event and its run are committed.
	ModeIngest = "ingest"
	// ModeE2E starts the server with workers and measures delivery to the sink too.
	ModeE2E = "e2e"
)

// Defaults of Config's zero fields.
const (
	// EventsDefault is the number of webhooks sent.
	EventsDefault = 20000
	// ConcurrencyDefault is the number of concurrent senders.
	ConcurrencyDefault = 64
	// TimeoutDefault bounds a whole run.
	TimeoutDefault = 5 * time.Minute
	// DrainTimeoutDefault bounds the wait for deliveries after the last send.
	DrainTimeoutDefault = 60 * time.Second
	// FilteredE2EDefault is the fraction of events filtered out in e2e mode.
	FilteredE2EDefault = 0.5
)

// Limits that keep a run bounded whatever the caller asks for.
const (
	// EventsMax caps Config.Events.
	EventsMax = 10_000_000
	// ConcurrencyMax caps Config.Concurrency.
	ConcurrencyMax = 4096
)

// Config describes one run. DefaultConfig returns the defaults; Run fills zero numeric
// fields with them too.
type Config struct {
	// Binary is the hookflow executable started as the server; default os.Executable().
	Binary string `json:"binary,omitempty"`
	// DatabaseURL is empty for SQLite in a fresh temporary data dir, or a postgres://
	// URL used as is: the caller provides an empty database or schema.
	DatabaseURL string `json:"-"`
	// Mode is ModeIngest (default) or ModeE2E.
	Mode string `json:"mode"`
	// Events is the number of webhooks sent; default EventsDefault.
	Events int `json:"events"`
	// Concurrency is the number of concurrent senders; default ConcurrencyDefault.
	Concurrency int `json:"concurrency"`
	// Rate is the offered rate in webhooks per second; 0 sends as fast as possible.
	Rate float64 `json:"rate"`
	// Filtered is the fraction of events with amount ≤ 100, which the workflow's filter
	// drops. Zero means the mode's default (FilteredE2EDefault in e2e, none in ingest);
	// a negative value means none.
	Filtered float64 `json:"filtered"`
	// Workers is the server's --workers in e2e mode; 0 keeps the server's default.
	Workers int `json:"workers"`
	// Timeout bounds the whole run; default TimeoutDefault.
	Timeout time.Duration `json:"timeout"`
	// DrainTimeout bounds the wait for deliveries after the last send; default
	// DrainTimeoutDefault.
	DrainTimeout time.Duration `json:"drain_timeout"`
	// Baselines measures the bare 202 handler (and in e2e the synchronous forwarder)
	// before the server. DefaultConfig sets it.
	Baselines bool `json:"baselines"`
	// Target is the base URL of an already running server on loopback; no process is
	// started and the memory, CPU and start figures are left out. Token is then
	// required.
	Target string `json:"target,omitempty"`
	// Token is an API token of the Target server.
	Token string `json:"-"`

	// The suite's runs share one PostgreSQL database: the same secret key (the server
	// refuses a database sealed with another), a workflow name of their own and the
	// workflow deleted at the end, so a later run's workers never see an earlier run's.
	secretKey      string
	workflowName   string
	deleteWorkflow bool
}

// DefaultConfig returns the defaults of an ingest run on SQLite, baselines included.
func DefaultConfig() Config {
	return Config{
		Mode:         ModeIngest,
		Events:       EventsDefault,
		Concurrency:  ConcurrencyDefault,
		Timeout:      TimeoutDefault,
		DrainTimeout: DrainTimeoutDefault,
		Baselines:    true,
	}
}

// Validate checks the configuration as Run would, without running anything.
func (c Config) Validate() error {
	_, err := c.normalize()
	return err
}

// normalize fills defaults and checks the values.
func (c Config) normalize() (Config, error) {
	if c.Mode == "" {
		c.Mode = ModeIngest
	}
	if c.Mode != ModeIngest && c.Mode != ModeE2E {
		return c, fmt.Errorf("unknown mode %q: use %s or %s", c.Mode, ModeIngest, ModeE2E)
	}
	if c.Events == 0 {
		c.Events = EventsDefault
	}
	if c.Events < 1 || c.Events > EventsMax {
		return c, fmt.Errorf("events must be between 1 and %d, got %d", EventsMax, c.Events)
	}
	if c.Concurrency == 0 {
		c.Concurrency = ConcurrencyDefault
	}
	if c.Concurrency < 1 || c.Concurrency > ConcurrencyMax {
		return c, fmt.Errorf("concurrency must be between 1 and %d, got %d", ConcurrencyMax, c.Concurrency)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return c, fmt.Errorf("rate must be 0 (as fast as possible) or a positive number, got %g", c.Rate)
	}
	switch {
	case math.IsNaN(c.Filtered) || c.Filtered > 1:
		return c, fmt.Errorf("filtered must be a fraction between 0 and 1, got %g", c.Filtered)
	case c.Filtered < 0:
		c.Filtered = 0
	case c.Filtered == 0 && c.Mode == ModeE2E:
		c.Filtered = FilteredE2EDefault
	}
	if c.Workers < 0 {
		return c, fmt.Errorf("workers must be 0 (server default) or more, got %d", c.Workers)
	}
	if c.Timeout == 0 {
		c.Timeout = TimeoutDefault
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DrainTimeoutDefault
	}
	if c.Timeout < 0 || c.DrainTimeout < 0 {
		return c, errors.New("timeout and drain timeout must be positive")
	}
	if c.Target != "" {
		if c.Token == "" {
			return c, errors.New("a target server needs an API token")
		}
		if c.DatabaseURL != "" {
			return c, errors.New("a database URL applies only to a server the bench starts, not to a target")
		}
		u, err := LoopbackURL(c.Target)
		if err != nil {
			return c, err
		}
		c.Target = u
		return c, nil
	}
	bin, err := ServerSettings(c.DatabaseURL, c.Binary)
	if err != nil {
		return c, err
	}
	c.Binary = bin
	return c, nil
}

// ServerSettings checks the settings of a server child process, for the bench and the
// soak: databaseURL is empty (SQLite in a temporary data dir) or postgres://; binary
// defaults to this executable, which it returns.
func ServerSettings(databaseURL, binary string) (string, error) {
	if databaseURL != "" && !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return "", errors.New("database URL must be postgres://...; leave it empty for SQLite in a temporary data dir")
	}
	if binary != "" {
		return binary, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the hookflow binary: %w", err)
	}
	return exe, nil
}

// LoopbackURL checks that raw is an http URL on a loopback address and returns it
// without a trailing slash: the bench and the soak send traffic nowhere else.
func LoopbackURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return "", fmt.Errorf("parse target %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("target %q must be an http:// base URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return "", fmt.Errorf("target %q is not on loopback: traffic goes only to 127.0.0.0/8, ::1 or localhost", raw)
	}
	return u.String(), nil
}

// filtered reports whether event i carries amount ≤ 100. Filtered events are spread
// evenly: event i is filtered when the running count floor((i+1)·f) steps up at i.
func filtered(i int, fraction float64) bool {
	if fraction <= 0 {
		return false
	}
	return math.Floor(float64(i+1)*fraction) > math.Floor(float64(i)*fraction)
}

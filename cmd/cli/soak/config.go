// Package soak is Hookflow's soak tool, behind `hookflow soak`: it starts (or targets)
// a server, creates a few workflows (a filtered webhook delivering to a local sink, a
// webhook whose sink answers 500 or slowly so retries happen, a two-step webhook and a
// schedule), keeps a steady mixed load of webhooks and API reads on it for a duration,
// samples the server's RSS, goroutines, open files, queue depth and the latencies every
// interval, and judges whether they stay flat. docs/soak.md describes the rules.
//
// Every loop is bounded by the duration and timeouts, and all traffic stays on loopback.
package soak

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hookflow/hookflow/cmd/cli/benchmark"
)

// Defaults of Config's zero fields.
const (
	DurationDefault     = time.Hour
	RateDefault         = 50.0
	ReadRateDefault     = 2.0
	ConcurrencyDefault  = 32
	DrainTimeoutDefault = 60 * time.Second
	FailShareDefault    = 0.10
	SlowShareDefault    = 0.05
	SlowDefault         = 300 * time.Millisecond
	// IntervalMax is the sampling interval of long runs; shorter runs sample so that
	// they get about windowsTarget windows, but at least every IntervalMin.
	IntervalMax = 10 * time.Second
	IntervalMin = time.Second
	// WarmupMax caps the automatic warm-up of 10 % of the duration.
	WarmupMax = 5 * time.Minute
	// TickEvery is the schedule workflow's period.
	TickEvery = 10 * time.Second
)

// Limits that keep a run bounded whatever the caller asks.
const (
	DurationMax    = 24 * time.Hour
	RateMax        = 5000.0
	ConcurrencyMax = 1024
	windowsTarget  = 24
	setupBound     = 2 * time.Minute
)

// Config describes one soak run.
type Config struct {
	// Binary is the hookflow executable started as the server; default os.Executable().
	Binary string `json:"-"`
	// DatabaseURL is empty for SQLite in a fresh temporary data dir, or the postgres://
	// URL of an empty database or schema.
	DatabaseURL string `json:"-"`
	// Workers is the server's --workers; 0 keeps its default.
	Workers int `json:"workers"`
	// Duration is how long the load runs.
	Duration time.Duration `json:"duration"`
	// Rate is the webhooks per second offered, spread over the workflows.
	Rate float64 `json:"rate"`
	// ReadRate is the API reads per second (runs list, a run, events, workflows).
	ReadRate float64 `json:"read_rate"`
	// Concurrency is the most webhooks in flight; a send due while all are busy is
	// skipped and counted as an error, since the server no longer holds the rate.
	Concurrency int `json:"concurrency"`
	// Interval is the sampling period; 0 picks one from the duration.
	Interval time.Duration `json:"interval"`
	// Warmup is left out of the verdicts; 0 means 10 % of the duration, at most WarmupMax.
	Warmup time.Duration `json:"warmup"`
	// DrainTimeout bounds the wait for deliveries after the load; undelivered then count
	// as lost.
	DrainTimeout time.Duration `json:"drain_timeout"`
	// FailShare of the flaky workflow's events get a 500 at their first attempt, SlowShare
	// an answer after Slow.
	FailShare float64       `json:"fail_share"`
	SlowShare float64       `json:"slow_share"`
	Slow      time.Duration `json:"slow"`
	// Target is the base URL of a running server on loopback; Token its API token and
	// MetricsToken the bearer token of its /metrics, if it has one.
	Target       string `json:"target,omitempty"`
	Token        string `json:"-"`
	MetricsToken string `json:"-"`
}

// DefaultConfig returns the defaults: one hour at 50 webhooks/s on SQLite.
func DefaultConfig() Config {
	return Config{Duration: DurationDefault, Rate: RateDefault, ReadRate: ReadRateDefault,
		Concurrency: ConcurrencyDefault, DrainTimeout: DrainTimeoutDefault,
		FailShare: FailShareDefault, SlowShare: SlowShareDefault, Slow: SlowDefault}
}

// Validate checks the configuration as Run would.
func (c Config) Validate() error {
	_, err := c.normalize()
	return err
}

func (c Config) normalize() (Config, error) {
	if c.Duration <= 0 || c.Duration > DurationMax {
		return c, fmt.Errorf("duration must be between 1s and %s, got %s", DurationMax, c.Duration)
	}
	if math.IsNaN(c.Rate) || c.Rate <= 0 || c.Rate > RateMax {
		return c, fmt.Errorf("rate must be above 0 and at most %g webhooks/s, got %g", RateMax, c.Rate)
	}
	if math.IsNaN(c.ReadRate) || c.ReadRate < 0 || c.ReadRate > RateMax {
		return c, fmt.Errorf("read rate must be between 0 and %g/s, got %g", RateMax, c.ReadRate)
	}
	if c.Concurrency == 0 {
		c.Concurrency = ConcurrencyDefault
	}
	if c.Concurrency < 1 || c.Concurrency > ConcurrencyMax {
		return c, fmt.Errorf("concurrency must be between 1 and %d, got %d", ConcurrencyMax, c.Concurrency)
	}
	if c.Workers < 0 {
		return c, fmt.Errorf("workers must be 0 (server default) or more, got %d", c.Workers)
	}
	if c.Interval == 0 {
		c.Interval = min(max((c.Duration/windowsTarget).Round(time.Second), IntervalMin), IntervalMax)
	}
	if c.Interval < 100*time.Millisecond || c.Interval > c.Duration {
		return c, fmt.Errorf("interval must be between 100ms and the duration, got %s", c.Interval)
	}
	if c.Warmup == 0 {
		c.Warmup = min(c.Duration/10, WarmupMax)
	}
	if c.Warmup < 0 || c.Warmup >= c.Duration {
		return c, fmt.Errorf("warm-up must be shorter than the duration, got %s", c.Warmup)
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DrainTimeoutDefault
	}
	if c.DrainTimeout < 0 {
		return c, errors.New("drain timeout must be positive")
	}
	for _, s := range []float64{c.FailShare, c.SlowShare} {
		if math.IsNaN(s) || s < 0 || s > 1 {
			return c, fmt.Errorf("fail and slow shares must be fractions between 0 and 1, got %g", s)
		}
	}
	if c.Slow < 0 || c.Slow > 10*time.Second {
		return c, fmt.Errorf("slow must be between 0 and 10s (below the step's timeout), got %s", c.Slow)
	}
	if c.Target != "" {
		if c.Token == "" {
			return c, errors.New("a target server needs an API token (--token)")
		}
		if c.DatabaseURL != "" {
			return c, errors.New("a database URL applies only to a server the soak starts, not to a target")
		}
		u, err := benchmark.LoopbackURL(c.Target)
		if err != nil {
			return c, err
		}
		c.Target = u
		return c, nil
	}
	if c.Token != "" || c.MetricsToken != "" {
		return c, errors.New("--token and --metrics-token apply only with --target")
	}
	bin, err := benchmark.ServerSettings(c.DatabaseURL, c.Binary)
	if err != nil {
		return c, err
	}
	c.Binary = bin
	return c, nil
}

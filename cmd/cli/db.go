package cli

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/hookflow/hookflow/engine"
)

// dbOptions are the database pool settings and the other operations settings of every
// command that opens the engine.
type dbOptions struct {
	DirectURL       string
	MaxConns        int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	MetricsToken    string
}

// addOpsFlags adds the pool, direct-URL and metrics-token flags.
func (o *Options) addOpsFlags(f *pflag.FlagSet) {
	d := &o.DB
	o.addSecret(f, &d.DirectURL, "HOOKFLOW_DATABASE_DIRECT_URL", "database-direct-url",
		"postgres:// URL reaching the server itself when the database url goes through PgBouncer in transaction mode: used for LISTEN and the migration lock; default the database url")
	f.IntVar(&d.MaxConns, "db-max-conns", o.envInt("HOOKFLOW_DB_MAX_CONNS", 0),
		fmt.Sprintf("PostgreSQL connections this process opens at most, besides one LISTEN connection; 0: 10 + workers/2, at most %d [HOOKFLOW_DB_MAX_CONNS]", engine.DBMaxConnsCap))
	f.IntVar(&d.MaxIdleConns, "db-max-idle-conns", o.envInt("HOOKFLOW_DB_MAX_IDLE_CONNS", 0),
		"PostgreSQL connections kept open while idle; 0: as many as --db-max-conns [HOOKFLOW_DB_MAX_IDLE_CONNS]")
	f.DurationVar(&d.ConnMaxLifetime, "db-conn-max-lifetime", o.envDuration("HOOKFLOW_DB_CONN_MAX_LIFETIME", 0),
		"a PostgreSQL connection is closed and replaced this long after it opened; 0: never [HOOKFLOW_DB_CONN_MAX_LIFETIME]")
	f.DurationVar(&d.ConnMaxIdleTime, "db-conn-max-idle-time", o.envDuration("HOOKFLOW_DB_CONN_MAX_IDLE_TIME", engine.DBConnMaxIdleTimeDefault),
		"an idle PostgreSQL connection is closed after this long; 0: never [HOOKFLOW_DB_CONN_MAX_IDLE_TIME]")
	o.addSecret(f, &d.MetricsToken, "HOOKFLOW_METRICS_TOKEN", "metrics-token",
		"bearer token /metrics requires (Authorization: Bearer <token>); default none, /metrics open")
}

// checkDB refuses pool settings out of range, before anything opens.
func (o *Options) checkDB() error {
	d := o.DB
	switch {
	case d.MaxConns != 0 && d.MaxConns < engine.DBMaxConnsMin:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--db-max-conns (HOOKFLOW_DB_MAX_CONNS) must be 0 (sized to the workers) or at least %d, got %d", engine.DBMaxConnsMin, d.MaxConns)}
	case d.MaxIdleConns < 0:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--db-max-idle-conns (HOOKFLOW_DB_MAX_IDLE_CONNS) must be 0 or more, got %d", d.MaxIdleConns)}
	case d.MaxConns != 0 && d.MaxIdleConns > d.MaxConns:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--db-max-idle-conns (%d) must not exceed --db-max-conns (%d)", d.MaxIdleConns, d.MaxConns)}
	case d.ConnMaxLifetime < 0:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--db-conn-max-lifetime (HOOKFLOW_DB_CONN_MAX_LIFETIME) must be 0 or more, got %s", d.ConnMaxLifetime)}
	case d.ConnMaxIdleTime < 0:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--db-conn-max-idle-time (HOOKFLOW_DB_CONN_MAX_IDLE_TIME) must be 0 or more, got %s", d.ConnMaxIdleTime)}
	}
	return nil
}

// setDB copies the settings into the engine's config; the command line's 0 for the idle
// time means no limit, the engine's negative.
func (o *Options) setDB(c *engine.Config) {
	d := o.DB
	c.DatabaseDirectURL = d.DirectURL
	c.DBMaxConns = d.MaxConns
	c.DBMaxIdleConns = d.MaxIdleConns
	c.DBConnMaxLifetime = d.ConnMaxLifetime
	c.DBConnMaxIdleTime = noBound(d.ConnMaxIdleTime)
	c.MetricsToken = d.MetricsToken
}

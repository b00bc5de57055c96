package engine

import (
	"fmt"

	"github.com/hookflow/hookflow/engine/store"
)

// Bounds and defaults of the pool settings, for the CLI's help and checks.
const (
	DBMaxConnsMin            = store.PoolMaxConnsMin
	DBMaxConnsCap            = store.PoolMaxConnsDefault
	DBConnMaxIdleTimeDefault = store.PoolConnMaxIdleTimeDefault
)

// DBMaxConnsFor is the default PostgreSQL pool of a process with the given workers
// (negative: none). Ten connections cover what runs whatever the workers: the group
// committers of webhooks and of run outcomes (4 each at their busiest), the heartbeat,
// the claim, the scheduler and API reads. Workers add their step checkpoints, each a
// short transaction; measured runs spend most of their time outside the database, so one
// connection per two workers keeps them from queueing. 20 caps it: past that, PostgreSQL
// on a small server gains nothing and other processes lose their share of
// max_connections.
func DBMaxConnsFor(workers int) int {
	return min(10+max(workers, 0)/2, store.PoolMaxConnsDefault)
}

// validateDB checks the connection pool settings.
func (c Config) validateDB() error {
	if c.DBMaxConns < store.PoolMaxConnsMin {
		return fmt.Errorf("database max connections must be at least %d, got %d", store.PoolMaxConnsMin, c.DBMaxConns)
	}
	if c.DBMaxIdleConns > c.DBMaxConns {
		return fmt.Errorf("database max idle connections (%d) must not exceed max connections (%d)", c.DBMaxIdleConns, c.DBMaxConns)
	}
	if c.DBConnMaxLifetime < 0 {
		return fmt.Errorf("database connection max lifetime must be 0 (none) or more, got %s", c.DBConnMaxLifetime)
	}
	return nil
}

// storeConfig is what the store needs of the config.
func (c Config) storeConfig() store.Config {
	return store.Config{
		URL: c.DatabaseURL, DirectURL: c.DatabaseDirectURL, DataDir: c.DataDir, Logger: c.Logger,
		Pool: store.Pool{
			MaxConns: c.DBMaxConns, MaxIdleConns: c.DBMaxIdleConns,
			ConnMaxLifetime: c.DBConnMaxLifetime, ConnMaxIdleTime: c.DBConnMaxIdleTime,
		},
	}
}

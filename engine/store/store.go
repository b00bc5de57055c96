// Package store keeps Hookflow's state in SQLite or PostgreSQL through gorm. It is the
// only package that talks to the database: the engine calls its repository methods.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the direct connection

	"github.com/hookflow/hookflow/migrations"
)

// Dialect names a supported database.
type Dialect string

// The supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// postgresCommitters is how many group commits (rounds of the writer, each taking every
// kind) a process runs at once on PostgreSQL.
const postgresCommitters = 4

// SQLiteFileName is the database file created in the data directory by default.
const SQLiteFileName = "hookflow.db"

// SQLiteBusyTimeoutDefault is how long a SQLite connection waits for a lock before it
// reports "database is locked". Without it, concurrent writers fail by the thousand.
const SQLiteBusyTimeoutDefault = 5 * time.Second

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique key is already taken.
var ErrConflict = errors.New("already exists")

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL, or a SQLite file path (optionally prefixed "sqlite://" or
	// "file:"). Empty means the SQLite file SQLiteFileName in DataDir.
	URL string
	// DataDir holds the default SQLite file.
	DataDir string
	// Logger receives slow-query and error logs. Nil discards them.
	Logger *slog.Logger
	// Pool bounds the PostgreSQL connection pool. SQLite ignores it: it keeps one writer
	// connection and sqliteReaders readers, which no setting would improve.
	Pool Pool
	// DirectURL is a PostgreSQL URL reaching the server itself when URL goes through a
	// transaction pooler (PgBouncer): the LISTEN session and the migration lock need a
	// session of their own. Empty means URL.
	DirectURL string
}

// Pool bounds a process's PostgreSQL connections. Zero values mean the defaults.
type Pool struct {
	// MaxConns is the most connections open at once, besides the LISTEN one. Default
	// PoolMaxConnsDefault.
	MaxConns int
	// MaxIdleConns is the most connections kept open while idle; negative keeps none.
	// Default MaxConns.
	MaxIdleConns int
	// ConnMaxLifetime closes a connection this long after it opened; default never.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes a connection idle this long; negative never. Default
	// PoolConnMaxIdleTimeDefault.
	ConnMaxIdleTime time.Duration
}

// Defaults of Pool.
const (
	PoolMaxConnsDefault        = 20
	PoolConnMaxIdleTimeDefault = 5 * time.Minute
)

// PoolMaxConnsMin is the smallest pool allowed. No code path holds one connection while
// it waits for another, but with a single connection the heartbeat that keeps leases
// alive would queue behind every claim and checkpoint.
const PoolMaxConnsMin = 2

// sqliteReaders is the size of SQLite's read pool.
const sqliteReaders = 8

// ApplicationName is set on PostgreSQL connections whose URL names none, so
// pg_stat_activity tells Hookflow's connections apart.
const ApplicationName = "hookflow"

// apply sets the pool's bounds on db.
func (p Pool) apply(db *sql.DB) {
	maxConns := p.MaxConns
	if maxConns <= 0 {
		maxConns = PoolMaxConnsDefault
	}
	idle := p.MaxIdleConns
	switch {
	case idle == 0 || idle > maxConns:
		idle = maxConns
	case idle < 0:
		idle = 0
	}
	idleTime := p.ConnMaxIdleTime
	switch {
	case idleTime == 0:
		idleTime = PoolConnMaxIdleTimeDefault
	case idleTime < 0:
		idleTime = 0 // database/sql: no limit
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(idle)
	db.SetConnMaxIdleTime(idleTime)
	db.SetConnMaxLifetime(max(p.ConnMaxLifetime, 0))
}

// withApplicationName adds application_name=hookflow to a postgres URL that sets none.
func withApplicationName(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse database url %s: %w", redactURL(dsn), err)
	}
	q := u.Query()
	if q.Get("application_name") != "" {
		return dsn, nil
	}
	q.Set("application_name", ApplicationName)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Store is an open database.
type Store struct {
	dialect Dialect
	// db takes writes; on SQLite it is one connection so writers queue in Go instead of
	// spinning on the file lock.
	db *gorm.DB
	// rdb takes reads; on SQLite a separate pool so reads never wait behind the writer.
	rdb    *gorm.DB
	closer []*sql.DB
	log    *slog.Logger
	// direct is the PostgreSQL URL of sessions that a transaction pooler would break:
	// LISTEN and the migration lock.
	direct    string
	directSet bool // direct came from Config.DirectURL
	// takeovers holds, in unix nanoseconds, when claims next look for expired leases.
	takeovers atomic.Int64
	// capped caches whether any workflow has a concurrency cap.
	capped *flagCache
	// Group committers: webhooks, step checkpoints and run outcomes each share transactions.
	ingests     *committer[ingestItem]
	finishes    *committer[finishItem]
	checkpoints *committer[*checkpointItem]
	// writer commits the three committers' batches in shared transactions: on SQLite one
	// at a time, on PostgreSQL as pipelines, several at once.
	writer *writer
}

// Open connects to the database described by cfg. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
	}
	s := &Store{log: log, capped: &flagCache{}}
	dsn := cfg.URL
	switch {
	case isPostgresURL(dsn):
		s.dialect = Postgres
		var err error
		if dsn, err = withApplicationName(dsn); err != nil {
			return nil, err
		}
		s.direct = dsn
		if cfg.DirectURL != "" {
			if !isPostgresURL(cfg.DirectURL) {
				return nil, fmt.Errorf("direct database url %s is not a postgres:// url", redactURL(cfg.DirectURL))
			}
			if s.direct, err = withApplicationName(cfg.DirectURL); err != nil {
				return nil, err
			}
			s.directSet = true
		}
		db, err := gorm.Open(postgres.Open(dsn), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		cfg.Pool.apply(sqlDB)
		s.db, s.rdb, s.closer = db, db, []*sql.DB{sqlDB}
	default:
		s.dialect = SQLite
		path, err := sqlitePath(dsn, cfg.DataDir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create directory for %s: %w", path, err)
		}
		if err := privateFiles(path); err != nil {
			return nil, err
		}
		w, wsql, err := openSQLite(path, gcfg, 1, "_txlock=immediate")
		if err != nil {
			return nil, err
		}
		r, rsql, err := openSQLite(path, gcfg, sqliteReaders, "_txlock=deferred")
		if err != nil {
			wsql.Close()
			return nil, err
		}
		s.db, s.rdb, s.closer = w, r, []*sql.DB{wsql, rsql}
	}
	// The committers commit through the writer's rounds (joined below); write is their
	// batch's own transaction when a round's fails.
	s.ingests = newCommitter(s.writeIngests)
	s.finishes = newCommitter(s.writeFinishes)
	s.checkpoints = newCommitter(s.writeCheckpoints)
	if s.dialect == SQLite {
		s.writer = newWriter(s.closer[0])
		join(s.writer, s.ingests, s.writeIngestsTx)
		join(s.writer, s.finishes, s.writeFinishesTx)
		join(s.writer, s.checkpoints, s.writeCheckpointsTx)
	} else {
		// One pipeline per round for all three, postgresCommitters rounds at once.
		// Outcomes that start a failure alert keep their own transaction (writeFinishesTx),
		// after the round's.
		s.writer = newPipelineWriter(s, postgresCommitters)
		joinPipeline(s.writer, s.ingests, s.ingestsPG, nil)
		joinPipeline(s.writer, s.finishes, finishesPG, func(it finishItem) bool { return it.Alert != nil })
		joinPipeline(s.writer, s.checkpoints, checkpointsPG, nil)
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// privateFiles makes the database file, and its WAL and shared-memory files where they
// exist, readable by the owner only: they hold every event, run and sealed secret. SQLite
// creates the WAL and shared-memory files with the database file's mode, so creating the
// database file first with 0600 covers new installs; existing files are tightened.
func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Stats reports the connection pool of writes (on PostgreSQL, the only pool).
func (s *Store) Stats() sql.DBStats { return s.closer[0].Stats() }

func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database file %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restrict database file %s to its owner: %w", p, err)
		}
	}
	return nil
}

func sqlitePath(dsn, dataDir string) (string, error) {
	switch {
	case dsn == "":
		if dataDir == "" {
			dataDir = "."
		}
		return filepath.Join(dataDir, SQLiteFileName), nil
	case strings.HasPrefix(dsn, "sqlite://"):
		return strings.TrimPrefix(dsn, "sqlite://"), nil
	case strings.HasPrefix(dsn, "file:"):
		return strings.TrimPrefix(dsn, "file:"), nil
	case strings.Contains(dsn, "://"):
		return "", fmt.Errorf("unsupported database url %q: use postgres://... or a sqlite file path", redactURL(dsn))
	}
	return dsn, nil
}

func openSQLite(path string, gcfg *gorm.Config, conns int, txlock string) (*gorm.DB, *sql.DB, error) {
	// synchronous=FULL: a webhook answered 2xx must survive a power cut, not only a crash.
	dsn := "file:" + path + "?" + strings.Join([]string{
		"_pragma=journal_mode(WAL)",
		fmt.Sprintf("_pragma=busy_timeout(%d)", SQLiteBusyTimeoutDefault.Milliseconds()),
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		// Statement journals in memory: a multi-row INSERT of a group commit journals
		// every page it changes, and past 64 KiB SQLite spilled that to a temporary file
		// created and deleted per statement (open, write, close: 3 % of server CPU).
		"_pragma=temp_store(MEMORY)",
		// The text glebarez/go-sqlite wrote, which existing databases hold and compare;
		// the driver's default is time.Time.String. Times read back are in UTC, as written.
		"_time_format=sqlite",
		"_timezone=UTC",
		txlock,
	}, "&")
	sqlDB, err := sql.Open(sqliteDriverName, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db, err := gorm.Open(liteDialect{conn: sqlDB}, gcfg)
	if err != nil {
		_ = sqlDB.Close()
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxLifetime(0)
	return db, sqlDB, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// Dialect says which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range s.closer {
		if err := db.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s: %w", s.dialect, err)
		}
	}
	return nil
}

// Close commits what the group committer holds, then closes every connection.
func (s *Store) Close() error {
	s.writer.close()
	var errs []error
	for _, db := range s.closer {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// Migrate applies every pending migration of the store's dialect.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.checkSchema(ctx); err != nil {
		return err
	}
	p, done, err := s.migrationProvider()
	if err != nil {
		return err
	}
	defer done()
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.dialect, err)
	}
	for _, r := range results {
		s.log.Info("Applied migration", slog.Int64("version", r.Source.Version), slog.String("file", r.Source.Path), slog.Duration("took", r.Duration))
	}
	return nil
}

// MigrationStatus returns the newest applied version and the newest available one.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	if err := s.checkSchema(ctx); err != nil {
		return 0, 0, err
	}
	p, done, err := s.migrationProvider()
	if err != nil {
		return 0, 0, err
	}
	defer done()
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read migration versions: %w", err)
	}
	return current, latest, nil
}

// migrationProvider returns goose's provider and a function to call when done with it.
func (s *Store) migrationProvider() (*goose.Provider, func(), error) {
	sub, err := fs.Sub(migrations.FS, string(s.dialect))
	if err != nil {
		return nil, nil, fmt.Errorf("open %s migrations: %w", s.dialect, err)
	}
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	db, done := s.closer[0], func() {}
	if s.dialect == Postgres {
		gd = goose.DialectPostgres
		// Every process migrates at start; an advisory lock makes concurrent starts wait
		// for one another instead of racing on CREATE TABLE.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, nil, fmt.Errorf("create migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
		if s.directSet {
			// The lock is a session's: behind a transaction pooler its unlock could reach
			// another server connection than its lock, so migrations go the direct way.
			direct, err := sql.Open("pgx", s.direct)
			if err != nil {
				return nil, nil, fmt.Errorf("open direct database connection: %w", err)
			}
			direct.SetMaxOpenConns(2)
			db, done = direct, func() { direct.Close() }
		}
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("load %s migrations: %w", s.dialect, err)
	}
	return p, done, nil
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// ColumnNames lists the columns of a table, for schema checks.
func (s *Store) ColumnNames(ctx context.Context, table string) ([]string, error) {
	cols, err := s.db.WithContext(ctx).Migrator().ColumnTypes(table)
	if err != nil {
		return nil, fmt.Errorf("list columns of %s: %w", table, err)
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name()
	}
	return names, nil
}

// DumpTable returns every row of a table as text, for tests that check what is stored
// at rest.
func (s *Store) DumpTable(ctx context.Context, table string) (string, error) {
	var rows []map[string]any
	if err := s.rdb.WithContext(ctx).Table(table).Find(&rows).Error; err != nil {
		return "", fmt.Errorf("dump table %s: %w", table, err)
	}
	return fmt.Sprint(rows), nil
}

// flagCache keeps one value for a second.
type flagCache struct {
	mu      sync.Mutex
	val     bool
	expires time.Time
}

func (c *flagCache) reset() {
	c.mu.Lock()
	c.expires = time.Time{}
	c.mu.Unlock()
}

func (c *flagCache) get(load func() (bool, error)) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().Before(c.expires) {
		return c.val, nil
	}
	v, err := load()
	if err == nil {
		c.val, c.expires = v, time.Now().Add(time.Second)
	}
	return v, err
}

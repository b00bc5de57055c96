// Package engine is Hookflow's service API: workflows, connections, webhook ingestion,
// runs, users and tokens. The web layer and the CLI call it; it owns the store, the run
// queue and the workers. Nothing in it knows about HTTP frameworks.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
	"github.com/hookflow/hookflow/engine/queue"
	"github.com/hookflow/hookflow/engine/runner"
	"github.com/hookflow/hookflow/engine/secrets"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trace"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Defaults of Config.
const (
	DataDirDefault = "./data"
	// LeaseDefault is short so a dead worker's runs are taken over within seconds; live
	// workers renew their leases every third of it.
	LeaseDefault         = 30 * time.Second
	PollIntervalDefault  = queue.PollIntervalDefault
	ShutdownGraceDefault = 30 * time.Second
	// RunMaxDurationDefault is how long a run may take, waits and retries included, when
	// its workflow sets no max_duration.
	RunMaxDurationDefault = 24 * time.Hour
	// SweepIntervalDefault is how often the watchdog fails overdue queued or waiting runs.
	SweepIntervalDefault = 30 * time.Second
	// OutboundPrivateDefault lets connectors call private and loopback addresses:
	// self-hosters call services on their own network.
	OutboundPrivateDefault = OutboundAllow
)

// Values of Config.OutboundPrivate.
const (
	OutboundAllow = "allow"
	OutboundDeny  = "deny"
)

// Defaults of the run limits, which workflows may change in their "limits".
const (
	// StepDataLimitDefault is the largest step input or output a run record stores
	// whole; a larger one is stored cut, with its size.
	StepDataLimitDefault = 1 << 20
	// RunDataLimitDefault bounds what a run stores in its step records and holds in
	// memory for later steps.
	RunDataLimitDefault = 16 << 20
	// ForEachItemsLimitDefault is the longest list a for_each may loop over.
	ForEachItemsLimitDefault = 1000
	// ExpressionMemoryLimitDefault is the memory one evaluation of an expression, or one
	// rendering of a step's inputs, may build.
	ExpressionMemoryLimitDefault = 64 << 20
)

// WorkersDefault is the number of runs executed at once by default. Runs spend most of
// their time waiting on the network or on a commit, and a worker is only a goroutine, so
// it is a generous multiple of the CPU count (measured: 32 workers on 2 cores deliver
// about three times what 8 do).
var WorkersDefault = 16 * runtime.GOMAXPROCS(0)

// Config configures an Engine. The zero value of each field means its default.
type Config struct {
	// DataDir holds the SQLite database and the generated secret key.
	DataDir string
	// DatabaseURL is a postgres:// URL or a SQLite path; empty means SQLite in DataDir.
	DatabaseURL string `secret:"true"`
	// DatabaseDirectURL reaches PostgreSQL itself when DatabaseURL goes through a
	// transaction pooler: the LISTEN session and the migration lock use it.
	DatabaseDirectURL string `secret:"true"`
	// DBMaxConns bounds this process's PostgreSQL pool (the LISTEN session aside); zero
	// means DBMaxConnsFor(Workers). DBMaxIdleConns zero keeps as many idle, negative none;
	// DBConnMaxLifetime zero never retires a connection for its age; DBConnMaxIdleTime
	// zero means store.PoolConnMaxIdleTimeDefault, negative no limit. SQLite ignores them.
	DBMaxConns        int
	DBMaxIdleConns    int
	DBConnMaxLifetime time.Duration
	DBConnMaxIdleTime time.Duration
	// Tracer records and exports OpenTelemetry spans of runs, steps and outbound calls
	// (trace.ConfigFromEnv reads the OTEL_ variables). Nil records nothing. Close flushes
	// it.
	Tracer *trace.Tracer
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string `secret:"true"`
	// SecretKey encrypts connection secrets (64 hex digits or base64 of 32 bytes). Empty
	// means the key file in DataDir, generated on first start.
	SecretKey string `secret:"true"`
	// Workers is the number of runs executed at once by this process. Zero means
	// WorkersDefault; a negative value means none (ingest only).
	Workers int
	// DispatchBacklog is how many runs ingested by this process may be dispatched to it
	// while all its workers are busy, to wait in memory (leased) for the next free one;
	// 0 means as many as Workers, negative none (every such run is queued for a claim).
	DispatchBacklog int
	// Registry holds the connectors compiled in; nil means connectors.Default. The
	// engine works on its own copy, to which it adds the declarative connector files.
	Registry *connectors.Registry
	// ConnectorsDir holds declarative connector files (*.yaml, *.yml, *.json); empty
	// means the folder "connectors" of DataDir.
	ConnectorsDir string
	// ConnectorsReload is how often connector files (the folder's and the uploaded ones)
	// are looked at again; negative: only at Open and after an upload.
	ConnectorsReload time.Duration
	// Lease is how long a claimed run stays with its worker without a checkpoint.
	Lease time.Duration
	// PollInterval bounds the pickup delay of runs enqueued by other processes.
	PollInterval time.Duration
	// ShutdownGrace is how long runs in flight may finish their step on Close.
	ShutdownGrace time.Duration
	// RunMaxDuration is the default of workflows' max_duration.
	RunMaxDuration time.Duration
	// SweepInterval is how often overdue runs are failed.
	SweepInterval time.Duration
	// InspectorKeep is how many recent webhook requests per workflow the inspector keeps
	// besides those that started runs.
	InspectorKeep int
	// OutboundPrivate says whether connectors may call private, loopback and shared
	// addresses: OutboundAllow (the default) or OutboundDeny. Link-local and cloud
	// metadata addresses and the server's own listeners are refused either way
	// (docs/security.md#outbound-calls).
	OutboundPrivate string
	// OutboundAllow lists CIDRs, IP addresses and host names ("*.corp.example") that
	// connectors may call whatever OutboundPrivate and OutboundDeny say.
	OutboundAllow []string
	// OutboundDeny lists CIDRs, IP addresses and host names that connectors may not call
	// unless OutboundAllow lists them.
	OutboundDeny []string
	// RetentionMaxAge is how long finished runs are kept after they ended, with their
	// steps and events, unless their workflow sets retention.max_age. Negative keeps them
	// whatever their age.
	RetentionMaxAge time.Duration
	// RetentionMaxRuns is how many of each workflow's newest runs are kept, unless the
	// workflow sets retention.max_runs. Negative keeps them whatever their number.
	RetentionMaxRuns int
	// RetentionInterval is how often a process with workers tries to prune.
	RetentionInterval time.Duration
	// RetentionBatch is how many runs one prune transaction deletes at most.
	RetentionBatch int
	// BackupInterval is how often a process with workers writes a backup of its SQLite
	// database into BackupDir; zero or negative: never. PostgreSQL refuses it.
	BackupInterval time.Duration
	// BackupKeep is how many scheduled backups are kept; the oldest go beyond it.
	BackupKeep int
	// BackupDir receives scheduled backups; empty means the folder "backups" of DataDir.
	BackupDir string
	// SessionIdleTimeout ends a UI session unused for this long.
	SessionIdleTimeout time.Duration
	// SessionMaxAge ends a UI session this long after sign-in, however busy.
	SessionMaxAge time.Duration
	Logger        *slog.Logger
	// Now is the clock, for tests. Default time.Now in UTC.
	Now func() time.Time

	// StepDataLimit, RunDataLimit, ForEachItemsLimit and ExpressionMemoryLimit are the
	// defaults of workflows' limits (workflow.Limits): bytes, bytes, items and bytes.
	StepDataLimit         int64
	RunDataLimit          int64
	ForEachItemsLimit     int
	ExpressionMemoryLimit int64
}

// WithDefaults returns the config with zero values replaced by defaults.
func (c Config) WithDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DataDirDefault
	}
	if c.Workers == 0 {
		c.Workers = WorkersDefault
	}
	if c.Registry == nil {
		c.Registry = connectors.Default
	}
	if c.DBMaxConns == 0 {
		c.DBMaxConns = DBMaxConnsFor(c.Workers)
	}
	if c.ConnectorsDir == "" {
		c.ConnectorsDir = filepath.Join(c.DataDir, connectorsDirName)
	}
	if c.ConnectorsReload == 0 {
		c.ConnectorsReload = ConnectorsReloadDefault
	}
	if c.Lease == 0 {
		c.Lease = LeaseDefault
	}
	if c.PollInterval == 0 {
		c.PollInterval = PollIntervalDefault
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = ShutdownGraceDefault
	}
	if c.RunMaxDuration == 0 {
		c.RunMaxDuration = RunMaxDurationDefault
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = SweepIntervalDefault
	}
	if c.InspectorKeep == 0 {
		c.InspectorKeep = InspectorKeepDefault
	}
	if c.OutboundPrivate == "" {
		c.OutboundPrivate = OutboundPrivateDefault
	}
	if c.StepDataLimit == 0 {
		c.StepDataLimit = StepDataLimitDefault
	}
	if c.RunDataLimit == 0 {
		c.RunDataLimit = RunDataLimitDefault
	}
	if c.ForEachItemsLimit == 0 {
		c.ForEachItemsLimit = ForEachItemsLimitDefault
	}
	if c.ExpressionMemoryLimit == 0 {
		c.ExpressionMemoryLimit = ExpressionMemoryLimitDefault
	}
	if c.RetentionMaxAge == 0 {
		c.RetentionMaxAge = RetentionMaxAgeDefault
	}
	if c.RetentionMaxRuns == 0 {
		c.RetentionMaxRuns = RetentionMaxRunsDefault
	}
	if c.RetentionInterval == 0 {
		c.RetentionInterval = RetentionIntervalDefault
	}
	if c.RetentionBatch == 0 {
		c.RetentionBatch = RetentionBatchDefault
	}
	if c.BackupKeep == 0 {
		c.BackupKeep = BackupKeepDefault
	}
	if c.BackupDir == "" {
		c.BackupDir = filepath.Join(c.DataDir, BackupDirName)
	}
	if c.SessionIdleTimeout == 0 {
		c.SessionIdleTimeout = SessionIdleTimeoutDefault
	}
	if c.SessionMaxAge == 0 {
		c.SessionMaxAge = SessionMaxAgeDefault
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = func() time.Time { return time.Now().UTC() }
	}
	return c
}

func (c Config) validate() error {
	if c.Lease < 100*time.Millisecond {
		return fmt.Errorf("lease must be at least 100ms, got %s", c.Lease)
	}
	if c.PollInterval < time.Millisecond {
		return fmt.Errorf("poll interval must be at least 1ms, got %s", c.PollInterval)
	}
	if c.OutboundPrivate != OutboundAllow && c.OutboundPrivate != OutboundDeny {
		return fmt.Errorf("outbound private must be %s or %s, got %q", OutboundAllow, OutboundDeny, c.OutboundPrivate)
	}
	// The defaults obey the bounds of a workflow's own limits.
	if err := workflow.CheckLimits(c.limits()); err != nil {
		return fmt.Errorf("run limits: %w", err)
	}
	if c.RetentionInterval < time.Millisecond {
		return fmt.Errorf("retention interval must be at least 1ms, got %s", c.RetentionInterval)
	}
	if c.SessionIdleTimeout < time.Minute || c.SessionMaxAge < time.Minute {
		return fmt.Errorf("session idle timeout and max age must be at least 1m, got %s and %s", c.SessionIdleTimeout, c.SessionMaxAge)
	}
	if c.ConnectorsReload > 0 && c.ConnectorsReload < 10*time.Millisecond {
		return fmt.Errorf("connectors reload must be at least 10ms (or negative for never), got %s", c.ConnectorsReload)
	}
	if c.BackupKeep < 1 {
		return fmt.Errorf("backup keep must be at least 1, got %d", c.BackupKeep)
	}
	if c.BackupInterval > 0 && store.DialectOf(c.DatabaseURL) != store.SQLite {
		return fmt.Errorf("scheduled backups (HOOKFLOW_BACKUP_INTERVAL) copy SQLite databases only; " +
			"on PostgreSQL leave it unset and use pg_dump with hookflow export (docs/backup.md)")
	}
	if c.RetentionBatch < 1 {
		return fmt.Errorf("retention batch must be at least 1, got %d", c.RetentionBatch)
	}
	return c.validateDB()
}

// outboundPolicy builds the policy connectors dial through.
func (c Config) outboundPolicy() (*httpclient.Policy, error) {
	return httpclient.NewPolicy(httpclient.PolicyConfig{
		DenyPrivate: c.OutboundPrivate == OutboundDeny,
		Allow:       c.OutboundAllow,
		Deny:        c.OutboundDeny,
	})
}

// dispatchBacklog is how many runs ingested here may wait in memory for this process's
// workers: DispatchBacklog, by default as many as there are workers (a run waits for at
// most about one run's time), none when negative.
func (c Config) dispatchBacklog() int {
	switch {
	case c.DispatchBacklog < 0:
		return 0
	case c.DispatchBacklog == 0:
		return c.Workers
	}
	return c.DispatchBacklog
}

// limits returns the run limits of the config as a workflow writes them.
func (c Config) limits() *workflow.Limits {
	return &workflow.Limits{StepData: workflow.ByteSize(c.StepDataLimit), RunData: workflow.ByteSize(c.RunDataLimit),
		ForEachItems: c.ForEachItemsLimit, ExpressionMemory: workflow.ByteSize(c.ExpressionMemoryLimit)}
}

// Engine is a running Hookflow core.
type Engine struct {
	cfg      Config
	store    *store.Store
	reg      *connectors.Registry
	log      *slog.Logger
	notifier *queue.Notifier
	versions *versionCache
	runner   *runner.Runner
	owner    string
	metrics  *metrics
	limiter  *rateLimiter
	logins   loginThrottle
	waiters  *waiters
	// outbound is the network policy every connector call dials through.
	outbound *httpclient.Policy
	// inflight maps the id of each run this process is executing to its claim's attempt:
	// the heartbeat renews exactly these claims, and claims never take these runs over
	// from this process itself.
	inflight sync.Map
	// cancelHeard holds the ids of runs in flight here whose cancel this process has heard
	// of (from its own API, another process's notification or a lease renewal): a run
	// still waiting in the backlog stops before its first step instead of after it.
	cancelHeard sync.Map
	// pool is the worker pool while Start's workers run (nil with none): ingest hands
	// runs to its idle workers directly.
	pool atomic.Pointer[queue.Pool[store.Run]]
	// beatPaused stops lease renewals, for tests that stall a process past its lease.
	beatPaused atomic.Bool
	hooks      *ttlCache[*Webhook]
	// listening are the switched-off workflows the builder listens on (listen.go).
	listening listeners
	conns     *ttlCache[*connectors.Connection]
	// stopping is closed by Close: runs stop at their next step boundary and go back to
	// the queue.
	stopping chan struct{}
	// scheduleWake and scheduleDirty make the scheduler re-read its workflows now.
	scheduleWake  chan struct{}
	scheduleDirty atomic.Bool
	// pruneWake asks the pruner for a pass now (a workflow was deleted).
	pruneWake chan struct{}
	// pruning lets one retention pass at a time run in this process: the lease is the
	// process's, so it would not keep a second pass of the same process out.
	pruning   sync.Mutex
	closeOnce sync.Once

	// The secret key is loaded on first use, so commands that never touch connections
	// (user create, migrate) neither need nor generate it.
	boxOnce sync.Once
	box     *secrets.Box
	boxErr  error

	// files loads declarative connector files into reg, first at Start; reloadStop ends
	// its loop.
	files       *connectorFiles
	filesLoaded bool
	reloadStop  context.CancelFunc
	reloadDone  chan struct{}

	// tokensOnce makes tokens, which batches the writes of API tokens' last use.
	tokensOnce sync.Once
	tokens     *tokenUse

	mu      sync.Mutex
	stop    context.CancelFunc
	stopped chan struct{}
}

// Open opens the database, applies pending migrations, loads the secret key and returns
// an Engine. Call Start to run workers and Close when done.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("invalid engine config: %w", err)
	}
	outbound, err := cfg.outboundPolicy()
	if err != nil {
		return nil, fmt.Errorf("invalid engine config: %w", err)
	}
	st, err := store.Open(ctx, cfg.storeConfig())
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return newEngine(cfg, st, outbound), nil
}

// Migrate applies pending migrations to the configured database and returns the schema
// version, without starting anything else.
func Migrate(ctx context.Context, cfg Config) (int64, error) {
	cfg = cfg.WithDefaults()
	st, err := store.Open(ctx, cfg.storeConfig())
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return 0, err
	}
	cur, _, err := st.MigrationStatus(ctx)
	return cur, err
}

func newEngine(cfg Config, st *store.Store, outbound *httpclient.Policy) *Engine {
	host, _ := os.Hostname()
	e := &Engine{
		cfg:      cfg,
		store:    st,
		reg:      cfg.Registry.With(coreConnector(cfg.Now)),
		log:      cfg.Logger,
		notifier: queue.NewNotifier(),
		owner:    fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8]),
		metrics:  newMetrics(),
		limiter:  newRateLimiter(),
		waiters:  newWaiters(),
		outbound: outbound,
		// The caches read the wall clock: tests that move the engine's clock must not
		// see stale entries live on.
		hooks:    newTTLCache[*Webhook](time.Now),
		conns:    newTTLCache[*connectors.Connection](time.Now),
		stopping: make(chan struct{}),

		scheduleWake: make(chan struct{}, 1),
		pruneWake:    make(chan struct{}, 1),
	}
	e.metrics.reg.MustRegister(newQueueCollector(e))
	e.files = newConnectorFiles(e.reg, st, cfg.Logger, cfg.ConnectorsDir)
	e.files.changed = func() {
		// Compiled versions follow the registry's generation; webhooks hold compiled
		// versions of their own, and the scheduler re-reads its polls.
		e.hooks.reset()
		e.WakeScheduler()
	}
	e.versions = newVersionCache(st, e.reg)
	e.versions.missing = e.files.note
	e.runner = runner.New(runner.Config{
		Store:        st,
		Version:      e.versions.get,
		Connection:   e.resolveConnection,
		Limiter:      e.limiter,
		Dialer:       outbound,
		Observer:     observer{m: e.metrics, w: e.waiters},
		CallContext:  e.withOutbound,
		Tracer:       cfg.Tracer,
		FailureAlert: e.failureAlert,
		Alerted:      e.alerted,
		Lease:        cfg.Lease,
		Stopping:     e.stopping,
		Logger:       cfg.Logger,
		Now:          cfg.Now,
		NewID:        newID,
		Limits:       *cfg.limits(),
	})
	return e
}

// ErrSecretKeyMismatch means this process's secret key is not the one the database's
// connections are encrypted with.
var ErrSecretKeyMismatch = errors.New("secret key differs from the one this database uses")

// CheckSecretKey loads the secret key now (generating it on first start), so a server
// fails at start rather than at its first connection, and checks it against the key
// fingerprint stored in the database by the first process: every process sharing a
// database must use the same key (HOOKFLOW_SECRET_KEY).
func (e *Engine) CheckSecretKey(ctx context.Context) error {
	box, err := e.secretBox()
	if err != nil {
		return err
	}
	stored, err := e.store.EnsureSetting(ctx, "secret_key_fingerprint", box.Fingerprint(), e.cfg.Now())
	if err != nil {
		return err
	}
	if stored != box.Fingerprint() {
		return fmt.Errorf("%w: set HOOKFLOW_SECRET_KEY to the key of the other processes (or restore the data dir's secret.key)", ErrSecretKeyMismatch)
	}
	return nil
}

func (e *Engine) secretBox() (*secrets.Box, error) {
	e.boxOnce.Do(func() { e.box, e.boxErr = loadSecretBox(e.cfg) })
	return e.box, e.boxErr
}

func loadSecretBox(cfg Config) (*secrets.Box, error) {
	var key []byte
	if cfg.SecretKey != "" {
		k, err := secrets.ParseKey(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("read HOOKFLOW_SECRET_KEY: %w", err)
		}
		key = k
	} else {
		k, created, err := secrets.LoadOrCreateKeyFile(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		if created {
			cfg.Logger.Warn("Generated a new secret key; back it up, connections cannot be decrypted without it",
				slog.String("path", cfg.DataDir+"/"+secrets.KeyFileName))
		}
		key = k
	}
	return secrets.NewBox(key)
}

// AddListener tells the outbound policy about one of this process's listen addresses
// ("127.0.0.1:8080", ":8080"): connectors may never call it, so a workflow cannot reach
// the server's own API, metrics or profiler. Call it once the address is bound.
func (e *Engine) AddListener(addr string) error {
	return e.outbound.AddListener(addr)
}

// outboundContext returns ctx carrying the outbound policy, for calls into connectors.
func (e *Engine) outboundContext(ctx context.Context) context.Context {
	return connectors.WithDialer(ctx, e.outbound)
}

// Registry returns the connectors available to workflows, the built-in core actions
// included.
func (e *Engine) Registry() *connectors.Registry { return e.reg }

// Start runs the workers in the background until Close: the pool that claims and
// executes runs, the heartbeat that renews this process's leases, the watchdog that
// fails overdue runs, the pruner that enforces retention and, on PostgreSQL, the listener that hears of runs queued by other
// processes. It loads the connector files first and reloads them in the background. With
// Workers < 0 it starts only that reload: the process only ingests.
func (e *Engine) Start(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// Every process loads connector files, workers or not: an API-only process validates
	// workflows against them. They are loaded here rather than at Open, so commands that
	// never use connectors (user create, migrate) neither read nor log them. A broken or
	// unreadable source is logged and kept for the API; it never stops the start.
	if !e.filesLoaded {
		e.filesLoaded = true
		if err := e.files.reload(ctx); err != nil {
			e.log.Warn("Load connector files failed", slog.Any("err", err))
		}
	}
	if e.reloadStop == nil && e.cfg.ConnectorsReload > 0 {
		rctx, stop := context.WithCancel(ctx)
		e.reloadStop, e.reloadDone = stop, make(chan struct{})
		go func() {
			defer close(e.reloadDone)
			e.files.loop(rctx, e.cfg.ConnectorsReload)
		}()
	}
	if e.cfg.Workers < 0 || e.stop != nil {
		return
	}
	ctx, e.stop = context.WithCancel(ctx)
	e.stopped = make(chan struct{})
	pool := &queue.Pool[store.Run]{
		Workers: e.cfg.Workers,
		Claim:   e.claimRuns,
		Handle: func(ctx context.Context, run store.Run) {
			e.metrics.inFlight.Inc()
			defer func() {
				// A later claim of the run, by this process, keeps its entries.
				if e.inflight.CompareAndDelete(run.ID, run.Attempt) {
					e.cancelHeard.Delete(run.ID)
				}
				e.metrics.inFlight.Dec()
			}()
			if !e.stillLeased(ctx, &run) {
				return
			}
			if _, heard := e.cancelHeard.Load(run.ID); heard {
				// Stored running while it waited here, so its cancel could only be requested;
				// it ends cancelled before its first step (or the next one, if it resumes).
				run.CancelRequested = true
			}
			err := e.runner.Execute(ctx, &run)
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, runner.ErrStopping) {
				// Its lease is no longer renewed: another worker takes it over when it lapses.
				e.log.Warn("Run left for another claim", slog.String("run_id", run.ID), slog.Any("err", err))
			}
			e.wakeCapped(ctx, &run)
		},
		NextDue:       e.store.NextRunAt,
		Notifier:      e.notifier,
		PollInterval:  e.cfg.PollInterval,
		ShutdownGrace: e.cfg.ShutdownGrace,
		GatherWait:    gatherWait,
		Logger:        e.log,
		Now:           e.cfg.Now,
		Backlog:       e.cfg.dispatchBacklog(),
	}
	e.pool.Store(pool)
	// The heartbeat outlives the pool: runs finishing their step during shutdown keep
	// their leases until they are released.
	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { e.heartbeat(beatCtx) })
	bg.Go(func() { e.sweep(ctx) })
	bg.Go(func() { e.store.ListenRuns(ctx, e.notifier.Notify, e.hearCancel) })
	bg.Go(func() { e.scheduler(ctx) })
	bg.Go(func() { e.retain(ctx) })
	if e.cfg.BackupInterval > 0 {
		bg.Go(func() { e.scheduledBackups(ctx) })
	}
	go func() {
		defer close(e.stopped)
		pool.Run(ctx)
		e.pool.Store(nil)
		stopBeat()
		bg.Wait()
	}()
	e.log.Info("Workers started", slog.Int("workers", e.cfg.Workers), slog.String("owner", e.owner))
}

// claimRuns claims up to n due runs for this process's workers and registers each as in
// flight before a worker sees it. A run this process is still executing is never handed
// out twice: takeovers skip it. A ready claim may still find it, between its worker
// storing the run as due again and that worker returning; the new claim, with the later
// attempt, replaces the entry and runs it (the worker's writes are fenced by then, and
// it has none left to make). Any other run already in flight is dropped from the claim
// and taken over when its lease lapses, rather than run beside the first.
func (e *Engine) claimRuns(ctx context.Context, n int) ([]store.Run, error) {
	var held []string
	e.inflight.Range(func(k, _ any) bool {
		held = append(held, k.(string))
		return true
	})
	now := e.cfg.Now()
	runs, err := e.store.ClaimRuns(ctx, e.owner, now, now.Add(e.cfg.Lease), n, held)
	e.metrics.runsClaimed.Add(float64(len(runs)))
	e.metrics.claims.Inc()
	keep := runs[:0]
	for _, r := range runs {
		r.TakenAt = now
		if prev, busy := e.inflight.LoadOrStore(r.ID, r.Attempt); busy {
			// Takeovers skip the runs held here, so this one was queued or waiting: its
			// worker has stored the hand-off (a retry due at once, a release) and is about
			// to return. This claim fences that worker's writes and runs the run.
			if older, _ := prev.(int); older >= r.Attempt || !e.inflight.CompareAndSwap(r.ID, prev, r.Attempt) {
				e.log.Error("Claimed a run already in flight in this process; leaving it",
					slog.String("run_id", r.ID), slog.Int("attempt", r.Attempt), slog.Any("in_flight_attempt", prev))
				continue
			}
		}
		keep = append(keep, r)
	}
	e.attachEvents(ctx, keep)
	return keep, err
}

// reserveWorker takes an idle worker of this process for a run of wf about to be
// ingested (direct dispatch) and returns the reservation, or false when the run
// must be queued for a claim: no worker is idle, the process has none (serve
// --workers 0), or the workflow has a concurrency cap, whose count and arrival order only
// a claim checks against the database. A true must be followed by dispatch or
// reservation.unreserve.
//
// With every worker busy, the run may still be dispatched, to the pool's backlog: a
// bounded first-in, first-out list in memory that the next worker to free up takes from,
// before claiming. Under a steady load that spares each run a claim and the query for its
// event, which is most of what a run costs besides its steps. The run is leased to this
// process like any dispatched run, so should the process die, the lease expires and
// another process takes the run over; the heartbeat renews it meanwhile.
func (e *Engine) reserveWorker(wf *workflow.Compiled) (reservation, bool) {
	if wf.Def.Concurrency != 0 {
		return reservation{}, false
	}
	pool := e.pool.Load()
	switch {
	case pool == nil:
		return reservation{}, false
	case pool.Reserve():
		return reservation{pool: pool}, true
	case pool.ReserveLater():
		return reservation{pool: pool, later: true}, true
	}
	return reservation{}, false
}

// reservation is a worker, or a place in the backlog, reserved by reserveWorker.
type reservation struct {
	pool  *queue.Pool[store.Run]
	later bool
}

// unreserve gives back a reservation whose run was not stored.
func (r reservation) unreserve() {
	if r.later {
		r.pool.UnreserveLater()
	} else {
		r.pool.Unreserve()
	}
}

// dispatch hands a run ingested already leased to this process to the worker reserved
// for it (or to the backlog), with its event in memory: no claim, no wake-up, no query
// for the event. It is registered in flight first, so the heartbeat renews its lease.
func (e *Engine) dispatch(res reservation, run *store.Run, ev *store.Event) {
	e.inflight.Store(run.ID, run.Attempt)
	e.metrics.dispatched.Inc()
	r := *run
	r.Event = ev
	r.TakenAt = e.cfg.Now()
	if res.later {
		res.pool.SubmitLater(r)
	} else {
		res.pool.Submit(r)
	}
}

// stillLeased checks, for a run that waited in the backlog (dispatched there, or claimed
// beyond the free workers) longer than a heartbeat's interval since this process took
// its lease, that the lease is still this process's, and renews it. A process stalled
// past the lease (a long pause, a frozen VM) may have had its backlog taken over by
// another process meanwhile: those runs must not run a second time here. A run that
// waited less kept at least two thirds of the lease it was inserted with, as a run
// handed to a worker at once does.
func (e *Engine) stillLeased(ctx context.Context, run *store.Run) bool {
	if run.TakenAt.IsZero() {
		return true
	}
	now := e.cfg.Now()
	if now.Sub(run.TakenAt) < e.cfg.Lease/3 {
		return true
	}
	n, cancel, err := e.store.RenewLeases(ctx, e.owner, []store.Lease{store.LeaseOf(run)}, now.Add(e.cfg.Lease), now)
	e.hearCancels(cancel)
	if err != nil || n == 0 {
		// Not renewed (taken over, or the database failed): the run is left to the process
		// holding it, or to the claim that takes it when the lease lapses.
		e.log.Warn("Run left: its lease lapsed while it waited in the backlog", slog.String("run_id", run.ID), slog.Any("err", err))
		return false
	}
	return true
}

// hearCancel records that a run is to stop, if it is in flight here: a run still waiting
// in the backlog then ends cancelled without starting. Runs held elsewhere are ignored.
func (e *Engine) hearCancel(runID string) {
	if _, held := e.inflight.Load(runID); !held {
		return
	}
	e.cancelHeard.Store(runID, struct{}{})
	if _, held := e.inflight.Load(runID); !held {
		// It ended between the two loads; its worker's clean-up may have run already.
		e.cancelHeard.Delete(runID)
	}
}

func (e *Engine) hearCancels(runIDs []string) {
	for _, id := range runIDs {
		e.hearCancel(id)
	}
}

// gatherWait is how long a busy worker pool waits for more free workers before claiming:
// it trades a millisecond of pickup latency under load for far fewer claim transactions.
const gatherWait = time.Millisecond

// attachEvents loads the events of a batch of claimed runs in one query. On failure the
// runner loads each itself.
func (e *Engine) attachEvents(ctx context.Context, runs []store.Run) {
	ids := make([]string, 0, len(runs))
	for _, r := range runs {
		if r.EventID != nil {
			ids = append(ids, *r.EventID)
		}
	}
	events, err := e.store.EventsByID(ctx, ids)
	if err != nil {
		e.log.Warn("Load events of claimed runs failed", slog.Any("err", err))
		return
	}
	for i := range runs {
		if runs[i].EventID != nil {
			runs[i].Event = events[*runs[i].EventID]
		}
	}
}

// wakeCapped tells every worker, here and in other processes, that the next run of a
// capped workflow may now be claimable; otherwise it would wait for the next poll.
func (e *Engine) wakeCapped(ctx context.Context, run *store.Run) {
	wf, err := e.versions.get(ctx, run.WorkflowID, run.Version)
	if err != nil || wf.Def.Concurrency == 0 {
		return
	}
	e.notifier.Notify()
	if err := e.store.NotifyRuns(ctx); err != nil && ctx.Err() == nil {
		e.log.Warn("Notify other processes failed", slog.Any("err", err))
	}
}

// heartbeat renews the lease of every claim this process is executing, three times per
// lease period.
func (e *Engine) heartbeat(ctx context.Context) {
	t := time.NewTicker(e.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if e.beatPaused.Load() {
			continue
		}
		var leases []store.Lease
		e.inflight.Range(func(k, v any) bool {
			leases = append(leases, store.Lease{RunID: k.(string), Owner: e.owner, Attempt: v.(int)})
			return true
		})
		if len(leases) == 0 {
			continue
		}
		now := e.cfg.Now()
		_, cancel, err := e.store.RenewLeases(ctx, e.owner, leases, now.Add(e.cfg.Lease), now)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("Renew leases failed", slog.Any("err", err))
		}
		e.hearCancels(cancel)
	}
}

// sweep fails queued and waiting runs past their deadline.
func (e *Engine) sweep(ctx context.Context) {
	t := time.NewTicker(e.cfg.SweepInterval)
	defer t.Stop()
	sweeps := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.failOverdue(ctx)
		// The inspector's retention rides along, at a tenth of the pace: it scans every
		// event, and nothing waits on it.
		if sweeps++; sweeps%10 == 1 {
			if pruned, err := e.store.PruneEvents(ctx, e.cfg.InspectorKeep); err != nil && ctx.Err() == nil {
				e.log.Warn("Prune inspector events failed", slog.Any("err", err))
			} else if pruned > 0 {
				e.log.Debug("Pruned inspector events", slog.Int64("events", pruned))
			}
			if pruned, err := e.store.PruneSeen(ctx, seenKeep); err != nil && ctx.Err() == nil {
				e.log.Warn("Prune seen poll items failed", slog.Any("err", err))
			} else if pruned > 0 {
				e.log.Debug("Pruned seen poll items", slog.Int64("keys", pruned))
			}
		}
	}
}

// overdueBatch bounds the runs one sweep fails in one transaction.
const overdueBatch = 500

// failOverdue fails the queued and waiting runs past their deadline, with their alerts in
// the same transaction.
func (e *Engine) failOverdue(ctx context.Context) {
	now := e.cfg.Now()
	runs, err := e.store.OverdueRuns(ctx, now, overdueBatch)
	if err != nil || len(runs) == 0 {
		if err != nil && ctx.Err() == nil {
			e.log.Warn("Fail overdue runs failed", slog.Any("err", err))
		}
		return
	}
	alerts := map[string]*store.Started{}
	for i := range runs {
		if a := e.failureAlert(ctx, &runs[i], "", store.OverdueError); a != nil {
			alerts[runs[i].ID] = a
		}
	}
	failed, err := e.store.FailOverdue(ctx, now, runs, alerts)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("Fail overdue runs failed", slog.Any("err", err))
		}
		return
	}
	if n := len(failed); n > 0 {
		e.log.Warn("Failed runs past their maximum duration", slog.Int("runs", n))
		e.metrics.runsFinished.WithLabelValues(store.RunFailed).Add(float64(n))
	}
	for i, r := range failed {
		if alerts[r.ID] != nil {
			e.alerted()
		}
		// No worker ends these runs, so the run span (with its error) is recorded here.
		if e.cfg.Tracer.Enabled() {
			e.runner.RunSpan(ctx, &failed[i], store.RunFailed, store.OverdueError)
		}
	}
}

// Close stops the workers and closes the database. Runs in flight finish their current
// step (within the shutdown grace period) and go back to the queue for another worker;
// nothing waits for a lease to expire.
// traceFlushTimeout bounds how long Close waits for the last spans to be exported.
const traceFlushTimeout = 5 * time.Second

func (e *Engine) Close() error {
	e.closeOnce.Do(func() { close(e.stopping) })
	e.mu.Lock()
	stop, stopped := e.stop, e.stopped
	reloadStop, reloadDone := e.reloadStop, e.reloadDone
	e.mu.Unlock()
	if reloadStop != nil {
		reloadStop()
		<-reloadDone
	}
	if stop != nil {
		stop()
		<-stopped
	}
	e.tokenUse().flush(context.Background())
	flushCtx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
	defer cancel()
	if err := e.cfg.Tracer.Shutdown(flushCtx); err != nil {
		e.log.Warn("Traces not all exported at shutdown", slog.Any("err", err))
	}
	return e.store.Close()
}

// Ready reports whether the engine can serve: the database answers.
func (e *Engine) Ready(ctx context.Context) error {
	return e.store.Ping(ctx)
}

// Dialect names the database in use ("sqlite" or "postgres").
func (e *Engine) Dialect() string { return string(e.store.Dialect()) }

// Errors returned by the service methods; callers map them to HTTP statuses and exit
// codes. Validation problems come as *workflow.ValidationError.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden is a call the acting user's role does not allow.
	ErrForbidden = errors.New("forbidden")
)

// translate maps store errors onto the engine's.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

package store

import "time"

// The models mirror the tables of migrations/; the schema is owned by the SQL files, never
// by gorm's AutoMigrate. TestModelsMatchSchema keeps the two in step.

// User is an account of the admin UI and the API.
type User struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	PasswordHash string
	Role         string
	CreatedAt    time.Time
	DisabledAt   *time.Time
	// Locale and TimeZone are the admin UI's preferences; empty follows the browser
	// and UTC.
	Locale   string
	TimeZone string
}

// APIToken is a bearer token for the REST API. Only its SHA-256 is stored.
type APIToken struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	// TokenHint is the token's last four characters, shown in its place.
	TokenHint string
}

// Workflow is the current state of a workflow; its definitions live in WorkflowVersion.
type Workflow struct {
	ID          string `gorm:"primaryKey"`
	Name        string
	Enabled     bool
	Version     int
	TriggerType string
	HookToken   string
	// Concurrency caps the runs executing at once (0: no cap); the claim query reads it.
	Concurrency int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// DeletedAt marks a deleted workflow whose history the pruner has yet to remove; every
	// read but the pruner's skips it.
	DeletedAt *time.Time
}

// WorkflowVersion is one immutable saved definition of a workflow.
type WorkflowVersion struct {
	WorkflowID string `gorm:"primaryKey"`
	Version    int    `gorm:"primaryKey;autoIncrement:false"`
	Definition string
	CreatedAt  time.Time
}

// Connection is a named set of connector settings. Secret settings are sealed in
// Secrets (a JSON object of sealed strings), the rest are plain in Config.
type Connection struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Connector string
	Config    string
	Secrets   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is one request received by a workflow's webhook, kept as it arrived.
type Event struct {
	ID          string `gorm:"primaryKey"`
	WorkflowID  string
	ReceivedAt  time.Time
	Method      string
	Headers     string
	Query       string
	ContentType string
	Body        []byte
	DedupeKey   *string
	Verdict     string
	Reason      string
	// BodySize is the size of the body as it arrived, less what masking a credential
	// removed; Body may be shorter (cut for the inspector) only for events that started
	// no run.
	BodySize int64
}

// Run is one execution of a workflow version, and the queue's job for it.
type Run struct {
	ID         string `gorm:"primaryKey"`
	WorkflowID string
	Version    int
	EventID    *string
	Status     string
	RunAt      time.Time
	Attempt    int
	LeaseOwner *string
	LeaseUntil *time.Time
	StepIndex  int
	Error      string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time
	// CancelRequested asks the worker holding the run to stop at the next step boundary.
	CancelRequested bool
	// ReplayOf is the run this one replays.
	ReplayOf *string
	// DeadlineAt is when the watchdog fails the run if it has not ended.
	DeadlineAt *time.Time
	// Event, when loaded with the claim, spares the runner a query. Not a column.
	Event *Event `gorm:"-"`
	// Trigger is the trigger environment the ingress built from Event to evaluate the
	// filter; handed over with a dispatched run, it spares the runner decoding the body
	// again. Not a column.
	Trigger map[string]any `gorm:"-"`
	// TakenAt is when, on the engine's clock, this process took the run's lease (claimed
	// it, or dispatched it to itself): a run that waited in the worker pool's backlog
	// checks its lease before it starts. Not a column.
	TakenAt time.Time `gorm:"-"`
}

// StepRun is the record of one step of one run.
type StepRun struct {
	ID         string `gorm:"primaryKey"`
	RunID      string
	StepID     string
	Position   int
	Status     string
	Attempts   int
	Input      *string
	Output     *string
	Error      string
	StartedAt  time.Time
	FinishedAt *time.Time
	DurationMS int64 `gorm:"column:duration_ms"`
	// AttemptErrors is a JSON list of the errors of the failed attempts, oldest first.
	AttemptErrors *string
}

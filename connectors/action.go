package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Action performs one call of a connector's action. A new value is made for each call by
// ActionDef.New, so an implementation may keep per-call state in its fields.
type Action interface {
	// Run performs the call. It must return promptly once ctx is done. The output must be
	// JSON-encodable and must not contain secrets. Errors steer the runner: wrap with
	// Permanent for errors a retry cannot fix and RetryAfter when the service says when to
	// come back; any other error counts as retryable.
	Run(ctx context.Context, call *Call) (any, error)
}

// Validator is implemented by actions that check their rendered inputs beyond the field
// specs. Validate runs offline and fast: before every Run, and at save time when every
// input is a literal. Its error is permanent.
type Validator interface {
	Validate(input map[string]any) error
}

// Closer is implemented by actions that hold resources past Run. Close runs after Run,
// whatever Run returned.
type Closer interface {
	Close() error
}

// ActionDef registers an action: its spec and its factory. The factory has no side
// effects; it is called once per step call.
type ActionDef struct {
	ActionSpec
	New func() Action
}

// Call is everything an action gets for one step call.
type Call struct {
	// RunID and StepID identify the step being run.
	RunID  string
	StepID string
	// Attempt counts from 1 for each step; it grows with each retry.
	Attempt int
	// StartedAt is when the step's first attempt started. It stays the same across retries
	// and waits, so an action can measure time since the step began.
	StartedAt time.Time
	// IdempotencyKey is stable across the retries of one step of one run. Actions whose
	// service supports idempotency send it (HTTP: the Idempotency-Key header).
	IdempotencyKey string
	// Input holds the step's rendered "with" values, keyed by input field name.
	Input map[string]any
	// Connection is the step's connection with its secrets decrypted, or nil.
	Connection *Connection
	// Logger is a logger carrying the run's attributes. Never log secrets.
	Logger *slog.Logger
}

// Decode copies the call's input into dst, a pointer to a struct with json tags.
// A value of the wrong type is a permanent error.
func (c *Call) Decode(dst any) error {
	data, err := json.Marshal(c.Input)
	if err != nil {
		return Permanent(fmt.Errorf("encode input of step %s: %w", c.StepID, err))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return Permanent(fmt.Errorf("decode input of step %s: %w", c.StepID, err))
	}
	return nil
}

// Connection is a connection as an action sees it: its settings, secrets decrypted.
type Connection struct {
	Name      string
	Connector string
	Config    map[string]any
	// Secrets lists the names of the settings that are secret.
	Secrets []string
	// Credentials persists secrets the connector rotates (an OAuth2 refresh token). The
	// engine sets it; nil means rotated secrets cannot be kept (tests, previews).
	Credentials CredentialStore
}

// CredentialStore reads and writes a connection's stored secrets, for connectors whose
// service rotates a credential on use. Every process of a cluster shares the store, so a
// rotation is a compare-and-swap: the process that loses the race reads the winner's
// value instead of overwriting it.
type CredentialStore interface {
	// CurrentSecrets returns the connection's secrets as stored now, bypassing caches.
	CurrentSecrets(ctx context.Context) (map[string]string, error)
	// SwapSecrets stores updated only if every key of old still holds that value; it
	// returns false, writing nothing, when another writer changed one first.
	SwapSecrets(ctx context.Context, old, updated map[string]string) (bool, error)
}

// String returns the named setting as a string, or "" when it is absent.
func (c *Connection) String(key string) string {
	if c == nil {
		return ""
	}
	switch v := c.Config[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// SecretValues returns the non-empty values of the secret settings.
func (c *Connection) SecretValues() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, k := range c.Secrets {
		if s := c.String(k); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Redact replaces every secret value of the connection found in s with "******".
func (c *Connection) Redact(s string) string {
	for _, v := range c.SecretValues() {
		s = strings.ReplaceAll(s, v, RedactedValue)
	}
	return s
}

// RedactedValue replaces secrets wherever they would be shown.
const RedactedValue = "******"

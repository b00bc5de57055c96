package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Connection is a connection as the API shows it: secret settings are never included,
// only the names of those that are set.
type Connection struct {
	Name       string         `json:"name"`
	Connector  string         `json:"connector"`
	Config     map[string]any `json:"config"`
	SecretsSet []string       `json:"secrets_set"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// ConnectionInput creates or replaces a connection. On update, a secret setting left out
// keeps its stored value and one set to null is removed, so clients that never see
// secrets can still edit the other settings.
type ConnectionInput struct {
	Name      string         `json:"name"`
	Connector string         `json:"connector"`
	Config    map[string]any `json:"config"`
}

var connectionNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// CreateConnection validates and stores a new connection, sealing its secret settings.
func (e *Engine) CreateConnection(ctx context.Context, in ConnectionInput) (*Connection, error) {
	if err := allow(ctx, RoleEditor, "create connections"); err != nil {
		return nil, err
	}
	spec, err := e.checkConnection(in, nil)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	row := &store.Connection{ID: newID(), Name: in.Name, Connector: in.Connector, CreatedAt: now, UpdatedAt: now}
	if err := e.sealConnection(row, spec, in.Config, nil); err != nil {
		return nil, err
	}
	if err := e.store.CreateConnection(ctx, row); err != nil {
		return nil, translate(err)
	}
	e.conns.reset()
	e.log.Info("Connection created", slog.String("connection", in.Name), slog.String("connector", in.Connector))
	e.audit(ctx, AuditConnectionCreate, AuditKindConnection, row.ID, row.Name, connectionDiff(nil, row, in.Config))
	return e.connectionDTO(row)
}

// UpdateConnection replaces a connection's settings.
func (e *Engine) UpdateConnection(ctx context.Context, name string, in ConnectionInput) (*Connection, error) {
	if err := allow(ctx, RoleEditor, "change connections"); err != nil {
		return nil, err
	}
	row, err := e.store.ConnectionByName(ctx, name)
	if err != nil {
		return nil, translate(err)
	}
	before := *row
	if in.Name == "" {
		in.Name = name
	}
	if in.Name != name {
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "name", Message: "a connection cannot be renamed; create a new one"}}}
	}
	if in.Connector == "" {
		in.Connector = row.Connector
	}
	old, err := e.keptSecrets(row, in.Config)
	if err != nil {
		return nil, err
	}
	if err := e.secretsMoved(row, in, old); err != nil {
		return nil, err
	}
	spec, err := e.checkConnection(in, old)
	if err != nil {
		return nil, err
	}
	row.Connector, row.UpdatedAt = in.Connector, e.cfg.Now()
	if err := e.sealConnection(row, spec, in.Config, old); err != nil {
		return nil, err
	}
	if err := e.store.UpdateConnection(ctx, row); err != nil {
		return nil, translate(err)
	}
	e.conns.reset()
	e.log.Info("Connection updated", slog.String("connection", name))
	e.audit(ctx, AuditConnectionUpdate, AuditKindConnection, row.ID, name, connectionDiff(&before, row, in.Config))
	return e.connectionDTO(row)
}

// GetConnection returns a connection without its secrets.
func (e *Engine) GetConnection(ctx context.Context, name string) (*Connection, error) {
	row, err := e.store.ConnectionByName(ctx, name)
	if err != nil {
		return nil, translate(err)
	}
	return e.connectionDTO(row)
}

// ListConnections returns every connection, without secrets.
func (e *Engine) ListConnections(ctx context.Context) ([]Connection, error) {
	rows, err := e.store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(rows))
	for i := range rows {
		c, err := e.connectionDTO(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}

// DeleteConnection deletes a connection no workflow uses. One in use is ErrConflict,
// naming the workflows, so no run fails later for want of it.
func (e *Engine) DeleteConnection(ctx context.Context, name string) error {
	if err := allow(ctx, RoleEditor, "delete connections"); err != nil {
		return err
	}
	row, err := e.store.ConnectionByName(ctx, name)
	if err != nil {
		return translate(err)
	}
	defs, err := e.store.CurrentDefinitions(ctx)
	if err != nil {
		return err
	}
	var users []string
	for id, raw := range defs {
		def, err := workflow.Parse([]byte(raw))
		if err != nil {
			continue
		}
		if slices.Contains(connectionsUsedBy(def), name) {
			users = append(users, fmt.Sprintf("%s (%s)", def.Name, id))
		}
	}
	if len(users) > 0 {
		sort.Strings(users)
		return fmt.Errorf("%w: connection %s is used by workflow %s", ErrConflict, name, strings.Join(users, ", "))
	}
	if err := e.store.DeleteConnection(ctx, name); err != nil {
		return translate(err)
	}
	e.conns.reset()
	e.log.Info("Connection deleted", slog.String("connection", name))
	e.audit(ctx, AuditConnectionDelete, AuditKindConnection, row.ID, name, connectionDiff(row, nil, nil))
	return nil
}

// checkConnection validates a connection against its connector's spec. existingSecrets
// are the stored secret values on update, which count as set.
func (e *Engine) checkConnection(in ConnectionInput, existingSecrets map[string]string) (*connectors.Connector, error) {
	var problems []workflow.FieldError
	add := func(path, format string, args ...any) {
		problems = append(problems, workflow.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if !connectionNamePattern.MatchString(in.Name) {
		add("name", "%q must be 1 to 64 lower-case letters, digits, _ or -, starting with a letter or digit", in.Name)
	}
	c, ok := e.reg.Connector(in.Connector)
	if !ok || in.Connector == "core" {
		var names []string
		for _, c := range e.reg.Connectors() {
			if c.Name != "core" {
				names = append(names, c.Name)
			}
		}
		add("connector", "unknown connector %q; known: %s", in.Connector, strings.Join(names, ", "))
		return nil, &workflow.ValidationError{Errors: problems}
	}
	spec := c.Spec()
	fields := map[string]*connectors.Field{}
	var names []string
	for i := range spec.Connection {
		fields[spec.Connection[i].Name] = &spec.Connection[i]
		names = append(names, spec.Connection[i].Name)
	}
	merged := map[string]any{}
	for k, v := range existingSecrets {
		merged[k] = v
	}
	keys := make([]string, 0, len(in.Config))
	for k := range in.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := in.Config[k]
		f, ok := fields[k]
		if !ok {
			add("config."+k, "unknown setting of %s connections; known: %s", c.Name, strings.Join(names, ", "))
			continue
		}
		if v == nil {
			delete(merged, k)
			continue
		}
		if err := f.CheckValue(v); err != nil {
			add("config."+k, "%v", err)
			continue
		}
		merged[k] = v
	}
	for _, f := range spec.Connection {
		if v, ok := merged[f.Name]; f.Required && (!ok || v == "") {
			add("config."+f.Name, "is required")
		}
	}
	if len(problems) == 0 && c.ValidateConnection != nil {
		if err := c.ValidateConnection(merged); err != nil {
			add("config", "%v", err)
		}
	}
	if len(problems) > 0 {
		return nil, &workflow.ValidationError{Errors: problems}
	}
	return c, nil
}

// sealConnection splits config into plain settings and sealed secrets on row.
func (e *Engine) sealConnection(row *store.Connection, c *connectors.Connector, config map[string]any, oldSecrets map[string]string) error {
	box, err := e.secretBox()
	if err != nil {
		return err
	}
	secret := map[string]bool{}
	for _, f := range c.Connection {
		secret[f.Name] = f.Secret
	}
	plain := map[string]any{}
	sealed := map[string]string{}
	for k, v := range oldSecrets {
		if _, replaced := config[k]; !replaced && secret[k] {
			s, err := box.Seal(v)
			if err != nil {
				return fmt.Errorf("seal secret %s of connection %s: %w", k, row.Name, err)
			}
			sealed[k] = s
		}
	}
	for k, v := range config {
		if v == nil {
			continue
		}
		if !secret[k] {
			plain[k] = v
			continue
		}
		s, err := box.Seal(fmt.Sprint(v))
		if err != nil {
			return fmt.Errorf("seal secret %s of connection %s: %w", k, row.Name, err)
		}
		sealed[k] = s
	}
	pb, err := json.Marshal(plain)
	if err != nil {
		return fmt.Errorf("encode settings of connection %s: %w", row.Name, err)
	}
	sb, err := json.Marshal(sealed)
	if err != nil {
		return fmt.Errorf("encode secrets of connection %s: %w", row.Name, err)
	}
	row.Config, row.Secrets = string(pb), string(sb)
	return nil
}

// secretsMoved refuses an update that keeps stored secrets while changing where they are
// sent: a setting the connector marks Endpoint (base_url to another origin, host,
// port...), or the connector itself. Whoever may edit a connection cannot read its secrets, but could
// otherwise point them at a host of their own and read them off the next run's request.
// Sending the secrets again, or removing them, lifts the refusal.
func (e *Engine) secretsMoved(row *store.Connection, in ConnectionInput, kept map[string]string) error {
	if len(kept) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(kept))
	fix := fmt.Sprintf("send %s again in this update (or null to remove)", strings.Join(names, ", "))
	if in.Connector != row.Connector {
		return &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "connector",
			Message: fmt.Sprintf("moving the connection from %s to %s would send its stored secrets elsewhere: %s",
				row.Connector, in.Connector, fix)}}}
	}
	c, ok := e.reg.Connector(row.Connector)
	if !ok {
		return nil // checkConnection reports it
	}
	stored := map[string]any{}
	if err := json.Unmarshal([]byte(row.Config), &stored); err != nil {
		return fmt.Errorf("decode settings of connection %s: %w", row.Name, err)
	}
	var problems []workflow.FieldError
	for _, f := range c.Spec().Connection {
		if f.Endpoint && !sameSetting(f, stored[f.Name], in.Config[f.Name]) {
			problems = append(problems, workflow.FieldError{Path: "config." + f.Name,
				Message: fmt.Sprintf("changing %s would send the stored secrets to another destination: %s", f.Name, fix)})
		}
	}
	if len(problems) > 0 {
		return &workflow.ValidationError{Errors: problems}
	}
	return nil
}

// sameSetting reports whether two values of an endpoint setting send secrets to the same
// place. An absent or empty value counts as the field's default; an absolute URL counts
// by its origin (scheme, host and port), so a new path on the same server is no move;
// anything else compares as JSON.
func sameSetting(f connectors.Field, a, b any) bool {
	norm := func(v any) string {
		if v == nil || v == "" {
			v = f.Default
		}
		if s, ok := v.(string); ok {
			if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
				return urlOrigin(u)
			}
		}
		js, _ := json.Marshal(connectors.NormalizeNumbers(v))
		return string(js)
	}
	return norm(a) == norm(b)
}

// urlOrigin is scheme://host:port in lower case with the default port spelled out, and
// the user info kept: it changes what the server is told.
func urlOrigin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + u.User.String() + "@" + strings.ToLower(u.Hostname()) + ":" + port
}

// keptSecrets decrypts the stored secrets an update leaves in place. Secrets the update
// replaces or clears are not decrypted, so a connection whose key was lost can still be
// repaired by sending its secrets again.
func (e *Engine) keptSecrets(row *store.Connection, config map[string]any) (map[string]string, error) {
	var sealed map[string]string
	if err := json.Unmarshal([]byte(row.Secrets), &sealed); err != nil {
		return nil, fmt.Errorf("decode secrets of connection %s: %w", row.Name, err)
	}
	out := map[string]string{}
	var problems []workflow.FieldError
	for k, v := range sealed {
		if _, replaced := config[k]; replaced {
			continue
		}
		box, err := e.secretBox()
		if err != nil {
			return nil, err
		}
		plain, err := box.Open(v)
		if err != nil {
			problems = append(problems, workflow.FieldError{Path: "config." + k,
				Message: "the stored value cannot be decrypted with the current secret key; send it again"})
			continue
		}
		out[k] = plain
	}
	if len(problems) > 0 {
		sort.Slice(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
		return nil, &workflow.ValidationError{Errors: problems}
	}
	return out, nil
}

func (e *Engine) openSecrets(row *store.Connection) (map[string]string, error) {
	var sealed map[string]string
	if err := json.Unmarshal([]byte(row.Secrets), &sealed); err != nil {
		return nil, fmt.Errorf("decode secrets of connection %s: %w", row.Name, err)
	}
	out := make(map[string]string, len(sealed))
	if len(sealed) == 0 {
		return out, nil
	}
	box, err := e.secretBox()
	if err != nil {
		return nil, err
	}
	for k, v := range sealed {
		plain, err := box.Open(v)
		if err != nil {
			return nil, fmt.Errorf("decrypt secret %s of connection %s: %w", k, row.Name, err)
		}
		out[k] = plain
	}
	return out, nil
}

func (e *Engine) connectionDTO(row *store.Connection) (*Connection, error) {
	config := map[string]any{}
	if err := json.Unmarshal([]byte(row.Config), &config); err != nil {
		return nil, fmt.Errorf("decode settings of connection %s: %w", row.Name, err)
	}
	var sealed map[string]string
	if err := json.Unmarshal([]byte(row.Secrets), &sealed); err != nil {
		return nil, fmt.Errorf("decode secrets of connection %s: %w", row.Name, err)
	}
	set := make([]string, 0, len(sealed))
	for k := range sealed {
		set = append(set, k)
	}
	sort.Strings(set)
	return &Connection{Name: row.Name, Connector: row.Connector, Config: connectors.NormalizeNumbers(config).(map[string]any),
		SecretsSet: set, CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC()}, nil
}

// resolveConnection loads a connection for a step call or a webhook's verification,
// secrets decrypted, from a short-lived cache.
func (e *Engine) resolveConnection(ctx context.Context, name string) (*connectors.Connection, error) {
	c, err := e.conns.get(name, func() (*connectors.Connection, error) { return e.loadConnection(ctx, name) })
	if err != nil {
		return nil, err
	}
	// A copy per caller: actions may not share (or spoil) the cached settings.
	cp := *c
	cp.Config = make(map[string]any, len(c.Config))
	for k, v := range c.Config {
		cp.Config[k] = v
	}
	return &cp, nil
}

// missingConnection is the error for a connection name that does not exist: permanent
// for a step, ErrNotFound for the API.
type missingConnection string

func (m missingConnection) Error() string { return "connection " + string(m) + " does not exist" }

func (m missingConnection) Is(target error) bool { return target == ErrNotFound }

func (e *Engine) loadConnection(ctx context.Context, name string) (*connectors.Connection, error) {
	row, err := e.store.ConnectionByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, connectors.Permanent(missingConnection(name))
	}
	if err != nil {
		return nil, err
	}
	config := map[string]any{}
	if err := json.Unmarshal([]byte(row.Config), &config); err != nil {
		return nil, fmt.Errorf("decode settings of connection %s: %w", name, err)
	}
	config = connectors.NormalizeNumbers(config).(map[string]any)
	secretValues, err := e.openSecrets(row)
	if err != nil {
		return nil, connectors.Permanent(err)
	}
	names := make([]string, 0, len(secretValues))
	for k, v := range secretValues {
		config[k] = v
		names = append(names, k)
	}
	sort.Strings(names)
	if c, ok := e.reg.Connector(row.Connector); ok {
		for _, f := range c.Connection {
			if f.Secret && !slices.Contains(names, f.Name) {
				names = append(names, f.Name)
			}
		}
	}
	return &connectors.Connection{Name: row.Name, Connector: row.Connector, Config: config, Secrets: names,
		Credentials: &credentials{e: e, name: row.Name, connector: row.Connector}}, nil
}

// ConnectionTest is the outcome of a connection's test call.
type ConnectionTest struct {
	OK bool `json:"ok"`
	// Error is why the test failed, secrets masked.
	Error string `json:"error,omitempty"`
	// Took is how long the test call took, in milliseconds.
	TookMS int64 `json:"took_ms"`
}

// testConnectionTimeout bounds a connection's test call: a user is waiting for it.
const testConnectionTimeout = 20 * time.Second

// TestConnection checks that a connection's settings and credentials work, with its
// connector's own test call (a cheap authenticated request such as Telegram's getMe). A
// failed check is a result (OK false, with the service's reason), not an error: the
// connection exists and the question was answered. A connector without a test call is a
// validation error.
func (e *Engine) TestConnection(ctx context.Context, name string) (*ConnectionTest, error) {
	if err := allow(ctx, RoleEditor, "test connections"); err != nil {
		return nil, err
	}
	conn, err := e.resolveConnection(ctx, name) // an unknown name is ErrNotFound
	if err != nil {
		return nil, err
	}
	c, ok := e.reg.Connector(conn.Connector)
	if !ok || c.TestConnection == nil {
		return nil, invalid("name", fmt.Sprintf("connector %s has no connection test", conn.Connector))
	}
	tctx, cancel := context.WithTimeout(e.outboundContext(ctx), testConnectionTimeout)
	defer cancel()
	start := time.Now()
	err = c.TestConnection(tctx, conn)
	out := &ConnectionTest{OK: err == nil, TookMS: time.Since(start).Milliseconds()}
	if err != nil {
		out.Error = conn.Redact(err.Error())
		e.log.Info("Connection test failed", slog.String("connection", name), slog.String("err", out.Error))
	}
	return out, nil
}

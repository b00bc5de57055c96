package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/trigger/signature"
	"github.com/hookflow/hookflow/engine/workflow"
)

// Workflow is a workflow as the API shows it.
type Workflow struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Enabled     bool            `json:"enabled"`
	Version     int             `json:"version"`
	TriggerType string          `json:"trigger_type"`
	HookToken   string          `json:"-"`
	Definition  json.RawMessage `json:"definition,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// WorkflowVersion is one saved definition.
type WorkflowVersion struct {
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Page is one page of a listing; NextCursor fetches the next, and is empty on the last.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListLimitDefault and ListLimitMax bound listing pages.
const (
	ListLimitDefault = 50
	ListLimitMax     = 500
)

func clampLimit(n int) int {
	if n <= 0 {
		return ListLimitDefault
	}
	return min(n, ListLimitMax)
}

// hookTokenBytes is the entropy of a webhook token: 192 bits, well past the 128 the
// design asks for, so a token cannot be guessed.
const hookTokenBytes = 24

func newHookToken() (string, error) {
	b := make([]byte, hookTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidateWorkflow parses and compiles a JSON workflow against the engine's connectors
// and connections, without saving it.
func (e *Engine) ValidateWorkflow(ctx context.Context, data []byte) (*workflow.Workflow, error) {
	def, _, err := workflow.Load(data, e.reg)
	if err != nil {
		return nil, e.explainMissing(def, err)
	}
	if err := e.checkConnections(ctx, def); err != nil {
		return nil, err
	}
	return def, nil
}

// explainMissing adds to the "connector acme is not installed" problems of a workflow
// why, when a connector file of that name failed to load.
func (e *Engine) explainMissing(def *workflow.Workflow, err error) error {
	var invalid *workflow.ValidationError
	if def == nil || !errors.As(err, &invalid) {
		return err
	}
	uses := map[string]string{}
	if def.Trigger.Poll != nil {
		uses["trigger.poll.uses"] = def.Trigger.Poll.Uses
	}
	for i, st := range def.Steps {
		uses[fmt.Sprintf("steps[%d].uses", i)] = st.Uses
	}
	for i := range invalid.Errors {
		fe := &invalid.Errors[i]
		name, _, _ := strings.Cut(uses[fe.Path], ".")
		if name == "" || !strings.Contains(fe.Message, "is not installed") {
			continue
		}
		if note := e.files.note(name); note != "" {
			fe.Message += "; " + note
		}
	}
	return err
}

// checkConnections reports steps naming a connection that does not exist or belongs to
// another connector.
func (e *Engine) checkConnections(ctx context.Context, def *workflow.Workflow) error {
	var problems []workflow.FieldError
	if wh := def.Trigger.Webhook; wh != nil && wh.Auth != nil && wh.Auth.Connection != "" {
		const path = "trigger.webhook.auth.connection"
		c, err := e.store.ConnectionByName(ctx, wh.Auth.Connection)
		switch {
		case errors.Is(err, store.ErrNotFound):
			problems = append(problems, workflow.FieldError{Path: path, Message: fmt.Sprintf("connection %q does not exist", wh.Auth.Connection)})
		case err != nil:
			return err
		case c.Connector != "webhook":
			problems = append(problems, workflow.FieldError{Path: path,
				Message: fmt.Sprintf("connection %q is for %s; webhook secrets live in a connection of connector webhook", wh.Auth.Connection, c.Connector)})
		default:
			// The secrets must suit the scheme (a whsec_ key for standard-webhooks, a
			// token Telegram accepts...): better a 422 now than a 503 on every delivery.
			conn, err := e.resolveConnection(ctx, wh.Auth.Connection)
			if err != nil {
				return err
			}
			if err := signature.ValidateConfig(authConfig(wh.Auth, conn)); err != nil {
				problems = append(problems, workflow.FieldError{Path: "trigger.webhook.auth", Message: err.Error()})
			}
		}
	}
	if p := def.Trigger.Poll; p != nil && p.Connection != "" {
		c, err := e.store.ConnectionByName(ctx, p.Connection)
		connector, _, _ := strings.Cut(p.Uses, ".")
		switch {
		case errors.Is(err, store.ErrNotFound):
			problems = append(problems, workflow.FieldError{Path: "trigger.poll.connection", Message: fmt.Sprintf("connection %q does not exist", p.Connection)})
		case err != nil:
			return err
		case c.Connector != connector:
			problems = append(problems, workflow.FieldError{Path: "trigger.poll.connection",
				Message: fmt.Sprintf("connection %q is for %s, not %s", p.Connection, c.Connector, connector)})
		}
	}
	if def.OnFailure != "" {
		if _, err := e.store.GetWorkflow(ctx, def.OnFailure); errors.Is(err, store.ErrNotFound) {
			problems = append(problems, workflow.FieldError{Path: "on_failure", Message: fmt.Sprintf("workflow %q does not exist", def.OnFailure)})
		} else if err != nil {
			return err
		}
	}
	for i, st := range def.Steps {
		if st.Connection == "" {
			continue
		}
		path := fmt.Sprintf("steps[%d].connection", i)
		c, err := e.store.ConnectionByName(ctx, st.Connection)
		if errors.Is(err, store.ErrNotFound) {
			problems = append(problems, workflow.FieldError{Path: path, Message: fmt.Sprintf("connection %q does not exist", st.Connection)})
			continue
		}
		if err != nil {
			return err
		}
		connector, _, _ := strings.Cut(st.Uses, ".")
		if c.Connector != connector {
			problems = append(problems, workflow.FieldError{Path: path,
				Message: fmt.Sprintf("connection %q is for %s, not %s", st.Connection, c.Connector, connector)})
		}
	}
	if len(problems) > 0 {
		return &workflow.ValidationError{Errors: problems}
	}
	return nil
}

func compactJSON(data []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("compact workflow json: %w", err)
	}
	return buf.Bytes(), nil
}

// CreateWorkflow validates and saves a new workflow (version 1) with a fresh webhook
// token.
func (e *Engine) CreateWorkflow(ctx context.Context, data []byte) (*Workflow, error) {
	if err := allow(ctx, RoleEditor, "create workflows"); err != nil {
		return nil, err
	}
	def, err := e.ValidateWorkflow(ctx, data)
	if err != nil {
		return nil, err
	}
	raw, err := compactJSON(data)
	if err != nil {
		return nil, err
	}
	token, err := newHookToken()
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	w := &store.Workflow{ID: newID(), Name: def.Name, Enabled: def.IsEnabled(), Version: 1,
		TriggerType: def.Trigger.Type, HookToken: token, Concurrency: def.Concurrency, CreatedAt: now, UpdatedAt: now}
	v := &store.WorkflowVersion{WorkflowID: w.ID, Version: 1, Definition: string(raw), CreatedAt: now}
	if err := e.store.CreateWorkflow(ctx, w, v); err != nil {
		return nil, translate(err)
	}
	e.hooks.reset()
	e.WakeScheduler()
	e.log.Info("Workflow created", slog.String("workflow_id", w.ID), slog.String("name", w.Name))
	e.audit(ctx, AuditWorkflowCreate, AuditKindWorkflow, w.ID, w.Name, workflowDiff(nil, raw))
	return workflowDTO(w, raw), nil
}

// UpdateWorkflow validates data and saves it as the workflow's next version. Earlier
// versions stay as they were; runs already queued keep the version they started with.
func (e *Engine) UpdateWorkflow(ctx context.Context, id string, data []byte) (*Workflow, error) {
	if err := allow(ctx, RoleEditor, "change workflows"); err != nil {
		return nil, err
	}
	w, err := e.store.GetWorkflow(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	def, err := e.ValidateWorkflow(ctx, data)
	if err != nil {
		return nil, err
	}
	if def.OnFailure == id {
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "on_failure",
			Message: "names this workflow itself: its alerts would fail in a loop; name another workflow"}}}
	}
	raw, err := compactJSON(data)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	w.Name, w.Enabled, w.TriggerType, w.Concurrency, w.UpdatedAt = def.Name, def.IsEnabled(), def.Trigger.Type, def.Concurrency, now
	v := &store.WorkflowVersion{WorkflowID: id, Version: w.Version + 1, Definition: string(raw), CreatedAt: now}
	if err := e.store.SaveWorkflowVersion(ctx, w, v); err != nil {
		return nil, translate(err)
	}
	e.hooks.reset()
	e.WakeScheduler()
	e.log.Info("Workflow saved", slog.String("workflow_id", id), slog.Int("version", w.Version))
	e.auditWorkflowUpdate(ctx, w, raw)
	return workflowDTO(w, raw), nil
}

// GetWorkflow returns a workflow with its current definition.
func (e *Engine) GetWorkflow(ctx context.Context, id string) (*Workflow, error) {
	w, err := e.store.GetWorkflow(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	v, err := e.store.GetWorkflowVersion(ctx, id, w.Version)
	if err != nil {
		return nil, translate(err)
	}
	return workflowDTO(w, json.RawMessage(v.Definition)), nil
}

// ListWorkflows returns a page of workflows, newest first, without their definitions.
func (e *Engine) ListWorkflows(ctx context.Context, cursor string, limit int) (*Page[Workflow], error) {
	limit = clampLimit(limit)
	rows, err := e.store.ListWorkflows(ctx, cursor, limit+1)
	if err != nil {
		return nil, err
	}
	page := &Page[Workflow]{Items: make([]Workflow, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = rows[limit-1].ID
	}
	for i := range rows {
		page.Items = append(page.Items, *workflowDTO(&rows[i], nil))
	}
	return page, nil
}

// DeleteWorkflow deletes a workflow: from now on it is not found, its webhook answers
// 404, its queued runs never start and its running ones stop at their next step. Its
// versions, runs, steps and events are removed in the background, in small batches, by
// the pruner (woken now in this process).
func (e *Engine) DeleteWorkflow(ctx context.Context, id string) error {
	if err := allow(ctx, RoleEditor, "delete workflows"); err != nil {
		return err
	}
	stopping, err := e.store.DeleteWorkflow(ctx, id, e.cfg.Now())
	if err != nil {
		return translate(err)
	}
	e.hearCancels(stopping)
	e.hooks.reset()
	e.WakeScheduler()
	e.wakePruner()
	e.log.Info("Workflow deleted", slog.String("workflow_id", id))
	e.auditWorkflowDelete(ctx, id)
	return nil
}

// ListWorkflowVersions returns every version of a workflow, newest first.
func (e *Engine) ListWorkflowVersions(ctx context.Context, id string) ([]WorkflowVersion, error) {
	if _, err := e.store.GetWorkflow(ctx, id); err != nil {
		return nil, translate(err)
	}
	rows, err := e.store.ListWorkflowVersions(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]WorkflowVersion, len(rows))
	for i, r := range rows {
		out[i] = WorkflowVersion{Version: r.Version, Definition: json.RawMessage(r.Definition), CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// presetDedupe gives a webhook verified by a preset whose sender stamps each delivery
// with an id (GitHub, Standard Webhooks) that id as its default dedupe key, so
// redeliveries start nothing unless the workflow says otherwise.
func presetDedupe(wf *workflow.Compiled) error {
	wh := wf.Def.Trigger.Webhook
	if wf.Dedupe != nil || wh == nil || wh.Auth == nil {
		return nil
	}
	src := signature.DefaultDedupe(wh.Auth.Type)
	if src == "" {
		return nil
	}
	p, err := expr.Compile(src)
	if err != nil {
		return fmt.Errorf("compile the %s preset's dedupe key: %w", wh.Auth.Type, err)
	}
	wf.Dedupe = p
	return nil
}

func workflowDTO(w *store.Workflow, def json.RawMessage) *Workflow {
	return &Workflow{ID: w.ID, Name: w.Name, Enabled: w.Enabled, Version: w.Version, TriggerType: w.TriggerType,
		HookToken: w.HookToken, Definition: def, CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
}

// versionCache keeps compiled workflow versions. Versions are immutable, but the
// connectors they are compiled against are not (declarative files come, change and go):
// entries hold for one generation of the registry and the cache is bounded.
type versionCache struct {
	store *store.Store
	reg   *connectors.Registry
	// missing explains why a connector is not installed, for the step errors of stored
	// versions that use it; nil or "" says nothing more.
	missing func(name string) string
	mu      sync.RWMutex
	gen     uint64
	items   map[versionKey]*workflow.Compiled
}

type versionKey struct {
	id      string
	version int
}

const versionCacheMax = 4096

func newVersionCache(st *store.Store, reg *connectors.Registry) *versionCache {
	return &versionCache{store: st, reg: reg, items: map[versionKey]*workflow.Compiled{}}
}

func (c *versionCache) get(ctx context.Context, id string, version int) (*workflow.Compiled, error) {
	key := versionKey{id, version}
	gen := c.reg.Generation()
	c.mu.RLock()
	wf, ok := c.items[key]
	ok = ok && c.gen == gen
	c.mu.RUnlock()
	if ok {
		return wf, nil
	}
	v, err := c.store.GetWorkflowVersion(ctx, id, version)
	if err != nil {
		return nil, err
	}
	def, err := workflow.Parse([]byte(v.Definition))
	if err != nil {
		return nil, fmt.Errorf("parse stored version %d of workflow %s: %w", version, id, err)
	}
	wf, err = workflow.Compile(def, withMissing(def, c.reg, c.missing))
	if err != nil {
		return nil, fmt.Errorf("compile stored version %d of workflow %s: %w", version, id, err)
	}
	if err := presetDedupe(wf); err != nil {
		return nil, fmt.Errorf("compile stored version %d of workflow %s: %w", version, id, err)
	}
	c.mu.Lock()
	switch {
	case gen < c.gen:
		// Compiled against a registry that has moved on since: used once, not kept.
	case gen > c.gen || len(c.items) >= versionCacheMax:
		clear(c.items) // rare; recompiling costs microseconds per expression
		c.gen = gen
		c.items[key] = wf
	default:
		c.items[key] = wf
	}
	c.mu.Unlock()
	return wf, nil
}

// withMissing returns reg, plus a stand-in for each connector, action or poller the
// workflow uses that reg lacks. A saved version whose connector has gone (its file
// deleted, broken on its first load, or missing from this process's folder in a cluster)
// or whose action a changed file no longer has still compiles, so its runs start, and
// the step that needs what is missing fails with an error saying so. The error is
// retryable under the step's retry policy: the retry is a queued run that any process
// may claim, and another process, or this one after its next reload, may have it.
func withMissing(def *workflow.Workflow, reg *connectors.Registry, why func(string) string) *connectors.Registry {
	repl := map[string]*connectors.Connector{}
	reasons := map[string]string{}
	// target returns the connector to add the stand-in to: a copy of the installed one,
	// or an empty one with the reason it is missing.
	target := func(name string) (*connectors.Connector, string) {
		if c := repl[name]; c != nil {
			return c, reasons[name]
		}
		var c *connectors.Connector
		msg := ""
		if have, ok := reg.Connector(name); ok {
			cp := *have
			cp.Actions, cp.Pollers = slices.Clone(have.Actions), slices.Clone(have.Pollers)
			c = &cp
		} else {
			msg = fmt.Sprintf("connector %s is not installed in this process", name)
			if why != nil {
				if note := why(name); note != "" {
					msg += "; " + note
				}
			}
			c = &connectors.Connector{Name: name, Title: name, Origin: "missing"}
		}
		repl[name], reasons[name] = c, msg
		return c, msg
	}
	for _, st := range def.Steps {
		name, action, ok := strings.Cut(st.Uses, ".")
		if !ok || name == "" || action == "" {
			continue
		}
		if _, _, found := reg.Action(st.Uses); found {
			continue
		}
		c, msg := target(name)
		if _, found := c.Action(action); found {
			continue
		}
		if msg == "" {
			msg = fmt.Sprintf("connector %s has no action %s in this process (its file may have changed)", name, action)
		}
		c.Actions = append(c.Actions, &connectors.ActionDef{
			ActionSpec: connectors.ActionSpec{Name: action, Title: action, FreeInputs: true},
			New:        func() connectors.Action { return missingConnector(msg) },
		})
	}
	if p := def.Trigger.Poll; p != nil {
		name, poller, ok := strings.Cut(p.Uses, ".")
		if _, _, found := reg.Poller(p.Uses); ok && name != "" && poller != "" && !found {
			c, msg := target(name)
			if msg == "" {
				msg = fmt.Sprintf("connector %s has no poller %s in this process (its file may have changed)", name, poller)
			}
			spec := connectors.PollerSpec{Name: poller, Title: poller}
			for _, k := range slices.Sorted(maps.Keys(p.With)) {
				spec.Inputs = append(spec.Inputs, connectors.Field{Name: k, Type: connectors.TypeAny})
			}
			c.Pollers = append(c.Pollers, &connectors.PollerDef{PollerSpec: spec,
				New: func() connectors.Poller { return missingConnector(msg) }})
		}
	}
	if len(repl) == 0 {
		return reg
	}
	cs := make([]*connectors.Connector, 0, len(repl))
	for _, c := range repl {
		cs = append(cs, c)
	}
	return reg.With(cs...)
}

// missingConnector is the action and poller of a connector that is not installed: every
// call fails, retryably, with the reason.
type missingConnector string

func (m missingConnector) Run(context.Context, *connectors.Call) (any, error) {
	return nil, errors.New(string(m))
}

func (m missingConnector) Poll(context.Context, *connectors.PollCall) (*connectors.PollResult, error) {
	return nil, errors.New(string(m))
}

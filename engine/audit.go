package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/hookflow/hookflow/engine/store"
)

// Audited actions: "<target kind>.<verb>".
const (
	AuditWorkflowCreate      = "workflow.create"
	AuditWorkflowUpdate      = "workflow.update"
	AuditWorkflowDelete      = "workflow.delete"
	AuditWorkflowRotateToken = "workflow.rotate_token"
	AuditConnectionCreate    = "connection.create"
	AuditConnectionUpdate    = "connection.update"
	AuditConnectionDelete    = "connection.delete"
	AuditUserCreate          = "user.create"
	AuditUserUpdate          = "user.update"
	AuditTokenCreate         = "token.create"
	AuditTokenRevoke         = "token.revoke"
	AuditRunReplay           = "run.replay"
	AuditRunCancel           = "run.cancel"
	AuditConnectorCreate     = "connector.create"
	AuditConnectorUpdate     = "connector.update"
	AuditConnectorDelete     = "connector.delete"
)

// Audit target kinds.
const (
	AuditKindWorkflow   = "workflow"
	AuditKindConnection = "connection"
	AuditKindUser       = "user"
	AuditKindToken      = "token"
	AuditKindRun        = "run"
	AuditKindConnector  = "connector"
)

// ViaSystem is the audit log's "via" of a change made without an actor: the CLI run by
// the machine's operator, schedules, workers.
const ViaSystem = "system"

// AuditEntry is one change as the audit log shows it. Diff holds only non-secret fields:
// each changed field as {"from": …, "to": …} (from left out on create, to on delete), a
// workflow's steps by id as {"added", "removed", "changed"}, and a connection's secrets
// by name as "set" or "removed", never their values.
type AuditEntry struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    string          `json:"actor_id"`
	ActorEmail string          `json:"actor_email"`
	Via        string          `json:"via"`
	Action     string          `json:"action"`
	TargetKind string          `json:"target_kind"`
	TargetID   string          `json:"target_id"`
	TargetName string          `json:"target_name,omitempty"`
	Diff       json.RawMessage `json:"diff"`
	ClientAddr string          `json:"client_addr,omitempty"`
}

// AuditFilter selects audit entries: Kind is a target kind, Target a target's id or
// name, Actor a user's id or email.
type AuditFilter struct {
	Kind   string
	Target string
	Actor  string
	Cursor string
	Limit  int
}

// ListAudit returns a page of the audit log, newest first. Only admins (and the system)
// may read it: it names every user and what they did.
func (e *Engine) ListAudit(ctx context.Context, f AuditFilter) (*Page[AuditEntry], error) {
	if a := ActorFrom(ctx); a != nil && a.Role != RoleAdmin {
		return nil, fmt.Errorf("%w: only admins may read the audit log", ErrForbidden)
	}
	limit := clampLimit(f.Limit)
	rows, err := e.store.ListAudit(ctx, store.AuditFilter{Kind: f.Kind, Target: f.Target, Actor: f.Actor, Before: f.Cursor, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	page := &Page[AuditEntry]{Items: make([]AuditEntry, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = rows[limit-1].ID
	}
	for _, r := range rows {
		page.Items = append(page.Items, AuditEntry{ID: r.ID, At: r.At.UTC(), ActorID: r.ActorID, ActorEmail: r.ActorEmail,
			Via: r.Via, Action: r.Action, TargetKind: r.TargetKind, TargetID: r.TargetID, TargetName: r.TargetName,
			Diff: json.RawMessage(r.Diff), ClientAddr: r.ClientAddr})
	}
	return page, nil
}

// audit records a change made by ctx's actor. It runs right after the change has been
// committed, not in its transaction: each store method owns its transaction, and
// threading an audit row through all of them would change every repository signature
// for a gain of one lost row on a crash between two commits. A failed audit write is
// logged, not returned: the change is done, and an error would make the client retry a
// change that already happened.
func (e *Engine) audit(ctx context.Context, action, kind, id, name string, diff map[string]any) {
	if diff == nil {
		diff = map[string]any{}
	}
	b, err := json.Marshal(diff)
	if err != nil {
		e.log.Error("Audit entry not written", slog.String("action", action), slog.String("target_id", id), slog.Any("err", err))
		return
	}
	row := &store.AuditEntry{ID: newID(), At: e.cfg.Now(), Via: ViaSystem, Action: action,
		TargetKind: kind, TargetID: id, TargetName: name, Diff: string(b)}
	if a := ActorFrom(ctx); a != nil {
		row.ActorID, row.ActorEmail, row.Via, row.ClientAddr = a.UserID, a.Email, a.Via, a.Addr
	}
	// The change is committed even when the caller has gone: the record of it must be too.
	if err := e.store.AddAudit(context.WithoutCancel(ctx), row); err != nil {
		e.log.Error("Audit entry not written", slog.String("action", action), slog.String("target_id", id), slog.Any("err", err))
	}
}

// change is one changed field of an audit diff.
type change struct {
	From any `json:"from,omitempty"`
	To   any `json:"to,omitempty"`
}

// canonical re-encodes a JSON value with sorted keys, so equal values compare equal.
func canonical(raw json.RawMessage) json.RawMessage {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}

// changedFields compares two sets of fields, by their JSON, into {"field": {from, to}};
// either side may be nil (create, delete).
func changedFields(before, after map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(before, after))) {
		a, inA := before[k]
		b, inB := after[k]
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if inA == inB && bytes.Equal(canonical(ja), canonical(jb)) {
			continue
		}
		c := change{}
		if inA {
			c.From = json.RawMessage(canonical(ja))
		}
		if inB {
			c.To = json.RawMessage(canonical(jb))
		}
		out[k] = c
	}
	return out
}

func mergeKeys(ms ...map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

// workflowDiff compares two workflow definitions: the changed top-level fields, and the
// steps by id (added, removed, changed), not their contents, to keep entries small.
// before is nil on create.
func workflowDiff(before, after []byte) map[string]any {
	top := func(b []byte) (map[string]any, []map[string]json.RawMessage) {
		if b == nil {
			return nil, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, nil
		}
		var steps []map[string]json.RawMessage
		_ = json.Unmarshal(m["steps"], &steps)
		out := map[string]any{}
		for k, v := range m {
			if k != "steps" {
				out[k] = v
			}
		}
		return out, steps
	}
	bf, bs := top(before)
	af, as := top(after)
	diff := changedFields(bf, af)
	byID := func(steps []map[string]json.RawMessage) map[string]string {
		out := map[string]string{}
		for _, st := range steps {
			var id string
			_ = json.Unmarshal(st["id"], &id)
			b, _ := json.Marshal(st)
			out[id] = string(canonical(b))
		}
		return out
	}
	old, cur := byID(bs), byID(as)
	steps := map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(cur)) {
		prev, ok := old[id]
		switch {
		case !ok:
			steps["added"] = append(steps["added"], id)
		case prev != cur[id]:
			steps["changed"] = append(steps["changed"], id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(old)) {
		if _, ok := cur[id]; !ok {
			steps["removed"] = append(steps["removed"], id)
		}
	}
	if len(steps) > 0 {
		diff["steps"] = steps
	}
	return diff
}

// connectionDiff compares a connection before and after a change (before is nil on
// create, after on delete): the connector, the changed plain settings, and the secrets
// by name only, "set" when given a value (sent holds the request's settings) and
// "removed" when gone. Sealed values are never decoded here, so none can leak.
func connectionDiff(before, after *store.Connection, sent map[string]any) map[string]any {
	plain := func(c *store.Connection) (map[string]any, map[string]bool, map[string]any) {
		if c == nil {
			return nil, nil, nil
		}
		cfg := map[string]any{}
		_ = json.Unmarshal([]byte(c.Config), &cfg)
		var sealed map[string]string
		_ = json.Unmarshal([]byte(c.Secrets), &sealed)
		names := map[string]bool{}
		for k := range sealed {
			names[k] = true
		}
		return cfg, names, map[string]any{"connector": c.Connector}
	}
	bc, bs, bt := plain(before)
	ac, as, at := plain(after)
	diff := changedFields(bt, at)
	if cfg := changedFields(bc, ac); len(cfg) > 0 {
		diff["config"] = cfg
	}
	secrets := map[string]string{}
	for k := range as {
		if v, ok := sent[k]; !bs[k] || ok && v != nil {
			secrets[k] = "set"
		}
	}
	for k := range bs {
		if !as[k] {
			secrets[k] = "removed"
		}
	}
	if len(secrets) > 0 {
		diff["secrets"] = secrets
	}
	return diff
}

// auditWorkflowUpdate records a saved version against the one it replaced.
func (e *Engine) auditWorkflowUpdate(ctx context.Context, w *store.Workflow, raw []byte) {
	var before []byte
	if prev, err := e.store.GetWorkflowVersion(ctx, w.ID, w.Version-1); err == nil {
		before = []byte(prev.Definition)
	}
	diff := workflowDiff(before, raw)
	diff["version"] = change{From: w.Version - 1, To: w.Version}
	e.audit(ctx, AuditWorkflowUpdate, AuditKindWorkflow, w.ID, w.Name, diff)
}

// auditWorkflowDelete records a deleted workflow under its name, read from the row that
// the pruner has yet to remove.
func (e *Engine) auditWorkflowDelete(ctx context.Context, id string) {
	name, _ := e.store.WorkflowName(ctx, id)
	e.audit(ctx, AuditWorkflowDelete, AuditKindWorkflow, id, name, map[string]any{"name": change{From: name}})
}

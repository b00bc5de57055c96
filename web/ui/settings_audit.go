package ui

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// auditKinds are the target kinds the audit log can be filtered by.
var auditKinds = []string{engine.AuditKindWorkflow, engine.AuditKindConnection, engine.AuditKindUser, engine.AuditKindToken, engine.AuditKindRun, engine.AuditKindConnector}

// auditActions are the actions the catalogue names; others show as they are.
var auditActions = []string{engine.AuditWorkflowCreate, engine.AuditWorkflowUpdate, engine.AuditWorkflowDelete,
	engine.AuditWorkflowRotateToken, engine.AuditConnectionCreate, engine.AuditConnectionUpdate, engine.AuditConnectionDelete,
	engine.AuditUserCreate, engine.AuditUserUpdate, engine.AuditUserPassword, engine.AuditTokenCreate, engine.AuditTokenRevoke,
	engine.AuditRunReplay, engine.AuditRunCancel, engine.AuditConnectorCreate, engine.AuditConnectorUpdate, engine.AuditConnectorDelete}

func init() {
	addBuiltKeys("audit.kind.", auditKinds...)
	addBuiltKeys("audit.action.", auditActions...)
	addBuiltKeys("audit.via.", "ui", "api", "cli", engine.ViaSystem)
}

// auditPage is the data of the audit log page (admins only: the engine refuses the
// others).
type auditPage struct {
	settingsHeader
	Entries []auditRow
	// Kind and Actor are the filters.
	Kind  string
	Actor string
	Kinds []string
	// Next is the address of the next (older) page, if any.
	Next string
}

// auditRow is one entry with its diff flattened into readable changes.
type auditRow struct {
	engine.AuditEntry
	Changes []auditChange
	// ActionLabel and ViaLabel are translated where the catalogue knows them.
	ActionLabel string
	ViaLabel    string
	// Link is the target's page, if it has one.
	Link string
}

// auditChange is one changed field: From and To (a field set on create has no From),
// or a Value for entries that are not a change of a value (a secret "set").
type auditChange struct {
	Field   string
	From    string
	To      string
	HasFrom bool
	HasTo   bool
	Value   string
}

// auditList shows the audit log, newest first, filtered by target kind and actor, a
// page at a time.
func (h *Handler) auditList(c *gin.Context, v *view) {
	p := &auditPage{settingsHeader: settingsHeader{Tab: "audit"}, Kind: c.Query("kind"), Actor: strings.TrimSpace(c.Query("actor")),
		Kinds: auditKinds}
	if !slices.Contains(auditKinds, p.Kind) {
		p.Kind = ""
	}
	page, err := h.engine.ListAudit(c.Request.Context(), engine.AuditFilter{Kind: p.Kind, Actor: p.Actor, Cursor: c.Query("cursor")})
	if err != nil {
		h.fail(c, v, err)
		return
	}
	for _, e := range page.Items {
		row := auditRow{AuditEntry: e, ActionLabel: translatedOr(v, "audit.action."+e.Action, e.Action),
			ViaLabel: translatedOr(v, "audit.via."+e.Via, e.Via)}
		var diff any
		if err := json.Unmarshal(e.Diff, &diff); err == nil {
			flattenDiff("", diff, &row.Changes)
		}
		switch e.TargetKind {
		case engine.AuditKindWorkflow:
			if e.Action != engine.AuditWorkflowDelete {
				row.Link = "/workflows/" + url.PathEscape(e.TargetID)
			}
		case engine.AuditKindConnection:
			if e.Action != engine.AuditConnectionDelete {
				row.Link = "/connections/" + url.PathEscape(e.TargetName)
			}
		case engine.AuditKindRun:
			row.Link = "/runs/" + url.PathEscape(e.TargetID)
		}
		p.Entries = append(p.Entries, row)
	}
	if page.NextCursor != "" {
		q := url.Values{"cursor": {page.NextCursor}}
		if p.Kind != "" {
			q.Set("kind", p.Kind)
		}
		if p.Actor != "" {
			q.Set("actor", p.Actor)
		}
		p.Next = "/settings/audit?" + q.Encode()
	}
	v.Data = p
	h.render(c, http.StatusOK, "settings_audit", v)
}

// translatedOr is the catalogue's message for key, or fallback when it has none.
func translatedOr(v *view, key, fallback string) string {
	if s := v.T(key); s != key {
		return s
	}
	return fallback
}

// flattenDiff turns an audit diff into a list of changes: {"from", "to"} objects become
// one change, named by the path of keys leading to them ("config.base_url"); other
// values (a secret's "set", a workflow's added steps) are shown as they are.
func flattenDiff(prefix string, x any, out *[]auditChange) {
	m, ok := x.(map[string]any)
	if !ok {
		if prefix != "" {
			*out = append(*out, auditChange{Field: prefix, Value: diffValue(x)})
		}
		return
	}
	if len(m) > 0 && len(m) <= 2 {
		from, hasFrom := m["from"]
		to, hasTo := m["to"]
		if len(m) == btoi(hasFrom)+btoi(hasTo) {
			*out = append(*out, auditChange{Field: prefix, From: diffValue(from), To: diffValue(to), HasFrom: hasFrom, HasTo: hasTo})
			return
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		flattenDiff(name, m[k], out)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// diffValue shows a value of a diff: text as it is, lists joined, the rest as JSON.
func diffValue(x any) string {
	switch y := x.(type) {
	case string:
		return y
	case []any:
		parts := make([]string, len(y))
		for i, e := range y {
			parts[i] = diffValue(e)
		}
		return strings.Join(parts, ", ")
	case nil:
		return "null"
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}

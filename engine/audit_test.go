package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestAuditLog: each audited service call writes one entry naming the actor, how they
// came in, the target and a diff of the non-secret fields; a secret's value appears
// nowhere in the table; only admins and the system may read it, newest first, in pages.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	const secret = "sk-AUDIT-must-not-appear-91c2"
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		eng := enginetest.New(t, d, enginetest.Options{Workers: -1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
		sys := context.Background()
		ctx := engine.WithActor(sys, &engine.Actor{UserID: "u-admin", Email: "admin@example.com", Role: engine.RoleAdmin, Via: "ui", Addr: "192.0.2.7"})

		wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"one","trigger":{"type":"webhook"},"steps":[
			{"id":"a","uses":"core.set","with":{"x":"1"}},{"id":"b","uses":"core.set","with":{"y":"1"}}]}`))
		require.NoError(t, err)
		_, err = eng.UpdateWorkflow(ctx, wf.ID, []byte(`{"name":"two","trigger":{"type":"webhook"},"steps":[
			{"id":"a","uses":"core.set","with":{"x":"2"}},{"id":"c","uses":"core.set","with":{"z":"1"}}]}`))
		require.NoError(t, err)
		_, err = eng.RotateHookToken(ctx, wf.ID)
		require.NoError(t, err)
		wf, err = eng.GetWorkflow(sys, wf.ID)
		require.NoError(t, err)

		_, err = eng.CreateConnection(ctx, engine.ConnectionInput{Name: "crm", Connector: "http",
			Config: map[string]any{"base_url": "https://crm.example.com", "auth": "header", "header_name": "X-Api-Key", "header_value": secret}})
		require.NoError(t, err)
		_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
			"base_url": "https://crm.example.com", "auth": "header", "header_name": "X-Key", "header_value": secret + "-2"}})
		require.NoError(t, err)
		_, err = eng.UpdateConnection(ctx, "crm", engine.ConnectionInput{Config: map[string]any{
			"base_url": "https://crm.example.com", "auth": "none", "header_value": nil}})
		require.NoError(t, err)
		require.NoError(t, eng.DeleteConnection(ctx, "crm"))

		_, err = eng.CreateUser(ctx, "viewer@example.com", "correct horse battery", engine.RoleViewer)
		require.NoError(t, err)
		_, err = eng.CreateToken(ctx, "viewer@example.com", "laptop")
		require.NoError(t, err)

		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		replay, err := eng.Replay(ctx, runID, engine.ReplayStart)
		require.NoError(t, err)
		_, err = eng.Cancel(ctx, replay.ID)
		require.NoError(t, err)
		require.NoError(t, eng.DeleteWorkflow(ctx, wf.ID))
		// A call without an actor is the system's.
		_, err = eng.CreateUser(sys, "editor@example.com", "correct horse battery", engine.RoleEditor)
		require.NoError(t, err)

		page, err := eng.ListAudit(sys, engine.AuditFilter{Limit: 100})
		require.NoError(t, err)
		require.Empty(t, page.NextCursor)
		var actions []string
		diffs := map[string][]map[string]any{}
		for _, e := range page.Items {
			actions = append(actions, e.Action)
			var diff map[string]any
			require.NoError(t, json.Unmarshal(e.Diff, &diff), e.Action)
			diffs[e.Action] = append(diffs[e.Action], diff)
			require.WithinDuration(t, clock.Now(), e.At, time.Millisecond, "the engine's clock")
			if e.Action == engine.AuditUserCreate && e.TargetName == "editor@example.com" {
				require.Equal(t, engine.ViaSystem, e.Via)
				require.Empty(t, e.ActorID)
				require.Empty(t, e.ClientAddr)
				continue
			}
			require.Equal(t, "u-admin", e.ActorID, e.Action)
			require.Equal(t, "admin@example.com", e.ActorEmail, e.Action)
			require.Equal(t, "ui", e.Via, e.Action)
			require.Equal(t, "192.0.2.7", e.ClientAddr, e.Action)
		}
		require.Equal(t, []string{ // newest first
			engine.AuditUserCreate, engine.AuditWorkflowDelete, engine.AuditRunCancel, engine.AuditRunReplay,
			engine.AuditTokenCreate, engine.AuditUserCreate,
			engine.AuditConnectionDelete, engine.AuditConnectionUpdate, engine.AuditConnectionUpdate, engine.AuditConnectionCreate,
			engine.AuditWorkflowRotateToken, engine.AuditWorkflowUpdate, engine.AuditWorkflowCreate,
		}, actions)

		js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
		require.JSONEq(t, `{"name":{"to":"one"},"trigger":{"to":{"type":"webhook"}},"steps":{"added":["a","b"]}}`,
			js(diffs[engine.AuditWorkflowCreate][0]))
		require.JSONEq(t, `{"name":{"from":"one","to":"two"},"version":{"from":1,"to":2},
			"steps":{"added":["c"],"changed":["a"],"removed":["b"]}}`, js(diffs[engine.AuditWorkflowUpdate][0]))
		require.JSONEq(t, `{"hook_token":"rotated"}`, js(diffs[engine.AuditWorkflowRotateToken][0]))
		require.JSONEq(t, `{"name":{"from":"two"}}`, js(diffs[engine.AuditWorkflowDelete][0]))
		require.JSONEq(t, `{"connector":{"to":"http"},
			"config":{"base_url":{"to":"https://crm.example.com"},"auth":{"to":"header"},"header_name":{"to":"X-Api-Key"}},
			"secrets":{"header_value":"set"}}`, js(diffs[engine.AuditConnectionCreate][0]))
		updates := diffs[engine.AuditConnectionUpdate] // newest first
		require.JSONEq(t, `{"config":{"header_name":{"from":"X-Api-Key","to":"X-Key"}},"secrets":{"header_value":"set"}}`, js(updates[1]))
		require.JSONEq(t, `{"config":{"auth":{"from":"header","to":"none"},"header_name":{"from":"X-Key"}},
			"secrets":{"header_value":"removed"}}`, js(updates[0]))
		require.JSONEq(t, `{"role":{"to":"viewer"},"email":{"to":"viewer@example.com"}}`, js(diffs[engine.AuditUserCreate][1]))
		require.JSONEq(t, `{"user":{"to":"viewer@example.com"},"name":{"to":"laptop"}}`, js(diffs[engine.AuditTokenCreate][0]))
		require.Equal(t, replay.ID, diffs[engine.AuditRunReplay][0]["replay_run_id"])

		// The whole table, not only what the listing shows, holds no secret value.
		st, err := store.Open(sys, store.Config{URL: eng.DatabaseURL})
		require.NoError(t, err)
		defer st.Close()
		dump, err := st.DumpTable(sys, "audit_log")
		require.NoError(t, err)
		require.Contains(t, dump, "header_value", "the dump does read the table")
		require.NotContains(t, dump, "AUDIT-must-not-appear")

		// Filters and cursor pages.
		conn, err := eng.ListAudit(sys, engine.AuditFilter{Kind: engine.AuditKindConnection, Target: "crm", Limit: 3})
		require.NoError(t, err)
		require.Len(t, conn.Items, 3)
		require.NotEmpty(t, conn.NextCursor)
		rest, err := eng.ListAudit(sys, engine.AuditFilter{Kind: engine.AuditKindConnection, Target: "crm", Limit: 3, Cursor: conn.NextCursor})
		require.NoError(t, err)
		require.Len(t, rest.Items, 1)
		require.Equal(t, engine.AuditConnectionCreate, rest.Items[0].Action)
		require.Empty(t, rest.NextCursor)
		byID, err := eng.ListAudit(sys, engine.AuditFilter{Target: wf.ID})
		require.NoError(t, err)
		require.Len(t, byID.Items, 4)
		mine, err := eng.ListAudit(ctx, engine.AuditFilter{Actor: "admin@example.com"})
		require.NoError(t, err)
		require.Len(t, mine.Items, len(actions)-1)

		for _, role := range []string{engine.RoleEditor, engine.RoleViewer} {
			_, err := eng.ListAudit(engine.WithActor(sys, &engine.Actor{UserID: "u", Role: role, Via: "api"}), engine.AuditFilter{})
			require.ErrorIs(t, err, engine.ErrForbidden, role)
		}
	})
}

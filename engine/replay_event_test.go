package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestReplayEvent: an editor replays a stored request. An accepted one runs again as a
// replay of its first run; a rejected one is copied into a new accepted event whose run
// reads the same body; a request kept only in part, another workflow's request and a
// viewer are refused; each replay is in the audit log.
func TestReplayEvent(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{})
		sys := context.Background()
		editor := engine.WithActor(sys, &engine.Actor{UserID: "u-ed", Email: "ed@example.com", Role: engine.RoleEditor, Via: "ui"})
		viewer := engine.WithActor(sys, &engine.Actor{UserID: "u-view", Email: "view@example.com", Role: engine.RoleViewer, Via: "ui"})
		_, err := eng.CreateConnection(sys, engine.ConnectionInput{Name: "hook", Connector: "webhook",
			Config: map[string]any{"secret": "s3cret-token-value"}})
		require.NoError(t, err)
		wf, err := eng.CreateWorkflow(sys, []byte(`{"name":"guarded","trigger":{"type":"webhook","webhook":{
			"auth":{"type":"token","connection":"hook","header":"X-Token"}}},
			"steps":[{"id":"echo","uses":"core.set","with":{"name":"{{ trigger.body.name }}"}}]}`))
		require.NoError(t, err)
		other, err := eng.CreateWorkflow(sys, []byte(`{"name":"other","trigger":{"type":"webhook"},"steps":[]}`))
		require.NoError(t, err)

		send := func(token, body string) (*engine.IngestResult, error) {
			return eng.Ingest(sys, wf.HookToken, engine.IngestRequest{Method: "POST", Body: []byte(body),
				Header: http.Header{"Content-Type": {"application/json"}, "X-Token": {token}}})
		}
		ok, err := send("s3cret-token-value", `{"name":"Ann"}`)
		require.NoError(t, err)
		first := enginetest.WaitRun(t, eng.Engine, ok.RunID)
		require.Equal(t, engine.RunSucceeded, first.Status)
		_, err = send("wrong", `{"name":"Bob"}`)
		require.ErrorIs(t, err, engine.ErrRejected)

		events, err := eng.ListEvents(sys, wf.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, events.Items, 2)
		rejected := events.Items[0]
		require.Equal(t, store.VerdictRejected, rejected.Verdict)
		require.Empty(t, rejected.RunID)
		require.Equal(t, "******", rejected.Headers["x-token"], "the wrong token is masked too")

		_, err = eng.ReplayEvent(viewer, wf.ID, rejected.ID)
		require.ErrorIs(t, err, engine.ErrForbidden)
		_, err = eng.ReplayEvent(editor, other.ID, rejected.ID)
		require.ErrorIs(t, err, engine.ErrNotFound, "an event is replayed only under its own workflow")
		_, err = eng.ReplayEvent(editor, wf.ID, "no-such-event")
		require.ErrorIs(t, err, engine.ErrNotFound)

		// Accepted: a replay of its run, on the same event.
		again, err := eng.ReplayEvent(editor, wf.ID, ok.EventID)
		require.NoError(t, err)
		require.Equal(t, ok.RunID, again.ReplayOf)
		require.Equal(t, ok.EventID, again.EventID)
		require.Equal(t, engine.RunSucceeded, enginetest.WaitRun(t, eng.Engine, again.ID).Status)

		// Rejected: a new accepted event with the same body.
		forced, err := eng.ReplayEvent(editor, wf.ID, rejected.ID)
		require.NoError(t, err)
		require.NotEqual(t, rejected.ID, forced.EventID)
		require.Empty(t, forced.ReplayOf)
		run := enginetest.WaitRun(t, eng.Engine, forced.ID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.JSONEq(t, `{"name":"Bob"}`, string(run.Steps[0].Output))
		events, err = eng.ListEvents(sys, wf.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, events.Items, 3)
		copied := events.Items[0]
		require.Equal(t, forced.EventID, copied.ID)
		require.Equal(t, store.VerdictAccepted, copied.Verdict)
		require.Equal(t, "replay of rejected request "+rejected.ID, copied.Reason)
		require.Equal(t, forced.ID, copied.RunID)
		require.Equal(t, "******", copied.Headers["x-token"])

		// A body cut for the inspector cannot be replayed.
		_, err = send("wrong", `{"name":"`+strings.Repeat("x", engine.InspectorBodyLimit)+`"}`)
		require.ErrorIs(t, err, engine.ErrRejected)
		events, err = eng.ListEvents(sys, wf.ID, "", 1)
		require.NoError(t, err)
		require.True(t, events.Items[0].Truncated)
		_, err = eng.ReplayEvent(editor, wf.ID, events.Items[0].ID)
		require.ErrorIs(t, err, engine.ErrConflict)

		audit, err := eng.ListAudit(sys, engine.AuditFilter{})
		require.NoError(t, err)
		var actions []string
		for _, a := range audit.Items {
			if a.ActorEmail == "ed@example.com" {
				actions = append(actions, a.Action+" "+a.TargetID)
			}
		}
		require.Equal(t, []string{engine.AuditEventReplay + " " + rejected.ID, engine.AuditRunReplay + " " + ok.RunID}, actions)
		var diff map[string]any
		require.NoError(t, json.Unmarshal(audit.Items[0].Diff, &diff))
		require.Equal(t, forced.ID, diff["replay_run_id"])
		require.Equal(t, store.VerdictRejected, diff["verdict"])
	})
}

// TestListRunsByTime: From includes, To excludes, both bound created_at, and they
// combine with the other filters and the cursor.
func TestListRunsByTime(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		start := enginetest.ClockStart().Truncate(time.Second)
		clock := enginetest.NewClock(start)
		eng := enginetest.New(t, d, enginetest.Options{Workers: -1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
		wf, err := eng.CreateWorkflow(context.Background(), []byte(`{"name":"t","trigger":{"type":"webhook"},"steps":[]}`))
		require.NoError(t, err)
		var ids []string
		for range 5 {
			ids = append(ids, ingest(t, eng.Engine, wf, `{}`).RunID)
			clock.Advance(time.Hour)
		}
		list := func(f engine.RunFilter) []string {
			t.Helper()
			f.WorkflowID = wf.ID
			page, err := eng.ListRuns(context.Background(), f)
			require.NoError(t, err)
			var out []string
			for _, r := range page.Items {
				out = append(out, r.ID)
			}
			return out
		}
		require.Equal(t, []string{ids[3], ids[2], ids[1]}, list(engine.RunFilter{From: start.Add(time.Hour), To: start.Add(4 * time.Hour)}))
		require.Equal(t, []string{ids[4], ids[3]}, list(engine.RunFilter{From: start.Add(3 * time.Hour).In(time.FixedZone("MSK", 3*3600))}),
			"a bound in another zone is the same instant")
		require.Equal(t, []string{ids[1], ids[0]}, list(engine.RunFilter{To: start.Add(2 * time.Hour)}))
		require.Equal(t, []string{ids[2]}, list(engine.RunFilter{From: start.Add(time.Hour), Cursor: ids[3], Limit: 1}))
		require.Empty(t, list(engine.RunFilter{From: start.Add(time.Hour), Status: engine.RunFailed}))
	})
}

package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

var asViewer = engine.WithActor(context.Background(), &engine.Actor{UserID: "v", Email: "viewer@example.com", Role: engine.RoleViewer})

// TestWorkflowStats: a page's activity counts the runs of the last 24 hours of the
// engine's clock and their failures, and names each workflow's newest run.
func TestWorkflowStats(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		clock := enginetest.NewClock(enginetest.ClockStart())
		eng := enginetest.New(t, d, enginetest.Options{Workers: 1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
		ctx := context.Background()
		// A filter that gives a string fails the run: a failure without the network.
		busy := createWorkflow(t, eng.Engine, `{"name":"busy","trigger":{"type":"webhook"},
			"filter":"trigger.body.fail == true ? 'not a boolean' : true","steps":[]}`)
		idle := createWorkflow(t, eng.Engine, `{"name":"idle","trigger":{"type":"webhook"},"steps":[]}`)
		send := func(fail bool) string {
			res, err := eng.Ingest(ctx, busy.HookToken, engine.IngestRequest{Method: "POST",
				Header: http.Header{"Content-Type": {"application/json"}}, Body: fmt.Appendf(nil, `{"fail":%t}`, fail)})
			require.NoError(t, err)
			enginetest.WaitRun(t, eng.Engine, res.RunID)
			return res.RunID
		}
		send(true) // falls out of the window below
		clock.Advance(2 * time.Hour)
		send(false)
		send(true)
		last := send(false)
		clock.Advance(engine.WorkflowStatsWindow - time.Hour)

		stats, err := eng.WorkflowStats(asViewer, []string{busy.ID, idle.ID})
		require.NoError(t, err)
		require.Len(t, stats, 2)
		b := stats[busy.ID]
		require.EqualValues(t, 3, b.Runs)
		require.EqualValues(t, 1, b.Failures)
		require.NotNil(t, b.LastRun)
		require.Equal(t, last, b.LastRun.ID)
		require.Equal(t, engine.RunSucceeded, b.LastRun.Status)
		require.NotNil(t, b.LastRun.FinishedAt)
		require.Equal(t, engine.WorkflowStats{}, stats[idle.ID])
	})
}

// TestSearchWorkflows: the name matches whatever the case, in Cyrillic too, and the
// search pages like the list.
func TestSearchWorkflows(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1})
	for _, name := range []string{"Заказы с сайта", "Лиды из Ёлки", "Orders to CRM", "заказы: повтор", "Other"} {
		createWorkflow(t, eng.Engine, `{"name":%q,"trigger":{"type":"webhook"},"steps":[]}`, name)
	}
	names := func(p *engine.Page[engine.Workflow]) []string {
		var out []string
		for _, w := range p.Items {
			out = append(out, w.Name)
		}
		return out
	}
	p, err := eng.SearchWorkflows(asViewer, " ЗАКАЗ ", "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"заказы: повтор", "Заказы с сайта"}, names(p), "newest first")
	require.Empty(t, p.NextCursor)

	p, err = eng.SearchWorkflows(asViewer, "елк", "", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"Лиды из Ёлки"}, names(p), "ё is found as е")

	p, err = eng.SearchWorkflows(asViewer, "o", "", 1)
	require.NoError(t, err)
	require.Equal(t, []string{"Other"}, names(p))
	require.NotEmpty(t, p.NextCursor)
	p, err = eng.SearchWorkflows(asViewer, "o", p.NextCursor, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"Orders to CRM"}, names(p))
	require.Empty(t, p.NextCursor)

	all, err := eng.SearchWorkflows(asViewer, "", "", 0)
	require.NoError(t, err)
	require.Len(t, all.Items, 5)
}

// TestSetWorkflowEnabled: switching makes a version with "enabled" set and every other
// member kept in its place; switching to the same state makes none; a viewer may not.
func TestSetWorkflowEnabled(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: -1})
		ctx := context.Background()
		wf := createWorkflow(t, eng.Engine, `{"name":"Leads & deals","description":"<b>x</b>","trigger":{"type":"webhook"},"steps":[]}`)

		_, err := eng.SetWorkflowEnabled(asViewer, wf.ID, false)
		require.ErrorIs(t, err, engine.ErrForbidden)

		off, err := eng.SetWorkflowEnabled(ctx, wf.ID, false)
		require.NoError(t, err)
		require.False(t, off.Enabled)
		require.Equal(t, 2, off.Version)
		require.JSONEq(t, `{"name":"Leads & deals","enabled":false,"description":"<b>x</b>","trigger":{"type":"webhook"},"steps":[]}`, string(off.Definition))
		require.Equal(t, `{"name":"Leads & deals","enabled":false,"description":"<b>x</b>","trigger":{"type":"webhook"},"steps":[]}`,
			string(off.Definition), "members keep their order; nothing is escaped")

		same, err := eng.SetWorkflowEnabled(ctx, wf.ID, false)
		require.NoError(t, err)
		require.Equal(t, 2, same.Version, "already off: no new version")

		on, err := eng.SetWorkflowEnabled(ctx, wf.ID, true)
		require.NoError(t, err)
		require.True(t, on.Enabled)
		require.Equal(t, 3, on.Version)
		require.Contains(t, string(on.Definition), `"enabled":true`)
		got, err := eng.GetWorkflow(ctx, wf.ID)
		require.NoError(t, err)
		require.True(t, got.Enabled)
		require.Equal(t, wf.HookToken, got.HookToken, "the webhook URL survives")
	})
}

// TestDuplicateWorkflow: the copy has the new name, its own webhook token, the same
// trigger and steps, and starts switched off.
func TestDuplicateWorkflow(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1})
	ctx := context.Background()
	wf := createWorkflow(t, eng.Engine, `{"name":"Nightly","trigger":{"type":"schedule","schedule":{"cron":"0 3 * * *"}},
		"steps":[{"id":"s","uses":"core.set","with":{"x":1}}]}`)

	_, err := eng.DuplicateWorkflow(asViewer, wf.ID, "Nightly (copy)")
	require.ErrorIs(t, err, engine.ErrForbidden)
	_, err = eng.DuplicateWorkflow(ctx, "no-such-id", "x")
	require.ErrorIs(t, err, engine.ErrNotFound)

	cp, err := eng.DuplicateWorkflow(ctx, wf.ID, "Nightly (copy)")
	require.NoError(t, err)
	require.NotEqual(t, wf.ID, cp.ID)
	require.NotEqual(t, wf.HookToken, cp.HookToken)
	require.Equal(t, "Nightly (copy)", cp.Name)
	require.False(t, cp.Enabled)
	require.Equal(t, 1, cp.Version)
	var orig, copied map[string]any
	require.NoError(t, json.Unmarshal(wf.Definition, &orig))
	require.NoError(t, json.Unmarshal(cp.Definition, &copied))
	require.Equal(t, orig["trigger"], copied["trigger"])
	require.Equal(t, orig["steps"], copied["steps"])
	require.Equal(t, false, copied["enabled"])
}

// TestNextTriggerTimes: a schedule's next five times come from the engine's clock, in the
// schedule's time zone; a poll's too; a webhook has none.
func TestNextTriggerTimes(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewClock(enginetest.ClockStart())
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
	ctx := context.Background()
	daily := createWorkflow(t, eng.Engine, `{"name":"daily","enabled":false,
		"trigger":{"type":"schedule","schedule":{"cron":"30 9 * * *","timezone":"Europe/Moscow"}},"steps":[]}`)
	tt, err := eng.NextTriggerTimes(asViewer, daily.ID, 5)
	require.NoError(t, err)
	require.Equal(t, "30 9 * * *", tt.Cron)
	require.Equal(t, "Europe/Moscow", tt.Timezone)
	require.Len(t, tt.Times, 5)
	now := clock.Now()
	for i, at := range tt.Times {
		require.Equal(t, "Europe/Moscow", at.Location().String())
		require.Equal(t, 9, at.Hour())
		require.Equal(t, 30, at.Minute())
		require.True(t, at.After(now), "%v after %v", at, now)
		if i > 0 {
			require.Equal(t, 24*time.Hour, at.Sub(tt.Times[i-1]))
		} else {
			require.LessOrEqual(t, at.Sub(now), 24*time.Hour)
		}
	}
	clock.Advance(24 * time.Hour)
	later, err := eng.NextTriggerTimes(ctx, daily.ID, 5)
	require.NoError(t, err)
	require.Equal(t, tt.Times[1], later.Times[0], "computed from the engine's clock")

	poll := createWorkflow(t, eng.Engine, `{"name":"poll","enabled":false,"trigger":{"type":"poll","poll":{"uses":"http.poll",
		"cron":"@every 10m","with":{"url":"https://example.com/items"}}},"steps":[]}`)
	pt, err := eng.NextTriggerTimes(ctx, poll.ID, 3)
	require.NoError(t, err)
	require.Len(t, pt.Times, 3)
	require.True(t, pt.Times[0].After(clock.Now()))
	require.LessOrEqual(t, pt.Times[0].Sub(clock.Now()), 10*time.Minute)
	require.Equal(t, 10*time.Minute, pt.Times[1].Sub(pt.Times[0]))

	hook := createWorkflow(t, eng.Engine, `{"name":"hook","trigger":{"type":"webhook"},"steps":[]}`)
	_, err = eng.NextTriggerTimes(ctx, hook.ID, 5)
	require.ErrorIs(t, err, engine.ErrNotFound)
}

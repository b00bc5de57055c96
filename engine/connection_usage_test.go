package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestConnectionUsage: a connection counts as used by a workflow's webhook auth, its poll
// trigger and its steps, in the current version only; deleting a used one names the same
// workflows.
func TestConnectionUsage(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupAccounts(t, d)
		ctx := b.as(b.viewer)
		sys := context.Background()
		for _, in := range []engine.ConnectionInput{
			{Name: "site", Connector: "http", Config: map[string]any{"base_url": "https://api.example.com"}},
			{Name: "gh", Connector: "webhook", Config: map[string]any{"secret": "s3cret"}},
			{Name: "bot", Connector: "telegram", Config: map[string]any{"token": "123456789:AAH-fake-token-for-usage-test-000"}},
			{Name: "idle", Connector: "http"},
		} {
			_, err := b.eng.CreateConnection(sys, in)
			require.NoError(t, err, in.Name)
		}
		hook, err := b.eng.CreateWorkflow(sys, []byte(`{"name": "b hook", "trigger": {"type": "webhook",
			"webhook": {"auth": {"type": "github", "connection": "gh"}}},
			"steps": [{"id": "a", "uses": "http.request", "connection": "site", "with": {"url": "/x"}},
			          {"id": "b", "uses": "http.request", "connection": "site", "with": {"url": "/y"}}]}`))
		require.NoError(t, err)
		poll, err := b.eng.CreateWorkflow(sys, []byte(`{"name": "a poll", "trigger": {"type": "poll",
			"poll": {"uses": "telegram.updates", "connection": "bot", "cron": "* * * * *"}},
			"steps": [{"id": "c", "uses": "http.request", "connection": "site", "with": {"url": "/z"}}]}`))
		require.NoError(t, err)

		used, err := b.eng.ConnectionUsage(ctx)
		require.NoError(t, err, "viewers may read it")
		require.Equal(t, map[string][]engine.WorkflowRef{
			"site": {{ID: poll.ID, Name: "a poll"}, {ID: hook.ID, Name: "b hook"}},
			"gh":   {{ID: hook.ID, Name: "b hook"}},
			"bot":  {{ID: poll.ID, Name: "a poll"}},
		}, used)

		err = b.eng.DeleteConnection(sys, "site")
		require.ErrorIs(t, err, engine.ErrConflict)
		require.ErrorContains(t, err, "a poll ("+poll.ID+"), b hook ("+hook.ID+")")

		_, err = b.eng.UpdateWorkflow(sys, hook.ID, []byte(`{"name": "b hook", "trigger": {"type": "manual"}, "steps": []}`))
		require.NoError(t, err)
		require.NoError(t, b.eng.DeleteWorkflow(sys, poll.ID))
		used, err = b.eng.ConnectionUsage(ctx)
		require.NoError(t, err)
		require.Empty(t, used, "only current versions of live workflows count")
		require.NoError(t, b.eng.DeleteConnection(sys, "site"))
	})
}

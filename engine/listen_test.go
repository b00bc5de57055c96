package engine_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
)

// TestListenOnSwitchedOffWorkflow: a switched-off workflow's webhook refuses requests
// (not found) until the builder listens (NextEvent); then a request is stored as an
// accepted test event that starts no run and becomes the listener's next event. The
// window ends ListenWindow after the last poll.
func TestListenOnSwitchedOffWorkflow(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewClock(enginetest.ClockStart())
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1, Configure: func(c *engine.Config) { c.Now = clock.Now }})
	ctx := context.Background()
	wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"draft","enabled":false,"trigger":{"type":"webhook"},"steps":[]}`))
	require.NoError(t, err)
	require.False(t, wf.Enabled)
	send := func() (*engine.IngestResult, error) {
		return eng.Ingest(ctx, wf.HookToken, engine.IngestRequest{Method: "POST", Body: []byte(`{"name":"Ann"}`),
			Header: http.Header{"Content-Type": {"application/json"}}})
	}
	_, err = send()
	require.ErrorIs(t, err, engine.ErrNotFound)

	next, err := eng.NextEvent(ctx, wf.ID, "")
	require.NoError(t, err)
	require.Nil(t, next)
	res, err := send()
	require.NoError(t, err)
	require.True(t, res.Test)
	require.Empty(t, res.RunID)
	next, err = eng.NextEvent(ctx, wf.ID, "")
	require.NoError(t, err)
	require.NotNil(t, next)
	require.Equal(t, res.EventID, next.ID)
	runs, err := eng.ListRuns(ctx, engine.RunFilter{WorkflowID: wf.ID})
	require.NoError(t, err)
	require.Empty(t, runs.Items, "a test event starts no run")

	clock.Advance(engine.ListenWindow + 1)
	_, err = send()
	require.ErrorIs(t, err, engine.ErrNotFound, "nobody listens any more")
}

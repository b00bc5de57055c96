package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestClaimFindsRunItsWorkerHandedBack: a worker stores its run's hand-off (a retry due
// at once, a release) a moment before it returns; a claim in that moment finds the run
// due and takes it, and must run it, not drop it as "already in flight", which left it
// leased to nobody until its lease ran out.
func TestClaimFindsRunItsWorkerHandedBack(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{Workers: 2, NoStart: true})
		wf := createWorkflow(t, eng.Engine, `{"name":"handed back","trigger":{"type":"webhook"},"steps":[
		  {"id":"a","uses":"core.set","with":{"x":1}}]}`)
		runID := ingest(t, eng.Engine, wf, `{}`).RunID
		ctx := context.Background()

		first, err := eng.ClaimAsPool(ctx, 2)
		require.NoError(t, err)
		require.Len(t, first, 1)
		require.NoError(t, eng.HandBack(ctx, &first[0]))

		again, err := eng.ClaimAsPool(ctx, 2)
		require.NoError(t, err)
		require.Len(t, again, 1, "the claim keeps the run it took")
		require.Equal(t, runID, again[0].ID)
		require.Equal(t, first[0].Attempt+1, again[0].Attempt)
		attempt, ok := eng.InFlightAttempt(runID)
		require.True(t, ok)
		require.Equal(t, again[0].Attempt, attempt, "the heartbeat renews the new claim's lease")
		stored, err := eng.GetRun(ctx, runID)
		require.NoError(t, err)
		require.Equal(t, engine.RunRunning, stored.Status)
		require.Equal(t, again[0].Attempt, stored.Attempt)
	})
}

package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestDelayUntilWithOffset: a core.delay until a time written with a UTC offset wakes at
// that instant, whatever the offset. SQLite once stored times in their own offset and
// compared them as text: a +03:00 time woke 3 hours late, and a -05:00 one was claimed
// over and over before it was due.
func TestDelayUntilWithOffset(t *testing.T) {
	t.Parallel()
	for _, hours := range []int{3, -5} {
		zone := time.FixedZone(fmt.Sprintf("UTC%+d", hours), hours*3600)
		t.Run(zone.String(), func(t *testing.T) {
			t.Parallel()
			storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
				ctx := context.Background()
				clock := enginetest.NewClock(enginetest.ClockStart())
				eng := enginetest.New(t, d, enginetest.Options{Configure: func(c *engine.Config) {
					c.Now = clock.Now
					c.PollInterval = 10 * time.Millisecond
				}})
				wf := createWorkflow(t, eng.Engine, `{"name":"until","trigger":{"type":"webhook"},"steps":[
				  {"id":"pause","uses":"core.delay","with":{"until":"{{ trigger.body.until }}"}},
				  {"id":"after","uses":"core.set","with":{"x":1}}]}`)
				// PostgreSQL keeps microseconds.
				until := clock.Now().Add(5 * time.Second).Truncate(time.Microsecond).In(zone)
				runID := ingest(t, eng.Engine, wf, fmt.Sprintf(`{"until":%q}`, until.Format(time.RFC3339Nano))).RunID

				r := enginetest.WaitStatus(t, eng.Engine, runID, engine.RunWaiting)
				require.NotNil(t, r.RunAt)
				require.True(t, r.RunAt.Equal(until), "due at %v, not %v", until, r.RunAt)
				time.Sleep(200 * time.Millisecond) // many poll rounds on a clock that stands still
				r, err := eng.GetRun(ctx, runID)
				require.NoError(t, err)
				require.Equal(t, engine.RunWaiting, r.Status)
				require.Equal(t, 1, r.Attempt, "claimed again before it was due")

				clock.Advance(6 * time.Second)
				r = enginetest.WaitRun(t, eng.Engine, runID)
				require.Equal(t, engine.RunSucceeded, r.Status, r.Error)
				require.Equal(t, 2, r.Attempt, "woken once, when due")
			})
		})
	}
}

package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
)

// The attacks of issue 11 on a run's size, each in small: the probe's for_each over
// large items, a for_each over a long list, a step output larger than a record should
// hold, many steps that add up, and an expression that builds a huge list. Each run
// must end on a limit named in its error, with its records bounded.

func newWorkflow(t *testing.T, eng *engine.Engine, def string) *engine.Workflow {
	t.Helper()
	wf, err := eng.CreateWorkflow(context.Background(), []byte(def))
	require.NoError(t, err)
	return wf
}

// storedSize is what GET /runs/{id} serves of a run's steps.
func storedSize(run *engine.Run) int {
	n := 0
	for _, s := range run.Steps {
		n += len(s.Input) + len(s.Output) + len(s.Error) + len(s.AttemptErrors)
	}
	return n
}

func TestForEachItemsLimit(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	s := newSink(t)
	wf := newWorkflow(t, eng.Engine, fmt.Sprintf(`{"name": "long list", "trigger": {"type": "webhook"},
	  "steps": [{"id": "each", "uses": "http.request", "for_each": "trigger.body.items",
	             "with": {"method": "POST", "url": "%s/item"}}]}`, s.URL))
	items, _ := json.Marshal(map[string]any{"items": make([]int, 1001)})
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, string(items)).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "step each: for_each gave 1001 items: over limits.for_each_items (1000)")
	require.Contains(t, run.Error, `raise "for_each_items" in the workflow's "limits"`)
	require.Zero(t, s.count("/item"), "nothing is called")

	// A workflow may raise it.
	wf = newWorkflow(t, eng.Engine, `{"name": "raised", "trigger": {"type": "webhook"}, "limits": {"for_each_items": 2000},
	  "steps": [{"id": "each", "uses": "core.set", "for_each": "trigger.body.items", "with": {"i": "{{ index }}"}}]}`)
	run = enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, string(items)).RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
}

func TestStepDataIsStoredCut(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	wf := newWorkflow(t, eng.Engine, `{"name": "big output", "trigger": {"type": "webhook"},
	  "steps": [
	    {"id": "big", "uses": "core.set", "with": {"s": "{{ repeat('xy', 1000000) }}"}},
	    {"id": "use", "uses": "core.set", "with": {"n": "{{ len(steps.big.output.s) }}"}}
	  ]}`)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	for _, data := range []json.RawMessage{run.Steps[0].Input, run.Steps[0].Output} {
		require.LessOrEqual(t, len(data), engine.StepDataLimitDefault)
		var cut struct {
			Truncated bool   `json:"$truncated"`
			Size      int64  `json:"size"`
			Preview   string `json:"preview"`
		}
		require.NoError(t, json.Unmarshal(data, &cut))
		require.True(t, cut.Truncated)
		require.EqualValues(t, len(`{"s":""}`)+2_000_000, cut.Size)
		require.True(t, strings.HasPrefix(cut.Preview, `{"s":"xyxy`), cut.Preview[:20])
	}
	// The next step read the whole value, which stayed in memory.
	require.JSONEq(t, `{"n": 2000000}`, string(run.Steps[1].Output))
}

// TestTruncatedOutputAfterResume: after a wait the run is rebuilt from its records, in
// which a large output is cut; a later step that reads it must not see the cut value.
func TestTruncatedOutputAfterResume(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	wf := newWorkflow(t, eng.Engine, `{"name": "resume", "trigger": {"type": "webhook"},
	  "steps": [
	    {"id": "big", "uses": "core.set", "with": {"s": "{{ repeat('xy', 1000000) }}"}},
	    {"id": "wait", "uses": "core.delay", "with": {"for": "500ms"}},
	    {"id": "use", "uses": "core.set", "with": {"n": "{{ len(steps.big.output.s) }}"}}
	  ]}`)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "the output of step big was stored cut and the run resumed")
	require.Contains(t, run.Error, "over limits.step_data (1MiB)")
}

// TestProbeRunFailsOnRunData is the probe's workflow at a smaller scale: for_each over
// 8 items of 2 MB each, with run_data lowered to 8 MiB. It used to store a 32 MB
// record; now it stops at the item that passes the limit (the third: each item holds
// its 2 MB input and its 2 MB output).
func TestProbeRunFailsOnRunData(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	wf := newWorkflow(t, eng.Engine, `{"name": "probe", "trigger": {"type": "webhook", "webhook": {"max_body_bytes": 4194304}}, "limits": {"run_data": "8MiB"},
	  "steps": [{"id": "each", "uses": "core.set", "for_each": "map(1..8, trigger.body.s)", "with": {"data": "{{ item }}"}}]}`)
	body, _ := json.Marshal(map[string]string{"s": strings.Repeat("p", 2_000_000)})
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, string(body)).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "step each: the inputs and outputs of step each up to item 2 would bring the run's data in memory to")
	require.Contains(t, run.Error, "over limits.run_data (8MiB)")
	require.Less(t, storedSize(run), 2*engine.StepDataLimitDefault+64<<10)
}

func TestRunDataLimitOnStoredRecords(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	var steps []string
	for i := range 10 {
		steps = append(steps, fmt.Sprintf(`{"id": "s%d", "uses": "core.set", "with": {"s": "{{ repeat('x', 400000) }}"}}`, i))
	}
	wf := newWorkflow(t, eng.Engine, `{"name": "many", "trigger": {"type": "webhook"}, "limits": {"run_data": "4MiB"},
	  "steps": [`+strings.Join(steps, ",")+`]}`)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "would bring the run's stored data to")
	require.Contains(t, run.Error, "over limits.run_data (4MiB)")
	require.LessOrEqual(t, storedSize(run), 4<<20+64<<10)
	last := run.Steps[len(run.Steps)-1]
	require.Equal(t, "failed", last.Status)
	require.Empty(t, last.Output, "the failing record keeps sizes, not data")
}

func TestExpressionMemoryLimit(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	wf := newWorkflow(t, eng.Engine, `{"name": "split", "trigger": {"type": "webhook"},
	  "filter": "len(split(repeat(trigger.body.c, 1000000), ',')) > 0", "steps": []}`)
	run := enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{"c": ",,"}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "memory budget exceeded: the expression needs more than 64 MiB")
	require.Contains(t, run.Error, "over limits.expression_memory (64MiB)")

	// Inputs: one rendering shares the budget, here lowered by the workflow.
	wf = newWorkflow(t, eng.Engine, `{"name": "render", "trigger": {"type": "webhook"}, "limits": {"expression_memory": "1MiB"},
	  "steps": [{"id": "r", "uses": "core.set", "with": {"a": "{{ repeat('x', 600000) }}", "b": "{{ repeat('y', 600000) }}"}}]}`)
	run = enginetest.WaitRun(t, eng.Engine, ingest(t, eng.Engine, wf, `{}`).RunID)
	require.Equal(t, engine.RunFailed, run.Status)
	require.Contains(t, run.Error, "over limits.expression_memory (1MiB)")
}

func TestLimitConfigIsChecked(t *testing.T) {
	t.Parallel()
	_, err := engine.Open(context.Background(), engine.Config{DataDir: t.TempDir(), RunDataLimit: 1 << 40})
	require.ErrorContains(t, err, "limits.run_data: must be between 1KiB and 256MiB")
}

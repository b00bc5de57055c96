package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
)

// TestEvaluateFilter: the builder's live filter on a pasted sample, in a run's
// environment: true, false, an error with its position, nil as false, no filter as true;
// no sample, and a viewer, are refused.
func TestEvaluateFilter(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{Workers: -1})
	sys := context.Background()
	editor := engine.WithActor(sys, &engine.Actor{UserID: "u-ed", Email: "ed@example.com", Role: engine.RoleEditor, Via: "ui"})
	viewer := engine.WithActor(sys, &engine.Actor{UserID: "u-view", Email: "view@example.com", Role: engine.RoleViewer, Via: "ui"})
	wf, err := eng.CreateWorkflow(sys, []byte(`{"name":"lead","trigger":{"type":"webhook"},"steps":[]}`))
	require.NoError(t, err)
	big := engine.TestSample{JSON: []byte(`{"amount":150}`)}

	for src, want := range map[string]bool{
		"trigger.body.amount > 100": true,
		"trigger.body.amount > 200": false,
		"trigger.body.vip":          false, // nil: not met
		"":                          true,
		`workflow.name == "lead" && run.attempt == 1`: true,
		`trigger.method == "POST" && len(steps) == 0`: true,
	} {
		got, err := eng.EvaluateFilter(editor, wf.ID, src, big)
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}

	_, err = eng.EvaluateFilter(editor, wf.ID, "trigger.body.amount >\n", big)
	var fe *engine.FilterError
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, 1, fe.Line)
	require.Positive(t, fe.Column)
	require.NotContains(t, fe.Msg, "(1:", "the position is in the fields")
	_, err = eng.EvaluateFilter(editor, wf.ID, `trigger.body.amount + 1`, big)
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Contains(t, fe.Msg, "expected a boolean")

	_, err = eng.EvaluateFilter(editor, wf.ID, "true", engine.TestSample{})
	require.ErrorIs(t, err, engine.ErrNoSample)
	_, err = eng.EvaluateFilter(viewer, wf.ID, "true", big)
	require.ErrorIs(t, err, engine.ErrForbidden)
}

package ui

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/hookflow/hookflow/engine"
)

// TestBuilderToolSlots renders the three templates the builder page calls with the
// dots of the contract: builder-listen on the page's view (only .Data.Workflow read),
// builder-step-tools and builder-vars on dict View, Step, Index. An editor gets the
// buttons wired to the tools; a viewer none; a workflow not yet saved a note.
func TestBuilderToolSlots(t *testing.T) {
	t.Parallel()
	h := New(nil, Config{})
	page, err := h.pageTemplate(builderToolsPage)
	require.NoError(t, err)
	type builderData struct{ Workflow *engine.Workflow }
	render := func(name string, dot any) string {
		var buf bytes.Buffer
		require.NoError(t, page.ExecuteTemplate(&buf, name, dot))
		return buf.String()
	}
	for _, lang := range []language.Tag{language.English, language.Russian} {
		v := &view{User: &engine.User{Role: engine.RoleEditor}, loc: time.UTC, tr: newTranslator(h.catalogue, lang),
			Data: &builderData{Workflow: &engine.Workflow{ID: "wf1"}}}
		step := map[string]any{"View": v, "Step": map[string]any{"id": "tell"}, "Index": 1}

		out := render("builder-listen", v)
		require.Contains(t, out, `hx-get="/workflows/wf1/builder/listen"`)
		require.Contains(t, out, `hx-get="/workflows/wf1/builder/history"`)
		require.Contains(t, out, `name="sample_json"`)
		require.Contains(t, out, `id="builder-sample"`)
		require.Contains(t, out, v.T("builder_tools.listen"))

		out = render("builder-step-tools", step)
		require.Contains(t, out, `hx-post="/workflows/wf1/builder/test-step"`)
		require.Contains(t, out, `hx-vals='{"step_index": "1"}'`)
		require.Contains(t, out, `hx-vals='{"step_index": "1", "dry_run": "1"}'`)
		require.Contains(t, out, `id="builder-step-result-1"`)
		require.Contains(t, out, v.T("builder_tools.test_step"))

		out = render("builder-vars", step)
		require.Contains(t, out, `hx-post="/workflows/wf1/builder/vars"`)
		require.Contains(t, out, `hx-include="closest form"`)
		require.Contains(t, out, v.T("builder_tools.vars"))

		viewer := &view{User: &engine.User{Role: engine.RoleViewer}, loc: time.UTC, tr: v.tr, Data: v.Data}
		require.NotContains(t, render("builder-listen", viewer), "<button")
		require.NotContains(t, render("builder-step-tools", map[string]any{"View": viewer, "Index": 0}), "<button")
		unsaved := &view{User: v.User, loc: time.UTC, tr: v.tr, Data: &builderData{}}
		require.Contains(t, render("builder-listen", unsaved), v.T("builder_tools.save_first"))
	}
	require.Equal(t, "Ждать тестовое событие", newTranslator(h.catalogue, language.Russian).message("builder_tools.listen", nil, nil))
}

// TestVarPaths: the picker's paths are written as condition.FieldPath writes them, list
// positions as [i].
func TestVarPaths(t *testing.T) {
	t.Parallel()
	n := builderTreeMax
	got := leaves(triggerTree(map[string]any{"body": map[string]any{"first name": "Ann", "items": []any{map[string]any{"sku": "A-1"}}},
		"headers": map[string]any{"x-request-id": "r1"}, "method": "POST"}, &n))
	var paths []string
	for _, l := range got {
		paths = append(paths, l.Insert)
	}
	require.Equal(t, []string{`{{ trigger.body["first name"] }}`, `{{ trigger.body.items[0].sku }}`,
		`{{ trigger.headers["x-request-id"] }}`, `{{ trigger.method }}`}, paths)
	n = 2
	require.Len(t, leaves(triggerTree(map[string]any{"body": map[string]any{"a": 1, "b": 2, "c": 3}}, &n)), 1, "capped")
}

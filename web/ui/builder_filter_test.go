package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

func init() {
	guardCase("POST /workflows/:id/builder/filter", guard{
		path: func(f *guardFixture) string { return "/workflows/" + f.WorkflowID + "/builder/filter" },
		form: url.Values{"definition": {`{"name":"g","trigger":{"type":"webhook"},"filter":"true","steps":[]}`},
			"sample_json": {`{"amount":150}`}}})
}

const builderFilterWF = `{"name":"Big leads","trigger":{"type":"webhook"},"filter":"(trigger.body?.amount ?? \"\") != \"\" && number(trigger.body?.amount) > 100",
  "steps":[{"id":"note","uses":"core.set","with":{"ok":true}}]}`

// TestBuilderFilter: the filter card's slot posts the builder's form to
// /workflows/{id}/builder/filter, which evaluates the posted filter (rows or raw) on the
// sample, a real request or a pasted JSON: amount 150 > 100 goes on, 50 is filtered out;
// a broken expression shows its error with its line and column; no sample and no filter
// are said so; Russian labels. The builder's tab is highlighted; the overview links to
// the builder for an editor, not for a viewer; a viewer's builder has no slot.
func TestBuilderFilter(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	ctx := context.Background()
	w := createWF(t, b, builderFilterWF)
	br, csrf := admin(t, b)
	htmx := map[string]string{"HX-Request": "true", "X-CSRF-Token": csrf}
	path := "/workflows/" + w.ID + "/builder/filter"

	p := br.get("/workflows/" + w.ID + "/edit")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `<div id="builder-filter-result" class="builder-filter-result" aria-live="polite" hx-post="`+path+`" hx-include="closest form"`)
	require.Contains(t, p.body, `hx-trigger="load, change from:closest form delay:300ms, builder-sample from:body"`)
	require.Contains(t, p.body, `href="/workflows/`+w.ID+`/edit" aria-current="page">Builder</a>`, "the builder's tab")
	form := builderForm(t, p.body)
	require.Equal(t, "rows", form.Get("filter.mode"))

	// A real request as the sample: amount 150 goes on.
	sendWebhook(t, b, w, `{"name":"Ann","amount":150}`)
	events, err := b.eng.RecentEvents(ctx, w.ID, 1)
	require.NoError(t, err)
	require.Len(t, events, 1)
	form.Set("sample_event", events[0].ID)
	p = br.do(http.MethodPost, path, form, htmx)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `On the sample: <strong class="status status-ok">true</strong>: this event goes on.`)

	// The rows as posted, not as saved: amount > 200 filters it out.
	form.Set("filter.rows[0].value", "200")
	p = br.do(http.MethodPost, path, form, htmx)
	require.Contains(t, p.body, `<strong class="status status-filtered">false</strong>: filtered out`)
	form.Set("filter.rows[0].value", "100")

	// A pasted JSON: 50 is filtered out, 150 goes on.
	form.Del("sample_event")
	form.Set("sample_json", `{"amount":50}`)
	p = br.do(http.MethodPost, path, form, htmx)
	require.Contains(t, p.body, `<strong class="status status-filtered">false</strong>: filtered out, the run would stop here.`)
	form.Set("sample_json", `{"amount":150}`)
	p = br.do(http.MethodPost, path, form, htmx)
	require.Contains(t, p.body, `<strong class="status status-ok">true</strong>`)

	// A raw expression that does not compile: the error with its position and a caret.
	form.Set("filter.mode", "raw")
	form.Set("filter.raw", "trigger.body.amount >")
	p = br.do(http.MethodPost, path, form, htmx)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Regexp(t, `<p class="error" role="alert">Error at line 1, column \d+: [^<]+</p>`, p.body)
	require.Contains(t, p.body, `<pre class="builder-filter-caret" aria-hidden="true">trigger.body.amount &gt;`)
	// One that fails on the sample: its position too.
	form.Set("filter.raw", "trigger.body.amount > 100 &&\n  trigger.body.amount.x == 1")
	p = br.do(http.MethodPost, path, form, htmx)
	require.Regexp(t, `Error at line 2, column \d+: `, p.body)
	// One that is not a boolean: the error, no position.
	form.Set("filter.raw", "trigger.body.amount")
	p = br.do(http.MethodPost, path, form, htmx)
	require.Contains(t, p.body, `<p class="error" role="alert">Error: `)
	require.Contains(t, p.body, "expected a boolean")
	// No filter: everything goes on.
	form.Set("filter.raw", "")
	p = br.do(http.MethodPost, path, form, htmx)
	require.Contains(t, p.body, "No filter: every event goes on.")

	// No sample: said so.
	form.Set("filter.raw", "trigger.body.amount > 100")
	form.Del("sample_json")
	p = br.do(http.MethodPost, path, form, htmx)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "No sample to check the filter on yet")

	// In Russian.
	ru := map[string]string{"HX-Request": "true", "X-CSRF-Token": csrf, "Accept-Language": "ru"}
	p = br.do(http.MethodPost, path, form, ru)
	require.Contains(t, p.body, "Образца для проверки фильтра пока нет")
	form.Set("sample_json", `{"amount":150}`)
	p = br.do(http.MethodPost, path, form, ru)
	require.Contains(t, p.body, `На образце: <strong class="status status-ok">true</strong>: это событие проходит дальше.`)
	form.Set("sample_json", `{"amount":50}`)
	p = br.do(http.MethodPost, path, form, ru)
	require.Contains(t, p.body, "отфильтровано")
	form.Set("filter.raw", "trigger.body.amount >")
	p = br.do(http.MethodPost, path, form, ru)
	require.Contains(t, p.body, "Ошибка в строке 1, столбце")
	p = br.do(http.MethodGet, "/workflows/"+w.ID+"/edit", nil, map[string]string{"Accept-Language": "ru"})
	require.Contains(t, p.body, `aria-current="page">Конструктор</a>`)
	p = br.do(http.MethodGet, "/workflows/"+w.ID, nil, map[string]string{"Accept-Language": "ru"})
	require.Contains(t, p.body, "Изменить в конструкторе")

	// The overview: the editor's button and the tab, not highlighted there.
	p = br.get("/workflows/" + w.ID)
	require.Contains(t, p.body, `<a class="button" id="wf-edit-builder" href="/workflows/`+w.ID+`/edit">Edit in the builder</a>`)
	require.Contains(t, p.body, `<a href="/workflows/`+w.ID+`/edit">Builder</a>`)

	// A viewer: the tab, no button, a read-only builder without the slot, 403 on the endpoint.
	const pw = "a long enough password"
	_, err = b.eng.CreateUser(ctx, "viewer@example.com", pw, engine.RoleViewer)
	require.NoError(t, err)
	vb, vcsrf := signedInBrowser(t, b, "viewer@example.com", pw)
	p = vb.get("/workflows/" + w.ID)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `<a href="/workflows/`+w.ID+`/edit">Builder</a>`)
	require.NotContains(t, p.body, "wf-edit-builder")
	p = vb.get("/workflows/" + w.ID + "/edit")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.NotContains(t, p.body, "builder-filter-result")
	p = vb.do(http.MethodPost, path, form, map[string]string{"HX-Request": "true", "X-CSRF-Token": vcsrf})
	require.Equal(t, http.StatusForbidden, p.status, p.body)
}

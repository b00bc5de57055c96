package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
)

func init() {
	wf := func(suffix string) func(f *guardFixture) string {
		return func(f *guardFixture) string { return "/workflows/" + f.WorkflowID + suffix }
	}
	valid := url.Values{"definition": {`{"name":"posted by a viewer","trigger":{"type":"webhook"},"steps":[]}`}}
	guardCase("POST /workflows", guard{path: func(*guardFixture) string { return "/workflows" }, form: valid})
	guardCase("POST /workflows/:id/json", guard{path: wf("/json"), form: valid})
	guardCase("POST /workflows/:id/enabled", guard{path: wf("/enabled"), form: url.Values{"enabled": {"false"}}})
	guardCase("POST /workflows/:id/duplicate", guard{path: wf("/duplicate")})
	guardCase("POST /workflows/:id/delete", guard{path: wf("/delete")})
	guardCase("POST /workflows/:id/rotate-token", guard{path: wf("/rotate-token")})
	guardCase("POST /workflows/:id/restore", guard{path: wf("/restore"), form: url.Values{"version": {"1"}}})

	page := func(suffix string) func(f *pageFixture) string {
		return func(f *pageFixture) string { return "/workflows/" + f.Workflow.ID + suffix }
	}
	pagePath("/workflows", func(*pageFixture) string { return "/workflows" })
	pagePath("/workflows/new", func(*pageFixture) string { return "/workflows/new" })
	pagePath("/workflows/:id", page(""))
	pagePath("/workflows/:id/versions", page("/versions"))
	pagePath("/workflows/:id/json", page("/json"))
	// A JSON download, not a page: TestDuplicateDeleteExportSwitch checks it, and
	// TestViewerSeesWorkflowsReadOnly that a viewer's has no token.
	pagePath("/workflows/:id/export", nil)
}

// hookWorkflow is a webhook workflow whose runs fail when the body says "fail": true (a
// filter giving a string fails the run, without any network).
const hookWorkflow = `{"name":%q,"trigger":{"type":"webhook"},
  "filter":"trigger.body.fail == true ? 'not a boolean' : true",
  "steps":[{"id":"note","uses":"core.set","with":{"ok":true}}]}`

func createWF(t *testing.T, b *testBundle, doc string, args ...any) *engine.Workflow {
	t.Helper()
	w, err := b.eng.CreateWorkflow(context.Background(), fmt.Appendf(nil, doc, args...))
	require.NoError(t, err)
	return w
}

// fire sends a webhook to a workflow and waits for its run to end.
func fire(t *testing.T, b *testBundle, w *engine.Workflow, body string) {
	t.Helper()
	res, err := http.Post(b.srv.URL+"/hooks/"+w.HookToken, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(raw))
	m := regexp.MustCompile(`"run_id":"([^"]+)"`).FindSubmatch(raw)
	require.NotNil(t, m, string(raw))
	enginetest.WaitRun(t, b.eng.Engine, string(m[1]))
}

// admin signs in as the admin and returns the browser and its CSRF token.
func admin(t *testing.T, b *testBundle) (*browser, string) {
	t.Helper()
	return signedInBrowser(t, b, adminEmail, adminPassword)
}

// upload posts a multipart form with one file, as the create page's file field does.
func (br *browser) upload(path string, fields map[string]string, name string, file []byte) page {
	br.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(br.t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(br.t, err)
	_, err = fw.Write(file)
	require.NoError(br.t, err)
	require.NoError(br.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, br.srv.URL+path, &body)
	require.NoError(br.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := br.c.Do(req)
	require.NoError(br.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(br.t, err)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

// rowOf is the table row of the list that links to the workflow.
func rowOf(t *testing.T, body, id string) string {
	t.Helper()
	for _, row := range strings.Split(body, "<tr>") {
		if strings.Contains(row, `href="/workflows/`+id+`"`) {
			return row[:strings.Index(row, "</tr>")]
		}
	}
	t.Fatalf("no row for %s", id)
	return ""
}

var cellRE = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)

// cells are the texts of a row's cells, tags stripped.
func cells(row string) []string {
	tags := regexp.MustCompile(`<[^>]+>`)
	var out []string
	for _, m := range cellRE.FindAllStringSubmatch(row, -1) {
		out = append(out, strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(m[1], ""))))
	}
	return out
}

// TestWorkflowListShowsActivity: the list gives each workflow its trigger, its state,
// its last run and its runs and failures of the last 24 hours, finds by name, and pages.
func TestWorkflowListShowsActivity(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{}, withWorkers(1))
		leads := createWF(t, b, hookWorkflow, "Лиды с сайта")
		orders := createWF(t, b, hookWorkflow, "Orders")
		nightly := createWF(t, b, `{"name":"Nightly report","enabled":false,
			"trigger":{"type":"schedule","schedule":{"cron":"0 3 * * *"}},"steps":[]}`)
		fire(t, b, leads, `{"fail":true}`) // out of the window once the clock moves
		b.clock.Advance(2 * time.Hour)
		fire(t, b, leads, `{"fail":false}`)
		fire(t, b, leads, `{"fail":true}`)
		fire(t, b, orders, `{}`)
		b.clock.Advance(23 * time.Hour)

		br, _ := admin(t, b)
		p := br.get("/workflows")
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Equal(t, []string{"Лиды с сайта", "Webhook", "on", "failed", "2", "1", "Export Duplicate Delete"},
			trimTimes(cells(rowOf(t, p.body, leads.ID))))
		require.Equal(t, []string{"Orders", "Webhook", "on", "succeeded", "1", "0", "Export Duplicate Delete"},
			trimTimes(cells(rowOf(t, p.body, orders.ID))))
		require.Equal(t, []string{"Nightly report", "Schedule", "off", "never ran", "0", "0", "Export Duplicate Delete"},
			cells(rowOf(t, p.body, nightly.ID)))
		require.Contains(t, rowOf(t, p.body, nightly.ID), `role="switch" aria-checked="false"`)
		require.Contains(t, p.body, `href="/workflows/new"`)
		require.Less(t, strings.Index(p.body, nightly.ID), strings.Index(p.body, leads.ID), "newest first")

		found := br.get("/workflows?q=" + url.QueryEscape("ЛИДЫ"))
		require.Equal(t, http.StatusOK, found.status)
		require.Contains(t, found.body, leads.ID)
		require.NotContains(t, found.body, orders.ID)
		require.Contains(t, found.body, `value="ЛИДЫ"`, "the search box keeps the query")
		none := br.get("/workflows?q=nothing")
		require.Contains(t, none.body, "No workflow has “nothing” in its name.")
	})
}

var timeRE = regexp.MustCompile(` \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)

// trimTimes drops the run time after a last run's status.
func trimTimes(cs []string) []string {
	for i := range cs {
		cs[i] = timeRE.ReplaceAllString(cs[i], "")
	}
	return cs
}

// TestWorkflowListPages: 120 workflows list 50 a page, each page a cursor further, and a
// page stays under 100 KB.
func TestWorkflowListPages(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	ids := map[string]bool{}
	for i := range 120 {
		ids[createWF(t, b, hookWorkflow, fmt.Sprintf("Лиды из формы «Заявка на консультацию» №%03d", i)).ID] = true
	}
	br, _ := admin(t, b)
	seen := map[string]bool{}
	next, pages := "/workflows", 0
	idRE := regexp.MustCompile(`<td><a href="/workflows/([0-9a-f-]{36})">`)
	for next != "" {
		p := br.get(next)
		require.Equal(t, http.StatusOK, p.status)
		require.LessOrEqual(t, len(p.body), 100<<10, "page %d is %d bytes", pages+1, len(p.body))
		for _, m := range idRE.FindAllStringSubmatch(p.body, -1) {
			require.False(t, seen[m[1]], "%s on two pages", m[1])
			seen[m[1]] = true
		}
		pages++
		m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.body)
		next = ""
		if m != nil {
			next = html.UnescapeString(m[1])
			require.Contains(t, next, "cursor=")
		}
	}
	require.Equal(t, 3, pages)
	require.Equal(t, ids, seen)
}

// TestCreateWorkflowFromTextAndFile: the create page takes pasted JSON, a YAML file, or
// comes back with the problems by path and the text kept.
func TestCreateWorkflowFromTextAndFile(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		br, csrf := admin(t, b)
		form := br.get("/workflows/new")
		require.Equal(t, http.StatusOK, form.status)
		require.Contains(t, form.body, `enctype="multipart/form-data"`)

		p := br.do(http.MethodPost, "/workflows", url.Values{"csrf_token": {csrf},
			"definition": {`{"name":"Pasted","trigger":{"type":"webhook"},"steps":[]}`}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		loc := p.location()
		require.Regexp(t, `^/workflows/[0-9a-f-]{36}\?flash=workflow_created$`, loc)
		shown := br.get(loc)
		require.Contains(t, shown.body, "Workflow created.")
		require.Contains(t, shown.body, "<h1>Pasted ")

		yaml := "name: From YAML\ntrigger:\n  type: schedule\n  schedule:\n    cron: \"*/15 * * * *\"\n    timezone: Europe/Moscow\nsteps:\n  - id: note\n    uses: core.set\n    with:\n      x: 1\n"
		p = br.upload("/workflows", map[string]string{"csrf_token": csrf, "definition": ""}, "report.yaml", []byte(yaml))
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		id := strings.TrimSuffix(strings.TrimPrefix(p.location(), "/workflows/"), "?flash=workflow_created")
		w, err := b.eng.GetWorkflow(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, "From YAML", w.Name)
		require.Equal(t, "schedule", w.TriggerType)

		bad := `{"name":"Broken <b>","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set"},{"id":"b","uses":"nope.action"}]}`
		p = br.do(http.MethodPost, "/workflows", url.Values{"csrf_token": {csrf}, "definition": {bad}}, nil)
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "<code>steps[1].uses</code>: ")
		require.Contains(t, p.body, "nope")
		require.Contains(t, p.body, html.EscapeString(bad), "the text is kept, escaped")
		require.Contains(t, p.body, `aria-invalid="true"`)

		p = br.upload("/workflows", map[string]string{"csrf_token": csrf}, "broken.yml", []byte("name: [unclosed\n"))
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "invalid YAML")
		require.Contains(t, p.body, "name: [unclosed", "the file's text comes back in the box")

		p = br.do(http.MethodPost, "/workflows", url.Values{"csrf_token": {csrf}, "definition": {"  "}}, nil)
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "the document is empty")

		page, err := b.eng.ListWorkflows(context.Background(), "", 0)
		require.NoError(t, err)
		require.Len(t, page.Items, 2, "nothing saved from the refused forms")
	})
}

// TestWorkflowJSONTab: the tab shows the definition indented; a mistake comes back as
// 422 with its path and the text; a good save makes version 2; a save over someone
// else's newer version is held (409) until repeated.
func TestWorkflowJSONTab(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		w := createWF(t, b, `{"name":"Edit me","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":1}}]}`)
		br, csrf := admin(t, b)
		p := br.get("/workflows/" + w.ID + "/json")
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, html.EscapeString("{\n  \"name\": \"Edit me\",\n  \"trigger\": {\n    \"type\": \"webhook\"\n  },"))
		require.Contains(t, p.body, `name="base_version" value="1"`)
		require.Contains(t, p.body, `aria-current="page">JSON</a>`)

		save := func(text, base string) page {
			return br.do(http.MethodPost, "/workflows/"+w.ID+"/json", url.Values{"csrf_token": {csrf}, "definition": {text}, "base_version": {base}}, nil)
		}
		bad := `{"name":"Edit me","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set"},{"id":"b","uses":"nosuch.thing"}]}`
		p = save(bad, "1")
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "<code>steps[1].uses</code>: ")
		require.Contains(t, p.body, html.EscapeString(bad))

		p = save(`{"name":"Edited","trigger":{"type":"webhook"},"steps":[]}`, "1")
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/workflows/"+w.ID+"/json?flash=workflow_saved", p.location())
		got, err := b.eng.GetWorkflow(context.Background(), w.ID)
		require.NoError(t, err)
		require.Equal(t, 2, got.Version)
		require.Equal(t, "Edited", got.Name)

		p = save(`{"name":"Edited","trigger":{"type":"webhook"},"steps":[]}`, "2")
		require.Equal(t, "/workflows/"+w.ID+"/json?flash=workflow_unchanged", p.location(), "no version for no change")

		p = save(`{"name":"Stale","trigger":{"type":"webhook"},"steps":[]}`, "1")
		require.Equal(t, http.StatusConflict, p.status)
		require.Contains(t, p.body, "someone saved version 2")
		require.Contains(t, p.body, `name="base_version" value="2"`, "saving again overwrites")
		require.Contains(t, p.body, "Stale")
		p = save(`{"name":"Stale","trigger":{"type":"webhook"},"steps":[]}`, "2")
		require.Equal(t, http.StatusSeeOther, p.status)
		got, err = b.eng.GetWorkflow(context.Background(), w.ID)
		require.NoError(t, err)
		require.Equal(t, 3, got.Version)
	})
}

// TestDuplicateDeleteExportSwitch: the row actions of the list.
func TestDuplicateDeleteExportSwitch(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		ctx := context.Background()
		w := createWF(t, b, `{"name":"Заказы / Tilda: \"VIP\"","trigger":{"type":"webhook"},"steps":[]}`)
		br, csrf := admin(t, b)

		exp := br.get("/workflows/" + w.ID + "/export")
		require.Equal(t, http.StatusOK, exp.status)
		require.Equal(t, "application/json; charset=utf-8", exp.header.Get("Content-Type"))
		require.Equal(t, `attachment; filename*=utf-8''%D0%97%D0%B0%D0%BA%D0%B0%D0%B7%D1%8B%20_%20Tilda_%20_VIP_.json`,
			exp.header.Get("Content-Disposition"))
		require.Equal(t, "{\n  \"name\": \"Заказы / Tilda: \\\"VIP\\\"\",\n  \"trigger\": {\n    \"type\": \"webhook\"\n  },\n  \"steps\": []\n}\n", exp.body)
		plain := createWF(t, b, `{"name":"Leads","trigger":{"type":"webhook"},"steps":[]}`)
		require.Equal(t, `attachment; filename=Leads.json`, br.get("/workflows/"+plain.ID+"/export").header.Get("Content-Disposition"))

		p := br.do(http.MethodPost, "/workflows/"+w.ID+"/enabled", url.Values{"csrf_token": {csrf}, "enabled": {"false"},
			"back": {"/workflows?q=VIP"}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/workflows?q=VIP&flash=workflow_switched_off", p.location())
		got, err := b.eng.GetWorkflow(ctx, w.ID)
		require.NoError(t, err)
		require.False(t, got.Enabled)
		require.Equal(t, 2, got.Version)
		p = br.do(http.MethodPost, "/workflows/"+w.ID+"/enabled", url.Values{"csrf_token": {csrf}, "enabled": {"true"},
			"back": {"https://evil.example/"}}, nil)
		require.Equal(t, "/workflows/"+w.ID+"?flash=workflow_switched_on", p.location(), "back stays on the site")

		p = br.do(http.MethodPost, "/workflows/"+w.ID+"/duplicate", url.Values{"csrf_token": {csrf}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		copyID := strings.TrimSuffix(strings.TrimPrefix(p.location(), "/workflows/"), "?flash=workflow_copied")
		cp, err := b.eng.GetWorkflow(ctx, copyID)
		require.NoError(t, err)
		require.Equal(t, `Заказы / Tilda: "VIP" (copy)`, cp.Name)
		require.False(t, cp.Enabled, "a copy starts switched off")
		require.NotEqual(t, w.HookToken, cp.HookToken)
		require.Contains(t, br.get(p.location()).body, "Copy created.")

		list := br.get("/workflows")
		require.Contains(t, list.body, `data-confirm="Delete this workflow?`)
		p = br.do(http.MethodPost, "/workflows/"+w.ID+"/delete", url.Values{"csrf_token": {csrf}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status)
		require.Equal(t, "/workflows?flash=workflow_deleted", p.location())
		_, err = b.eng.GetWorkflow(ctx, w.ID)
		require.ErrorIs(t, err, engine.ErrNotFound)
		list = br.get(p.location())
		require.Contains(t, list.body, "Workflow deleted.")
		require.Contains(t, list.body, `name="back" value="/workflows">`, "the switch comes back without the old flash")
		require.NotContains(t, list.body, w.ID)
		require.Equal(t, http.StatusNotFound, br.get("/workflows/"+w.ID).status)
		require.Equal(t, http.StatusNotFound, br.do(http.MethodPost, "/workflows/"+w.ID+"/delete", url.Values{"csrf_token": {csrf}}, nil).status)
	})
}

// TestWorkflowOverview: the webhook URL whole with copy and rotate, which changes it; a
// schedule's next five times in its zone; a failing poll's health and last error.
func TestWorkflowOverview(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{BaseURL: "https://hooks.example.com/"}, withWorkers(1))
		ctx := context.Background()
		hook := createWF(t, b, hookWorkflow, "Leads")
		br, csrf := admin(t, b)

		p := br.get("/workflows/" + hook.ID)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `value="https://hooks.example.com/hooks/`+hook.HookToken+`"`)
		require.Contains(t, p.body, `data-copy="#wf-hook"`)
		require.Contains(t, p.body, `action="/workflows/`+hook.ID+`/rotate-token" data-confirm=`)

		r := br.do(http.MethodPost, "/workflows/"+hook.ID+"/rotate-token", url.Values{"csrf_token": {csrf}}, nil)
		require.Equal(t, http.StatusSeeOther, r.status)
		rotated, err := b.eng.GetWorkflow(ctx, hook.ID)
		require.NoError(t, err)
		require.NotEqual(t, hook.HookToken, rotated.HookToken)
		p = br.get(r.location())
		require.Contains(t, p.body, "New webhook URL made")
		require.Contains(t, p.body, rotated.HookToken)
		require.NotContains(t, p.body, hook.HookToken)

		sched := createWF(t, b, `{"name":"Morning","trigger":{"type":"schedule","schedule":{"cron":"30 9 * * 1-5","timezone":"Europe/Moscow"}},"steps":[]}`)
		p = br.get("/workflows/" + sched.ID)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, "<code>30 9 * * 1-5</code>")
		times := regexp.MustCompile(`<time datetime="[^"]+">(\d{4}-\d\d-\d\d 09:30 MSK)</time>`).FindAllStringSubmatch(p.body, -1)
		require.Len(t, times, 5, p.body)
		require.Contains(t, p.body, "In Europe/Moscow")
		require.Contains(t, p.body, "Your time (UTC)")
		require.NotContains(t, p.body, `id="wf-hook"`, "a schedule has no webhook URL")

		feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"maintenance"}`))
		}))
		t.Cleanup(feed.Close)
		poll := createWF(t, b, `{"name":"Feed","trigger":{"type":"poll","poll":{"uses":"http.poll","cron":"@every 1h",
			"with":{"url":%q,"items":"body.data"}}},"steps":[]}`, feed.URL+"/items")
		require.Eventually(t, func() bool {
			st, err := b.eng.GetTriggerState(ctx, poll.ID)
			require.NoError(t, err)
			return st.LastPollAt != nil && st.Polling == ""
		}, 20*time.Second, 20*time.Millisecond, "the first poll never ran")
		p = br.get("/workflows/" + poll.ID)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `<span class="status status-failed">failing</span>`)
		require.Contains(t, p.body, "1 failed poll in a row")
		require.Regexp(t, `Last error: <code class="wf-wrap">[^<]*503`, p.body)
	})
}

// TestWorkflowVersionsDiffAndRestore: two versions side by side with the removed and
// added lines marked; restoring the first saves it as version 3.
func TestWorkflowVersionsDiffAndRestore(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		ctx := context.Background()
		w := createWF(t, b, `{"name":"Versioned","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":1}}]}`)
		_, err := b.eng.UpdateWorkflow(ctx, w.ID, []byte(`{"name":"Versioned","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":2}}]}`))
		require.NoError(t, err)
		br, csrf := admin(t, b)

		p := br.get("/workflows/" + w.ID + "/versions")
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, "<th scope=\"col\" colspan=\"2\">Version 1</th><th scope=\"col\" colspan=\"2\">Version 2</th>")
		require.Regexp(t, `<td class="code del"><span class="wf-sr">removed: </span>\s+&#34;x&#34;: 1</td>`, p.body)
		require.Regexp(t, `<td class="code add"><span class="wf-sr">added: </span>\s+&#34;x&#34;: 2</td>`, p.body)
		require.Equal(t, 1, strings.Count(p.body, `class="code del"`))
		require.Equal(t, 1, strings.Count(p.body, `class="code add"`))
		require.Contains(t, p.body, `<option value="1" selected>1</option>`)
		require.Contains(t, p.body, `name="version" value="1"`, "version 1 can be restored")
		require.NotContains(t, p.body, `name="version" value="2"`, "the current one cannot")

		same := br.get("/workflows/" + w.ID + "/versions?a=2&b=2")
		require.Contains(t, same.body, "Versions 2 and 2 are the same.")
		require.Equal(t, http.StatusNotFound, br.get("/workflows/"+w.ID+"/versions?a=9&b=2").status)

		r := br.do(http.MethodPost, "/workflows/"+w.ID+"/restore", url.Values{"csrf_token": {csrf}, "version": {"1"}}, nil)
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		require.Equal(t, "/workflows/"+w.ID+"/versions?flash=workflow_restored", r.location())
		got, err := b.eng.GetWorkflow(ctx, w.ID)
		require.NoError(t, err)
		require.Equal(t, 3, got.Version)
		require.JSONEq(t, string(w.Definition), string(got.Definition))
		require.Contains(t, br.get(r.location()).body, "Version restored as the newest one.")
		p = br.get("/workflows/" + w.ID + "/versions?a=1&b=3")
		require.Contains(t, p.body, "Versions 1 and 3 are the same.")
	})
}

// TestViewerSeesWorkflowsReadOnly: a viewer reads the pages without write controls,
// sees the webhook URL masked and never the token, and is refused every form (403; all
// forms are posted in TestEveryUIFormIsGuarded too).
func TestViewerSeesWorkflowsReadOnly(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		ctx := context.Background()
		w := createWF(t, b, hookWorkflow, "Secret hook")
		_, err := b.eng.UpdateWorkflow(ctx, w.ID, fmt.Appendf(nil, hookWorkflow, "Secret hook v2"))
		require.NoError(t, err)
		const pw = "a long enough password"
		_, err = b.eng.CreateUser(ctx, "viewer@example.com", pw, engine.RoleViewer)
		require.NoError(t, err)
		vb, csrf := signedInBrowser(t, b, "viewer@example.com", pw)

		for _, path := range []string{"/workflows", "/workflows/" + w.ID, "/workflows/" + w.ID + "/versions",
			"/workflows/" + w.ID + "/json", "/workflows/" + w.ID + "/export"} {
			p := vb.get(path)
			require.Equal(t, http.StatusOK, p.status, path)
			require.NotContains(t, p.body, w.HookToken, path)
			for _, write := range []string{"/enabled", "/duplicate", "/delete", "/rotate-token", "/restore", `href="/workflows/new"`,
				`role="switch"`, `type="submit">Save`} {
				require.NotContains(t, p.body, write, "%s shows %s to a viewer", path, write)
			}
		}
		p := vb.get("/workflows/" + w.ID)
		require.Contains(t, p.body, "/hooks/••••"+w.HookToken[len(w.HookToken)-4:]+`"`)
		require.Contains(t, p.body, "only editors and admins see it whole")
		require.NotContains(t, p.body, "data-copy")
		require.Contains(t, vb.get("/workflows/"+w.ID+"/json").body, " readonly")
		create := vb.get("/workflows/new")
		require.Equal(t, http.StatusOK, create.status)
		require.Contains(t, create.body, "Only editors and admins can create workflows")
		require.NotContains(t, create.body, `id="wf-definition"`)

		for _, post := range []struct {
			path string
			form url.Values
		}{
			{"/workflows", url.Values{"definition": {`{"name":"x","trigger":{"type":"webhook"},"steps":[]}`}}},
			{"/workflows", url.Values{"definition": {`not even json`}}},
			{"/workflows/" + w.ID + "/json", url.Values{"definition": {`{"name":"x","trigger":{"type":"webhook"},"steps":[]}`}, "base_version": {"1"}}},
			{"/workflows/" + w.ID + "/enabled", url.Values{"enabled": {"false"}}},
			{"/workflows/" + w.ID + "/duplicate", nil},
			{"/workflows/" + w.ID + "/delete", nil},
			{"/workflows/" + w.ID + "/rotate-token", nil},
			{"/workflows/" + w.ID + "/restore", url.Values{"version": {"1"}}},
		} {
			form := url.Values{"csrf_token": {csrf}}
			for k, v := range post.form {
				form[k] = v
			}
			r := vb.do(http.MethodPost, post.path, form, nil)
			require.Equal(t, http.StatusForbidden, r.status, "%s %v: %s", post.path, post.form, r.body)
		}
		got, err := b.eng.GetWorkflow(ctx, w.ID)
		require.NoError(t, err)
		require.Equal(t, 2, got.Version)
		require.Equal(t, w.HookToken, got.HookToken)
		require.True(t, got.Enabled)
		page, err := b.eng.ListWorkflows(ctx, "", 0)
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
	})
}

// TestWorkflowPagesInRussian: Accept-Language: ru renders every workflows page in
// Russian, plurals included.
func TestWorkflowPagesInRussian(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	ctx := context.Background()
	w := createWF(t, b, `{"name":"Заявки","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":1}}]}`)
	_, err := b.eng.UpdateWorkflow(ctx, w.ID, []byte(`{"name":"Заявки","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":2}}]}`))
	require.NoError(t, err)
	sched := createWF(t, b, `{"name":"Отчёт","trigger":{"type":"schedule","schedule":{"cron":"0 9 * * *","timezone":"Europe/Moscow"}},"steps":[]}`)
	br, csrf := admin(t, b)
	ru := map[string]string{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
	for path, want := range map[string][]string{
		"/workflows":                             {"<h1>Сценарии</h1>", "Поиск по названию", "Запусков за 24 ч", "Вебхук", "Расписание", "ещё не запускался", "Копировать", "Удалить сценарий?"},
		"/workflows/new":                         {"Новый сценарий", "Файл сценария (JSON или YAML)", "Создать"},
		"/workflows/" + w.ID:                     {"Адрес вебхука", "Скопировать", "Сменить адрес", "Сведения", "Версия"},
		"/workflows/" + sched.ID:                 {"Ближайшие запуски", "В поясе Europe/Moscow", "Ваше время (UTC)"},
		"/workflows/" + w.ID + "/versions":       {"Сравнение версий", "Версия 1", "текущая", "Восстановить", "строк без изменений"},
		"/workflows/" + w.ID + "/json":           {"Описание сценария (версия 2)", "Сохранить"},
		"/workflows?q=" + url.QueryEscape("нет"): {"Нет сценариев, в названии которых есть «нет»."},
	} {
		p := br.do(http.MethodGet, path, nil, ru)
		require.Equal(t, http.StatusOK, p.status, path)
		require.Contains(t, p.body, `<html lang="ru">`, path)
		for _, s := range want {
			require.Contains(t, p.body, s, path)
		}
	}
	p := br.do(http.MethodPost, "/workflows", url.Values{"csrf_token": {csrf},
		"definition": {`{"name":"x","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"no.such"},{"id":"b","uses":"no.such"}]}`}}, ru)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Сценарий не сохранён: 2 ошибки.")
	p = br.do(http.MethodPost, "/workflows/"+w.ID+"/duplicate", url.Values{"csrf_token": {csrf}}, ru)
	require.Equal(t, http.StatusSeeOther, p.status)
	cp := br.do(http.MethodGet, p.location(), nil, ru)
	require.Contains(t, cp.body, "Заявки (копия)")
	require.Contains(t, cp.body, "Копия создана.")
}

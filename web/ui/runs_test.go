package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
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
	// The engine checks the role before it looks the run or request up, so ids that do
	// not exist are enough to prove a viewer is refused.
	guardCase("POST /runs/:id/replay", guard{path: func(*guardFixture) string { return "/runs/no-such-run/replay" },
		form: url.Values{"from": {"failed"}}})
	guardCase("POST /runs/:id/cancel", guard{path: func(*guardFixture) string { return "/runs/no-such-run/cancel" }})
	guardCase("POST /workflows/:id/inspector/test", guard{
		path: func(f *guardFixture) string { return "/workflows/" + f.WorkflowID + "/inspector/test" },
		form: url.Values{"body": {`{"name":"Ann"}`}, "dry_run": {"1"}}})
	guardCase("POST /workflows/:id/inspector/events/:event/replay", guard{
		path: func(f *guardFixture) string {
			return "/workflows/" + f.WorkflowID + "/inspector/events/no-such-event/replay"
		}})
}

const viewerEmail, viewerPassword = "viewer@example.com", "a long enough password"

// hooked is what a webhook answered.
type hooked struct {
	status int
	RunID  string `json:"run_id"`
	Event  string `json:"event_id"`
}

// sendHook posts a real webhook to a workflow's URL.
func sendHook(t *testing.T, b *testBundle, token, body string, headers map[string]string) hooked {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/hooks/"+token, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	h := hooked{status: res.StatusCode}
	if res.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(raw, &h), string(raw))
	}
	return h
}

// crmFake is a CRM that answers 500 while broken, else 200 with the lead's id.
type crmFake struct {
	*httptest.Server
	broken atomic.Bool
	calls  atomic.Int64
}

func newCRMFake(t *testing.T) *crmFake {
	f := &crmFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n := f.calls.Add(1)
		if f.broken.Load() {
			http.Error(w, `{"error":"crm is down"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"lead_id":%d}`, 1000+n)
	}))
	t.Cleanup(f.Close)
	return f
}

// crmLeadWorkflow creates a workflow that shapes a lead and posts it to the CRM through the
// connection "crm", retrying once after a second.
func crmLeadWorkflow(t *testing.T, b *testBundle, crmURL string) *engine.Workflow {
	t.Helper()
	ctx := context.Background()
	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "crm", Connector: "http",
		Config: map[string]any{"base_url": crmURL}})
	require.NoError(t, err)
	wf, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"Lead to CRM","trigger":{"type":"webhook"},"steps":[
		{"id":"shape","uses":"core.set","with":{"name":"{{ upper(trigger.body.name) }}"}},
		{"id":"send","uses":"http.request","connection":"crm","retry":{"max_attempts":2,"initial":"1s","max":"1s"},
		 "with":{"method":"POST","url":"/leads","body":{"name":"{{ steps.shape.output.name }}"}}}]}`))
	require.NoError(t, err)
	return wf
}

// text is a page's body with entities decoded, for comparing with what a user reads.
func (p page) text() string { return html.UnescapeString(p.body) }

// TestRunPageShowsStepsAndReplaysFromFailedStep: a webhook's run shows as succeeded with
// each step's input and output; a failing step shows its error and its attempts; once the
// CRM is fixed, "replay from the failed step" makes a run that succeeds, keeping the step
// before.
func TestRunPageShowsStepsAndReplaysFromFailedStep(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{}, withWorkers(1))
		crm := newCRMFake(t)
		wf := crmLeadWorkflow(t, b, crm.URL)
		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)

		ok := sendHook(t, b, wf.HookToken, `{"name":"Ann Lee"}`, nil)
		require.Equal(t, http.StatusAccepted, ok.status)
		require.Equal(t, engine.RunSucceeded, enginetest.WaitRun(t, b.eng.Engine, ok.RunID).Status)
		p := br.get("/runs/" + ok.RunID)
		require.Equal(t, http.StatusOK, p.status)
		txt := p.text()
		require.Contains(t, txt, `class="status status-succeeded" id="run-status">succeeded`)
		require.Contains(t, txt, `<code>shape</code>`)
		require.NotContains(t, txt, "upper(", "the rendered input, not the template")
		require.Contains(t, txt, `"name": "ANN LEE"`, "core.set's output and the next step's input")
		require.Contains(t, txt, `"lead_id": 1001`, "the CRM's answer in the output")
		require.NotContains(t, p.body, `hx-trigger="every 2s"`, "an ended run does not poll")
		require.NotContains(t, p.body, `id="run-replay-failed"`)
		require.NotContains(t, p.body, `id="run-cancel"`)
		require.Contains(t, p.body, `id="run-replay"`)

		crm.broken.Store(true)
		bad := sendHook(t, b, wf.HookToken, `{"name":"Bob Ray"}`, nil)
		enginetest.WaitStatus(t, b.eng.Engine, bad.RunID, engine.RunWaiting)
		p = br.get("/runs/" + bad.RunID)
		require.Contains(t, p.body, `hx-get="/runs/`+bad.RunID+`/timeline" hx-trigger="every 2s"`, "a waiting run refreshes itself")
		require.Contains(t, p.text(), "crm is down")
		b.clock.Advance(time.Minute)
		failed := enginetest.WaitRun(t, b.eng.Engine, bad.RunID)
		require.Equal(t, engine.RunFailed, failed.Status)

		p = br.get("/runs/" + bad.RunID)
		txt = p.text()
		require.Contains(t, txt, `id="run-status">failed`)
		require.Contains(t, txt, "500", "the step's error")
		require.Contains(t, txt, "crm is down")
		require.Contains(t, txt, "2 failed attempts")
		require.Contains(t, txt, "2 attempts")
		require.Regexp(t, `crm is down"}</td><td>(\d+ ms|1(\.\d)? s)</td>`, txt, "the wait before the second attempt (1 s with jitter)")
		require.Contains(t, txt, `"name": "BOB RAY"`)
		require.Contains(t, p.body, `id="run-replay-failed"`)
		tl := br.get("/runs/" + bad.RunID + "/timeline")
		require.Equal(t, http.StatusOK, tl.status)
		require.True(t, strings.HasPrefix(strings.TrimSpace(tl.body), `<div id="run-timeline">`), "the ended block has no trigger: %.200s", tl.body)
		require.NotContains(t, tl.body, "<html")

		crm.broken.Store(false)
		calls := crm.calls.Load()
		p = br.do(http.MethodPost, "/runs/"+bad.RunID+"/replay", url.Values{"csrf_token": {csrf}, "from": {"failed"}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		loc := p.location()
		require.Regexp(t, `^/runs/[0-9a-f-]{36}\?flash=run_replayed$`, loc)
		newID := strings.TrimSuffix(strings.TrimPrefix(loc, "/runs/"), "?flash=run_replayed")
		replayed := enginetest.WaitRun(t, b.eng.Engine, newID)
		require.Equal(t, engine.RunSucceeded, replayed.Status, replayed.Error)
		require.Equal(t, bad.RunID, replayed.ReplayOf)
		require.Equal(t, calls+1, crm.calls.Load(), "only the failed step ran again")
		p = br.get(loc)
		txt = p.text()
		require.Contains(t, txt, "Replay queued: this is the new run.")
		require.Contains(t, txt, `id="run-status">succeeded`)
		require.Contains(t, txt, `href="/runs/`+bad.RunID+`"`, "it names the run it replays")
		require.Contains(t, txt, `"name": "BOB RAY"`, "the kept step's output")

		p = br.do(http.MethodPost, "/runs/"+newID+"/replay", url.Values{"csrf_token": {csrf}, "from": {"failed"}}, nil)
		require.Equal(t, http.StatusConflict, p.status, "only a failed run continues from its failed step")
		require.Equal(t, http.StatusNotFound, br.get("/runs/no-such-run").status)
	})
}

// TestRunCancel: a waiting run offers cancel and polls; cancelling it ends it, and its
// page stops polling and offers cancel no more. A viewer sees the run but no button, and
// the engine refuses the viewer's post.
func TestRunCancel(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{}, withWorkers(1))
		ctx := context.Background()
		wf, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"Slow","trigger":{"type":"webhook"},"steps":[
			{"id":"wait","uses":"core.delay","with":{"for":"48h"}},{"id":"after","uses":"core.set","with":{"x":"1"}}]}`))
		require.NoError(t, err)
		_, err = b.eng.CreateUser(ctx, viewerEmail, viewerPassword, engine.RoleViewer)
		require.NoError(t, err)
		h := sendHook(t, b, wf.HookToken, `{}`, nil)
		enginetest.WaitStatus(t, b.eng.Engine, h.RunID, engine.RunWaiting)

		vb, vcsrf := signedInBrowser(t, b, viewerEmail, viewerPassword)
		p := vb.get("/runs/" + h.RunID)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `hx-trigger="every 2s"`)
		require.NotContains(t, p.body, `id="run-cancel"`, "a viewer gets no buttons")
		require.NotContains(t, p.body, `id="run-replay"`)
		require.Equal(t, http.StatusForbidden, vb.do(http.MethodPost, "/runs/"+h.RunID+"/cancel", url.Values{"csrf_token": {vcsrf}}, nil).status)
		require.Equal(t, http.StatusForbidden, vb.do(http.MethodPost, "/runs/"+h.RunID+"/replay", url.Values{"csrf_token": {vcsrf}}, nil).status)

		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
		p = br.get("/runs/" + h.RunID)
		require.Contains(t, p.text(), `id="run-status">waiting`)
		require.Contains(t, p.body, `id="run-cancel"`)
		require.Contains(t, p.body, `data-confirm="Cancel this run?"`)
		p = br.do(http.MethodPost, "/runs/"+h.RunID+"/cancel", url.Values{"csrf_token": {csrf}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/runs/"+h.RunID+"?flash=run_cancelled", p.location())
		p = br.get(p.location())
		require.Contains(t, p.text(), "The run is cancelled.")
		require.Contains(t, p.text(), `id="run-status">cancelled`)
		require.NotContains(t, p.body, `hx-trigger`)
		require.NotContains(t, p.body, `id="run-cancel"`)
		p = br.do(http.MethodPost, "/runs/"+h.RunID+"/cancel", url.Values{"csrf_token": {csrf}}, nil)
		require.Equal(t, http.StatusConflict, p.status, "an ended run cannot be cancelled")
	})
}

var runLinkRE = regexp.MustCompile(`<a href="/runs/([0-9a-f-]{36})" title=`)

// runLinks lists the runs a runs table links, in order.
func runLinks(p page) []string {
	var out []string
	for _, m := range runLinkRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestRunsListFiltersAndPages: /runs filters by workflow, status and time (read in the
// user's time zone) and pages with a cursor that keeps the filter; a workflow's runs tab
// shows its runs only.
func TestRunsListFiltersAndPages(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{}, withWorkers(1))
		ctx := context.Background()
		start := b.clock.Now()
		quick, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"Quick","trigger":{"type":"webhook"},
			"filter":"trigger.body.n % 2 == 0","steps":[{"id":"a","uses":"core.set","with":{"n":"{{ trigger.body.n }}"}}]}`))
		require.NoError(t, err)
		other, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"Other","trigger":{"type":"webhook"},"steps":[]}`))
		require.NoError(t, err)
		var quickRuns []string // newest first
		for i := range 56 {
			h := sendHook(t, b, quick.HookToken, fmt.Sprintf(`{"n":%d}`, i), nil)
			require.Equal(t, http.StatusAccepted, h.status)
			quickRuns = append([]string{h.RunID}, quickRuns...)
			if i == 49 {
				b.clock.Advance(2 * time.Hour)
			}
		}
		otherRun := sendHook(t, b, other.HookToken, `{}`, nil).RunID
		for _, id := range append([]string{otherRun}, quickRuns...) {
			enginetest.WaitRun(t, b.eng.Engine, id)
		}
		br, _ := signedInBrowser(t, b, adminEmail, adminPassword)

		p := br.get("/runs")
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `<div class="table-wrap"><table class="runs">`)
		require.Contains(t, p.body, `<option value="`+quick.ID+`">Quick</option>`)
		require.Contains(t, p.body, "Times are in UTC.", "a user without a time zone of their own")
		got := runLinks(p)
		require.Equal(t, append([]string{otherRun}, quickRuns[:49]...), got, "newest first, 50 a page")
		older := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.body)
		require.NotNil(t, older)
		require.Equal(t, "/runs?cursor="+quickRuns[48], html.UnescapeString(older[1]))
		p = br.get(html.UnescapeString(older[1]))
		require.Equal(t, quickRuns[49:], runLinks(p))
		require.NotContains(t, p.body, `rel="next"`, "the last page")
		require.Contains(t, p.body, `<a href="/runs">Newest</a>`)

		p = br.get("/runs?status=filtered&workflow=" + quick.ID)
		require.Len(t, runLinks(p), 28)
		require.Contains(t, p.body, `<option value="filtered" selected>`)
		require.NotContains(t, p.body, "status-succeeded")
		p = br.get("/runs?status=succeeded")
		require.Len(t, runLinks(p), 29, "28 even numbers and the other workflow's run")

		// The last six quick runs and the other run came two hours after the first 50.
		// (TestRunsFilterTimeZone reads the bounds in a user's own time zone.)
		from := start.Add(time.Hour).UTC().Format("2006-01-02T15:04")
		p = br.get("/runs?" + url.Values{"from": {from}, "workflow": {quick.ID}}.Encode())
		require.Equal(t, quickRuns[:6], runLinks(p))
		require.Contains(t, p.body, `value="`+from+`"`, "the filter keeps what was typed")
		p = br.get("/runs?" + url.Values{"to": {from}, "status": {"succeeded"}}.Encode())
		require.Len(t, runLinks(p), 25)
		p = br.get("/runs?from=yesterday")
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.text(), "“yesterday” is not a date and time.")
		require.Equal(t, http.StatusUnprocessableEntity, br.get("/runs?status=lost").status)

		p = br.get("/workflows/" + other.ID + "/runs")
		require.Equal(t, http.StatusOK, p.status)
		require.Equal(t, []string{otherRun}, runLinks(p))
		require.Contains(t, p.body, `aria-current="page">Runs</a>`, "under the workflow's tabs")
		require.NotContains(t, p.body, `id="runs-workflow"`)
		p = br.get("/workflows/" + quick.ID + "/runs?status=filtered")
		require.Len(t, runLinks(p), 28)
		require.Equal(t, http.StatusNotFound, br.get("/workflows/no-such-workflow/runs").status)
	})
}

// TestInspector: the inspector lists requests newest first with their verdict and
// reason, credentials masked for everyone (a viewer included), bodies pretty-printed; an
// editor sends a test event (htmx and a plain form) and replays a rejected request into a
// real run.
func TestInspector(t *testing.T) {
	t.Parallel()
	const secret, wrong, bearer = "s3cret-hook-token-5521", "wrong-token-8812", "Bearer sk-live-9931"
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{}, withWorkers(1))
		ctx := context.Background()
		_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "hook", Connector: "webhook",
			Config: map[string]any{"secret": secret}})
		require.NoError(t, err)
		wf, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"Form","trigger":{"type":"webhook","webhook":{
			"auth":{"type":"token","connection":"hook","header":"X-Token"}}},
			"steps":[{"id":"greet","uses":"core.set","with":{"hello":"{{ trigger.body.name }}"}}]}`))
		require.NoError(t, err)
		_, err = b.eng.CreateUser(ctx, viewerEmail, viewerPassword, engine.RoleViewer)
		require.NoError(t, err)

		ok := sendHook(t, b, wf.HookToken, `{"name":"Ann","tags":["a","b"]}`,
			map[string]string{"X-Token": secret, "Authorization": bearer, "X-Hub-Signature-256": "sha256=abcdef0123"})
		require.Equal(t, http.StatusAccepted, ok.status)
		enginetest.WaitRun(t, b.eng.Engine, ok.RunID)
		b.clock.Advance(time.Second)
		rej := sendHook(t, b, wf.HookToken, `{"name":"Eve"}`, map[string]string{"X-Token": wrong})
		require.Equal(t, http.StatusUnauthorized, rej.status)

		for _, who := range []struct{ email, password string }{{viewerEmail, viewerPassword}, {adminEmail, adminPassword}} {
			br, _ := signedInBrowser(t, b, who.email, who.password)
			p := br.get("/workflows/" + wf.ID + "/inspector")
			require.Equal(t, http.StatusOK, p.status, who.email)
			for _, s := range []string{secret, wrong, "sk-live-9931", "abcdef0123", wf.HookToken} {
				require.NotContains(t, p.body, s, "%s sees a secret", who.email)
			}
			txt := p.text()
			require.Contains(t, txt, "authorization: ******")
			require.Contains(t, txt, "x-token: ******")
			require.Contains(t, txt, "x-hub-signature-256: ******")
			require.Contains(t, txt, ">rejected</span>")
			require.Contains(t, txt, "Reason:</strong> ")
			require.Contains(t, txt, "token")
			require.Less(t, strings.Index(txt, "Eve"), strings.Index(txt, "Ann"), "newest first")
			require.Contains(t, txt, "{\n  \"name\": \"Ann\",\n  \"tags\": [\n    \"a\",", "pretty-printed")
			require.Contains(t, p.body, `href="/runs/`+ok.RunID+`"`)
			if who.email == viewerEmail {
				require.NotContains(t, p.body, "/replay")
				require.NotContains(t, p.body, "inspector/test")
			} else {
				require.Contains(t, p.body, `/inspector/events/`+ok.Event+`/replay`)
				require.Contains(t, p.body, `data-confirm="This request was refused (`)
			}
		}

		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
		test := url.Values{"csrf_token": {csrf}, "body": {`{"name":"Test"}`}, "headers": {"X-Source: ui"}, "dry_run": {"1"}}
		p := br.do(http.MethodPost, "/workflows/"+wf.ID+"/inspector/test", test, map[string]string{"HX-Request": "true"})
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.True(t, strings.HasPrefix(p.body, `<div id="test-result">`), p.body)
		txt := p.text()
		require.Contains(t, txt, "Dry run: no service was called.")
		require.Contains(t, txt, `<code>greet</code>`)
		require.Contains(t, txt, `"hello": "Test"`)

		test.Set("body", `{"name":`)
		p = br.do(http.MethodPost, "/workflows/"+wf.ID+"/inspector/test", test, map[string]string{"HX-Request": "true"})
		require.Equal(t, http.StatusOK, p.status, "htmx swaps only a success: the problem is in the block")
		require.Contains(t, p.body, "The body is not valid JSON.")
		p = br.do(http.MethodPost, "/workflows/"+wf.ID+"/inspector/test", test, nil)
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "The body is not valid JSON.")
		require.Contains(t, p.body, `{&#34;name&#34;:</textarea>`, "the form keeps what was typed")

		test.Set("body", `{"name":"Plain"}`)
		test.Del("dry_run")
		p = br.do(http.MethodPost, "/workflows/"+wf.ID+"/inspector/test", test, nil)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.text(), `"hello": "Plain"`, "without script the whole page comes back with the result")
		require.Contains(t, p.body, "<html")
		require.NotContains(t, p.body, "Dry run: no service was called.")

		events, err := b.eng.ListEvents(ctx, wf.ID, "", 1)
		require.NoError(t, err)
		rejected := events.Items[0]
		require.Equal(t, "rejected", rejected.Verdict)
		p = br.do(http.MethodPost, "/workflows/"+wf.ID+"/inspector/events/"+rejected.ID+"/replay", url.Values{"csrf_token": {csrf}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Regexp(t, `^/runs/[0-9a-f-]{36}\?flash=request_replayed$`, p.location())
		runID := strings.TrimSuffix(strings.TrimPrefix(p.location(), "/runs/"), "?flash=request_replayed")
		run := enginetest.WaitRun(t, b.eng.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status)
		require.JSONEq(t, `{"hello":"Eve"}`, string(run.Steps[0].Output))
		p = br.get("/workflows/" + wf.ID + "/inspector")
		require.Contains(t, p.text(), "replay of rejected request "+rejected.ID)
		require.Contains(t, p.body, `href="/runs/`+runID+`"`)

		// Pages of 20 requests, newest first, with a cursor.
		for i := range 20 {
			require.Equal(t, http.StatusAccepted, sendHook(t, b, wf.HookToken, fmt.Sprintf(`{"name":"n%d"}`, i),
				map[string]string{"X-Token": secret}).status)
		}
		p = br.get("/workflows/" + wf.ID + "/inspector")
		require.Equal(t, 20, strings.Count(p.body, `<li class="event"`))
		require.Contains(t, p.text(), `"n19"`)
		older := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.body)
		require.NotNil(t, older)
		p = br.get(html.UnescapeString(older[1]))
		require.Equal(t, http.StatusOK, p.status)
		require.Equal(t, 3, strings.Count(p.body, `<li class="event"`), "the rejected, its replay and the first")
		require.Contains(t, p.text(), `"Ann"`)
		require.NotContains(t, p.body, `rel="next"`)
		require.Contains(t, p.body, `<a href="/workflows/`+wf.ID+`/inspector">Newest</a>`)

		vb, vcsrf := signedInBrowser(t, b, viewerEmail, viewerPassword)
		require.Equal(t, http.StatusForbidden, vb.do(http.MethodPost, "/workflows/"+wf.ID+"/inspector/events/"+rejected.ID+"/replay",
			url.Values{"csrf_token": {vcsrf}}, nil).status)
		require.Equal(t, http.StatusForbidden, vb.do(http.MethodPost, "/workflows/"+wf.ID+"/inspector/test",
			url.Values{"csrf_token": {vcsrf}, "body": {"{}"}}, nil).status)
	})
}

// TestRunPagesStaySmall: a step output of about 1 MB, and a webhook body as large, are cut
// for display with their size shown; every page stays under 100 KB.
func TestRunPagesStaySmall(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	ctx := context.Background()
	wf, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"Big","trigger":{"type":"webhook"},"steps":[
		{"id":"big","uses":"core.set","with":{"blob":"{{ repeat('x', 1000000) }}"}},
		{"id":"echo","uses":"core.set","with":{"body":"{{ trigger.body }}"}},
		{"id":"again","uses":"core.set","with":{"blob":"{{ steps.big.output.blob }}","body":"{{ trigger.body }}"}}]}`))
	require.NoError(t, err)
	items := make([]string, 0, 20000)
	for i := range cap(items) {
		items = append(items, fmt.Sprintf(`{"id":%d,"note":"<b>&'quoted'</b>"}`, i))
	}
	body := `{"items":[` + strings.Join(items, ",") + `]}`
	require.Greater(t, len(body), 700_000)
	var last hooked
	for range 3 {
		last = sendHook(t, b, wf.HookToken, body, nil)
		require.Equal(t, http.StatusAccepted, last.status)
	}
	run := enginetest.WaitRun(t, b.eng.Engine, last.RunID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	require.Greater(t, len(run.Steps[0].Output), 1_000_000)

	br, _ := signedInBrowser(t, b, adminEmail, adminPassword)
	p := br.get("/runs/" + last.RunID)
	require.Equal(t, http.StatusOK, p.status)
	require.Less(t, len(p.body), 100<<10, "run page: %d bytes", len(p.body))
	txt := p.text()
	require.Contains(t, txt, "Output <span class=\"muted\">· 976.6 KB</span>", "the size of the whole output")
	require.Contains(t, txt, "Only the first 16 KB are shown.")
	require.Contains(t, txt, "GET /api/v1/runs/"+last.RunID)
	require.Contains(t, txt, "Too large to show on this page.", "past the page's budget, documents are only named")

	p = br.get("/workflows/" + wf.ID + "/inspector")
	require.Equal(t, http.StatusOK, p.status)
	require.Less(t, len(p.body), 100<<10, "inspector: %d bytes", len(p.body))
	require.Contains(t, p.body, "KB</span>")
	require.NotContains(t, p.body, "<b>", "bodies are escaped")
	for _, path := range []string{"/runs", "/workflows/" + wf.ID + "/runs", "/runs/" + last.RunID + "/timeline"} {
		p = br.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		require.Less(t, len(p.body), 100<<10, "%s: %d bytes", path, len(p.body))
	}
}

// TestRunPagesInRussian: Accept-Language: ru renders the runs pages and the inspector in
// Russian, plurals included.
func TestRunPagesInRussian(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	crm := newCRMFake(t)
	crm.broken.Store(true)
	wf := crmLeadWorkflow(t, b, crm.URL)
	h := sendHook(t, b, wf.HookToken, `{"name":"Иван"}`, nil)
	enginetest.WaitStatus(t, b.eng.Engine, h.RunID, engine.RunWaiting)
	b.clock.Advance(time.Minute)
	enginetest.WaitRun(t, b.eng.Engine, h.RunID)
	br, _ := signedInBrowser(t, b, adminEmail, adminPassword)
	ru := map[string]string{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
	for path, want := range map[string][]string{
		"/runs":                                 {"<h1>Запуски</h1>", "Все сценарии", "Любой статус", "ошибка", "вебхуку", `lang="ru"`},
		"/runs/" + h.RunID:                      {"Запуск", "Повторить с шага с ошибкой", "2 неудачные попытки", "2 попытки", "Результат", "Шаги"},
		"/workflows/" + wf.ID + "/runs":         {"Запуски", "Длительность"},
		"/workflows/" + wf.ID + "/inspector":    {"Запросы", "принят", "Отправить тестовое событие", "Пробный прогон"},
		"/runs?status=failed&from=2020-13-01T1": {"— не дата и время."},
	} {
		p := br.do(http.MethodGet, path, nil, ru)
		for _, w := range want {
			require.Contains(t, p.text(), w, path)
		}
		for _, en := range []string{">Runs<", ">Steps<", ">Replay<", ">Status<", ">Requests<", ">Duration<"} {
			require.NotContains(t, p.body, en, "%s: English left", path)
		}
	}
}

package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// TestBrowserRunsAndInspector: in a real browser, an admin opens a failed run and reads
// its error, fixes the CRM and clicks "replay from the failed step", and watches the new
// run's page refresh itself until it has succeeded; then opens a workflow's inspector,
// reads why a request was rejected and sends a test event. Every page of the area is
// usable at 375 px and loads nothing from elsewhere. Screenshots: run, inspector.
func TestBrowserRunsAndInspector(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	ctx := context.Background()
	crm := newCRMFake(t)
	crm.broken.Store(true)
	wf := crmLeadWorkflow(t, b, crm.URL)
	bad := sendHook(t, b, wf.HookToken, `{"name":"Bob Ray"}`, nil)
	enginetest.WaitStatus(t, b.eng.Engine, bad.RunID, engine.RunWaiting)
	b.clock.Advance(time.Minute)
	require.Equal(t, engine.RunFailed, enginetest.WaitRun(t, b.eng.Engine, bad.RunID).Status)

	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "form-token", Connector: "webhook",
		Config: map[string]any{"secret": "s3cret-form-token"}})
	require.NoError(t, err)
	form, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"Site form","trigger":{"type":"webhook","webhook":{
		"auth":{"type":"token","connection":"form-token","header":"X-Token"}}},
		"steps":[{"id":"greet","uses":"core.set","with":{"hello":"{{ trigger.body.name }}"}}]}`))
	require.NoError(t, err)
	ok := sendHook(t, b, form.HookToken, `{"name":"Ann","email":"ann@example.com"}`, map[string]string{"X-Token": "s3cret-form-token"})
	enginetest.WaitRun(t, b.eng.Engine, ok.RunID)
	b.clock.Advance(time.Second)
	require.Equal(t, http.StatusUnauthorized, sendHook(t, b, form.HookToken, `{"name":"Eve"}`, map[string]string{"X-Token": "guess"}).status)

	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)
	c.open("/runs")
	c.do(chromedp.Click(chromedp.CSS(`table.runs a[href="/runs/`+bad.RunID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#run-status")))
	require.Equal(t, "failed", c.text("#run-status"))
	require.Contains(t, c.text("#run-timeline pre.error"), "crm is down")
	require.Contains(t, c.text("#step-send"), "2 failed attempts")
	c.shot("run-failed")

	crm.broken.Store(false)
	c.do(chromedp.Click(chromedp.CSS("#run-replay-failed")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Equal(t, "Replay queued: this is the new run.", c.text("p.flash"))
	require.NotEqual(t, "/runs/"+bad.RunID, c.location())
	// The page refreshes its timeline until the run has ended, then stops.
	c.do(chromedp.WaitVisible(chromedp.CSS("#run-status.status-succeeded")))
	require.False(t, eval[bool](c, `document.getElementById("run-timeline").hasAttribute("hx-trigger")`), "polling stopped")
	require.Contains(t, c.text("#step-send"), `"lead_id"`)
	require.Contains(t, c.text("#step-shape"), "BOB RAY")

	c.open("/workflows/" + form.ID + "/inspector")
	require.Contains(t, c.text(".events li:first-child .reason"), "token")
	require.Equal(t, "rejected", c.text(".events li:first-child .status"))
	c.do(chromedp.Click(chromedp.CSS(".events li:first-child details.payload summary"))) // the headers, folded
	require.Contains(t, c.text(".events li:first-child"), "x-token: ******")
	c.shot("inspector-test-event")
	c.do(chromedp.SetValue(chromedp.CSS("#test-body"), `{"name":"Test"}`),
		chromedp.Click(chromedp.CSS("#test-send")),
		chromedp.WaitVisible(chromedp.CSS("#test-result h3")))
	require.Contains(t, c.text("#test-result"), `"hello": "Test"`)
	require.Contains(t, c.text("#test-result"), "Dry run: no service was called.")
	c.noExternalRequests()

	c.do(chromedp.EmulateViewport(375, 800))
	for _, path := range []string{"/runs", "/runs/" + bad.RunID, "/workflows/" + wf.ID + "/runs", "/workflows/" + form.ID + "/inspector",
		"/runs?from=x"} {
		c.open(path)
		require.Empty(t, c.accessibilityProblems(), path)
		require.False(t, strings.Contains(c.location(), "/login"), path)
	}
}

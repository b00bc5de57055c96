package ui_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// TestBrowserDashboard signs in with runs that succeeded and failed, sees the chart's
// bars, switches to 7 days from the keyboard, and checks the page at 375 px: nothing
// wider than the window, every control named, nothing loaded from elsewhere.
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	wf := leadWorkflow(t, b, crmAPI(t).URL)
	for i := range 8 {
		id := sendWebhook(t, b, wf, fmt.Sprintf(`{"fail": %t}`, i%3 == 0))
		enginetest.WaitRun(t, b.eng.Engine, id)
	}
	queued, err := b.eng.CreateWorkflow(t.Context(), []byte(`{"name": "Later", "trigger": {"type": "webhook"},
	  "steps": [{"id": "wait", "uses": "core.delay", "with": {"for": "1h"}}]}`))
	require.NoError(t, err)
	enginetest.WaitStatus(t, b.eng.Engine, sendWebhook(t, b, queued, `{}`), engine.RunWaiting)

	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)
	c.open("/")
	c.do(chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	require.Equal(t, 24, eval[int](c, `document.querySelectorAll("svg.chart g.bar").length`))
	require.Equal(t, 2, eval[int](c, `document.querySelectorAll("svg.chart rect.s-succeeded, svg.chart rect.s-failed").length`),
		"this hour's bar has a succeeded and a failed segment")
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll("svg.chart rect.s-active").length`), "the waiting run")
	require.Contains(t, eval[string](c, `document.querySelector("svg.chart").getAttribute("aria-label")`), "9 runs")
	require.Greater(t, eval[float64](c, `document.querySelector("svg.chart rect.s-failed").getBoundingClientRect().height`), 10.0)
	require.NotEqual(t, "rgb(0, 0, 0)", eval[string](c, `getComputedStyle(document.querySelector("svg.chart rect.s-failed")).fill`),
		"the stylesheet colours the series")
	require.Contains(t, c.text("ol.incidents"), "Leads to CRM")
	c.shot("dashboard-7d")
	c.noExternalRequests()

	// The period switch, from the keyboard.
	c.do(chromedp.Focus(chromedp.CSS(`a[href="/?range=7d"]`)), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/?range=7d"][aria-current=page]`)))
	require.Equal(t, "/?range=7d", c.location())
	require.Equal(t, 28, eval[int](c, `document.querySelectorAll("svg.chart g.bar").length`))

	c.do(chromedp.EmulateViewport(375, 800))
	for _, path := range []string{"/", "/?range=7d"} {
		c.open(path)
		require.Empty(t, c.accessibilityProblems(), path)
		require.LessOrEqual(t, eval[float64](c, `document.querySelector("svg.chart").getBoundingClientRect().right`), 375.0)
	}
	c.do(chromedp.Click(chromedp.CSS("details.chart-numbers summary")), chromedp.WaitVisible(chromedp.CSS("details.chart-numbers table")))
	require.Empty(t, c.accessibilityProblems(), "the numbers' table scrolls inside its wrapper")
	c.noExternalRequests()
}

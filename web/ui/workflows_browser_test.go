package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// leadYAML is the workflow the browser test imports from a file.
const leadYAML = `name: Лиды с сайта в CRM
trigger:
  type: webhook
filter: trigger.body.fail != true
steps:
  - id: lead
    uses: core.set
    with:
      name: "{{ trigger.body.name }}"
      email: "{{ trigger.body.email }}"
`

// TestBrowserWorkflows goes through the workflows screens as a user would: types a
// workflow into the create page, imports another from a YAML file, opens it, makes a
// mistake in the JSON tab and sees it by path, fixes it and gets version 2, compares the
// versions, duplicates and deletes through the list's buttons (confirming), and checks
// every page at 375 px for keyboard and label problems.
func TestBrowserWorkflows(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	// Some history for the list to show.
	orders := createWF(t, b, hookWorkflow, "Orders to Telegram")
	createWF(t, b, `{"name":"Nightly report","enabled":false,"trigger":{"type":"schedule","schedule":{"cron":"0 3 * * *","timezone":"Europe/Moscow"}},"steps":[]}`)
	fire(t, b, orders, `{"fail":false}`)
	fire(t, b, orders, `{"fail":true}`)
	fire(t, b, orders, `{"fail":false}`)

	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)

	// Create by typing.
	c.open("/workflows")
	c.do(chromedp.Click(chromedp.CSS(`a[href="/workflows/new"]`)), chromedp.WaitVisible(chromedp.CSS("#wf-definition")),
		chromedp.SendKeys(chromedp.CSS("#wf-definition"), `{"name": "Typed in", "trigger": {"type": "webhook"}, "steps": []}`),
		chromedp.Click(chromedp.CSS(".wf-editor button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Equal(t, "Workflow created.", c.text("p.flash"))
	require.Contains(t, c.text("main h1"), "Typed in")

	// Import a YAML file.
	file := filepath.Join(t.TempDir(), "leads.yaml")
	require.NoError(t, os.WriteFile(file, []byte(leadYAML), 0o600))
	c.open("/workflows/new")
	c.do(chromedp.SetUploadFiles(chromedp.CSS("#wf-file"), []string{file}),
		chromedp.Click(chromedp.CSS(".wf-editor button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	loc := c.location()
	require.True(t, strings.HasPrefix(loc, "/workflows/"), loc)
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/workflows/"), "?flash=workflow_created")
	require.Contains(t, c.text("main h1"), "Лиды с сайта в CRM")
	hookURL := eval[string](c, `document.querySelector("#wf-hook").value`)
	require.True(t, strings.HasPrefix(hookURL, b.srv.URL+"/hooks/"), hookURL)
	c.shot("workflow-json")

	// The JSON tab: a mistake, seen by its path, then the fix.
	c.do(chromedp.Click(chromedp.CSS(`.tabs a[href$="/json"]`)), chromedp.WaitVisible(chromedp.CSS("#wf-definition")))
	require.Contains(t, c.text(`label[for="wf-definition"]`), "version 1")
	text := eval[string](c, `document.querySelector("#wf-definition").value`)
	require.Contains(t, text, `"uses": "core.set"`)
	c.do(chromedp.SetValue(chromedp.CSS("#wf-definition"), strings.Replace(text, `"uses": "core.set"`, `"uses": "core.sett"`, 1)),
		chromedp.Click(chromedp.CSS(".wf-editor button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#wf-errors")))
	errs := c.text("#wf-errors")
	require.Contains(t, errs, "The workflow was not saved: 1 problem.")
	require.Contains(t, errs, "steps[0].uses: ")
	require.Contains(t, eval[string](c, `document.querySelector("#wf-definition").value`), "core.sett", "the text is kept")
	fixed := strings.Replace(text, `"email": "{{ trigger.body.email }}"`, `"email": "{{ lower(trigger.body.email) }}"`, 1)
	require.NotEqual(t, text, fixed)
	c.do(chromedp.SetValue(chromedp.CSS("#wf-definition"), fixed),
		chromedp.Click(chromedp.CSS(".wf-editor button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Equal(t, "Saved as a new version.", c.text("p.flash"))
	require.Contains(t, c.text(`label[for="wf-definition"]`), "version 2")

	// Versions: 1 against 2 by default; pick them again by hand.
	c.do(chromedp.Click(chromedp.CSS(`.tabs a[href$="/versions"]`)), chromedp.WaitVisible(chromedp.CSS("table.wf-diff")))
	// The old page is marked, so the wait below sees the new one's table, not its own.
	eval[string](c, `document.body.dataset.old = "yes"`)
	c.do(chromedp.SetValue(chromedp.CSS("#wf-a"), "1"), chromedp.SetValue(chromedp.CSS("#wf-b"), "2"),
		chromedp.Click(chromedp.CSS(".wf-compare button")), chromedp.WaitVisible(chromedp.CSS("body:not([data-old]) table.wf-diff")))
	require.Equal(t, "/workflows/"+id+"/versions?a=1&b=2", c.location())
	require.Contains(t, c.text("table.wf-diff td.del"), `"email": "{{ trigger.body.email }}"`)
	require.Contains(t, c.text("table.wf-diff td.add"), `"email": "{{ lower(trigger.body.email) }}"`)

	// The list: duplicate, then delete the copy (the confirmation is accepted).
	c.open("/workflows")
	c.do(chromedp.Click(chromedp.CSS(`button[formaction="/workflows/`+id+`/duplicate"]`)), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Contains(t, c.text("main h1"), "Лиды с сайта в CRM (copy)")
	copyID := strings.TrimSuffix(strings.TrimPrefix(c.location(), "/workflows/"), "?flash=workflow_copied")
	c.open("/workflows")
	c.do(chromedp.Click(chromedp.CSS(`button[formaction="/workflows/`+copyID+`/delete"]`)), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Equal(t, "Workflow deleted.", c.text("p.flash"))
	require.NotContains(t, eval[string](c, `document.querySelector("main").innerHTML`), copyID)
	c.shot("workflows")
	c.noExternalRequests()

	// Every page at phone width: nothing wider than the window, every control labelled
	// and reachable.
	c.do(chromedp.EmulateViewport(375, 800))
	for _, path := range []string{"/workflows", "/workflows/new", "/workflows/" + id, "/workflows/" + id + "/versions",
		"/workflows/" + id + "/json", "/workflows/" + orders.ID} {
		c.open(path)
		require.Empty(t, c.accessibilityProblems(), path)
		c.noExternalRequests()
	}
}

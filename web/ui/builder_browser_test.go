package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// builderChange runs js, which changes the builder's form in a way that makes htmx draw
// it again, and waits for the new form.
func builderChange(c *chrome, js string) {
	c.t.Helper()
	require.True(c.t, eval[bool](c, `(() => { document.getElementById("builder").dataset.old = "1"; `+js+`; return true })()`))
	c.do(chromedp.WaitReady(chromedp.CSS("form#builder:not([data-old]):not(.htmx-settling):not(.htmx-added)")))
}

// pickJS chooses a select's option as a user would: the value, then a change event.
func pickJS(id, value string) string {
	return `(() => { const el = document.getElementById(` + strconv.Quote(id) + `); el.value = ` + strconv.Quote(value) +
		`; el.dispatchEvent(new Event("change", {bubbles: true})); })()`
}

// TestBrowserBuilder builds "webhook → amount > 100 → Telegram message" in headless
// Chromium with selects and plain words only (no expression, no JSON typed), saves it
// and checks the saved definition; screenshots builder-basic and builder-basic-ru (the README's builder and builder-ru come from TestBrowserBuilderAcceptance).
func TestBrowserBuilder(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	ctx := context.Background()
	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "sales-bot", Connector: "telegram",
		Config: map[string]any{"token": "123456789:AAH-fake-token-for-builder-test-00"}})
	require.NoError(t, err)
	w := createWF(t, b, `{"name":"Site leads","trigger":{"type":"webhook"},"steps":[]}`)
	// A captured request: its fields fill the filter's field list.
	res, err := http.Post(b.srv.URL+"/hooks/"+w.HookToken, "application/json", strings.NewReader(`{"name":"Ann","amount":150}`))
	require.NoError(t, err)
	res.Body.Close()

	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)
	c.open("/workflows/" + w.ID + "/edit")
	require.Equal(t, 1, eval[int](c, `document.querySelectorAll('#builder-paths option[value="trigger.body.amount"]').length`))

	// The condition: the field picked from the list, "is greater than", 100.
	require.True(t, eval[bool](c, `(() => { const el = document.getElementById("b-filter-rows-0--field");
	  el.value = document.querySelector('#builder-paths option[value="trigger.body.amount"]').value;
	  el.dispatchEvent(new Event("input", {bubbles: true})); return true })()`))
	builderChange(c, pickJS("b-filter-rows-0--op", "greater_than"))
	c.do(chromedp.SendKeys(chromedp.CSS("#b-filter-rows-0--value"), "100"))

	// A Telegram step, from the selects.
	builderChange(c, `document.getElementById("builder-add-step").click()`)
	builderChange(c, pickJS("b-steps-0--connector", "telegram"))
	builderChange(c, pickJS("b-steps-0--action", "send_message"))
	require.True(t, eval[bool](c, `(() => { const el = document.getElementById("b-steps-0--connection"); el.value = "sales-bot"; return el.value === "sales-bot" })()`))
	c.do(chromedp.SendKeys(chromedp.CSS("#b-steps-0--with-chat_id"), "-1001234567890"),
		chromedp.SendKeys(chromedp.CSS("#b-steps-0--with-text"), "New lead from the site"))
	require.Equal(t, "100", eval[string](c, `document.getElementById("b-filter-rows-0--value").value`))
	c.shot("builder-basic")

	c.do(chromedp.Click(chromedp.CSS("#builder-save")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	got, err := b.eng.GetWorkflow(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)
	var doc struct {
		Filter string           `json:"filter"`
		Steps  []map[string]any `json:"steps"`
	}
	require.NoError(t, json.Unmarshal(got.Definition, &doc))
	require.Equal(t, `(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100`, doc.Filter)
	require.Len(t, doc.Steps, 1)
	require.Equal(t, "telegram.send_message", doc.Steps[0]["uses"])
	require.Equal(t, "sales-bot", doc.Steps[0]["connection"])
	require.Equal(t, map[string]any{"chat_id": -1001234567890.0, "text": "New lead from the site"}, doc.Steps[0]["with"])

	// The saved filter opens in rows again; at 375 px the page stays usable.
	require.Equal(t, "trigger.body.amount", eval[string](c, `document.getElementById("b-filter-rows-0--field").value`))
	c.do(chromedp.EmulateViewport(375, 800))
	require.Empty(t, c.accessibilityProblems())
	c.noExternalRequests()

	c.do(chromedp.EmulateViewport(1280, 900))
	c.open("/settings/account")
	c.do(chromedp.SetValue(chromedp.CSS("#locale"), "ru"), chromedp.Submit(chromedp.CSS("#locale")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	c.open("/workflows/" + w.ID + "/edit")
	require.Equal(t, "ru", eval[string](c, "document.documentElement.lang"))
	require.Contains(t, c.text("#builder-trigger-h"), "Триггер")
	c.shot("builder-basic-ru")
}

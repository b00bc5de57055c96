package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// TestBrowserTemplates makes a workflow from the "site form → amoCRM + Telegram"
// template by clicking and typing only: the gallery, the template's card, the
// connections chosen from their selects, the chat id typed (wrong first, shown on its
// field, then right), and lands on the new workflow's page, switched off. Every page on
// the way is checked at 375 px.
func TestBrowserTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	_, bot := siteFormFakes(t, b)
	_, err := b.eng.CreateConnection(context.Background(), engine.ConnectionInput{Name: "ops-bot", Connector: "telegram",
		Config: map[string]any{"token": "123:ops", "base_url": bot.URL}})
	require.NoError(t, err)

	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)
	c.open("/workflows")
	c.do(chromedp.Click(chromedp.CSS(`a[href="/workflows/new"]`)), chromedp.WaitVisible(chromedp.CSS("#tpl-gallery-heading")))
	c.shot("templates")
	c.do(chromedp.Click(chromedp.CSS(`a[href="/workflows/new/template/`+siteFormTemplate+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#tpl-conn-bot")))
	require.Equal(t, "Site form to amoCRM and Telegram", c.text("main h1"))
	require.Equal(t, "amo", eval[string](c, `document.querySelector("#tpl-conn-crm").value`), "the only amoCRM connection")
	require.Equal(t, "", eval[string](c, `document.querySelector("#tpl-conn-bot").value`), "two bots: none chosen")

	c.do(chromedp.SetValue(chromedp.CSS("#tpl-conn-bot"), "sales-bot"),
		chromedp.SendKeys(chromedp.CSS("#tpl-field-chat_id"), "sales chat"),
		chromedp.Click(chromedp.CSS(".tpl-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#tpl-field-chat_id-error")))
	require.Contains(t, c.text("#tpl-field-chat_id-error"), "neither a chat id")
	require.Equal(t, "sales-bot", eval[string](c, `document.querySelector("#tpl-conn-bot").value`), "the choice is kept")
	c.do(chromedp.EmulateViewport(375, 800))
	require.Empty(t, c.accessibilityProblems(), "the form with a problem")
	c.do(chromedp.EmulateViewport(1280, 900))

	c.do(chromedp.Clear(chromedp.CSS("#tpl-field-chat_id")),
		chromedp.SendKeys(chromedp.CSS("#tpl-field-chat_id"), "-1001000000002"),
		chromedp.Click(chromedp.CSS(".tpl-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Contains(t, c.text("p.flash"), "Workflow created from the template")
	require.Contains(t, c.text("main h1"), "Site form to amoCRM and Telegram")
	path, _, _ := strings.Cut(c.location(), "?")
	id := strings.TrimPrefix(path, "/workflows/")
	w, err := b.eng.GetWorkflow(context.Background(), id)
	require.NoError(t, err)
	require.False(t, w.Enabled)
	require.Contains(t, string(w.Definition), `"connection":"sales-bot"`)

	c.do(chromedp.EmulateViewport(375, 800))
	for _, p := range []string{"/workflows/new", "/workflows/new/template/" + siteFormTemplate, "/workflows/new/template/schedule-http-report-email"} {
		c.open(p)
		require.Empty(t, c.accessibilityProblems(), p)
		c.noExternalRequests()
	}
}

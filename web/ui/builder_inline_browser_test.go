package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// TestBrowserBuilderInlineConnection: in Chromium, a Telegram step's "New connection"
// creates and tests a connection against the fake Bot API, and the step's select then
// holds it; saved, the step uses it.
func TestBrowserBuilderInlineConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	bot, w := inlineSetup(t, b)
	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)
	c.open("/workflows/" + w.ID + "/edit")
	c.do(chromedp.Click(chromedp.CSS("#builder-newconn-0 > summary")),
		chromedp.WaitVisible(chromedp.CSS("#builder-newconn-0-name")),
		chromedp.SendKeys(chromedp.CSS("#builder-newconn-0-name"), "inline-bot"),
		chromedp.SendKeys(chromedp.CSS("#cfg-newconn-0-token"), bot.Token),
		chromedp.SendKeys(chromedp.CSS("#cfg-newconn-0-base_url"), bot.URL))
	got, err := b.eng.GetWorkflow(context.Background(), w.ID)
	require.NoError(t, err)
	before := got.Version
	// Enter in the fold saves nothing.
	c.do(chromedp.SendKeys(chromedp.CSS("#cfg-newconn-0-base_url"), "\r"), chromedp.Sleep(500*time.Millisecond))
	got, err = b.eng.GetWorkflow(context.Background(), w.ID)
	require.NoError(t, err)
	require.Equal(t, before, got.Version, "Enter in the new connection's fields does not save the workflow")
	c.do(chromedp.Click(chromedp.CSS("#builder-newconn-0-create")),
		chromedp.WaitVisible(chromedp.CSS("#builder-newconn-0-result .test-ok")))
	require.Contains(t, c.text("#builder-newconn-0-result"), "works")
	c.waitFor(`document.getElementById("b-steps-0--connection").value === "inline-bot"`, "the step's select holds the new connection")
	_, err = b.eng.GetConnection(context.Background(), "inline-bot")
	require.NoError(t, err)
	// Saved, the step uses it.
	c.do(chromedp.Click(chromedp.CSS("#builder-save")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	got, err = b.eng.GetWorkflow(context.Background(), w.ID)
	require.NoError(t, err)
	require.Contains(t, string(got.Definition), `"connection":"inline-bot"`)
}

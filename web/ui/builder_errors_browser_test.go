package ui_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// TestBrowserBuilderErrorAndJSONRoundTrip: in headless Chromium, a Telegram step saved
// without its chat comes back with the engine's error on that very field (422, the field
// marked invalid and described by the message); once the chat is typed again the save
// makes a version, and the JSON tab shows the builder's document, fields the builder does
// not draw included; saving the JSON tab unchanged makes no version, and the builder
// opens on the same document.
func TestBrowserBuilderErrorAndJSONRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	ctx := context.Background()
	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "sales-bot", Connector: "telegram",
		Config: map[string]any{"token": "123456789:AAH-fake-token-for-builder-test-00"}})
	require.NoError(t, err)
	w := createWF(t, b, `{"name":"Round trip","trigger":{"type":"webhook"},"limits":{"for_each_items":50},
	  "steps":[{"id":"notify","uses":"telegram.send_message","connection":"sales-bot","timeout":"20s",
	    "with":{"chat_id":"-1001234567890","text":"Lead: {{ trigger.body.name }}"}}]}`)

	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)
	c.open("/workflows/" + w.ID + "/edit")
	// Select the chat and delete it, as a user would.
	c.do(chromedp.Focus(chromedp.CSS("#b-steps-0--with-chat_id")))
	require.True(t, eval[bool](c, `(() => { const el = document.getElementById("b-steps-0--with-chat_id"); el.select(); return true })()`))
	c.do(chromedp.KeyEvent("\b"),
		chromedp.Click(chromedp.CSS("#builder-save")),
		chromedp.WaitVisible(chromedp.CSS("#b-steps-0--with-chat_id-err")))
	require.NotEmpty(t, c.text("#b-steps-0--with-chat_id-err"))
	require.Equal(t, "true", eval[string](c, `document.getElementById("b-steps-0--with-chat_id").getAttribute("aria-invalid")`))
	require.Equal(t, "b-steps-0--with-chat_id-err", eval[string](c, `document.getElementById("b-steps-0--with-chat_id").getAttribute("aria-describedby")`))
	got, err := b.eng.GetWorkflow(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Version, "a refused save makes no version")

	c.do(chromedp.SendKeys(chromedp.CSS("#b-steps-0--with-chat_id"), "-1009876543210"),
		chromedp.Click(chromedp.CSS("#builder-save")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	got, err = b.eng.GetWorkflow(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)

	// The JSON tab holds the saved document, with what the builder does not draw.
	c.open("/workflows/" + w.ID + "/json")
	text := eval[string](c, `document.getElementById("wf-definition").value`)
	var shown, saved map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &shown))
	require.NoError(t, json.Unmarshal(got.Definition, &saved))
	require.Equal(t, saved, shown)
	require.Equal(t, map[string]any{"for_each_items": float64(50)}, shown["limits"])
	step := shown["steps"].([]any)[0].(map[string]any)
	require.Equal(t, "20s", step["timeout"])
	// The field's spec takes a number or a string: the builder keeps what was typed as the
	// number it is.
	require.Contains(t, []any{"-1009876543210", float64(-1009876543210)}, step["with"].(map[string]any)["chat_id"])

	// Saving the JSON tab unchanged makes no version; the builder opens on that document.
	// Mark the page, so the wait is for the page the save answers with, not this one.
	require.True(t, eval[bool](c, `(() => { document.body.dataset.old = "1"; return true })()`))
	c.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitReady(chromedp.CSS("body:not([data-old]) main")))
	got, err = b.eng.GetWorkflow(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)
	c.open("/workflows/" + w.ID + "/edit")
	var drawn map[string]any
	require.NoError(t, json.Unmarshal([]byte(eval[string](c, `document.querySelector('#builder textarea[name="definition"]').value`)), &drawn))
	require.Equal(t, saved, drawn)
	require.Equal(t, "-1009876543210", eval[string](c, `document.getElementById("b-steps-0--with-chat_id").value`))
}

package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// TestBrowserConnectionsAndSettings works the connections and settings screens in a real
// browser as an admin would: creates a Telegram connection by filling in its form, tests
// it (htmx), adds a user and makes an API token; then checks every one of these pages
// at 375 px for overflow, unlabelled controls and controls out of the keyboard's reach.
func TestBrowserConnectionsAndSettings(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	bot := telegramtest.NewServer(t)
	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)

	c.open("/connections")
	c.do(chromedp.SetValue(chromedp.CSS("#add"), "telegram"),
		chromedp.Click(chromedp.CSS("main form[action='/connections'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#conn-name")))
	require.Equal(t, "New Telegram connection", c.text("main h1"))
	c.do(chromedp.SendKeys(chromedp.CSS("#conn-name"), "team-bot"),
		chromedp.SendKeys(chromedp.CSS("#cfg-token"), bot.Token),
		chromedp.SendKeys(chromedp.CSS("#cfg-base_url"), bot.URL),
		chromedp.Click(chromedp.CSS(".conn-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#test-heading")))
	require.Equal(t, "/connections/team-bot?flash=connection_created", c.location())
	require.Equal(t, "Connection created.", c.text("p.flash"))
	require.Equal(t, "set", c.text("#cfg-token-state .status"))
	require.Empty(t, eval[string](c, `document.querySelector("#cfg-token").value`), "a secret is never filled in")

	c.do(chromedp.Click(chromedp.CSS("form[hx-post] button")), chromedp.WaitVisible(chromedp.CSS("#test-result .test-ok")))
	require.Contains(t, c.text("#test-result"), "It works")
	require.Equal(t, "/connections/team-bot?flash=connection_created", c.location(), "htmx swapped the result in place")
	c.noExternalRequests()
	c.shot("connections")

	c.open("/settings/users")
	c.do(chromedp.SendKeys(chromedp.CSS("#new-email"), "marketing@example.com"),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "a long enough password"),
		chromedp.SetValue(chromedp.CSS("#new-role"), "viewer"),
		chromedp.Click(chromedp.CSS("form[action='/settings/users'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Equal(t, "User added.", c.text("p.flash"))
	require.Contains(t, c.text("main table"), "marketing@example.com")
	c.shot("settings")

	c.open("/settings/tokens")
	c.do(chromedp.SendKeys(chromedp.CSS("#token-name"), "CI deploys"),
		chromedp.Click(chromedp.CSS("form[action='/settings/tokens'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#new-token")))
	token := eval[string](c, `document.querySelector("#new-token").value`)
	require.True(t, strings.HasPrefix(token, "hf_"), token)
	_, err := b.eng.Authenticate(context.Background(), token)
	require.NoError(t, err, "the token shown works")
	c.open("/settings/tokens")
	require.NotContains(t, eval[string](c, `document.documentElement.outerHTML`), token, "shown once")
	c.noExternalRequests()

	c.do(chromedp.EmulateViewport(375, 800))
	for _, path := range []string{"/connections", "/connections?add=http", "/connections?add=email", "/connections/team-bot",
		"/settings/account", "/settings/tokens", "/settings/users", "/settings/audit"} {
		c.open(path)
		require.Empty(t, c.accessibilityProblems(), path)
	}
	// The test button is reached with the keyboard and works with Enter.
	c.open("/connections/team-bot")
	c.do(chromedp.Focus(chromedp.CSS("form[hx-post] button")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#test-result .test-ok")))
}

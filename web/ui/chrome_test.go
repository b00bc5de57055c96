package ui_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// The browser tests drive Debian's headless Chromium with chromedp, as a user would:
// typing into fields and clicking buttons. .ci/run installs the chromium package; on a
// machine without it they skip, except under CI, where they fail.

// chromeSlots bounds the browsers running at once: each is a few hundred MB and this
// suite is planned for two cores.
var chromeSlots = make(chan struct{}, 2)

// chromePath finds a Chromium or Chrome executable.
func chromePath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on this machine: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on this machine (apt-get install chromium); CI runs these tests")
	return ""
}

// chrome is a headless browser tab on a test server.
type chrome struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newChrome starts a headless browser for the server at base. Its DNS resolves nothing
// but loopback, so the pages cannot reach the internet even by mistake, and
// noExternalRequests checks they did not try. Dialogs (confirmations) are accepted.
func newChrome(t *testing.T, base string) *chrome {
	t.Helper()
	exe := chromePath(t)
	chromeSlots <- struct{}{}
	t.Cleanup(func() { <-chromeSlots })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	// A bound on the whole test's browsing, so a hung page fails instead of hanging CI.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	dialogs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	c := &chrome{t: t, ctx: ctx, base: base}
	c.do(chromedp.Navigate("about:blank"))
	return c
}

// do runs actions, failing the test on an error.
func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	require.NoError(c.t, chromedp.Do(c.ctx, steps...))
}

// open navigates to a path of the server and waits for the page's main element.
func (c *chrome) open(path string) {
	c.t.Helper()
	c.do(chromedp.Navigate(c.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// text returns the text of the first element matching a CSS selector.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(c.t, err, sel)
	return s
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](c *chrome, js string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](js))
	require.NoError(c.t, err, js)
	return v
}

// location is the page's path and query.
func (c *chrome) location() string {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	require.NoError(c.t, err)
	return strings.TrimPrefix(loc, c.base)
}

// signIn fills in the sign-in form and submits it, waiting for the signed-in menu.
func (c *chrome) signIn(email, password string) {
	c.t.Helper()
	c.open("/login")
	c.do(chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("header.top")))
}

// shot saves a full-page screenshot as NAME.png in $HOOKFLOW_SCREENSHOTS (make
// screenshots points it at docs/screenshots), else in the test's temporary directory.
func (c *chrome) shot(name string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	require.NoError(c.t, err)
	require.Greater(c.t, len(png), 1000, "an empty screenshot")
	dir := os.Getenv("HOOKFLOW_SCREENSHOTS")
	if dir == "" {
		dir = c.t.TempDir()
	}
	require.NoError(c.t, os.MkdirAll(dir, 0o755))
	require.NoError(c.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// noExternalRequests fails when the page loaded anything from another origin: the UI
// must work with no internet (no CDN, no web font).
func (c *chrome) noExternalRequests() {
	c.t.Helper()
	urls := eval[[]string](c, `performance.getEntriesByType("resource").map(e => e.name)`)
	for _, u := range urls {
		require.True(c.t, strings.HasPrefix(u, c.base+"/"), "the page loaded %s from another origin", u)
	}
}

// accessibilityProblems lists what keeps the page from working at the current width
// with a keyboard and a screen reader: content wider than the window, form controls
// without a label, buttons and links without a name, controls taken out of the tab order.
func (c *chrome) accessibilityProblems() []string {
	c.t.Helper()
	return eval[[]string](c, `(() => {
  const out = [];
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > w + 1) out.push("page is " + document.documentElement.scrollWidth + "px wide in a " + w + "px window");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const labelled = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest("label") ||
      el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.getAttribute("title");
    if (!labelled) out.push("no label: " + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    const name = (el.textContent || "").trim() || el.getAttribute("aria-label") || el.getAttribute("title");
    if (!name) out.push("no name: " + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("button, a[href], input, select, textarea")) {
    if (el.getAttribute("tabindex") !== null && Number(el.getAttribute("tabindex")) < 0) out.push("not reachable by keyboard: " + el.outerHTML.slice(0, 120));
  }
  return out;
})()`)
}

// TestBrowserSignIn signs in through the form in a real browser, checks the page loads
// nothing from elsewhere and is usable at 375 px, and signs out.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	c := newChrome(t, b.srv.URL)
	c.open("/?from=signin")
	require.Equal(t, "/login?next=%2F%3Ffrom%3Dsignin", c.location())
	c.do(chromedp.SendKeys(chromedp.CSS("#email"), adminEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.error")))
	require.Equal(t, "Wrong email or password.", c.text("p.error"))
	c.shot("login")
	c.signIn(adminEmail, adminPassword)
	require.Contains(t, c.text("header.top .who"), adminEmail)
	c.noExternalRequests()
	c.do(chromedp.EmulateViewport(375, 800))
	c.open("/")
	require.Empty(t, c.accessibilityProblems())
	c.do(chromedp.Click(chromedp.CSS("form.signout button")), chromedp.WaitVisible(chromedp.CSS("#password")))
	require.Equal(t, "/login", c.location())
}

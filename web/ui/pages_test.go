package ui_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// pageFixture is what the pages of TestEveryPage show.
type pageFixture struct {
	Workflow   *engine.Workflow
	RunID      string
	Connection string
}

// pagePaths maps every GET route of the UI to a path to fetch; a route missing here fails
// TestEveryPage, so a new page cannot skip its checks.
var pagePaths = map[string]func(f *pageFixture) string{
	"/":                  func(*pageFixture) string { return "/" },
	"/connections":       func(*pageFixture) string { return "/connections" },
	"/connections/:name": func(f *pageFixture) string { return "/connections/" + f.Connection },
	"/settings":          nil, // a redirect to /settings/account
	"/settings/account":  func(*pageFixture) string { return "/settings/account" },
	"/settings/tokens":   func(*pageFixture) string { return "/settings/tokens" },
	"/settings/users":    func(*pageFixture) string { return "/settings/users" },
	"/settings/audit":    func(*pageFixture) string { return "/settings/audit" },
}

// pagePath registers a page's path for TestEveryPage (from an area test file's init).
func pagePath(route string, path func(f *pageFixture) string) { pagePaths[route] = path }

// everyPage builds a fixture with a workflow, a finished run and a connection, and
// returns every page's path, checking that the route table has no page left out.
func everyPage(t *testing.T, b *testBundle) (*pageFixture, []string) {
	t.Helper()
	ctx := context.Background()
	wf := leadWorkflow(t, b, crmAPI(t).URL)
	run := sendWebhook(t, b, wf, `{"name":"Ann","fail":"no"}`)
	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "crm-api", Connector: "http",
		Config: map[string]any{"base_url": "https://crm.example", "auth": "header", "header_name": "X-Api-Key", "header_value": "s3cret-value"}})
	require.NoError(t, err)
	f := &pageFixture{Workflow: wf, RunID: run, Connection: "crm-api"}
	var paths []string
	for _, r := range b.srv.Config.Handler.(*gin.Engine).Routes() {
		if r.Method != http.MethodGet || strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/hooks/") ||
			strings.HasPrefix(r.Path, "/assets/") || r.Path == "/login" || r.Path == "/healthz" || r.Path == "/readyz" || r.Path == "/metrics" {
			continue
		}
		p, ok := pagePaths[r.Path]
		require.True(t, ok, "GET %s has no entry in pagePaths: register it with pagePath", r.Path)
		if p != nil {
			paths = append(paths, p(f))
		}
	}
	return f, paths
}

// englishLabels must not appear on a Russian page: the menu, and words every page has.
var englishLabels = []string{">Dashboard<", ">Workflows<", ">Runs<", ">Connections<", ">Settings<", ">Sign out<"}

var keyLeakRE = regexp.MustCompile(`>\s*([a-z_]+\.[a-z_]+(?:\.[a-z_]+)*)\s*<`)

// TestEveryPage fetches every page of the UI as an admin: each answers 200 in at most
// 100 KB; with Accept-Language: ru each is in Russian (its lang, the menu, no English
// label, no catalogue key shown instead of its text). No page shows a connection's
// secret, and none shows a viewer the webhook's token.
func TestEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	f, paths := everyPage(t, b)
	require.GreaterOrEqual(t, len(paths), 7)
	br := b.browser(t)
	require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
	en, ru := catalogue(t, "en"), catalogue(t, "ru")
	for _, p := range paths {
		page := br.get(p)
		require.Equal(t, http.StatusOK, page.status, "%s: %s", p, page.body)
		require.LessOrEqual(t, len(page.body), 100*1024, "%s is over 100 KB", p)
		require.Contains(t, page.body, `<html lang="en">`, p)
		require.NotContains(t, page.body, "s3cret-value", p)

		page = br.do(http.MethodGet, p, nil, map[string]string{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
		require.Equal(t, http.StatusOK, page.status, p)
		require.Contains(t, page.body, `<html lang="ru">`, p)
		require.Contains(t, page.body, ">"+ru["nav.workflows"].(string)+"<", p)
		for _, label := range englishLabels {
			require.NotContains(t, page.body, label, "%s in Russian shows %s", p, label)
		}
		for _, m := range keyLeakRE.FindAllStringSubmatch(page.body, -1) {
			_, isKey := en[m[1]]
			require.False(t, isKey, "%s shows the catalogue key %q instead of its text", p, m[1])
		}
	}

	const pw = "viewer's password"
	_, err := b.eng.CreateUser(context.Background(), "viewer@example.com", pw, engine.RoleViewer)
	require.NoError(t, err)
	viewer := b.browser(t)
	require.Equal(t, http.StatusSeeOther, viewer.login("viewer@example.com", pw, "/").status)
	for _, p := range paths {
		page := viewer.get(p)
		if strings.HasPrefix(p, "/settings/users") || strings.HasPrefix(p, "/settings/audit") {
			require.Equal(t, http.StatusForbidden, page.status, "viewer: %s", p)
		} else {
			require.Equal(t, http.StatusOK, page.status, "viewer: %s", p)
		}
		require.NotContains(t, page.body, "s3cret-value", "viewer: %s", p)
		require.NotContains(t, page.body, f.Workflow.HookToken, "viewer: %s shows the webhook token", p)
	}
}

// TestBrowserEveryPageAt375 opens every page in headless Chromium on a 375 px wide
// screen, in English and Russian: nothing wider than the screen, every control labelled
// and in the tab order, nothing loaded from another origin.
func TestBrowserEveryPageAt375(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	_, paths := everyPage(t, b)
	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)
	c.do(chromedp.EmulateViewport(375, 800))
	for _, lang := range []string{"en", "ru"} {
		if lang == "ru" {
			c.open("/settings/account")
			c.do(chromedp.SetValue(chromedp.CSS("#locale"), "ru"), chromedp.Submit(chromedp.CSS("#locale")),
				chromedp.WaitVisible(chromedp.CSS("p.flash")))
		}
		for _, p := range paths {
			c.open(p)
			require.Equal(t, lang, eval[string](c, "document.documentElement.lang"), p)
			require.Empty(t, c.accessibilityProblems(), "%s (%s)", p, lang)
			c.noExternalRequests()
		}
	}
}

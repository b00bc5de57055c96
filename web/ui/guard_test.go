package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
)

// Roles on the UI's forms are the engine's decision, like the API's; this test proves no
// form skips it. Each area's test file registers its POST routes with guardCase.

// guardFixture is what the guarded forms act on.
type guardFixture struct {
	WorkflowID string
	Connection string
	ViewerID   string
	AdminToken string // an API token id of the admin
}

// guard is how to post one form.
type guard struct {
	path func(f *guardFixture) string
	form url.Values
	// viewerMay: a viewer may post this (their own account, signing out).
	viewerMay bool
	// adminOnly: an editor gets 403 too.
	adminOnly bool
}

var guardCases = map[string]guard{
	"POST /logout":            {path: func(*guardFixture) string { return "/logout" }, viewerMay: true},
	"POST /logout/everywhere": {path: func(*guardFixture) string { return "/logout/everywhere" }, viewerMay: true},
}

// guardCase registers a POST route's case, keyed "POST /gin/route/:param".
func guardCase(route string, g guard) { guardCases[route] = g }

func signedInBrowser(t *testing.T, b *testBundle, email, password string) (*browser, string) {
	t.Helper()
	br := b.browser(t)
	require.Equal(t, http.StatusSeeOther, br.login(email, password, "/").status)
	home := br.get("/")
	require.Equal(t, http.StatusOK, home.status)
	return br, home.csrf(t)
}

// TestEveryUIFormIsGuarded walks the route table: every POST route of the UI must have a
// case, a viewer gets 403 on every form it may not post, an editor on the admins' forms;
// any form posted without its CSRF token, or from another site, is refused for everyone.
func TestEveryUIFormIsGuarded(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		ctx := context.Background()
		const pw = "a long enough password"
		viewer, err := b.eng.CreateUser(ctx, "viewer@example.com", pw, engine.RoleViewer)
		require.NoError(t, err)
		_, err = b.eng.CreateUser(ctx, "editor@example.com", pw, engine.RoleEditor)
		require.NoError(t, err)
		wf, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"guarded","trigger":{"type":"webhook"},"steps":[]}`))
		require.NoError(t, err)
		_, err = b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "guarded-http", Connector: "http"})
		require.NoError(t, err)
		admins, err := b.eng.ListUsers(ctx)
		require.NoError(t, err)
		var adminID string
		for _, u := range admins {
			if u.Email == adminEmail {
				adminID = u.ID
			}
		}
		tok, _, err := b.eng.CreateAPIToken(ctx, engine.TokenInput{UserID: adminID, Name: "admin's"})
		require.NoError(t, err)
		fx := &guardFixture{WorkflowID: wf.ID, Connection: "guarded-http", ViewerID: viewer.ID, AdminToken: tok.ID}

		for _, r := range b.srv.Config.Handler.(*gin.Engine).Routes() {
			if r.Method == http.MethodGet || strings.HasPrefix(r.Path, "/api/") || r.Path == "/hooks/:token" || r.Path == "/login" {
				continue
			}
			_, ok := guardCases[r.Method+" "+r.Path]
			require.True(t, ok, "%s %s has no case in guardCases: register one with guardCase", r.Method, r.Path)
		}

		vb, vcsrf := signedInBrowser(t, b, "viewer@example.com", pw)
		eb, ecsrf := signedInBrowser(t, b, "editor@example.com", pw)
		for key, g := range guardCases {
			if g.viewerMay {
				continue
			}
			form := url.Values{}
			for k, v := range g.form {
				form[k] = v
			}
			form.Set("csrf_token", vcsrf)
			p := vb.do(http.MethodPost, g.path(fx), form, nil)
			require.Equal(t, http.StatusForbidden, p.status, "viewer: %s: %s", key, p.body)
			if g.adminOnly {
				form.Set("csrf_token", ecsrf)
				p = eb.do(http.MethodPost, g.path(fx), form, nil)
				require.Equal(t, http.StatusForbidden, p.status, "editor: %s: %s", key, p.body)
			}
		}

		// Without the token, or from another site, nothing passes, whoever posts.
		ab, acsrf := signedInBrowser(t, b, adminEmail, adminPassword)
		for key, g := range guardCases {
			form := url.Values{}
			for k, v := range g.form {
				form[k] = v
			}
			p := ab.do(http.MethodPost, g.path(fx), form, nil)
			require.Equal(t, http.StatusForbidden, p.status, "no CSRF token: %s: %s", key, p.body)
			form.Set("csrf_token", acsrf)
			p = ab.do(http.MethodPost, g.path(fx), form, map[string]string{"Sec-Fetch-Site": "cross-site"})
			require.Equal(t, http.StatusForbidden, p.status, "cross-site: %s: %s", key, p.body)
			p = ab.do(http.MethodPost, g.path(fx), form, map[string]string{"Origin": "https://evil.example"})
			require.Equal(t, http.StatusForbidden, p.status, "other origin: %s: %s", key, p.body)
		}
		require.True(t, ab.signedIn(), "no refused form changed anything, sign-out included")
	})
}

package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web/webtest"
)

// rolesBundle is an app with a token for each role.
type rolesBundle struct {
	app                   *webtest.App
	admin, editor, viewer map[string]string // Authorization headers
	adminUser, viewerUser *engine.User
}

func setupRoles(t *testing.T, d store.Dialect) *rolesBundle {
	t.Helper()
	app := webtest.NewApp(t, d, enginetest.Options{Workers: -1})
	ctx := context.Background()
	b := &rolesBundle{app: app, admin: map[string]string{"Authorization": "Bearer " + app.Token}}
	users, err := app.Engine.ListUsers(ctx)
	require.NoError(t, err)
	b.adminUser = &users[0]
	for _, u := range []struct {
		email, role string
		header      *map[string]string
	}{{"editor@example.com", engine.RoleEditor, &b.editor}, {"viewer@example.com", engine.RoleViewer, &b.viewer}} {
		user, err := app.Engine.CreateUser(ctx, u.email, "long-enough-password", u.role)
		require.NoError(t, err)
		if u.role == engine.RoleViewer {
			b.viewerUser = user
		}
		tok, err := app.Engine.CreateToken(ctx, u.email, "test")
		require.NoError(t, err)
		*u.header = map[string]string{"Authorization": "Bearer " + tok}
	}
	return b
}

// TestEveryWriteRouteIsGuarded walks the route table: every state-changing API route must
// have a case below (so a new route cannot slip in unguarded), a viewer gets 403 on each,
// an editor gets 403 on the admins' routes only, and an admin on none. The decision is the
// engine's: the middleware no longer looks at roles.
func TestEveryWriteRouteIsGuarded(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupRoles(t, d)
		ctx := context.Background()
		wf := b.app.CreateWorkflow(t, `{"name":"guarded","trigger":{"type":"webhook"},"steps":[]}`)
		wfID := wf["id"].(string)
		adminTok, _, err := b.app.Engine.CreateAPIToken(ctx, engine.TokenInput{UserID: b.adminUser.ID, Name: "admin's"})
		require.NoError(t, err)

		type route struct {
			method, path, body string
			adminOnly          bool
		}
		// Keyed by gin's route pattern. Editors and admins may still fail these requests
		// for other reasons (404, 422): only 403 matters here.
		cases := map[string]route{
			"POST /api/v1/workflows":                   {path: "/api/v1/workflows", body: `{}`},
			"PUT /api/v1/workflows/:id":                {path: "/api/v1/workflows/" + wfID, body: `{}`},
			"DELETE /api/v1/workflows/:id":             {path: "/api/v1/workflows/missing"},
			"POST /api/v1/workflows/:id/test":          {path: "/api/v1/workflows/missing/test", body: `{}`},
			"POST /api/v1/workflows/:id/rotate-token":  {path: "/api/v1/workflows/missing/rotate-token"},
			"POST /api/v1/runs/:id/replay":             {path: "/api/v1/runs/missing/replay"},
			"POST /api/v1/runs/:id/cancel":             {path: "/api/v1/runs/missing/cancel"},
			"POST /api/v1/connections":                 {path: "/api/v1/connections", body: `{}`},
			"PUT /api/v1/connections/:name":            {path: "/api/v1/connections/missing", body: `{}`},
			"DELETE /api/v1/connections/:name":         {path: "/api/v1/connections/missing"},
			"POST /api/v1/connections/:name/test":      {path: "/api/v1/connections/missing/test"},
			"POST /api/v1/connections/:name/webhook":   {path: "/api/v1/connections/missing/webhook", body: `{"workflow_id":"` + wfID + `"}`},
			"DELETE /api/v1/connections/:name/webhook": {path: "/api/v1/connections/missing/webhook?workflow_id=" + wfID},
			"POST /api/v1/connectors":                  {path: "/api/v1/connectors", body: `{}`, adminOnly: true},
			"PUT /api/v1/connectors/:name":             {path: "/api/v1/connectors/missing", body: `{}`, adminOnly: true},
			"DELETE /api/v1/connectors/:name":          {path: "/api/v1/connectors/missing", adminOnly: true},
			"POST /api/v1/users":                       {path: "/api/v1/users", body: `{"email":"new@example.com","password":"long-enough-password"}`, adminOnly: true},
			"PATCH /api/v1/users/:id":                  {path: "/api/v1/users/" + b.viewerUser.ID, body: `{"role":"viewer"}`, adminOnly: true},
			"POST /api/v1/tokens":                      {path: "/api/v1/tokens", body: `{"name":"mine"}`},
			// Another user's token: only an admin may revoke it.
			"DELETE /api/v1/tokens/:id": {path: "/api/v1/tokens/" + adminTok.ID, adminOnly: true},
		}
		srv := b.app.Server.Config.Handler.(*gin.Engine)
		for _, r := range srv.Routes() {
			if r.Method == http.MethodGet || !strings.HasPrefix(r.Path, "/api/") {
				continue
			}
			key := r.Method + " " + r.Path
			c, ok := cases[key]
			require.True(t, ok, "%s has no case in this test: add one", key)
			c.method = r.Method
			cases[key] = c
		}
		for key, c := range cases {
			require.NotEmpty(t, c.method, "%s is in the test but not in the route table", key)
			res := b.app.Do(t, c.method, c.path, c.body, false, b.viewer)
			require.Equal(t, http.StatusForbidden, res.Status, "viewer: %s: %s", key, res.Body)
			require.Contains(t, res.Body, `"code":"forbidden"`)
			require.Contains(t, res.Body, "the viewer role cannot", key)

			res = b.app.Do(t, c.method, c.path, c.body, false, b.editor)
			if c.adminOnly {
				require.Equal(t, http.StatusForbidden, res.Status, "editor: %s: %s", key, res.Body)
				require.Contains(t, res.Body, "it takes an admin", key)
			} else {
				require.NotEqual(t, http.StatusForbidden, res.Status, "editor: %s: %s", key, res.Body)
			}
		}
		for key, c := range cases {
			res := b.app.Do(t, c.method, c.path, c.body, false, b.admin)
			require.NotEqual(t, http.StatusForbidden, res.Status, "admin: %s: %s", key, res.Body)
		}
	})
}

// TestUsersAndTokensAPI: an admin adds a user and makes it a token, which lists without
// its secret, expires, and stops working when revoked or when its user is disabled; the
// last admin cannot be demoted.
func TestUsersAndTokensAPI(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupRoles(t, d)
		a := b.app
		res := a.Do(t, http.MethodPost, "/api/v1/users", `{"email":"ops@example.com","password":"long-enough-password","role":"editor"}`, true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		opsID := res.JSON(t)["id"].(string)
		require.NotContains(t, res.Body, "password")

		res = a.Do(t, http.MethodGet, "/api/v1/users", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Contains(t, res.Body, "ops@example.com")
		require.NotContains(t, res.Body, "password_hash")
		require.Equal(t, http.StatusForbidden, a.Do(t, http.MethodGet, "/api/v1/users", "", false, b.editor).Status)

		res = a.Do(t, http.MethodPost, "/api/v1/tokens", `{"user_id":"`+opsID+`","name":"deploy","expires_in":"720h"}`, true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		created := res.JSON(t)
		secret, tokID := created["token"].(string), created["id"].(string)
		require.True(t, strings.HasPrefix(secret, "hf_"))
		require.NotEmpty(t, created["expires_at"])
		ops := map[string]string{"Authorization": "Bearer " + secret}

		res = a.Do(t, http.MethodGet, "/api/v1/tokens", "", false, ops)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.NotContains(t, res.Body, secret, "a token is shown once")
		require.Contains(t, res.Body, `"hint":"hf_…`+secret[len(secret)-4:]+`"`)
		res = a.Do(t, http.MethodGet, "/api/v1/tokens?all=true", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Contains(t, res.Body, "ops@example.com")
		require.Equal(t, http.StatusForbidden, a.Do(t, http.MethodGet, "/api/v1/tokens?user_id="+opsID, "", false, b.editor).Status)

		res = a.Do(t, http.MethodPost, "/api/v1/tokens", `{"expires_in":"soon"}`, false, ops)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)

		// Disabled: its tokens stop working; enabled again, they work.
		res = a.Do(t, http.MethodPatch, "/api/v1/users/"+opsID, `{"disabled":true}`, true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.Equal(t, http.StatusUnauthorized, a.Do(t, http.MethodGet, "/api/v1/workflows", "", false, ops).Status)
		require.Equal(t, http.StatusOK, a.Do(t, http.MethodPatch, "/api/v1/users/"+opsID, `{"disabled":false}`, true, nil).Status)
		require.Equal(t, http.StatusOK, a.Do(t, http.MethodGet, "/api/v1/workflows", "", false, ops).Status)

		res = a.Do(t, http.MethodDelete, "/api/v1/tokens/"+tokID, "", false, ops)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.Contains(t, res.Body, "revoked_at")
		require.Equal(t, http.StatusUnauthorized, a.Do(t, http.MethodGet, "/api/v1/workflows", "", false, ops).Status)

		res = a.Do(t, http.MethodPatch, "/api/v1/users/"+b.adminUser.ID, `{"role":"editor"}`, true, nil)
		require.Equal(t, http.StatusConflict, res.Status, res.Body)
		require.Contains(t, res.Body, "cannot demote or disable the last active admin")
	})
}

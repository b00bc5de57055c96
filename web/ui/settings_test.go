package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
)

func init() {
	fixed := func(path string) func(*guardFixture) string { return func(*guardFixture) string { return path } }
	guardCase("POST /settings/account", guard{path: fixed("/settings/account"), viewerMay: true})
	guardCase("POST /settings/account/password", guard{path: fixed("/settings/account/password"), viewerMay: true})
	guardCase("POST /settings/tokens", guard{path: fixed("/settings/tokens"), form: url.Values{"name": {"viewer's"}}})
	guardCase("POST /settings/tokens/:id/revoke", guard{adminOnly: true,
		path: func(f *guardFixture) string { return "/settings/tokens/" + f.AdminToken + "/revoke" }})
	guardCase("POST /settings/users", guard{path: fixed("/settings/users"), adminOnly: true,
		form: url.Values{"email": {"new@example.com"}, "password": {"long enough password"}, "role": {"admin"}}})
	guardCase("POST /settings/users/:id", guard{adminOnly: true,
		path: func(f *guardFixture) string { return "/settings/users/" + f.ViewerID }, form: url.Values{"role": {"admin"}}})
}

const userPassword = "a long enough password"

// addUser creates an account through the engine.
func addUser(t *testing.T, b *testBundle, email, role string) *engine.User {
	t.Helper()
	u, err := b.eng.CreateUser(context.Background(), email, userPassword, role)
	require.NoError(t, err)
	return u
}

// TestAccountLanguageAndTimeZone: a user's language wins over Accept-Language on every
// page, their time zone moves the times shown, and a zone the server does not know is
// refused on its field.
func TestAccountLanguageAndTimeZone(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		addUser(t, b, "viewer@example.com", engine.RoleViewer)
		br, csrf := signedInBrowser(t, b, "viewer@example.com", userPassword)
		en := map[string]string{"Accept-Language": "en-US,en;q=0.9"}

		p := br.do(http.MethodGet, "/settings/account", nil, en)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `<html lang="en">`)
		require.Contains(t, p.body, "viewer@example.com")
		require.Contains(t, p.body, `<option value="" selected>Automatic`)
		require.NotContains(t, p.body, `href="/settings/users"`, "the users tab is the admins'")
		signedIn := regexp.MustCompile(`<td><time datetime="([^"]+)">([^<]+)</time></td>`).FindStringSubmatch(p.body)
		require.NotNil(t, signedIn, "the session list shows when this session signed in")
		at, err := time.Parse(time.RFC3339, signedIn[1])
		require.NoError(t, err)
		require.Equal(t, at.UTC().Format("2006-01-02 15:04:05"), signedIn[2], "UTC by default")

		p = br.post(csrf, "/settings/account", url.Values{"locale": {"ru"}, "time_zone": {"Mars/Olympus_Mons"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "Unknown time zone “Mars/Olympus_Mons”")
		require.Contains(t, p.body, `value="Mars/Olympus_Mons"`, "the typed value stays")

		p = br.post(csrf, "/settings/account", url.Values{"locale": {"ru"}, "time_zone": {"Asia/Vladivostok"}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/settings/account?flash=account_saved", p.location())

		vlad, err := time.LoadLocation("Asia/Vladivostok")
		require.NoError(t, err)
		for _, path := range []string{"/", "/connections", "/settings/account?flash=account_saved", "/settings/tokens"} {
			p = br.do(http.MethodGet, path, nil, en)
			require.Equal(t, http.StatusOK, p.status, path)
			require.Contains(t, p.body, `<html lang="ru">`, "the setting beats Accept-Language: %s", path)
			require.Contains(t, p.body, "Подключения", path)
		}
		p = br.do(http.MethodGet, "/settings/account", nil, en)
		require.Contains(t, p.body, "Язык и часовой пояс")
		require.Contains(t, p.body, `<option value="ru" selected>Русский</option>`)
		require.Contains(t, p.body, ">"+at.In(vlad).Format("2006-01-02 15:04:05")+"</time>", "times in the user's zone")
		require.NotContains(t, p.body, ">"+at.UTC().Format("2006-01-02 15:04:05")+"</time>")

		p = br.post(csrf, "/settings/account", url.Values{"locale": {""}, "time_zone": {""}})
		require.Equal(t, http.StatusSeeOther, p.status)
		p = br.do(http.MethodGet, "/settings/account", nil, map[string]string{"Accept-Language": "ru"})
		require.Contains(t, p.body, `<html lang="ru">`, "automatic follows the browser again")
		p = br.do(http.MethodGet, "/settings/account", nil, en)
		require.Contains(t, p.body, `<html lang="en">`)
		require.Contains(t, p.body, ">"+at.UTC().Format("2006-01-02 15:04:05")+"</time>")
	})
}

// TestAccountPasswordChange: the current password is checked, the new one typed twice;
// afterwards the old one stops working and the user's other browsers are signed out, this
// one stays.
func TestAccountPasswordChange(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		addUser(t, b, "viewer@example.com", engine.RoleViewer)
		br, csrf := signedInBrowser(t, b, "viewer@example.com", userPassword)
		other, _ := signedInBrowser(t, b, "viewer@example.com", userPassword)
		const next = "correct horse battery staple"

		p := br.post(csrf, "/settings/account/password", url.Values{"current_password": {"wrong"},
			"new_password": {next}, "confirm_password": {next}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "The current password is wrong.")
		p = br.post(csrf, "/settings/account/password", url.Values{"current_password": {userPassword},
			"new_password": {next}, "confirm_password": {next + "!"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "The two new passwords differ.")
		p = br.post(csrf, "/settings/account/password", url.Values{"current_password": {userPassword},
			"new_password": {"short"}, "confirm_password": {"short"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "The password must be 8 to 72 characters long.")
		require.NotContains(t, p.body, userPassword, "passwords are never echoed")
		require.True(t, other.signedIn(), "nothing changed yet")

		p = br.post(csrf, "/settings/account/password", url.Values{"current_password": {userPassword},
			"new_password": {next}, "confirm_password": {next}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/settings/account?flash=password_changed", p.location())
		require.True(t, br.signedIn(), "this browser stays signed in")
		require.False(t, other.signedIn(), "the other browser is signed out")
		require.Equal(t, http.StatusUnauthorized, b.browser(t).login("viewer@example.com", userPassword, "/").status,
			"the old password stops working")
		require.Equal(t, http.StatusSeeOther, b.browser(t).login("viewer@example.com", next, "/").status)
	})
}

var tokenRE = regexp.MustCompile(`hf_[A-Za-z0-9_-]{20,}`)

// TestTokensPage: a token is shown once, on the page that made it, and works; the list
// never shows it again; revoking stops it. Admins see everyone's tokens with their
// owner; a viewer sees their own list and cannot make one.
func TestTokensPage(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		addUser(t, b, "editor@example.com", engine.RoleEditor)
		addUser(t, b, "viewer@example.com", engine.RoleViewer)
		br, csrf := signedInBrowser(t, b, "editor@example.com", userPassword)

		p := br.post(csrf, "/settings/tokens", url.Values{"name": {""}, "expires_days": {"30"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "Give the token a name.")

		p = br.post(csrf, "/settings/tokens", url.Values{"name": {"CI deploys"}, "expires_days": {"30"}})
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, "Copy it now: it is not shown again.")
		token := tokenRE.FindString(p.body)
		require.NotEmpty(t, token, "the new token is on the page")
		require.Equal(t, 1, strings.Count(p.body, token), "once")

		api := func(tok string) int {
			req, err := http.NewRequest(http.MethodGet, b.srv.URL+"/api/v1/workflows", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			return res.StatusCode
		}
		require.Equal(t, http.StatusOK, api(token), "the token works")

		list := br.get("/settings/tokens")
		require.Equal(t, http.StatusOK, list.status)
		require.NotContains(t, list.body, token, "the list never shows the token")
		require.Empty(t, tokenRE.FindAllString(list.body, -1))
		require.Contains(t, list.body, "hf_…"+token[len(token)-4:])
		require.Contains(t, list.body, "CI deploys")
		require.Contains(t, list.body, b.clock.Now().Add(30*24*time.Hour).UTC().Format("2006-01-02"), "expires in 30 days")
		require.NotContains(t, list.body, "Owner", "an editor sees their own tokens only")
		ids := regexp.MustCompile(`action="/settings/tokens/([^/]+)/revoke"`).FindStringSubmatch(list.body)
		require.NotNil(t, ids)

		admin, _ := signedInBrowser(t, b, adminEmail, adminPassword)
		all := admin.get("/settings/tokens")
		require.Contains(t, all.body, "Every user&#39;s tokens")
		require.Contains(t, all.body, "editor@example.com")
		require.NotContains(t, all.body, token)

		viewer, vcsrf := signedInBrowser(t, b, "viewer@example.com", userPassword)
		vp := viewer.get("/settings/tokens")
		require.Equal(t, http.StatusOK, vp.status)
		require.Contains(t, vp.body, "No tokens.")
		require.NotContains(t, vp.body, `action="/settings/tokens"`, "no create form for a viewer")
		require.Equal(t, http.StatusForbidden, viewer.post(vcsrf, "/settings/tokens", url.Values{"name": {"mine"}}).status)
		require.Equal(t, http.StatusForbidden, viewer.post(vcsrf, "/settings/tokens/"+ids[1]+"/revoke", nil).status)

		p = br.post(csrf, "/settings/tokens/"+ids[1]+"/revoke", nil)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/settings/tokens?flash=token_revoked", p.location())
		require.Equal(t, http.StatusUnauthorized, api(token), "a revoked token stops working")
		list = br.get("/settings/tokens?flash=token_revoked")
		require.Contains(t, list.body, "Token revoked.")
		require.Contains(t, list.body, ">revoked</span>")
		require.NotContains(t, list.body, `/revoke"`, "nothing left to revoke")
		require.Equal(t, http.StatusNotFound, br.post(csrf, "/settings/tokens/no-such-token/revoke", nil).status)
	})
}

// TestUsersPage: an admin adds users, changes roles and disables them; the last admin
// stays; editors and viewers get 403 on the page and its forms.
func TestUsersPage(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		ctx := context.Background()
		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
		p := br.get("/settings/users")
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, "1 user")

		p = br.post(csrf, "/settings/users", url.Values{"email": {"ann@example.com"}, "password": {"short"}, "role": {"viewer"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Contains(t, p.body, "The password must be at least 8 characters long.")
		require.Contains(t, p.body, `value="ann@example.com"`)
		require.NotContains(t, p.body, `value="short"`)

		p = br.post(csrf, "/settings/users", url.Values{"email": {"Ann@Example.com"}, "password": {userPassword}, "role": {"viewer"}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/settings/users?flash=user_created", p.location())
		p = br.post(csrf, "/settings/users", url.Values{"email": {"ann@example.com"}, "password": {userPassword}, "role": {"viewer"}})
		require.Equal(t, http.StatusConflict, p.status)
		require.Contains(t, p.body, "A user with this email already exists.")

		us, err := b.eng.ListUsers(ctx)
		require.NoError(t, err)
		var ann, admin engine.User
		for _, u := range us {
			switch u.Email {
			case "ann@example.com":
				ann = u
			case adminEmail:
				admin = u
			}
		}
		require.Equal(t, engine.RoleViewer, ann.Role)
		p = br.get("/settings/users?flash=user_created")
		require.Contains(t, p.body, "User added.")
		require.Contains(t, p.body, "2 users")
		require.Contains(t, p.body, `aria-label="Role of ann@example.com"`)

		annB, _ := signedInBrowser(t, b, "ann@example.com", userPassword)
		require.Equal(t, http.StatusSeeOther, br.post(csrf, "/settings/users/"+ann.ID, url.Values{"role": {"editor"}}).status)
		p = br.post(csrf, "/settings/users/"+ann.ID, url.Values{"disabled": {"true"}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		got, err := b.eng.ListUsers(ctx)
		require.NoError(t, err)
		for _, u := range got {
			if u.ID == ann.ID {
				require.Equal(t, engine.RoleEditor, u.Role)
				require.NotNil(t, u.DisabledAt)
			}
		}
		require.False(t, annB.signedIn(), "a disabled user's session ends")
		require.Equal(t, http.StatusUnauthorized, b.browser(t).login("ann@example.com", userPassword, "/").status)
		p = br.get("/settings/users")
		require.Contains(t, p.body, ">disabled</span>")
		require.Contains(t, p.body, "Enable ann@example.com")
		require.Equal(t, http.StatusSeeOther, br.post(csrf, "/settings/users/"+ann.ID, url.Values{"disabled": {"false"}}).status)
		require.Equal(t, http.StatusSeeOther, b.browser(t).login("ann@example.com", userPassword, "/").status)

		p = br.post(csrf, "/settings/users/"+admin.ID, url.Values{"role": {"viewer"}})
		require.Equal(t, http.StatusConflict, p.status)
		require.Contains(t, p.body, "that would leave no active admin")
		p = br.post(csrf, "/settings/users/"+admin.ID, url.Values{"role": {"owner"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.status)
		require.Equal(t, http.StatusNotFound, br.post(csrf, "/settings/users/no-such-user", url.Values{"role": {"viewer"}}).status)

		for _, email := range []string{"ann@example.com", "viewer@example.com"} {
			if email == "viewer@example.com" {
				addUser(t, b, email, engine.RoleViewer)
			}
			other, ocsrf := signedInBrowser(t, b, email, userPassword)
			require.Equal(t, http.StatusForbidden, other.get("/settings/users").status, email)
			require.Equal(t, http.StatusForbidden, other.get("/settings/audit").status, email)
			require.NotContains(t, other.get("/settings/account").body, `href="/settings/users"`)
			require.Equal(t, http.StatusForbidden, other.post(ocsrf, "/settings/users", url.Values{"email": {"x@example.com"},
				"password": {userPassword}, "role": {"admin"}}).status, email)
			require.Equal(t, http.StatusForbidden, other.post(ocsrf, "/settings/users/"+admin.ID, url.Values{"disabled": {"true"}}).status)
		}
	})
}

// TestAuditPage: changes made through the UI are listed newest first as done via the web
// UI, with readable diffs and never a secret; filters and pages work.
func TestAuditPage(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
		p := br.post(csrf, "/connections", url.Values{"connector": {"http"}, "name": {"crm"}, "config.base_url": {"https://crm.example.com"},
			"config.auth": {"bearer"}, "config.token": {headerSecret}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		p = br.post(csrf, "/connections/crm", url.Values{"config.base_url": {"https://crm.example.com/api"}, "config.auth": {"bearer"}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		p = br.post(csrf, "/settings/users", url.Values{"email": {"bob@example.com"}, "password": {userPassword}, "role": {"editor"}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)

		p = br.get("/settings/audit")
		require.Equal(t, http.StatusOK, p.status)
		require.NotContains(t, p.body, headerSecret)
		require.Contains(t, p.body, "added user")
		require.Contains(t, p.body, "created connection")
		require.Contains(t, p.body, "changed connection")
		require.Contains(t, p.body, "through the web UI")
		require.Contains(t, p.body, `<a href="/connections/crm">crm</a>`)
		require.Contains(t, p.body, "<code>secrets.token</code>: set")
		require.Contains(t, p.body, "<code>config.base_url</code>: <del>https://crm.example.com</del> → <ins>https://crm.example.com/api</ins>")
		require.Less(t, strings.Index(p.body, "added user"), strings.Index(p.body, "created connection"), "newest first")

		p = br.get("/settings/audit?kind=user")
		require.Contains(t, p.body, "added user")
		require.NotContains(t, p.body, "created connection")
		require.Contains(t, p.body, `<option value="user" selected>`)
		p = br.get("/settings/audit?actor=nobody@example.com")
		require.Contains(t, p.body, "No changes recorded.")

		// Pages: older entries behind a cursor, filters kept.
		ctx := engine.WithActor(context.Background(), &engine.Actor{UserID: "x", Email: "script@example.com", Role: engine.RoleAdmin, Via: "api"})
		for i := range engine.ListLimitDefault + 5 {
			_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: fmt.Sprintf("bulk-%02d", i), Connector: "http"})
			require.NoError(t, err)
		}
		p = br.get("/settings/audit?kind=connection")
		next := regexp.MustCompile(`href="(/settings/audit\?[^"]+)" class="button secondary">Older entries`).FindStringSubmatch(p.body)
		require.NotNil(t, next, "a link to older entries")
		require.Contains(t, p.body, "bulk-54")
		require.Contains(t, p.body, "through the API")
		require.NotContains(t, p.body, ">crm</a>")
		older := br.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		require.Equal(t, http.StatusOK, older.status)
		require.Contains(t, older.body, ">crm</a>")
		require.Contains(t, older.body, "bulk-00")
		require.NotContains(t, older.body, "bulk-54")
		require.NotContains(t, older.body, "added user", "the filter is kept")
		require.NotContains(t, older.body, "Older entries")
	})
}

package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
	"github.com/hookflow/hookflow/web/ui"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "correct horse battery"
)

type testBundle struct {
	eng   *enginetest.Engine
	clock *enginetest.Clock
	srv   *httptest.Server
}

// setupOption adjusts the test engine's options.
type setupOption func(*enginetest.Options)

// withWorkers runs n workers, so webhooks become finished runs (setup's default is none).
func withWorkers(n int) setupOption {
	return func(o *enginetest.Options) { o.Workers = n }
}

// setup starts a UI on a fresh engine with every built-in connector and an admin
// (adminEmail / adminPassword). Its clock is a test clock from now.
func setup(t *testing.T, d store.Dialect, cfg web.Config, opts ...setupOption) *testBundle {
	t.Helper()
	clock := enginetest.NewClock(enginetest.ClockStart())
	o := enginetest.Options{Workers: -1, Registry: connectors.Default, Configure: func(c *engine.Config) { c.Now = clock.Now }}
	for _, opt := range opts {
		opt(&o)
	}
	eng := enginetest.New(t, d, o)
	_, err := eng.CreateUser(context.Background(), adminEmail, adminPassword, engine.RoleAdmin)
	require.NoError(t, err)
	cfg.Logger = enginetest.Logger(t)
	srv := httptest.NewServer(web.New(eng.Engine, cfg))
	t.Cleanup(srv.Close)
	return &testBundle{eng: eng, clock: clock, srv: srv}
}

// browser is a client with its own cookie jar that does not follow redirects.
type browser struct {
	t   *testing.T
	c   *http.Client
	srv *httptest.Server
}

func (b *testBundle) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, srv: b.srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf is the CSRF token of the page's first form.
func (p page) csrf(t *testing.T) string {
	m := csrfRE.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no csrf token in %s", p.body)
	return m[1]
}

func (br *browser) do(method, path string, form url.Values, headers map[string]string) page {
	br.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, br.srv.URL+path, body)
	require.NoError(br.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := br.c.Do(req)
	require.NoError(br.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(br.t, err)
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (br *browser) get(path string) page { return br.do(http.MethodGet, path, nil, nil) }

// login fills in the sign-in form as the page served it.
func (br *browser) login(email, password, next string) page {
	br.t.Helper()
	form := br.get("/login")
	require.Equal(br.t, http.StatusOK, form.status)
	return br.do(http.MethodPost, "/login", url.Values{"csrf_token": {form.csrf(br.t)}, "email": {email},
		"password": {password}, "next": {next}}, nil)
}

func (br *browser) signedIn() bool {
	br.t.Helper()
	p := br.get("/")
	if p.status == http.StatusOK {
		require.Contains(br.t, p.body, `class="who"`)
		return true
	}
	require.Equal(br.t, http.StatusSeeOther, p.status)
	require.Equal(br.t, "/login?next=%2F", p.location())
	return false
}

func sessionCookie(t *testing.T, p page) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == ui.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", ui.SessionCookie, p.header)
	return nil
}

func TestSignInSetsSessionCookie(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		br := b.browser(t)
		require.False(t, br.signedIn(), "an anonymous visitor is sent to sign in")

		p := br.login(adminEmail, adminPassword, "/")
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/", p.location())
		first := sessionCookie(t, p)
		require.True(t, first.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, first.SameSite)
		require.False(t, first.Secure, "plain HTTP with no https base URL")
		require.Zero(t, first.MaxAge, "a browser-session cookie: the server ends sessions")

		home := br.get("/")
		require.Equal(t, http.StatusOK, home.status)
		require.Contains(t, home.body, adminEmail)
		require.Contains(t, home.body, "(admin)")
		require.NotContains(t, home.body, first.Value, "the page never shows the session token")

		second := sessionCookie(t, br.login(adminEmail, adminPassword, "/"))
		require.NotEqual(t, first.Value, second.Value, "a new session at every sign-in")
		_, err := b.eng.Session(context.Background(), first.Value)
		require.ErrorIs(t, err, engine.ErrUnauthorized, "the replaced session ended")
		_, err = b.eng.Session(context.Background(), second.Value)
		require.NoError(t, err)
	})
	t.Run("https base URL", func(t *testing.T) {
		t.Parallel()
		b := setup(t, store.SQLite, web.Config{BaseURL: "https://hookflow.example"})
		c := sessionCookie(t, b.browser(t).login(adminEmail, adminPassword, "/"))
		require.True(t, c.Secure)
	})
}

// TestWrongPasswordAndUnknownEmailAnswerTheSame: the answer must not tell which emails
// have accounts, throttled or not.
func TestWrongPasswordAndUnknownEmailAnswerTheSame(t *testing.T) {
	t.Parallel()
	answers := func(email string) []page {
		b := setup(t, store.SQLite, web.Config{})
		br := b.browser(t)
		var ps []page
		for range engine.LoginFailuresFree + 1 {
			p := br.login(email, "wrong password", "/")
			p.body = strings.ReplaceAll(p.body, email, "EMAIL")
			p.body = csrfRE.ReplaceAllString(p.body, "")
			ps = append(ps, p)
		}
		return ps
	}
	known, unknown := answers(adminEmail), answers("nobody@example.com")
	for i := range known {
		require.Equal(t, known[i].status, unknown[i].status, "attempt %d", i+1)
		require.Equal(t, known[i].body, unknown[i].body, "attempt %d", i+1)
		require.Equal(t, known[i].header.Get("Retry-After"), unknown[i].header.Get("Retry-After"))
	}
	require.Equal(t, http.StatusUnauthorized, known[0].status)
	require.Contains(t, known[0].body, "Wrong email or password.")
	require.Equal(t, http.StatusTooManyRequests, known[engine.LoginFailuresFree].status)
}

func TestSixthFailureIsThrottled(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		br := b.browser(t)
		for i := range engine.LoginFailuresFree {
			require.Equal(t, http.StatusUnauthorized, br.login(adminEmail, "wrong password", "/").status, "failure %d", i+1)
		}
		p := br.login(adminEmail, adminPassword, "/")
		require.Equal(t, http.StatusTooManyRequests, p.status, "even the right password waits")
		require.Equal(t, "1", p.header.Get("Retry-After"))
		require.Contains(t, p.body, "Too many failed sign-ins")

		b.clock.Advance(time.Second)
		require.Equal(t, http.StatusUnauthorized, br.login(adminEmail, "wrong password", "/").status)
		p = br.login(adminEmail, adminPassword, "/")
		require.Equal(t, http.StatusTooManyRequests, p.status)
		require.Equal(t, "2", p.header.Get("Retry-After"), "the delay doubles")

		b.clock.Advance(2 * time.Second)
		require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
	})
	t.Run("per address", func(t *testing.T) {
		t.Parallel()
		b := setup(t, store.SQLite, web.Config{})
		br := b.browser(t)
		for i := range engine.LoginFailuresFree {
			require.Equal(t, http.StatusUnauthorized, br.login("guess"+string(rune('a'+i))+"@example.com", "x", "/").status)
		}
		require.Equal(t, http.StatusTooManyRequests, br.login(adminEmail, adminPassword, "/").status,
			"five emails guessed from one address hold back the sixth")
	})
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		t.Run("idle", func(t *testing.T) {
			b := setup(t, d, web.Config{})
			br := b.browser(t)
			require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
			for range 3 {
				b.clock.Advance(engine.SessionIdleTimeoutDefault - time.Hour)
				require.True(t, br.signedIn(), "use slides the idle timeout")
			}
			b.clock.Advance(engine.SessionIdleTimeoutDefault)
			require.False(t, br.signedIn(), "idle too long")
		})
		t.Run("absolute", func(t *testing.T) {
			b := setup(t, d, web.Config{})
			br := b.browser(t)
			require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
			var used time.Duration
			for used+24*time.Hour < engine.SessionMaxAgeDefault {
				b.clock.Advance(24 * time.Hour)
				used += 24 * time.Hour
				require.True(t, br.signedIn(), "day %d", used/(24*time.Hour))
			}
			b.clock.Advance(engine.SessionMaxAgeDefault - used)
			require.False(t, br.signedIn(), "past the absolute expiry, however busy")
		})
	})
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		one, two, three := b.browser(t), b.browser(t), b.browser(t)
		for _, br := range []*browser{one, two, three} {
			require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
		}
		p := one.do(http.MethodPost, "/logout", url.Values{"csrf_token": {one.get("/").csrf(t)}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status)
		require.Equal(t, "/login", p.location())
		require.False(t, one.signedIn())
		require.True(t, two.signedIn(), "signing out ends only this browser's session")

		p = two.do(http.MethodPost, "/logout/everywhere", url.Values{"csrf_token": {two.get("/").csrf(t)}}, nil)
		require.Equal(t, http.StatusSeeOther, p.status)
		require.False(t, two.signedIn())
		require.False(t, three.signedIn(), "everywhere")
	})
}

func TestFormWithoutCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	br := b.browser(t)
	form := br.get("/login")
	login := url.Values{"email": {adminEmail}, "password": {adminPassword}}
	require.Equal(t, http.StatusForbidden, br.do(http.MethodPost, "/login", login, nil).status)
	login.Set("csrf_token", "not-the-cookie")
	require.Equal(t, http.StatusForbidden, br.do(http.MethodPost, "/login", login, nil).status)
	login.Set("csrf_token", form.csrf(t))
	require.Equal(t, http.StatusSeeOther, br.do(http.MethodPost, "/login", login, nil).status)

	require.Equal(t, http.StatusForbidden, br.do(http.MethodPost, "/logout", url.Values{}, nil).status)
	require.Equal(t, http.StatusForbidden, br.do(http.MethodPost, "/logout/everywhere", url.Values{"csrf_token": {form.csrf(t)}}, nil).status,
		"the login token is not the session's")
	require.True(t, br.signedIn())
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	br := b.browser(t)
	for _, h := range []map[string]string{{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}} {
		form := br.get("/login")
		p := br.do(http.MethodPost, "/login", url.Values{"csrf_token": {form.csrf(t)}, "email": {adminEmail},
			"password": {adminPassword}}, h)
		require.Equal(t, http.StatusForbidden, p.status, "%v", h)
	}
	require.Equal(t, http.StatusSeeOther, br.login(adminEmail, adminPassword, "/").status)
	csrf := br.get("/").csrf(t)
	p := br.do(http.MethodPost, "/logout", url.Values{"csrf_token": {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	require.Equal(t, http.StatusForbidden, p.status)
	require.True(t, br.signedIn())
	p = br.do(http.MethodPost, "/logout", url.Values{"csrf_token": {csrf}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": b.srv.URL})
	require.Equal(t, http.StatusSeeOther, p.status, "our own page's form passes")
}

func TestNextStaysOnSite(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	for next, want := range map[string]string{
		"/runs?status=failed":    "/runs?status=failed",
		"//evil.example/":        "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"javascript:alert(1)":    "/",
		"":                       "/",
		"/%2F%2Fevil.example":    "/%2F%2Fevil.example",
		"/ok\r\nSet-Cookie: a=b": "/",
	} {
		p := b.browser(t).login(adminEmail, adminPassword, next)
		require.Equal(t, http.StatusSeeOther, p.status, next)
		require.Equal(t, want, p.location(), "next %q", next)
	}
	p := b.browser(t).get("/login?next=" + url.QueryEscape("//evil.example"))
	require.Contains(t, p.body, `name="next" value="/"`)
}

package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// TestSecurityHeaders: API answers, errors included, are neither sniffed, framed, cached
// nor leaked as a Referer.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	for _, tc := range []struct {
		path    string
		auth    bool
		status  int
		noStore bool
	}{
		{"/api/v1/workflows", true, http.StatusOK, true},
		{"/api/v1/workflows", false, http.StatusUnauthorized, true},
		{"/api/v1/nowhere", true, http.StatusNotFound, true},
		{"/healthz", false, http.StatusOK, false},
		{"/nowhere", false, http.StatusNotFound, false},
	} {
		res := app.Do(t, http.MethodGet, tc.path, "", tc.auth, nil)
		require.Equal(t, tc.status, res.Status, tc.path)
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), tc.path)
		require.Equal(t, "DENY", res.Header.Get("X-Frame-Options"), tc.path)
		require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"), tc.path)
		if tc.noStore {
			require.Equal(t, "no-store", res.Header.Get("Cache-Control"), tc.path)
		}
	}
}

// TestHTMLAnswerRefused performs the attack of issue 11: a custom answer served
// text/html with script taken from the query string, on our origin. Such a workflow is
// refused now unless it opts in with allow_html, and every workflow answer is sandboxed;
// a result-mode answer whose step sets a page type gets text/plain.
func TestHTMLAnswerRefused(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	const attack = `{"name":"page","trigger":{"type":"webhook","webhook":{"methods":["GET"],"response":{"mode":"custom","status":200,
		"headers":{"content-type":"text/html; charset=utf-8","Content-Security-Policy":"default-src *"},"body":"{{ trigger.query.x }}"}}},"steps":[]}`
	res := app.Do(t, http.MethodPost, "/api/v1/workflows", attack, true, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
	require.Contains(t, res.Body, `allow_html`)
	require.Contains(t, res.Body, `trigger.webhook.response.headers[\"content-type\"]`)
	for _, ct := range []string{"image/svg+xml", "application/xhtml+xml", "text/xml", "application/rss+xml", "text/html;;x"} {
		doc := `{"name":"p","trigger":{"type":"webhook","webhook":{"response":{"mode":"custom","headers":{"Content-Type":"` + ct + `"}}}},"steps":[]}`
		require.Equal(t, http.StatusUnprocessableEntity, app.Do(t, http.MethodPost, "/api/v1/workflows", doc, true, nil).Status, ct)
	}
	require.Equal(t, http.StatusUnprocessableEntity, app.Do(t, http.MethodPost, "/api/v1/workflows",
		`{"name":"p","trigger":{"type":"webhook","webhook":{"response":{"allow_html":true}}},"steps":[]}`, true, nil).Status,
		"allow_html needs a custom or result answer")

	// Opted in: the page is served, but sandboxed whatever the workflow's headers say.
	wf := app.CreateWorkflow(t, `{"name":"page","trigger":{"type":"webhook","webhook":{"methods":["GET"],"response":{"mode":"custom","status":200,"allow_html":true,
		"headers":{"content-type":"text/html; charset=utf-8","Content-Security-Policy":"default-src *","X-Content-Type-Options":"sniff"},"body":"{{ trigger.query.x }}"}}},"steps":[]}`)
	res = app.Do(t, http.MethodGet, hookPath(t, wf)+"?x=%3Cscript%3Ealert(1)%3C/script%3E", "", false, nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "default-src 'none'; sandbox", res.Header.Get("Content-Security-Policy"))
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))

	// A plain custom answer gets the same headers.
	plain := app.CreateWorkflow(t, `{"name":"ok","trigger":{"type":"webhook","webhook":{"response":{"mode":"custom","body":"OK"}}},"steps":[]}`)
	res = app.Do(t, http.MethodPost, hookPath(t, plain), `{}`, false, nil)
	require.Equal(t, "OK", res.Body)
	require.Equal(t, "default-src 'none'; sandbox", res.Header.Get("Content-Security-Policy"))

	// Result mode: the type comes from a step at run time, here from the request.
	result := app.CreateWorkflow(t, `{"name":"result","trigger":{"type":"webhook","webhook":{"response":{"mode":"result","timeout":"5s"}}},"steps":[
		{"id":"answer","uses":"core.respond","with":{"headers":{"Content-Type":"{{ trigger.body.ct }}"},"body":"{{ trigger.body.page }}"}}]}`)
	res = app.Do(t, http.MethodPost, hookPath(t, result), `{"ct":"text/html","page":"<script>alert(1)</script>"}`, false, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "default-src 'none'; sandbox", res.Header.Get("Content-Security-Policy"))
	res = app.Do(t, http.MethodPost, hookPath(t, result), `{"ct":"text/csv","page":"a,b"}`, false, nil)
	require.Equal(t, "text/csv", res.Header.Get("Content-Type"), "other types pass")
}

// TestDuplicateJSONKeys: a workflow or connection body with a key given twice was saved
// with the last value; it gets 400 naming the key and where it is, and nothing is saved.
func TestDuplicateJSONKeys(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	wf := app.CreateWorkflow(t, `{"name":"kept","trigger":{"type":"webhook"},"steps":[]}`)
	id := wf["id"].(string)
	for _, tc := range []struct{ method, path, body, want string }{
		{http.MethodPost, "/api/v1/workflows", `{"name":"a","name":"b","trigger":{"type":"webhook"},"steps":[]}`,
			`request body has a duplicate key \"name\" at the top level`},
		{http.MethodPut, "/api/v1/workflows/" + id, `{"name":"kept","trigger":{"type":"webhook"},"steps":[
			{"id":"s","uses":"http.request","with":{"url":"http://127.0.0.1:1/a","url":"http://127.0.0.1:1/b"}}]}`,
			`duplicate key \"url\" in steps[0].with`},
		{http.MethodPost, "/api/v1/connections", `{"name":"c","connector":"http","config":{"base_url":"http://127.0.0.1:1","base_url":"http://127.0.0.1:2"}}`,
			`duplicate key \"base_url\" in config`},
	} {
		res := app.Do(t, tc.method, tc.path, tc.body, true, nil)
		require.Equal(t, http.StatusBadRequest, res.Status, res.Body)
		require.Contains(t, res.Body, tc.want)
	}
	res := app.Do(t, http.MethodGet, "/api/v1/workflows/"+id, "", true, nil)
	require.EqualValues(t, 1, res.JSON(t)["version"], "the refused update saved nothing")
	require.Contains(t, app.Do(t, http.MethodGet, "/api/v1/connections", "", true, nil).Body, `"items":[]`)

	// Webhook bodies are stored as received and accepted (docs/webhooks.md says why).
	hook := app.Do(t, http.MethodPost, hookPath(t, wf), `{"a":1,"a":2}`, false, nil)
	require.Equal(t, http.StatusAccepted, hook.Status)
}

// TestFailedAuthSlowedDown performs a token scan: failures were free and uncounted. Now
// they are counted in /metrics, and after five from one address it must pause before
// its tokens are checked again; the pause ends and the right token works.
func TestFailedAuthSlowedDown(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	bad := map[string]string{"Authorization": "Bearer hf_guess"}
	for i := range 6 {
		res := app.Do(t, http.MethodGet, "/api/v1/workflows", "", false, bad)
		require.Equal(t, http.StatusUnauthorized, res.Status, "failure %d is checked", i+1)
	}
	start := time.Now()
	res := app.Do(t, http.MethodGet, "/api/v1/workflows", "", false, bad)
	require.Equal(t, http.StatusTooManyRequests, res.Status, "the sixth failure started a pause")
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	require.Equal(t, http.StatusTooManyRequests, app.Do(t, http.MethodGet, "/api/v1/workflows", "", true, nil).Status,
		"during the pause no token from the address is checked")

	metrics := app.Do(t, http.MethodGet, "/metrics", "", false, nil).Body
	require.Contains(t, metrics, `hookflow_api_auth_failures_total{reason="invalid"} 6`)
	require.Contains(t, metrics, `hookflow_api_auth_failures_total{reason="throttled"} 2`)

	time.Sleep(time.Second - time.Since(start) + 50*time.Millisecond)
	require.Equal(t, http.StatusOK, app.Do(t, http.MethodGet, "/api/v1/workflows", "", true, nil).Status, "after the pause the right token works")
}

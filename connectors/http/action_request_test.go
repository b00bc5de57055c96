package http

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

func TestSpecRegistered(t *testing.T) {
	t.Parallel()

	c, def, ok := connectors.Default.Action("http.request")
	require.True(t, ok)
	require.Same(t, requestAction, def)
	require.True(t, def.Idempotent)
	require.False(t, c.ConnectionRequired)
	spec := c.Spec()
	require.NoError(t, spec.Lint())
	require.ElementsMatch(t, []string{connPassword, connToken, connHeaderValue, connSigning, connPrevSigning}, spec.SecretFields())
}

func TestRequestJSONBody(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body any
		want string
	}{
		{name: "object", body: map[string]any{"name": "Ann", "tags": []any{"a", "b"}, "n": 3}, want: `{"n":3,"name":"Ann","tags":["a","b"]}`},
		{name: "list", body: []any{1, "two", true}, want: `[1,"two",true]`},
		{name: "number", body: 42, want: `42`},
		{name: "no html escaping", body: map[string]any{"html": "<b>&</b>"}, want: `{"html":"<b>&</b>"}`},
		{name: "big integer kept exact", body: json.Number("12345678901234567890"), want: `12345678901234567890`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, nil)
			_, err := invoke(t, map[string]any{inMethod: "POST", inURL: rec.URL + "/hook", inBody: tt.body}, nil)
			require.NoError(t, err)
			got := rec.last(t)
			require.Equal(t, http.MethodPost, got.Method)
			require.Equal(t, contentTypeJSON, got.Header.Get("Content-Type"))
			require.Equal(t, tt.want, string(got.Body))
		})
	}
}

func TestRequestFormBody(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	body := map[string]any{
		"name":    "Ann Lee",
		"vip":     true,
		"price":   19.5,
		"skip":    nil,
		"contact": map[string]any{"phones": []any{"+1 555", "+1 556"}, "email": "a@b.c"},
		"leads":   []any{map[string]any{"id": 7}},
	}
	_, err := invoke(t, map[string]any{inMethod: "POST", inURL: rec.URL, inBody: body, inBodyType: bodyForm}, nil)
	require.NoError(t, err)
	got := rec.last(t)
	require.Equal(t, contentTypeForm, got.Header.Get("Content-Type"))
	form, err := url.ParseQuery(string(got.Body))
	require.NoError(t, err)
	require.Equal(t, url.Values{
		"name":               {"Ann Lee"},
		"vip":                {"true"},
		"price":              {"19.5"},
		"contact[email]":     {"a@b.c"},
		"contact[phones][0]": {"+1 555"},
		"contact[phones][1]": {"+1 556"},
		"leads[0][id]":       {"7"},
	}, form)
}

func TestRequestFormBodyString(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{inMethod: "POST", inURL: rec.URL, inBody: "a=1&b=2", inBodyType: bodyForm}, nil)
	require.NoError(t, err)
	got := rec.last(t)
	require.Equal(t, contentTypeForm, got.Header.Get("Content-Type"))
	require.Equal(t, "a=1&b=2", string(got.Body))
}

func TestRequestRawBody(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		input       map[string]any
		wantType    string
		wantBody    string
		wantNoBody  bool
		wantNoCType bool
	}{
		{name: "string defaults to raw", input: map[string]any{inBody: "hello"}, wantType: contentTypeText, wantBody: "hello"},
		{name: "explicit raw", input: map[string]any{inBody: `{"pre":"encoded"}`, inBodyType: bodyRaw}, wantType: contentTypeText, wantBody: `{"pre":"encoded"}`},
		{name: "user content type wins", input: map[string]any{inBody: "<x/>", inHeaders: map[string]any{"content-type": "application/xml"}},
			wantType: "application/xml", wantBody: "<x/>"},
		{name: "string as json", input: map[string]any{inBody: "hello", inBodyType: bodyJSON}, wantType: contentTypeJSON, wantBody: `"hello"`},
		{name: "no body", input: map[string]any{}, wantNoBody: true, wantNoCType: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, nil)
			tt.input[inMethod] = "PUT"
			tt.input[inURL] = rec.URL
			_, err := invoke(t, tt.input, nil)
			require.NoError(t, err)
			got := rec.last(t)
			if tt.wantNoCType {
				require.Empty(t, got.Header.Get("Content-Type"))
			} else {
				require.Equal(t, tt.wantType, got.Header.Get("Content-Type"))
			}
			if tt.wantNoBody {
				require.Empty(t, got.Body)
			} else {
				require.Equal(t, tt.wantBody, string(got.Body))
			}
		})
	}
}

func TestRequestQuery(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{
		inURL: rec.URL + "/search?fixed=1",
		inQuery: map[string]any{
			"q":     "a b&c",
			"page":  2,
			"exact": false,
			"tag":   []any{"x", "y", 3},
			"none":  nil,
		},
	}, nil)
	require.NoError(t, err)
	got := rec.last(t)
	require.Equal(t, "fixed=1&exact=false&page=2&q=a+b%26c&tag=x&tag=y&tag=3", got.RawQuery)
	q, err := url.ParseQuery(got.RawQuery)
	require.NoError(t, err)
	require.Equal(t, []string{"x", "y", "3"}, q["tag"])
	require.Equal(t, "a b&c", q.Get("q"))
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{
		inURL: rec.URL,
		inHeaders: map[string]any{
			"X-Event":  "order.created",
			"X-Count":  3,
			"Accept":   []any{"application/json", "text/plain"},
			"X-Absent": nil,
		},
	}, nil)
	require.NoError(t, err)
	got := rec.last(t)
	require.Equal(t, "order.created", got.Header.Get("X-Event"))
	require.Equal(t, "3", got.Header.Get("X-Count"))
	require.Equal(t, []string{"application/json", "text/plain"}, got.Header.Values("Accept"))
	require.NotContains(t, got.Header, "X-Absent")
	require.Equal(t, httpclient.UserAgentDefault, got.Header.Get("User-Agent"))
}

func TestRequestHostHeader(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{inURL: rec.URL, inHeaders: map[string]any{"Host": "tenant.example.test"}}, nil)
	require.NoError(t, err)
	require.Equal(t, "tenant.example.test", rec.last(t).Host, "a Host header sets the request's host")
}

func TestRequestUserAgentOverride(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{inURL: rec.URL, inHeaders: map[string]any{"User-Agent": "mine/1"}}, nil)
	require.NoError(t, err)
	require.Equal(t, "mine/1", rec.last(t).Header.Get("User-Agent"))
}

func TestRequestBaseURLJoining(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		basePath string
		url      string
		wantPath string
		wantQ    string
	}{
		{name: "no slashes", basePath: "/api/v1", url: "users", wantPath: "/api/v1/users"},
		{name: "base trailing slash", basePath: "/api/v1/", url: "users", wantPath: "/api/v1/users"},
		{name: "url leading slash", basePath: "/api/v1", url: "/users", wantPath: "/api/v1/users"},
		{name: "both slashes", basePath: "/api/v1/", url: "/users", wantPath: "/api/v1/users"},
		{name: "many slashes", basePath: "/api/v1//", url: "/users//", wantPath: "/api/v1/users//"},
		{name: "empty base path", basePath: "", url: "users/7", wantPath: "/users/7"},
		{name: "url with query", basePath: "/api", url: "/users?active=1", wantPath: "/api/users", wantQ: "active=1"},
		{name: "base with query", basePath: "/api?v=2", url: "/users?active=1", wantPath: "/api/users", wantQ: "v=2&active=1"},
		{name: "only a query", basePath: "/api/items", url: "?page=2", wantPath: "/api/items", wantQ: "page=2"},
		{name: "escaped segment kept", basePath: "/api", url: "/files/a%2Fb", wantPath: "/api/files/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, nil)
			_, err := invoke(t, map[string]any{inURL: tt.url}, map[string]any{connBaseURL: rec.URL + tt.basePath})
			require.NoError(t, err)
			got := rec.last(t)
			require.Equal(t, tt.wantPath, got.Path)
			require.Equal(t, tt.wantQ, got.RawQuery)
		})
	}
}

func TestRequestEscapedPathKept(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{inURL: "/files/a%2Fb"}, map[string]any{connBaseURL: rec.URL + "/api"})
	require.NoError(t, err)
	require.Equal(t, "/api/files/a%2Fb", rec.last(t).RawPath, "an escaped slash must stay escaped on the wire")
}

func TestResolveURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		raw         string
		base        string
		credentials bool
		want        string
		wantErr     string
	}{
		{name: "absolute without base", raw: "https://a.test/x", want: "https://a.test/x"},
		{name: "absolute with base, no credentials", raw: "https://other.test/x", base: "https://a.test", want: "https://other.test/x"},
		{name: "absolute same host with credentials", raw: "https://a.test/x", base: "https://a.test/api", credentials: true, want: "https://a.test/x"},
		{name: "absolute same host other case", raw: "https://A.test/x", base: "https://a.test", credentials: true, want: "https://A.test/x"},
		{name: "absolute other host with credentials", raw: "https://evil.test/x", base: "https://a.test", credentials: true, wantErr: "credentials are only sent there"},
		{name: "absolute other scheme with credentials", raw: "http://a.test/x", base: "https://a.test", credentials: true, wantErr: "credentials are only sent there"},
		{name: "absolute explicit default port with credentials", raw: "https://a.test:443/x", base: "https://a.test", credentials: true, want: "https://a.test:443/x"},
		{name: "absolute other port with credentials", raw: "https://a.test:8443/x", base: "https://a.test", credentials: true, wantErr: "credentials are only sent there"},
		{name: "absolute with credentials but no base", raw: "https://any.test/x", credentials: true, wantErr: "needs a base_url or allowed_hosts"},
		{name: "relative without base", raw: "/x", wantErr: "relative but the step has no connection with a base_url"},
		{name: "relative joined", raw: "x", base: "https://a.test/api/", want: "https://a.test/api/x"},
		{name: "base with userinfo kept", raw: "x", base: "https://u:p@a.test/api", want: "https://u:p@a.test/api/x"},
		{name: "fragment from url", raw: "x#top", base: "https://a.test", want: "https://a.test/x#top"},
		{name: "bad scheme", raw: "ftp://a.test/x", wantErr: `scheme "ftp" is not http or https`},
		{name: "no scheme", raw: "//a.test/x", wantErr: "has no scheme"},
		{name: "no host", raw: "https:///x", wantErr: "has no host"},
		{name: "bad base", raw: "x", base: "a.test/api", wantErr: "must be an absolute http or https URL"},
		{name: "unparsable", raw: "http://a b.test/", wantErr: "url is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolveURL(tt.raw, tt.base, nil, tt.credentials)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRequestAuth(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		config map[string]any
		check  func(t *testing.T, h http.Header)
	}{
		{name: "none", config: map[string]any{connAuth: authNone}, check: func(t *testing.T, h http.Header) {
			require.Empty(t, h.Get("Authorization"))
		}},
		{name: "basic", config: map[string]any{connAuth: authBasic, connUsername: "ann", connPassword: "pw-secret"}, check: func(t *testing.T, h http.Header) {
			require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("ann:pw-secret")), h.Get("Authorization"))
		}},
		{name: "basic without password", config: map[string]any{connAuth: authBasic, connUsername: "ann"}, check: func(t *testing.T, h http.Header) {
			require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("ann:")), h.Get("Authorization"))
		}},
		{name: "bearer", config: map[string]any{connAuth: authBearer, connToken: "tok-secret"}, check: func(t *testing.T, h http.Header) {
			require.Equal(t, "Bearer tok-secret", h.Get("Authorization"))
		}},
		{name: "header", config: map[string]any{connAuth: authHeader, connHeaderName: "X-Api-Key", connHeaderValue: "key-secret"}, check: func(t *testing.T, h http.Header) {
			require.Equal(t, "key-secret", h.Get("X-Api-Key"))
		}},
		{name: "credential overrides user header", config: map[string]any{connAuth: authBearer, connToken: "tok-secret"}, check: func(t *testing.T, h http.Header) {
			require.Equal(t, []string{"Bearer tok-secret"}, h.Values("Authorization"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, nil)
			tt.config[connBaseURL] = rec.URL
			_, err := invoke(t, map[string]any{inURL: "/x", inHeaders: map[string]any{"Authorization": "Bearer from-input"}}, tt.config)
			require.NoError(t, err)
			h := rec.last(t).Header
			if tt.name == "none" {
				require.Equal(t, "Bearer from-input", h.Get("Authorization"), "without auth the user's header is sent")
				return
			}
			tt.check(t, h)
		})
	}
}

func TestRequestRefusesCredentialsToOtherHost(t *testing.T) {
	t.Parallel()

	other := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{inURL: other.URL + "/steal"},
		map[string]any{connBaseURL: "https://api.example.test", connAuth: authBearer, connToken: "tok-secret"})
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Zero(t, other.count(), "no request may reach the other host")
}

func TestRequestInvalidConnectionIsPermanent(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{inURL: "/x"}, map[string]any{connBaseURL: rec.URL, connAuth: authHeader, connHeaderValue: "v-secret"})
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "header auth needs a header_name")
	require.Zero(t, rec.count())
}

func TestRequestIdempotencyKey(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, nil)
	call := newCall(t, map[string]any{inMethod: "POST", inURL: rec.URL, inBody: map[string]any{"a": 1}}, nil)
	for attempt := 1; attempt <= 2; attempt++ {
		call.Attempt = attempt
		_, err := connectortest.Invoke(t.Context(), requestAction, call)
		require.NoError(t, err)
		require.Equal(t, call.IdempotencyKey, rec.last(t).Header.Get("Idempotency-Key"), "attempt %d", attempt)
	}

	// A key set by the user's headers is kept.
	call = newCall(t, map[string]any{inURL: rec.URL, inHeaders: map[string]any{"idempotency-key": "user-key"}}, nil)
	_, err := connectortest.Invoke(t.Context(), requestAction, call)
	require.NoError(t, err)
	require.Equal(t, []string{"user-key"}, rec.last(t).Header.Values("Idempotency-Key"))

	// No key, no header.
	call = newCall(t, map[string]any{inURL: rec.URL}, nil)
	call.IdempotencyKey = ""
	_, err = connectortest.Invoke(t.Context(), requestAction, call)
	require.NoError(t, err)
	require.NotContains(t, rec.last(t).Header, "Idempotency-Key")
}

func TestRequestStatusClassification(t *testing.T) {
	t.Parallel()

	tests := []struct {
		status    int
		header    map[string]string
		wantErr   bool
		permanent bool
		delay     time.Duration
		hasDelay  bool
	}{
		{status: 200},
		{status: 201},
		{status: 204},
		{status: 301, header: map[string]string{"Location": "/elsewhere"}, wantErr: true, permanent: true},
		{status: 302, header: map[string]string{"Location": "/elsewhere"}, wantErr: true, permanent: true},
		{status: 400, wantErr: true, permanent: true},
		{status: 401, wantErr: true, permanent: true},
		{status: 404, wantErr: true, permanent: true},
		{status: 422, wantErr: true, permanent: true},
		{status: 408, wantErr: true},
		{status: 429, wantErr: true},
		{status: 429, header: map[string]string{"Retry-After": "2"}, wantErr: true, delay: 2 * time.Second, hasDelay: true},
		{status: 500, wantErr: true},
		{status: 502, wantErr: true},
		{status: 503, wantErr: true},
		{status: 503, header: map[string]string{"Retry-After": "120"}, wantErr: true, delay: 2 * time.Minute, hasDelay: true},
	}
	for _, tt := range tests {
		name := http.StatusText(tt.status)
		if tt.header != nil {
			name += " with headers"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					return
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, `{"detail":"server says hi"}`)
			})
			out, err := invoke(t, map[string]any{inMethod: "POST", inURL: rec.URL + "/hook", inBody: map[string]any{"a": 1}}, nil)
			require.Equal(t, 1, rec.count(), "exactly one request: no redirect followed, no retry inside the action")
			if !tt.wantErr {
				require.NoError(t, err)
				require.Equal(t, tt.status, output(t, out)[outStatus])
				return
			}
			require.Error(t, err)
			require.Nil(t, out, "a failed call has no output")
			require.Equal(t, tt.permanent, connectors.IsPermanent(err))
			d, ok := connectors.RetryDelay(err)
			require.Equal(t, tt.hasDelay, ok)
			require.Equal(t, tt.delay, d)
			var se *httpclient.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.status, se.Status)
			require.Contains(t, err.Error(), "POST "+rec.URL+"/hook")
			if tt.status != 204 && tt.status >= 400 {
				require.Contains(t, err.Error(), "server says hi")
			}
		})
	}
}

func TestRequestResponseBody(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		contentType string
		body        string
		want        any
	}{
		{name: "json object", contentType: "application/json", body: `{"id":9007199254740993,"price":1.5,"ok":true,"tags":["a"],"none":null}`,
			want: map[string]any{"id": int64(9007199254740993), "price": 1.5, "ok": true, "tags": []any{"a"}, "none": nil}},
		{name: "json with charset", contentType: "application/json; charset=utf-8", body: `[1,2]`, want: []any{int64(1), int64(2)}},
		{name: "problem json", contentType: "application/problem+json", body: `{"title":"x"}`, want: map[string]any{"title": "x"}},
		{name: "json scalar by content type", contentType: "application/json", body: `"done"`, want: "done"},
		{name: "json object without content type", contentType: "text/plain", body: ` {"a":1} `, want: map[string]any{"a": int64(1)}},
		{name: "json scalar without json type stays text", contentType: "text/plain", body: `42`, want: "42"},
		{name: "invalid json stays text", contentType: "application/json", body: `{"a":`, want: `{"a":`},
		{name: "trailing data stays text", contentType: "application/json", body: `{"a":1} {"b":2}`, want: `{"a":1} {"b":2}`},
		{name: "text", contentType: "text/plain", body: "OK", want: "OK"},
		{name: "html", contentType: "text/html", body: "<p>hi</p>", want: "<p>hi</p>"},
		{name: "empty", contentType: "application/json", body: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{tt.contentType}
				_, _ = io.WriteString(w, tt.body)
			})
			out, err := invoke(t, map[string]any{inURL: rec.URL}, nil)
			require.NoError(t, err)
			m := output(t, out)
			require.Equal(t, 200, m[outStatus])
			require.Equal(t, tt.want, m[outBody])
			_, err = json.Marshal(out)
			require.NoError(t, err)
		})
	}
}

func TestRequestResponseHeaders(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("X-Request-Id", "r-1")
	})
	out, err := invoke(t, map[string]any{inURL: rec.URL}, nil)
	require.NoError(t, err)
	headers, ok := output(t, out)[outHeaders].(map[string]any)
	require.True(t, ok)
	require.Equal(t, "a, b", headers["x-multi"])
	require.Equal(t, "r-1", headers["x-request-id"])
	for k := range headers {
		require.Equal(t, strings.ToLower(k), k)
	}
}

func TestRequestHead(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
	})
	out, err := invoke(t, map[string]any{inMethod: "HEAD", inURL: rec.URL}, nil)
	require.NoError(t, err)
	require.Equal(t, http.MethodHead, rec.last(t).Method)
	require.Equal(t, "", output(t, out)[outBody])
}

func TestRequestTimeoutInput(t *testing.T) {
	t.Parallel()

	srv, _ := hangingServer(t)
	done := make(chan error, 1)
	go func() {
		_, err := invoke(t, map[string]any{inURL: srv.URL, inTimeout: "100ms"}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err), "a timeout is retryable")
		require.ErrorContains(t, err, "no complete response within 100ms")
	case <-time.After(connectortest.ReturnBound):
		t.Fatal("the timeout input was not enforced")
	}
}

func TestRequestContextCancel(t *testing.T) {
	t.Parallel()

	srv, arrived := hangingServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := invokeCtx(ctx, t, map[string]any{inURL: srv.URL}, nil)
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(connectortest.ReturnBound):
		t.Fatal("the request never reached the server")
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(connectortest.ReturnBound):
		t.Fatal("the action did not return after cancellation")
	}
}

func TestRequestConnectionErrorRetryable(t *testing.T) {
	t.Parallel()

	srv := newRecorder(t, nil)
	addr := srv.URL
	srv.Close() // nothing listens there any more
	_, err := invoke(t, map[string]any{inURL: addr + "/x?token=q-secret"}, nil)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "send http request for step")
	require.NotContains(t, err.Error(), "q-secret")
}

func TestRequestInputErrorsArePermanent(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		input   map[string]any
		wantErr string
	}{
		{name: "missing url", input: map[string]any{}, wantErr: "url is required"},
		{name: "relative url without connection", input: map[string]any{inURL: "/x"}, wantErr: "no connection with a base_url"},
		{name: "bad method", input: map[string]any{inURL: "https://a.test", inMethod: "BREW"}, wantErr: `method "BREW"`},
		{name: "bad timeout", input: map[string]any{inURL: "https://a.test", inTimeout: "soon"}, wantErr: "is not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Run directly, past Validate, as a runner that skipped it would.
			_, err := requestAction.New().Run(t.Context(), newCall(t, tt.input, nil))
			require.Error(t, err)
			require.True(t, connectors.IsPermanent(err))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		input   map[string]any
		wantErr string
	}{
		{name: "minimal", input: map[string]any{inURL: "https://a.test/x"}},
		{name: "relative url passes offline", input: map[string]any{inURL: "/x"}},
		{name: "everything", input: map[string]any{inMethod: "patch", inURL: "https://a.test", inHeaders: map[string]any{"X-A": "1"},
			inQuery: map[string]any{"a": []any{1, 2}}, inBody: map[string]any{"a": map[string]any{"b": []any{1}}}, inBodyType: bodyForm, inTimeout: "10m"}},
		{name: "every method", input: map[string]any{inURL: "https://a.test", inMethod: "OPTIONS"}},
		{name: "missing url", input: map[string]any{}, wantErr: "url is required"},
		{name: "blank url", input: map[string]any{inURL: "  "}, wantErr: "url is required"},
		{name: "url not a string", input: map[string]any{inURL: 5}, wantErr: "url: expected a string"},
		{name: "bad scheme", input: map[string]any{inURL: "file:///etc/passwd"}, wantErr: "is not http or https"},
		{name: "url secret redacted in error", input: map[string]any{inURL: "ftp://a.test/?token=abc"}, wantErr: "token=******"},
		{name: "bad method", input: map[string]any{inURL: "/x", inMethod: "FETCH"}, wantErr: "is not one of GET"},
		{name: "method not a string", input: map[string]any{inURL: "/x", inMethod: true}, wantErr: "method: expected a string"},
		{name: "bad timeout", input: map[string]any{inURL: "/x", inTimeout: "10"}, wantErr: "is not a duration"},
		{name: "negative timeout", input: map[string]any{inURL: "/x", inTimeout: "-1s"}, wantErr: "must be positive"},
		{name: "timeout not a string", input: map[string]any{inURL: "/x", inTimeout: 10}, wantErr: "timeout: expected a duration string"},
		{name: "bad body type", input: map[string]any{inURL: "/x", inBody: "x", inBodyType: "xml"}, wantErr: `body_type "xml"`},
		{name: "form list body", input: map[string]any{inURL: "/x", inBody: []any{1}, inBodyType: bodyForm}, wantErr: "form needs an object"},
		{name: "raw object body", input: map[string]any{inURL: "/x", inBody: map[string]any{}, inBodyType: bodyRaw}, wantErr: "raw needs a string"},
		{name: "headers not an object", input: map[string]any{inURL: "/x", inHeaders: "X-A: 1"}, wantErr: "headers: expected an object"},
		{name: "bad header name", input: map[string]any{inURL: "/x", inHeaders: map[string]any{"X A": "1"}}, wantErr: `header name "X A"`},
		{name: "header injection", input: map[string]any{inURL: "/x", inHeaders: map[string]any{"X-A": "1\r\nX-B: 2"}}, wantErr: "control characters"},
		{name: "header object value", input: map[string]any{inURL: "/x", inHeaders: map[string]any{"X-A": map[string]any{}}}, wantErr: `header "X-A": expected a string`},
		{name: "query not an object", input: map[string]any{inURL: "/x", inQuery: "a=1"}, wantErr: "query: expected an object"},
		{name: "nested query", input: map[string]any{inURL: "/x", inQuery: map[string]any{"a": map[string]any{"b": 1}}}, wantErr: `query parameter "a"`},
		{name: "several problems at once", input: map[string]any{inMethod: "NOPE", inTimeout: "x"}, wantErr: "url is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := requestAction.New().(connectors.Validator).Validate(tt.input)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.True(t, connectors.IsPermanent(err))
		})
	}
}

func TestTimeoutCapped(t *testing.T) {
	t.Parallel()

	in, err := parseInput(map[string]any{inURL: "/x", inTimeout: "2h"})
	require.NoError(t, err)
	require.Equal(t, timeoutMax, in.timeout)

	in, err = parseInput(map[string]any{inURL: "/x"})
	require.NoError(t, err)
	require.Equal(t, timeoutDefault, in.timeout)
}

func TestOutputRedactsEchoedSecrets(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo-Auth", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"auth":"`+r.Header.Get("Authorization")+`","pw-7c1e5b9d-secret":1}`)
	})
	out, err := invoke(t, map[string]any{inURL: "/x"},
		map[string]any{connBaseURL: rec.URL, connAuth: authBasic, connUsername: "u", connPassword: "pw-7c1e5b9d-secret"})
	require.NoError(t, err)
	m := output(t, out)
	require.Equal(t, map[string]any{"auth": "Basic ******", "******": int64(1)}, m[outBody])
	require.Equal(t, "Basic ******", m[outHeaders].(map[string]any)["x-echo-auth"])
}

// TestRequestRunParsesOtherInput: Run reuses what Validate parsed only for the very map
// Validate saw; a call with other inputs is parsed and sent as given.
func TestRequestRunParsesOtherInput(t *testing.T) {
	t.Parallel()
	first, second := newRecorder(t, nil), newRecorder(t, nil)
	action := requestAction.New()
	v, ok := action.(connectors.Validator)
	require.True(t, ok)
	require.NoError(t, v.Validate(map[string]any{inMethod: "POST", inURL: first.URL + "/a", inBody: "one"}))
	call := newCall(t, map[string]any{inMethod: "PUT", inURL: second.URL + "/b", inBody: "two"}, nil)
	_, err := action.Run(t.Context(), call)
	require.NoError(t, err)
	require.Equal(t, 0, first.count(), "the validated input was sent instead of the call's")
	got := second.last(t)
	require.Equal(t, http.MethodPut, got.Method)
	require.Equal(t, "/b", got.Path)
	require.Equal(t, "two", string(got.Body))

	// The same map: sent as validated.
	same := map[string]any{inMethod: "POST", inURL: first.URL + "/c", inBody: "three"}
	require.NoError(t, v.Validate(same))
	_, err = action.Run(t.Context(), newCall(t, same, nil))
	require.NoError(t, err)
	require.Equal(t, "/c", first.last(t).Path)
}

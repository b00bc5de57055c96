package declarative

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// tokenServer is a fake OAuth2 token endpoint next to an API that accepts only the
// access tokens it issued last.
type tokenServer struct {
	mu sync.Mutex
	// answers are given in order to token requests (the last repeats).
	answers []tokenAnswer
	forms   []url.Values
	auths   []string
	valid   map[string]bool
	// refuseNext makes the API refuse the next n valid requests with 401.
	refuseNext int
}

type tokenAnswer struct {
	status int
	body   map[string]any
}

func (ts *tokenServer) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if r.URL.Path == "/oauth/token" {
			require.NoError(t, r.ParseForm())
			ts.forms = append(ts.forms, r.PostForm)
			ts.auths = append(ts.auths, r.Header.Get("Authorization"))
			a := ts.answers[min(len(ts.forms)-1, len(ts.answers)-1)]
			if tok, ok := a.body["access_token"].(string); ok && a.status == 200 {
				ts.valid[tok] = true
			}
			reply(a.status, a.body)(w, r)
			return
		}
		tok := r.Header.Get("Authorization")
		if len(tok) < 7 || !ts.valid[tok[7:]] || ts.refuseNext > 0 {
			if ts.refuseNext > 0 {
				ts.refuseNext--
			}
			reply(401, map[string]any{"error": "invalid_token"})(w, r)
			return
		}
		reply(200, map[string]any{"ok": true, "token_was": tok[7:]})(w, r)
	}
}

func (ts *tokenServer) tokenRequests() []url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]url.Values(nil), ts.forms...)
}

func oauthFile(kind, style string) string {
	refresh := ""
	if kind == AuthOAuth2RefreshToken {
		refresh = "refresh_token_field: refresh_token"
	}
	return `
hookflow_connector: 1
name: oa
title: OAuth service
base_url: "{{ conn.base_url }}"
connection:
  fields:
    - {name: base_url, type: string}
    - {name: client_id, type: string}
    - {name: client_secret, type: string, secret: true}
    - {name: refresh_token, type: string, secret: true}
  auth:
    kind: ` + kind + `
    token_url: /oauth/token
    client_id: "{{ conn.client_id }}"
    client_secret: "{{ conn.client_secret }}"
    scopes: [read, write]
    style: ` + style + `
    ` + refresh + `
    extra_params: {audience: api}
actions:
  get: {title: Get, request: {path: /things}}
`
}

func oauthConn(baseURL string, store connectors.CredentialStore) *connectors.Connection {
	c := conn(map[string]any{"base_url": baseURL, "client_id": "client-1", "client_secret": "client-secret-0001",
		"refresh_token": "refresh-token-0001"}, "client_secret", "refresh_token")
	c.Credentials = store
	return c
}

func TestOAuth2ClientCredentials(t *testing.T) {
	t.Parallel()
	for _, style := range []string{"header", "body"} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
				{200, map[string]any{"access_token": "access-token-0001", "token_type": "Bearer", "expires_in": 3600}},
				{200, map[string]any{"access_token": "access-token-0002", "token_type": "Bearer", "expires_in": 3600}},
			}}
			srv := newServer(t, ts.handler(t))
			c, clock := build(t, oauthFile(AuthOAuth2ClientCredentials, style))
			cn := oauthConn(srv.URL, nil)
			for range 2 {
				out, err := runAction(t, c, "get", cn, nil)
				require.NoError(t, err)
				require.Equal(t, "******", out.(map[string]any)["body"].(map[string]any)["token_was"], "the access token is masked too")
			}
			forms := ts.tokenRequests()
			require.Len(t, forms, 1, "the token is cached")
			require.Equal(t, "client_credentials", forms[0].Get("grant_type"))
			require.Equal(t, "read write", forms[0].Get("scope"))
			require.Equal(t, "api", forms[0].Get("audience"))
			if style == "header" {
				require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("client-1:client-secret-0001")), ts.auths[0])
				require.Empty(t, forms[0].Get("client_secret"))
			} else {
				require.Empty(t, ts.auths[0])
				require.Equal(t, "client-1", forms[0].Get("client_id"))
				require.Equal(t, "client-secret-0001", forms[0].Get("client_secret"))
			}

			clock.Advance(time.Hour) // past expires_in minus the margin
			_, err := runAction(t, c, "get", cn, nil)
			require.NoError(t, err)
			require.Len(t, ts.tokenRequests(), 2, "an expired token is fetched again")
		})
	}
}

func TestOAuth2RefreshTokenRotation(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
		{200, map[string]any{"access_token": "access-token-0001", "refresh_token": "refresh-token-0002", "expires_in": 3600}},
	}}
	srv := newServer(t, ts.handler(t))
	c, _ := build(t, oauthFile(AuthOAuth2RefreshToken, "header"))
	store := &memStore{secrets: map[string]string{"client_secret": "client-secret-0001", "refresh_token": "refresh-token-0001"}}
	_, err := runAction(t, c, "get", oauthConn(srv.URL, store), nil)
	require.NoError(t, err)
	forms := ts.tokenRequests()
	require.Len(t, forms, 1)
	require.Equal(t, "refresh_token", forms[0].Get("grant_type"))
	require.Equal(t, "refresh-token-0001", forms[0].Get("refresh_token"))
	require.Equal(t, "refresh-token-0002", store.get("refresh_token"), "the rotated token is written back")
}

func TestOAuth2RefreshReadsTheStoreNotTheConfig(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
		{200, map[string]any{"access_token": "access-token-0001", "expires_in": 3600}},
	}}
	srv := newServer(t, ts.handler(t))
	c, _ := build(t, oauthFile(AuthOAuth2RefreshToken, "header"))
	// Another process rotated since this connection's config was read.
	store := &memStore{secrets: map[string]string{"refresh_token": "refresh-token-0009"}}
	_, err := runAction(t, c, "get", oauthConn(srv.URL, store), nil)
	require.NoError(t, err)
	require.Equal(t, "refresh-token-0009", ts.tokenRequests()[0].Get("refresh_token"))
}

func TestOAuth2LostSwap(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
		{200, map[string]any{"access_token": "access-token-0001", "refresh_token": "refresh-token-0002", "expires_in": 3600}},
	}}
	srv := newServer(t, ts.handler(t))
	c, _ := build(t, oauthFile(AuthOAuth2RefreshToken, "header"))
	store := &memStore{secrets: map[string]string{"refresh_token": "refresh-token-0001"},
		beforeSwap: func(m map[string]string) { m["refresh_token"] = "refresh-token-other" }}
	out, err := runAction(t, c, "get", oauthConn(srv.URL, store), nil)
	require.NoError(t, err, "the access token obtained still works")
	require.Equal(t, true, out.(map[string]any)["body"].(map[string]any)["ok"])
	require.Equal(t, "refresh-token-other", store.get("refresh_token"), "the winner's token stays")
	require.Equal(t, 1, store.swaps)
}

func TestOAuth2InvalidGrant(t *testing.T) {
	t.Parallel()
	t.Run("another process rotated", func(t *testing.T) {
		t.Parallel()
		ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
			{400, map[string]any{"error": "invalid_grant", "error_description": "token was used"}},
			{200, map[string]any{"access_token": "access-token-0001", "refresh_token": "refresh-token-0004", "expires_in": 3600}},
		}}
		srv := newServer(t, ts.handler(t))
		c, _ := build(t, oauthFile(AuthOAuth2RefreshToken, "header"))
		store := &memStore{secrets: map[string]string{"refresh_token": "refresh-token-0001"}}
		// The store changes between the first read and the refusal.
		reads := 0
		cs := &readHook{memStore: store, onRead: func() {
			reads++
			if reads == 2 {
				store.secrets["refresh_token"] = "refresh-token-0003"
			}
		}}
		_, err := runAction(t, c, "get", oauthConn(srv.URL, cs), nil)
		require.NoError(t, err)
		forms := ts.tokenRequests()
		require.Len(t, forms, 2)
		require.Equal(t, "refresh-token-0001", forms[0].Get("refresh_token"))
		require.Equal(t, "refresh-token-0003", forms[1].Get("refresh_token"), "refreshed again with the stored token")
		require.Equal(t, "refresh-token-0004", store.get("refresh_token"))
	})
	t.Run("reconnect", func(t *testing.T) {
		t.Parallel()
		ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
			{400, map[string]any{"error": "invalid_grant"}},
		}}
		srv := newServer(t, ts.handler(t))
		c, _ := build(t, oauthFile(AuthOAuth2RefreshToken, "header"))
		store := &memStore{secrets: map[string]string{"refresh_token": "refresh-token-0001"}}
		_, err := runAction(t, c, "get", oauthConn(srv.URL, store), nil)
		require.ErrorContains(t, err, "reconnect the connection")
		require.True(t, connectors.IsPermanent(err))
		require.Len(t, ts.tokenRequests(), 1, "the same token is not tried twice")
		require.NotContains(t, err.Error(), "refresh-token-0001")
	})
}

func TestOAuth2RefreshOn401(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
		{200, map[string]any{"access_token": "access-token-0001", "refresh_token": "refresh-token-0002"}},
		{200, map[string]any{"access_token": "access-token-0002", "refresh_token": "refresh-token-0003"}},
		{200, map[string]any{"access_token": "access-token-0003", "refresh_token": "refresh-token-0004"}},
	}}
	srv := newServer(t, ts.handler(t))
	c, _ := build(t, oauthFile(AuthOAuth2RefreshToken, "body"))
	store := &memStore{secrets: map[string]string{"refresh_token": "refresh-token-0001"}}
	cn := oauthConn(srv.URL, store)
	_, err := runAction(t, c, "get", cn, nil)
	require.NoError(t, err)

	ts.mu.Lock()
	ts.refuseNext = 1 // the service revoked the access token early
	ts.mu.Unlock()
	_, err = runAction(t, c, "get", cn, nil)
	require.NoError(t, err, "401, one refresh, one retry")
	require.Len(t, ts.tokenRequests(), 2)
	require.Equal(t, "refresh-token-0002", ts.tokenRequests()[1].Get("refresh_token"))
	require.Equal(t, "refresh-token-0003", store.get("refresh_token"))

	ts.mu.Lock()
	ts.refuseNext = 2
	ts.mu.Unlock()
	_, err = runAction(t, c, "get", cn, nil)
	require.ErrorContains(t, err, "refused again after refreshing the access token")
	require.ErrorContains(t, err, "401 Unauthorized")
	require.True(t, connectors.IsPermanent(err))
	require.Len(t, ts.tokenRequests(), 3, "one refresh only")
}

func TestOAuth2WithoutStoreKeepsRotatedTokenInMemory(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
		{200, map[string]any{"access_token": "access-token-0001", "refresh_token": "refresh-token-0002", "expires_in": 60}},
		{200, map[string]any{"access_token": "access-token-0002", "refresh_token": "refresh-token-0003", "expires_in": 60}},
	}}
	srv := newServer(t, ts.handler(t))
	c, clock := build(t, oauthFile(AuthOAuth2RefreshToken, "header"))
	cn := oauthConn(srv.URL, nil)
	_, err := runAction(t, c, "get", cn, nil)
	require.NoError(t, err)
	clock.Advance(31 * time.Second) // half of a short expires_in is the margin
	_, err = runAction(t, c, "get", cn, nil)
	require.NoError(t, err)
	forms := ts.tokenRequests()
	require.Len(t, forms, 2)
	require.Equal(t, "refresh-token-0002", forms[1].Get("refresh_token"), "a single-use token is not sent twice")
}

func TestOAuth2OneRefreshAtATime(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{valid: map[string]bool{}, answers: []tokenAnswer{
		{200, map[string]any{"access_token": "access-token-0001", "refresh_token": "refresh-token-0002", "expires_in": 3600}},
	}}
	srv := newServer(t, ts.handler(t))
	c, _ := build(t, oauthFile(AuthOAuth2RefreshToken, "header"))
	store := &memStore{secrets: map[string]string{"refresh_token": "refresh-token-0001"}}
	cn := oauthConn(srv.URL, store)
	def, _ := c.Action("get")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := connectortest.Invoke(t.Context(), def, connectortest.NewCall(t, nil, cn))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, ts.tokenRequests(), 1, "concurrent calls wait for the one refresh")
}

// readHook runs onRead before each CurrentSecrets.
type readHook struct {
	*memStore
	onRead func()
}

func (h *readHook) CurrentSecrets(ctx context.Context) (map[string]string, error) {
	h.mu.Lock()
	h.onRead()
	h.mu.Unlock()
	return h.memStore.CurrentSecrets(ctx)
}

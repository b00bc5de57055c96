package declarative

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// TokenExpiryMargin is how long before its expires_in an access token is refreshed, so
// that a token does not expire between its check and its use.
const TokenExpiryMargin = time.Minute

// tokenCache holds one connection's access token in this process.
type tokenCache struct {
	// lock is held by the one goroutine refreshing the token; waiting for it respects ctx.
	lock chan struct{}
	// The fields below are guarded by lock.
	key    string // the auth settings the token was obtained with
	access string
	expiry time.Time // zero: unknown, kept until refused
	// refresh is the latest refresh token, for connections without a credential store
	// (previews, tests): rotation must still work within the process.
	refresh string
}

func newTokenCache() *tokenCache { return &tokenCache{lock: make(chan struct{}, 1)} }

func (tc *tokenCache) acquire(ctx context.Context) error {
	select {
	case tc.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the access token refresh: %w", ctx.Err())
	}
}

func (tc *tokenCache) release() { <-tc.lock }

// invalidate drops token if it is still the cached one: a token refreshed meanwhile by
// another call stays.
func (tc *tokenCache) invalidate(ctx context.Context, token string) error {
	if err := tc.acquire(ctx); err != nil {
		return err
	}
	defer tc.release()
	if tc.access == token {
		tc.access, tc.expiry = "", time.Time{}
	}
	return nil
}

// tokenSettings are the rendered oauth2 settings of one call.
type tokenSettings struct {
	url, clientID, clientSecret string
}

// accessToken returns the connection's access token, from the cache or from the token
// endpoint. One call at a time per connection talks to the endpoint; the others wait and
// then use what it got.
func (c *call) accessToken(ctx context.Context) (string, error) {
	ts, err := c.tokenSettings(ctx)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(ts.url + "\x00" + ts.clientID + "\x00" + ts.clientSecret))
	key := hex.EncodeToString(sum[:])
	tc := c.state.token
	if err := tc.acquire(ctx); err != nil {
		return "", err
	}
	defer tc.release()
	if tc.key != key {
		tc.key, tc.access, tc.expiry, tc.refresh = key, "", time.Time{}, ""
	}
	now := c.rt.clock.Now()
	if tc.access != "" && (tc.expiry.IsZero() || now.Before(tc.expiry)) {
		c.addSecrets(tc.access)
		return tc.access, nil
	}
	var tok *tokenResponse
	if c.rt.auth.kind == AuthOAuth2ClientCredentials {
		tok, err = c.requestToken(ctx, ts, url.Values{"grant_type": {"client_credentials"}})
	} else {
		tok, err = c.refreshLocked(ctx, ts, tc)
	}
	if err != nil {
		return "", err
	}
	tc.access, tc.expiry = tok.accessToken, expiryOf(now, tok.expiresIn)
	return tc.access, nil
}

func expiryOf(now time.Time, expiresIn time.Duration) time.Time {
	if expiresIn <= 0 {
		return time.Time{}
	}
	margin := TokenExpiryMargin
	if expiresIn <= 2*margin {
		margin = expiresIn / 2
	}
	return now.Add(expiresIn - margin)
}

func (c *call) tokenSettings(ctx context.Context) (tokenSettings, error) {
	a := c.rt.auth
	var ts tokenSettings
	for _, f := range []struct {
		dst  *string
		t    *text
		what string
	}{{&ts.url, a.tokenURL, "token_url"}, {&ts.clientID, a.clientID, "client_id"}, {&ts.clientSecret, a.clientSecret, "client_secret"}} {
		if f.t == nil {
			continue
		}
		v, err := f.t.renderString(ctx, c.env)
		if err != nil {
			return ts, connectors.Permanent(fmt.Errorf("auth %s: %w", f.what, err))
		}
		*f.dst = v
	}
	c.addSecrets(ts.clientSecret)
	if !strings.HasPrefix(ts.url, "http://") && !strings.HasPrefix(ts.url, "https://") {
		// A path: joined to base_url, as the request paths are.
		base, err := c.rt.baseURL.renderString(ctx, c.env)
		if err != nil {
			return ts, connectors.Permanent(fmt.Errorf("base_url: %w", err))
		}
		u, err := joinURL(base, ts.url)
		if err != nil {
			return ts, connectors.Permanent(fmt.Errorf("auth token_url: %w", err))
		}
		ts.url = u.String()
	}
	return ts, nil
}

// refreshLocked trades the refresh token for an access token, writing a rotated refresh
// token back before the access token is used. tc's lock is held.
func (c *call) refreshLocked(ctx context.Context, ts tokenSettings, tc *tokenCache) (*tokenResponse, error) {
	field := c.rt.auth.refreshField
	current, err := c.currentRefreshToken(ctx, tc)
	if err != nil {
		return nil, err
	}
	if current == "" {
		return nil, connectors.Permanent(fmt.Errorf("connection setting %s holds no refresh token: reconnect the connection", field))
	}
	tok, err := c.requestToken(ctx, ts, refreshGrant(current))
	var refused *grantError
	if errors.As(err, &refused) {
		// Another process may have rotated the token since this one read it: its new
		// token is in the store.
		stored, rerr := c.currentRefreshToken(ctx, tc)
		if rerr != nil {
			return nil, rerr
		}
		if stored != "" && stored != current {
			current = stored
			tok, err = c.requestToken(ctx, ts, refreshGrant(current))
		}
		if errors.As(err, &refused) {
			return nil, connectors.Permanent(fmt.Errorf("the service refused the refresh token (invalid_grant): reconnect the connection: %w", err))
		}
	}
	if err != nil {
		return nil, err
	}
	if tok.refreshToken == "" || tok.refreshToken == current {
		return tok, nil
	}
	c.addSecrets(tok.refreshToken)
	creds := credentialsOf(c.conn)
	if creds == nil {
		tc.refresh = tok.refreshToken
		return tok, nil
	}
	swapped, err := creds.SwapSecrets(ctx, map[string]string{field: current}, map[string]string{field: tok.refreshToken})
	switch {
	case err != nil:
		// The service has rotated the token; the access token still works until it expires.
		tc.refresh = tok.refreshToken
		c.logger.LogAttrs(ctx, slog.LevelError, "Could not store the rotated refresh token; the connection will need reconnecting",
			slog.String("connector", c.rt.file.Name), slog.String("err", c.redact(err.Error())))
	case !swapped:
		c.logger.LogAttrs(ctx, slog.LevelInfo, "Another process rotated the refresh token first; keeping its token",
			slog.String("connector", c.rt.file.Name))
	}
	return tok, nil
}

func refreshGrant(token string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
}

// currentRefreshToken reads the refresh token: fresh from the credential store when the
// connection has one, else the latest this process got, else the connection's setting.
func (c *call) currentRefreshToken(ctx context.Context, tc *tokenCache) (string, error) {
	field := c.rt.auth.refreshField
	if creds := credentialsOf(c.conn); creds != nil {
		secrets, err := creds.CurrentSecrets(ctx)
		if err != nil {
			return "", fmt.Errorf("read the stored refresh token: %w", err)
		}
		if v := secrets[field]; v != "" {
			return v, nil
		}
	} else if tc.refresh != "" {
		return tc.refresh, nil
	}
	return c.conn.String(field), nil
}

// tokenResponse is a token endpoint's answer (RFC 6749 section 5.1).
type tokenResponse struct {
	accessToken  string
	refreshToken string
	expiresIn    time.Duration
}

// grantError is the token endpoint's invalid_grant: the refresh token is no longer valid.
type grantError struct{ err error }

func (e *grantError) Error() string { return e.err.Error() }
func (e *grantError) Unwrap() error { return e.err }

// requestToken posts a grant to the token endpoint.
func (c *call) requestToken(ctx context.Context, ts tokenSettings, form url.Values) (*tokenResponse, error) {
	a := c.rt.auth
	if len(a.scopes) > 0 {
		form.Set("scope", strings.Join(a.scopes, " "))
	}
	for _, p := range a.extra {
		v, err := p.value.renderString(ctx, c.env)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("auth extra_params %s: %w", p.name, err))
		}
		form.Set(p.name, v)
	}
	if a.style == "body" {
		form.Set("client_id", ts.clientID)
		if ts.clientSecret != "" {
			form.Set("client_secret", ts.clientSecret)
		}
	}
	c.addSecrets(form.Get("refresh_token"))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("build the token request: %s", c.redact(err.Error())))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if a.style == "header" {
		// RFC 6749 section 2.3.1: the client's credentials are form-encoded first.
		req.SetBasicAuth(url.QueryEscape(ts.clientID), url.QueryEscape(ts.clientSecret))
	}
	resp, err := c.client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("oauth2 token request: %w", err)
	}
	fields := tokenFields(resp)
	if resp.Status >= 200 && resp.Status <= 299 && fields["access_token"] != "" {
		tok := &tokenResponse{accessToken: fields["access_token"], refreshToken: fields["refresh_token"]}
		if secs, err := strconv.ParseFloat(fields["expires_in"], 64); err == nil && secs > 0 {
			tok.expiresIn = seconds(secs)
		}
		c.addSecrets(tok.accessToken, tok.refreshToken)
		return tok, nil
	}
	msg := fields["error"]
	if d := fields["error_description"]; d != "" {
		msg += ": " + d
	}
	rerr := &ResponseError{Method: resp.Method, URL: resp.URL, Status: resp.Status,
		Message: c.redact(httpclient.Snippet([]byte(msg), MessageBytes)),
		Snippet: c.redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes))}
	if resp.Status >= 200 && resp.Status <= 299 && msg == "" {
		rerr.Message = "the answer has no access_token"
	}
	err = fmt.Errorf("oauth2 token request: %w", rerr)
	switch {
	case fields["error"] == "invalid_grant":
		return nil, &grantError{err: err}
	case httpclient.RetryableStatus(resp.Status):
		return nil, err
	}
	return nil, connectors.Permanent(err)
}

// tokenFields reads a token endpoint's JSON answer, or the form-encoded one some older
// endpoints give, as strings.
func tokenFields(resp *httpclient.Response) map[string]string {
	out := map[string]string{}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
		if q, err := url.ParseQuery(string(resp.Body)); err == nil {
			for k := range q {
				out[k] = q.Get(k)
			}
			return out
		}
	}
	v, err := connectors.DecodeJSON(resp.Body)
	if err != nil {
		return out
	}
	obj, _ := v.(map[string]any)
	for k, e := range obj {
		switch x := e.(type) {
		case string:
			out[k] = x
		case nil:
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out
}

func credentialsOf(conn *connectors.Connection) connectors.CredentialStore {
	if conn == nil {
		return nil
	}
	return conn.Credentials
}

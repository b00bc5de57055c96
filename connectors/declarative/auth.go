package declarative

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/hookflow/hookflow/connectors"
)

// The auth kinds.
const (
	AuthNone                    = "none"
	AuthHeader                  = "header"
	AuthQuery                   = "query"
	AuthBasic                   = "basic"
	AuthBearer                  = "bearer"
	AuthOAuth2ClientCredentials = "oauth2_client_credentials"
	AuthOAuth2RefreshToken      = "oauth2_refresh_token"
)

// authSpec is a compiled Auth.
type authSpec struct {
	kind  string
	name  string // header
	param string // query
	value *text  // header, query
	user  *text
	pass  *text
	token *text // bearer
	// oauth2_*
	tokenURL     *text
	clientID     *text
	clientSecret *text
	scopes       []string
	style        string // header or body
	refreshField string
	extra        []header // extra_params, as name and template
}

func compileAuth(a Auth) (*authSpec, error) {
	s := &authSpec{kind: a.Kind, name: a.Name, param: a.Param, scopes: a.Scopes, style: a.Style,
		refreshField: a.RefreshTokenField}
	if s.kind == "" {
		s.kind = AuthNone
	}
	if s.style == "" {
		s.style = "header"
	}
	texts := []struct {
		dst  **text
		name string
		src  string
	}{
		{&s.value, "value", a.Value}, {&s.user, "username", a.Username}, {&s.pass, "password", a.Password},
		{&s.token, "token", a.Token}, {&s.tokenURL, "token_url", a.TokenURL}, {&s.clientID, "client_id", a.ClientID},
		{&s.clientSecret, "client_secret", a.ClientSecret},
	}
	for _, t := range texts {
		var err error
		if *t.dst, err = compileTextOpt("connection.auth."+t.name, t.src, false); err != nil {
			return nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a.ExtraParams)) {
		v, err := compileText("connection.auth.extra_params."+k, a.ExtraParams[k], false)
		if err != nil {
			return nil, err
		}
		s.extra = append(s.extra, header{name: k, value: v})
	}
	need := func(t *text, name string) error {
		if t == nil {
			return fmt.Errorf("connection.auth: kind %s needs %s", s.kind, name)
		}
		return nil
	}
	var err error
	switch s.kind {
	case AuthNone:
	case AuthHeader:
		if s.name == "" {
			return nil, fmt.Errorf("connection.auth: kind header needs name")
		}
		err = need(s.value, "value")
	case AuthQuery:
		if s.param == "" {
			return nil, fmt.Errorf("connection.auth: kind query needs param")
		}
		err = need(s.value, "value")
	case AuthBasic:
		err = need(s.user, "username")
	case AuthBearer:
		err = need(s.token, "token")
	case AuthOAuth2ClientCredentials, AuthOAuth2RefreshToken:
		err = need(s.tokenURL, "token_url")
		if err == nil && s.kind == AuthOAuth2RefreshToken && s.refreshField == "" {
			err = fmt.Errorf("connection.auth: kind %s needs refresh_token_field", s.kind)
		}
		if err == nil && s.style != "header" && s.style != "body" {
			err = fmt.Errorf("connection.auth.style: %q is neither header nor body", s.style)
		}
	default:
		err = fmt.Errorf("connection.auth.kind: unknown kind %q", s.kind)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *authSpec) none() bool { return s.kind == AuthNone }

func (s *authSpec) oauth() bool {
	return s.kind == AuthOAuth2ClientCredentials || s.kind == AuthOAuth2RefreshToken
}

// authorize adds the connection's credentials to req. For oauth2 kinds it returns the
// access token it used, so that a refusal drops that token and no newer one.
func (c *call) authorize(ctx context.Context, req *http.Request) (string, error) {
	a := c.rt.auth
	env := c.env
	render := func(t *text, what string) (string, error) {
		if t == nil {
			return "", nil
		}
		v, err := t.renderString(ctx, env)
		if err != nil {
			return "", connectors.Permanent(fmt.Errorf("auth %s: %w", what, err))
		}
		return v, nil
	}
	switch a.kind {
	case AuthHeader:
		v, err := render(a.value, "value")
		if err != nil {
			return "", err
		}
		c.addSecrets(v)
		req.Header.Set(a.name, v)
	case AuthQuery:
		v, err := render(a.value, "value")
		if err != nil {
			return "", err
		}
		c.addSecrets(v)
		setQueryParam(req.URL, a.param, v)
	case AuthBasic:
		user, err := render(a.user, "username")
		if err != nil {
			return "", err
		}
		pass, err := render(a.pass, "password")
		if err != nil {
			return "", err
		}
		req.SetBasicAuth(user, pass)
	case AuthBearer:
		v, err := render(a.token, "token")
		if err != nil {
			return "", err
		}
		c.addSecrets(v)
		req.Header.Set("Authorization", "Bearer "+v)
	case AuthOAuth2ClientCredentials, AuthOAuth2RefreshToken:
		tok, err := c.accessToken(ctx)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return tok, nil
	}
	return "", nil
}

// setQueryParam sets one query parameter, keeping the rest of the query as written
// unless the parameter is already there (a next-page URL echoing the API key).
func setQueryParam(u *url.URL, name, value string) {
	q := u.Query()
	if q.Has(name) {
		q.Set(name, value)
		u.RawQuery = q.Encode()
		return
	}
	pair := url.QueryEscape(name) + "=" + url.QueryEscape(value)
	if u.RawQuery == "" {
		u.RawQuery = pair
	} else {
		u.RawQuery += "&" + pair
	}
}

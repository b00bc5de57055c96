// Package http is the generic HTTP connector: its http.request action calls any URL, with
// credentials from an optional connection (basic, bearer or a custom header).
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package http

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connection field names.
const (
	connBaseURL     = "base_url"
	connAuth        = "auth"
	connUsername    = "username"
	connPassword    = "password"
	connToken       = "token"
	connHeaderName  = "header_name"
	connHeaderValue = "header_value"
)

// Values of the auth connection field.
const (
	authNone   = "none"
	authBasic  = "basic"
	authBearer = "bearer"
	authHeader = "header"
)

// client is shared by every call so that calls to the same host reuse connections; the
// per-call timeout, logger and secrets are set on cheap copies of it.
var client = httpclient.New(httpclient.Options{})

func init() {
	connectors.MustRegister(&connectors.Connector{
		Name:  "http",
		Title: "HTTP",
		Description: "Calls any HTTP API or webhook. A connection is optional: it holds a base URL " +
			"that relative request URLs are joined to, and the credentials sent with every request.",
		Connection: []connectors.Field{
			{Name: connBaseURL, Type: connectors.TypeString, Title: "Base URL",
				Description: "Absolute http(s) URL that relative request URLs are joined to. When set together with credentials, " +
					"absolute request URLs must point at the same scheme and host, so a templated URL cannot send the credentials elsewhere.",
				Examples: []any{"https://api.example.com/v1"}},
			{Name: connAuth, Type: connectors.TypeString, Title: "Authentication",
				Description: "How requests authenticate: none, basic (username and password), bearer (Authorization: Bearer <token>) " +
					"or header (a custom header name and value).",
				Default: authNone, Enum: []string{authNone, authBasic, authBearer, authHeader}},
			{Name: connUsername, Type: connectors.TypeString, Title: "Username",
				Description: "User name for basic authentication."},
			{Name: connPassword, Type: connectors.TypeString, Title: "Password", Secret: true,
				Description: "Password for basic authentication."},
			{Name: connToken, Type: connectors.TypeString, Title: "Bearer token", Secret: true,
				Description: "Token sent as Authorization: Bearer <token> for bearer authentication."},
			{Name: connHeaderName, Type: connectors.TypeString, Title: "Header name",
				Description: "Name of the header carrying the credential for header authentication.",
				Examples:    []any{"X-Api-Key"}},
			{Name: connHeaderValue, Type: connectors.TypeString, Title: "Header value", Secret: true,
				Description: "Value of the credential header for header authentication."},
		},
		ConnectionRequired: false,
		Actions:            []*connectors.ActionDef{requestAction},
		Pollers:            []*connectors.PollerDef{pollDef},
		ValidateConnection: validateConnection,
	})
}

// headerNamePattern is RFC 9110's token, the characters a header name may use.
var headerNamePattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// validateConnection checks what the field specs cannot: which settings each auth mode
// needs, and that base_url is usable.
func validateConnection(config map[string]any) error {
	str := func(key string) (string, error) {
		switch v := config[key].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		default:
			return "", fmt.Errorf("%s must be a string, got %s", key, connectors.JSONTypeOf(v))
		}
	}
	var errs []error
	get := func(key string) string {
		s, err := str(key)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	}
	if base := get(connBaseURL); base != "" {
		if _, err := parseBaseURL(base); err != nil {
			errs = append(errs, err)
		}
	}
	switch auth := get(connAuth); auth {
	case "", authNone:
	case authBasic:
		if get(connUsername) == "" {
			errs = append(errs, errors.New("basic auth needs a username"))
		}
	case authBearer:
		if get(connToken) == "" {
			errs = append(errs, errors.New("bearer auth needs a token"))
		}
	case authHeader:
		name := get(connHeaderName)
		switch {
		case name == "":
			errs = append(errs, errors.New("header auth needs a header_name"))
		case !headerNamePattern.MatchString(name):
			errs = append(errs, fmt.Errorf("header_name %q is not a valid header name", name))
		}
		if get(connHeaderValue) == "" {
			errs = append(errs, errors.New("header auth needs a header_value"))
		}
	default:
		errs = append(errs, fmt.Errorf("auth %q is not one of none, basic, bearer, header", auth))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid http connection: %w", err)
	}
	return nil
}

// parseBaseURL accepts only absolute http(s) URLs with a host.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("base_url %q: %w", httpclient.RedactURL(raw), err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base_url %q must be an absolute http or https URL", httpclient.RedactURL(raw))
	}
	return u, nil
}

// credentialSecrets returns the values to keep out of logs, errors and items: the
// connection's secrets, and for basic auth the encoded header value, which a service
// echoing its request would show.
func credentialSecrets(conn *connectors.Connection) []string {
	secrets := conn.SecretValues()
	if conn.String(connAuth) == authBasic {
		// A receiver echoing the header would show the password only base64-encoded.
		user, pass := conn.String(connUsername), conn.String(connPassword)
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	return secrets
}

// setCredentials adds the connection's credentials to req, as http.request sends them.
func setCredentials(req *http.Request, conn *connectors.Connection) {
	switch conn.String(connAuth) {
	case authBasic:
		req.SetBasicAuth(conn.String(connUsername), conn.String(connPassword))
	case authBearer:
		req.Header.Set("Authorization", "Bearer "+conn.String(connToken))
	case authHeader:
		req.Header.Set(conn.String(connHeaderName), conn.String(connHeaderValue))
	}
}

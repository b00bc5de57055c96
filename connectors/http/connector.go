// Package http is the generic HTTP connector: its http.request action calls any URL, with
// credentials from an optional connection (basic, bearer or a custom header).
//
// It registers itself from init; binaries pick it up by importing connectors/all.
package http

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connection field names.
const (
	connBaseURL      = "base_url"
	connAllowedHosts = "allowed_hosts"
	connAuth         = "auth"
	connUsername     = "username"
	connPassword     = "password"
	connToken        = "token"
	connHeaderName   = "header_name"
	connHeaderValue  = "header_value"
	connSigning      = "signing_secret"
	connSignature    = "signature"
	connPrevSigning  = "previous_signing_secret"
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
			"that relative request URLs are joined to, the credentials sent with every request, and an optional " +
			"signing secret that signs each request (Standard Webhooks or GitHub style) for the receiver to verify.",
		Connection: []connectors.Field{
			{Name: connBaseURL, Type: connectors.TypeString, Title: "Base URL", Endpoint: true,
				Description: "Absolute http(s) URL that relative request URLs are joined to. With credentials, " +
					"absolute request URLs must point at the same scheme, host and port (or at one of allowed_hosts), so a templated URL " +
					"cannot send the credentials elsewhere. A connection with credentials needs base_url or allowed_hosts.",
				Examples: []any{"https://api.example.com/v1"}},
			{Name: connAllowedHosts, Type: connectors.TypeArray, Title: "Allowed hosts", Endpoint: true,
				Items: &connectors.Field{Name: "host", Type: connectors.TypeString},
				Description: "Hosts besides base_url's that requests with this connection's credentials may go to: " +
					"`host` (on the URL scheme's default port), `host:port`, or `*.example.com` for its subdomains. " +
					"A request URL on any other host fails before anything is sent.",
				Examples: []any{[]any{"api.example.com", "*.example.com", "10.0.0.5:8080"}}},
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
			{Name: connSigning, Type: connectors.TypeString, Title: "Signing secret", Secret: true,
				Description: "When set, every request is signed so that the receiver can check it came from you, unchanged: " +
					"Standard Webhooks headers webhook-id (the step's idempotency key, the same on every retry), webhook-timestamp " +
					"and webhook-signature, and/or GitHub's X-Hub-Signature-256, as the signature setting says. For Standard " +
					"Webhooks the secret is whsec_ followed by base64 (whsec_ may be left out); GitHub's HMAC key is the secret " +
					"exactly as written. Like credentials, a signing secret needs base_url or allowed_hosts.",
				Examples: []any{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
			{Name: connPrevSigning, Type: connectors.TypeString, Title: "Previous signing secret", Secret: true,
				Description: "During a rotation of signing_secret: the secret receivers knew until now. Standard Webhooks " +
					"requests then carry two v1 entries in webhook-signature (space-separated, as the spec allows), one per " +
					"secret, so receivers verify with either while they switch; GitHub's X-Hub-Signature-256 holds one " +
					"signature and is made with signing_secret only. Remove it once every receiver has the new secret."},
			{Name: connSignature, Type: connectors.TypeString, Title: "Signature scheme",
				Description: "Which signature headers a signing secret adds: standard-webhooks (webhook-id, webhook-timestamp, " +
					"webhook-signature v1), github (X-Hub-Signature-256: sha256=<hex HMAC of the body>) or both. " +
					"Used only with signing_secret.",
				Default: signStandard, Enum: []string{signStandard, signGitHub, signBoth}},
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
	base := get(connBaseURL)
	if base != "" {
		if _, err := parseBaseURL(base); err != nil {
			errs = append(errs, err)
		}
	}
	allowed, err := allowedHosts(config[connAllowedHosts])
	if err != nil {
		errs = append(errs, err)
	}
	auth := get(connAuth)
	if auth != "" && auth != authNone && base == "" && len(allowed) == 0 && err == nil {
		errs = append(errs, fmt.Errorf("auth %s needs a base_url or allowed_hosts: credentials are sent only to the hosts "+
			"their connection names", auth))
	}
	signing, scheme := get(connSigning), get(connSignature)
	if _, signErr := newSigner(scheme, signing, get(connPrevSigning)); signErr != nil {
		errs = append(errs, signErr)
	}
	if signing != "" && base == "" && len(allowed) == 0 && err == nil {
		// A signed request replays at its receiver until its timestamp expires: a templated
		// URL must not be able to collect signatures for another host.
		errs = append(errs, errors.New("signing_secret needs a base_url or allowed_hosts: requests are signed only for "+
			"the hosts their connection names"))
	}
	switch auth {
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

// allowedHosts reads and checks the allowed_hosts setting: a list of `host`,
// `host:port` or `*.domain`, returned in lower case.
func allowedHosts(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("allowed_hosts must be a list of host names, got %s", connectors.JSONTypeOf(v))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("allowed_hosts entries must be strings, got %s", connectors.JSONTypeOf(e))
		}
		entry := strings.ToLower(strings.TrimSpace(s))
		host, port := splitHostPort(entry)
		name := strings.TrimPrefix(host, "*.")
		switch {
		case name == "" || strings.ContainsAny(name, "/@?#*% ") || strings.Contains(entry, "://"):
			return nil, fmt.Errorf("allowed_hosts entry %q must be a host, host:port or *.domain, not a URL", s)
		case port != "":
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("allowed_hosts entry %q has an invalid port", s)
			}
		}
		out = append(out, entry)
	}
	return out, nil
}

// setting returns a connection's setting, or nil without a connection.
func setting(conn *connectors.Connection, key string) any {
	if conn == nil {
		return nil
	}
	return conn.Config[key]
}

// splitHostPort splits "host:port" or "[v6]:port"; anything else is a host alone.
func splitHostPort(s string) (host, port string) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), ""
}

// hostAllowed reports whether u's host and port match an allowed_hosts entry: an entry
// without a port stands for the URL scheme's default port, and "*.example.com" for the
// subdomains of example.com (not example.com itself).
func hostAllowed(u *url.URL, allowed []string) bool {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	for _, entry := range allowed {
		h, p := splitHostPort(entry)
		if p == "" {
			p = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
		}
		if p != port {
			continue
		}
		if suffix, wild := strings.CutPrefix(h, "*."); wild {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
			continue
		}
		if host == h {
			return true
		}
	}
	return false
}

// credentialSecrets returns the values to keep out of logs, errors and items: the
// connection's secrets, the base64 part of a whsec_ signing secret, and for basic auth
// the encoded header value, which a service echoing its request would show.
func credentialSecrets(conn *connectors.Connection) []string {
	secrets := append(conn.SecretValues(), signingSecrets(conn.String(connSigning))...)
	secrets = append(secrets, signingSecrets(conn.String(connPrevSigning))...)
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

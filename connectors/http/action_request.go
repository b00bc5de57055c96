package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Input field names.
const (
	inMethod   = "method"
	inURL      = "url"
	inHeaders  = "headers"
	inQuery    = "query"
	inBody     = "body"
	inBodyType = "body_type"
	inTimeout  = "timeout"
)

// Output field names.
const (
	outStatus  = "status"
	outHeaders = "headers"
	outBody    = "body"
)

// Values of the body_type input.
const (
	bodyJSON = "json"
	bodyForm = "form"
	bodyRaw  = "raw"
)

// Content types sent when the user's headers do not set one.
const (
	contentTypeJSON = "application/json"
	contentTypeForm = "application/x-www-form-urlencoded"
	contentTypeText = "text/plain; charset=utf-8"
)

const (
	// timeoutDefault is the request timeout when the input sets none.
	timeoutDefault = 30 * time.Second
	// timeoutMax caps the timeout input: a step holds a worker while it waits, and longer
	// jobs should be polled instead.
	timeoutMax = 5 * time.Minute
)

var methods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodHead, http.MethodOptions,
}

var requestAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "request",
		Title: "Send HTTP request",
		Description: "Sends one HTTP request and returns the response. Redirects are not followed. " +
			"A 2xx status succeeds with the status, headers and body as output. Any other status fails the step with an error " +
			"quoting the status and the start of the body, and no output: 408, 429 and 5xx are retried (honouring Retry-After), " +
			"3xx and other 4xx fail at once. Timeouts and connection errors are retried. " +
			"Every attempt of a step sends the same Idempotency-Key header, so receivers that support it act once. " +
			"A connection with a signing_secret signs every attempt (Standard Webhooks and/or GitHub's X-Hub-Signature-256) " +
			"over the exact body bytes sent.",
		Idempotent: true,
		Inputs: []connectors.Field{
			{Name: inMethod, Type: connectors.TypeString, Title: "Method",
				Description: "HTTP method.", Default: http.MethodGet, Enum: methods},
			{Name: inURL, Type: connectors.TypeString, Title: "URL", Required: true,
				Description: "Absolute http(s) URL, or a path joined to the connection's base_url (slashes between them are normalised).",
				Examples:    []any{"https://example.com/webhooks/orders", "/v1/contacts"}},
			{Name: inHeaders, Type: connectors.TypeObject, Title: "Headers",
				Description: "Request headers, name to value (a list of values sends the header once per value). " +
					"Connection credentials and signature headers override headers of the same name.",
				Examples: []any{map[string]any{"Accept": "application/json"}}},
			{Name: inQuery, Type: connectors.TypeObject, Title: "Query parameters",
				Description: "Query parameters added to the URL's own. Values are strings, numbers or booleans; a list repeats the parameter.",
				Examples:    []any{map[string]any{"page": 2, "tag": []any{"a", "b"}}}},
			{Name: inBody, Type: connectors.TypeAny, Title: "Body",
				Description: "Request body. An object or list is sent as JSON unless body_type is form; a string is sent as is."},
			{Name: inBodyType, Type: connectors.TypeString, Title: "Body type",
				Description: "How the body is encoded: json (Content-Type application/json), form (an object as " +
					"application/x-www-form-urlencoded, nested keys as a[b][0]=x) or raw (a string as is, text/plain unless the " +
					"headers set Content-Type). Default: json for objects, lists, numbers and booleans, raw for strings.",
				Enum: []string{bodyJSON, bodyForm, bodyRaw}},
			{Name: inTimeout, Type: connectors.TypeString, Title: "Timeout",
				Description: "Time allowed for the whole request, as a Go duration. Values above 5m are reduced to 5m.",
				Default:     timeoutDefault.String(), Examples: []any{"10s", "1m30s"}},
		},
		Outputs: []connectors.Field{
			{Name: outStatus, Type: connectors.TypeInteger, Title: "Status", Description: "HTTP status code (2xx)."},
			{Name: outHeaders, Type: connectors.TypeObject, Title: "Headers",
				Description: "Response headers with lower-case names; repeated headers are joined with \", \"."},
			{Name: outBody, Type: connectors.TypeAny, Title: "Body",
				Description: "Response body: parsed when it is JSON (by Content-Type, or when it is a JSON object or array), " +
					"otherwise text. Bodies above 10 MiB are cut and returned as text."},
		},
	},
	New: func() connectors.Action { return &request{client: client, now: time.Now} },
}

var (
	_ connectors.Action    = (*request)(nil)
	_ connectors.Validator = (*request)(nil)
)

// request is one call of http.request.
type request struct {
	client *httpclient.Client
	// now is the signing clock; tests inject a fake one.
	now func() time.Time
	// validated is the input Validate parsed and checked, parsed its result: Run reuses
	// it for the same map instead of encoding and checking the inputs a second time.
	validated map[string]any
	parsed    *requestInput
}

// requestInput is the checked, encoded form of the step's inputs.
type requestInput struct {
	method      string
	rawURL      string
	headers     http.Header
	query       string
	body        []byte
	hasBody     bool
	contentType string
	timeout     time.Duration
}

// Validate checks the inputs offline: method, URL shape, headers, query, body encoding
// and timeout. A relative URL passes, since only the connection knows the base URL.
func (r *request) Validate(input map[string]any) error {
	in, err := parseInput(input)
	if err != nil {
		return connectors.Permanent(err)
	}
	r.validated, r.parsed = input, in
	return nil
}

// Run sends the request and returns the response as output for a 2xx status.
func (r *request) Run(ctx context.Context, call *connectors.Call) (any, error) {
	in := r.parsed
	if in == nil || !sameMap(r.validated, call.Input) {
		var err error
		if in, err = parseInput(call.Input); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("invalid input for step %s: %w", call.StepID, err))
		}
	}
	conn := call.Connection
	if conn != nil {
		// Saved connections were validated, but a missing header name would otherwise
		// surface at send time as a retryable transport error.
		if err := validateConnection(conn.Config); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("connection %s for step %s: %w", conn.Name, call.StepID, err))
		}
	}
	auth := conn.String(connAuth)
	sig, _ := newSigner(conn.String(connSignature), conn.String(connSigning), conn.String(connPrevSigning)) // checked by validateConnection
	allowed, _ := allowedHosts(setting(conn, connAllowedHosts))                                             // checked by validateConnection
	credentials := (auth != "" && auth != authNone) || sig != nil
	target, err := resolveURL(in.rawURL, conn.String(connBaseURL), allowed, credentials)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid url for step %s: %w", call.StepID, err))
	}
	target = withQuery(target, in.query)

	var body io.Reader
	if in.hasBody {
		body = bytes.NewReader(in.body)
	}
	req, err := http.NewRequestWithContext(ctx, in.method, target, body)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("build http request for step %s: %w", call.StepID, err))
	}
	for name, values := range in.headers {
		if strings.EqualFold(name, "Host") {
			req.Host = values[0] // net/http ignores a Host entry in the header map
			continue
		}
		req.Header[name] = values
	}
	if in.hasBody && in.contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", in.contentType)
	}
	if call.IdempotencyKey != "" && req.Header.Get("Idempotency-Key") == "" {
		req.Header.Set("Idempotency-Key", call.IdempotencyKey)
	}
	setCredentials(req, conn)
	if sig != nil {
		// Signed last, at send time: a retry is a new Run with a fresh timestamp over the
		// same id, and no user header can replace a signature header.
		now := time.Now
		if r.now != nil {
			now = r.now
		}
		sig.sign(req.Header, messageID(call.IdempotencyKey), now(), in.body)
	}
	secrets := credentialSecrets(conn)
	hc := r.client.ForCall(call).WithSecrets(secrets...).WithTimeout(in.timeout)
	resp, err := hc.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("send http request for step %s: %w", call.StepID, err)
	}
	if err := httpclient.Classify(resp); err != nil {
		return nil, fmt.Errorf("http request for step %s: %w", call.StepID, err)
	}
	if resp.Truncated {
		logger(call).LogAttrs(ctx, slog.LevelWarn, "HTTP response body truncated",
			slog.String("step_id", call.StepID),
			slog.String("url", resp.URL),
			slog.Int("body_bytes", len(resp.Body)))
	}
	out := map[string]any{
		outStatus:  resp.Status,
		outHeaders: responseHeaders(resp.Header),
		outBody:    responseBody(resp),
	}
	// Outputs are stored and shown; a service echoing a credential must not leak it.
	return redactValue(out, httpclient.SecretRedactor(secrets...)), nil
}

func logger(call *connectors.Call) *slog.Logger {
	if call.Logger != nil {
		return call.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// sameMap reports whether a and b are the same map (not merely equal ones).
func sameMap(a, b map[string]any) bool {
	return a != nil && b != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// parseInput checks and encodes every input. Errors are plain; callers mark them permanent.
func parseInput(raw map[string]any) (*requestInput, error) {
	norm, err := connectors.RoundTrip(raw)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	input, _ := norm.(map[string]any)
	in := &requestInput{method: http.MethodGet, timeout: timeoutDefault}
	var errs []error

	if v, ok := input[inMethod]; ok && v != nil {
		s, isString := v.(string)
		m := strings.ToUpper(strings.TrimSpace(s))
		switch {
		case !isString:
			errs = append(errs, fmt.Errorf("method: expected a string, got %s", connectors.JSONTypeOf(v)))
		case !isMethod(m):
			errs = append(errs, fmt.Errorf("method %q is not one of %s", s, strings.Join(methods, ", ")))
		default:
			in.method = m
		}
	}

	switch v := input[inURL].(type) {
	case nil:
		errs = append(errs, errors.New("url is required"))
	case string:
		in.rawURL = strings.TrimSpace(v)
		if in.rawURL == "" {
			errs = append(errs, errors.New("url is required"))
		} else if err := checkURL(in.rawURL); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("url: expected a string, got %s", connectors.JSONTypeOf(v)))
	}

	if in.headers, err = parseHeaders(input[inHeaders]); err != nil {
		errs = append(errs, err)
	}

	switch v := input[inQuery].(type) {
	case nil:
	case map[string]any:
		if in.query, err = encodeQuery(v); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("query: expected an object, got %s", connectors.JSONTypeOf(v)))
	}

	bodyType := ""
	if v, ok := input[inBodyType]; ok && v != nil {
		s, isString := v.(string)
		switch {
		case !isString:
			errs = append(errs, fmt.Errorf("body_type: expected a string, got %s", connectors.JSONTypeOf(v)))
		case s == "", s == bodyJSON, s == bodyForm, s == bodyRaw:
			bodyType = s
		default:
			errs = append(errs, fmt.Errorf("body_type %q is not one of json, form, raw", s))
		}
	}
	if err := in.encodeBody(input[inBody], bodyType); err != nil {
		errs = append(errs, err)
	}

	if v, ok := input[inTimeout]; ok && v != nil {
		s, isString := v.(string)
		d, err := time.ParseDuration(strings.TrimSpace(s))
		switch {
		case !isString:
			errs = append(errs, fmt.Errorf("timeout: expected a duration string such as \"10s\", got %s", connectors.JSONTypeOf(v)))
		case err != nil:
			errs = append(errs, fmt.Errorf("timeout %q is not a duration such as \"10s\"", s))
		case d <= 0:
			errs = append(errs, fmt.Errorf("timeout %q must be positive", s))
		default:
			in.timeout = min(d, timeoutMax)
		}
	}

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

func isMethod(m string) bool {
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}

// encodeBody picks the encoding from body_type, or from the body's JSON type when unset.
func (in *requestInput) encodeBody(body any, bodyType string) error {
	if body == nil {
		return nil
	}
	if bodyType == "" {
		bodyType = bodyJSON
		if _, isString := body.(string); isString {
			bodyType = bodyRaw
		}
	}
	in.hasBody = true
	switch bodyType {
	case bodyJSON:
		data, err := encodeJSON(body)
		if err != nil {
			return fmt.Errorf("body: encode as json: %w", err)
		}
		in.body, in.contentType = data, contentTypeJSON
	case bodyForm:
		switch b := body.(type) {
		case map[string]any:
			s, err := encodeForm(b)
			if err != nil {
				return fmt.Errorf("body: %w", err)
			}
			in.body = []byte(s)
		case string:
			in.body = []byte(b) // already encoded by the user
		default:
			return fmt.Errorf("body: form needs an object or an encoded string, got %s", connectors.JSONTypeOf(body))
		}
		in.contentType = contentTypeForm
	case bodyRaw:
		s, ok := connectors.ScalarText(body)
		if !ok {
			return fmt.Errorf("body: raw needs a string, got %s (use body_type json or form)", connectors.JSONTypeOf(body))
		}
		in.body, in.contentType = []byte(s), contentTypeText
	}
	return nil
}

// parseHeaders accepts an object of strings (numbers and booleans are written as text) or
// lists of them, and refuses names and values net/http would reject at send time, where
// the error would look retryable.
func parseHeaders(v any) (http.Header, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("headers: expected an object, got %s", connectors.JSONTypeOf(v))
	}
	h := http.Header{}
	var errs []error
	for _, name := range sortedKeys(obj) {
		if !headerNamePattern.MatchString(name) {
			errs = append(errs, fmt.Errorf("header name %q is not valid", name))
			continue
		}
		var values []any
		switch x := obj[name].(type) {
		case nil:
			continue
		case []any:
			values = x
		default:
			values = []any{x}
		}
		for _, e := range values {
			s, ok := connectors.ScalarText(e)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("header %q: expected a string, got %s", name, connectors.JSONTypeOf(e)))
			case !validHeaderValue(s):
				errs = append(errs, fmt.Errorf("header %q: value contains control characters", name))
			default:
				h.Add(name, s)
			}
		}
	}
	return h, errors.Join(errs...)
}

// validHeaderValue refuses control characters other than tab, as RFC 9110 does.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// checkURL checks the shape of the url input without the connection: an absolute URL
// must be http(s) with a host; anything else must be a path.
func checkURL(raw string) error {
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme != "":
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("url %q: scheme %q is not http or https", httpclient.RedactURL(raw), u.Scheme)
		}
		if u.Host == "" {
			return fmt.Errorf("url %q has no host", httpclient.RedactURL(raw))
		}
	case u.Host != "":
		return fmt.Errorf("url %q has no scheme: write https://…", httpclient.RedactURL(raw))
	}
	return nil
}

// parseURL parses without echoing the raw URL in the error (url.Error does), since it may
// hold credentials.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("url is not valid: %w", err)
	}
	return u, nil
}

// resolveURL returns the URL to call: raw itself when absolute, else raw's path joined to
// base with exactly one slash between them and both query strings kept. With credentials,
// an absolute URL must keep the base's scheme, host and port or be on one of the allowed
// hosts, so that a URL built from untrusted trigger data cannot carry the connection's
// credentials elsewhere; with neither a base nor allowed hosts, credentials go nowhere.
func resolveURL(raw, base string, allowed []string, credentials bool) (string, error) {
	if err := checkURL(raw); err != nil {
		return "", err
	}
	u, _ := parseURL(raw) // checked above
	var b *url.URL
	if base != "" {
		var err error
		if b, err = parseBaseURL(base); err != nil {
			return "", fmt.Errorf("connection: %w", err)
		}
	}
	if u.IsAbs() {
		if credentials {
			switch {
			case b == nil && len(allowed) == 0:
				return "", errors.New("the connection has credentials but needs a base_url or allowed_hosts: " +
					"credentials are sent only to the hosts their connection names")
			case b != nil && origin(u) == origin(b), hostAllowed(u, allowed):
			case b == nil:
				return "", fmt.Errorf("url %q is not among the connection's allowed_hosts; the connection's credentials are only sent there",
					httpclient.RedactURL(raw))
			default:
				return "", fmt.Errorf("url %q is not on the connection's base_url host %s://%s nor among its allowed_hosts; "+
					"the connection's credentials are only sent there", httpclient.RedactURL(raw), b.Scheme, b.Host)
			}
		}
		return u.String(), nil
	}
	if b == nil {
		return "", fmt.Errorf("url %q is relative but the step has no connection with a base_url", httpclient.RedactURL(raw))
	}
	joined := *b
	path := b.EscapedPath()
	if ref := u.EscapedPath(); ref != "" {
		path = strings.TrimRight(path, "/") + "/" + strings.TrimLeft(ref, "/")
	}
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", httpclient.RedactURL(raw), err)
	}
	joined.Path, joined.RawPath = unescaped, path
	joined.RawQuery = joinQuery(b.RawQuery, u.RawQuery)
	joined.Fragment, joined.RawFragment = u.Fragment, u.RawFragment
	return joined.String(), nil
}

// origin is scheme://host:port in lower case with the default port spelled out, so
// https://A.test and https://a.test:443 compare equal.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

// withQuery appends encoded parameters to a URL's own query.
func withQuery(rawURL, query string) string {
	if query == "" {
		return rawURL
	}
	base, frag, hasFrag := strings.Cut(rawURL, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + query
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// responseHeaders flattens headers to lower-case names and comma-joined values.
func responseHeaders(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out
}

// responseBody parses JSON bodies and returns every other body as text.
func responseBody(resp *httpclient.Response) any {
	if len(resp.Body) == 0 {
		return ""
	}
	if !resp.Truncated && looksJSON(resp.Header.Get("Content-Type"), resp.Body) {
		if v, err := connectors.DecodeJSON(resp.Body); err == nil {
			return v
		}
	}
	return strings.ToValidUTF8(string(resp.Body), "\uFFFD")
}

func looksJSON(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		if mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json") {
			return true
		}
	}
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

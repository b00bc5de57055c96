package pipedrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// api calls Pipedrive's REST API with one connection's token.
type api struct {
	hc     *httpclient.Client
	base   string // without a trailing slash; paths start with /v1 or /api/v2
	token  string
	redact func(string) string
	// country is the connection's default_country, for phones.
	country string
}

// newAPI checks the connection and returns a client for it that logs to logger (nil:
// nowhere) and masks the token everywhere. Its errors are permanent: a retry cannot fix
// a connection.
func newAPI(conn *connectors.Connection, logger *slog.Logger) (*api, error) {
	if conn == nil {
		return nil, connectors.Permanent(errors.New("no pipedrive connection: name a connection with the API token and company domain"))
	}
	if err := validateConnection(conn.Config); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	token := conn.String(connAPIToken)
	base := conn.String(connBaseURL)
	if base == "" {
		base = "https://" + conn.String(connDomain) + ".pipedrive.com"
	}
	// The token is masked even if the connection does not list it as secret.
	secrets := append(conn.SecretValues(), token)
	return &api{
		hc:      client.WithLogger(logger).WithSecrets(secrets...),
		base:    strings.TrimRight(base, "/"),
		token:   token,
		redact:  httpclient.SecretRedactor(secrets...),
		country: conn.String(connectors.DefaultCountryField.Name),
	}, nil
}

// envelope is Pipedrive's answer to every call.
type envelope struct {
	Success        *bool           `json:"success"`
	Data           json.RawMessage `json:"data"`
	AdditionalData json.RawMessage `json:"additional_data"`
	Error          string          `json:"error"`
	ErrorInfo      string          `json:"error_info"`
}

// apiError is a call Pipedrive answered with "success": false.
type apiError struct {
	Op      string // "POST /v1/leads"
	Status  int
	Message string // Pipedrive's error text, redacted
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("pipedrive %s failed with %d: %s", e.Op, e.Status, e.Message)
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (the API token was refused, or the path is unknown: check the connection's api_token and domain)"
	case http.StatusPaymentRequired, http.StatusForbidden:
		msg += " (the token's user or the company's plan lacks this feature or permission)"
	}
	return msg
}

// get sends GET path?query and decodes data into out (nil: ignore it).
func (a *api) get(ctx context.Context, path string, query url.Values, out any) error {
	_, err := a.call(ctx, http.MethodGet, path, query, nil, out)
	return err
}

// post sends body as JSON to path and decodes data into out.
func (a *api) post(ctx context.Context, path string, body, out any) error {
	_, err := a.call(ctx, http.MethodPost, path, nil, body, out)
	return err
}

// call sends one request and decodes data into out, returning additional_data. Errors
// follow the SDK's kinds: network errors, 5xx and 429 are retryable (429 after the wait
// Pipedrive asks for), 401, 403 and other 4xx permanent with Pipedrive's error text.
func (a *api) call(ctx context.Context, method, path string, query url.Values, body, out any) (json.RawMessage, error) {
	op := method + " " + path
	var rd *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("encode pipedrive %s body: %w", op, err))
		}
		rd = bytes.NewReader(data)
	}
	endpoint := a.base + path
	if len(query) > 0 {
		endpoint += "?" + query.Encode()
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, endpoint, rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, endpoint, nil)
	}
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("build pipedrive %s request: %s", op, a.redact(err.Error())))
	}
	req.Header.Set("x-api-token", a.token)
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("call pipedrive %s: %w", op, err) // already redacted; retryable
	}
	var env envelope
	if jerr := json.Unmarshal(resp.Body, &env); jerr != nil || env.Success == nil {
		// Not Pipedrive talking: a proxy's or gateway's page, or a wrong base_url.
		if cerr := httpclient.Classify(resp); cerr != nil {
			return nil, fmt.Errorf("call pipedrive %s: %w", op, withRateReset(cerr, resp))
		}
		// A 2xx we cannot read: a write may have happened, so the error is permanent
		// rather than a retry that could write twice.
		return nil, connectors.Permanent(fmt.Errorf("call pipedrive %s: the answer is not a Pipedrive response (check the connection's domain or base_url): %s",
			op, a.redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes))))
	}
	if !*env.Success || resp.Status < 200 || resp.Status > 299 {
		return nil, a.classify(op, resp, &env)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("read pipedrive %s answer: %w", op, err))
		}
	}
	return env.AdditionalData, nil
}

// classify turns a "success": false answer into the SDK's error kinds.
func (a *api) classify(op string, resp *httpclient.Response, env *envelope) error {
	e := &apiError{Op: op, Status: resp.Status, Message: a.redact(env.Error)}
	if e.Message == "" {
		e.Message = http.StatusText(e.Status)
	}
	if e.Status >= 200 && e.Status <= 299 {
		return connectors.Permanent(e) // success false with a 2xx: nothing a retry fixes
	}
	if !httpclient.RetryableStatus(e.Status) {
		return connectors.Permanent(e)
	}
	if d, ok := retryWait(resp); ok {
		return connectors.RetryAfter(e, d)
	}
	return e
}

// retryWait is the wait a response asks for: Retry-After, or for a 429 without it the
// seconds until the rate window resets (x-ratelimit-reset).
func retryWait(resp *httpclient.Response) (time.Duration, bool) {
	if d, ok := httpclient.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return d, true
	}
	if resp.Status == http.StatusTooManyRequests {
		if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("x-ratelimit-reset"))); err == nil && n >= 0 {
			return min(time.Duration(n)*time.Second, httpclient.RetryAfterMax), true
		}
	}
	return 0, false
}

// withRateReset adds the rate window's reset to a 429 classified without Retry-After.
func withRateReset(err error, resp *httpclient.Response) error {
	if _, ok := connectors.RetryDelay(err); ok || resp.Status != http.StatusTooManyRequests {
		return err
	}
	if d, ok := retryWait(resp); ok {
		return connectors.RetryAfter(err, d)
	}
	return err
}

// id reads an id Pipedrive sent as a number, or as v1 does for related records, as an
// object whose value is the id ({"name": "Ann", "value": 12}).
type pdID int64

func (i *pdID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		v, err := n.Int64()
		*i = pdID(v)
		return err
	}
	var obj struct {
		Value *json.Number `json:"value"`
		ID    *json.Number `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("expected an id, got %s", httpclient.Snippet(b, 40))
	}
	src := obj.Value
	if src == nil {
		src = obj.ID
	}
	if src == nil {
		*i = 0
		return nil
	}
	v, err := src.Int64()
	*i = pdID(v)
	return err
}

// idempotencyMarker is what a lead or deal carries in origin_id so that a retry can find
// it: stable across the step's attempts, distinct for every step of every run.
func idempotencyMarker(call *connectors.Call) string {
	return "hookflow:" + call.IdempotencyKey
}

// inputInt reads an optional integer input that may arrive as a number or as digits in
// a string (rendered templates). ok is false when it is absent or empty.
func inputInt(input map[string]any, name string) (int64, bool, error) {
	v, present := input[name]
	if !present || v == nil {
		return 0, false, nil
	}
	if s, isString := v.(string); isString {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false, connectors.Permanent(fmt.Errorf("%s: %q is not an id", name, s))
		}
		return n, true, nil
	}
	n, ok := connectors.Int64(v)
	if !ok {
		return 0, false, connectors.Permanent(fmt.Errorf("%s: expected an integer id, got %s", name, connectors.JSONTypeOf(v)))
	}
	return n, true, nil
}

// inputString reads an optional string input, trimmed.
func inputString(input map[string]any, name string) string {
	s, _ := connectors.ScalarText(input[name])
	return strings.TrimSpace(s)
}

// customFieldsBody starts a request body with the custom_fields input: an object of
// Pipedrive's custom field keys (40-character hashes) and their values, which the action's
// own fields then complete.
func customFieldsBody(in map[string]any) (map[string]any, error) {
	body := map[string]any{}
	switch custom := in[inCustomFields].(type) {
	case nil:
	case map[string]any:
		for k, v := range custom {
			body[k] = v
		}
	default:
		return nil, connectors.Permanent(fmt.Errorf("%s: expected an object, got %s", inCustomFields, connectors.JSONTypeOf(custom)))
	}
	return body, nil
}

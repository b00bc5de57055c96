package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// api calls HubSpot's CRM API with one connection's token.
type api struct {
	hc     *httpclient.Client
	base   string // base_url without a trailing slash
	token  string
	redact func(string) string
}

// newAPI checks the connection and returns a client for it that logs to logger (nil:
// nowhere) and masks the token everywhere. Its errors are permanent: a retry cannot fix
// a connection.
func newAPI(conn *connectors.Connection, logger *slog.Logger) (*api, error) {
	if conn == nil {
		return nil, connectors.Permanent(errors.New("no hubspot connection: name a connection with the private app token"))
	}
	if err := validateConnection(conn.Config); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	base := conn.String(connBaseURL)
	if base == "" {
		base = BaseURLDefault
	}
	token := conn.String(connToken)
	secrets := append(conn.SecretValues(), token)
	return &api{
		hc:     client.WithLogger(logger).WithSecrets(secrets...),
		base:   strings.TrimRight(base, "/"),
		token:  token,
		redact: httpclient.SecretRedactor(secrets...),
	}, nil
}

// apiError is an answer HubSpot gave with its error body.
type apiError struct {
	// Op says what was asked ("create contact").
	Op     string
	Status int
	// Category is HubSpot's category (VALIDATION_ERROR, CONFLICT, INVALID_AUTHENTICATION…);
	// for a 429, errorType (RATE_LIMIT).
	Category string
	Message  string
	// Details are the messages of errors[], with the property they concern.
	Details []string
	// PolicyName is the rate limit a 429 hit: SECONDLY, TEN_SECONDLY_ROLLING or DAILY.
	PolicyName string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("hubspot %s failed with %d %s: %s", e.Op, e.Status, e.Category, e.Message)
	if len(e.Details) > 0 {
		msg += " (" + strings.Join(e.Details, "; ") + ")"
	}
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (the token was refused: check the connection's private app token)"
	case http.StatusForbidden:
		msg += " (the private app lacks a scope this call needs)"
	}
	return msg
}

// errorBody is HubSpot's error answer.
type errorBody struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	Category   string `json:"category"`
	ErrorType  string `json:"errorType"`
	PolicyName string `json:"policyName"`
	Errors     []struct {
		Message string              `json:"message"`
		Code    string              `json:"code"`
		Context map[string][]string `json:"context"`
	} `json:"errors"`
}

// do sends body (nil: none) as JSON to path and decodes a 2xx answer into out (nil:
// ignore it). op names the operation in errors. Errors follow the SDK's kinds: network
// errors, 5xx and 429 are retryable (429 after the wait HubSpot's headers give), other
// answers permanent. Every text in them has the token masked.
func (a *api) do(ctx context.Context, op, method, path string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return connectors.Permanent(fmt.Errorf("encode hubspot %s request: %w", op, err))
		}
		rd = bytes.NewReader(data)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, a.base+path, rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, a.base+path, nil)
	}
	if err != nil {
		return connectors.Permanent(fmt.Errorf("build hubspot %s request: %s", op, a.redact(err.Error())))
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("hubspot %s: %w", op, err) // already redacted; retryable
	}
	if resp.Status >= 200 && resp.Status <= 299 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return connectors.Permanent(fmt.Errorf("read hubspot %s answer (check the connection's base_url): %w", op, err))
		}
		return nil
	}
	return a.classify(op, resp)
}

// classify turns a non-2xx answer into the SDK's error kinds.
func (a *api) classify(op string, resp *httpclient.Response) error {
	var eb errorBody
	if err := json.Unmarshal(resp.Body, &eb); err != nil || eb.Message == "" {
		// Not HubSpot talking: a proxy's or gateway's page, or a wrong base_url.
		err := httpclient.Classify(resp)
		if resp.Status == http.StatusTooManyRequests {
			if d, ok := rateLimitWait(resp.Header, ""); ok {
				return connectors.RetryAfter(fmt.Errorf("hubspot %s: %w", op, err), d)
			}
		}
		return fmt.Errorf("hubspot %s: %w", op, err)
	}
	e := &apiError{Op: op, Status: resp.Status, Category: eb.Category, Message: a.redact(eb.Message), PolicyName: eb.PolicyName}
	if e.Category == "" {
		e.Category = eb.ErrorType
	}
	for _, d := range eb.Errors {
		text := d.Message
		if props := d.Context["propertyName"]; len(props) > 0 {
			text = strings.Join(props, ", ") + ": " + text
		}
		e.Details = append(e.Details, a.redact(text))
	}
	if resp.Status == http.StatusTooManyRequests {
		if d, ok := rateLimitWait(resp.Header, eb.PolicyName); ok {
			return connectors.RetryAfter(e, d)
		}
		return e
	}
	if httpclient.RetryableStatus(resp.Status) {
		return e
	}
	return connectors.Permanent(e)
}

// rateLimitWait is how long to wait after a 429: the Retry-After header when there is
// one, else what the policy that was hit and the X-HubSpot-RateLimit-* headers say.
func rateLimitWait(h http.Header, policy string) (time.Duration, bool) {
	if d, ok := httpclient.ParseRetryAfter(h.Get("Retry-After"), time.Now()); ok {
		return d, true
	}
	interval := 10 * time.Second
	if ms, err := strconv.ParseInt(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"), 10, 64); err == nil && ms > 0 {
		interval = min(time.Duration(ms)*time.Millisecond, httpclient.RetryAfterMax)
	}
	switch {
	case policy == "SECONDLY" || h.Get("X-HubSpot-RateLimit-Secondly-Remaining") == "0":
		return time.Second, true
	case policy == "TEN_SECONDLY_ROLLING" || h.Get("X-HubSpot-RateLimit-Remaining") == "0":
		return interval, true
	case policy == "DAILY" || h.Get("X-HubSpot-RateLimit-Daily-Remaining") == "0":
		// The daily limit resets at midnight in the account's time zone, which the API does
		// not say: wait as long as the SDK allows and let the step's retries do the rest.
		return httpclient.RetryAfterMax, true
	}
	return 0, false
}

// asAPIError returns the HubSpot error inside err, if any.
func asAPIError(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}

// existingID reads the id from a 409 "Contact already exists. Existing ID: 123": the
// only place HubSpot gives it.
var existingID = regexp.MustCompile(`Existing ID: *([0-9]+)`)

// object is a contact or deal as HubSpot returns it.
type object struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
}

// props returns the properties with HubSpot's nulls as absent.
func (o *object) props() map[string]any {
	out := map[string]any{}
	for k, v := range o.Properties {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// filter is one condition of a search.
type filter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value,omitempty"`
}

// searchRequest is the body of POST /crm/v3/objects/{type}/search.
type searchRequest struct {
	FilterGroups []filterGroup `json:"filterGroups,omitempty"`
	Sorts        []sortSpec    `json:"sorts,omitempty"`
	Properties   []string      `json:"properties,omitempty"`
	Limit        int           `json:"limit"`
	After        string        `json:"after,omitempty"`
}

type filterGroup struct {
	Filters []filter `json:"filters"`
}

type sortSpec struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

// searchResult is the search answer; Paging is nil on the last page.
type searchResult struct {
	Total   int      `json:"total"`
	Results []object `json:"results"`
	Paging  *struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// search runs one search page over objects ("contacts", "deals").
func (a *api) search(ctx context.Context, objects string, req searchRequest) (*searchResult, error) {
	var res searchResult
	if err := a.do(ctx, "search "+objects, http.MethodPost, "/crm/v3/objects/"+objects+"/search", req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// findOne returns the oldest object matching every filter, nil when none does.
func (a *api) findOne(ctx context.Context, objects string, properties []string, filters ...filter) (*object, error) {
	res, err := a.search(ctx, objects, searchRequest{
		FilterGroups: []filterGroup{{Filters: filters}},
		Sorts:        []sortSpec{{PropertyName: "createdate", Direction: "ASCENDING"}},
		Properties:   properties,
		Limit:        1,
	})
	if err != nil || len(res.Results) == 0 {
		return nil, err
	}
	return &res.Results[0], nil
}

// propertyText writes a property value as HubSpot stores it: text.
func propertyText(v any) (string, bool) {
	if s, ok := connectors.ScalarText(v); ok {
		return s, true
	}
	if n, ok := connectors.Int64(v); ok {
		return strconv.FormatInt(n, 10), true
	}
	switch f := v.(type) {
	case float64:
		return strconv.FormatFloat(f, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(f), 'f', -1, 32), true
	}
	return "", false
}

// freeProperties reads a properties input: an object of property names to scalar values.
func freeProperties(v any) (map[string]string, error) {
	out := map[string]string{}
	if v == nil {
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, connectors.Permanent(fmt.Errorf("properties must be an object, got %s", connectors.JSONTypeOf(v)))
	}
	for k, val := range m {
		if !propertyName.MatchString(k) {
			return nil, connectors.Permanent(fmt.Errorf("properties: %q is not a HubSpot property's internal name (lower-case letters, digits and _)", k))
		}
		if val == nil {
			continue
		}
		s, ok := propertyText(val)
		if !ok {
			return nil, connectors.Permanent(fmt.Errorf("properties: %s must be text, a number or a boolean, got %s", k, connectors.JSONTypeOf(val)))
		}
		out[k] = s
	}
	return out, nil
}

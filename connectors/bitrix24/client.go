package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// QueryLimitWait is how long to wait after QUERY_LIMIT_EXCEEDED. Bitrix24 sends no
// Retry-After; its bucket drains 2 requests a second, so a second frees room for a call
// or two without hammering a portal other programs share.
const QueryLimitWait = time.Second

// Error codes the client branches on.
const (
	codeQueryLimit    = "QUERY_LIMIT_EXCEEDED"
	codeTimeLimit     = "OPERATION_TIME_LIMIT"
	codeInvalidCreds  = "INVALID_CREDENTIALS"
	codeExpiredToken  = "expired_token"
	codeNoAuth        = "NO_AUTH_FOUND"
	codeScope         = "insufficient_scope"
	codeMethodMissing = "ERROR_METHOD_NOT_FOUND"
)

// restAPI calls REST methods through one connection's inbound webhook.
type restAPI struct {
	hc             *httpclient.Client
	base           string // the webhook URL, ending in "/"
	defaultCountry string
	redact         func(string) string
}

// newAPI checks the connection and returns a client for it that logs to logger (nil:
// nowhere) and masks the webhook URL and its code everywhere. Its errors are permanent:
// a retry cannot fix a connection.
func newAPI(conn *connectors.Connection, logger *slog.Logger) (*restAPI, error) {
	if conn == nil {
		return nil, connectors.Permanent(errors.New("no bitrix24 connection: name a connection with the portal's inbound webhook URL"))
	}
	if err := validateConnection(conn.Config); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	base, code, err := parseWebhookURL(conn.String(connWebhookURL))
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	// The normalised URL and the bare code are masked too: either can show in a
	// request's URL without the URL as the user typed it.
	secrets := append(conn.SecretValues(), base, code)
	return &restAPI{
		hc:             client.WithLogger(logger).WithSecrets(secrets...),
		base:           base,
		defaultCountry: conn.String(connectors.DefaultCountryField.Name),
		redact:         httpclient.SecretRedactor(secrets...),
	}, nil
}

// envelope is Bitrix24's answer: result (with next and total for lists) or error.
type envelope struct {
	Result           json.RawMessage `json:"result"`
	Next             *int            `json:"next"`
	Total            *int            `json:"total"`
	Error            *string         `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// apiError is a call Bitrix24 answered with an error.
type apiError struct {
	Method      string
	Status      int
	Code        string // the "error" key; "" for the permission case
	Description string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("bitrix24 %s failed with %d", e.Method, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	switch e.Code {
	case codeInvalidCreds, codeNoAuth:
		msg += " (the inbound webhook was refused: check the connection's webhook_url and that the webhook still exists)"
	case codeExpiredToken:
		msg += " (the access token expired: make a new inbound webhook)"
	case codeScope:
		msg += " (give the inbound webhook the crm permission)"
	case codeMethodMissing:
		msg += " (check the connection's webhook_url)"
	case "":
		if e.Status == http.StatusBadRequest || e.Status == http.StatusForbidden {
			msg += " (the webhook's user lacks the permission in the CRM, or the webhook lacks the crm scope)"
		}
	}
	return msg
}

// call sends method with params as a JSON body and returns the answer of a successful
// call. Errors follow the SDK's kinds: network errors, 5xx, 429 and
// QUERY_LIMIT_EXCEEDED are retryable, other errors permanent. Every text in them has the
// webhook masked.
func (a *restAPI) call(ctx context.Context, method string, params any) (*envelope, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("encode bitrix24 %s parameters: %w", method, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+method+".json", bytes.NewReader(body))
	if err != nil {
		// url.Error would quote the URL, webhook code included.
		return nil, connectors.Permanent(fmt.Errorf("build bitrix24 %s request: %s", method, a.redact(err.Error())))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.hc.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("call bitrix24 %s: %w", method, err) // already redacted; retryable
	}
	var env envelope
	if jerr := json.Unmarshal(resp.Body, &env); jerr != nil || (env.Error == nil && env.Result == nil) {
		// Not Bitrix24 talking: a proxy's page, or a wrong address.
		if cerr := httpclient.Classify(resp); cerr != nil {
			return nil, fmt.Errorf("call bitrix24 %s: %w", method, cerr)
		}
		return nil, connectors.Permanent(fmt.Errorf("call bitrix24 %s: the answer is not a Bitrix24 REST response (check the connection's webhook_url): %s",
			method, a.redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes))))
	}
	if env.Error != nil || resp.Status < 200 || resp.Status > 299 {
		e := &apiError{Method: method, Status: resp.Status, Description: a.redact(env.ErrorDescription)}
		if env.Error != nil {
			e.Code = a.redact(*env.Error)
		}
		return nil, classify(e, resp)
	}
	return &env, nil
}

// classify turns an error answer into the SDK's kinds. Bitrix24 says "wait" without a
// Retry-After, so QUERY_LIMIT_EXCEEDED waits QueryLimitWait.
func classify(e *apiError, resp *httpclient.Response) error {
	retryAfter, hasRetryAfter := httpclient.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	switch {
	case hasRetryAfter && (e.Code == codeQueryLimit || httpclient.RetryableStatus(e.Status)):
		return connectors.RetryAfter(e, retryAfter)
	case e.Code == codeQueryLimit:
		return connectors.RetryAfter(e, QueryLimitWait)
	case e.Code == codeTimeLimit || httpclient.RetryableStatus(e.Status):
		return e
	}
	return connectors.Permanent(e)
}

// list calls a list method once per page, following next, until it has maxItems items
// or there are no more pages. It returns the items and whether more were left.
func (a *restAPI) list(ctx context.Context, method string, params map[string]any, maxItems int) ([]map[string]any, bool, error) {
	var out []map[string]any
	start := 0
	for {
		params["start"] = start
		env, err := a.call(ctx, method, params)
		if err != nil {
			return nil, false, err
		}
		var page []map[string]any
		if err := decodeResult(env.Result, &page); err != nil {
			return nil, false, connectors.Permanent(fmt.Errorf("read bitrix24 %s result: %w", method, err))
		}
		out = append(out, page...)
		if env.Next == nil || *env.Next <= start || len(page) == 0 {
			return out, false, nil
		}
		if len(out) >= maxItems {
			return out, true, nil
		}
		start = *env.Next
	}
}

// decodeResult decodes a result keeping numbers exact.
func decodeResult(raw json.RawMessage, out any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(out)
}

// intResult reads a result that is an id: Bitrix24 sends numbers, and strings in places.
func intResult(raw json.RawMessage) (int64, error) {
	var v any
	if err := decodeResult(raw, &v); err != nil {
		return 0, err
	}
	if id, ok := idOf(v); ok {
		return id, nil
	}
	return 0, fmt.Errorf("result %s is not an id", httpclient.Snippet(raw, 40))
}

// idOf reads an id given as a number or a string.
func idOf(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	case float64:
		return int64(x), x == float64(int64(x))
	case int64:
		return x, true
	}
	return 0, false
}

// findByComm returns the ids of entityType records (CONTACT, LEAD, COMPANY) with the
// phone or email (typ PHONE or EMAIL), lowest first.
func (a *restAPI) findByComm(ctx context.Context, entityType, typ, value string) ([]int64, error) {
	env, err := a.call(ctx, "crm.duplicate.findbycomm", map[string]any{
		"entity_type": entityType, "type": typ, "values": []string{value}})
	if err != nil {
		return nil, err
	}
	// Nothing found is an empty list ([]), PHP's empty array; a match is an object
	// keyed by entity type.
	var found map[string][]any
	if err := decodeResult(env.Result, &found); err != nil {
		var none []any
		if lerr := decodeResult(env.Result, &none); lerr == nil && len(none) == 0 {
			return nil, nil
		}
		return nil, connectors.Permanent(fmt.Errorf("read bitrix24 crm.duplicate.findbycomm result: %w", err))
	}
	var ids []int64
	for _, v := range found[entityType] {
		if id, ok := idOf(v); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

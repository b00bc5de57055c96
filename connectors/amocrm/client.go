package amocrm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// rateLimitWait is how long to wait after a 429: amoCRM sends no Retry-After, and the
// official SDK backs off about a second.
const rateLimitWait = time.Second

// api calls amoCRM API v4 with one connection's token.
type api struct {
	hc      *httpclient.Client
	base    string // the account's address without a trailing slash
	token   string
	country string
	limit   *limiter
	redact  func(string) string
}

// newAPI checks the connection and returns a client for it that logs to logger (nil:
// nowhere) and masks the token everywhere. Its errors are permanent: a retry cannot fix
// a connection.
func newAPI(conn *connectors.Connection, logger *slog.Logger) (*api, error) {
	if conn == nil {
		return nil, connectors.Permanent(errors.New("no amocrm connection: name a connection with the account and its token"))
	}
	if err := validateConnection(conn.Config); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	token := conn.String(connToken)
	if token == "" {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: the token is empty", conn.Name))
	}
	base := conn.String(connBaseURL)
	if base == "" {
		base = "https://" + conn.String(connSubdomain) + ".amocrm.ru"
	}
	secrets := append(conn.SecretValues(), token)
	return &api{
		hc:      client.WithLogger(logger).WithSecrets(secrets...),
		base:    strings.TrimRight(base, "/"),
		token:   token,
		country: conn.String(connCountry),
		limit:   limiterFor(token),
		redact:  httpclient.SecretRedactor(secrets...),
	}, nil
}

// apiError is a request amoCRM refused, with its problem+json details.
type apiError struct {
	Method string
	Path   string
	Status int
	Title  string
	Detail string
	// Fields are the validation errors, each with the path amoCRM reports.
	Fields []fieldError
}

// fieldError is one entry of validation-errors[].errors.
type fieldError struct {
	Code   string `json:"code"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "amocrm %s %s answered %d", e.Method, e.Path, e.Status)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s: %s", f.Path, f.Detail)
		if f.Code != "" {
			fmt.Fprintf(&b, " (%s)", f.Code)
		}
	}
	switch e.Status {
	case http.StatusUnauthorized:
		b.WriteString(" (the token was refused: check the connection's token, or whether it expired or was revoked)")
	case http.StatusPaymentRequired:
		b.WriteString(" (the account is not paid)")
	case http.StatusForbidden:
		b.WriteString(" (the account or this IP is blocked, or the token's user lacks the rights)")
	}
	return b.String()
}

// problemJSON is amoCRM's error body.
type problemJSON struct {
	Title            string `json:"title"`
	Detail           string `json:"detail"`
	ValidationErrors []struct {
		RequestID any          `json:"request_id"`
		Errors    []fieldError `json:"errors"`
	} `json:"validation-errors"`
}

// get sends a GET and decodes a 200 answer into out. found is false for 204, amoCRM's
// answer for an empty list or a missing entity.
func (a *api) get(ctx context.Context, path string, query url.Values, out any) (found bool, err error) {
	return a.do(ctx, http.MethodGet, path, query, nil, "", out)
}

// idempotencyHeader carries the step's idempotency key on writes, for logs and proxies;
// amoCRM reads request_id in the body instead. It must not be Idempotency-Key: Go's
// transport takes that header as leave to re-send a POST by itself when a reused
// connection drops, and amoCRM, which ignores it, would create the lead twice.
const idempotencyHeader = "X-Hookflow-Idempotency-Key"

// post sends body as JSON and decodes the answer into out. idempotencyKey, when set, goes
// in idempotencyHeader.
func (a *api) post(ctx context.Context, path string, body any, idempotencyKey string, out any) error {
	_, err := a.do(ctx, http.MethodPost, path, nil, body, idempotencyKey, out)
	return err
}

func (a *api) do(ctx context.Context, method, path string, query url.Values, body any, idempotencyKey string, out any) (bool, error) {
	var reader *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return false, connectors.Permanent(fmt.Errorf("encode amocrm %s %s: %w", method, path, err))
		}
		reader = bytes.NewReader(data)
	}
	endpoint := a.base + path
	if len(query) > 0 {
		endpoint += "?" + query.Encode()
	}
	var req *http.Request
	var err error
	if reader != nil {
		req, err = http.NewRequestWithContext(ctx, method, endpoint, reader)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, endpoint, nil)
	}
	if err != nil {
		return false, connectors.Permanent(fmt.Errorf("build amocrm %s %s request: %s", method, path, a.redact(err.Error())))
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/hal+json, application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set(idempotencyHeader, idempotencyKey)
	}
	if err := a.limit.wait(ctx); err != nil {
		return false, fmt.Errorf("wait for amocrm's rate limit before %s %s: %w", method, path, err)
	}
	resp, err := a.hc.Do(ctx, req)
	if err != nil {
		return false, fmt.Errorf("call amocrm %s %s: %w", method, path, err) // already redacted; retryable
	}
	switch {
	case resp.Status == http.StatusNoContent:
		return false, nil
	case resp.Status >= 200 && resp.Status <= 299:
		if out == nil {
			return true, nil
		}
		if err := json.Unmarshal(resp.Body, out); err != nil {
			// A 2xx we cannot read: for a write, it may have been applied.
			return false, connectors.Permanent(fmt.Errorf("read amocrm %s %s answer (check the connection's address): %s",
				method, path, a.redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes))))
		}
		return true, nil
	}
	return false, a.classify(method, path, resp)
}

// classify turns a non-2xx answer into the SDK's error kinds: 429 waits (Retry-After if
// sent, else a second), 408 and 5xx are retryable, the rest permanent with amoCRM's
// detail and validation paths.
func (a *api) classify(method, path string, resp *httpclient.Response) error {
	e := &apiError{Method: method, Path: path, Status: resp.Status}
	var p problemJSON
	if json.Unmarshal(resp.Body, &p) == nil && (p.Title != "" || p.Detail != "" || len(p.ValidationErrors) > 0) {
		e.Title = a.redact(p.Title)
		e.Detail = a.redact(p.Detail)
		for _, v := range p.ValidationErrors {
			for _, f := range v.Errors {
				f.Detail, f.Path = a.redact(f.Detail), a.redact(f.Path)
				e.Fields = append(e.Fields, f)
			}
		}
	} else {
		// The 429 page and gateways' pages are not JSON.
		e.Title = http.StatusText(resp.Status)
		if s := httpclient.Snippet(resp.Body, httpclient.SnippetBytes); s != "" && resp.Status != http.StatusTooManyRequests {
			e.Detail = a.redact(s)
		}
	}
	if resp.Status == http.StatusTooManyRequests {
		d := rateLimitWait
		if ra, ok := httpclient.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			d = ra
		}
		return connectors.RetryAfter(e, d)
	}
	if httpclient.RetryableStatus(resp.Status) {
		if ra, ok := httpclient.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return connectors.RetryAfter(e, ra)
		}
		return e
	}
	return connectors.Permanent(e)
}

// asAPIError returns the amoCRM error inside err, if any.
func asAPIError(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}

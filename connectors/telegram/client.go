package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// botAPI calls Bot API methods with one connection's token.
type botAPI struct {
	hc     *httpclient.Client
	base   string // base_url without a trailing slash
	token  string
	redact func(string) string
}

// newBotAPI checks the connection and returns a client for it that logs to logger (nil:
// nowhere) and masks the token everywhere. Its errors are permanent: a retry cannot fix
// a connection.
func newBotAPI(conn *connectors.Connection, logger *slog.Logger) (*botAPI, error) {
	if conn == nil {
		return nil, connectors.Permanent(errors.New("no telegram connection: name a connection with the bot's token"))
	}
	if err := validateConnection(conn.Config); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	token := conn.String(connToken)
	base := conn.String(connBaseURL)
	if base == "" {
		base = BaseURLDefault
	}
	// The token is added even if the connection does not list it as secret: it is in
	// every URL.
	secrets := append(conn.SecretValues(), token)
	return &botAPI{
		hc:     client.WithLogger(logger).WithSecrets(secrets...),
		base:   strings.TrimRight(base, "/"),
		token:  token,
		redact: httpclient.SecretRedactor(secrets...),
	}, nil
}

// withTimeout returns a copy whose requests may take d, for long polls.
func (b *botAPI) withTimeout(d time.Duration) *botAPI {
	out := *b
	out.hc = b.hc.WithTimeout(d)
	return &out
}

// envelope is the Bot API's answer to every method.
type envelope struct {
	OK          *bool           `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// apiError is a call the Bot API answered with "ok": false.
type apiError struct {
	Method      string
	Code        int // error_code, or the HTTP status when the body has none
	Description string
	// RetryAfter is parameters.retry_after in seconds (429).
	RetryAfter int
	// MigrateToChatID is parameters.migrate_to_chat_id: the group became this supergroup.
	MigrateToChatID int64
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("telegram %s failed with %d: %s", e.Method, e.Code, e.Description)
	switch e.Code {
	case http.StatusUnauthorized:
		msg += " (the bot token was refused: check the connection's token, or whether it was revoked with @BotFather)"
	case http.StatusNotFound:
		msg += " (check the connection's base_url and token)"
	}
	return msg
}

// call sends method with params as a JSON body and decodes the result into out (nil:
// ignore it). Errors follow the SDK's kinds: network errors, 5xx and 429 are
// retryable (429 with the wait Telegram asked for), other answers permanent. Every text
// in them has the token masked.
func (b *botAPI) call(ctx context.Context, method string, params any, out any) error {
	env, err := b.do(ctx, method, params)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return connectors.Permanent(fmt.Errorf("read telegram %s result: %w", method, err))
	}
	return nil
}

// callDescribed is call for methods whose result is just true and whose description
// says what happened ("Webhook was set").
func (b *botAPI) callDescribed(ctx context.Context, method string, params any, description *string) error {
	env, err := b.do(ctx, method, params)
	if err != nil {
		return err
	}
	*description = b.redact(env.Description)
	return nil
}

// do sends method and returns the envelope of a successful call.
func (b *botAPI) do(ctx context.Context, method string, params any) (*envelope, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("encode telegram %s parameters: %w", method, err))
	}
	endpoint := b.base + "/bot" + b.token + "/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		// url.Error would quote the URL, token included.
		return nil, connectors.Permanent(fmt.Errorf("build telegram %s request: %s", method, b.redact(err.Error())))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.hc.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("call telegram %s: %w", method, err) // already redacted; retryable
	}
	var env envelope
	if jerr := json.Unmarshal(resp.Body, &env); jerr != nil || env.OK == nil {
		// Not the Bot API talking: a proxy's or gateway's page, or a wrong base_url.
		if cerr := httpclient.Classify(resp); cerr != nil {
			return nil, fmt.Errorf("call telegram %s: %w", method, cerr)
		}
		// A 2xx we cannot read: for sendMessage the message may have been sent, so a
		// retry could post it twice.
		return nil, connectors.Permanent(fmt.Errorf("call telegram %s: the answer is not a Bot API response (check the connection's base_url): %s",
			method, b.redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes))))
	}
	if !*env.OK {
		return nil, b.classify(method, resp, &env)
	}
	return &env, nil
}

// classify turns an "ok": false answer into the SDK's error kinds.
func (b *botAPI) classify(method string, resp *httpclient.Response, env *envelope) error {
	e := &apiError{
		Method:          method,
		Code:            env.ErrorCode,
		Description:     b.redact(env.Description),
		RetryAfter:      env.Parameters.RetryAfter,
		MigrateToChatID: env.Parameters.MigrateToChatID,
	}
	if e.Code == 0 {
		e.Code = resp.Status
	}
	if e.Description == "" {
		e.Description = http.StatusText(e.Code)
	}
	if e.Code != http.StatusTooManyRequests && !httpclient.RetryableStatus(e.Code) {
		return connectors.Permanent(e)
	}
	// Telegram sends the wait both in parameters.retry_after and in Retry-After; the body
	// is the documented one.
	if e.RetryAfter > 0 {
		return connectors.RetryAfter(e, min(time.Duration(e.RetryAfter)*time.Second, httpclient.RetryAfterMax))
	}
	if d, ok := httpclient.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return connectors.RetryAfter(e, d)
	}
	return e
}

// asAPIError returns the Bot API error inside err, if any.
func asAPIError(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}

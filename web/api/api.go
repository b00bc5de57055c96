// Package api holds the /api/v1 JSON handlers. Each handler binds its input, calls one
// engine method and renders the result; errors go through one envelope,
// {"error": {"code", "message", "details"}}, with a fitting status.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

// BodyLimitDefault caps API request bodies; a workflow document is far smaller.
const BodyLimitDefault = 1 << 20

// Handler serves the REST API.
type Handler struct {
	Engine *engine.Engine
	// BaseURL prefixes webhook URLs; empty means the request's own scheme and host.
	BaseURL string
	Logger  *slog.Logger

	authOnce sync.Once
	auth     *authGuard
}

// Error codes of the envelope.
const (
	CodeBadRequest           = "bad_request"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeConflict             = "conflict"
	CodeTooLarge             = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeHeadersTooLarge      = "headers_too_large"
	CodeTimeout              = "request_timeout"
	CodeValidation           = "validation_failed"
	CodeRateLimited          = "rate_limited"
	CodeUnavailable          = "unavailable"
	CodeUpstream             = "upstream_error"
	CodeInternal             = "internal"
)

// ErrorBody is the error envelope.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one failed request.
type ErrorDetail struct {
	Code    string                `json:"code"`
	Message string                `json:"message"`
	Details []workflow.FieldError `json:"details,omitempty"`
	// Problems locate what is wrong in an uploaded connector file: path, line, column.
	Problems []engine.FileProblem `json:"problems,omitempty"`
}

// Abort answers with the error envelope and stops the handler chain.
func Abort(c *gin.Context, status int, code, message string, details ...workflow.FieldError) {
	c.Abort()
	c.PureJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: message, Details: details}})
}

// fail maps an engine error onto the envelope. Unexpected errors are logged and answered
// with a generic message, so internals never leak to clients.
func (h *Handler) fail(c *gin.Context, err error) {
	var invalid *workflow.ValidationError
	var tooLarge *http.MaxBytesError
	var badFile *engine.ConnectorFileError
	switch {
	case errors.As(err, &badFile):
		details := make([]workflow.FieldError, len(badFile.Problems))
		for i, p := range badFile.Problems {
			msg := p.Message
			if p.Line > 0 {
				msg = fmt.Sprintf("line %d, column %d: %s", p.Line, p.Column, p.Message)
			}
			details[i] = workflow.FieldError{Path: p.Path, Message: msg}
		}
		c.Abort()
		c.PureJSON(http.StatusUnprocessableEntity, ErrorBody{Error: ErrorDetail{Code: CodeValidation,
			Message: fmt.Sprintf("the connector file has %d problem(s)", len(badFile.Problems)), Details: details, Problems: badFile.Problems}})
	case errors.As(err, &invalid):
		Abort(c, http.StatusUnprocessableEntity, CodeValidation,
			fmt.Sprintf("%d problem(s) found", len(invalid.Errors)), invalid.Errors...)
	case errors.As(err, &tooLarge):
		Abort(c, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
	case errors.Is(err, engine.ErrNotFound):
		Abort(c, http.StatusNotFound, CodeNotFound, "not found")
	case errors.Is(err, engine.ErrConflict):
		Abort(c, http.StatusConflict, CodeConflict, conflictMessage(err))
	case errors.Is(err, engine.ErrUpstream):
		Abort(c, http.StatusBadGateway, CodeUpstream, err.Error())
	case errors.Is(err, engine.ErrForbidden):
		Abort(c, http.StatusForbidden, CodeForbidden, strings.TrimPrefix(err.Error(), engine.ErrForbidden.Error()+": "))
	case errors.Is(err, engine.ErrUnauthorized):
		Abort(c, http.StatusUnauthorized, CodeUnauthorized, "missing or invalid API token")
	case errors.Is(err, engine.ErrForbidden):
		Abort(c, http.StatusForbidden, CodeForbidden, "your role does not allow this")
	default:
		h.Logger.Error("API request failed", slog.String("method", c.Request.Method),
			slog.String("path", c.FullPath()), slog.Any("err", err))
		Abort(c, http.StatusInternalServerError, CodeInternal, "internal error; see the server log")
	}
}

// conflictMessage keeps the engine's explanation (which workflows use a connection)
// without the wrapping prefixes.
func conflictMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "conflict: "); i >= 0 {
		return msg[i+len("conflict: "):]
	}
	return msg
}

// readBody reads a JSON request body up to the limit, answering 413 or 400 itself when it
// cannot. ok is false when the request was answered.
func (h *Handler) readBody(c *gin.Context) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, BodyLimitDefault))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			Abort(c, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
			return nil, false
		}
		Abort(c, http.StatusBadRequest, CodeBadRequest, "cannot read request body")
		return nil, false
	}
	if !json.Valid(body) {
		Abort(c, http.StatusBadRequest, CodeBadRequest, "request body is not valid JSON: "+jsonErrorMessage(body))
		return nil, false
	}
	// Go keeps the last of two equal keys and other parsers the first: refuse the
	// ambiguity rather than save what the sender may not have meant.
	if err := workflow.CheckDuplicateKeys(body); err != nil {
		Abort(c, http.StatusBadRequest, CodeBadRequest, "request body has a "+err.Error())
		return nil, false
	}
	return body, true
}

func jsonErrorMessage(body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
		}
		return err.Error()
	}
	return "unexpected data"
}

// bindJSON decodes a JSON body into dst, answering the error itself. ok is false when the
// request was answered.
func (h *Handler) bindJSON(c *gin.Context, dst any) bool {
	body, ok := h.readBody(c)
	if !ok {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		Abort(c, http.StatusBadRequest, CodeBadRequest, "invalid request body: "+err.Error())
		return false
	}
	return true
}

// webhookURL is the public address of a workflow's webhook.
func (h *Handler) webhookURL(c *gin.Context, token string) string {
	return WebhookURL(h.BaseURL, c.Request, token)
}

// WebhookURL builds a webhook address from the configured base URL or, when none is
// set, from the request.
func WebhookURL(base string, r *http.Request, token string) string {
	return PublicBase(base, r) + "/hooks/" + token
}

// PublicBase is the configured public base URL or, when none is set, the request's own
// scheme and host; it has no trailing slash.
func PublicBase(base string, r *http.Request) string {
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimRight(base, "/")
}

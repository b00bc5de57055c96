package api

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

const userKey = "hookflow.user"

// guard returns the Handler's authGuard, made on first use since Handler is built as a
// literal.
func (h *Handler) guard() *authGuard {
	h.authOnce.Do(func() { h.auth = newAuthGuard(nil) })
	return h.auth
}

// RequireToken authenticates API requests with "Authorization: Bearer <token>" and puts
// the token's user on the request context as the engine's actor: what the user may do is
// the engine's service methods' decision (ErrForbidden, answered 403), not this
// middleware's, so the API, the UI and the CLI cannot disagree. A client address that keeps failing is
// refused with 429 for a growing pause before its tokens are checked again.
func (h *Handler) RequireToken(c *gin.Context) {
	// The TCP peer, never a forwarding header a client could vary to dodge the pause.
	addr := c.RemoteIP()
	if wait := h.guard().blocked(addr); wait > 0 {
		h.Engine.CountAuthFailure("throttled")
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		Abort(c, http.StatusTooManyRequests, CodeRateLimited, "too many failed authentications from this address; retry later")
		return
	}
	auth := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		h.authFailed(c, addr, "missing")
		c.Header("WWW-Authenticate", `Bearer realm="hookflow"`)
		Abort(c, http.StatusUnauthorized, CodeUnauthorized, "missing API token: send Authorization: Bearer <token>")
		return
	}
	u, err := h.Engine.Authenticate(c.Request.Context(), strings.TrimSpace(token))
	if errors.Is(err, engine.ErrUnauthorized) {
		h.authFailed(c, addr, "invalid")
		c.Header("WWW-Authenticate", `Bearer realm="hookflow", error="invalid_token"`)
		Abort(c, http.StatusUnauthorized, CodeUnauthorized, "invalid API token")
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Set(userKey, u)
	c.Request = c.Request.WithContext(engine.WithActor(c.Request.Context(),
		&engine.Actor{UserID: u.ID, Email: u.Email, Role: u.Role, Via: "api", Addr: addr}))
	c.Next()
}

// authFailed counts a failed authentication and logs it, sampled: the first failure of an
// address in each window, and each pause it starts.
func (h *Handler) authFailed(c *gin.Context, addr, reason string) {
	h.Engine.CountAuthFailure(reason)
	first, block := h.guard().failed(addr)
	if first || block > 0 {
		h.Logger.Warn("API authentication failed", slog.String("client", addr), slog.String("reason", reason),
			slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path), slog.Duration("paused_for", block))
	}
}

package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

// tokenCreate is the body of POST /api/v1/tokens.
type tokenCreate struct {
	Name string `json:"name"`
	// UserID makes a token for another user (admins); empty means the caller's own.
	UserID string `json:"user_id"`
	// ExpiresIn is a Go duration ("720h"); ExpiresAt an RFC 3339 time. At most one.
	ExpiresIn string     `json:"expires_in"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// tokenCreated is a new token with the token itself, shown this once.
type tokenCreated struct {
	*engine.Token
	Secret string `json:"token"`
}

// CreateToken handles POST /api/v1/tokens: 201 with the token in "token", which is never
// shown again.
func (h *Handler) CreateToken(c *gin.Context) {
	var in tokenCreate
	if !h.bindJSON(c, &in) {
		return
	}
	ti := engine.TokenInput{UserID: in.UserID, Name: in.Name, ExpiresAt: in.ExpiresAt}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil {
			h.fail(c, &workflow.ValidationError{Errors: []workflow.FieldError{
				{Path: "expires_in", Message: fmt.Sprintf("%q is not a duration such as 720h", in.ExpiresIn)}}})
			return
		}
		ti.ExpiresIn = d
	}
	t, token, err := h.Engine.CreateAPIToken(c.Request.Context(), ti)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusCreated, tokenCreated{Token: t, Secret: token})
}

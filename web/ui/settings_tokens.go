package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// tokenExpiries are the choices of a new token's lifetime, in days; 0 is "never".
var tokenExpiries = []int{0, 7, 30, 90, 365}

// tokensPage is the data of the API tokens page: the user's own tokens, or an admin's
// view of everyone's, and the token just made, shown this once.
type tokensPage struct {
	settingsHeader
	// All is true when the list holds every user's tokens (admins).
	All     bool
	Tokens  []tokenRow
	Created *createdToken
	// Name and Days are the form's values.
	Name     string
	Days     int
	Expiries []int
	Errors   formErrors
}

// tokenRow is one token on the list; State is "active", "expired" or "revoked".
type tokenRow struct {
	engine.Token
	State string
}

// createdToken is a token just made: its secret is on this one page and nowhere else.
type createdToken struct {
	Name   string
	Secret string
}

func init() { addBuiltKeys("tokens.state.", "active", "expired", "revoked") }

// newTokensPage lists the tokens; on an error it has answered and returns nil.
func (h *Handler) newTokensPage(c *gin.Context, v *view) *tokensPage {
	p := &tokensPage{settingsHeader: settingsHeader{Tab: "tokens"}, All: v.Can(engine.RoleAdmin), Days: 90, Expiries: tokenExpiries}
	ts, err := h.engine.ListTokens(c.Request.Context(), engine.TokenFilter{All: p.All})
	if err != nil {
		h.fail(c, v, err)
		return nil
	}
	now := time.Now()
	for _, t := range ts {
		row := tokenRow{Token: t, State: "active"}
		switch {
		case t.RevokedAt != nil:
			row.State = "revoked"
		case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
			row.State = "expired"
		}
		p.Tokens = append(p.Tokens, row)
	}
	v.Data = p
	return p
}

// tokenList shows the API tokens: never a token itself, only its last characters.
func (h *Handler) tokenList(c *gin.Context, v *view) {
	if h.newTokensPage(c, v) == nil {
		return
	}
	h.render(c, http.StatusOK, "settings_tokens", v)
}

// tokenCreate makes an API token for the signed-in user and shows it once, on the page
// this answer is; reloading the list never shows it again.
func (h *Handler) tokenCreate(c *gin.Context, v *view) {
	name := strings.TrimSpace(c.PostForm("name"))
	days, _ := strconv.Atoi(c.PostForm("expires_days"))
	if !slices.Contains(tokenExpiries, days) {
		days = 0
	}
	in := engine.TokenInput{Name: name}
	if days > 0 {
		in.ExpiresIn = time.Duration(days) * 24 * time.Hour
	}
	problems := formErrors{Fields: map[string]string{}}
	status := http.StatusUnprocessableEntity
	var created *createdToken
	if name == "" {
		problems.Fields["name"] = v.T("tokens.error.name")
	} else {
		_, secret, err := h.engine.CreateAPIToken(c.Request.Context(), in)
		if pr, ok := validationProblems(err, "name"); ok {
			problems = pr
		} else if err != nil {
			h.fail(c, v, err)
			return
		} else {
			created, status = &createdToken{Name: name, Secret: secret}, http.StatusOK
		}
	}
	p := h.newTokensPage(c, v)
	if p == nil {
		return
	}
	p.Created, p.Errors = created, problems
	if created == nil {
		p.Name, p.Days = name, days
	}
	h.render(c, status, "settings_tokens", v)
}

// tokenRevoke revokes a token: it stops working at once and stays listed, marked.
func (h *Handler) tokenRevoke(c *gin.Context, v *view) {
	if _, err := h.engine.RevokeToken(c.Request.Context(), c.Param("id")); err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/settings/tokens", "token_revoked")
}

package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// userCreate is the body of POST /api/v1/users.
type userCreate struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

// CreateUser handles POST /api/v1/users (admins): {"email", "password", "role"}; the role
// defaults to viewer here, the least a new account may do.
func (h *Handler) CreateUser(c *gin.Context) {
	var in userCreate
	if !h.bindJSON(c, &in) {
		return
	}
	if in.Role == "" {
		in.Role = "viewer"
	}
	u, err := h.Engine.CreateUser(c.Request.Context(), in.Email, in.Password, in.Role)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/users/"+u.ID)
	c.PureJSON(http.StatusCreated, u)
}

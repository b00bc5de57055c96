package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// roles are the choices of a user's role, most powerful first.
var roles = []string{engine.RoleAdmin, engine.RoleEditor, engine.RoleViewer}

// usersPage is the data of the users page (admins only: the engine refuses the others).
type usersPage struct {
	settingsHeader
	Users []engine.User
	Roles []string
	// Email and Role are the new user form's values.
	Email  string
	Role   string
	Errors formErrors
	// RowError says why a change to the user RowUser failed.
	RowError string
	RowUser  string
}

// MinPassword is the shortest password accepted.
func (usersPage) MinPassword() int { return engine.PasswordMinLength }

// newUsersPage lists the users; on an error (a non-admin: 403) it has answered and
// returns nil.
func (h *Handler) newUsersPage(c *gin.Context, v *view) *usersPage {
	us, err := h.engine.ListUsers(c.Request.Context())
	if err != nil {
		h.fail(c, v, err)
		return nil
	}
	p := &usersPage{settingsHeader: settingsHeader{Tab: "users"}, Users: us, Roles: roles, Role: engine.RoleEditor}
	v.Data = p
	return p
}

// userList shows every account with its role and state, and the form to add one.
func (h *Handler) userList(c *gin.Context, v *view) {
	if h.newUsersPage(c, v) == nil {
		return
	}
	h.render(c, http.StatusOK, "settings_users", v)
}

// userCreate adds an account. A taken email is 409, other problems 422, with the form
// kept (the password excepted).
func (h *Handler) userCreate(c *gin.Context, v *view) {
	email, role := strings.TrimSpace(c.PostForm("email")), c.PostForm("role")
	_, err := h.engine.CreateUser(c.Request.Context(), email, c.PostForm("password"), role)
	if err == nil {
		h.redirect(c, "/settings/users", "user_created")
		return
	}
	problems, invalid := validationProblems(err, "email", "password", "role")
	status := http.StatusUnprocessableEntity
	switch {
	case invalid:
		for field := range problems.Fields {
			problems.Fields[field] = v.T("users.error."+field, "Min", engine.PasswordMinLength)
		}
	case errors.Is(err, engine.ErrConflict):
		status = http.StatusConflict
		problems = formErrors{Fields: map[string]string{"email": v.T("users.error.taken")}}
	default:
		h.fail(c, v, err)
		return
	}
	p := h.newUsersPage(c, v)
	if p == nil {
		return
	}
	p.Email, p.Role, p.Errors = email, role, problems
	h.render(c, status, "settings_users", v)
}

func init() {
	addBuiltKeys("users.error.", "email", "password", "role")
	addBuiltKeys("users.role_hint.", roles...)
}

// userSave changes a user's role (field role) or disables or enables it (field
// disabled, "true" or "false"). Demoting or disabling the last active admin is refused
// (409) and the page says why.
func (h *Handler) userSave(c *gin.Context, v *view) {
	var patch engine.UserPatch
	if role, ok := c.GetPostForm("role"); ok {
		patch.Role = &role
	}
	if d, ok := c.GetPostForm("disabled"); ok {
		disabled := d == "true"
		patch.Disabled = &disabled
	}
	id := c.Param("id")
	_, err := h.engine.UpdateUser(c.Request.Context(), id, patch)
	if err == nil {
		h.redirect(c, "/settings/users", "user_saved")
		return
	}
	var msg string
	status := http.StatusConflict
	_, invalid := validationProblems(err)
	switch {
	case errors.Is(err, engine.ErrConflict):
		msg = v.T("users.error.last_admin")
	case invalid:
		status, msg = http.StatusUnprocessableEntity, v.T("users.error.role")
	default:
		h.fail(c, v, err)
		return
	}
	p := h.newUsersPage(c, v)
	if p == nil {
		return
	}
	p.RowError, p.RowUser = msg, id
	h.render(c, status, "settings_users", v)
}

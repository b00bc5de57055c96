package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// connectionNew shows the form of a new connection of a connector.
// A viewer gets 403 rather than a form the engine would refuse.
func (h *Handler) connectionNew(c *gin.Context, v *view, connector string) {
	if !v.Can(engine.RoleEditor) {
		h.fail(c, v, engine.ErrForbidden)
		return
	}
	cn, ok := h.connectorOf(connector)
	if !ok {
		h.fail(c, v, engine.ErrNotFound)
		return
	}
	spec := cn.Spec()
	local := v.LocalSpec(spec)
	v.Data = &connectionPage{Create: true, Connector: cn.Name, ConnectorTitle: local.Title, Description: local.Description,
		Fields: newConnectionFields(v, spec, nil), Testable: cn.TestConnection != nil}
	h.render(c, http.StatusOK, "connection", v)
}

// connectionCreate saves a new connection from its form and goes to its page. Problems
// show the form again (422) with the values typed, secrets excepted.
func (h *Handler) connectionCreate(c *gin.Context, v *view) {
	connector := c.PostForm("connector")
	cn, ok := h.connectorOf(connector)
	if !ok {
		h.fail(c, v, engine.ErrNotFound)
		return
	}
	spec := cn.Spec()
	config, fields, readOK := readConnectionFields(c, v, spec, nil)
	local := v.LocalSpec(spec)
	p := &connectionPage{Create: true, Name: c.PostForm("name"), Connector: cn.Name, ConnectorTitle: local.Title,
		Description: local.Description, Fields: fields, Testable: cn.TestConnection != nil}
	v.Data = p
	if !readOK {
		h.render(c, http.StatusUnprocessableEntity, "connection", v)
		return
	}
	conn, err := h.engine.CreateConnection(c.Request.Context(), engine.ConnectionInput{Name: p.Name, Connector: cn.Name, Config: config})
	if problems, ok := validationProblems(err, p.fieldNames()...); ok {
		p.applyErrors(problems)
		h.render(c, http.StatusUnprocessableEntity, "connection", v)
		return
	}
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/connections/"+conn.Name, "connection_created")
}

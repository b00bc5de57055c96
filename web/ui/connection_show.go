package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// loadConnectionPage reads the connection of the route's :name with its connector's
// form and where it is used; on an error it has answered the request and returns nil.
func (h *Handler) loadConnectionPage(c *gin.Context, v *view) *connectionPage {
	ctx := c.Request.Context()
	conn, err := h.engine.GetConnection(ctx, c.Param("name"))
	if err != nil {
		h.fail(c, v, err)
		return nil
	}
	used, err := h.engine.ConnectionUsage(ctx)
	if err != nil {
		h.fail(c, v, err)
		return nil
	}
	p := &connectionPage{Connection: conn, Name: conn.Name, Connector: conn.Connector, ConnectorTitle: conn.Connector,
		UsedBy: used[conn.Name]}
	if cn, ok := h.connectorOf(conn.Connector); ok {
		spec := cn.Spec()
		local := v.LocalSpec(spec)
		p.ConnectorTitle, p.Description, p.Testable = local.Title, local.Description, cn.TestConnection != nil
		p.Fields = newConnectionFields(v, spec, conn)
	}
	v.Data = p
	return p
}

// connectionShow shows a connection: its form to an editor, its settings to a viewer,
// secrets as set or not set only, and the workflows using it.
func (h *Handler) connectionShow(c *gin.Context, v *view) {
	if h.loadConnectionPage(c, v) == nil {
		return
	}
	h.render(c, http.StatusOK, "connection", v)
}

// connectionSave saves a connection's form. An empty secret keeps its stored value;
// problems show the form again (422), with the engine's reason on the field, such as an
// endpoint changed while its secrets are kept.
func (h *Handler) connectionSave(c *gin.Context, v *view) {
	p := h.loadConnectionPage(c, v)
	if p == nil {
		return
	}
	cn, ok := h.connectorOf(p.Connector)
	if !ok {
		h.fail(c, v, engine.ErrNotFound)
		return
	}
	config, fields, readOK := readConnectionFields(c, v, cn.Spec(), p.Connection)
	p.Fields = fields
	if !readOK {
		h.render(c, http.StatusUnprocessableEntity, "connection", v)
		return
	}
	_, err := h.engine.UpdateConnection(c.Request.Context(), p.Name, engine.ConnectionInput{Name: p.Name, Connector: p.Connector, Config: config})
	if problems, ok := validationProblems(err, p.fieldNames()...); ok {
		p.applyErrors(problems)
		h.render(c, http.StatusUnprocessableEntity, "connection", v)
		return
	}
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/connections/"+p.Name, "connection_saved")
}

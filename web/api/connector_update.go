package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// PutConnector handles PUT /api/v1/connectors/{name}: uploads a connector file under
// name, creating (201) or replacing (200) it. The file's name field must be name. Admins
// only; 409 for a compiled-in connector's name, 422 with the file's problems.
func (h *Handler) PutConnector(c *gin.Context) {
	data, ok := h.readConnectorFile(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	created, err := h.Engine.PutConnectorFile(ctx, c.Param("name"), data)
	if err != nil {
		h.fail(c, err)
		return
	}
	d, err := h.Engine.GetConnector(ctx, c.Param("name"))
	if err != nil {
		h.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/api/v1/connectors/"+d.Name)
	}
	c.PureJSON(status, d)
}

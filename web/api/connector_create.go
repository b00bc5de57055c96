package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// CreateConnector handles POST /api/v1/connectors: the body is a connector file, YAML or
// JSON, named by its own name field. Admins only. 201 with the connector; 409 when the
// name is uploaded already or belongs to a compiled-in connector; 422 with the file's
// problems, nothing stored.
func (h *Handler) CreateConnector(c *gin.Context) {
	data, ok := h.readConnectorFile(c)
	if !ok {
		return
	}
	d, err := h.Engine.CreateConnectorFile(c.Request.Context(), data)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/connectors/"+d.Name)
	c.PureJSON(http.StatusCreated, d)
}

// connectorFileTypes are the content types a connector file may be sent as.
var connectorFileTypes = map[string]bool{
	"application/yaml": true, "application/x-yaml": true, "text/yaml": true, "text/x-yaml": true,
	"application/json": true, "text/plain": true,
}

// readConnectorFile reads a connector file body up to engine.ConnectorFileLimit,
// answering 415, 413 or 400 itself when it cannot. ok is false when the request was
// answered.
func (h *Handler) readConnectorFile(c *gin.Context) ([]byte, bool) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !connectorFileTypes[mt] {
			Abort(c, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
				fmt.Sprintf("a connector file is sent as application/yaml, application/json or text/plain, not %q", ct))
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, engine.ConnectorFileLimit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			Abort(c, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("a connector file is at most %d bytes", tooLarge.Limit))
			return nil, false
		}
		Abort(c, http.StatusBadRequest, CodeBadRequest, "cannot read request body")
		return nil, false
	}
	if len(body) == 0 {
		Abort(c, http.StatusBadRequest, CodeBadRequest, "the body must be a connector file (YAML or JSON); it is empty")
		return nil, false
	}
	if !utf8.Valid(body) {
		Abort(c, http.StatusBadRequest, CodeBadRequest, "the body is not UTF-8 text")
		return nil, false
	}
	return body, true
}

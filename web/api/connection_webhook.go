package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine/workflow"
)

// webhookRegistration is the body of POST /api/v1/connections/{name}/webhook.
type webhookRegistration struct {
	WorkflowID string `json:"workflow_id"`
	// Options are the connector's own settings (MoySklad: entity_type, action, diff_type).
	Options map[string]any `json:"options"`
}

// RegisterConnectionWebhook handles POST /api/v1/connections/{name}/webhook with
// {"workflow_id": "..."}: the service behind the connection (Telegram's setWebhook) is
// told to send its events to the workflow's webhook URL, with the workflow's webhook
// secret; "options" go to the connector as they are. DELETE with ?workflow_id= removes
// the registration.
func (h *Handler) RegisterConnectionWebhook(c *gin.Context) {
	var in webhookRegistration
	remove := c.Request.Method == http.MethodDelete
	if remove {
		in.WorkflowID = c.Query("workflow_id")
	} else if !h.bindJSON(c, &in) {
		return
	}
	if in.WorkflowID == "" {
		h.fail(c, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "workflow_id", Message: "is required"}}})
		return
	}
	url := func(token string) string { return h.webhookURL(c, token) }
	res, err := h.Engine.RegisterWebhook(c.Request.Context(), c.Param("name"), in.WorkflowID, url, remove, in.Options)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"result": res})
}

package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// workflowResponse is a workflow with its webhook address (webhook triggers only; a
// schedule or poll workflow has no URL to call) or its trigger state's address.
type workflowResponse struct {
	*engine.Workflow
	WebhookURL string `json:"webhook_url,omitempty"`
	TriggerURL string `json:"trigger_url,omitempty"`
}

func (h *Handler) workflowResponse(c *gin.Context, w *engine.Workflow) workflowResponse {
	switch w.TriggerType {
	case "webhook":
		token := w.HookToken
		if u, ok := c.Get(userKey); ok && u.(*engine.User).Role == engine.RoleViewer {
			// The URL is a credential: a viewer may read a workflow, not fire it.
			token = MaskToken(token)
		}
		return workflowResponse{Workflow: w, WebhookURL: h.webhookURL(c, token)}
	case "schedule", "poll":
		return workflowResponse{Workflow: w, TriggerURL: "/api/v1/workflows/" + w.ID + "/trigger"}
	}
	return workflowResponse{Workflow: w}
}

// CreateWorkflow handles POST /api/v1/workflows: the body is the workflow document.
func (h *Handler) CreateWorkflow(c *gin.Context) {
	body, ok := h.readBody(c)
	if !ok {
		return
	}
	w, err := h.Engine.CreateWorkflow(c.Request.Context(), body)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/workflows/"+w.ID)
	c.PureJSON(http.StatusCreated, h.workflowResponse(c, w))
}

// MaskToken hides a webhook token but its last four characters, enough to tell two
// URLs apart.
func MaskToken(token string) string {
	const keep = 4
	if len(token) <= keep {
		return "••••"
	}
	return "••••" + token[len(token)-keep:]
}

package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// workflowResponse is a workflow with its webhook address.
type workflowResponse struct {
	*engine.Workflow
	WebhookURL string `json:"webhook_url,omitempty"`
}

func (h *Handler) workflowResponse(c *gin.Context, w *engine.Workflow) workflowResponse {
	return workflowResponse{Workflow: w, WebhookURL: h.webhookURL(c, w.HookToken)}
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
	c.JSON(http.StatusCreated, h.workflowResponse(c, w))
}

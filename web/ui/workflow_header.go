package ui

import (
	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// workflowHeader is what every tab of a workflow's page shows above its content: the
// name, the state and the tabs (templates/_workflow_tabs.html). Each tab's page data
// embeds it.
type workflowHeader struct {
	Workflow *engine.Workflow
	// Tab is the current tab: "overview", "builder", "inspector", "runs", "versions", "json".
	Tab string
}

// workflowTabs are the tabs of a workflow's page, in order, with their paths below
// /workflows/{id}.
var workflowTabs = []struct{ Name, Path string }{
	{"overview", ""}, {"builder", "/edit"}, {"inspector", "/inspector"}, {"runs", "/runs"}, {"versions", "/versions"}, {"json", "/json"},
}

func init() {
	addBuiltKeys("workflow.tab.", "overview", "builder", "inspector", "runs", "versions", "json")
}

// loadWorkflowHeader reads the workflow of the route's :id for a tab; on an error it
// has answered the request (404, 403...) and returns false.
func (h *Handler) loadWorkflowHeader(c *gin.Context, v *view, tab string) (workflowHeader, bool) {
	w, err := h.engine.GetWorkflow(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, v, err)
		return workflowHeader{}, false
	}
	return workflowHeader{Workflow: w, Tab: tab}, true
}

// Tabs lists the tabs for the template.
func (wh workflowHeader) Tabs() []struct{ Name, Path string } { return workflowTabs }

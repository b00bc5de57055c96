package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// runsPage is the data of /runs.
type runsPage struct {
	Table *runsTable
}

// runList handles GET /runs?workflow=&status=&from=&to=&cursor=: every workflow's runs,
// newest first, filtered, in cursor pages.
func (h *Handler) runList(c *gin.Context, v *view) {
	t, err := h.loadRunsTable(c, v, "/runs", nil)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	v.Data = runsPage{Table: t}
	h.render(c, filterStatus(t), "runs", v)
}

// workflowRunsPage is the data of a workflow's runs tab.
type workflowRunsPage struct {
	workflowHeader
	Table *runsTable
}

// workflowRuns handles GET /workflows/{id}/runs: the runs table of one workflow, under
// its tabs.
func (h *Handler) workflowRuns(c *gin.Context, v *view) {
	head, ok := h.loadWorkflowHeader(c, v, "runs")
	if !ok {
		return
	}
	t, err := h.loadRunsTable(c, v, "/workflows/"+head.Workflow.ID+"/runs", head.Workflow)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	v.Data = workflowRunsPage{workflowHeader: head, Table: t}
	h.render(c, filterStatus(t), "workflow_runs", v)
}

// filterStatus is 422 for a filter the user got wrong, else 200.
func filterStatus(t *runsTable) int {
	if t.Filter.Error != "" {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

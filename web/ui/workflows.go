package ui

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// workflowRoutes: /workflows (list, create), /workflows/{id} (overview, versions, JSON)
// and the workflow actions. The inspector and runs tabs are the runs area's.
func (h *Handler) workflowRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/workflows", h.page("workflows", h.workflowList))
	get.GET("/workflows/new", h.page("workflows", h.workflowNew))
	get.GET("/workflows/:id", h.page("workflows", h.workflowOverview))
	get.GET("/workflows/:id/versions", h.page("workflows", h.workflowVersions))
	get.GET("/workflows/:id/json", h.page("workflows", h.workflowJSON))
	get.GET("/workflows/:id/export", h.page("workflows", h.workflowExport))

	post.POST("/workflows", limitBody(workflowFormLimit), h.action("workflows", h.workflowCreate))
	post.POST("/workflows/:id/json", limitBody(workflowFormLimit), h.action("workflows", h.workflowSave))
	post.POST("/workflows/:id/enabled", h.action("workflows", h.workflowSwitch))
	post.POST("/workflows/:id/duplicate", h.action("workflows", h.workflowDuplicate))
	post.POST("/workflows/:id/delete", h.action("workflows", h.workflowDelete))
	post.POST("/workflows/:id/rotate-token", h.action("workflows", h.workflowRotate))
	post.POST("/workflows/:id/restore", h.action("workflows", h.workflowRestore))
	h.templateRoutes(get, post)
}

func init() {
	registerFlash("workflow_created", "workflow_saved", "workflow_copied", "workflow_deleted",
		"workflow_switched_on", "workflow_switched_off", "workflow_rotated", "workflow_restored", "workflow_unchanged")
	addBuiltKeys("workflows.trigger.", "webhook", "schedule", "poll", "manual")
	addBuiltKeys("workflows.status.", engine.RunStatuses...)
}

// workflowListLimit is how many workflows a page of the list shows.
const workflowListLimit = 50

// workflowsPage is the data of the workflows list.
type workflowsPage struct {
	Query string
	Rows  []workflowRow
	// Cursor is this page's cursor ("" on the first page); NextURL the next page's
	// address, empty on the last.
	Cursor  string
	NextURL string
	// Here is this page's address (without its flash), where the row actions come back
	// to.
	Here string
}

// workflowRow is one workflow of the list with its recent activity.
type workflowRow struct {
	engine.Workflow
	Stats engine.WorkflowStats
}

// workflowList shows the workflows, newest first, found by name with ?q=, with their
// last run and their runs and failures of the last 24 hours.
func (h *Handler) workflowList(c *gin.Context, v *view) {
	ctx := c.Request.Context()
	q, cursor := c.Query("q"), c.Query("cursor")
	page, err := h.engine.SearchWorkflows(ctx, q, cursor, workflowListLimit)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	ids := make([]string, len(page.Items))
	for i, w := range page.Items {
		ids[i] = w.ID
	}
	stats, err := h.engine.WorkflowStats(ctx, ids)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	p := workflowsPage{Query: q, Cursor: cursor, Here: listURL(q, cursor)}
	for _, w := range page.Items {
		p.Rows = append(p.Rows, workflowRow{Workflow: w, Stats: stats[w.ID]})
	}
	if page.NextCursor != "" {
		p.NextURL = listURL(q, page.NextCursor)
	}
	v.Data = p
	h.render(c, http.StatusOK, "workflows", v)
}

// listURL is the address of a page of the list.
func listURL(q, cursor string) string {
	vals := url.Values{}
	if q != "" {
		vals.Set("q", q)
	}
	if cursor != "" {
		vals.Set("cursor", cursor)
	}
	if len(vals) == 0 {
		return "/workflows"
	}
	return "/workflows?" + vals.Encode()
}

// FirstURL is the first page of the same search.
func (p workflowsPage) FirstURL() string { return listURL(p.Query, "") }

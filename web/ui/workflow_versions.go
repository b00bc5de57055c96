package ui

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// workflowVersionsPage is the data of the versions tab.
type workflowVersionsPage struct {
	workflowHeader
	// Versions are newest first.
	Versions []engine.WorkflowVersion
	// A and B are the compared versions (A the older side, on the left); zero when there
	// is only one version.
	A, B int
	Diff []diffRow
	// Same says A and B hold the same definition.
	Same bool
}

// workflowVersions lists a workflow's versions and compares two side by side (?a=&b=,
// by default the one before the current and the current).
func (h *Handler) workflowVersions(c *gin.Context, v *view) {
	wh, ok := h.loadWorkflowHeader(c, v, "versions")
	if !ok {
		return
	}
	versions, err := h.engine.ListWorkflowVersions(c.Request.Context(), wh.Workflow.ID)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	p := workflowVersionsPage{workflowHeader: wh, Versions: versions}
	byNumber := map[int]engine.WorkflowVersion{}
	for _, ver := range versions {
		byNumber[ver.Version] = ver
	}
	if len(versions) >= 2 {
		p.A, p.B = versions[1].Version, versions[0].Version
		if n, err := strconv.Atoi(c.Query("a")); err == nil {
			p.A = n
		}
		if n, err := strconv.Atoi(c.Query("b")); err == nil {
			p.B = n
		}
		va, okA := byNumber[p.A]
		vb, okB := byNumber[p.B]
		if !okA || !okB {
			h.fail(c, v, engine.ErrNotFound)
			return
		}
		p.Diff = lineDiff(indentJSON(va.Definition), indentJSON(vb.Definition))
		p.Same = p.Diff == nil
	}
	v.Data = p
	h.render(c, http.StatusOK, "workflow_versions", v)
}

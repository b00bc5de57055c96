package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine/workflow"
)

// workflowJSON shows the JSON tab: the current definition, indented, in a textarea that
// editors can save (read-only for viewers).
func (h *Handler) workflowJSON(c *gin.Context, v *view) {
	wh, ok := h.loadWorkflowHeader(c, v, "json")
	if !ok {
		return
	}
	v.Data = workflowForm{workflowHeader: wh, Text: indentJSON(wh.Workflow.Definition), BaseVersion: wh.Workflow.Version}
	h.render(c, http.StatusOK, "workflow_json", v)
}

// workflowSave saves the JSON tab's text as the workflow's next version. Problems come
// back listed by path with the text kept (422). When someone else saved since the tab
// was opened (base_version), nothing is saved: the page says so (409), keeps the text,
// and saving again overwrites their version.
func (h *Handler) workflowSave(c *gin.Context, v *view) {
	if !h.requireEditor(c, v) {
		return
	}
	wh, ok := h.loadWorkflowHeader(c, v, "json")
	if !ok {
		return
	}
	text, err := postedDocument(c)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	form := workflowForm{workflowHeader: wh, Text: text, BaseVersion: wh.Workflow.Version}
	if base, _ := strconv.Atoi(c.PostForm("base_version")); base != 0 && base != wh.Workflow.Version {
		form.Stale = true
		v.Data = form
		h.render(c, http.StatusConflict, "workflow_json", v)
		return
	}
	doc, err := documentJSON(v, text)
	if err == nil && sameJSON(doc, wh.Workflow.Definition) {
		h.redirect(c, "/workflows/"+wh.Workflow.ID+"/json", "workflow_unchanged")
		return
	}
	if err == nil {
		if _, err = h.engine.UpdateWorkflow(c.Request.Context(), wh.Workflow.ID, doc); err == nil {
			h.redirect(c, "/workflows/"+wh.Workflow.ID+"/json", "workflow_saved")
			return
		}
	}
	var invalid *workflow.ValidationError
	if !errors.As(err, &invalid) {
		h.fail(c, v, err)
		return
	}
	form.Errors = invalid.Errors
	v.Data = form
	h.render(c, http.StatusUnprocessableEntity, "workflow_json", v)
}

// sameJSON reports whether two JSON documents are the same text once compacted.
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

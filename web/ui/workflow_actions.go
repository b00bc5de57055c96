package ui

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// workflowFormLimit caps the body of a form carrying a workflow (the JSON tab, the
// create page with its upload): a workflow document is at most the API's 1 MiB, and a
// URL-encoded textarea may take up to three times its size.
const workflowFormLimit = 3<<20 + 64<<10

// limitBody answers 413 to a request announcing a body over n bytes, and cuts one that
// turns out longer, before the form is parsed (the CSRF check reads it).
func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			c.AbortWithStatus(http.StatusRequestEntityTooLarge)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// workflowSwitch switches a workflow's triggers on (enabled=true) or off: a new version
// with "enabled" set. It goes back to the page it came from (the form's back field).
func (h *Handler) workflowSwitch(c *gin.Context, v *view) {
	on := c.PostForm("enabled") == "true"
	w, err := h.engine.SetWorkflowEnabled(c.Request.Context(), c.Param("id"), on)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	flash := "workflow_switched_off"
	if w.Enabled {
		flash = "workflow_switched_on"
	}
	h.redirect(c, backTo(c, "/workflows/"+w.ID), flash)
}

// backTo is the form's back field when it is a path of this site, else def.
func backTo(c *gin.Context, def string) string {
	if b := c.PostForm("back"); b != "" && localPath(b) == b {
		return b
	}
	return def
}

// workflowDuplicate copies a workflow under the name "… (copy)", switched off, and
// opens the copy.
func (h *Handler) workflowDuplicate(c *gin.Context, v *view) {
	ctx := c.Request.Context()
	w, err := h.engine.GetWorkflow(ctx, c.Param("id"))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	cp, err := h.engine.DuplicateWorkflow(ctx, w.ID, v.T("workflows.copy_name", "Name", w.Name))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/workflows/"+cp.ID, "workflow_copied")
}

// workflowDelete deletes a workflow (the page asked for confirmation first).
func (h *Handler) workflowDelete(c *gin.Context, v *view) {
	if err := h.engine.DeleteWorkflow(c.Request.Context(), c.Param("id")); err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/workflows", "workflow_deleted")
}

// workflowRotate gives the workflow a new webhook URL; the old one stops at once.
func (h *Handler) workflowRotate(c *gin.Context, v *view) {
	w, err := h.engine.RotateHookToken(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.redirect(c, "/workflows/"+w.ID, "workflow_rotated")
}

// workflowRestore saves an earlier version (form field version) as the newest one.
func (h *Handler) workflowRestore(c *gin.Context, v *view) {
	if !h.requireEditor(c, v) {
		return
	}
	ctx := c.Request.Context()
	id := c.Param("id")
	n, err := strconv.Atoi(c.PostForm("version"))
	if err != nil {
		h.fail(c, v, engine.ErrNotFound)
		return
	}
	versions, err := h.engine.ListWorkflowVersions(ctx, id)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	for i, ver := range versions {
		if ver.Version != n {
			continue
		}
		if i == 0 {
			h.redirect(c, "/workflows/"+id+"/versions", "workflow_unchanged")
			return
		}
		if _, err := h.engine.UpdateWorkflow(ctx, id, ver.Definition); err != nil {
			h.fail(c, v, err)
			return
		}
		h.redirect(c, "/workflows/"+id+"/versions", "workflow_restored")
		return
	}
	h.fail(c, v, engine.ErrNotFound)
}

// workflowExport downloads the current definition, indented, as "<name>.json".
func (h *Handler) workflowExport(c *gin.Context, v *view) {
	w, err := h.engine.GetWorkflow(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, v, err)
		return
	}
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": exportName(w.Name)}))
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(indentJSON(w.Definition)+"\n"))
}

// exportName is a file name for a workflow: its name without characters file systems or
// headers refuse, and .json.
func exportName(name string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f:
			return -1
		case strings.ContainsRune(`/\:*?"<>|`, r):
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	clean = strings.Trim(clean, ". ")
	if clean == "" {
		clean = "workflow"
	}
	return clean + ".json"
}

// indentJSON indents a stored definition for reading and editing, keeping its members'
// order; a document that does not parse is shown as it is.
func indentJSON(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

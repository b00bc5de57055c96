package ui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

// workflowForm is the data of a page editing a workflow document: the create page and
// the JSON tab.
type workflowForm struct {
	workflowHeader
	// Text is the document in the textarea: the saved definition, indented, or what was
	// posted, as it was.
	Text string
	// Errors are the problems of the posted document, by path.
	Errors []workflow.FieldError
	// BaseVersion is the version the JSON tab was opened on; Stale says another save
	// came in between (saving again overwrites it).
	BaseVersion int
	Stale       bool
}

// workflowDocLimit is the largest workflow document accepted, as on the API.
const workflowDocLimit = 1 << 20

// workflowNew shows the create page: start from scratch, pick a template, or paste a
// workflow or choose a JSON or YAML file. A viewer gets the gallery without the forms,
// saying who may create workflows.
func (h *Handler) workflowNew(c *gin.Context, v *view) {
	v.Data = h.newWorkflowPage(v, workflowForm{})
	h.render(c, http.StatusOK, "workflow_new", v)
}

// workflowCreate creates a workflow from the posted text or file; a document with
// problems comes back with them listed by path and the text kept (422).
func (h *Handler) workflowCreate(c *gin.Context, v *view) {
	if !h.requireEditor(c, v) {
		return
	}
	text, err := postedDocument(c)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	doc, err := documentJSON(v, text)
	if err == nil {
		var w *engine.Workflow
		if w, err = h.engine.CreateWorkflow(c.Request.Context(), doc); err == nil {
			h.redirect(c, "/workflows/"+w.ID, "workflow_created")
			return
		}
	}
	var invalid *workflow.ValidationError
	if !errors.As(err, &invalid) {
		h.fail(c, v, err)
		return
	}
	v.Data = h.newWorkflowPage(v, workflowForm{Text: text, Errors: invalid.Errors})
	h.render(c, http.StatusUnprocessableEntity, "workflow_new", v)
}

// postedDocument is the workflow the form carries: the uploaded file when one was
// chosen, else the textarea.
func postedDocument(c *gin.Context) (string, error) {
	fh, err := c.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) || (err == nil && fh.Size == 0) {
		return c.PostForm("definition"), nil
	}
	if err != nil {
		return "", fmt.Errorf("read the uploaded file: %w", err)
	}
	if fh.Size > workflowDocLimit {
		return "", tooLarge()
	}
	f, err := fh.Open()
	if err != nil {
		return "", fmt.Errorf("open the uploaded file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, workflowDocLimit+1))
	if err != nil {
		return "", fmt.Errorf("read the uploaded file: %w", err)
	}
	return string(b), nil
}

func tooLarge() error {
	return &workflow.ValidationError{Errors: []workflow.FieldError{{
		Message: fmt.Sprintf("the document is larger than %d bytes", workflowDocLimit)}}}
}

// documentJSON turns a posted document into JSON: a document starting with "{" is JSON
// and passes as written (its members keep their order); anything else is read as YAML.
// An empty one is a problem to show, like the engine's.
func documentJSON(v *view, text string) ([]byte, error) {
	trimmed := bytes.TrimSpace([]byte(text))
	trimmed = bytes.TrimPrefix(trimmed, []byte("\ufeff"))
	switch {
	case len(trimmed) == 0:
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Message: v.T("workflows.form.empty")}}}
	case len(trimmed) > workflowDocLimit:
		return nil, tooLarge()
	case trimmed[0] == '{':
		return trimmed, nil
	}
	return workflow.YAMLToJSON(trimmed)
}

// requireEditor answers 403 to a user whose role may not change workflows, before a
// posted document is even read: a viewer gets the same refusal whatever it posts. The
// engine refuses the save all the same.
func (h *Handler) requireEditor(c *gin.Context, v *view) bool {
	if v.Can(engine.RoleEditor) {
		return true
	}
	h.fail(c, v, fmt.Errorf("%w: the %s role cannot change workflows", engine.ErrForbidden, v.User.Role))
	return false
}

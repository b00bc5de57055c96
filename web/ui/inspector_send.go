package ui

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// inspectorTest handles POST /workflows/{id}/inspector/test: "send a test event". The
// form's body (JSON) and headers ("Name: value" lines) make a webhook request that the
// workflow's current version runs on in memory (engine.TestWorkflow), storing nothing;
// with dry_run no service is called. htmx gets the result block alone; a browser
// without script gets the inspector page with the result.
func (h *Handler) inspectorTest(c *gin.Context, v *view) {
	b := newBudget(inspectorPayloadBudget)
	form := testForm{Body: c.PostForm("body"), Headers: c.PostForm("headers"), DryRun: c.PostForm("dry_run") != ""}
	status := http.StatusOK
	ev := &engine.TestEvent{Method: http.MethodPost, Headers: map[string]string{}}
	if body := strings.TrimSpace(form.Body); body != "" {
		if !json.Valid([]byte(body)) {
			form.Error = v.T("inspector.test.bad_json")
		}
		ev.Body = json.RawMessage(body)
	}
	for _, line := range strings.Split(form.Headers, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			form.Error = v.T("inspector.test.bad_header", "Line", line)
			break
		}
		ev.Headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	if form.Error == "" {
		res, err := h.engine.TestWorkflow(c.Request.Context(), c.Param("id"), engine.TestInput{Event: ev, DryRun: form.DryRun})
		if err != nil {
			status, form.Error = h.errorStatus(c, v, err)
			if status == http.StatusForbidden || status == http.StatusNotFound {
				h.fail(c, v, err)
				return
			}
		} else {
			form.Result = newTestResult(res, form.DryRun, b)
		}
	} else {
		status = http.StatusUnprocessableEntity
	}
	if c.GetHeader("HX-Request") != "" {
		// htmx swaps only successful answers: the problem goes in the block, with 200.
		v.Data = &inspectorPage{Test: form}
		h.renderBlock(c, http.StatusOK, "workflow_inspector", "inspector-test-result", v)
		return
	}
	p, ok := h.loadInspector(c, v, b)
	if !ok {
		return
	}
	p.Test = form
	v.Data = p
	h.render(c, status, "workflow_inspector", v)
}

// newTestResult prepares a test run's outcome.
func newTestResult(res *engine.TestResult, dryRun bool, b *budget) *testResult {
	out := &testResult{Status: res.Status, Filter: res.Filter, FilterError: res.FilterError, DryRun: dryRun}
	for _, s := range res.Steps {
		out.Steps = append(out.Steps, testStep{ID: s.ID, Uses: s.Uses, Status: s.Status, If: s.If, Err: b.text(s.Error)})
	}
	for i, s := range res.Steps {
		out.Steps[i].Input, out.Steps[i].Output = b.value(s.Input), b.value(s.Output)
	}
	return out
}

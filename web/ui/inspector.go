package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// inspectorPageSize is how many requests a page of the inspector shows.
const inspectorPageSize = 20

// inspectorPayloadBudget is the room the inspector gives the requests' headers and
// bodies and the test run's documents.
const inspectorPayloadBudget = 64 << 10

// internalContentType marks the events a schedule, a poll or a failure alert stored;
// they have no request to show.
const internalContentType = "application/vnd.hookflow.trigger+json"

func init() {
	addBuiltKeys("inspector.verdict.", "accepted", "rejected", "duplicate", "rate_limited", "too_large", "check")
}

// inspectorPage is the data of /workflows/{id}/inspector.
type inspectorPage struct {
	workflowHeader
	Events []eventView
	// Older and First link the next (older) page and the newest.
	Older, First string
	Test         testForm
}

// eventView is one stored request.
type eventView struct {
	engine.Event
	// Internal says a schedule, a poll or an alert stored it: no request.
	Internal bool
	// HeaderText lists the headers as stored (credentials masked by the engine), one
	// "name: value" a line.
	HeaderText *payload
	Content    *payload
	// Binary says the body is not text; Content is then its base64.
	Binary bool
}

// Size is the body's size as it arrived.
func (e eventView) Size() int { return int(e.BodySize) }

// testForm is the "send a test event" form and, once posted, its result.
type testForm struct {
	Body    string
	Headers string
	DryRun  bool
	Error   string
	Result  *testResult
}

// testResult is a test run's outcome prepared for the page.
type testResult struct {
	Status      string
	Filter      *bool
	FilterError string
	DryRun      bool
	Steps       []testStep
}

// FilteredOut says the workflow's filter stopped the run.
func (r *testResult) FilteredOut() bool { return r.Filter != nil && !*r.Filter }

// testStep is one step of a test run.
type testStep struct {
	ID, Uses, Status   string
	If                 *bool
	Input, Output, Err *payload
}

// inspector handles GET /workflows/{id}/inspector?cursor=.
func (h *Handler) inspector(c *gin.Context, v *view) {
	p, ok := h.loadInspector(c, v, newBudget(inspectorPayloadBudget))
	if !ok {
		return
	}
	p.Test.DryRun = true
	p.Test.Body = defaultTestBody(p.Events)
	v.Data = p
	h.render(c, http.StatusOK, "workflow_inspector", v)
}

// loadInspector reads the workflow and one page of its requests; on an error it has
// answered and returns false.
func (h *Handler) loadInspector(c *gin.Context, v *view, b *budget) (*inspectorPage, bool) {
	head, ok := h.loadWorkflowHeader(c, v, "inspector")
	if !ok {
		return nil, false
	}
	cursor := c.Query("cursor")
	page, err := h.engine.ListEvents(c.Request.Context(), head.Workflow.ID, cursor, inspectorPageSize)
	if err != nil {
		h.fail(c, v, err)
		return nil, false
	}
	base := "/workflows/" + head.Workflow.ID + "/inspector"
	p := &inspectorPage{workflowHeader: head, Events: make([]eventView, len(page.Items))}
	if page.NextCursor != "" {
		p.Older = base + "?" + url.Values{"cursor": {page.NextCursor}}.Encode()
	}
	if cursor != "" {
		p.First = base
	}
	for i, ev := range page.Items {
		ev.Reason = strings.TrimSpace(ev.Reason)
		e := eventView{Event: ev, Internal: ev.ContentType == internalContentType}
		p.Events[i] = e
	}
	// Reasons and headers first, then the bodies, so that a page of large bodies still
	// shows who sent what.
	for i := range p.Events {
		e := &p.Events[i]
		if !e.Internal {
			e.HeaderText = b.text(headerLines(e.Headers))
		}
	}
	for i := range p.Events {
		e := &p.Events[i]
		switch {
		case e.BodyBase64 != "":
			e.Binary, e.Content = true, b.text(e.BodyBase64)
		case json.Valid([]byte(e.Body)):
			e.Content = b.json([]byte(e.Body))
		default:
			e.Content = b.text(e.Body)
		}
	}
	return p, true
}

// headerLines lists headers sorted by name, one "name: value" a line.
func headerLines(h map[string]string) string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, k := range names {
		sb.WriteString(k)
		sb.WriteString(": ")
		sb.WriteString(h[k])
		sb.WriteByte('\n')
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// defaultTestBody is the test form's starting body: the newest accepted request's JSON
// body on this page when it is small, else an empty object.
func defaultTestBody(events []eventView) string {
	for _, e := range events {
		if e.Verdict == "accepted" && !e.Internal && !e.Truncated && len(e.Body) <= payloadOpenMax && json.Valid([]byte(e.Body)) {
			if p := newBudget(payloadShowMax).json([]byte(e.Body)); p != nil && !p.Cut {
				return p.Text
			}
		}
	}
	return "{}"
}

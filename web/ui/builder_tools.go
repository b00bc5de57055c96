package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow/condition"
)

// The builder's tools (issue 14): listening for a test event, choosing a sample, testing
// one step, and the variable picker. The builder page is one form holding the unsaved
// document in the field "definition"; the tools post that form (hx-include="closest
// form") and answer with fragments defined in templates/_builder_tools.html:
// builder-sample (the sample as a tree, with the hidden field sample_event),
// builder-step-result (a test's input and output, with the hidden field
// step_output.<step id>) and builder-vars-list (the picker's buttons).

// builderToolsPage is the page whose template set renders the tools' fragments: the
// partials are in every page, this one is always there.
const builderToolsPage = "workflow"

// builderHistorySize is how many recent requests "use a request from the history" offers.
const builderHistorySize = 10

// builderTreeMax caps the nodes of a sample's tree and of a picker, so a huge request
// does not make a huge page.
const builderTreeMax = 400

// builderToolRoutes: the builder's helpers, /workflows/{id}/builder/... (listen for a test
// event, test a step, the variable picker).
func (h *Handler) builderToolRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/workflows/:id/builder/listen", h.page("workflows", h.builderListen))
	get.GET("/workflows/:id/builder/history", h.page("workflows", h.builderHistory))
	get.GET("/workflows/:id/builder/sample", h.page("workflows", h.builderSampleEvent))
	post.POST("/workflows/:id/builder/sample", h.action("workflows", h.builderSampleJSON))
	post.POST("/workflows/:id/builder/test-step", h.action("workflows", h.builderTestStep))
	post.POST("/workflows/:id/builder/vars", h.action("workflows", h.builderVars))
	post.POST("/workflows/:id/builder/filter", limitBody(workflowFormLimit), h.action("workflows", h.builderFilter))
	post.POST("/workflows/:id/builder/connection", limitBody(workflowFormLimit), h.action("workflows", h.builderConnection))
}

// varNode is one value of a sample or an output: an object or a list has Children, a
// leaf has Value (as JSON, cut). Path is its safe expression path and Insert the
// template text the picker inserts.
type varNode struct {
	Key, Path, Insert, Value string
	Children                 []varNode
	Branch                   bool
}

// builderSample is the data of the builder-sample fragment.
type builderSample struct {
	WorkflowID string
	// Polling: still waiting for a request newer than After.
	Polling bool
	After   string
	// EventID is the sample's request; empty for a pasted JSON.
	EventID string
	Event   *engine.Event
	Tree    []varNode
	// Paths are the sample's body fields, for the filter's field list (an out-of-band
	// swap of the builder's <datalist id="builder-paths">).
	Paths []string
	Error string
}

// builderListen handles GET /workflows/{id}/builder/listen[?after=]. Without after it
// starts listening: the answer polls with after set to the newest request now. With it,
// it answers the same polling fragment (200) until a newer accepted request arrives,
// then that request as the sample, with 286 so htmx stops polling.
func (h *Handler) builderListen(c *gin.Context, v *view) {
	ctx, id := c.Request.Context(), c.Param("id")
	d := &builderSample{WorkflowID: id, Polling: true}
	v.Data = d
	if _, ok := c.GetQuery("after"); !ok {
		ev, err := h.engine.NextEvent(ctx, id, "")
		if err != nil {
			h.fail(c, v, err)
			return
		}
		if ev != nil {
			d.After = ev.ID
		}
		h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-sample", v)
		return
	}
	d.After = c.Query("after")
	ev, err := h.engine.NextEvent(ctx, id, d.After)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	if ev == nil {
		h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-sample", v)
		return
	}
	d.Polling, d.Event = false, ev
	if !h.fillSample(c, v, d, engine.TestSample{EventID: ev.ID}) && c.Writer.Written() {
		return
	}
	c.Header("HX-Trigger-After-Settle", "builder-sample")
	h.renderBlock(c, 286, builderToolsPage, "builder-sample", v)
}

// builderSampleEvent handles GET /workflows/{id}/builder/sample?sample_history=: a
// request from the history becomes the sample.
func (h *Handler) builderSampleEvent(c *gin.Context, v *view) {
	d := &builderSample{WorkflowID: c.Param("id")}
	v.Data = d
	if id := c.Query("sample_history"); id != "" && h.fillSample(c, v, d, engine.TestSample{EventID: id}) {
		d.EventID = id
	} else if c.Writer.Written() {
		return
	}
	c.Header("HX-Trigger-After-Settle", "builder-sample")
	h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-sample", v)
}

// builderSampleJSON handles POST /workflows/{id}/builder/sample: the pasted JSON
// (sample_json) becomes the sample; the fragment has no sample_event, so the tools use
// the JSON.
func (h *Handler) builderSampleJSON(c *gin.Context, v *view) {
	d := &builderSample{WorkflowID: c.Param("id")}
	v.Data = d
	raw := strings.TrimSpace(c.PostForm("sample_json"))
	if !h.fillSample(c, v, d, engine.TestSample{JSON: []byte(raw)}) && c.Writer.Written() {
		return
	}
	c.Header("HX-Trigger-After-Settle", "builder-sample")
	h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-sample", v)
}

// fillSample puts a sample's trigger tree in d. A refusal or a missing workflow is
// answered (false, written); other problems go in d.Error (false).
func (h *Handler) fillSample(c *gin.Context, v *view, d *builderSample, s engine.TestSample) bool {
	trig, err := h.engine.SampleTrigger(c.Request.Context(), d.WorkflowID, s)
	if err != nil {
		h.toolFail(c, v, err, &d.Error)
		return false
	}
	d.EventID = s.EventID
	n := builderTreeMax
	d.Tree = triggerTree(trig, &n)
	for _, l := range leaves(d.Tree) {
		if strings.HasPrefix(l.Path, "trigger.body.") || strings.HasPrefix(l.Path, "trigger.body[") {
			d.Paths = append(d.Paths, l.Path)
		}
	}
	return true
}

// toolFail answers a refusal (403) or a missing workflow or request (404) with the error
// and returns true; any other problem goes in *msg for the fragment (htmx swaps it with
// 200, like the inspector's test).
func (h *Handler) toolFail(c *gin.Context, v *view, err error, msg *string) bool {
	status, text := h.errorStatus(c, v, err)
	if status == http.StatusForbidden || status == http.StatusNotFound {
		h.fail(c, v, err)
		return true
	}
	if errors.Is(err, engine.ErrNoSample) {
		text = v.T("builder_tools.no_sample")
	}
	*msg = text
	return false
}

// builderHistoryList is the data of the builder-history fragment.
type builderHistoryList struct {
	WorkflowID string
	Events     []builderHistoryEvent
}

// builderHistoryEvent is one request of the history select.
type builderHistoryEvent struct {
	ID, Method, Preview string
	ReceivedAt          time.Time
}

// builderHistory handles GET /workflows/{id}/builder/history: the select of the recent
// accepted requests (loaded by the trigger card).
func (h *Handler) builderHistory(c *gin.Context, v *view) {
	events, err := h.engine.RecentEvents(c.Request.Context(), c.Param("id"), builderHistorySize)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	d := &builderHistoryList{WorkflowID: c.Param("id")}
	for _, ev := range events {
		preview := ev.Body
		if preview == "" && ev.Query != "" {
			preview = "?" + ev.Query
		}
		d.Events = append(d.Events, builderHistoryEvent{ID: ev.ID, ReceivedAt: ev.ReceivedAt, Method: ev.Method,
			Preview: cut(strings.Join(strings.Fields(preview), " "), 60)})
	}
	v.Data = d
	h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-history", v)
}

// builderStepResult is the data of the builder-step-result fragment.
type builderStepResult struct {
	Index   int
	StepID  string
	Error   string
	Test    *engine.StepTest
	Input   *payload
	Output  *payload
	Err     *payload
	Missing string
	// OutputJSON is the output for the hidden field step_output.<step id>.
	OutputJSON string
}

// builderTestStep handles POST /workflows/{id}/builder/test-step: step_index of the
// posted definition runs on the sample (sample_event, else sample_json) after the
// earlier steps' outputs (step_output.<id>), for real or, with dry_run, rendering its
// input only.
func (h *Handler) builderTestStep(c *gin.Context, v *view) {
	def := h.postedDefinition(c, v)
	d := &builderStepResult{Index: -1}
	v.Data = d
	idx, err := strconv.Atoi(c.PostForm("step_index"))
	ids := stepIDs(def)
	if err == nil && idx >= 0 && idx < len(ids) {
		d.Index, d.StepID = idx, ids[idx]
	}
	res, err := h.engine.TestStep(c.Request.Context(), c.Param("id"), []byte(def), d.StepID, postedSample(c),
		postedOutputs(c), c.PostForm("dry_run") != "")
	if err != nil {
		if h.toolFail(c, v, err, &d.Error) {
			return
		}
	} else {
		b := newBudget(inspectorPayloadBudget)
		d.Test, d.Err = res, b.text(res.Error)
		d.Input, d.Output = b.value(res.Input), b.value(res.Output)
		d.Missing = strings.Join(res.Missing, ", ")
		if res.Output != nil {
			if out, err := json.Marshal(res.Output); err == nil {
				d.OutputJSON = string(out)
			}
		}
		c.Header("HX-Trigger-After-Settle", "builder-outputs")
	}
	h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-step-result", v)
}

// builderVars is the data of the builder-vars-list fragment.
type builderVars struct {
	Trigger []varNode
	// Steps are the earlier steps, each with its output's leaves or none yet.
	Steps []builderVarStep
	Error string
}

type builderVarStep struct {
	ID     string
	Tested bool
	Leaves []varNode
}

// builderVars handles POST /workflows/{id}/builder/vars: the picker of step step_index
// lists the sample trigger's fields and the earlier steps' outputs from their last test.
func (h *Handler) builderVars(c *gin.Context, v *view) {
	d := &builderVars{}
	v.Data = d
	n := builderTreeMax
	trig, err := h.engine.SampleTrigger(c.Request.Context(), c.Param("id"), postedSample(c))
	if err != nil {
		if !errors.Is(err, engine.ErrNoSample) && h.toolFail(c, v, err, &d.Error) {
			return
		}
	} else {
		d.Trigger = leaves(triggerTree(trig, &n))
	}
	idx, err := strconv.Atoi(c.PostForm("step_index"))
	if err != nil {
		idx = -1
	}
	outputs := postedOutputs(c)
	for i, id := range stepIDs(h.postedDefinition(c, v)) {
		if i >= idx {
			break
		}
		s := builderVarStep{ID: id}
		if raw, ok := outputs[id]; ok {
			var out any
			if json.Unmarshal(raw, &out) == nil {
				s.Tested = true
				if seg, ok := keySegment(id); ok {
					s.Leaves = leaves(valueTree("steps"+seg+".output", "output", out, &n))
				}
			}
		}
		d.Steps = append(d.Steps, s)
	}
	h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-vars-list", v)
}

// postedDefinition is the builder's document as the form stands: the fields typed since
// the form was last drawn applied onto its "definition" (as Save reads it), so a test
// runs what the user sees. A definition the builder cannot read is passed on as it is.
func (h *Handler) postedDefinition(c *gin.Context, v *view) string {
	st, err := h.readBuilder(c, v)
	if err != nil {
		return c.PostForm("definition")
	}
	return string(encodeDoc(st.Doc))
}

// postedSample is the form's sample: sample_event, else sample_json.
func postedSample(c *gin.Context) engine.TestSample {
	if id := strings.TrimSpace(c.PostForm("sample_event")); id != "" {
		return engine.TestSample{EventID: id}
	}
	if s := strings.TrimSpace(c.PostForm("sample_json")); s != "" {
		return engine.TestSample{JSON: []byte(s)}
	}
	return engine.TestSample{}
}

// postedOutputs are the form's step_output.<id> fields that hold JSON.
func postedOutputs(c *gin.Context) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	if err := c.Request.ParseForm(); err != nil {
		return out
	}
	for k, vs := range c.Request.PostForm {
		id, ok := strings.CutPrefix(k, "step_output.")
		if !ok || id == "" || len(vs) == 0 || !json.Valid([]byte(vs[len(vs)-1])) {
			continue
		}
		out[id] = json.RawMessage(vs[len(vs)-1])
	}
	return out
}

// stepIDs are the step ids of a workflow document, in order; nil when it is not one.
func stepIDs(def string) []string {
	var doc struct {
		Steps []struct {
			ID string `json:"id"`
		} `json:"steps"`
	}
	if json.Unmarshal([]byte(def), &doc) != nil {
		return nil
	}
	ids := make([]string, len(doc.Steps))
	for i, s := range doc.Steps {
		ids[i] = s.ID
	}
	return ids
}

// triggerTree is a trigger's tree: body, query and headers first, then the rest.
func triggerTree(trig map[string]any, n *int) []varNode {
	first := []string{"body", "query", "headers"}
	var rest []string
	for k := range trig {
		if k != "body" && k != "query" && k != "headers" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	var out []varNode
	for _, k := range append(first, rest...) {
		val, ok := trig[k]
		if !ok {
			continue
		}
		if seg, ok := keySegment(k); ok {
			out = append(out, valueTree("trigger"+seg, k, val, n)...)
		}
	}
	return out
}

// valueTree is the node of val at path (its last segment key), as a one-element list
// (empty once the cap n is spent).
func valueTree(path, key string, val any, n *int) []varNode {
	if *n <= 0 {
		return nil
	}
	*n--
	node := varNode{Key: key, Path: path, Insert: "{{ " + path + " }}"}
	switch x := val.(type) {
	case map[string]any:
		node.Branch = true
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if seg, ok := keySegment(k); ok {
				node.Children = append(node.Children, valueTree(path+seg, k, x[k], n)...)
			}
		}
	case []any:
		node.Branch = true
		for i, e := range x {
			seg := "[" + strconv.Itoa(i) + "]"
			node.Children = append(node.Children, valueTree(path+seg, seg, e, n)...)
		}
	default:
		b, _ := json.Marshal(x)
		node.Value = cut(string(b), 120)
	}
	return []varNode{node}
}

// keySegment is a key as a path continues with it, written as condition.FieldPath
// writes it: .name for identifiers, ["first name"] for any other key.
func keySegment(key string) (string, bool) {
	p, err := condition.FieldPath("trigger", key)
	if err != nil {
		return "", false
	}
	return strings.TrimPrefix(p, "trigger"), true
}

// leaves are a tree's leaves, in order.
func leaves(nodes []varNode) []varNode {
	var out []varNode
	for _, nd := range nodes {
		if nd.Branch {
			out = append(out, leaves(nd.Children)...)
			continue
		}
		out = append(out, nd)
	}
	return out
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

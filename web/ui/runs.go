package ui

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

// runRoutes: /runs, /runs/{id} and a workflow's runs and inspector tabs.
func (h *Handler) runRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/runs", h.page("runs", h.runList))
	get.GET("/runs/:id", h.page("runs", h.runShow))
	get.GET("/runs/:id/timeline", h.page("runs", h.runTimeline))
	post.POST("/runs/:id/replay", h.action("runs", h.runReplay))
	post.POST("/runs/:id/cancel", h.action("runs", h.runCancel))

	get.GET("/workflows/:id/runs", h.page("workflows", h.workflowRuns))
	get.GET("/workflows/:id/inspector", h.page("workflows", h.inspector))
	post.POST("/workflows/:id/inspector/test", h.action("workflows", h.inspectorTest))
	post.POST("/workflows/:id/inspector/events/:event/replay", h.action("workflows", h.inspectorReplay))
}

// runsPageSize is how many runs a page of the runs table shows.
const runsPageSize = 50

func init() {
	addBuiltKeys("runs.status.", append(slices.Clone(engine.RunStatuses), "skipped", "would_call")...)
	addBuiltKeys("runs.trigger.", workflow.TriggerWebhook, workflow.TriggerSchedule, workflow.TriggerPoll, workflow.TriggerManual)
	registerFlash("run_replayed", "run_cancelled", "run_cancel_requested", "request_replayed")
}

// runsTable is the data of the shared runs table (templates/_runs_table.html): the
// filter as typed, one page of rows and the links to the next and first pages.
type runsTable struct {
	// Base is the page's path: /runs or /workflows/{id}/runs.
	Base string
	// ShowWorkflow says the table lists several workflows' runs: it has the workflow
	// filter, filled from Workflows, and column.
	ShowWorkflow bool
	Workflows    []engine.Workflow
	Filter       runsFilter
	Statuses     []string
	Rows         []runRow
	// Older is the link to the next (older) page, First the link back to the newest;
	// empty when there is none.
	Older, First string
}

// runsFilter is the filter form's values as the user typed them, and the problem with
// them, if any.
type runsFilter struct {
	Workflow, Status, From, To, Cursor string
	Error                              string
}

// runRow is one run in the table, its texts made in Go: a page of 50 rows renders
// several times faster than with a template call per cell.
type runRow struct {
	ID, Status, WorkflowID, ReplayOf string
	// Workflow is the workflow's name ("" when it was deleted).
	Workflow string
	// StatusText, TriggerText, StartedText and DurationText are shown; StartedISO is
	// the <time> element's datetime. Started is when the run started, or was created
	// when it has not started yet; the duration is "—" until it has ended.
	StatusText, TriggerText, StartedText, StartedISO, DurationText string
}

// Short is the run's short id.
func (r runRow) Short() string { return shortID(r.ID) }

// cachedT translates through v, each key once.
func cachedT(v *view) func(key string) string {
	seen := map[string]string{}
	return func(key string) string {
		s, ok := seen[key]
		if !ok {
			s = v.T(key)
			seen[key] = s
		}
		return s
	}
}

// datetimeLayouts are what <input type="datetime-local"> sends.
var datetimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// parseLocal reads a datetime-local value in the user's time zone.
func parseLocal(s string, loc *time.Location) (time.Time, bool) {
	for _, l := range datetimeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// loadRunsTable reads the filter from the query, lists one page of runs and builds the
// table. wf, when not nil, fixes the workflow (a workflow's runs tab); otherwise the query's
// "workflow" chooses it and every workflow is listed for the filter. A filter the user
// got wrong is reported in Filter.Error with no rows; a failed service call is returned.
func (h *Handler) loadRunsTable(c *gin.Context, v *view, base string, wf *engine.Workflow) (*runsTable, error) {
	ctx := c.Request.Context()
	t := &runsTable{Base: base, Statuses: engine.RunStatuses, Filter: runsFilter{
		Workflow: c.Query("workflow"), Status: c.Query("status"), From: strings.TrimSpace(c.Query("from")),
		To: strings.TrimSpace(c.Query("to")), Cursor: c.Query("cursor")}}
	f := engine.RunFilter{WorkflowID: t.Filter.Workflow, Status: t.Filter.Status, Cursor: t.Filter.Cursor, Limit: runsPageSize}
	names := map[string]engine.Workflow{}
	if wf != nil {
		f.WorkflowID, t.Filter.Workflow = wf.ID, ""
		names[wf.ID] = *wf
	} else {
		all, err := h.allWorkflows(ctx)
		if err != nil {
			return nil, err
		}
		t.Workflows, t.ShowWorkflow = all, true
		for _, w := range all {
			names[w.ID] = w
		}
	}
	t.Filter.Error = parseRunsFilter(v, &t.Filter, &f)
	if t.Filter.Error != "" {
		return t, nil
	}
	page, err := h.engine.ListRuns(ctx, f)
	if err != nil {
		return nil, err
	}
	t.Rows = make([]runRow, len(page.Items))
	label := cachedT(v)
	for i, r := range page.Items {
		row := runRow{ID: r.ID, Status: r.Status, WorkflowID: r.WorkflowID, ReplayOf: r.ReplayOf,
			StatusText: label("runs.status." + r.Status), DurationText: "—"}
		started := r.CreatedAt
		if r.StartedAt != nil {
			started = *r.StartedAt
		}
		row.StartedText, row.StartedISO = v.Time(started), v.ISO(started)
		if w, ok := names[r.WorkflowID]; ok {
			row.Workflow = w.Name
			if w.TriggerType != "" {
				row.TriggerText = label("runs.trigger." + w.TriggerType)
			}
		}
		if r.FinishedAt != nil {
			row.DurationText = v.Duration(r.FinishedAt.Sub(started))
		}
		t.Rows[i] = row
	}
	if page.NextCursor != "" {
		t.Older = t.link(page.NextCursor)
	}
	if t.Filter.Cursor != "" {
		t.First = t.link("")
	}
	return t, nil
}

// parseRunsFilter checks the status and reads the time bounds into f; it returns what
// is wrong, in the user's language, or "".
func parseRunsFilter(v *view, in *runsFilter, f *engine.RunFilter) string {
	if in.Status != "" && !slices.Contains(engine.RunStatuses, in.Status) {
		return v.T("runs.filter.bad_status")
	}
	for _, b := range []struct {
		text string
		into *time.Time
	}{{in.From, &f.From}, {in.To, &f.To}} {
		if b.text == "" {
			continue
		}
		t, ok := parseLocal(b.text, v.loc)
		if !ok {
			return v.T("runs.filter.bad_time", "Value", b.text)
		}
		*b.into = t
	}
	return ""
}

// link is the table's path with the filter and a cursor.
func (t *runsTable) link(cursor string) string {
	q := url.Values{}
	for k, val := range map[string]string{"workflow": t.Filter.Workflow, "status": t.Filter.Status,
		"from": t.Filter.From, "to": t.Filter.To, "cursor": cursor} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if len(q) == 0 {
		return t.Base
	}
	return t.Base + "?" + q.Encode()
}

// allWorkflowsPages bounds how many pages of workflows the runs filter lists.
const allWorkflowsPages = 20

// allWorkflows lists the workflows for the runs filter and the table's names.
func (h *Handler) allWorkflows(ctx context.Context) ([]engine.Workflow, error) {
	var out []engine.Workflow
	cursor := ""
	for range allWorkflowsPages {
		page, err := h.engine.ListWorkflows(ctx, cursor, engine.ListLimitMax)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b engine.Workflow) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// runEnded reports whether a run has reached a final status.
func runEnded(status string) bool {
	switch status {
	case engine.RunSucceeded, engine.RunFailed, engine.RunFiltered, engine.RunCancelled:
		return true
	}
	return false
}

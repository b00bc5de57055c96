package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/web/api"
)

// nextTimesShown is how many coming times of a schedule the overview lists.
const nextTimesShown = 5

// workflowOverviewPage is the data of a workflow's overview tab.
type workflowOverviewPage struct {
	workflowHeader
	// WebhookURL is the webhook address of a webhook workflow; Masked says its token is
	// hidden but for its last four characters (viewers).
	WebhookURL string
	Masked     bool
	// Times are a schedule's (or a poll's) next times; TimesError why there are none.
	Times      *engine.TriggerTimes
	TimesError string
	// State is a schedule's or poll's trigger state.
	State       *engine.TriggerState
	Description string
	Steps       int
}

// workflowOverview shows a workflow's overview: its webhook URL with copy and rotate, a
// schedule's next times in its time zone, a poll's health, and its facts.
func (h *Handler) workflowOverview(c *gin.Context, v *view) {
	wh, ok := h.loadWorkflowHeader(c, v, "overview")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	w := wh.Workflow
	p := workflowOverviewPage{workflowHeader: wh}
	var def struct {
		Description string            `json:"description"`
		Steps       []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(w.Definition, &def); err == nil {
		p.Description, p.Steps = def.Description, len(def.Steps)
	}
	switch w.TriggerType {
	case workflow.TriggerWebhook:
		token := w.HookToken
		if !engine.CanSeeSecrets(ctx) {
			// The URL is a credential: a viewer may read a workflow, not fire it.
			token, p.Masked = api.MaskToken(token), true
		}
		p.WebhookURL = api.WebhookURL(h.baseURL, c.Request, token)
	case workflow.TriggerSchedule, workflow.TriggerPoll:
		times, err := h.engine.NextTriggerTimes(ctx, w.ID, nextTimesShown)
		if err != nil {
			if errors.Is(err, engine.ErrNotFound) {
				h.fail(c, v, err)
				return
			}
			p.TimesError = err.Error()
		}
		p.Times = times
		state, err := h.engine.GetTriggerState(ctx, w.ID)
		if err != nil {
			h.fail(c, v, err)
			return
		}
		p.State = state
	}
	v.Data = p
	h.render(c, http.StatusOK, "workflow", v)
}

// InZone formats a time of the schedule in the schedule's own time zone.
func (p workflowOverviewPage) InZone(t time.Time) string { return t.Format("2006-01-02 15:04 MST") }

// Zone names the schedule's time zone; "" is UTC.
func (p workflowOverviewPage) Zone() string {
	if p.Times == nil || p.Times.Timezone == "" {
		return "UTC"
	}
	return p.Times.Timezone
}

// PollHealth sums a poll's state up: "waiting" before its first poll, "failing" while
// its polls fail, else "healthy".
func (p workflowOverviewPage) PollHealth() string {
	switch s := p.State; {
	case s == nil || s.LastPollAt == nil:
		return "waiting"
	case s.ConsecutiveFailures > 0:
		return "failing"
	}
	return "healthy"
}

func init() { addBuiltKeys("workflows.poll.health.", "waiting", "failing", "healthy") }

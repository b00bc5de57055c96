package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// runPage is the data of /runs/{id}: the run, its steps prepared for the timeline and
// what may be done with it.
type runPage struct {
	Run *engine.Run
	// Workflow is the workflow's name, "" when it is gone.
	Workflow string
	Error    *payload
	Steps    []stepView
	// Ended says the run reached a final status: the timeline stops refreshing.
	Ended bool
	// StepFailed says a step failed: the run may be replayed from it.
	StepFailed bool
	Duration   *time.Duration
	// API is the run's API path, where its documents are whole.
	API string
}

// stepView is one step of the timeline.
type stepView struct {
	engine.StepRun
	// In, Out and Err are the step's input, output and error, cut to fit the page.
	In, Out, Err *payload
	Duration     time.Duration
	Failures     []attemptView
}

// attemptView is one failed attempt of a step.
type attemptView struct {
	Attempt int        `json:"attempt"`
	At      time.Time  `json:"at"`
	Error   string     `json:"error"`
	RetryAt *time.Time `json:"retry_at"`
	Err     *payload   `json:"-"`
	// Wait is how long the run waited before the next attempt.
	Wait *time.Duration `json:"-"`
}

// Number is the step's place in the workflow, from 1.
func (s stepView) Number() int { return s.Position + 1 }

// shortID is the end of an id, enough to tell runs apart in a list: UUIDv7 ids begin
// with their time, so their starts look alike.
func shortID(id string) string { return id[max(0, len(id)-8):] }

// Short is the run's short id.
func (p *runPage) Short() string { return shortID(p.Run.ID) }

// runPayloadBudget is the room a run page gives its documents, less per step.
const (
	runPayloadBudget  = 64 << 10
	runPayloadPerStep = 512
	runPayloadFloor   = 8 << 10
)

// runShow handles GET /runs/{id}.
func (h *Handler) runShow(c *gin.Context, v *view) {
	if h.loadRun(c, v) {
		h.render(c, http.StatusOK, "run", v)
	}
}

// runTimeline handles GET /runs/{id}/timeline: the timeline block alone, which a page
// showing a run that has not ended asks for every two seconds (htmx); once the run has
// ended the block comes without its trigger and the polling stops.
func (h *Handler) runTimeline(c *gin.Context, v *view) {
	if h.loadRun(c, v) {
		h.renderBlock(c, http.StatusOK, "run", "run-timeline", v)
	}
}

// loadRun reads the run of the route's :id into v.Data; on an error it has answered
// and returns false.
func (h *Handler) loadRun(c *gin.Context, v *view) bool {
	ctx := c.Request.Context()
	r, err := h.engine.GetRun(ctx, c.Param("id"))
	if err != nil {
		h.fail(c, v, err)
		return false
	}
	p := &runPage{Run: r, Ended: runEnded(r.Status), API: "/api/v1/runs/" + r.ID}
	if w, err := h.engine.GetWorkflow(ctx, r.WorkflowID); err == nil {
		p.Workflow = w.Name
	} else if !errors.Is(err, engine.ErrNotFound) {
		h.fail(c, v, err)
		return false
	}
	if r.StartedAt != nil && r.FinishedAt != nil {
		d := r.FinishedAt.Sub(*r.StartedAt)
		p.Duration = &d
	}
	b := newBudget(max(runPayloadFloor, runPayloadBudget-runPayloadPerStep*len(r.Steps)))
	p.Error = b.text(r.Error)
	p.Steps = make([]stepView, len(r.Steps))
	for i, s := range r.Steps {
		sv := stepView{StepRun: s, Duration: time.Duration(s.DurationMS) * time.Millisecond}
		sv.Err = b.text(s.Error)
		if s.Status == engine.RunFailed {
			p.StepFailed = true
		}
		if len(s.AttemptErrors) > 0 && json.Unmarshal(s.AttemptErrors, &sv.Failures) == nil {
			for j := range sv.Failures {
				a := &sv.Failures[j]
				a.Err = b.text(a.Error)
				if a.RetryAt != nil {
					w := a.RetryAt.Sub(a.At)
					a.Wait = &w
				}
			}
		}
		p.Steps[i] = sv
	}
	// Errors first: they say what went wrong, and must fit whatever the payloads' size.
	for i := range p.Steps {
		p.Steps[i].In, p.Steps[i].Out = b.json(r.Steps[i].Input), b.json(r.Steps[i].Output)
	}
	v.Data = p
	return true
}

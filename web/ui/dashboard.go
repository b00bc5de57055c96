package ui

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// dashboardRoutes: the dashboard at /.
func (h *Handler) dashboardRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/", h.page("dashboard", h.dashboard))
}

// dashboardErrorMax caps an error shown on the dashboard, in characters; the run's page
// has it whole.
const dashboardErrorMax = 300

// dashboardPage is the dashboard's data.
type dashboardPage struct {
	D *engine.Dashboard
	// Range is the period shown ("24h", "7d"); Ranges are the switch's links.
	Range  string
	Ranges []rangeLink
	// Total is the number of runs in the period, and Failed the failed ones.
	Total, Failed int64
	// Chart is nil when the period has no runs.
	Chart  *chart
	Series []string
	Rows   []chartRow
	// Failures and Polls are the lists, errors cut to dashboardErrorMax.
	Failures []dashboardFailure
	// AllFailures says the list is cut: more failed in the period.
	AllFailures bool
	Polls       []dashboardPoll
	MorePolls   int64
}

type rangeLink struct {
	Range, Href string
	Current     bool
}

type dashboardFailure struct {
	engine.FailedRun
	Short string
}

type dashboardPoll struct {
	engine.FailingPoll
	Short string
}

// dashboard is the landing page after sign-in: runs by status over the last 24 hours or
// 7 days (?range=24h, ?range=7d), the period's latest failures, failing polls and the
// queue, times in the user's zone.
func (h *Handler) dashboard(c *gin.Context, v *view) {
	rng := engine.DashboardRange(c.Query("range"))
	if rng != engine.DashboardWeek {
		rng = engine.DashboardDay
	}
	d, err := h.engine.Dashboard(c.Request.Context(), engine.DashboardQuery{Range: rng, Location: v.loc})
	if err != nil {
		h.fail(c, v, err)
		return
	}
	p := &dashboardPage{D: d, Range: string(rng), Failed: d.Totals[engine.RunFailed]}
	for _, r := range []engine.DashboardRange{engine.DashboardDay, engine.DashboardWeek} {
		p.Ranges = append(p.Ranges, rangeLink{Range: string(r), Href: "/?range=" + string(r), Current: r == rng})
	}
	for _, s := range series {
		p.Series = append(p.Series, s.Name)
	}
	for _, n := range d.Totals {
		p.Total += n
	}
	if p.Total > 0 {
		label := v.T("dashboard.chart.label_"+string(rng), "Total", v.N("dashboard.runs_count", p.Total),
			"Parts", countsText(v, seriesCounts(d.Totals)))
		p.Chart, p.Rows = buildChart(v, d, label)
	}
	for _, f := range d.Failures {
		p.Failures = append(p.Failures, dashboardFailure{FailedRun: f, Short: shorten(f.Error, dashboardErrorMax)})
	}
	for _, fp := range d.FailingPolls {
		p.Polls = append(p.Polls, dashboardPoll{FailingPoll: fp, Short: shorten(fp.LastError, dashboardErrorMax)})
	}
	p.AllFailures = len(d.Failures) == engine.DashboardListMax
	p.MorePolls = d.FailingPollsTotal - int64(len(d.FailingPolls))
	v.Data = p
	h.render(c, http.StatusOK, "dashboard", v)
}

// shorten cuts s to at most max characters, marking the cut with an ellipsis.
func shorten(s string, max int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

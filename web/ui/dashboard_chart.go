package ui

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The dashboard's chart: stacked bars of runs by status, drawn on the server as an inline
// SVG. Go computes every coordinate in the viewBox's units; _dashboard_chart.html only
// writes them out, and app.css colours the series (light and dark).

// chartSeries is one stacked series: the statuses it sums, bottom first.
type chartSeries struct {
	Name     string
	Statuses []string
}

// series are the chart's series, bottom to top: queued, running and waiting runs are
// drawn as one, "in progress".
var series = []chartSeries{
	{"succeeded", []string{engine.RunSucceeded}},
	{"failed", []string{engine.RunFailed}},
	{"cancelled", []string{engine.RunCancelled}},
	{"filtered", []string{engine.RunFiltered}},
	{"active", []string{engine.RunQueued, engine.RunRunning, engine.RunWaiting}},
}

func init() {
	for _, s := range series {
		addBuiltKeys("dashboard.series.", s.Name)
	}
	addBuiltKeys("dashboard.weekday.", weekdays[:]...)
	addBuiltKeys("dashboard.range.", string(engine.DashboardDay), string(engine.DashboardWeek))
	addBuiltKeys("dashboard.chart.label_", string(engine.DashboardDay), string(engine.DashboardWeek))
}

var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// The chart's geometry, in viewBox units.
const (
	chartW      = 640
	chartH      = 240
	chartLeft   = 48 // room for the counts' axis
	chartRight  = 20 // room for half a time label
	chartTop    = 12
	chartBottom = 36 // room for the times' axis, in the larger text of narrow screens
	chartPlotW  = chartW - chartLeft - chartRight
	chartPlotH  = chartH - chartTop - chartBottom
)

// chart is what _dashboard_chart.html draws.
type chart struct {
	W, H    int
	Label   string // the accessible summary of the totals
	Bars    []chartBar
	Ticks   []chartTick // the counts' axis, with grid lines
	Times   []chartTick // the times' axis
	Left    string      // x of the counts' axis
	Right   string      // x of the plot's right edge
	Base    string      // y of the zero line
	TickEnd string      // y where the times' ticks end
	LabelsY string      // y of the times' labels
}

// chartBar is one bucket: a transparent full-height rectangle that carries the hover
// title, and the stacked segments.
type chartBar struct {
	Title    string
	X, W     string // the hover area
	Top, H   string
	Segments []chartSegment
}

type chartSegment struct {
	Series     string
	X, Y, W, H string
}

type chartTick struct {
	Label string
	X, Y  string
	// Minor ticks are left out on narrow screens, where the text is larger.
	Minor bool
}

// chartRow is one line of the numbers' table.
type chartRow struct {
	Period string
	Counts []int64 // by series
	Total  int64
}

// seriesCounts sums a bucket's statuses into the series.
func seriesCounts(counts map[string]int64) []int64 {
	out := make([]int64, len(series))
	for i, s := range series {
		for _, st := range s.Statuses {
			out[i] += counts[st]
		}
	}
	return out
}

func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// niceScale returns the top of the counts' axis and its step: the smallest of 1, 2, 5
// times a power of ten that covers max in at most four steps.
func niceScale(max int64) (top, step int64) {
	if max <= 0 {
		return 1, 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			step = m * p
			if step*4 >= max {
				top = (max + step - 1) / step * step
				return top, step
			}
		}
	}
}

// buildChart lays out the dashboard's buckets for the view's language and time zone.
func buildChart(v *view, d *engine.Dashboard, label string) (*chart, []chartRow) {
	n := len(d.Buckets)
	c := &chart{W: chartW, H: chartH, Label: label, Left: num(chartLeft), Right: num(chartLeft + chartPlotW),
		Base: num(chartTop + chartPlotH), TickEnd: num(chartTop + chartPlotH + 5), LabelsY: num(chartTop + chartPlotH + 12)}
	var max int64
	counts := make([][]int64, n)
	for i, b := range d.Buckets {
		counts[i] = seriesCounts(b.Counts)
		if t := b.Total(); t > max {
			max = t
		}
	}
	top, step := niceScale(max)
	scale := float64(chartPlotH) / float64(top)
	for y := int64(0); y <= top; y += step {
		c.Ticks = append(c.Ticks, chartTick{Label: strconv.FormatInt(y, 10), X: num(chartLeft - 6),
			Y: num(chartTop + chartPlotH - float64(y)*scale)})
	}
	slot := float64(chartPlotW) / float64(n)
	barW := slot * 0.72
	rows := make([]chartRow, n)
	for i, b := range d.Buckets {
		x := chartLeft + float64(i)*slot
		period := bucketPeriod(v, b.Start, d.Bucket)
		rows[i] = chartRow{Period: period, Counts: counts[i], Total: b.Total()}
		bar := chartBar{Title: period + ": " + countsText(v, counts[i]), X: num(x), W: num(slot), Top: num(chartTop), H: num(chartPlotH)}
		y := float64(chartTop + chartPlotH)
		for j, k := range counts[i] {
			if k == 0 {
				continue
			}
			h := float64(k) * scale
			y -= h
			bar.Segments = append(bar.Segments, chartSegment{Series: series[j].Name, X: num(x + (slot-barW)/2), Y: num(y),
				W: num(barW), H: num(h)})
		}
		c.Bars = append(c.Bars, bar)
		if l, minor, ok := timeLabel(v, b.Start, d.Bucket); ok {
			c.Times = append(c.Times, chartTick{Label: l, X: num(x), Minor: minor})
		}
	}
	return c, rows
}

// countsText says a bucket's counts: "Succeeded: 4, failed: 1", or "no runs".
func countsText(v *view, counts []int64) string {
	var parts []string
	for i, k := range counts {
		if k > 0 {
			parts = append(parts, v.T("dashboard.count", "Name", v.T("dashboard.series."+series[i].Name), "N", k))
		}
	}
	if len(parts) == 0 {
		return v.T("dashboard.no_runs")
	}
	return strings.Join(parts, ", ")
}

// bucketPeriod names a bucket in the view's zone: "14:00–15:00", or for a longer one
// "Mon 9, 06:00–12:00".
func bucketPeriod(v *view, start time.Time, size time.Duration) string {
	s, e := start.In(v.loc), start.Add(size).In(v.loc)
	hours := s.Format("15:04") + "–" + e.Format("15:04")
	if size <= time.Hour {
		return hours
	}
	return dayName(v, s) + ", " + hours
}

// dayName is "Mon 9" in the view's language.
func dayName(v *view, t time.Time) string {
	return v.T("dashboard.weekday."+weekdays[t.Weekday()]) + " " + strconv.Itoa(t.Day())
}

// timeLabel is the times' axis label at a bucket's start, if it gets one: every third
// hour for hourly buckets (minor unless the hour divides by six), each day's first
// bucket for longer ones (every other day minor).
func timeLabel(v *view, start time.Time, size time.Duration) (label string, minor, ok bool) {
	t := start.In(v.loc)
	if size <= time.Hour {
		return t.Format("15:04"), t.Hour()%6 != 0, t.Hour()%3 == 0
	}
	return dayName(v, t), t.YearDay()%2 == 1, t.Hour() < int(size/time.Hour)
}

package soak

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW    = 960
	panelH    = 170
	panelGap  = 40
	marginL   = 70
	marginR   = 150 // room for the legend
	titleH    = 50
	plotW     = chartW - marginL - marginR
	plotH     = panelH - 20
	axisTicks = 4
)

// line is one series of a panel.
type line struct {
	name  string
	color string
	get   func(Window) float64
}

// panel is one of the chart's four plots.
type panel struct {
	id, title, unit string
	lines           []line
}

var panels = []panel{
	{id: "rss", title: "RSS", unit: "MB", lines: []line{{"RSS", "#1f77b4", func(w Window) float64 { return w.RSSMB }}}},
	{id: "goroutines", title: "Goroutines", lines: []line{{"goroutines", "#2ca02c", func(w Window) float64 { return w.Goroutines }}}},
	{id: "open-files", title: "Open files", lines: []line{{"open files", "#9467bd", func(w Window) float64 { return w.OpenFiles }}}},
	{id: "latency", title: "Latency", unit: "ms", lines: []line{
		{"request p50", "#17becf", func(w Window) float64 { return w.ReqP50 }},
		{"request p99", "#1f77b4", func(w Window) float64 { return w.ReqP99 }},
		{"end-to-end p50", "#ffbb78", func(w Window) float64 { return w.E2EP50 }},
		{"end-to-end p99", "#d62728", func(w Window) float64 { return w.E2EP99 }},
	}},
}

// WriteSVG writes the report's windows as a self-contained SVG chart: four panels (RSS,
// goroutines, open files, latencies) over time, the warm-up shaded.
func (r *Report) WriteSVG(w io.Writer) error {
	var b bytes.Buffer
	height := titleH + len(panels)*(panelH+panelGap)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartW, height, chartW, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, height)
	verdict := "FAIL"
	if r.Pass {
		verdict = "PASS"
	}
	title := fmt.Sprintf("hookflow soak: %s at %g webhooks/s on %s, %s", r.Config.Duration, r.Config.Rate, r.Database, verdict)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", marginL, esc(title))
	fmt.Fprintf(&b, `<text x="%d" y="42" fill="#555">shaded: warm-up, left out of the verdicts; x: seconds since the load started</text>`+"\n", marginL)

	tMax := 1.0
	for _, x := range r.Windows {
		tMax = max(tMax, x.T)
	}
	warm := min(r.Config.Warmup.Seconds(), tMax)
	for i, p := range panels {
		top := titleH + i*(panelH+panelGap) + 10
		writePanel(&b, p, r.Windows, top, tMax, warm)
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func writePanel(b *bytes.Buffer, p panel, ws []Window, top int, tMax, warm float64) {
	yMax := 0.0
	for _, l := range p.lines {
		for _, x := range ws {
			yMax = max(yMax, l.get(x))
		}
	}
	yMax = niceCeil(yMax)
	x := func(t float64) float64 { return marginL + t/tMax*plotW }
	y := func(v float64) float64 { return float64(top) + plotH - v/yMax*plotH }

	fmt.Fprintf(b, `<g class="panel" id="%s">`+"\n", p.id)
	label := p.title
	if p.unit != "" {
		label += " (" + p.unit + ")"
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", marginL, top-4, esc(label))
	if warm > 0 {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#eeeeee"/>`+"\n", marginL, top, x(warm)-marginL, plotH)
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", marginL, top, plotW, plotH)
	for k := 0; k <= axisTicks; k++ {
		v := yMax * float64(k) / axisTicks
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e0e0e0"/>`+"\n", marginL, marginL+plotW, y(v), y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginL-6, y(v)+4, esc(short(v)))
		t := tMax * float64(k) / axisTicks
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", x(t), top+plotH+14, esc(short(t)))
	}
	for j, l := range p.lines {
		var pts []string
		for _, w := range ws {
			if v := l.get(w); v >= 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(w.T), y(v)))
			}
		}
		if len(pts) > 0 {
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"><title>%s</title></polyline>`+"\n",
				l.color, strings.Join(pts, " "), esc(l.name))
		}
		ly := top + 12 + j*16
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", marginL+plotW+10, marginL+plotW+30, ly-4, ly-4, l.color)
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", marginL+plotW+34, ly, esc(l.name))
	}
	b.WriteString("</g>\n")
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so the axis reads easily.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// short formats an axis value with at most one decimal.
func short(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

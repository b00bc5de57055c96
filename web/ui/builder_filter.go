package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine"
)

// The filter card's live verdict (issue 14, point 2): the slot builder-filter-slot
// (templates/_builder_filter.html) posts the builder's form to
// /workflows/{id}/builder/filter whenever the form changes or the sample does, and shows
// whether the sample goes on (true), is filtered out (false), or the expression's error
// with its position.

// builderFilterResult is the data of the builder-filter-result fragment.
type builderFilterResult struct {
	// Verdict is "pass", "fail" or "none" (no filter); empty when there is none to give.
	Verdict string
	// NoSample: there is a filter but no sample to evaluate it on.
	NoSample bool
	// Error is a problem other than the expression's: the sample, the condition rows.
	Error string
	// ExprErr is the expression's error; Line and Caret show where, when known.
	ExprErr     *engine.FilterError
	Line, Caret string
}

// builderFilter handles POST /workflows/{id}/builder/filter: the filter of the posted
// builder form (the rows or the raw expression applied onto "definition") evaluated on
// the sample (sample_event, else sample_json), as a run's filter is.
func (h *Handler) builderFilter(c *gin.Context, v *view) {
	d := &builderFilterResult{}
	v.Data = d
	if !h.requireEditor(c, v) {
		return
	}
	st, err := h.readBuilder(c, v)
	if err != nil {
		if h.toolFail(c, v, err, &d.Error) {
			return
		}
		h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-filter-result", v)
		return
	}
	var problems []string
	for _, p := range st.Problems {
		if p.Path == "filter" || strings.HasPrefix(p.Path, "filter.") {
			problems = append(problems, p.Path+": "+p.Message)
		}
	}
	src := strings.TrimSpace(str(st.Doc["filter"]))
	switch {
	case len(problems) > 0:
		d.Error = strings.Join(problems, "; ")
	case src == "":
		d.Verdict = "none"
	default:
		h.evalFilter(c, v, d, src)
		if c.Writer.Written() {
			return
		}
	}
	h.renderBlock(c, http.StatusOK, builderToolsPage, "builder-filter-result", v)
}

// evalFilter fills d with the verdict of src on the posted sample; a refusal or a
// missing workflow or request is answered (written).
func (h *Handler) evalFilter(c *gin.Context, v *view, d *builderFilterResult, src string) {
	pass, err := h.engine.EvaluateFilter(c.Request.Context(), c.Param("id"), src, postedSample(c))
	var fe *engine.FilterError
	switch {
	case err == nil && pass:
		d.Verdict = "pass"
	case err == nil:
		d.Verdict = "fail"
	case errors.As(err, &fe):
		d.ExprErr = fe
		d.Line, d.Caret = caretAt(src, fe.Line, fe.Column)
	case errors.Is(err, engine.ErrNoSample):
		d.NoSample = true
	default:
		h.toolFail(c, v, err, &d.Error)
	}
}

// caretAt is line (1-based) of src and a caret under its column (1-based, in runes);
// both empty when the position is unknown or outside src.
func caretAt(src string, line, col int) (string, string) {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) || col < 1 {
		return "", ""
	}
	l := strings.ReplaceAll(strings.TrimRight(lines[line-1], "\r"), "\t", " ")
	if n := len([]rune(l)); col > n+1 {
		col = n + 1
	}
	return l, strings.Repeat(" ", col-1) + "^"
}

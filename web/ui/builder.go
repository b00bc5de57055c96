package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/engine/workflow/condition"
	"github.com/hookflow/hookflow/engine/workflow/cronread"
)

// The workflow builder (issue 14) is one form over the workflow document. The server
// draws the document as cards; every control's name is a document path
// ("trigger.webhook.auth.type", "steps[1].with.text"). Structural changes post the whole
// form to /workflows/{id}/edit/update with an op, and the server answers with the form
// drawn again; nothing is saved until Save (POST /workflows/{id}/edit), which makes a
// version. The hidden textarea "definition" carries the document the form was drawn
// from: the form's fields are applied onto it, so whatever the cards do not draw
// (limits, on_failure, a step's timeout...) comes back untouched.

// builderRoutes: the workflow builder, /workflows/{id}/edit (issue 14).
func (h *Handler) builderRoutes(get gin.IRoutes, post gin.IRoutes) {
	get.GET("/workflows/:id/edit", h.page("workflows", h.builderShow))
	post.POST("/workflows/:id/edit", limitBody(workflowFormLimit), h.action("workflows", h.builderSave))
	post.POST("/workflows/:id/edit/update", limitBody(workflowFormLimit), h.action("workflows", h.builderUpdate))
}

// builderState is the document being edited and what the form holds besides it: the
// filter's rows, the schedule's preset, and the problems to show by path.
type builderState struct {
	Doc map[string]any
	// FilterMode is "rows" (the condition builder) or "raw" (an expression).
	FilterMode string
	Match      string
	Rows       []condition.Condition
	Raw        string
	// FilterNote says why the filter stays raw.
	FilterNote string
	Sched      schedForm
	// Errors are problems by document path; the page puts each next to its control.
	Errors map[string]string
	// Problems lists every problem for the summary.
	Problems []workflow.FieldError
}

// schedForm is the schedule card's preset: Preset is a cronread preset kind or "raw".
type schedForm struct {
	Preset  string
	Every   int
	Minute  int
	Time    string // HH:MM
	Weekday int
	Day     int
}

// addProblem records a problem at path (the summary and the field).
func (st *builderState) addProblem(path, msg string) {
	st.Problems = append(st.Problems, workflow.FieldError{Path: path, Message: msg})
	if prev := st.Errors[path]; prev != "" {
		msg = prev + "; " + msg
	}
	st.Errors[path] = msg
}

// decodeDoc reads a workflow document keeping numbers as they were written.
func decodeDoc(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	return doc, nil
}

// newBuilderState is the state of a saved document, as the page opens it.
func newBuilderState(doc map[string]any) *builderState {
	st := &builderState{Doc: doc, Errors: map[string]string{}}
	st.filterFromDoc()
	st.schedFromDoc()
	return st
}

// filterFromDoc opens the filter in rows when condition.Parse reads it, else raw.
func (st *builderState) filterFromDoc() {
	f, _ := st.Doc["filter"].(string)
	st.Raw = f
	if g, ok := condition.Parse(f); ok {
		st.FilterMode, st.Match, st.Rows = "rows", g.Mode, g.Conditions
		if st.Match == "" {
			st.Match = condition.ModeAll
		}
		if len(st.Rows) == 0 {
			st.Rows = []condition.Condition{{Op: condition.OpEquals}}
		}
		return
	}
	st.FilterMode, st.Match = "raw", condition.ModeAll
}

// schedFromDoc opens the schedule in its preset when cronread recognises the cron.
func (st *builderState) schedFromDoc() {
	cron := str(at(st.Doc, "trigger", "schedule")["cron"])
	st.Sched = schedForm{Preset: "raw", Every: 15, Time: "09:00", Weekday: 1, Day: 1}
	kind, p, ok := cronread.PresetOf(cron)
	if !ok {
		return
	}
	st.Sched = schedForm{Preset: kind, Every: p.Every, Minute: p.Minute, Time: fmt.Sprintf("%02d:%02d", p.Hour, p.Minute),
		Weekday: int(p.Weekday), Day: p.Day}
	if st.Sched.Every == 0 {
		st.Sched.Every = 15
	}
	if st.Sched.Day == 0 {
		st.Sched.Day = 1
	}
}

// at returns the object at keys below m, or nil; it creates nothing.
func at(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// obj returns the object m[key], creating it when missing.
func obj(m map[string]any, key string) map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return o
	}
	o := map[string]any{}
	m[key] = o
	return o
}

// dropEmpty removes m[key] when it is an empty object.
func dropEmpty(m map[string]any, key string) {
	if o, ok := m[key].(map[string]any); ok && len(o) == 0 {
		delete(m, key)
	}
}

// str is a value as text: a string as it is, a number as written, else "".
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// setStr sets m[key] to the trimmed text, or removes it when empty.
func setStr(m map[string]any, key, val string) {
	if val = strings.TrimSpace(val); val == "" {
		delete(m, key)
		return
	}
	m[key] = val
}

// steps returns the document's steps.
func docSteps(doc map[string]any) []any {
	s, _ := doc["steps"].([]any)
	return s
}

// formReader reads the posted form; a name absent from the form leaves the document as
// it is.
type formReader struct{ c *gin.Context }

func (f formReader) get(name string) (string, bool) {
	vals, ok := f.c.Request.PostForm[name]
	if !ok || len(vals) == 0 {
		return "", false
	}
	// A switch posts a hidden "false" then, when ticked, "true": the last one counts.
	return vals[len(vals)-1], true
}

func (f formReader) apply(m map[string]any, key, name string) {
	if v, ok := f.get(name); ok {
		setStr(m, key, v)
	}
}

// readBuilder parses the posted form: the document it was drawn from ("definition")
// with the form's fields applied onto it.
func (h *Handler) readBuilder(c *gin.Context, v *view) (*builderState, error) {
	raw := c.PostForm("definition")
	doc, err := decodeDoc([]byte(raw))
	if err != nil {
		return nil, &workflow.ValidationError{Errors: []workflow.FieldError{{Message: v.T("builder.error.document", "Error", err.Error())}}}
	}
	st := &builderState{Doc: doc, Errors: map[string]string{}}
	f := formReader{c}
	h.applyTrigger(f, st, v)
	applyFilter(f, st, v)
	h.applySteps(f, st)
	return st, nil
}

// Auth settings of the webhook presets, besides the connection.
var authKeys = []string{"header", "query", "field", "algorithm", "encoding", "prefix", "tolerance"}

// authParams are the settings a preset takes (the engine checks them on save).
func authParams(typ string) []string {
	switch typ {
	case "token":
		return []string{"header", "query", "prefix"}
	case "hmac":
		return []string{"header", "algorithm", "encoding", "prefix"}
	case "tilda":
		return []string{"header", "field"}
	case "stripe", "slack", "standard-webhooks", "hubspot-v3":
		return []string{"tolerance"}
	}
	return nil
}

func (h *Handler) applyTrigger(f formReader, st *builderState, v *view) {
	trig := obj(st.Doc, "trigger")
	typ, posted := f.get("trigger.type")
	if posted && typ != "" {
		trig["type"] = typ
	}
	switch str(trig["type"]) {
	case workflow.TriggerWebhook:
		wh := obj(trig, "webhook")
		if at, ok := f.get("trigger.webhook.auth.type"); ok {
			if at == "" || at == "none" {
				delete(wh, "auth")
			} else {
				auth := obj(wh, "auth")
				changed := str(auth["type"]) != at
				auth["type"] = at
				f.apply(auth, "connection", "trigger.webhook.auth.connection")
				for _, k := range authKeys {
					f.apply(auth, k, "trigger.webhook.auth."+k)
				}
				if changed {
					keep := map[string]bool{}
					for _, k := range authParams(at) {
						keep[k] = true
					}
					for _, k := range authKeys {
						if !keep[k] {
							delete(auth, k)
						}
					}
				}
			}
		}
		if mode, ok := f.get("trigger.webhook.response.mode"); ok {
			resp := obj(wh, "response")
			setStr(resp, "mode", mode)
			if mode == "" || mode == "accepted" {
				delete(resp, "mode")
			}
			if mode == "custom" {
				if s, ok := f.get("trigger.webhook.response.status"); ok {
					if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
						resp["status"] = n
					} else if strings.TrimSpace(s) == "" {
						delete(resp, "status")
					} else {
						st.addProblem("trigger.webhook.response.status", v.T("builder.error.integer"))
					}
				}
				f.apply(resp, "body", "trigger.webhook.response.body")
			}
			dropEmpty(wh, "response")
		}
		dropEmpty(trig, "webhook")
	case workflow.TriggerSchedule:
		sch := obj(trig, "schedule")
		preset, ok := f.get("schedule.preset")
		if !ok {
			if str(sch["cron"]) == "" {
				sch["cron"] = "0 9 * * *"
			}
			st.schedFromDoc()
		} else {
			st.Sched = readSchedForm(f, preset)
			if preset == "raw" {
				f.apply(sch, "cron", "trigger.schedule.cron")
			} else if spec, err := presetSpec(st.Sched); err != nil {
				st.addProblem("trigger.schedule.cron", err.Error())
			} else {
				sch["cron"] = spec
			}
		}
		f.apply(sch, "timezone", "trigger.schedule.timezone")
	case workflow.TriggerPoll:
		pl := obj(trig, "poll")
		if u, ok := f.get("trigger.poll.uses"); ok {
			if u != str(pl["uses"]) {
				delete(pl, "with")
				setStr(pl, "uses", u)
			} else if _, p, found := h.engine.Registry().Poller(u); found {
				with := obj(pl, "with")
				for _, fs := range p.Inputs {
					applyInput(f, with, fs, "trigger.poll.with."+fs.Name, st)
				}
				dropEmpty(pl, "with")
			}
		}
		f.apply(pl, "connection", "trigger.poll.connection")
		f.apply(pl, "cron", "trigger.poll.cron")
		f.apply(pl, "timezone", "trigger.poll.timezone")
		if str(pl["cron"]) == "" && !posted {
			pl["cron"] = "@every 5m"
		}
	}
}

// readSchedForm reads the schedule card's preset fields.
func readSchedForm(f formReader, preset string) schedForm {
	n := func(name string, def int) int {
		s, _ := f.get(name)
		if x, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return x
		}
		return def
	}
	t, _ := f.get("schedule.time")
	if t == "" {
		t = "09:00"
	}
	return schedForm{Preset: preset, Every: n("schedule.every", 15), Minute: n("schedule.minute", 0), Time: t,
		Weekday: n("schedule.weekday", 1), Day: n("schedule.day", 1)}
}

// presetSpec is the cron of a preset form.
func presetSpec(s schedForm) (string, error) {
	p := cronread.Params{Every: s.Every, Minute: s.Minute, Weekday: 0, Day: s.Day}
	p.Weekday = weekday(s.Weekday)
	if s.Preset != cronread.PresetHourly && s.Preset != cronread.PresetEveryMinutes {
		hh, mm, ok := strings.Cut(s.Time, ":")
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if !ok || err1 != nil || err2 != nil {
			return "", fmt.Errorf("time %q is not HH:MM", s.Time)
		}
		p.Hour, p.Minute = h, m
	}
	return cronread.PresetSpec(s.Preset, p)
}

func applyFilter(f formReader, st *builderState, v *view) {
	mode, ok := f.get("filter.mode")
	if !ok {
		st.filterFromDoc()
		return
	}
	st.FilterMode = mode
	if mode == "raw" {
		st.Raw, _ = f.get("filter.raw")
		setStr(st.Doc, "filter", st.Raw)
		st.Match = condition.ModeAll
		return
	}
	st.Match, _ = f.get("filter.match")
	if st.Match != condition.ModeAny {
		st.Match = condition.ModeAll
	}
	st.Rows = nil
	var used []int
	g := condition.Group{Mode: st.Match}
	for i := 0; ; i++ {
		p := fmt.Sprintf("filter.rows[%d].", i)
		op, ok := f.get(p + "op")
		if !ok {
			break
		}
		field, _ := f.get(p + "field")
		val, _ := f.get(p + "value")
		row := condition.Condition{Field: strings.TrimSpace(field), Op: op, Value: val}
		st.Rows = append(st.Rows, row)
		if row.Field != "" {
			g.Conditions = append(g.Conditions, row)
			used = append(used, i)
		}
	}
	expr, err := condition.Build(g)
	if err != nil {
		var ce *condition.Error
		if errors.As(err, &ce) && ce.Index < len(used) && ce.Part != "" {
			st.addProblem(fmt.Sprintf("filter.rows[%d].%s", used[ce.Index], ce.Part), ce.Msg)
		} else {
			st.addProblem("filter", err.Error())
		}
		return
	}
	// A saved filter that reads as the same rows keeps its own spelling.
	if orig, ok := st.Doc["filter"].(string); ok {
		if og, ok := condition.Parse(orig); ok {
			if again, err := condition.Build(og); err == nil && again == expr {
				expr = orig
			}
		}
	}
	st.Raw = expr
	setStr(st.Doc, "filter", expr)
}

func (h *Handler) applySteps(f formReader, st *builderState) {
	reg := h.engine.Registry()
	for i, s := range docSteps(st.Doc) {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		p := fmt.Sprintf("steps[%d].", i)
		f.apply(m, "id", p+"id")
		f.apply(m, "name", p+"name")
		oldUses := str(m["uses"])
		oldConn, oldAction, _ := strings.Cut(oldUses, ".")
		conn, okC := f.get(p + "connector")
		if okC {
			action, _ := f.get(p + "action")
			if conn != oldConn {
				action = ""
				delete(m, "connection")
			}
			if c, found := reg.Connector(conn); found {
				if _, has := c.Action(action); !has && len(c.Actions) > 0 {
					action = c.Actions[0].Name
				}
			}
			uses := ""
			if conn != "" && action != "" {
				uses = conn + "." + action
			}
			if uses != oldUses {
				delete(m, "with")
				setStr(m, "uses", uses)
				if uses == "" {
					m["uses"] = ""
				}
			}
			if conn == oldConn && action == oldAction {
				f.apply(m, "connection", p+"connection")
				if _, a, found := reg.Action(uses); found {
					with := obj(m, "with")
					for _, fs := range a.Inputs {
						applyInput(f, with, fs, p+"with."+fs.Name, st)
					}
					dropEmpty(m, "with")
				}
			}
		}
		f.apply(m, "if", p+"if")
		f.apply(m, "for_each", p+"for_each")
		if _, ok := f.get(p + "retry.max_attempts"); ok {
			r := obj(m, "retry")
			if s, _ := f.get(p + "retry.max_attempts"); strings.TrimSpace(s) == "" {
				delete(r, "max_attempts")
			} else if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				r["max_attempts"] = n
			} else {
				st.addProblem(p+"retry.max_attempts", "must be a whole number")
			}
			f.apply(r, "initial", p+"retry.initial")
			f.apply(r, "max", p+"retry.max")
			dropEmpty(m, "retry")
		}
		if v, ok := f.get(p + "continue_on_error"); ok {
			if v == "true" {
				m["continue_on_error"] = true
			} else {
				delete(m, "continue_on_error")
			}
		}
	}
}

// applyInput reads one input of an action or poller into with. Every input takes
// templates: a value that does not read as the field's type stays text.
func applyInput(f formReader, with map[string]any, fs fieldSpec, name string, st *builderState) {
	raw, ok := f.get(name)
	if !ok {
		return
	}
	kind := inputKind(fs)
	if kind == kindSwitch {
		if raw == "true" {
			with[fs.Name] = true
		} else if _, was := with[fs.Name]; was || fs.Required {
			with[fs.Name] = false
		}
		return
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		delete(with, fs.Name)
		return
	}
	switch kind {
	case kindInteger, kindNumber:
		if n, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64); err == nil && !strings.Contains(s, "{{") {
			if kind == kindInteger && n == float64(int64(n)) {
				with[fs.Name] = int64(n)
			} else {
				with[fs.Name] = n
			}
			return
		}
	case kindList:
		with[fs.Name] = nonEmptyLines(s)
		return
	case kindAny, kindJSON:
		if !strings.Contains(s, "{{") {
			if x, err := decodeValue(s); err == nil {
				with[fs.Name] = x
				return
			}
		}
	case kindText, kindSelect, kindSecret:
		with[fs.Name] = raw
		return
	}
	with[fs.Name] = s
}

// decodeValue reads one JSON value keeping numbers as written.
func decodeValue(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one value")
	}
	return x, nil
}

// applyOp applies a structural change: "add_step", "remove_step:1", "move_up:1",
// "move_down:1", "duplicate_step:1", "add_row", "remove_row:0", "filter_raw",
// "filter_rows"; anything else ("refresh") only draws the form again.
func applyOp(st *builderState, op string, v *view) {
	name, idx, _ := strings.Cut(op, ":")
	i, _ := strconv.Atoi(idx)
	steps := docSteps(st.Doc)
	inSteps := i >= 0 && i < len(steps)
	switch name {
	case "add_step":
		st.Doc["steps"] = append(steps, map[string]any{"id": nextStepID(steps), "uses": ""})
	case "remove_step":
		if inSteps {
			st.Doc["steps"] = append(steps[:i:i], steps[i+1:]...)
		}
	case "move_up":
		if inSteps && i > 0 {
			steps[i-1], steps[i] = steps[i], steps[i-1]
		}
	case "move_down":
		if inSteps && i+1 < len(steps) {
			steps[i+1], steps[i] = steps[i], steps[i+1]
		}
	case "duplicate_step":
		if inSteps {
			cp := deepCopy(steps[i])
			if m, ok := cp.(map[string]any); ok {
				m["id"] = nextStepID(steps)
			}
			out := append(steps[:i+1:i+1], cp)
			st.Doc["steps"] = append(out, steps[i+1:]...)
		}
	case "add_row":
		st.Rows = append(st.Rows, condition.Condition{Op: condition.OpEquals})
	case "remove_row":
		if i >= 0 && i < len(st.Rows) {
			st.Rows = append(st.Rows[:i:i], st.Rows[i+1:]...)
		}
		if len(st.Rows) == 0 {
			st.Rows = []condition.Condition{{Op: condition.OpEquals}}
		}
		g := condition.Group{Mode: st.Match}
		for _, r := range st.Rows {
			if r.Field != "" {
				g.Conditions = append(g.Conditions, r)
			}
		}
		if expr, err := condition.Build(g); err == nil {
			setStr(st.Doc, "filter", expr)
		}
	case "filter_raw":
		st.FilterMode, st.Raw = "raw", str(st.Doc["filter"])
	case "filter_rows":
		g, ok := condition.Parse(str(st.Doc["filter"]))
		if !ok {
			st.FilterNote = v.T("builder.filter.not_rows")
			return
		}
		st.FilterMode, st.Match, st.Rows = "rows", g.Mode, g.Conditions
		if st.Match == "" {
			st.Match = condition.ModeAll
		}
		if len(st.Rows) == 0 {
			st.Rows = []condition.Condition{{Op: condition.OpEquals}}
		}
	}
}

// nextStepID is the first of step_1, step_2... that no step has.
func nextStepID(steps []any) string {
	used := map[string]bool{}
	for _, s := range steps {
		if m, ok := s.(map[string]any); ok {
			used[str(m["id"])] = true
		}
	}
	for n := len(steps) + 1; ; n++ {
		if id := "step_" + strconv.Itoa(n); !used[id] {
			return id
		}
	}
}

func deepCopy(x any) any {
	switch t := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, v := range t {
			s[i] = deepCopy(v)
		}
		return s
	}
	return x
}

// builderShow opens the builder on the workflow's current version.
func (h *Handler) builderShow(c *gin.Context, v *view) {
	wh, ok := h.loadWorkflowHeader(c, v, "builder")
	if !ok {
		return
	}
	doc, err := decodeDoc(wh.Workflow.Definition)
	if err != nil {
		h.fail(c, v, err)
		return
	}
	h.renderBuilder(c, v, http.StatusOK, wh, newBuilderState(doc), wh.Workflow.Version, false)
}

// postedBuilder is the start of every builder post: an editor, the workflow, and the
// posted form read onto its document. On false the request has been answered.
func (h *Handler) postedBuilder(c *gin.Context, v *view) (workflowHeader, *builderState, bool) {
	if !h.requireEditor(c, v) {
		return workflowHeader{}, nil, false
	}
	wh, ok := h.loadWorkflowHeader(c, v, "builder")
	if !ok {
		return workflowHeader{}, nil, false
	}
	st, err := h.readBuilder(c, v)
	if err != nil {
		h.fail(c, v, err)
		return workflowHeader{}, nil, false
	}
	return wh, st, true
}

// builderUpdate applies a structural change to the posted form and draws it again.
func (h *Handler) builderUpdate(c *gin.Context, v *view) {
	wh, st, ok := h.postedBuilder(c, v)
	if !ok {
		return
	}
	applyOp(st, c.PostForm("op"), v)
	base, _ := strconv.Atoi(c.PostForm("base_version"))
	h.renderBuilderForm(c, v, http.StatusOK, wh, st, base)
}

// builderSave saves the posted form as the workflow's next version. Problems come back
// next to their fields (422); a save over someone else's newer version is refused once
// (409) and goes through when posted again.
func (h *Handler) builderSave(c *gin.Context, v *view) {
	wh, st, ok := h.postedBuilder(c, v)
	if !ok {
		return
	}
	id := wh.Workflow.ID
	if base, _ := strconv.Atoi(c.PostForm("base_version")); base != 0 && base != wh.Workflow.Version {
		h.renderBuilder(c, v, http.StatusConflict, wh, st, wh.Workflow.Version, true)
		return
	}
	if len(st.Problems) > 0 {
		h.renderBuilder(c, v, http.StatusUnprocessableEntity, wh, st, wh.Workflow.Version, false)
		return
	}
	saved, err := decodeDoc(wh.Workflow.Definition)
	now, err2 := decodeDoc(encodeDoc(st.Doc))
	if err == nil && err2 == nil && reflect.DeepEqual(saved, now) {
		h.redirect(c, "/workflows/"+id+"/edit", "workflow_unchanged")
		return
	}
	if _, err = h.engine.UpdateWorkflow(c.Request.Context(), id, encodeDoc(st.Doc)); err == nil {
		h.redirect(c, "/workflows/"+id+"/edit", "workflow_saved")
		return
	}
	var invalid *workflow.ValidationError
	if !errors.As(err, &invalid) {
		h.fail(c, v, err)
		return
	}
	for _, fe := range invalid.Errors {
		st.addProblem(fe.Path, fe.Message)
	}
	h.renderBuilder(c, v, http.StatusUnprocessableEntity, wh, st, wh.Workflow.Version, false)
}

// keyOrder is the order the builder writes a document's keys in; others follow,
// sorted.
var keyOrder = []string{"$schema", "name", "description", "enabled", "trigger", "type", "webhook", "schedule", "poll",
	"filter", "steps", "id", "uses", "connection", "if", "for_each", "with", "retry", "timeout", "continue_on_error"}

// encodeDoc writes the document as indented JSON, well-known keys first.
func encodeDoc(doc map[string]any) []byte {
	var buf bytes.Buffer
	writeJSON(&buf, doc, "")
	return buf.Bytes()
}

func writeJSON(buf *bytes.Buffer, x any, indent string) {
	switch t := x.(type) {
	case map[string]any:
		if len(t) == 0 {
			buf.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(t))
		seen := map[string]bool{}
		for _, k := range keyOrder {
			if _, ok := t[k]; ok {
				keys, seen[k] = append(keys, k), true
			}
		}
		var rest []string
		for k := range t {
			if !seen[k] {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		keys = append(keys, rest...)
		buf.WriteString("{\n")
		for i, k := range keys {
			kb, _ := json.Marshal(k)
			buf.WriteString(indent + "  ")
			buf.Write(kb)
			buf.WriteString(": ")
			writeJSON(buf, t[k], indent+"  ")
			if i < len(keys)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "}")
	case []any:
		if len(t) == 0 {
			buf.WriteString("[]")
			return
		}
		buf.WriteString("[\n")
		for i, e := range t {
			buf.WriteString(indent + "  ")
			writeJSON(buf, e, indent+"  ")
			if i < len(t)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "]")
	default:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(t)
		buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
	}
}

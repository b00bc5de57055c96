package ui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/engine/workflow/condition"
	"github.com/hookflow/hookflow/engine/workflow/cronread"
	"github.com/hookflow/hookflow/web/api"
)

// fieldSpec is an input's spec, as connectors describe it.
type fieldSpec = connectors.Field

// kindAny is an input of any type: a text input whose value is read as JSON when it is
// (a number, true), else kept as text.
const kindAny = "any"

// inputKind chooses the control of an action's or poller's input.
func inputKind(f connectors.Field) string {
	if f.Type == connectors.TypeAny {
		return kindAny
	}
	if f.Secret {
		return kindText
	}
	return fieldKind(f)
}

func weekday(n int) time.Weekday {
	if n < 0 || n > 6 {
		return time.Monday
	}
	return time.Weekday(n)
}

// bField is one control of the builder: Name is its form name, Path the document path
// whose problems it shows.
type bField struct {
	Name        string
	Path        string
	Label       string
	Help        string
	Kind        string // text, number, time, select, switch, json, list, any, textarea
	Value       string
	Checked     bool
	Options     []selectOption
	Blank       bool
	Placeholder string
	List        string // a datalist's id
	Required    bool
	// Update posts the form to be drawn again when the control changes.
	Update bool
	Error  string
}

// ID is the control's element id.
func (f bField) ID() string { return ctlID(f.Name) }

// ctlID turns a form name ("steps[1].with.text") into an element id.
func ctlID(name string) string {
	var b strings.Builder
	b.WriteString("b-")
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// builderPage is the data of the builder.
type builderPage struct {
	workflowHeader
	Edit       bool
	Base       int
	Stale      bool
	Definition string
	Problems   []workflow.FieldError

	TriggerType bField
	Trigger     []bField
	WebhookURL  string
	Masked      bool
	AuthHint    string
	Reading     string
	ReadingErr  string
	Next        []string
	Zone        string

	FilterMode string
	FilterNote string
	Match      bField
	Rows       []filterRow
	Raw        bField
	Paths      []string
	Zones      []string

	Steps []stepCard
}

// filterRow is one condition of the filter card.
type filterRow struct {
	Index             int
	Field, Op, Value  bField
	NoValue           bool
	RemoveLabel       string
	FieldPlaceholders string
}

// stepCard is one step.
type stepCard struct {
	Index  int
	ID     string
	Title  string
	Head   []bField
	Inputs []bField
	// Optional are the inputs that are neither required nor set: folded away.
	Optional []bField
	More     []bField
	// NewConn is the "New connection" block (builder_inline.go), for an editor.
	NewConn *builderInline
	First   bool
	Last    bool
	Step    map[string]any
}

// UpdateURL is where structural changes post.
func (p *builderPage) UpdateURL() string { return "/workflows/" + p.Workflow.ID + "/edit/update" }

// Op is the hx-vals of an op button.
func (p *builderPage) Op(op string, i int) string {
	b, _ := json.Marshal(map[string]string{"op": op + ":" + strconv.Itoa(i)})
	return string(b)
}

// timeZones are offered in the schedule's time zone list (any IANA name is accepted).
var timeZones = []string{"UTC", "Europe/Moscow", "Europe/Kaliningrad", "Europe/Samara", "Asia/Yekaterinburg",
	"Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok",
	"Asia/Magadan", "Asia/Kamchatka", "Europe/Minsk", "Europe/Kyiv", "Asia/Almaty", "Asia/Tashkent", "Asia/Tbilisi",
	"Asia/Yerevan", "Asia/Baku", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Istanbul", "Asia/Dubai",
	"Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "America/New_York",
	"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo"}

// authOrder lists the webhook presets as the picker offers them: by service first, the
// generic schemes last.
func authOrder() []string {
	generic := map[string]bool{"token": true, "basic": true, "hmac": true, "none": true}
	out := []string{"none"}
	var tail []string
	for _, p := range engine.WebhookAuthPresets() {
		switch {
		case p == "none":
		case generic[p]:
			tail = append(tail, p)
		default:
			out = append(out, p)
		}
	}
	return append(out, tail...)
}

func init() {
	addBuiltKeys("builder.auth.", engine.WebhookAuthPresets()...)
	for _, p := range engine.WebhookAuthPresets() {
		if p != "none" {
			addBuiltKeys("builder.auth.hint.", p)
		}
	}
	addBuiltKeys("builder.auth.param.", authKeys...)
	addBuiltKeys("builder.response.", "accepted", "custom", "result")
	addBuiltKeys("builder.weekday.", "0", "1", "2", "3", "4", "5", "6")
	addBuiltKeys("builder.schedule.param.", "every", "minute", "time", "weekday", "day")
}

// renderBuilder writes the whole page.
func (h *Handler) renderBuilder(c *gin.Context, v *view, status int, wh workflowHeader, st *builderState, base int, stale bool) {
	p := h.builderPage(c, v, wh, st, base)
	p.Stale = stale
	v.Data = p
	h.render(c, status, "builder", v)
}

// renderBuilderForm writes the form alone, for htmx.
func (h *Handler) renderBuilderForm(c *gin.Context, v *view, status int, wh workflowHeader, st *builderState, base int) {
	v.Data = h.builderPage(c, v, wh, st, base)
	h.renderBlock(c, status, "builder", "builder-form", v)
}

// builderPage draws the state as cards.
func (h *Handler) builderPage(c *gin.Context, v *view, wh workflowHeader, st *builderState, base int) *builderPage {
	ctx := c.Request.Context()
	p := &builderPage{workflowHeader: wh, Edit: v.Can(engine.RoleEditor), Base: base,
		Definition: string(encodeDoc(st.Doc)), Problems: st.Problems, Zones: timeZones}
	conns, err := h.engine.ListConnections(ctx)
	if err != nil {
		h.log.Error("List connections for the builder", "err", err)
	}
	connOptions := func(connector string) []selectOption {
		var out []selectOption
		for _, cn := range conns {
			if cn.Connector == connector {
				out = append(out, selectOption{Value: cn.Name, Label: cn.Name})
			}
		}
		return out
	}
	h.triggerCard(c, v, p, st, connOptions)
	p.Paths = h.samplePaths(c, wh.Workflow.ID)
	filterCard(v, p, st)
	h.stepCards(v, p, st, connOptions)
	p.placeErrors(st.Errors)
	return p
}

// withOption makes sure a select offers its current value.
func withOption(opts []selectOption, val string) []selectOption {
	if val == "" {
		return opts
	}
	for _, o := range opts {
		if o.Value == val {
			return opts
		}
	}
	return append(opts, selectOption{Value: val, Label: val})
}

func (h *Handler) triggerCard(c *gin.Context, v *view, p *builderPage, st *builderState, connOptions func(string) []selectOption) {
	trig := at(st.Doc, "trigger")
	typ := str(trig["type"])
	types := []string{workflow.TriggerWebhook, workflow.TriggerSchedule, workflow.TriggerPoll}
	if typ == workflow.TriggerManual {
		types = append(types, workflow.TriggerManual)
	}
	p.TriggerType = bField{Name: "trigger.type", Path: "trigger.type", Label: v.T("builder.trigger.type"), Kind: kindSelect,
		Value: typ, Update: true, Blank: typ == ""}
	for _, t := range types {
		p.TriggerType.Options = append(p.TriggerType.Options, selectOption{Value: t, Label: v.T("workflows.trigger." + t)})
	}
	switch typ {
	case workflow.TriggerWebhook:
		token := p.Workflow.HookToken
		if !engine.CanSeeSecrets(c.Request.Context()) {
			token, p.Masked = api.MaskToken(token), true
		}
		p.WebhookURL = api.WebhookURL(h.baseURL, c.Request, token)
		wh := at(trig, "webhook")
		auth := at(wh, "auth")
		atype := str(auth["type"])
		if atype == "" {
			atype = "none"
		}
		af := bField{Name: "trigger.webhook.auth.type", Path: "trigger.webhook.auth", Label: v.T("builder.auth.label"),
			Kind: kindSelect, Value: atype, Update: true}
		for _, a := range authOrder() {
			af.Options = append(af.Options, selectOption{Value: a, Label: v.T("builder.auth." + a)})
		}
		af.Options = withOption(af.Options, atype)
		p.Trigger = append(p.Trigger, af)
		if atype != "none" {
			p.AuthHint = v.T("builder.auth.hint." + atype)
			if engine.WebhookAuthNeedsCredentials(atype) || engine.WebhookAuthConnectionOptional(atype) {
				cv := str(auth["connection"])
				p.Trigger = append(p.Trigger, bField{Name: "trigger.webhook.auth.connection", Path: "trigger.webhook.auth.connection",
					Label: v.T("builder.auth.connection"), Help: v.T("builder.auth.connection_help"), Kind: kindSelect, Value: cv,
					Blank: true, Options: withOption(connOptions("webhook"), cv), Required: !engine.WebhookAuthConnectionOptional(atype)})
			}
			for _, k := range authParams(atype) {
				f := bField{Name: "trigger.webhook.auth." + k, Path: "trigger.webhook.auth." + k,
					Label: v.T("builder.auth.param." + k), Kind: kindText, Value: str(auth[k])}
				switch k {
				case "algorithm":
					f.Kind, f.Blank = kindSelect, true
					f.Options = withOption([]selectOption{{"sha1", "SHA-1"}, {"sha256", "SHA-256"}, {"sha512", "SHA-512"}}, f.Value)
				case "encoding":
					f.Kind, f.Blank = kindSelect, true
					f.Options = withOption([]selectOption{{"hex", "hex"}, {"base64", "base64"}}, f.Value)
				case "tolerance":
					f.Placeholder = "5m"
				}
				p.Trigger = append(p.Trigger, f)
			}
		}
		resp := at(wh, "response")
		mode := str(resp["mode"])
		if mode == "" {
			mode = "accepted"
		}
		mf := bField{Name: "trigger.webhook.response.mode", Path: "trigger.webhook.response", Label: v.T("builder.response.label"),
			Kind: kindSelect, Value: mode, Update: true}
		for _, m := range []string{"accepted", "custom", "result"} {
			mf.Options = append(mf.Options, selectOption{Value: m, Label: v.T("builder.response." + m)})
		}
		p.Trigger = append(p.Trigger, mf)
		if mode == "custom" {
			p.Trigger = append(p.Trigger,
				bField{Name: "trigger.webhook.response.status", Path: "trigger.webhook.response.status", Label: v.T("builder.response.status"),
					Kind: kindNumber, Value: str(resp["status"]), Placeholder: "200"},
				bField{Name: "trigger.webhook.response.body", Path: "trigger.webhook.response.body", Label: v.T("builder.response.body"),
					Kind: "textarea", Value: str(resp["body"])})
		}
	case workflow.TriggerSchedule:
		sch := at(trig, "schedule")
		s := st.Sched
		pf := bField{Name: "schedule.preset", Path: "trigger.schedule.cron", Label: v.T("builder.schedule.preset"), Kind: kindSelect,
			Value: s.Preset, Update: true}
		for _, pr := range cronread.Presets {
			pf.Options = append(pf.Options, selectOption{Value: pr.Kind, Label: pr.Label[v.Lang()]})
		}
		pf.Options = append(pf.Options, selectOption{Value: "raw", Label: v.T("builder.schedule.raw")})
		if s.Preset == "raw" {
			pf.Path = "schedule.preset"
		}
		p.Trigger = append(p.Trigger, pf)
		if s.Preset == "raw" {
			p.Trigger = append(p.Trigger, bField{Name: "trigger.schedule.cron", Path: "trigger.schedule.cron",
				Label: v.T("builder.schedule.cron"), Help: v.T("builder.schedule.cron_help"), Kind: kindText,
				Value: str(sch["cron"]), Update: true, Required: true})
		} else {
			for _, pr := range cronread.Presets {
				if pr.Kind != s.Preset {
					continue
				}
				for _, param := range pr.Params {
					f := bField{Name: "schedule." + param, Path: "schedule." + param, Label: v.T("builder.schedule.param." + param),
						Kind: kindNumber, Update: true}
					switch param {
					case "every":
						f.Value = strconv.Itoa(s.Every)
					case "minute":
						f.Value = strconv.Itoa(s.Minute)
					case "day":
						f.Value = strconv.Itoa(s.Day)
					case "time":
						f.Kind, f.Value = "time", s.Time
					case "weekday":
						f.Kind, f.Value = kindSelect, strconv.Itoa(s.Weekday)
						for _, d := range []int{1, 2, 3, 4, 5, 6, 0} {
							f.Options = append(f.Options, selectOption{Value: strconv.Itoa(d), Label: v.T("builder.weekday." + strconv.Itoa(d))})
						}
					}
					p.Trigger = append(p.Trigger, f)
				}
			}
		}
		tz := str(sch["timezone"])
		p.Trigger = append(p.Trigger, bField{Name: "trigger.schedule.timezone", Path: "trigger.schedule.timezone",
			Label: v.T("builder.schedule.timezone"), Kind: kindText, Value: tz, Placeholder: "UTC", List: "builder-zones", Update: true})
		p.describe(v, str(sch["cron"]), tz)
	case workflow.TriggerPoll:
		pl := at(trig, "poll")
		uses := str(pl["uses"])
		uf := bField{Name: "trigger.poll.uses", Path: "trigger.poll.uses", Label: v.T("builder.poll.uses"), Kind: kindSelect,
			Value: uses, Blank: true, Update: true, Required: true}
		for _, cn := range h.engine.Registry().Connectors() {
			spec := v.LocalSpec(cn.Spec())
			for _, pr := range spec.Pollers {
				uf.Options = append(uf.Options, selectOption{Value: cn.Name + "." + pr.Name,
					Label: v.tr.connectorTitle(cn) + " · " + pr.Title})
			}
		}
		uf.Options = withOption(uf.Options, uses)
		p.Trigger = append(p.Trigger, uf)
		if cn, pr, ok := h.engine.Registry().Poller(uses); ok {
			cv := str(pl["connection"])
			p.Trigger = append(p.Trigger, bField{Name: "trigger.poll.connection", Path: "trigger.poll.connection",
				Label: v.T("builder.step.connection"), Kind: kindSelect, Value: cv, Blank: true,
				Options: withOption(connOptions(cn.Name), cv)})
			spec := v.LocalSpec(cn.Spec())
			inputs := pr.Inputs
			for _, lp := range spec.Pollers {
				if lp.Name == pr.Name {
					inputs = lp.Inputs
				}
			}
			with := at(pl, "with")
			for _, fs := range inputs {
				p.Trigger = append(p.Trigger, inputField(v, fs, "trigger.poll.with."+fs.Name, with[fs.Name],
					func(f connectors.Field) string { return pollerInputKey(cn.Name, pr.Name, f.Name) }))
			}
		}
		p.Trigger = append(p.Trigger,
			bField{Name: "trigger.poll.cron", Path: "trigger.poll.cron", Label: v.T("builder.poll.cron"), Help: v.T("builder.schedule.cron_help"),
				Kind: kindText, Value: str(pl["cron"]), Update: true, Required: true},
			bField{Name: "trigger.poll.timezone", Path: "trigger.poll.timezone", Label: v.T("builder.schedule.timezone"),
				Kind: kindText, Value: str(pl["timezone"]), Placeholder: "UTC", List: "builder-zones", Update: true})
		p.describe(v, str(pl["cron"]), str(pl["timezone"]))
	}
}

// describe reads a schedule and lists its next five times in its zone.
func (p *builderPage) describe(v *view, cron, tz string) {
	if strings.TrimSpace(cron) == "" {
		return
	}
	p.Zone = tz
	if p.Zone == "" {
		p.Zone = "UTC"
	}
	r, err := cronread.Describe(cron, v.Lang())
	if err != nil {
		p.ReadingErr = err.Error()
		return
	}
	p.Reading = r
	times, err := cronread.NextTimes(cron, tz, time.Now(), 5)
	if err != nil {
		p.ReadingErr = err.Error()
		return
	}
	for _, t := range times {
		p.Next = append(p.Next, t.Format("2006-01-02 15:04 MST"))
	}
}

// inputField is the control of an action's or poller's input holding val.
func inputField(v *view, fs connectors.Field, name string, val any, key func(connectors.Field) string) bField {
	f := bField{Name: name, Path: name, Label: fs.Title, Help: strings.ReplaceAll(fs.Description, "`", ""),
		Kind: inputKind(fs), Required: fs.Required}
	if f.Label == "" {
		f.Label = fs.Name
	}
	switch f.Kind {
	case kindSwitch:
		if b, ok := val.(bool); ok {
			f.Checked = b
		} else if val == nil {
			b, _ := fs.Default.(bool)
			f.Checked = b
		}
		if s, ok := val.(string); ok {
			f.Kind, f.Value = kindText, s // a template
		}
	case kindSelect:
		f.Value, f.Blank = str(val), true
		for _, e := range fs.Enum {
			f.Options = append(f.Options, selectOption{Value: e, Label: v.OptionLabel(key(fs), fs, e)})
		}
		f.Options = withOption(f.Options, f.Value)
	case kindAny, kindNumber, kindInteger:
		if s, ok := val.(string); ok {
			f.Value = s
		} else if val != nil {
			b, _ := json.Marshal(val)
			f.Value = string(b)
		}
	default:
		f.Value = formValue(f.Kind, val)
		if n, ok := val.(json.Number); ok {
			f.Value = n.String()
		}
	}
	switch {
	case fs.Default != nil && f.Kind != kindSwitch:
		f.Placeholder = formValue(f.Kind, fs.Default)
	case len(fs.Examples) > 0 && f.Kind != kindSwitch:
		f.Placeholder = formValue(f.Kind, fs.Examples[0])
	}
	return f
}

func filterCard(v *view, p *builderPage, st *builderState) {
	p.FilterMode, p.FilterNote = st.FilterMode, st.FilterNote
	p.Match = bField{Name: "filter.match", Path: "filter.match", Label: v.T("builder.filter.match"), Kind: kindSelect, Value: st.Match,
		Options: []selectOption{{condition.ModeAll, v.T("builder.filter.all")}, {condition.ModeAny, v.T("builder.filter.any")}}}
	p.Raw = bField{Name: "filter.raw", Path: "filter", Label: v.T("builder.filter.raw"), Help: v.T("builder.filter.raw_help"),
		Kind: "textarea", Value: st.Raw}
	if st.FilterMode != "rows" {
		return
	}
	for i, r := range st.Rows {
		pre := fmt.Sprintf("filter.rows[%d].", i)
		row := filterRow{Index: i,
			Field: bField{Name: pre + "field", Path: pre + "field", Label: v.T("builder.filter.field", "N", i+1), Kind: kindText,
				Value: r.Field, List: "builder-paths", Placeholder: "trigger.body.amount"},
			Op: bField{Name: pre + "op", Path: pre + "op", Label: v.T("builder.filter.op", "N", i+1), Kind: kindSelect, Value: r.Op,
				Update: true},
			Value: bField{Name: pre + "value", Path: pre + "value", Label: v.T("builder.filter.value", "N", i+1), Kind: kindText, Value: r.Value},
		}
		for _, o := range condition.Ops {
			label := o.Label[v.Lang()]
			if label == "" {
				label = o.Label["en"]
			}
			row.Op.Options = append(row.Op.Options, selectOption{Value: o.Op, Label: label})
		}
		if info, ok := condition.Info(r.Op); ok && info.Value == condition.ValueNone {
			row.NoValue = true
		}
		row.RemoveLabel = v.T("builder.filter.remove", "N", i+1)
		p.Rows = append(p.Rows, row)
	}
}

// Filter is the document's filter.
func (p *builderPage) Filter() string {
	var doc struct {
		Filter string `json:"filter"`
	}
	_ = json.Unmarshal([]byte(p.Definition), &doc)
	return doc.Filter
}

func (h *Handler) stepCards(v *view, p *builderPage, st *builderState, connOptions func(string) []selectOption) {
	reg := h.engine.Registry()
	steps := docSteps(st.Doc)
	for i, s := range steps {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		pre := fmt.Sprintf("steps[%d].", i)
		uses := str(m["uses"])
		connName, actName, _ := strings.Cut(uses, ".")
		sc := stepCard{Index: i, ID: str(m["id"]), First: i == 0, Last: i == len(steps)-1, Step: m}
		sc.Head = append(sc.Head,
			bField{Name: pre + "id", Path: pre + "id", Label: v.T("builder.step.id"), Help: v.T("builder.step.id_help"), Kind: kindText,
				Value: str(m["id"]), Required: true},
			bField{Name: pre + "name", Path: pre + "name", Label: v.T("builder.step.name"), Kind: kindText, Value: str(m["name"])})
		cf := bField{Name: pre + "connector", Path: pre + "connector", Label: v.T("builder.step.connector"), Kind: kindSelect,
			Value: connName, Blank: true, Update: true, Required: true}
		for _, cn := range reg.Connectors() {
			if len(cn.Actions) > 0 {
				cf.Options = append(cf.Options, selectOption{Value: cn.Name, Label: v.tr.connectorTitle(cn)})
			}
		}
		cf.Options = withOption(cf.Options, connName)
		cn, found := reg.Connector(connName)
		if !found {
			cf.Path = pre + "uses"
		}
		sc.Head = append(sc.Head, cf)
		sc.Title = v.T("builder.step.new")
		if found {
			spec := v.LocalSpec(cn.Spec())
			af := bField{Name: pre + "action", Path: pre + "uses", Label: v.T("builder.step.action"), Kind: kindSelect, Value: actName,
				Update: true, Required: true}
			var action *connectors.ActionSpec
			for j := range spec.Actions {
				a := &spec.Actions[j]
				af.Options = append(af.Options, selectOption{Value: a.Name, Label: a.Title})
				if a.Name == actName {
					action = a
				}
			}
			af.Options = withOption(af.Options, actName)
			sc.Head = append(sc.Head, af)
			sc.Title = v.tr.connectorTitle(cn)
			if action != nil {
				sc.Title += " · " + action.Title
			}
			if len(spec.Connection) > 0 {
				cv := str(m["connection"])
				sc.Head = append(sc.Head, bField{Name: pre + "connection", Path: pre + "connection", Label: v.T("builder.step.connection"),
					Kind: kindSelect, Value: cv, Blank: true, Options: withOption(connOptions(cn.Name), cv), Required: cn.ConnectionRequired})
				if p.Edit {
					sc.NewConn = newBuilderInline(v, cn, p.Workflow.ID, i)
				}
			}
			if action != nil {
				with := at(m, "with")
				for _, fs := range action.Inputs {
					f := inputField(v, fs, pre+"with."+fs.Name, with[fs.Name],
						func(f connectors.Field) string { return actionInputKey(cn.Name, actName, f.Name) })
					if _, set := with[fs.Name]; fs.Required || set {
						sc.Inputs = append(sc.Inputs, f)
					} else {
						sc.Optional = append(sc.Optional, f)
					}
				}
			}
		}
		retry := at(m, "retry")
		coe, _ := m["continue_on_error"].(bool)
		sc.More = []bField{
			{Name: pre + "if", Path: pre + "if", Label: v.T("builder.step.if"), Help: v.T("builder.step.if_help"), Kind: kindText,
				Value: str(m["if"]), List: "builder-paths"},
			{Name: pre + "for_each", Path: pre + "for_each", Label: v.T("builder.step.for_each"), Help: v.T("builder.step.for_each_help"),
				Kind: kindText, Value: str(m["for_each"]), List: "builder-paths"},
			{Name: pre + "retry.max_attempts", Path: pre + "retry.max_attempts", Label: v.T("builder.step.retry_attempts"), Kind: kindNumber,
				Value: str(retry["max_attempts"]), Placeholder: "5"},
			{Name: pre + "retry.initial", Path: pre + "retry.initial", Label: v.T("builder.step.retry_initial"), Kind: kindText,
				Value: str(retry["initial"]), Placeholder: "1s"},
			{Name: pre + "retry.max", Path: pre + "retry.max", Label: v.T("builder.step.retry_max"), Kind: kindText,
				Value: str(retry["max"]), Placeholder: "10m"},
			{Name: pre + "continue_on_error", Path: pre + "continue_on_error", Label: v.T("builder.step.continue"), Kind: kindSwitch,
				Checked: coe},
		}
		p.Steps = append(p.Steps, sc)
	}
}

// placeErrors puts each problem on the control whose path is the longest prefix of the
// problem's path. Every problem is in the summary too.
func (p *builderPage) placeErrors(errs map[string]string) {
	var all []*bField
	all = append(all, &p.TriggerType)
	for i := range p.Trigger {
		all = append(all, &p.Trigger[i])
	}
	all = append(all, &p.Raw)
	for i := range p.Rows {
		all = append(all, &p.Rows[i].Field, &p.Rows[i].Op, &p.Rows[i].Value)
	}
	for i := range p.Steps {
		s := &p.Steps[i]
		for j := range s.Head {
			all = append(all, &s.Head[j])
		}
		for j := range s.Inputs {
			all = append(all, &s.Inputs[j])
		}
		for j := range s.Optional {
			all = append(all, &s.Optional[j])
		}
		for j := range s.More {
			all = append(all, &s.More[j])
		}
	}
	for ep, msg := range errs {
		var best *bField
		for _, f := range all {
			if f.Path == ep || strings.HasPrefix(ep, f.Path+".") || strings.HasPrefix(ep, f.Path+"[") {
				if best == nil || len(f.Path) > len(best.Path) {
					best = f
				}
			}
		}
		if best != nil {
			if best.Error != "" {
				msg = best.Error + "; " + msg
			}
			best.Error = msg
		}
	}
}

// samplePaths are the fields of the latest captured webhook request's body, for the
// filter's field list.
func (h *Handler) samplePaths(c *gin.Context, id string) []string {
	page, err := h.engine.ListEvents(c.Request.Context(), id, "", 1)
	if err != nil || len(page.Items) == 0 {
		return nil
	}
	ev := page.Items[0]
	var body any
	if strings.Contains(ev.ContentType, "form-urlencoded") {
		vals, err := url.ParseQuery(ev.Body)
		if err != nil {
			return nil
		}
		m := map[string]any{}
		for k, vs := range vals {
			if len(vs) > 0 {
				m[k] = vs[0]
			}
		}
		body = m
	} else if json.Unmarshal([]byte(ev.Body), &body) != nil {
		return nil
	}
	return bodyPaths(body)
}

// maxSamplePaths bounds the field list.
const maxSamplePaths = 200

// bodyPaths flattens a request body to the condition fields it holds:
// trigger.body.name, trigger.body.customer.email, trigger.body["first name"]...
func bodyPaths(body any) []string {
	var out []string
	var walk func(x any, keys []string)
	walk = func(x any, keys []string) {
		if len(out) >= maxSamplePaths || len(keys) > 6 {
			return
		}
		m, ok := x.(map[string]any)
		if !ok {
			return
		}
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			next := append(append([]string{}, keys...), k)
			if fp, err := condition.FieldPath("trigger", next...); err == nil && len(out) < maxSamplePaths {
				out = append(out, fp)
			}
			walk(m[k], next)
		}
	}
	walk(body, []string{"body"})
	return out
}

// OptionalOpen says whether the optional inputs show unfolded: when one has a problem.
func (s stepCard) OptionalOpen() bool {
	for _, f := range s.Optional {
		if f.Error != "" {
			return true
		}
	}
	return false
}

// MoreOpen says whether the step's conditions and retries show unfolded: when one is
// set or has a problem.
func (s stepCard) MoreOpen() bool {
	for _, f := range s.More {
		if f.Error != "" || f.Checked || (f.Value != "" && f.Kind != kindSwitch) {
			return true
		}
	}
	return false
}

// Number is the step's position, from 1.
func (s stepCard) Number() int { return s.Index + 1 }

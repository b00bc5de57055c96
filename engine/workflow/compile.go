package workflow

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/expr"
)

// Compiled is a validated workflow with every expression and template compiled: what the
// runner executes. It is immutable and shared by all runs of one workflow version.
type Compiled struct {
	Def    *Workflow
	Filter *expr.Program // nil when the workflow has no filter
	// Dedupe gives a webhook delivery's id; nil when the webhook does not de-duplicate.
	Dedupe *expr.Program
	// ResponseBody renders a custom webhook answer; nil unless response.mode is custom.
	ResponseBody *expr.Template
	// Schedule gives the ticks of a schedule or poll trigger; nil for other triggers.
	Schedule Schedule
	// Poll is the compiled poll trigger; nil for other triggers.
	Poll  *CompiledPoll
	Steps []CompiledStep
}

// CompiledPoll is a poll trigger ready to run.
type CompiledPoll struct {
	Connector *connectors.Connector
	Poller    *connectors.PollerDef
	With      *expr.Value
	// Key gives an item's de-duplication key; nil means the item's whole JSON.
	Key *expr.Program
}

// Catch-up modes of a schedule trigger.
const (
	CatchUpNone   = "none"
	CatchUpLatest = "latest"
	CatchUpAll    = "all"
)

// AlertAfterDefault is how many polls in a row must fail before on_failure runs.
const AlertAfterDefault = 5

// CompiledStep is one step ready to run.
type CompiledStep struct {
	*Step
	Index     int
	Connector *connectors.Connector
	Action    *connectors.ActionDef
	If        *expr.Program // nil when the step has no condition
	ForEach   *expr.Program // nil unless the step loops
	With      *expr.Value
}

var stepIDPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// DefaultMethods are the webhook methods accepted when a workflow names none.
var DefaultMethods = []string{"POST"}

// Compile validates w against the registry's connectors and compiles its expressions and
// templates. Every problem found is reported in one *ValidationError.
func Compile(w *Workflow, reg *connectors.Registry) (*Compiled, error) {
	var errs errorList
	c := &Compiled{Def: w}
	if strings.TrimSpace(w.Name) == "" {
		errs.add("name", "is required")
	}
	c.Dedupe, c.ResponseBody = compileTrigger(&errs, &w.Trigger)
	c.Schedule, c.Poll = compileTimed(&errs, &w.Trigger, reg)
	if w.OnFailure != "" && strings.TrimSpace(w.OnFailure) == "" {
		errs.add("on_failure", "must be a workflow id")
	}
	if w.Concurrency < 0 {
		errs.add("concurrency", "must not be negative")
	}
	if w.MaxDuration < 0 {
		errs.add("max_duration", "must not be negative")
	}
	checkLimits(&errs, w.Limits)
	if r := w.Retention; r != nil {
		if r.MaxAge < 0 {
			errs.add("retention.max_age", "must not be negative")
		}
		if r.MaxRuns < 0 {
			errs.add("retention.max_runs", "must not be negative")
		}
	}
	if w.Filter != "" {
		c.Filter = compileExpr(&errs, "filter", w.Filter)
	}
	seen := map[string]int{}
	for i := range w.Steps {
		st := &w.Steps[i]
		path := indexPath("steps", i)
		cs := CompiledStep{Step: st, Index: i}
		switch {
		case st.ID == "":
			errs.add(path+".id", "is required")
		case !stepIDPattern.MatchString(st.ID):
			errs.add(path+".id", "%q must start with a letter or _ and hold only letters, digits and _ (it is used as steps.%s in expressions)", st.ID, st.ID)
		default:
			if prev, dup := seen[st.ID]; dup {
				errs.add(path+".id", "%q is already used by steps[%d]", st.ID, prev)
			}
			seen[st.ID] = i
		}
		cs.Connector, cs.Action = resolveAction(&errs, path+".uses", st.Uses, reg)
		if cs.Connector != nil && cs.Connector.ConnectionRequired && st.Connection == "" {
			errs.add(path+".connection", "is required by %s", cs.Connector.Name)
		}
		if st.If != "" {
			cs.If = compileExpr(&errs, path+".if", st.If)
		}
		if st.ForEach != "" {
			cs.ForEach = compileExpr(&errs, path+".for_each", st.ForEach)
		}
		var reported map[string]bool
		if cs.Action != nil {
			reported = checkFields(&errs, path+".with", st.With, cs.Action.Name, cs.Action.Inputs, cs.Action.FreeInputs)
		}
		if v, err := expr.CompileValue(anyMap(st.With)); err != nil {
			addCompileErrors(&errs, path+".with", err)
		} else {
			cs.With = v
			if cs.Action != nil && v.IsStatic() {
				if val, ok := cs.Action.New().(connectors.Validator); ok {
					if err := val.Validate(copyMap(st.With)); err != nil {
						for _, msg := range problems(err) {
							if !aboutInput(msg, reported) {
								errs.add(path+".with", "%s", msg)
							}
						}
					}
				}
			}
		}
		checkRetry(&errs, path+".retry", st.Retry)
		if st.Timeout < 0 {
			errs.add(path+".timeout", "must not be negative")
		}
		c.Steps = append(c.Steps, cs)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Webhook limits.
const (
	// MaxBodyBytesLimit caps a webhook's max_body_bytes: bodies are held in memory.
	MaxBodyBytesLimit = 64 << 20
	// ResultTimeoutDefault and ResultTimeoutMax bound how long result mode waits.
	ResultTimeoutDefault = 10 * time.Second
	// ResultTimeoutMax stays well under the server's 60s write timeout, so the answer
	// (or the 202 fallback) always reaches the sender.
	ResultTimeoutMax = 30 * time.Second
)

func compileTrigger(errs *errorList, t *Trigger) (dedupe *expr.Program, body *expr.Template) {
	others := map[string]bool{
		TriggerWebhook:  t.Webhook != nil,
		TriggerSchedule: t.Schedule != nil,
		TriggerPoll:     t.Poll != nil,
	}
	for kind, set := range others {
		if set && kind != t.Type {
			errs.add("trigger."+kind, "is only used when trigger.type is %q", kind)
		}
	}
	switch t.Type {
	case TriggerWebhook:
		wh := t.Webhook
		if wh == nil {
			return nil, nil
		}
		seen := map[string]bool{}
		for i, m := range wh.Methods {
			if seen[m] {
				errs.add(indexPath("trigger.webhook.methods", i), "%q is listed twice", m)
			}
			seen[m] = true
		}
		checkAuth(errs, wh.Auth)
		if wh.Dedupe != "" {
			dedupe = compileExpr(errs, "trigger.webhook.dedupe", wh.Dedupe)
		}
		if wh.MaxBodyBytes < 0 || wh.MaxBodyBytes > MaxBodyBytesLimit {
			errs.add("trigger.webhook.max_body_bytes", "must be between 1 and %d", MaxBodyBytesLimit)
		}
		if wh.RateLimit < 0 {
			errs.add("trigger.webhook.rate_limit", "must not be negative")
		}
		if wh.RateBurst < 0 {
			errs.add("trigger.webhook.rate_burst", "must not be negative")
		}
		body = checkResponse(errs, wh.Response)
	}
	return dedupe, body
}

// compileTimed compiles the schedule of a schedule or poll trigger and a poll's poller.
func compileTimed(errs *errorList, t *Trigger, reg *connectors.Registry) (Schedule, *CompiledPoll) {
	// compileSchedule reports a bad expression and a bad time zone each at its own path.
	compileSchedule := func(path, spec, tz string) Schedule {
		s, err := ParseSchedule(spec, tz)
		var se *ScheduleError
		if errors.As(err, &se) {
			if se.Cron != nil && spec != "" { // an empty one is reported as required by the shape check
				errs.add(path+".cron", "%v", se.Cron)
			}
			if se.Timezone != nil {
				errs.add(path+".timezone", "%v", se.Timezone)
			}
		} else if err != nil {
			errs.add(path+".cron", "%v", err)
		}
		return s
	}
	switch t.Type {
	case TriggerSchedule:
		if t.Schedule == nil {
			errs.add("trigger.schedule", "is required when trigger.type is \"schedule\"")
			return nil, nil
		}
		return compileSchedule("trigger.schedule", t.Schedule.Cron, t.Schedule.Timezone), nil
	case TriggerPoll:
		p := t.Poll
		if p == nil {
			errs.add("trigger.poll", "is required when trigger.type is \"poll\"")
			return nil, nil
		}
		const path = "trigger.poll"
		s := compileSchedule(path, p.Cron, p.Timezone)
		cp := &CompiledPoll{}
		if p.Uses != "" {
			c, def, ok := reg.Poller(p.Uses)
			connName, _, hasDot := strings.Cut(p.Uses, ".")
			_, installed := reg.Connector(connName)
			if !ok && hasDot && connName != "" && !installed {
				errs.add(path+".uses", "connector %s is not installed%s", connName, didYouMean(p.Uses, sameConnectorTypo(connName, reg.PollerNames())))
			} else if !ok {
				errs.add(path+".uses", "unknown poller %q%s", p.Uses, didYouMean(p.Uses, reg.PollerNames()))
			} else {
				cp.Connector, cp.Poller = c, def
				if c.ConnectionRequired && p.Connection == "" {
					errs.add(path+".connection", "is required by %s", c.Name)
				}
				checkFields(errs, path+".with", p.With, def.Name, def.Inputs, false)
				checkExpressions(errs, path+".with", p.With, def.Inputs)
			}
		}
		if v, err := PollScope.CompileValue(anyMap(p.With)); err != nil {
			addCompileErrors(errs, path+".with", err)
		} else {
			cp.With = v
		}
		key := p.Key
		if key == "" && cp.Poller != nil {
			key = cp.Poller.DefaultKey
		}
		if key != "" {
			cp.Key = compileExpr(errs, path+".key", key)
		}
		if p.Backfill < 0 || p.Backfill > MaxBackfill {
			errs.add(path+".backfill", "must be between 0 and %d", MaxBackfill)
		}
		if p.AlertAfter < 0 {
			errs.add(path+".alert_after", "must not be negative")
		}
		return s, cp
	}
	return nil, nil
}

// PollScope is the language of a poll trigger's inputs: besides workflow, they see the
// cursor the last poll saved and the time as now.
var PollScope = expr.NewScope("cursor", "now")

// checkExpressions compiles the literal values of inputs that hold expressions, in the
// names the input declares.
func checkExpressions(errs *errorList, path string, with map[string]any, inputs []connectors.Field) {
	for _, f := range inputs {
		src, ok := with[f.Name].(string)
		if !f.Expression || !ok || strings.Contains(src, "{{") {
			continue
		}
		if _, err := expr.NewScope(f.Variables...).Compile(src); err != nil {
			errs.add(joinPath(path, f.Name), "%v", err)
		}
	}
}

// MaxBackfill caps trigger.poll.backfill.
const MaxBackfill = 1000

// checkResponse validates a webhook's answer settings and compiles a custom body.
func checkResponse(errs *errorList, r *WebhookResponse) *expr.Template {
	if r == nil {
		return nil
	}
	const p = "trigger.webhook.response"
	custom := r.Mode == "custom"
	if !custom && (r.Status != 0 || len(r.Headers) > 0 || r.Body != "") {
		errs.add(p, "status, headers and body are only used when mode is \"custom\"")
	}
	if r.AllowHTML && !custom && r.Mode != "result" {
		errs.add(p+".allow_html", "is only used when mode is \"custom\" or \"result\"")
	}
	if r.Mode != "result" && r.Timeout != 0 {
		errs.add(p+".timeout", "is only used when mode is \"result\"")
	}
	if r.Timeout < 0 || r.Timeout.Std() > ResultTimeoutMax {
		errs.add(p+".timeout", "must be between 1ms and %s", ResultTimeoutMax)
	}
	if !custom {
		return nil
	}
	if r.Status != 0 && (r.Status < 200 || r.Status > 299) {
		errs.add(p+".status", "%d is not a 2xx status: a sender retries anything else, and the event is already stored", r.Status)
	}
	for name, v := range r.Headers {
		if !validHeaderName(name) {
			errs.add(joinPath(p+".headers", name), "%q is not a valid header name", name)
		}
		if strings.EqualFold(name, "Content-Type") && !r.AllowHTML && IsDocumentType(v) {
			errs.add(joinPath(p+".headers", name), "%q is rendered by browsers as a page on this server's origin; set \"allow_html\": true to answer with it", v)
		}
	}
	t, err := expr.CompileTemplate(r.Body)
	if err != nil {
		errs.add(p+".body", "%v", err)
		return nil
	}
	return t
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 126 || r <= 32 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// checkAuth validates a webhook's verification settings offline; the connection itself
// is checked against the database when the workflow is saved.
func checkAuth(errs *errorList, a *WebhookAuth) {
	if a == nil || a.Type == "none" || a.Type == "" {
		if a != nil && (a.Connection != "" || a.Header != "" || a.Query != "" || a.Field != "") {
			errs.add("trigger.webhook.auth", "connection, header, query and field are only used with a verifying type")
		}
		return
	}
	const p = "trigger.webhook.auth"
	if a.Type == "tilda" {
		checkTildaAuth(errs, a)
		return
	}
	if a.Connection == "" {
		errs.add(p+".connection", "is required: it names the webhook connection holding the secret")
	}
	if a.Field != "" {
		errs.add(p+".field", "is only used with tilda")
	}
	generic := a.Type == "token" || a.Type == "hmac"
	if !generic && (a.Header != "" || a.Query != "" || a.Algorithm != "" || a.Encoding != "" || a.Prefix != "") {
		errs.add(p, "the %s preset fixes its header and algorithm; leave header, query, algorithm, encoding and prefix out", a.Type)
	}
	switch a.Type {
	case "token":
		if (a.Header == "") == (a.Query == "") {
			errs.add(p, "token needs exactly one of header or query")
		}
		if a.Algorithm != "" || a.Encoding != "" {
			errs.add(p, "algorithm and encoding are only used with hmac")
		}
	case "hmac":
		if a.Header == "" {
			errs.add(p+".header", "is required for hmac")
		}
		if a.Query != "" {
			errs.add(p+".query", "is only used with token")
		}
	}
	switch a.Type {
	case "stripe", "slack", "standard-webhooks", "hubspot-v3":
	default:
		if a.Tolerance != 0 {
			errs.add(p+".tolerance", "is only used by presets that sign a timestamp (stripe, slack, standard-webhooks, hubspot-v3)")
		}
	}
	if a.Tolerance < 0 {
		errs.add(p+".tolerance", "must not be negative")
	}
}

func resolveAction(errs *errorList, path, uses string, reg *connectors.Registry) (*connectors.Connector, *connectors.ActionDef) {
	if uses == "" {
		return nil, nil // reported as required by the shape check
	}
	c, a, ok := reg.Action(uses)
	if ok {
		return c, a
	}
	connName, _, hasDot := strings.Cut(uses, ".")
	if conn, found := reg.Connector(connName); found && hasDot {
		names := make([]string, 0, len(conn.Actions))
		for _, a := range conn.Actions {
			names = append(names, conn.Name+"."+a.Name)
		}
		errs.add(path, "unknown action %q%s", uses, didYouMean(uses, names))
		return nil, nil
	}
	if hasDot && connName != "" {
		// Connectors come and go at runtime (declarative files): say which is missing.
		errs.add(path, "connector %s is not installed%s", connName, didYouMean(uses, sameConnectorTypo(connName, reg.ActionNames())))
		return nil, nil
	}
	errs.add(path, "unknown action %q%s", uses, didYouMean(uses, reg.ActionNames()))
	return nil, nil
}

// sameConnectorTypo keeps the "connector.name" candidates whose connector name is a
// likely typo of connName: a missing connector is no typo of another connector's action
// that merely shares the action's name (acme.create_contact is not xero.create_contact).
func sameConnectorTypo(connName string, candidates []string) []string {
	var out []string
	for _, c := range candidates {
		conn, _, _ := strings.Cut(c, ".")
		if suggest(connName, []string{conn}) != "" {
			out = append(out, c)
		}
	}
	return out
}

// checkFields compares a step's or poll trigger's "with" to the input specs: unknown
// names, missing required inputs, and literal values of the wrong type. It returns the
// names of the inputs it reported.
func checkFields(errs *errorList, path string, with map[string]any, owner string, inputs []connectors.Field, free bool) map[string]bool {
	reported := map[string]bool{}
	names := make([]string, 0, len(inputs))
	byName := map[string]*connectors.Field{}
	for i := range inputs {
		f := &inputs[i]
		names = append(names, f.Name)
		byName[f.Name] = f
		if f.Required {
			if v, ok := with[f.Name]; !ok || v == nil {
				errs.add(joinPath(path, f.Name), "is required by %s", owner)
				reported[f.Name] = true
			}
		}
	}
	for _, k := range sortedKeys(with) {
		f, ok := byName[k]
		if !ok && free {
			continue
		}
		if !ok {
			errs.add(joinPath(path, k), "unknown input%s", didYouMean(k, names))
			reported[k] = true
			continue
		}
		v := with[k]
		if s, isString := v.(string); isString && strings.Contains(s, "{{") {
			continue // a template's type is known only when it renders
		}
		if err := f.CheckValue(v); err != nil {
			errs.add(joinPath(path, k), "%v", err)
			reported[k] = true
		}
	}
	return reported
}

// problems splits the error of an action's Validate into one message per problem: a
// connector joins what it finds (errors.Join), and each problem gets its own line. Only
// wrappers that add no text of their own (connectors.Permanent) are looked through.
func problems(err error) []string {
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		parts := u.Unwrap()
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = p.Error()
		}
		if strings.Join(texts, "\n") == err.Error() {
			var out []string
			for _, p := range parts {
				out = append(out, problems(p)...)
			}
			return out
		}
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil && inner.Error() == err.Error() {
			return problems(inner)
		}
	}
	return []string{strings.ReplaceAll(err.Error(), "\n", "; ")}
}

// aboutInput reports whether an action's own message concerns an input the spec check
// already reported. Connectors start such messages with the input's name ("url is
// required", "method: expected a string"); the spec's message, which carries the
// input's path, is the one kept.
func aboutInput(msg string, reported map[string]bool) bool {
	for name := range reported {
		if strings.HasPrefix(msg, name+" ") || strings.HasPrefix(msg, name+":") {
			return true
		}
	}
	return false
}

// MaxAttemptsLimit bounds retry.max_attempts.
const MaxAttemptsLimit = 100

func checkRetry(errs *errorList, path string, r *Retry) {
	if r == nil {
		return
	}
	if r.MaxAttempts < 0 || r.MaxAttempts > MaxAttemptsLimit {
		errs.add(path+".max_attempts", "must be between 1 and %d", MaxAttemptsLimit)
	}
	if r.Initial < 0 {
		errs.add(path+".initial", "must not be negative")
	}
	if r.Max < 0 {
		errs.add(path+".max", "must not be negative")
	}
	if r.Initial > 0 && r.Max > 0 && r.Initial > r.Max {
		errs.add(path+".initial", "%s is longer than max %s", r.Initial.Std(), r.Max.Std())
	}
	if r.Multiplier != 0 && r.Multiplier < 1 {
		errs.add(path+".multiplier", "must be at least 1")
	}
	if r.Jitter < 0 || r.Jitter > 1 {
		errs.add(path+".jitter", "must be between 0 and 1")
	}
}

func compileExpr(errs *errorList, path, src string) *expr.Program {
	p, err := expr.Compile(src)
	if err != nil {
		errs.add(path, "%v", err)
		return nil
	}
	return p
}

func addCompileErrors(errs *errorList, base string, err error) {
	var ce *expr.CompileErrors
	if errors.As(err, &ce) {
		for _, pe := range *ce {
			p := base
			if pe.Path != "" {
				if strings.HasPrefix(pe.Path, "[") {
					p += pe.Path
				} else {
					p += "." + pe.Path
				}
			}
			errs.add(p, "%v", pe.Err)
		}
		return
	}
	errs.add(base, "%v", err)
}

func anyMap(m map[string]any) any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// String renders a field error list for terminals, one per line.
func (e *ValidationError) String() string {
	var b strings.Builder
	for _, fe := range e.Errors {
		fmt.Fprintln(&b, fe.String())
	}
	return b.String()
}

// checkTildaAuth validates the tilda preset: Tilda's API key is optional, so is the
// connection holding it; with a connection, header or field says where Tilda puts the key
// (its "Header name" or "Field name" setting).
func checkTildaAuth(errs *errorList, a *WebhookAuth) {
	const p = "trigger.webhook.auth"
	switch {
	case a.Connection == "" && (a.Header != "" || a.Field != ""):
		errs.add(p+".connection", "is required with header or field: it holds the API key tilda sends")
	case a.Connection != "" && (a.Header == "") == (a.Field == ""):
		errs.add(p, "tilda with a connection needs exactly one of header or field: where Tilda sends the API key")
	}
	if a.Query != "" || a.Algorithm != "" || a.Encoding != "" || a.Prefix != "" {
		errs.add(p, "the tilda preset takes only connection and header or field; leave query, algorithm, encoding and prefix out")
	}
	if a.Tolerance != 0 {
		errs.add(p+".tolerance", "is only used by presets that sign a timestamp (stripe, slack, standard-webhooks, hubspot-v3)")
	}
}

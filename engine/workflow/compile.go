package workflow

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

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
	Steps  []CompiledStep
}

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
	c.Dedupe = compileTrigger(&errs, &w.Trigger)
	if w.Concurrency < 0 {
		errs.add("concurrency", "must not be negative")
	}
	if w.MaxDuration < 0 {
		errs.add("max_duration", "must not be negative")
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
		if cs.Action != nil {
			checkInputs(&errs, path+".with", st.With, cs.Action)
		}
		if v, err := expr.CompileValue(anyMap(st.With)); err != nil {
			addCompileErrors(&errs, path+".with", err)
		} else {
			cs.With = v
			if cs.Action != nil && v.IsStatic() {
				if val, ok := cs.Action.New().(connectors.Validator); ok {
					if err := val.Validate(copyMap(st.With)); err != nil {
						errs.add(path+".with", "%v", err)
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

func compileTrigger(errs *errorList, t *Trigger) (dedupe *expr.Program) {
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
			return nil
		}
		seen := map[string]bool{}
		for i, m := range wh.Methods {
			if seen[m] {
				errs.add(indexPath("trigger.webhook.methods", i), "%q is listed twice", m)
			}
			seen[m] = true
		}
		if wh.Auth != nil && wh.Auth.Type != "none" {
			errs.add("trigger.webhook.auth.type", "%q is not supported yet: webhook verification lands with the ingress work (docs/webhooks.md)", wh.Auth.Type)
		}
		if wh.Dedupe != "" {
			dedupe = compileExpr(errs, "trigger.webhook.dedupe", wh.Dedupe)
		}
		if wh.Response != nil && wh.Response.Mode != "" && wh.Response.Mode != "accepted" {
			errs.add("trigger.webhook.response.mode", "%q is not supported yet; only \"accepted\" is", wh.Response.Mode)
		}
	case TriggerSchedule, TriggerPoll, TriggerManual:
		errs.add("trigger.type", "%q triggers are not supported yet; use \"webhook\"", t.Type)
	}
	return dedupe
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
	errs.add(path, "unknown action %q%s", uses, didYouMean(uses, reg.ActionNames()))
	return nil, nil
}

// checkInputs compares a step's "with" to the action's input specs: unknown names,
// missing required inputs, and literal values of the wrong type.
func checkInputs(errs *errorList, path string, with map[string]any, a *connectors.ActionDef) {
	names := make([]string, 0, len(a.Inputs))
	byName := map[string]*connectors.Field{}
	for i := range a.Inputs {
		f := &a.Inputs[i]
		names = append(names, f.Name)
		byName[f.Name] = f
		if f.Required {
			if v, ok := with[f.Name]; !ok || v == nil {
				errs.add(joinPath(path, f.Name), "is required by %s", a.Name)
			}
		}
	}
	for _, k := range sortedKeys(with) {
		f, ok := byName[k]
		if !ok && a.FreeInputs {
			continue
		}
		if !ok {
			errs.add(joinPath(path, k), "unknown input%s", didYouMean(k, names))
			continue
		}
		v := with[k]
		if s, isString := v.(string); isString && strings.Contains(s, "{{") {
			continue // a template's type is known only when it renders
		}
		if err := f.CheckValue(v); err != nil {
			errs.add(joinPath(path, k), "%v", err)
		}
	}
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

package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

// A connection's form is drawn from its connector's connection field specs: each field
// becomes one control of a kind chosen by its type, its title, help text and choices in
// the page's language (connector_texts.go). Secret fields are write-only: the
// form says whether one is set, never shows it, keeps it when left empty, and removes it
// only when its "remove" box is ticked.

// Field kinds, the controls of a connection's form.
const (
	kindText    = "text"    // a string: a text input
	kindSelect  = "select"  // a string with an enum: a select
	kindInteger = "integer" // a number input with whole steps
	kindNumber  = "number"  // a number input
	kindSwitch  = "switch"  // a boolean: a checkbox shown as a switch
	kindSecret  = "secret"  // a secret string: a password input, write-only
	kindList    = "list"    // an array of strings: a textarea, one per line
	kindJSON    = "json"    // any other value: a textarea holding JSON
)

// connectionField is one control of a connection's form.
type connectionField struct {
	Name        string
	Title       string
	Description string
	Kind        string
	Required    bool
	// Endpoint fields decide where the secrets are sent: changing one takes the secrets
	// again.
	Endpoint bool
	// Options are a select's choices; Blank adds an empty first choice (the default).
	Options []selectOption
	Blank   bool
	// Placeholder shows the default or an example in an empty input.
	Placeholder string
	// Value is what the control shows; never a secret's value.
	Value string
	// Checked is a switch's state.
	Checked bool
	// IsSet says whether a secret has a stored value; Remove whether the form asked to
	// remove it.
	IsSet  bool
	Remove bool
	// Error is the problem with this field's value, if any.
	Error string
	// Prefix puts the control under another name ("newconn.0." for the builder's inline
	// form: "newconn.0.config.token", id "cfg-newconn-0-token"); empty on the connection
	// page.
	Prefix string
}

// selectOption is one choice of a select: the value posted and its label in the page's
// language (the value itself in English).
type selectOption struct {
	Value string
	Label string
}

// ValueLabel is what a read-only page shows for the field's value: a select's label
// for its value, other values as they are.
func (f connectionField) ValueLabel() string {
	for _, o := range f.Options {
		if o.Value == f.Value {
			return o.Label
		}
	}
	return f.Value
}

// ID is the control's element id.
func (f connectionField) ID() string {
	return "cfg-" + strings.ReplaceAll(f.Prefix, ".", "-") + f.Name
}

// InputName is the control's form field name.
func (f connectionField) InputName() string { return f.Prefix + "config." + f.Name }

// fieldKind chooses the control for a field spec.
func fieldKind(f connectors.Field) string {
	switch {
	case f.Secret:
		return kindSecret
	case f.Type == connectors.TypeString && len(f.Enum) > 0:
		return kindSelect
	case f.Type == connectors.TypeString:
		return kindText
	case f.Type == connectors.TypeInteger:
		return kindInteger
	case f.Type == connectors.TypeNumber:
		return kindNumber
	case f.Type == connectors.TypeBoolean:
		return kindSwitch
	case f.Type == connectors.TypeArray && f.Items != nil && f.Items.Type == connectors.TypeString:
		return kindList
	}
	return kindJSON
}

// newConnectionFields returns the form's controls for a connector's spec, in the page's
// language, showing a stored connection's settings (nil for a new one, which shows the
// defaults).
func newConnectionFields(v *view, spec connectors.Spec, conn *engine.Connection) []connectionField {
	spec = v.LocalSpec(spec)
	set := map[string]bool{}
	var config map[string]any
	if conn != nil {
		config = conn.Config
		for _, n := range conn.SecretsSet {
			set[n] = true
		}
	}
	out := make([]connectionField, 0, len(spec.Connection))
	for _, f := range spec.Connection {
		cf := connectionField{Name: f.Name, Title: f.Title, Description: strings.ReplaceAll(f.Description, "`", ""),
			Kind: fieldKind(f), Required: f.Required, Endpoint: f.Endpoint, IsSet: set[f.Name]}
		if cf.Title == "" {
			cf.Title = f.Name
		}
		if cf.Kind == kindSelect {
			for _, e := range f.Enum {
				cf.Options = append(cf.Options, selectOption{Value: e, Label: v.OptionLabel(connectionFieldKey(spec.Name, f.Name), f, e)})
			}
			cf.Blank = f.Default == nil && !f.Required
		}
		switch {
		case f.Default != nil && cf.Kind != kindSwitch:
			cf.Placeholder = formValue(cf.Kind, f.Default)
		case len(f.Examples) > 0 && cf.Kind != kindSecret && cf.Kind != kindSwitch:
			cf.Placeholder = formValue(cf.Kind, f.Examples[0])
		}
		if cf.Kind == kindSecret {
			out = append(out, cf)
			continue
		}
		// A select and a switch show the default when nothing is stored: it is what the
		// connection uses. Other controls leave it to the placeholder.
		val, stored := config[f.Name]
		if !stored && (cf.Kind == kindSelect || cf.Kind == kindSwitch) {
			val = f.Default
		}
		if cf.Kind == kindSwitch {
			b, _ := val.(bool)
			cf.Checked = b
		} else {
			cf.Value = formValue(cf.Kind, val)
		}
		out = append(out, cf)
	}
	return out
}

// formValue is a setting's value as a control shows it.
func formValue(kind string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		if kind == kindList {
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = fmt.Sprint(e)
			}
			return strings.Join(parts, "\n")
		}
	case int, int64:
		return fmt.Sprint(x)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// readConnectionFields reads the posted form into a connection's config and the
// controls to show again if the save fails: plain values as typed, secrets never. On
// create an empty secret is left out; on update it keeps the stored value, and a ticked
// "remove" box removes it (null). An empty plain value is left out. ok is false when a
// value could not be read (a number that is not one); the fields say why.
func readConnectionFields(c *gin.Context, v *view, spec connectors.Spec, conn *engine.Connection) (map[string]any, []connectionField, bool) {
	fields := newConnectionFields(v, spec, conn)
	config := map[string]any{}
	ok := true
	for i := range fields {
		f := &fields[i]
		raw := c.PostForm(f.InputName())
		switch f.Kind {
		case kindSecret:
			f.Remove = conn != nil && f.IsSet && c.PostForm("remove."+f.Name) != ""
			switch {
			case raw != "":
				config[f.Name] = raw
			case f.Remove:
				config[f.Name] = nil
			}
			continue
		case kindSwitch:
			f.Checked = raw != ""
			config[f.Name] = f.Checked
			continue
		}
		f.Value = raw
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		switch f.Kind {
		case kindText, kindSelect:
			config[f.Name] = s
		case kindInteger:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				f.Error, ok = v.T("connection.error.integer"), false
				continue
			}
			config[f.Name] = n
		case kindNumber:
			n, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
			if err != nil {
				f.Error, ok = v.T("connection.error.number"), false
				continue
			}
			config[f.Name] = n
		case kindList:
			config[f.Name] = nonEmptyLines(s)
		case kindJSON:
			var x any
			if err := json.Unmarshal([]byte(s), &x); err != nil {
				f.Error, ok = v.T("connection.error.json"), false
				continue
			}
			config[f.Name] = x
		}
	}
	return config, fields, ok
}

// formErrors are the problems of a failed save: by field (the form's field names, such
// as "name" or a setting's name) and for the form as a whole.
type formErrors struct {
	Fields map[string]string
	Form   []string
}

// validationProblems splits a validation error by field: "config.x" goes to field x,
// other paths to the field of that name, and paths no field has to the form.
func validationProblems(err error, fieldNames ...string) (formErrors, bool) {
	var invalid *workflow.ValidationError
	if !errors.As(err, &invalid) {
		return formErrors{}, false
	}
	known := map[string]bool{}
	for _, n := range fieldNames {
		known[n] = true
	}
	out := formErrors{Fields: map[string]string{}}
	for _, fe := range invalid.Errors {
		name := strings.TrimPrefix(fe.Path, "config.")
		if !known[name] {
			out.Form = append(out.Form, fe.String())
			continue
		}
		if prev := out.Fields[name]; prev != "" {
			out.Fields[name] = prev + "; " + fe.Message
		} else {
			out.Fields[name] = fe.Message
		}
	}
	return out, true
}

// nonEmptyLines reads a list control (one item a line) as its trimmed, non-empty lines.
func nonEmptyLines(s string) []any {
	var items []any
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			items = append(items, line)
		}
	}
	return items
}

package connectors

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// FieldType is the JSON type a field's value takes once its templates are rendered.
type FieldType string

// The field types. They are JSON Schema's names so that a spec translates to a schema
// without a table of synonyms.
const (
	TypeString  FieldType = "string"
	TypeInteger FieldType = "integer"
	TypeNumber  FieldType = "number"
	TypeBoolean FieldType = "boolean"
	TypeObject  FieldType = "object"
	TypeArray   FieldType = "array"
	TypeAny     FieldType = "any"
)

// Field describes one connection setting, action input or action output. One Field list
// drives workflow validation, the admin UI's forms, GET /api/v1/connectors, the JSON Schema
// and the generated connector docs.
type Field struct {
	Name        string    `json:"name"`
	Type        FieldType `json:"type"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	Required    bool      `json:"required,omitempty"`
	Default     any       `json:"default,omitempty"`
	Enum        []string  `json:"enum,omitempty"`
	// Secret fields of a connection are encrypted at rest, never returned by the API and
	// never logged.
	Secret bool `json:"secret,omitempty"`
	// Endpoint marks a connection setting that decides where the connection's secrets
	// are sent (a base URL, a host, a port, a list of allowed hosts). Changing one
	// without sending the secrets again is refused, so that whoever may edit a
	// connection but not read its secrets cannot redirect them to a host of their own.
	Endpoint bool  `json:"endpoint,omitempty"`
	Examples []any `json:"examples,omitempty"`
	// Items describes the elements of an array field, when they have a fixed type.
	Items *Field `json:"items,omitempty"`
	// Fields describes the known keys of an object field. Other keys are allowed.
	Fields []Field `json:"fields,omitempty"`
	// Expression marks a string input that holds an expression of the workflow language
	// rather than text (http.poll's items), evaluated by the connector through
	// PollCall.Eval. A literal value is compiled when the workflow is saved, so a typo is
	// a 422 then rather than a failed poll later.
	Expression bool `json:"expression,omitempty"`
	// Variables are the names such an expression sees besides the workflow language's own
	// (body, headers, items...).
	Variables []string `json:"variables,omitempty"`
}

// ActionSpec describes one action: what it is called, what it takes and what it returns.
type ActionSpec struct {
	// Name is the action's name inside its connector ("request"); workflows use it as
	// "connector.name" ("http.request").
	Name        string  `json:"name"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Inputs      []Field `json:"inputs"`
	Outputs     []Field `json:"outputs,omitempty"`
	// FreeInputs says the action takes inputs of any name besides those listed, as
	// core.set does.
	FreeInputs bool `json:"free_inputs,omitempty"`
	// Idempotent says the action sends the run's idempotency key to the service, so a retry
	// after an unknown outcome cannot act twice.
	Idempotent bool `json:"idempotent,omitempty"`
}

// Spec describes a connector: its name, its connection settings and its actions.
type Spec struct {
	// Name is the namespace of the connector's actions ("http", "telegram").
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Connection lists the settings a connection of this connector holds.
	Connection []Field `json:"connection,omitempty"`
	// ConnectionRequired says every step of this connector must name a connection.
	ConnectionRequired bool         `json:"connection_required,omitempty"`
	Actions            []ActionSpec `json:"actions"`
	// Pollers are the connector's poll triggers.
	Pollers []PollerSpec `json:"pollers,omitempty"`
	// RegistersWebhooks says a connection can point the service's webhooks at a workflow
	// (POST /api/v1/connections/{name}/webhook).
	RegistersWebhooks bool `json:"registers_webhooks,omitempty"`
}

// EndpointFields returns the names of the connection fields marked Endpoint.
func (s *Spec) EndpointFields() []string {
	var names []string
	for _, f := range s.Connection {
		if f.Endpoint {
			names = append(names, f.Name)
		}
	}
	return names
}

// Action returns the spec of the named action.
func (s *Spec) Action(name string) (*ActionSpec, bool) {
	for i := range s.Actions {
		if s.Actions[i].Name == name {
			return &s.Actions[i], true
		}
	}
	return nil, false
}

// SecretFields returns the names of the connection fields marked secret.
func (s *Spec) SecretFields() []string {
	var names []string
	for _, f := range s.Connection {
		if f.Secret {
			names = append(names, f.Name)
		}
	}
	return names
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Lint reports what is wrong with a spec: bad or duplicate names, unknown field types,
// defaults or enums that contradict their type. Registration refuses a spec that fails it.
func (s *Spec) Lint() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !namePattern.MatchString(s.Name) {
		add("connector name %q must match %s", s.Name, namePattern)
	}
	if s.Title == "" {
		add("connector %q has no title", s.Name)
	}
	lintFields("connection", s.Connection, add)
	seen := map[string]bool{}
	for _, a := range s.Actions {
		if !namePattern.MatchString(a.Name) {
			add("action name %q must match %s", a.Name, namePattern)
		}
		if seen[a.Name] {
			add("action %q is declared twice", a.Name)
		}
		seen[a.Name] = true
		if a.Title == "" {
			add("action %q has no title", a.Name)
		}
		lintFields("action "+a.Name+" input", a.Inputs, add)
		lintFields("action "+a.Name+" output", a.Outputs, add)
	}
	seenPollers := map[string]bool{}
	for _, p := range s.Pollers {
		if !namePattern.MatchString(p.Name) {
			add("poller name %q must match %s", p.Name, namePattern)
		}
		if seenPollers[p.Name] {
			add("poller %q is declared twice", p.Name)
		}
		seenPollers[p.Name] = true
		if p.Title == "" {
			add("poller %q has no title", p.Name)
		}
		lintFields("poller "+p.Name+" input", p.Inputs, add)
		lintFields("poller "+p.Name+" item", p.Item, add)
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid spec for connector %q: %s", s.Name, strings.Join(problems, "; "))
	}
	return nil
}

func lintFields(where string, fields []Field, add func(string, ...any)) {
	seen := map[string]bool{}
	for _, f := range fields {
		if !namePattern.MatchString(f.Name) {
			add("%s field name %q must match %s", where, f.Name, namePattern)
		}
		if seen[f.Name] {
			add("%s field %q is declared twice", where, f.Name)
		}
		seen[f.Name] = true
		if !f.Type.valid() {
			add("%s field %q has unknown type %q", where, f.Name, f.Type)
		}
		if f.Default != nil {
			if err := f.CheckValue(f.Default); err != nil {
				add("%s field %q default: %v", where, f.Name, err)
			}
		}
		if len(f.Enum) > 0 && f.Type != TypeString {
			add("%s field %q has an enum but is not a string", where, f.Name)
		}
		if (f.Expression || len(f.Variables) > 0) && f.Type != TypeString {
			add("%s field %q is an expression but is not a string", where, f.Name)
		}
		if f.Endpoint && f.Secret {
			add("%s field %q is both an endpoint and a secret", where, f.Name)
		}
		if len(f.Variables) > 0 && !f.Expression {
			add("%s field %q has variables but is not an expression", where, f.Name)
		}
		if f.Items != nil {
			lintFields(where+" "+f.Name+" items", []Field{*f.Items}, add)
		}
		if len(f.Fields) > 0 {
			lintFields(where+" "+f.Name, f.Fields, add)
		}
	}
}

func (t FieldType) valid() bool {
	switch t {
	case TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeObject, TypeArray, TypeAny:
		return true
	}
	return false
}

// CheckValue reports whether a literal value fits the field's type and enum. It accepts
// the types encoding/json decodes into, plus Go integers, and json.Number.
func (f *Field) CheckValue(v any) error {
	if v == nil {
		return nil
	}
	switch f.Type {
	case TypeAny:
		return nil
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a string, got %s", JSONTypeOf(v))
		}
		if len(f.Enum) > 0 {
			for _, e := range f.Enum {
				if e == s {
					return nil
				}
			}
			return fmt.Errorf("%q is not one of %s", s, strings.Join(quoteAll(f.Enum), ", "))
		}
		return nil
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("expected a boolean, got %s", JSONTypeOf(v))
		}
	case TypeInteger:
		if !isInteger(v) {
			return fmt.Errorf("expected an integer, got %s", JSONTypeOf(v))
		}
	case TypeNumber:
		if t := JSONTypeOf(v); t != "number" && t != "integer" {
			return fmt.Errorf("expected a number, got %s", t)
		}
	case TypeObject:
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("expected an object, got %s", JSONTypeOf(v))
		}
	case TypeArray:
		if _, ok := v.([]any); !ok {
			return fmt.Errorf("expected an array, got %s", JSONTypeOf(v))
		}
	}
	return nil
}

func isInteger(v any) bool {
	switch n := v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case float64:
		return n == float64(int64(n))
	case float32:
		return n == float32(int64(n))
	case json.Number:
		_, err := n.Int64()
		return err == nil
	}
	return false
}

// JSONTypeOf names the JSON type of a decoded value, for error messages.
func JSONTypeOf(v any) string {
	switch n := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number:
		if _, err := n.Int64(); err == nil {
			return "integer"
		}
		return "number"
	default:
		if isInteger(v) {
			return "integer"
		}
		switch v.(type) {
		case float32, float64:
			return "number"
		}
		return fmt.Sprintf("%T", v)
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

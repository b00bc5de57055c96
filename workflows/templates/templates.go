// Package templates holds ready-made workflows that the builder offers a click away: each
// one asks only for the connections it needs (by role, such as "crm" or "bot") and a few
// fields (such as a Telegram chat id), and Instantiate turns it into a workflow document.
//
// A template is an embedded JSON file, data/<id>.json: metadata (names and descriptions
// in English and Russian, a category, the connections and fields it asks for) and the
// workflow with placeholders. A placeholder is a whole JSON string value:
// "$connection:<role>" becomes the name of the connection chosen for that role, and
// "$param:<key>" becomes the field's value with its type (a chat id 12345 becomes a JSON
// number, "@channel" a string). A placeholder is never part of a longer string, so it
// cannot meet the workflow language's {{ }} templates; where a field's value belongs
// inside a text, the template sets it in a core.set step first and reads it as
// steps.<id>.output.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hookflow/hookflow/engine/workflow"
)

// Placeholder prefixes; the rest of the string is a connection role or a field key.
const (
	ConnectionPrefix = "$connection:"
	ParamPrefix      = "$param:"
)

// Field types.
const (
	TypeText       = "text"       // any text
	TypeTemplate   = "template"   // text that may hold {{ }} templates
	TypeExpression = "expression" // an expression, such as http.poll's items
	TypeNumber     = "number"     // a number, or a string of one
	TypeChatID     = "chat_id"    // a Telegram chat: a numeric id or an @username
	TypeEmail      = "email"      // one email address
	TypeCron       = "cron"       // a schedule the engine accepts
	TypeTimezone   = "timezone"   // an IANA time zone name
)

var fieldTypes = []string{TypeText, TypeTemplate, TypeExpression, TypeNumber, TypeChatID, TypeEmail, TypeCron, TypeTimezone}

// Text is a text in several languages, by language code ("en", "ru").
type Text map[string]string

// In returns the text in lang, or in English when it has none.
func (t Text) In(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if s, ok := t[base]; ok && s != "" {
		return s
	}
	return t["en"]
}

// Connection is a connection a template needs: the role its placeholder names, and the
// connector the chosen connection must belong to.
type Connection struct {
	Role      string `json:"role"`
	Connector string `json:"connector"`
	Label     Text   `json:"label"`
}

// Field is a value a template asks for.
type Field struct {
	Key      string `json:"key"`
	Type     string `json:"type"`
	Label    Text   `json:"label"`
	Example  string `json:"example,omitempty"`
	Required bool   `json:"required,omitempty"`
	// Default is used when the field is not given; every optional field has one.
	Default any `json:"default,omitempty"`
}

// Template is one ready workflow.
type Template struct {
	ID          string       `json:"id"`
	Order       int          `json:"order"`
	Name        Text         `json:"name"`
	Description Text         `json:"description"`
	Category    string       `json:"category"`
	Connections []Connection `json:"connections"`
	Fields      []Field      `json:"fields"`
	// Workflow is the workflow document with its placeholders.
	Workflow json.RawMessage `json:"workflow"`
}

// Params are what the user chose for a template.
type Params struct {
	// Connections maps each role to the name of a connection.
	Connections map[string]string
	// Fields maps field keys to values: strings as typed in a form, or JSON values.
	Fields map[string]any
	// Name names the workflow; empty takes the template's name in Lang.
	Name string
	// Lang picks the language of the workflow's name and description ("" is English).
	Lang string
}

//go:embed data/*.json
var files embed.FS

var loaded = sync.OnceValues(func() ([]Template, error) { return load(files) })

// List returns every template in the order the builder shows them.
func List() []Template {
	ts, err := loaded()
	if err != nil {
		// The templates are compiled into the binary and checked by its tests.
		panic(err)
	}
	return slices.Clone(ts)
}

// Get returns the template with the given id.
func Get(id string) (Template, bool) {
	for _, t := range List() {
		if t.ID == id {
			return t, true
		}
	}
	return Template{}, false
}

func load(fsys fs.FS) ([]Template, error) {
	names, err := fs.Glob(fsys, "data/*.json")
	if err != nil {
		return nil, err
	}
	var out []Template
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var t Template
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("read template %s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".json"); t.ID != want {
			return nil, fmt.Errorf("template %s: id %q differs from the file name", name, t.ID)
		}
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("template %s: %w", t.ID, err)
		}
		out = append(out, t)
	}
	slices.SortStableFunc(out, func(a, b Template) int { return a.Order - b.Order })
	return out, nil
}

// check verifies a template's metadata against its workflow: both languages everywhere,
// unique roles and keys, known field types, defaults that are valid values, and
// placeholders that name exactly the declared roles and keys.
func (t *Template) check() error {
	for what, text := range map[string]Text{"name": t.Name, "description": t.Description} {
		if text["en"] == "" || text["ru"] == "" {
			return fmt.Errorf("%s needs en and ru", what)
		}
	}
	if t.Category == "" {
		return fmt.Errorf("category is required")
	}
	roles, keys := map[string]bool{}, map[string]bool{}
	for _, c := range t.Connections {
		if c.Role == "" || c.Connector == "" || roles[c.Role] || c.Label["en"] == "" || c.Label["ru"] == "" {
			return fmt.Errorf("connection %q: needs a unique role, a connector and en and ru labels", c.Role)
		}
		roles[c.Role] = true
	}
	for _, f := range t.Fields {
		if f.Key == "" || keys[f.Key] || f.Label["en"] == "" || f.Label["ru"] == "" || !slices.Contains(fieldTypes, f.Type) {
			return fmt.Errorf("field %q: needs a unique key, a known type and en and ru labels", f.Key)
		}
		keys[f.Key] = true
		if !f.Required && f.Default == nil {
			return fmt.Errorf("field %q: an optional field needs a default", f.Key)
		}
		if f.Default != nil {
			if _, err := coerce(f, f.Default); err != nil {
				return fmt.Errorf("field %q: default: %w", f.Key, err)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(t.Workflow, &doc); err != nil {
		return fmt.Errorf("workflow: %w", err)
	}
	usedRoles, usedKeys := map[string]bool{}, map[string]bool{}
	walkStrings(doc, func(s string) any {
		if r, ok := strings.CutPrefix(s, ConnectionPrefix); ok {
			usedRoles[r] = true
		} else if k, ok := strings.CutPrefix(s, ParamPrefix); ok {
			usedKeys[k] = true
		}
		return s
	})
	if !sameKeys(roles, usedRoles) {
		return fmt.Errorf("connection placeholders %v differ from the connections %v", sorted(usedRoles), sorted(roles))
	}
	if !sameKeys(keys, usedKeys) {
		return fmt.Errorf("field placeholders %v differ from the fields %v", sorted(usedKeys), sorted(keys))
	}
	return nil
}

func sameKeys(a, b map[string]bool) bool {
	return slices.Equal(sorted(a), sorted(b))
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// walkStrings replaces every string value (not object keys) of a decoded JSON document.
func walkStrings(v any, fn func(string) any) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case map[string]any:
		for k, e := range x {
			x[k] = walkStrings(e, fn)
		}
	case []any:
		for i, e := range x {
			x[i] = walkStrings(e, fn)
		}
	}
	return v
}

// connectionName is the engine's rule for connection names.
var connectionName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Problem is one thing wrong with the params of Instantiate.
type Problem struct {
	Kind    string // "connection" or "field"
	Key     string // the role or the field key
	Message string
}

// ParamsError lists every problem with the params of Instantiate, so a form can show each
// next to its input.
type ParamsError struct {
	Template string
	Problems []Problem
}

func (e *ParamsError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Kind + " " + p.Key + ": " + p.Message
	}
	return "template " + e.Template + ": " + strings.Join(parts, "; ")
}

// Instantiate returns the workflow document of a template with the connections and
// fields filled in, named p.Name or the template's name in p.Lang. A missing, unknown or
// invalid connection or field is a *ParamsError listing them all; an unknown template
// id is a plain error.
func Instantiate(id string, p Params) ([]byte, error) {
	t, ok := Get(id)
	if !ok {
		return nil, fmt.Errorf("unknown template %q", id)
	}
	perr := &ParamsError{Template: id}
	conns := map[string]string{}
	for _, c := range t.Connections {
		name := strings.TrimSpace(p.Connections[c.Role])
		switch {
		case name == "":
			perr.add("connection", c.Role, fmt.Sprintf("is required: choose a connection of the %s connector", c.Connector))
		case !connectionName.MatchString(name):
			perr.add("connection", c.Role, fmt.Sprintf("%q is not a connection name (lower-case letters, digits, - and _)", name))
		default:
			conns[c.Role] = name
		}
	}
	for role := range p.Connections {
		if !slices.ContainsFunc(t.Connections, func(c Connection) bool { return c.Role == role }) {
			perr.add("connection", role, "is not used by this template")
		}
	}
	values := map[string]any{}
	for _, f := range t.Fields {
		v, given := p.Fields[f.Key]
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			given = false
		}
		if !given || v == nil {
			if f.Default == nil {
				perr.add("field", f.Key, "is required")
				continue
			}
			v = f.Default
		}
		cv, err := coerce(f, v)
		if err != nil {
			perr.add("field", f.Key, err.Error())
			continue
		}
		values[f.Key] = cv
	}
	for key := range p.Fields {
		if !slices.ContainsFunc(t.Fields, func(f Field) bool { return f.Key == key }) {
			perr.add("field", key, "is not used by this template")
		}
	}
	if len(perr.Problems) > 0 {
		slices.SortStableFunc(perr.Problems, func(a, b Problem) int { return strings.Compare(a.Kind+a.Key, b.Kind+b.Key) })
		return nil, perr
	}

	dec := json.NewDecoder(bytes.NewReader(t.Workflow))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode template %s: %w", id, err)
	}
	walkStrings(doc, func(s string) any {
		if r, ok := strings.CutPrefix(s, ConnectionPrefix); ok {
			return conns[r]
		}
		if k, ok := strings.CutPrefix(s, ParamPrefix); ok {
			return values[k]
		}
		return s
	})
	doc["name"] = t.Name.In(p.Lang)
	if name := strings.TrimSpace(p.Name); name != "" {
		doc["name"] = name
	}
	doc["description"] = t.Description.In(p.Lang)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode workflow of template %s: %w", id, err)
	}
	if _, err := workflow.Parse(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("workflow of template %s: %w", id, err)
	}
	return buf.Bytes(), nil
}

func (e *ParamsError) add(kind, key, msg string) {
	e.Problems = append(e.Problems, Problem{Kind: kind, Key: key, Message: msg})
}

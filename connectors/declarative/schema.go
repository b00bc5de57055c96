package declarative

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schema.json
var schemaJSON []byte

// SchemaID is the $id of the connector file's JSON Schema.
const SchemaID = "https://hookflow.dev/schemas/connector.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of connector files, for editors and the
// API. Parse validates every file against it before its own checks.
func Schema() []byte { return bytes.Clone(schemaJSON) }

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("read the connector schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("add the connector schema: %w", err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		return nil, fmt.Errorf("compile the connector schema: %w", err)
	}
	return s, nil
})

var printer = message.NewPrinter(language.English)

// validateSchema checks the document against the schema and turns each failed keyword
// into a problem at the value (or key) it is about.
func validateSchema(doc *document) []Problem {
	s, err := compiledSchema()
	if err != nil {
		return []Problem{{Message: "internal error: " + err.Error()}}
	}
	err = s.Validate(doc.value)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Problem{{Message: fmt.Sprintf("schema: %v", err)}}
	}
	problems := checkKeys(doc)
	keyProblems := len(problems)
	var badKeys bool
	collectSchemaErrors(doc, ve, &problems, &badKeys)
	if badKeys && keyProblems == 0 {
		// keyRules fell behind the schema's propertyNames.
		problems = append(problems, Problem{Message: "a key does not match the connector schema"})
	}
	if len(problems) == 0 {
		problems = append(problems, Problem{Message: "does not match the connector schema"})
	}
	return problems
}

// keyRules are the maps whose keys the schema constrains with propertyNames, checked here
// rather than from the validator's errors: the validator reuses the slice holding a
// propertyNames error's location, so the location is not reliable. "*" matches any key.
var keyRules = []struct {
	site    []string
	pattern *regexp.Regexp
	what    string
}{
	{[]string{"actions"}, namePattern, patternNames[namePattern.String()]},
	{[]string{"triggers"}, namePattern, patternNames[namePattern.String()]},
	{[]string{"defaults", "headers"}, headerPattern, patternNames[headerPattern.String()]},
	{[]string{"connection", "test", "headers"}, headerPattern, patternNames[headerPattern.String()]},
	{[]string{"connection", "test", "query"}, nonEmptyPattern, "a query parameter name"},
	{[]string{"actions", "*", "request", "headers"}, headerPattern, patternNames[headerPattern.String()]},
	{[]string{"actions", "*", "request", "query"}, nonEmptyPattern, "a query parameter name"},
	{[]string{"triggers", "*", "request", "headers"}, headerPattern, patternNames[headerPattern.String()]},
	{[]string{"triggers", "*", "request", "query"}, nonEmptyPattern, "a query parameter name"},
}

var (
	namePattern     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	headerPattern   = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	nonEmptyPattern = regexp.MustCompile(`.`)
)

func checkKeys(doc *document) []Problem {
	var problems []Problem
	for _, r := range keyRules {
		var walk func(v any, site, tokens []string)
		walk = func(v any, site, tokens []string) {
			m, ok := v.(map[string]any)
			if !ok {
				return
			}
			if len(site) == 0 {
				for _, k := range slices.Sorted(maps.Keys(m)) {
					if !r.pattern.MatchString(k) {
						kt := appendToken(tokens, k)
						line, col := doc.position(kt, true)
						problems = append(problems, Problem{Path: doc.path(kt), Line: line, Column: col, Message: fmt.Sprintf("%q is not %s", k, r.what)})
					}
				}
				return
			}
			if site[0] == "*" {
				for k, e := range m {
					walk(e, site[1:], appendToken(tokens, k))
				}
				return
			}
			walk(m[site[0]], site[1:], appendToken(tokens, site[0]))
		}
		walk(doc.value, r.site, nil)
	}
	return problems
}

func collectSchemaErrors(doc *document, ve *jsonschema.ValidationError, out *[]Problem, badKeys *bool) {
	report := func(tokens []string, atKey bool, msg string) {
		line, col := doc.position(tokens, atKey)
		*out = append(*out, Problem{Path: doc.path(tokens), Line: line, Column: col, Message: msg})
	}
	loc := ve.InstanceLocation
	switch k := ve.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			msg := fmt.Sprintf("unknown key %q", p)
			if doc.commaSplit(appendToken(loc, p)) {
				msg += `: in a {...} mapping a comma ends a value; quote text that holds commas`
			}
			report(appendToken(loc, p), true, msg)
		}
		return
	case *kind.Required:
		for _, p := range k.Missing {
			report(loc, false, fmt.Sprintf("missing required key %q", p))
		}
		return
	case *kind.PropertyNames:
		*badKeys = true // checkKeys reports it
		return
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectSchemaErrors(doc, c, out, badKeys)
		}
		return
	}
	report(loc, false, schemaMessage(ve.ErrorKind))
}

// patternNames says in words what the schema's patterns mean.
var patternNames = map[string]string{
	"^[a-z][a-z0-9_]*$": "a name: a lowercase letter, then lowercase letters, digits and underscores",
	"^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$":         `a duration such as "30s", "1m30s" or "500ms"`,
	"^[1-9][0-9]*/(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$": `a rate "N/duration" such as "15/3s"`,
	"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$":                                         "an HTTP header name",
	"^[^.]+(\\.[^.]+)*$":                                                    `a dotted path such as "contact.email"`,
}

func schemaMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("expected %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		want := make([]string, 0, len(k.Want))
		for _, w := range k.Want {
			want = append(want, fmt.Sprintf("%q", fmt.Sprint(w)))
		}
		return fmt.Sprintf("%s is not one of %s", quoteValue(k.Got), strings.Join(want, ", "))
	case *kind.Const:
		return fmt.Sprintf("must be %v, not %s", k.Want, quoteValue(k.Got))
	case *kind.Pattern:
		if name, ok := patternNames[k.Want]; ok {
			return fmt.Sprintf("%q is not %s", k.Got, name)
		}
		return fmt.Sprintf("%q does not match %s", k.Got, k.Want)
	case *kind.Minimum:
		return fmt.Sprintf("%s is below the minimum, %s", k.Got.RatString(), k.Want.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("%s is above the maximum, %s", k.Got.RatString(), k.Want.RatString())
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
	}
	return k.LocalizedString(printer)
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// commaSplit reports whether the key at tokens looks like the tail of a value cut by a
// comma in a flow mapping ({description: a, b}): a key without a value in a {...}.
func (d *document) commaSplit(tokens []string) bool {
	parent := d.node(tokens[:len(tokens)-1])
	v := d.node(tokens)
	return parent != nil && v != nil && parent.Kind == yaml.MappingNode && parent.Style&yaml.FlowStyle != 0 &&
		v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" && v.Value == ""
}

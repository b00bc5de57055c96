package declarative

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(Schema(), &doc))
	return doc
}

// TestSchemaMatchesFormat keeps schema.json and format.go in step: every json field of
// the format's types is a property of the type's definition, and every property is a
// field. A struct-typed field refers to its type's definition.
func TestSchemaMatchesFormat(t *testing.T) {
	t.Parallel()
	doc := schemaDoc(t)
	defs := doc["$defs"].(map[string]any)
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, def map[string]any, where string)
	walk = func(typ reflect.Type, def map[string]any, where string) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		require.Equal(t, false, def["additionalProperties"], "%s: additionalProperties must be false", where)
		props, _ := def["properties"].(map[string]any)
		var fields []string
		for i := range typ.NumField() {
			sf := typ.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields = append(fields, name)
			prop, ok := props[name].(map[string]any)
			require.True(t, ok, "%s.%s (json %q) is missing from schema.json", where, sf.Name, name)
			ft := sf.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if ft.Kind() != reflect.Struct || ft.PkgPath() != typ.PkgPath() {
				continue
			}
			ref := "#/$defs/" + ft.Name()
			refs := []any{prop["$ref"]}
			for _, k := range []string{"items", "additionalProperties"} {
				if sub, ok := prop[k].(map[string]any); ok {
					refs = append(refs, sub["$ref"])
				}
			}
			require.Contains(t, refs, ref, "%s.%s: the schema property %q must refer to %s", where, sf.Name, name, ref)
			sub, ok := defs[ft.Name()].(map[string]any)
			require.True(t, ok, "schema.json has no $defs/%s", ft.Name())
			walk(ft, sub, ft.Name())
		}
		for name := range props {
			require.Contains(t, fields, name, "%s: schema.json has property %q that the type lacks", where, name)
		}
	}
	walk(reflect.TypeFor[File](), doc, "File")
	// Every type definition of the schema is a type of format.go, so none is stale.
	for name, def := range defs {
		if _, ok := def.(map[string]any)["properties"]; !ok {
			continue // a shared value definition (name, duration...)
		}
		found := false
		for typ := range seen {
			found = found || typ.Name() == name
		}
		require.True(t, found, "schema.json $defs/%s matches no type of format.go", name)
	}
}

// Every property says what it is: the schema is what editors show integrators.
func TestSchemaDescribesEveryProperty(t *testing.T) {
	t.Parallel()
	var walk func(v any, where string)
	walk = func(v any, where string) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for name, p := range props {
				desc, _ := p.(map[string]any)["description"].(string)
				require.NotEmpty(t, desc, "%s.%s has no description", where, name)
			}
		}
		for k, e := range m {
			walk(e, where+"/"+k)
		}
	}
	doc := schemaDoc(t)
	require.Equal(t, SchemaID, doc["$id"])
	require.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc["$schema"])
	walk(doc, "#")
}

// Each pattern of the schema has words for the messages (patternNames).
func TestSchemaPatternsHaveNames(t *testing.T) {
	t.Parallel()
	var patterns []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if p, ok := x["pattern"].(string); ok {
				patterns = append(patterns, p)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(schemaDoc(t))
	require.NotEmpty(t, patterns)
	for _, p := range patterns {
		require.Contains(t, patternNames, p, "pattern %s has no entry in patternNames", p)
	}
}

// The published schema compiles on its own (as an editor would load it), and every
// valid test file validates against it.
func TestSchemaValidatesTheValidFiles(t *testing.T) {
	t.Parallel()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("connector.schema.json", doc))
	s, err := c.Compile("connector.schema.json")
	require.NoError(t, err)
	for _, path := range testFiles(t, "valid") {
		d, problems := readDocument(readSource(t, path).Data)
		require.Empty(t, problems, path)
		require.NoError(t, s.Validate(d.value), path)
	}
	// And it refuses what it should, without the Go checks.
	d, problems := readDocument([]byte(minimal + "unknown: 1\n"))
	require.Empty(t, problems)
	require.Error(t, s.Validate(d.value))
}

func TestSchemaReturnsACopy(t *testing.T) {
	t.Parallel()
	a := Schema()
	a[0] = 'x'
	require.Equal(t, byte('{'), Schema()[0])
	require.True(t, json.Valid(Schema()))
}

// The schema's enums are the values the checks and the runtime know.
func TestSchemaEnums(t *testing.T) {
	t.Parallel()
	defs := schemaDoc(t)["$defs"].(map[string]any)
	enum := func(def, prop string) []string {
		p := defs[def].(map[string]any)["properties"].(map[string]any)[prop].(map[string]any)
		var out []string
		for _, v := range p["enum"].([]any) {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	keys := func(m map[string][]string) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	var authKinds []string
	for k := range authMembers {
		authKinds = append(authKinds, k)
	}
	slices.Sort(authKinds)
	require.Equal(t, authKinds, enum("Auth", "kind"))
	require.Equal(t, keys(paginationMembers), enum("Pagination", "kind"))
	require.Equal(t, []string{"datetime", "number", "token"}, enum("Cursor", "type"))
	require.Equal(t, []string{"empty_page", "has_more", "no_next", "short_page", "total"}, enum("Pagination", "stop"))
	require.Equal(t, []string{"epoch", "ms", "s"}, enum("WaitHeader", "unit"))
	require.Equal(t, []string{"form", "json", "none"}, enum("Request", "body_kind"))
	require.Equal(t, []string{"any", "array", "boolean", "integer", "number", "object", "string"}, enum("Field", "type"))
}

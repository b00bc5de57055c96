package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/hookflow/hookflow/connectors"
)

// SchemaID is the $id of the generated workflow JSON Schema.
const SchemaID = "https://hookflow.dev/schemas/workflow.schema.json"

// templatePattern matches a string holding a {{ }} template: such a string may stand for
// a value of any type until it renders.
const templatePattern = `\{\{.*\}\}`

// JSONSchema returns the JSON Schema (draft 2020-12) of workflows for the registry's
// actions. It is generated from the same Go types and connector specs that validation
// uses, so editors and validation cannot disagree about field names or types.
func JSONSchema(reg *connectors.Registry) ([]byte, error) {
	root := typeSchema(workflowType)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "Hookflow workflow"

	step := root["properties"].(map[string]any)["steps"].(map[string]any)["items"].(map[string]any)
	names := reg.ActionNames()
	stepProps := step["properties"].(map[string]any)
	stepProps["uses"].(map[string]any)["enum"] = names
	var branches []any
	for _, c := range reg.Connectors() {
		for _, a := range c.Actions {
			then := map[string]any{
				"properties": map[string]any{"with": inputsSchema(a.Inputs, a.FreeInputs)},
			}
			if c.ConnectionRequired {
				then["required"] = []string{"connection"}
			}
			branches = append(branches, map[string]any{
				"if": map[string]any{
					"properties": map[string]any{"uses": map[string]any{"const": c.Name + "." + a.Name}},
					"required":   []string{"uses"},
				},
				"then": then,
			})
		}
	}
	if len(branches) > 0 {
		step["allOf"] = branches
	}

	// The poll trigger's "with" follows its poller, as a step's follows its action.
	poll := root["properties"].(map[string]any)["trigger"].(map[string]any)["properties"].(map[string]any)["poll"].(map[string]any)
	poll["properties"].(map[string]any)["uses"].(map[string]any)["enum"] = reg.PollerNames()
	var pollBranches []any
	for _, c := range reg.Connectors() {
		for _, p := range c.Pollers {
			then := map[string]any{"properties": map[string]any{"with": inputsSchema(p.Inputs, false)}}
			if c.ConnectionRequired {
				then["required"] = []string{"connection"}
			}
			pollBranches = append(pollBranches, map[string]any{
				"if": map[string]any{
					"properties": map[string]any{"uses": map[string]any{"const": c.Name + "." + p.Name}},
					"required":   []string{"uses"},
				},
				"then": then,
			})
		}
	}
	if len(pollBranches) > 0 {
		poll["allOf"] = pollBranches
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode workflow schema: %w", err)
	}
	return buf.Bytes(), nil
}

func typeSchema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return map[string]any{"type": "string", "pattern": `^([0-9]+d)?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))*$`, "minLength": 1}
	}
	if t == byteSizeType {
		return map[string]any{"anyOf": []any{
			map[string]any{"type": "integer", "minimum": 0},
			map[string]any{"type": "string", "pattern": byteSizePattern},
		}}
	}
	switch t.Kind() {
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for _, f := range structFields(t) {
			s := typeSchema(f.typ)
			if f.doc != "" {
				s["description"] = f.doc
			}
			if len(f.enum) > 0 {
				if s["type"] == "array" {
					s["items"].(map[string]any)["enum"] = f.enum
				} else {
					s["enum"] = f.enum
				}
			}
			if f.format != "" {
				s["x-hookflow-format"] = f.format
			}
			props[f.name] = s
			if f.required {
				required = append(required, f.name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	case reflect.Slice:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

func inputsSchema(fields []connectors.Field, free bool) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fields {
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": free}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func fieldSchema(f connectors.Field) map[string]any {
	s := map[string]any{}
	if f.Type != connectors.TypeAny {
		typed := map[string]any{"type": string(f.Type)}
		if len(f.Enum) > 0 {
			typed["enum"] = f.Enum
		}
		if f.Items != nil && f.Type == connectors.TypeArray {
			typed["items"] = fieldSchema(*f.Items)
		}
		if f.Type == connectors.TypeString && len(f.Enum) == 0 {
			s = typed
		} else {
			// Any input may be a template that renders to the right type at run time.
			s["anyOf"] = []any{typed, map[string]any{"type": "string", "pattern": templatePattern}}
		}
	}
	if f.Description != "" {
		s["description"] = f.Description
	}
	if f.Expression {
		s["format"] = "expression"
	}
	if f.Default != nil {
		s["default"] = f.Default
	}
	if len(f.Examples) > 0 {
		s["examples"] = f.Examples
	}
	return s
}

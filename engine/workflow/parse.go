package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"sigs.k8s.io/yaml"
)

var workflowType = reflect.TypeFor[Workflow]()

// Parse decodes a workflow from JSON. Structural problems (syntax, unknown fields, wrong
// types, missing required fields) come back together as a *ValidationError. Parse does not
// check actions or expressions: Compile does.
func Parse(data []byte) (*Workflow, error) {
	generic, err := DecodeJSON(data)
	if err != nil {
		return nil, &ValidationError{Errors: []FieldError{{Message: describeSyntaxError(data, err)}}}
	}
	var errs errorList
	if _, ok := generic.(map[string]any); !ok {
		errs.add("", "a workflow must be a JSON object, got %s", jsonType(generic))
		return nil, errs.err()
	}
	checkShape(&errs, "", generic, workflowType, nil)
	if err := errs.err(); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var w Workflow
	if err := dec.Decode(&w); err != nil {
		// The shape check should have caught this; report it rather than lose it.
		return nil, &ValidationError{Errors: []FieldError{{Message: fmt.Sprintf("decode workflow: %v", err)}}}
	}
	for i := range w.Steps {
		if w.Steps[i].With != nil {
			NormalizeNumbers(w.Steps[i].With)
		}
	}
	if w.Trigger.Poll != nil && w.Trigger.Poll.With != nil {
		NormalizeNumbers(w.Trigger.Poll.With)
	}
	return &w, nil
}

// ParseYAML decodes a workflow written in YAML by converting it to JSON first, so both
// formats share one set of rules.
func ParseYAML(data []byte) (*Workflow, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, &ValidationError{Errors: []FieldError{{Message: fmt.Sprintf("invalid YAML: %v", err)}}}
	}
	return Parse(js)
}

func describeSyntaxError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	offset := int64(-1)
	switch {
	case errors.As(err, &se):
		offset = se.Offset
	case errors.As(err, &te):
		offset = te.Offset
	}
	if offset < 0 {
		return fmt.Sprintf("invalid JSON: %v", err)
	}
	line, col := 1, 1
	for i := int64(0); i < offset && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "number"
}

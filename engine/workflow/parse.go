package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"sigs.k8s.io/yaml"

	"github.com/hookflow/hookflow/connectors"
)

var workflowType = reflect.TypeFor[Workflow]()

// Parse decodes a workflow from JSON. Structural problems (syntax, unknown fields, wrong
// types, missing required fields) come back together as a *ValidationError. Parse does not
// check actions or expressions: Compile does, and Load does both.
func Parse(data []byte) (*Workflow, error) {
	w, shapeErrs, err := parse(data)
	if err != nil {
		return nil, err
	}
	if len(shapeErrs) > 0 {
		return nil, &ValidationError{Errors: shapeErrs}
	}
	return w, nil
}

// parse decodes what it can of a workflow: a fatal error for input that is not a JSON
// object, otherwise the workflow with the rejected values left out, and the structural
// problems found.
func parse(data []byte) (*Workflow, []FieldError, error) {
	generic, err := connectors.DecodeJSON(data)
	if err != nil {
		return nil, nil, &ValidationError{Errors: []FieldError{{Message: describeSyntaxError(data, err)}}}
	}
	var errs errorList
	var dup *DuplicateKeyError
	if errors.As(CheckDuplicateKeys(data), &dup) {
		errs.add(joinPath(dup.Path, dup.Key), "appears twice in the same object; only one value would be kept, so give it once")
		return nil, nil, errs.err()
	}
	if _, ok := generic.(map[string]any); !ok {
		errs.add("", "a workflow must be a JSON object, got %s", jsonType(generic))
		return nil, nil, errs.err()
	}
	checkShape(&errs, "", generic, workflowType, nil)
	// Decode what survived the shape check, so later checks see every valid part.
	cleaned, err := json.Marshal(generic)
	if err != nil {
		return nil, nil, fmt.Errorf("re-encode workflow: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(cleaned))
	dec.UseNumber()
	var w Workflow
	if err := dec.Decode(&w); err != nil {
		// The shape check should have caught this; report it rather than lose it.
		errs.add("", "decode workflow: %v", err)
		return nil, nil, errs.err()
	}
	for i := range w.Steps {
		if w.Steps[i].With != nil {
			connectors.NormalizeNumbers(w.Steps[i].With)
		}
	}
	if w.Trigger.Poll != nil && w.Trigger.Poll.With != nil {
		connectors.NormalizeNumbers(w.Trigger.Poll.With)
	}
	return &w, errs.errs, nil
}

// Load parses and compiles a JSON workflow, reporting structural and semantic problems
// together in one *ValidationError.
func Load(data []byte, reg *connectors.Registry) (*Workflow, *Compiled, error) {
	w, shapeErrs, err := parse(data)
	if err != nil {
		return nil, nil, err
	}
	c, err := Compile(w, reg)
	if err == nil && len(shapeErrs) == 0 {
		return w, c, nil
	}
	all := append([]FieldError(nil), shapeErrs...)
	var ve *ValidationError
	if errors.As(err, &ve) {
		seen := map[FieldError]bool{}
		for _, fe := range all {
			seen[fe] = true
		}
		for _, fe := range ve.Errors {
			if !seen[fe] {
				all = append(all, fe)
			}
		}
	} else if err != nil {
		return nil, nil, err
	}
	sortByDocumentOrder(all)
	return w, nil, &ValidationError{Errors: all}
}

// ParseYAML decodes a workflow written in YAML by converting it to JSON first, so both
// formats share one set of rules.
func ParseYAML(data []byte) (*Workflow, error) {
	js, err := YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return Parse(js)
}

// YAMLToJSON converts a YAML workflow to JSON; a YAML syntax error is a
// *ValidationError.
func YAMLToJSON(data []byte) ([]byte, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, &ValidationError{Errors: []FieldError{{Message: fmt.Sprintf("invalid YAML: %v", err)}}}
	}
	return js, nil
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
	// Offset counts the bytes read, the offending one included.
	line, col := 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(data)); i++ {
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

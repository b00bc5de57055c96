package workflow

import (
	"reflect"
	"slices"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

var durationType = reflect.TypeFor[Duration]()

// fieldInfo is what shape checking and schema generation read off a struct field.
type fieldInfo struct {
	name     string
	index    int
	typ      reflect.Type
	doc      string
	enum     []string
	required bool
	format   string
}

func structFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fi := fieldInfo{name: name, index: i, typ: f.Type, doc: f.Tag.Get("doc"),
			required: f.Tag.Get("required") == "true", format: f.Tag.Get("format")}
		if e := f.Tag.Get("enum"); e != "" {
			fi.enum = strings.Split(e, ",")
		}
		out = append(out, fi)
	}
	return out
}

// checkShape compares a decoded JSON value with the Go type it will be decoded into and
// records every unknown field, wrong type, bad enum value and bad duration. Doing this on
// the generic value, rather than relying on encoding/json, is what lets validation report
// every problem at once with its path. It removes the values it rejects (keys from
// objects, elements become null) so that the rest still decodes and can be checked
// further. It reports whether v itself is usable.
func checkShape(errs *errorList, path string, v any, t reflect.Type, enum []string) bool {
	if v == nil {
		return true // null means absent; required fields are checked by the caller
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		s, ok := v.(string)
		if !ok {
			errs.add(path, "expected a duration string such as \"10s\", got %s", connectors.JSONTypeOf(v))
			return false
		}
		if _, err := ParseDuration(s); err != nil {
			errs.add(path, "invalid duration %q (use a form such as \"500ms\", \"10s\", \"5m\", \"2h\")", s)
			return false
		}
		return true
	}
	if t == byteSizeType {
		return checkByteSize(errs, path, v)
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			errs.add(path, "expected an object, got %s", connectors.JSONTypeOf(v))
			return false
		}
		fields := structFields(t)
		byName := map[string]fieldInfo{}
		names := make([]string, 0, len(fields))
		for _, f := range fields {
			byName[f.name] = f
			names = append(names, f.name)
		}
		for _, f := range fields {
			if f.required {
				if val, present := obj[f.name]; !present || val == nil {
					errs.add(joinPath(path, f.name), "is required")
				}
			}
		}
		for _, k := range sortedKeys(obj) {
			f, known := byName[k]
			if !known {
				errs.add(joinPath(path, k), "unknown field%s", didYouMean(k, names))
				delete(obj, k)
				continue
			}
			if !checkShape(errs, joinPath(path, k), obj[k], f.typ, f.enum) {
				delete(obj, k)
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			errs.add(path, "expected an array, got %s", connectors.JSONTypeOf(v))
			return false
		}
		for i, e := range arr {
			if !checkShape(errs, indexPath(path, i), e, t.Elem(), enum) {
				arr[i] = nil
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			errs.add(path, "expected an object, got %s", connectors.JSONTypeOf(v))
			return false
		}
		for _, k := range sortedKeys(obj) {
			if !checkShape(errs, joinPath(path, k), obj[k], t.Elem(), nil) {
				delete(obj, k)
			}
		}
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			errs.add(path, "expected a string, got %s", connectors.JSONTypeOf(v))
			return false
		}
		if len(enum) > 0 && !slices.Contains(enum, s) {
			errs.add(path, "%q is not one of %s%s", s, strings.Join(enum, ", "), didYouMean(s, enum))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			errs.add(path, "expected a boolean, got %s", connectors.JSONTypeOf(v))
			return false
		}
	case reflect.Int, reflect.Int64:
		if connectors.JSONTypeOf(v) != "integer" {
			errs.add(path, "expected an integer, got %s", connectors.JSONTypeOf(v))
			return false
		}
	case reflect.Float64:
		if jt := connectors.JSONTypeOf(v); jt != "integer" && jt != "number" {
			errs.add(path, "expected a number, got %s", jt)
			return false
		}
	case reflect.Interface:
		// Any value.
	}
	return true
}

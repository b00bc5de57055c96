package expr

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PathError is an error in one string of a Value. Path locates it relative
// to the value's root: ".key" for object keys (`["key"]` when the key is not
// made of letters, digits, '_' and '-'), "[i]" for list indexes, with the
// leading dot dropped, e.g. "headers.X-Id" or "items[2].name"; the root
// itself is "".
type PathError struct {
	Path string
	Err  error
}

// Error prefixes the error with its path.
func (e *PathError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the error at the path.
func (e *PathError) Unwrap() error { return e.Err }

// CompileErrors lists every string of a Value that failed to compile, so
// that the editor can show all problems at once instead of one per save.
// CompileValue returns it as *CompileErrors; errors.As fills either a
// *CompileErrors or a CompileErrors target.
type CompileErrors []PathError

// Error joins the errors with "; ".
func (e CompileErrors) Error() string {
	msgs := make([]string, len(e))
	for i := range e {
		msgs[i] = e[i].Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the individual errors for errors.Is and errors.As.
func (e CompileErrors) Unwrap() []error {
	errs := make([]error, len(e))
	for i := range e {
		errs[i] = &e[i]
	}
	return errs
}

// As lets errors.As fill a CompileErrors value target from the
// *CompileErrors that CompileValue returns.
func (e *CompileErrors) As(target any) bool {
	if t, ok := target.(*CompileErrors); ok {
		*t = *e
		return true
	}
	return false
}

// Value is a compiled tree of JSON values (map[string]any / []any / strings /
// scalars) in which every string is a template.
type Value struct {
	root node
}

type nodeKind uint8

const (
	kindScalar   nodeKind = iota // immutable value: string, number, bool, nil
	kindTemplate                 // string with {{ }}
	kindObject
	kindList
)

type node struct {
	kind     nodeKind
	static   bool // no template below: rendering is a copy
	scalar   any
	tmpl     *Template
	keys     []string // sorted, so that errors come out in a stable order
	children []node
	path     string
}

// CompileValue compiles every string in v as a template. v is what JSON
// decoding produces: map[string]any, []any, string, bool, nil and numbers.
// On failure the error is (or wraps) CompileErrors with one entry per bad
// string.
func CompileValue(v any) (*Value, error) {
	return Scope{}.CompileValue(v)
}

// CompileValue compiles a value of the scope; see the package CompileValue.
func (sc Scope) CompileValue(v any) (*Value, error) {
	var errs CompileErrors
	root := sc.compileNode(v, "", &errs)
	if len(errs) > 0 {
		return nil, &errs
	}
	return &Value{root: root}, nil
}

func (sc Scope) compileNode(v any, path string, errs *CompileErrors) node {
	switch x := v.(type) {
	case nil, bool, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return node{kind: kindScalar, static: true, scalar: x, path: path}
	case string:
		t, err := sc.CompileTemplate(x)
		if err != nil {
			*errs = append(*errs, PathError{Path: path, Err: err})
			return node{kind: kindScalar, static: true, scalar: x, path: path}
		}
		if t.IsStatic() {
			return node{kind: kindScalar, static: true, scalar: x, path: path}
		}
		return node{kind: kindTemplate, tmpl: t, path: path}
	case map[string]any:
		n := node{kind: kindObject, static: true, path: path, keys: make([]string, 0, len(x))}
		for k := range x {
			n.keys = append(n.keys, k)
		}
		slices.Sort(n.keys)
		n.children = make([]node, len(n.keys))
		for i, k := range n.keys {
			n.children[i] = sc.compileNode(x[k], keyPath(path, k), errs)
			n.static = n.static && n.children[i].static
		}
		return n
	case []any:
		n := node{kind: kindList, static: true, path: path, children: make([]node, len(x))}
		for i, item := range x {
			n.children[i] = sc.compileNode(item, path+"["+strconv.Itoa(i)+"]", errs)
			n.static = n.static && n.children[i].static
		}
		return n
	}
	*errs = append(*errs, PathError{Path: path, Err: fmt.Errorf("compile value: unsupported type %T", v)})
	return node{kind: kindScalar, static: true, path: path}
}

// keyPath appends an object key to a path.
func keyPath(parent, key string) string {
	if simpleKey(key) {
		if parent == "" {
			return key
		}
		return parent + "." + key
	}
	return parent + "[" + strconv.Quote(key) + "]"
}

// simpleKey reports whether key can be written after a dot without
// ambiguity. Dashes are allowed because header names such as X-Id are the
// common case and stay readable.
func simpleKey(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// IsStatic reports whether the value contains no {{ }} anywhere.
func (v *Value) IsStatic() bool { return v.root.static }

// Render evaluates every template in the value and returns a fresh tree:
// maps and lists are new on every call, so the caller may change the result
// without affecting the compiled value or later renders. Values computed by
// expressions may share structure with env. Errors are *PathError naming the
// failing string.
func (v *Value) Render(ctx context.Context, env map[string]any) (any, error) {
	if v.root.static {
		return v.root.render(ctx, env)
	}
	return v.root.render(withMeter(ctx), env)
}

func (n *node) render(ctx context.Context, env map[string]any) (any, error) {
	switch n.kind {
	case kindScalar:
		return n.scalar, nil
	case kindTemplate:
		out, err := n.tmpl.Render(ctx, env)
		if err != nil {
			return nil, &PathError{Path: n.path, Err: err}
		}
		return out, nil
	case kindObject:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			out, err := n.children[i].render(ctx, env)
			if err != nil {
				return nil, err
			}
			m[k] = out
		}
		return m, nil
	default:
		list := make([]any, len(n.children))
		for i := range n.children {
			out, err := n.children[i].render(ctx, env)
			if err != nil {
				return nil, err
			}
			list[i] = out
		}
		return list, nil
	}
}

package declarative

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/hookflow/hookflow/engine/expr"
)

// runtimeScope is the workflow language plus the names a connector file's templates and
// expressions see: the connection's settings, the call's input, a poll's cursor and page,
// the time, and, over a response, its body, headers and status ("item" is the language's
// own).
var runtimeScope = expr.NewScope("conn", "input", "cursor", "page", "now", "body", "headers", "status")

// text is one compiled template string of the file.
type text struct {
	src string
	t   *expr.Template
	// path escapes each {{ }} part as one URL path segment.
	path bool
}

func compileText(where, src string, path bool) (*text, error) {
	t, err := runtimeScope.CompileTemplate(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &text{src: src, t: t, path: path}, nil
}

// compileTextOpt compiles src, or returns nil for "".
func compileTextOpt(where, src string, path bool) (*text, error) {
	if src == "" {
		return nil, nil
	}
	return compileText(where, src, path)
}

// render returns the template's value: typed for exactly one {{ }}, else a string. A part
// that renders nil is an error naming its expression, unless the expression gives its own
// default, so that a misspelt variable never sends an empty value.
func (t *text) render(ctx context.Context, env map[string]any) (any, error) {
	v, err := t.t.RenderEach(ctx, env, func(src string, v any) (any, error) {
		if v == nil && !givesDefault(src) {
			return nil, fmt.Errorf("%s is missing", strings.TrimSpace(src))
		}
		if t.path {
			s, err := expr.Text(v)
			if err != nil {
				return nil, err
			}
			return url.PathEscape(s), nil
		}
		return v, nil
	})
	if err != nil {
		return nil, fmt.Errorf("render %q: %w", t.src, err)
	}
	return v, nil
}

// renderString renders the template and writes its value as text.
func (t *text) renderString(ctx context.Context, env map[string]any) (string, error) {
	v, err := t.render(ctx, env)
	if err != nil {
		return "", err
	}
	s, err := expr.Text(v)
	if err != nil {
		return "", fmt.Errorf("render %q: %w", t.src, err)
	}
	return s, nil
}

// givesDefault reports whether an expression supplies its own value for nil, in which
// case a nil result is what the integrator asked for.
func givesDefault(src string) bool {
	return strings.Contains(src, "??") || strings.Contains(src, "default(")
}

// expression is one compiled bare expression of the file (items, item_key, next...).
type expression struct {
	src string
	p   *expr.Program
}

// compileExpr compiles src, or returns nil for "".
func compileExpr(where, src string) (*expression, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	p, err := runtimeScope.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &expression{src: src, p: p}, nil
}

func (e *expression) eval(ctx context.Context, env map[string]any) (any, error) {
	return e.p.Eval(ctx, env)
}

// tree is a compiled template tree: a request body or a query value (objects, lists,
// template strings, other literals).
type tree struct {
	lit    any
	text   *text
	keys   []string // object: sorted keys, with fields in the same order
	fields []*tree
	items  []*tree // list
	kind   treeKind
}

type treeKind int

const (
	treeLiteral treeKind = iota
	treeText
	treeObject
	treeList
)

func compileTree(where string, v any) (*tree, error) {
	switch x := v.(type) {
	case string:
		t, err := compileText(where, x, false)
		if err != nil {
			return nil, err
		}
		if t.t.IsStatic() {
			return &tree{kind: treeLiteral, lit: x}, nil
		}
		return &tree{kind: treeText, text: t}, nil
	case map[string]any:
		n := &tree{kind: treeObject}
		for k := range x {
			n.keys = append(n.keys, k)
		}
		sort.Strings(n.keys)
		for _, k := range n.keys {
			f, err := compileTree(where+"."+k, x[k])
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, f)
		}
		return n, nil
	case []any:
		n := &tree{kind: treeList}
		for i, e := range x {
			item, err := compileTree(fmt.Sprintf("%s[%d]", where, i), e)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		}
		return n, nil
	default:
		return &tree{kind: treeLiteral, lit: v}, nil
	}
}

// render builds the tree's value. omitEmpty drops the object keys whose value is nil or "".
func (n *tree) render(ctx context.Context, env map[string]any, omitEmpty bool) (any, error) {
	switch n.kind {
	case treeText:
		return n.text.render(ctx, env)
	case treeObject:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, err := n.fields[i].render(ctx, env, omitEmpty)
			if err != nil {
				return nil, err
			}
			if omitEmpty && isEmpty(v) {
				continue
			}
			out[k] = v
		}
		return out, nil
	case treeList:
		out := make([]any, 0, len(n.items))
		for _, item := range n.items {
			v, err := item.render(ctx, env, omitEmpty)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return n.lit, nil
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && s == ""
}

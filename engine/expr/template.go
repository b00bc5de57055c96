package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Template is one string that may contain {{ expr }} parts.
type Template struct {
	src   string
	parts []part
	// single is set when the whole string is exactly one {{ expr }}; Render
	// then returns the expression's value with its type.
	single *Program
	// literal is the total length of the text parts, to size the output.
	literal int
}

// part is either literal text (prog == nil) or an expression starting at
// byte off of the template.
type part struct {
	text string
	prog *Program
	off  int
}

// CompileTemplate compiles a string with {{ expr }} parts. The expression
// inside the braces ends at the first "}}" that is outside string literals
// and outside braces opened within the expression, so {{ "}}" }} and
// {{ {"a": {"b": 1}} }} work. A literal "{{" is written as {{ "{{" }}.
// Errors carry the line and column in s.
func CompileTemplate(s string) (*Template, error) {
	return Scope{}.CompileTemplate(s)
}

// CompileTemplate compiles a template of the scope; see the package CompileTemplate.
func (sc Scope) CompileTemplate(s string) (*Template, error) {
	t := &Template{src: s}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			t.addText(s[i:])
			break
		}
		open := i + j
		t.addText(s[i:open])
		end, err := scanExpr(s, open)
		if err != nil {
			return nil, fmt.Errorf("compile template: %w", err)
		}
		src := s[open+2 : end]
		if strings.TrimSpace(src) == "" {
			line, col := position(s, open)
			return nil, fmt.Errorf("compile template: %w", &Error{Msg: "empty {{ }}", Line: line, Column: col})
		}
		prog, err := sc.compileCached(src)
		if err != nil {
			return nil, fmt.Errorf("compile template: %w", relocate(err, s, open+2))
		}
		t.parts = append(t.parts, part{prog: prog, off: open + 2})
		if open == 0 && end+2 == len(s) {
			t.single = prog
		}
		i = end + 2
	}
	return t, nil
}

func (t *Template) addText(s string) {
	if s == "" {
		return
	}
	t.parts = append(t.parts, part{text: s})
	t.literal += len(s)
}

// scanExpr returns the offset of the "}}" closing the expression opened by
// the "{{" at open. It skips string literals ("...", '...' with backslash
// escapes, `...` raw) and balanced braces so that neither can end the
// expression early.
func scanExpr(s string, open int) (int, error) {
	depth := 0
	for i := open + 2; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'', '`':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && c != '`' {
					j++
				}
			}
			if j >= len(s) {
				line, col := position(s, i)
				return 0, &Error{Msg: "unterminated string literal in {{ }}", Line: line, Column: col}
			}
			i = j
		case '{':
			depth++
		case '}':
			if depth == 0 && i+1 < len(s) && s[i+1] == '}' {
				return i, nil
			}
			if depth > 0 {
				depth--
			}
		}
	}
	line, col := position(s, open)
	return 0, &Error{Msg: `unterminated "{{"`, Line: line, Column: col}
}

// evalPart evaluates one expression; error positions are in the template.
func (t *Template) evalPart(ctx context.Context, env map[string]any, p part) (any, error) {
	v, err := p.prog.eval(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("eval %s: %w", quoteSource(p.prog.src), relocate(err, t.src, p.off))
	}
	return v, nil
}

// relocate moves the position of an expression's compile error from the
// expression (which starts at byte off of s) to the whole template.
func relocate(err error, s string, off int) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	startLine, startCol := position(s, off)
	switch {
	case e.Line == 0:
		out.Line, out.Column = startLine, startCol
	case e.Line == 1:
		out.Line, out.Column = startLine, startCol+e.Column-1
	default:
		out.Line = startLine + e.Line - 1
	}
	return &out
}

// Source returns the template as written.
func (t *Template) Source() string { return t.src }

// IsStatic reports whether the template has no {{ }} at all; Render then
// returns the string unchanged and needs no environment.
func (t *Template) IsStatic() bool {
	for _, p := range t.parts {
		if p.prog != nil {
			return false
		}
	}
	return true
}

// Render evaluates the template. A template that is exactly one {{ expr }}
// returns the value with its type (number, object, list, bool, nil); any
// other template returns a string in which nil is empty, numbers are plain
// decimals, and objects and lists are compact JSON.
func (t *Template) Render(ctx context.Context, env map[string]any) (any, error) {
	return t.render(ctx, env, nil)
}

// RenderEach renders the template as Render does, but hands the value of each {{ }} part,
// with the part's expression source, to each before using it: each returns the value to
// use instead, or an error that stops the rendering. Declarative connectors use it to
// refuse parts that render nil and to escape each part of a URL path as one segment.
func (t *Template) RenderEach(ctx context.Context, env map[string]any, each func(src string, v any) (any, error)) (any, error) {
	return t.render(ctx, env, each)
}

func (t *Template) render(ctx context.Context, env map[string]any, each func(string, any) (any, error)) (any, error) {
	if t.single != nil {
		v, err := t.evalPart(ctx, env, t.parts[0])
		if err != nil || each == nil {
			return v, err
		}
		return each(t.single.src, v)
	}
	ctx = withMeter(ctx) // the parts and the joined text share one budget
	switch len(t.parts) {
	case 0:
		return "", nil
	case 1:
		if t.parts[0].prog == nil {
			return t.src, nil
		}
	}
	buf := make([]byte, 0, t.literal+32*len(t.parts))
	for _, p := range t.parts {
		if p.prog == nil {
			buf = append(buf, p.text...)
			continue
		}
		v, err := t.evalPart(ctx, env, p)
		if err != nil {
			return nil, err
		}
		if each != nil {
			if v, err = each(p.prog.src, v); err != nil {
				return nil, err
			}
		}
		if buf, err = appendText(buf, v, MaxStringSize); err != nil {
			if errors.Is(err, errTooLong) {
				err = checkSize(MaxStringSize + 1)
			}
			return nil, fmt.Errorf("render %s: %w", quoteSource(p.prog.src), err)
		}
		if err := checkSize(len(buf)); err != nil {
			return nil, fmt.Errorf("render template: %w", err)
		}
	}
	if err := meterFor(ctx).charge(int64(len(buf))); err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	return string(buf), nil
}

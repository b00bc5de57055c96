package expr

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTemplateRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tmpl string
		want       any
	}{
		{"static", "hello", "hello"},
		{"empty", "", ""},
		{"stray closing braces are text", "a }} b {", "a }} b {"},
		{"single keeps int", "{{ trigger.body.amount }}", int64(1500)},
		{"single without spaces", "{{trigger.body.amount}}", int64(1500)},
		{"single with inner newlines", "{{\n  trigger.body.amount\n}}", int64(1500)},
		{"single keeps float", "{{ trigger.body.price }}", 1500.5},
		{"single keeps bool", "{{ trigger.body.vip }}", true},
		{"single keeps nil", "{{ trigger.body.missing }}", nil},
		{"single keeps list", "{{ trigger.body.tags }}", []any{"a", "b"}},
		{"single keeps object", "{{ steps.crm.output }}", map[string]any{"id": "c-1", "count": 7}},
		{"single keeps computed list", "{{ map(trigger.body.items, #.sku) }}", []any{"X1", "Y2"}},
		{"single string", "{{ trigger.headers['X-Id'] }}", "42"},
		{"space before is text", " {{ trigger.body.amount }}", " 1500"},
		{"space after is text", "{{ trigger.body.amount }} ", "1500 "},
		{"two parts are text", "{{ trigger.body.amount }}{{ trigger.body.amount }}", "15001500"},
		{"text around", "Hi {{ trigger.body.name }}, you owe {{ trigger.body.price }}.", "Hi Ann, you owe 1500.5."},
		{"float without decimals", "{{ 100.0 }}x", "100x"},
		{"infinity", "{{ trigger.body.price / 0 }}x", "+Infx"},
		{"float shortest form", "{{ 0.1 + 0.2 }}x", "0.30000000000000004x"},
		{"large float without exponent", "{{ 123456789012.5 }}x", "123456789012.5x"},
		{"huge float with exponent", "{{ 1e21 }}x", "1e+21x"},
		{"small float", "{{ 0.000001 }}x", "0.000001x"},
		{"tiny float with exponent", "{{ 1e-7 }}x", "1e-7x"},
		{"negative", "{{ -trigger.body.price }}x", "-1500.5x"},
		{"int64 from JSON", "n={{ trigger.body.amount }}", "n=1500"},
		{"nil is empty", "[{{ trigger.body.missing }}]", "[]"},
		{"bools", "{{ true }}/{{ false }}", "true/false"},
		{"list as compact JSON", "tags={{ trigger.body.tags }}", `tags=["a","b"]`},
		{"object as compact JSON, sorted, not HTML-escaped", "{{ {'b': 1, 'a': '<x&y>'} }}!", `{"a":"<x&y>","b":1}!`},
		{"nested values", "{{ trigger.body.items }}", []any{map[string]any{"sku": "X1", "qty": int64(2)}, map[string]any{"sku": "Y2", "qty": int64(3)}}},
		{"nested values as text", "items: {{ trigger.body.items }}", `items: [{"qty":2,"sku":"X1"},{"qty":3,"sku":"Y2"}]`},
		{"time as RFC 3339", "{{ date('2024-05-01T10:00:00Z') }}!", "2024-05-01T10:00:00Z!"},
		{"duration", "{{ duration('90m') }}!", "1h30m0s!"},
		{"groupBy map keys", "{{ groupBy([1, 2, 3], # % 2) }}!", `{"0":[2],"1":[1,3]}!`},
		{"split result", "{{ split('a,b', ',') }}!", `["a","b"]!`},
		{"escaped open braces", `{{ "{{" }} literal }}`, "{{ literal }}"},
		{"escaped braces in text", `Use {{ "{{" }}name}} here`, "Use {{name}} here"},
		{"closing braces in double quotes", `{{ "}}" }}`, "}}"},
		{"closing braces in single quotes", `a{{ '}}' }}b`, "a}}b"},
		{"closing braces in backticks", "{{ `}}` }}", "}}"},
		{"escaped quote before braces", `{{ "a\"}}" }}`, `a"}}`},
		{"map literal braces", "{{ {'a': {'b': 1}} }}", map[string]any{"a": map[string]any{"b": 1}}},
		{"map literal without spaces", "{{{'a': 1}}}", map[string]any{"a": 1}},
		{"unicode text", "привет, {{ trigger.body.name }}!", "привет, Ann!"},
		{"multi-line text", "Dear {{ trigger.body.name }},\nthanks.\n", "Dear Ann,\nthanks.\n"},
		{"helper", "{{ cleanEmail(trigger.body.email) }}", "ann@example.com"},
		{"default", "Hi {{ default(trigger.body.first_name, 'there') }}", "Hi there"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := CompileTemplate(tt.tmpl)
			require.NoError(t, err)
			require.Equal(t, tt.tmpl, tmpl.Source())
			got, err := tmpl.Render(context.Background(), testEnv())
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestTemplateIsStatic(t *testing.T) {
	t.Parallel()
	for tmpl, want := range map[string]bool{
		"":                   true,
		"plain":              true,
		"a }} b":             true,
		"{ {not} }":          true,
		"{{ 1 }}":            false,
		"x {{ 'y' }}":        false,
		`{{ "{{" }} escaped`: false,
	} {
		tp, err := CompileTemplate(tmpl)
		require.NoError(t, err, tmpl)
		require.Equal(t, want, tp.IsStatic(), tmpl)
	}
}

func TestTemplateStaticNeedsNoEnv(t *testing.T) {
	t.Parallel()
	tp, err := CompileTemplate("plain")
	require.NoError(t, err)
	got, err := tp.Render(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, "plain", got)
}

func TestTemplateCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl, want string
		line, col  int
	}{
		{"a {{ b", `unterminated "{{"`, 1, 3},
		{"ok {{ 1 }} then {{ 2 ", `unterminated "{{"`, 1, 17},
		{"{{ {'a': 1 }}", `unterminated "{{"`, 1, 1},
		{"{{ 'x }}", "unterminated string literal in {{ }}", 1, 4},
		{"{{ }}", "empty {{ }}", 1, 1},
		{"x {{}}", "empty {{ }}", 1, 3},
		{"Hi {{ trgger.body.name }}", "unknown name trgger", 1, 7},
		{"héllo {{ trgger }}", "unknown name trgger", 1, 10},
		{"line one\n  {{ trgger.x }}", "unknown name trgger", 2, 6},
		{"a\n{{ 1 +\n  nope }}", "unknown name nope", 3, 3},
		{"{{ trigger.body.amount > }}", "unexpected token EOF", 1, 25},
		{"{{ $env }}", "$env is not available", 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			tmpl, err := CompileTemplate(tt.tmpl)
			require.Nil(t, tmpl)
			require.ErrorContains(t, err, "compile template: "+tt.want)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tt.line, e.Line, "line")
			require.Equal(t, tt.col, e.Column, "column")
		})
	}
}

func TestTemplateRenderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl, want string
	}{
		{"{{ trigger.body.missing.x }}", `eval "trigger.body.missing.x": cannot fetch x from <nil> (1:25)`},
		{"a {{ trigger.body.missing.x }} b", `eval "trigger.body.missing.x": cannot fetch x from <nil>`},
		{"{{ sha256(trigger.body.amount) }}!", "sha256: argument 1 must be a string, got number"},
		{"line 1\nline 2 {{\n trigger.body.missing.x }}", `cannot fetch x from <nil> (3:23)`},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			tmpl, err := CompileTemplate(tt.tmpl)
			require.NoError(t, err)
			got, err := tmpl.Render(context.Background(), testEnv())
			require.Nil(t, got)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestTemplateTimesAndNow(t *testing.T) {
	t.Parallel()
	tmpl, err := CompileTemplate("{{ now() }}")
	require.NoError(t, err)
	got, err := tmpl.Render(context.Background(), testEnv())
	require.NoError(t, err)
	require.IsType(t, time.Time{}, got, "a single part keeps the time value")
}

func TestTemplateRenderEach(t *testing.T) {
	t.Parallel()
	seen := func(srcs *[]string) func(string, any) (any, error) {
		return func(src string, v any) (any, error) {
			*srcs = append(*srcs, src)
			if v == nil {
				return nil, errors.New(strings.TrimSpace(src) + " is missing")
			}
			s, err := Text(v)
			if err != nil {
				return nil, err
			}
			return "<" + s + ">", nil
		}
	}
	tests := []struct {
		tmpl    string
		want    any
		srcs    []string
		wantErr string
	}{
		{"a{{ trigger.body.name }}b{{ trigger.body.amount }}", "a<Ann>b<1500>", []string{" trigger.body.name ", " trigger.body.amount "}, ""},
		{"{{ trigger.body.amount }}", "<1500>", []string{" trigger.body.amount "}, ""},
		{"static", "static", nil, ""},
		{"x/{{ trigger.body.missing }}", nil, []string{" trigger.body.missing "}, "trigger.body.missing is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			t.Parallel()
			tmpl, err := CompileTemplate(tt.tmpl)
			require.NoError(t, err)
			var srcs []string
			got, err := tmpl.RenderEach(context.Background(), testEnv(), seen(&srcs))
			require.Equal(t, tt.srcs, srcs)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, ""}, {"478", "478"}, {int64(478), "478"}, {1500.5, "1500.5"}, {true, "true"},
		{map[string]any{"a": []any{1, "x"}}, `{"a":[1,"x"]}`},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z"},
	} {
		got, err := Text(tt.in)
		require.NoError(t, err)
		require.Equal(t, tt.want, got, "%#v", tt.in)
	}
}

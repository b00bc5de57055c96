package expr

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValueRender(t *testing.T) {
	t.Parallel()
	v, err := CompileValue(map[string]any{
		"url":     "https://api.example.com/leads/{{ urlEncode(trigger.body.name) }}",
		"method":  "POST",
		"retries": 3.0,
		"headers": map[string]any{"X-Id": "{{ trigger.headers['X-Id'] }}", "Accept": "application/json"},
		"body": map[string]any{
			"email":  "{{ cleanEmail(trigger.body.email) }}",
			"amount": "{{ trigger.body.amount }}",
			"tags":   "{{ trigger.body.tags }}",
			"items":  []any{"{{ trigger.body.items[0].sku }}", "fixed", nil, true, map[string]any{"n": "{{ run.attempt }}"}},
			"note":   "run {{ run.id }} of {{ workflow.name }}",
			"json":   json.Number("12"),
		},
	})
	require.NoError(t, err)
	require.False(t, v.IsStatic())

	got, err := v.Render(context.Background(), testEnv())
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"url":     "https://api.example.com/leads/Ann",
		"method":  "POST",
		"retries": 3.0,
		"headers": map[string]any{"X-Id": "42", "Accept": "application/json"},
		"body": map[string]any{
			"email":  "ann@example.com",
			"amount": int64(1500),
			"tags":   []any{"a", "b"},
			"items":  []any{"X1", "fixed", nil, true, map[string]any{"n": 1}},
			"note":   "run r-1 of Leads",
			"json":   json.Number("12"),
		},
	}, got)
}

func TestValueScalarsAndStatic(t *testing.T) {
	t.Parallel()
	for _, in := range []any{nil, true, 1.5, int64(2), 3, "plain", []any{}, map[string]any{}, map[string]any{"a": []any{"b", 1.0}}} {
		v, err := CompileValue(in)
		require.NoError(t, err)
		require.True(t, v.IsStatic())
		got, err := v.Render(context.Background(), nil)
		require.NoError(t, err)
		require.Equal(t, in, got)
	}
	v, err := CompileValue("{{ trigger.body.amount }}")
	require.NoError(t, err)
	require.False(t, v.IsStatic())
	got, err := v.Render(context.Background(), testEnv())
	require.NoError(t, err)
	require.Equal(t, int64(1500), got)
}

func TestValueRenderReturnsFreshTree(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"static": map[string]any{"list": []any{"a", map[string]any{"k": "v"}}},
		"dyn":    "{{ trigger.body.name }}",
	}
	v, err := CompileValue(in)
	require.NoError(t, err)

	// Changing the input after compiling does not change the compiled value.
	in["static"].(map[string]any)["list"].([]any)[0] = "changed"
	in["added"] = 1

	want := map[string]any{
		"static": map[string]any{"list": []any{"a", map[string]any{"k": "v"}}},
		"dyn":    "Ann",
	}
	first, err := v.Render(context.Background(), testEnv())
	require.NoError(t, err)
	require.Equal(t, want, first)

	// Changing a result does not change the next one.
	m := first.(map[string]any)
	m["static"].(map[string]any)["list"].([]any)[1].(map[string]any)["k"] = "mutated"
	m["static"].(map[string]any)["new"] = true
	m["dyn"] = "x"
	second, err := v.Render(context.Background(), testEnv())
	require.NoError(t, err)
	require.Equal(t, want, second)

	s, err := CompileValue(map[string]any{"a": []any{map[string]any{"b": "c"}}})
	require.NoError(t, err)
	r1, err := s.Render(context.Background(), nil)
	require.NoError(t, err)
	r1.(map[string]any)["a"].([]any)[0].(map[string]any)["b"] = "mutated"
	r2, err := s.Render(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": []any{map[string]any{"b": "c"}}}, r2, "static values are copied too")
}

func TestCompileValueErrors(t *testing.T) {
	t.Parallel()
	_, err := CompileValue(map[string]any{
		"headers": map[string]any{"X-Id": "{{ trgger.id }}", "ok": "{{ run.id }}"},
		"items":   []any{"a", 2, map[string]any{"name": "{{ x"}},
		"a b":     "{{ 1 + }}",
		"a.b":     []any{[]any{"{{ nope }}"}},
		"":        "{{ }}",
		"when":    "{{ run.id",
		"bad":     map[string]string{"x": "y"},
	})
	require.Error(t, err)

	var list CompileErrors
	require.ErrorAs(t, err, &list)
	var ptr *CompileErrors
	require.ErrorAs(t, err, &ptr)
	require.Equal(t, list, *ptr)

	paths := make([]string, len(list))
	for i, e := range list {
		paths[i] = e.Path
	}
	// Keys are visited in sorted order, so the list is stable.
	require.Equal(t, []string{`[""]`, `["a b"]`, `["a.b"][0][0]`, "bad", "headers.X-Id", "items[2].name", "when"}, paths)
	require.ErrorContains(t, list[4].Err, "compile template: unknown name trgger (1:4)")
	require.ErrorContains(t, list[3].Err, "unsupported type map[string]string")
	require.Equal(t, `headers.X-Id: compile template: unknown name trgger (1:4)`, list[4].Error())
	require.Contains(t, err.Error(), `items[2].name: compile template: unterminated "{{" (1:1); when: `)

	var located *Error
	require.ErrorAs(t, err, &located, "individual errors are reachable through Unwrap")
}

func TestCompileValueRootPaths(t *testing.T) {
	t.Parallel()
	_, err := CompileValue("{{ nope }}")
	var list CompileErrors
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 1)
	require.Equal(t, "", list[0].Path)
	require.Equal(t, "compile template: unknown name nope (1:4)", err.Error())

	_, err = CompileValue([]any{"ok", "{{ nope }}"})
	require.ErrorAs(t, err, &list)
	require.Equal(t, "[1]", list[0].Path)
}

func TestValueRenderErrorNamesPath(t *testing.T) {
	t.Parallel()
	v, err := CompileValue(map[string]any{
		"body": map[string]any{"lines": []any{"ok", "{{ trigger.body.missing.x }}"}},
	})
	require.NoError(t, err)
	got, err := v.Render(context.Background(), testEnv())
	require.Nil(t, got)
	var pe *PathError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "body.lines[1]", pe.Path)
	require.Equal(t, `body.lines[1]: eval "trigger.body.missing.x": cannot fetch x from <nil> (1:25)`, err.Error())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Render(ctx, testEnv())
	require.True(t, errors.Is(err, context.Canceled))
}

func TestKeyPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ parent, key, want string }{
		{"", "headers", "headers"},
		{"headers", "X-Id", "headers.X-Id"},
		{"", "snake_case1", "snake_case1"},
		{"a", "b c", `a["b c"]`},
		{"a", "b.c", `a["b.c"]`},
		{"", "", `[""]`},
		{"a", `q"uote`, `a["q\"uote"]`},
		{"a", "ключ", `a["ключ"]`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, keyPath(tt.parent, tt.key))
	}
}

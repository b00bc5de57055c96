package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// testEnv is a small environment shaped like the runner's, with values as
// JSON decoding produces them.
func testEnv() map[string]any {
	return map[string]any{
		"trigger": map[string]any{
			"body": map[string]any{
				"amount": int64(1500),
				"price":  1500.5,
				"email":  " Ann@Example.COM ",
				"name":   "Ann",
				"vip":    true,
				"tags":   []any{"a", "b"},
				"items": []any{
					map[string]any{"sku": "X1", "qty": int64(2)},
					map[string]any{"sku": "Y2", "qty": int64(3)},
				},
				"empty": "",
				"none":  nil,
			},
			"headers":     map[string]any{"X-Id": "42"},
			"method":      "POST",
			"received_at": "2024-05-01T10:00:00Z",
		},
		"steps":    map[string]any{"crm": map[string]any{"output": map[string]any{"id": "c-1", "count": 7}}},
		"run":      map[string]any{"id": "r-1", "attempt": 1},
		"workflow": map[string]any{"id": "w-1", "name": "Leads"},
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
		line, col       int
	}{
		{"unknown variable", "trgger.body.x", "unknown name trgger", 1, 1},
		{"unknown variable later", "trigger.body.x > 1 && stesp.a.output", "unknown name stesp", 1, 23},
		{"syntax", "trigger.body.amount >", "unexpected token EOF", 1, 21},
		{"unbalanced", "(trigger.body.amount > 1", "unexpected token EOF", 1, 24},
		{"second line", "trigger.body.a &&\n  nope", "unknown name nope", 2, 3},
		{"env is rejected", "$env.trigger", "$env is not available", 1, 1},
		{"env in index", `$env["trigger"]`, "$env is not available", 1, 1},
		{"typed mistake", "trigger[0]", "cannot use int to get an element", 1, 9},
		{"predicate type", "filter(trigger.body.tags, 1)", "predicate should return boolean", 1, 27},
		{"helper arity", "sha256('a', 'b')", "too many arguments", 1, 1},
		{"helper type", "sha256(1)", "cannot use int as argument", 1, 8},
		{"hidden names cannot be spelled", "guard", "unknown name guard", 1, 1},
		{"empty", "  ", "empty expression", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.src)
			require.Nil(t, p)
			require.ErrorContains(t, err, tt.want)
			require.True(t, strings.HasPrefix(err.Error(), "compile expression: "), err.Error())
			require.NotContains(t, err.Error(), "\n", "errors are one line")
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tt.line, e.Line, "line")
			require.Equal(t, tt.col, e.Column, "column")
		})
	}
}

func TestCompileMaxNodes(t *testing.T) {
	t.Parallel()
	src := "1" + strings.Repeat(" + 1", MaxNodes)
	_, err := Compile(src)
	require.ErrorContains(t, err, "exceeds maximum allowed nodes")

	src = "1" + strings.Repeat(" + 1", MaxNodes/4)
	_, err = Compile(src)
	require.NoError(t, err)
}

func TestCompileAllowsEveryVariable(t *testing.T) {
	t.Parallel()
	for _, name := range Variables {
		_, err := Compile(name + " == nil")
		require.NoError(t, err, name)
	}
}

func TestCompileCachesPrograms(t *testing.T) {
	t.Parallel()
	a, err := Compile("trigger.body.amount > 1 // cache test")
	require.NoError(t, err)
	b, err := Compile("trigger.body.amount > 1 // cache test")
	require.NoError(t, err)
	require.Same(t, a, b)
	require.Equal(t, "trigger.body.amount > 1 // cache test", a.Source())
}

func TestProgramCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newProgramCache(10)
	progs := map[string]*Program{}
	for i := range 100 {
		src := fmt.Sprint(i)
		progs[src] = &Program{src: src}
		c.put(src, progs[src])
		require.LessOrEqual(t, c.len(), 10)
		// Entry 0 is used all the time, so it survives the rotations.
		require.Same(t, progs["0"], c.get("0"))
	}
	require.Nil(t, c.get("1"), "an unused old entry is evicted")
	require.Same(t, progs["99"], c.get("99"))

	c.put(strings.Repeat("x", maxCachedSource+1), &Program{})
	require.Nil(t, c.get(strings.Repeat("x", maxCachedSource+1)))
}

func TestEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want any
	}{
		{"trigger.body.amount", int64(1500)},
		{"trigger.body.amount > 100 && trigger.body.email != ''", true},
		{"trigger.body.price * 2", 3001.0},
		{"trigger.body.amount + 1", 1501},
		{"trigger.body.name + '!'", "Ann!"},
		{"'n=' + string(trigger.body.amount)", "n=1500"},
		{"trigger.headers['X-Id']", "42"},
		{"trigger.body.missing", nil},
		{"trigger.body?.missing?.deeper", nil},
		{"trigger.body.missing ?? 'fallback'", "fallback"},
		{"trigger.body.items[1].sku", "Y2"},
		{"map(trigger.body.items, #.sku)", []any{"X1", "Y2"}},
		{"sum(trigger.body.items, #.qty)", 5},
		{"filter(trigger.body.items, #.qty > 2)[0].sku", "Y2"},
		{"steps.crm.output.id", "c-1"},
		{"run.attempt", 1},
		{"workflow.name | upper()", "LEADS"},
		{"'b' in trigger.body.tags", true},
		{"trigger.body.email | trim() | lower()", "ann@example.com"},
		{"len(trigger.body.items)", 2},
		{"let x = trigger.body.amount; x > 1000 ? 'big' : 'small'", "big"},
		{"item == nil && index == nil", true},
		{"toJSON(trigger.body.tags)", "[\n  \"a\",\n  \"b\"\n]"},
		{"fromJSON('{\"a\":1}').a", 1.0},
		{"split('a,b', ',')", []string{"a", "b"}},
		{"join(['a', 'b'], '-')", "a-b"},
		{"repeat('ab', 2)", "abab"},
		{"replace('a-b-c', '-', '+')", "a+b+c"},
		{"toBase64('hi')", "aGk="},
		{"date('2024-05-01T10:00:00Z').Year()", 2024},
		{"string(1.5)", "1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.src)
			require.NoError(t, err)
			got, err := p.Eval(context.Background(), testEnv())
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEvalForEachVariables(t *testing.T) {
	t.Parallel()
	p, err := Compile("item.name + ' #' + string(index)")
	require.NoError(t, err)
	env := testEnv()
	env["item"] = map[string]any{"name": "row"}
	env["index"] = 3
	got, err := p.Eval(context.Background(), env)
	require.NoError(t, err)
	require.Equal(t, "row #3", got)
}

func TestEvalRuntimeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, want string
	}{
		{"trigger.body.missing.x", "cannot fetch x from <nil>"},
		{"trigger.body.items[5]", "index out of range"},
		{"trigger.body.amount % 0", "integer divide by zero"},
		{"trigger.body.name + 1", "invalid operation"},
		{"fromJSON('{')", "unexpected end of JSON input"},
		{"urlDecode('%zz')", "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.src)
			require.NoError(t, err)
			got, err := p.Eval(context.Background(), testEnv())
			require.Nil(t, got)
			require.ErrorContains(t, err, tt.want)
			require.True(t, strings.HasPrefix(err.Error(), "eval \""), err.Error())
			require.NotContains(t, err.Error(), "\n")
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Positive(t, e.Line)
		})
	}
}

func TestEvalNilEnv(t *testing.T) {
	t.Parallel()
	p, err := Compile("trigger?.body ?? 'none'")
	require.NoError(t, err)
	got, err := p.Eval(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, "none", got)
}

func TestEvalBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src     string
		want    bool
		wantErr string
	}{
		{src: "trigger.body.amount > 100 && trigger.body.email != ''", want: true},
		{src: "trigger.body.amount > 10000", want: false},
		{src: "trigger.body.vip", want: true},
		{src: "trigger.body.missing", want: false},                  // nil is false
		{src: "trigger.body.none", want: false},                     // so is an explicit null
		{src: "!trigger.body.missing", wantErr: "is nil, not bool"}, // expr's own rule; use ?? false
		{src: "!(trigger.body.missing ?? false)", want: true},
		{src: "trigger.body.name", wantErr: `expression "trigger.body.name" returned string, expected a boolean`},
		{src: "trigger.body.amount", wantErr: "returned number, expected a boolean"},
		{src: "trigger.body.items", wantErr: "returned list, expected a boolean"},
		{src: "trigger.body", wantErr: "returned object, expected a boolean"},
		{src: "trigger.body.empty", wantErr: "returned string"},
		{src: "any(trigger.body.items, #.qty > 2)", want: true},
		{src: "trigger.body.missing?.x == nil", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.src)
			require.NoError(t, err)
			got, err := p.EvalBool(context.Background(), testEnv())
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.False(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEvalCanceledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := Compile("trigger.body.amount > 1")
	require.NoError(t, err)
	_, err = p.Eval(ctx, testEnv())
	require.ErrorIs(t, err, context.Canceled)
}

func TestEvalDoesNotChangeEnv(t *testing.T) {
	t.Parallel()
	p, err := Compile("map(trigger.body.items, #.sku)")
	require.NoError(t, err)
	env := testEnv()
	_, err = p.Eval(context.Background(), env)
	require.NoError(t, err)
	require.Equal(t, testEnv(), env, "the guarded path copies env instead of adding its hidden entry")
}

// TestConcurrentUse runs shared programs, templates and values from many
// goroutines; run it with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	filter, err := Compile("trigger.body.amount > 100 && any(trigger.body.items, #.qty > 2)")
	require.NoError(t, err)
	tmpl, err := CompileTemplate("{{ trigger.body.name }} owes {{ trigger.body.price }}")
	require.NoError(t, err)
	val, err := CompileValue(map[string]any{"to": "{{ cleanEmail(trigger.body.email) }}", "n": []any{"{{ run.attempt }}", 1}})
	require.NoError(t, err)
	env := testEnv()

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for range 200 {
				ok, err := filter.EvalBool(context.Background(), env)
				if err != nil || !ok {
					errs <- fmt.Errorf("filter: %v %w", ok, err)
					return
				}
				s, err := tmpl.Render(context.Background(), env)
				if err != nil || s != "Ann owes 1500.5" {
					errs <- fmt.Errorf("template: %v %w", s, err)
					return
				}
				v, err := val.Render(context.Background(), env)
				if err != nil {
					errs <- err
					return
				}
				v.(map[string]any)["to"] = "changed" // results are the caller's to change
				if _, err := Compile(fmt.Sprint("run.attempt > ", len(errs))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	require.Equal(t, "boom (2:3)", (&Error{Msg: "boom", Line: 2, Column: 3}).Error())
	require.Equal(t, "boom", (&Error{Msg: "boom"}).Error())
	inner := errors.New("inner")
	require.ErrorIs(t, &Error{Msg: "x", Err: inner}, inner)
}

func TestQuoteSourceShortensLongExpressions(t *testing.T) {
	t.Parallel()
	require.Equal(t, `"a > 1"`, quoteSource("  a > 1 "))
	long := strings.Repeat("é", 100)
	require.Equal(t, strconvQuote(strings.Repeat("é", 60)+"…"), quoteSource(long))
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

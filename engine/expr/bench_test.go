package expr

import (
	"context"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

func benchEnv() map[string]any {
	items := make([]any, 20)
	for i := range items {
		items[i] = map[string]any{"sku": "A" + string(rune('a'+i)), "qty": int64(i), "price": float64(i) * 1.5}
	}
	return map[string]any{
		"trigger": map[string]any{
			"body": map[string]any{
				"amount": int64(1500),
				"email":  "Ann@Example.com",
				"name":   "Ann",
				"items":  items,
			},
			"headers": map[string]any{"X-Id": "42"},
		},
		"steps":    map[string]any{"crm": map[string]any{"output": map[string]any{"id": "c-1"}}},
		"run":      map[string]any{"id": "r1", "attempt": int64(1)},
		"workflow": map[string]any{"id": "w1", "name": "Demo"},
	}
}

// rawEnv declares the environment the way this package does (top-level
// names known, their contents not), so that the raw expr baselines compile
// to the same instructions.
func rawEnv() types.Map {
	return types.Map{"trigger": types.TypeOf(map[string]any{}), "steps": types.TypeOf(map[string]any{}),
		"run": types.TypeOf(map[string]any{}), "workflow": types.TypeOf(map[string]any{})}
}

const benchFilter = `trigger.body.amount > 100 && trigger.body.email != ''`

// BenchmarkEvalFilter measures the common case: a comparison filter with no
// predicates, which runs without any guard.
func BenchmarkEvalFilter(b *testing.B) {
	p, err := Compile(benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	env, ctx := benchEnv(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := p.EvalBool(ctx, env); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkEvalFilterRawExpr is the same filter run by expr directly with a
// reused VM, as the baseline for this package's overhead.
func BenchmarkEvalFilterRawExpr(b *testing.B) {
	p, err := expr.Compile(benchFilter, expr.Env(rawEnv()))
	if err != nil {
		b.Fatal(err)
	}
	env := benchEnv()
	var machine vm.VM
	b.ReportAllocs()
	for b.Loop() {
		if out, err := machine.Run(p, env); err != nil || out != true {
			b.Fatal(out, err)
		}
	}
}

const benchLoop = `any(trigger.body.items, #.sku == "At") && sum(trigger.body.items, #.qty) > 10`

// BenchmarkEvalLoop measures an expression with predicates over a 20-item
// list, which runs guarded (environment copy plus one tick per iteration).
func BenchmarkEvalLoop(b *testing.B) {
	p, err := Compile(benchLoop)
	if err != nil {
		b.Fatal(err)
	}
	env, ctx := benchEnv(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := p.EvalBool(ctx, env); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkEvalLoopRawExpr is BenchmarkEvalLoop without this package.
func BenchmarkEvalLoopRawExpr(b *testing.B) {
	p, err := expr.Compile(benchLoop, expr.Env(rawEnv()))
	if err != nil {
		b.Fatal(err)
	}
	env := benchEnv()
	var machine vm.VM
	b.ReportAllocs()
	for b.Loop() {
		if out, err := machine.Run(p, env); err != nil || out != true {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkRenderTemplate measures a text template with two expressions.
func BenchmarkRenderTemplate(b *testing.B) {
	t, err := CompileTemplate("Hello {{ trigger.body.name }}, you owe {{ trigger.body.amount }} USD")
	if err != nil {
		b.Fatal(err)
	}
	env, ctx := benchEnv(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Render(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderValue measures a typical step input with static and
// templated fields.
func BenchmarkRenderValue(b *testing.B) {
	v, err := CompileValue(map[string]any{
		"url":     "https://api.example.com/contacts",
		"method":  "POST",
		"headers": map[string]any{"X-Id": "{{ trigger.headers['X-Id'] }}", "Content-Type": "application/json"},
		"body": map[string]any{
			"email":  "{{ cleanEmail(trigger.body.email) }}",
			"amount": "{{ trigger.body.amount }}",
			"note":   "Order from {{ trigger.body.name }}",
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	env, ctx := benchEnv(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Render(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileCached measures Compile of a source already in the cache.
func BenchmarkCompileCached(b *testing.B) {
	if _, err := Compile(benchFilter); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(benchFilter); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileUncached measures a full compilation, for comparison.
func BenchmarkCompileUncached(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Scope{}).compile(benchFilter); err != nil {
			b.Fatal(err)
		}
	}
}

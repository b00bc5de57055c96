package expr_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookflow/hookflow/engine/expr"
)

func ExampleCompile() {
	filter, err := expr.Compile(`trigger.body.amount > 100 && trigger.body.email != ''`)
	if err != nil {
		panic(err)
	}
	env := map[string]any{
		"trigger": map[string]any{"body": map[string]any{"amount": int64(250), "email": "ann@example.com"}},
	}
	ok, err := filter.EvalBool(context.Background(), env)
	fmt.Println(ok, err)

	_, err = expr.Compile("trgger.body.amount > 100")
	fmt.Println(err)
	// Output:
	// true <nil>
	// compile expression: unknown name trgger (1:1)
}

func ExampleProgram_EvalBool() {
	cond, _ := expr.Compile("trigger.body.vip")
	for _, body := range []map[string]any{{"vip": true}, {}, {"vip": "yes"}} {
		ok, err := cond.EvalBool(context.Background(), map[string]any{"trigger": map[string]any{"body": body}})
		fmt.Println(ok, err)
	}
	// Output:
	// true <nil>
	// false <nil>
	// false expression "trigger.body.vip" returned string, expected a boolean
}

func ExampleCompileTemplate() {
	env := map[string]any{
		"trigger": map[string]any{"body": map[string]any{"name": "Ann", "amount": 1500.5, "items": []any{"a", "b"}}},
	}
	for _, s := range []string{
		"{{ trigger.body.amount }}",                             // exactly one {{ }}: keeps the number
		"Hi {{ trigger.body.name }}, {{ trigger.body.amount }}", // joined as text
		"items: {{ trigger.body.items }}",                       // lists and objects as JSON
		`{{ "{{" }} is literal`,                                 // escaping
	} {
		t, err := expr.CompileTemplate(s)
		if err != nil {
			panic(err)
		}
		v, _ := t.Render(context.Background(), env)
		fmt.Printf("%T %v\n", v, v)
	}
	// Output:
	// float64 1500.5
	// string Hi Ann, 1500.5
	// string items: ["a","b"]
	// string {{ is literal
}

func ExampleCompileValue() {
	input, err := expr.CompileValue(map[string]any{
		"url":  "https://api.example.com/contacts",
		"body": map[string]any{"email": "{{ cleanEmail(trigger.body.email) }}", "amount": "{{ trigger.body.amount }}"},
	})
	if err != nil {
		panic(err)
	}
	env := map[string]any{"trigger": map[string]any{"body": map[string]any{"email": " Ann@Example.com", "amount": int64(42)}}}
	v, _ := input.Render(context.Background(), env)
	fmt.Println(v)

	_, err = expr.CompileValue(map[string]any{
		"headers": map[string]any{"X-Id": "{{ trgger.id }}"},
		"items":   []any{"ok", "{{ 1 + }}"},
	})
	var list expr.CompileErrors
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Println(e.Path, "=>", e.Err)
		}
	}
	// Output:
	// map[body:map[amount:42 email:ann@example.com] url:https://api.example.com/contacts]
	// headers.X-Id => compile template: unknown name trgger (1:4)
	// items[1] => compile template: unexpected token EOF (1:7)
}

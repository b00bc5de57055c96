package condition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	hexpr "github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/trigger/body"
	"github.com/hookflow/hookflow/engine/workflow/condition"
)

// TestEvaluate runs built expressions through the engine's own expression package,
// against trigger bodies decoded the way the webhook decodes them: a form (every value
// text), JSON (numbers are numbers), and no body at all.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	form := func(s string) any {
		return body.Decode("application/x-www-form-urlencoded", []byte(s), body.Options{}).Value
	}
	js := func(s string) any { return body.Decode("application/json", []byte(s), body.Options{}).Value }

	type want struct {
		body any
		ok   bool
		err  string // a substring of the evaluation error, when it fails
	}
	for _, tc := range []struct {
		name  string
		group condition.Group
		cases []want
	}{
		{"amount greater than 100", group("all", "trigger.body.amount", "greater_than", "100"), []want{
			{form("amount=150"), true, ""},
			{form("amount=50"), false, ""},
			{form("amount=100"), false, ""},
			{form("amount=+150.5"), true, ""},
			{js(`{"amount": 150}`), true, ""},
			{js(`{"amount": 99.9}`), false, ""},
			{js(`{"amount": "150"}`), true, ""},
			{form("amount="), false, ""},  // empty: does not match
			{form("name=Ann"), false, ""}, // missing: does not match
			{nil, false, ""},              // no body at all
			{js(`{"amount": null}`), false, ""},
			{form("amount=abc"), false, "number"}, // text that is no number fails the run, saying why
		}},
		{"less than", group("all", "trigger.body.amount", "less_than", "100"), []want{
			{form("amount=50"), true, ""},
			{form("amount=150"), false, ""},
			{form("x=1"), false, ""}, // a missing amount is not "less than 100"
		}},
		{"nested field, missing parent", group("all", "trigger.body.customer.age", "greater_or_equal", "18"), []want{
			{js(`{"customer": {"age": 30}}`), true, ""},
			{js(`{"customer": {"age": "17"}}`), false, ""},
			{js(`{}`), false, ""},
			{js(`{"customer": null}`), false, ""},
		}},
		{"equals reads numbers as text", group("all", "trigger.body.amount", "equals", "150"), []want{
			{form("amount=150"), true, ""},
			{js(`{"amount": 150}`), true, ""},
			{js(`{"amount": 150.5}`), false, ""},
			{js(`{}`), false, ""},
		}},
		{"equals true", group("all", "trigger.body.vip", "equals", "true"), []want{
			{js(`{"vip": true}`), true, ""},
			{form("vip=true"), true, ""},
			{js(`{"vip": false}`), false, ""},
		}},
		{"contains", group("all", "trigger.body.email", "contains", "@example"), []want{
			{form("email=ann@example.com"), true, ""},
			{form("email=ann@other.com"), false, ""},
			{js(`{"email": 42}`), false, ""},
			{nil, false, ""},
		}},
		{"does not contain", group("all", "trigger.body.email", "does_not_contain", "test"), []want{
			{form("email=ann@example.com"), true, ""},
			{form("email=test@example.com"), false, ""},
			{form("x=1"), true, ""},
		}},
		{"starts with, ends with", condition.Group{Conditions: []condition.Condition{
			{Field: "trigger.body.phone", Op: "starts_with", Value: "+7"},
			{Field: "trigger.body.email", Op: "ends_with", Value: ".ru"},
		}}, []want{
			{form("phone=%2B79991234567&email=a@b.ru"), true, ""},
			{form("phone=89991234567&email=a@b.ru"), false, ""},
			{form("phone=%2B79991234567&email=a@b.com"), false, ""},
		}},
		{"regex", group("all", "trigger.body.phone", "matches_regex", `^\+7\d{10}$`), []want{
			{form("phone=%2B79991234567"), true, ""},
			{form("phone=8999"), false, ""},
			{form("x=1"), false, ""},
		}},
		{"empty", group("all", `trigger.body["first name"]`, "is_empty", ""), []want{
			{form("first+name="), true, ""},
			{form("x=1"), true, ""},
			{js(`{"first name": null}`), true, ""},
			{js(`{"first name": 0}`), false, ""},
			{form("first+name=Ann"), false, ""},
		}},
		{"exists", group("all", "trigger.body.order.sku", "exists", ""), []want{
			{js(`{"order": {"sku": "A"}}`), true, ""},
			{js(`{"order": {"sku": null}}`), false, ""},
			{js(`{"order": {}}`), false, ""},
			{js(`{}`), false, ""},
		}},
		{"does not exist", group("all", "trigger.body.coupon", "does_not_exist", ""), []want{
			{js(`{}`), true, ""},
			{js(`{"coupon": ""}`), false, ""},
		}},
		{"any", condition.Group{Mode: "any", Conditions: []condition.Condition{
			{Field: "trigger.body.amount", Op: "greater_than", Value: "1000"},
			{Field: "trigger.body.vip", Op: "equals", Value: "yes"},
		}}, []want{
			{form("amount=5000"), true, ""},
			{form("amount=5&vip=yes"), true, ""},
			{form("amount=5&vip=no"), false, ""},
			{form("vip=no"), false, ""},
		}},
		{"injection attempt stays a value", group("all", "trigger.body.name", "equals", `"x") || true || ("`), []want{
			{form("name=Ann"), false, ""},
			{js(`{"name": "\"x\") || true || (\""}`), true, ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, err := condition.Build(tc.group)
			require.NoError(t, err)
			prog, err := hexpr.Compile(src)
			require.NoError(t, err, src)
			for _, c := range tc.cases {
				env := map[string]any{"trigger": map[string]any{"type": "webhook", "body": c.body}, "steps": map[string]any{}}
				got, err := prog.EvalBool(t.Context(), env)
				if c.err != "" {
					require.ErrorContains(t, err, c.err, "body %#v", c.body)
					continue
				}
				require.NoError(t, err, "body %#v: %s", c.body, src)
				require.Equal(t, c.ok, got, "body %#v: %s", c.body, src)
			}
		})
	}
}

// TestEvaluateSteps reads a field of an earlier step's output, including a step that was
// skipped and has none.
func TestEvaluateSteps(t *testing.T) {
	t.Parallel()
	src, err := condition.Build(group("all", "steps.lead.output.id", "exists", ""))
	require.NoError(t, err)
	prog, err := hexpr.Compile(src)
	require.NoError(t, err)
	for _, tc := range []struct {
		steps map[string]any
		want  bool
	}{
		{map[string]any{"lead": map[string]any{"status": "succeeded", "output": map[string]any{"id": int64(7)}}}, true},
		{map[string]any{"lead": map[string]any{"status": "skipped", "output": nil}}, false},
		{map[string]any{}, false},
	} {
		got, err := prog.EvalBool(t.Context(), map[string]any{"trigger": map[string]any{}, "steps": tc.steps})
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%v", tc.steps)
	}
}

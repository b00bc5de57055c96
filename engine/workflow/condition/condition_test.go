package condition_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	hexpr "github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/workflow/condition"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   condition.Group
		want string
	}{
		{"empty group is no filter", condition.Group{}, ""},
		{"greater than", group("all", "trigger.body.amount", "greater_than", "100"),
			`(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100`},
		{"spelled-out operator", group("all", "trigger.body.amount", "greater than", "100"),
			`(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100`},
		{"less or equal, decimal comma", group("all", "trigger.body.amount", "less_or_equal", " 1,50 "),
			`(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) <= 1.5`},
		{"negative, thousands spaces", group("all", "trigger.body.amount", "greater_or_equal", "-100 000"),
			`(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) >= -100000`},
		{"100.0 is 100", group("all", "trigger.body.amount", "less_than", "100.0"),
			`(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) < 100`},
		{"equals", group("all", "trigger.body.status", "equals", "paid"),
			`string(trigger.body?.status ?? "") == "paid"`},
		{"not equals", group("all", "trigger.body.status", "not_equals", "paid"),
			`string(trigger.body?.status ?? "") != "paid"`},
		{"contains", group("all", "trigger.body.email", "contains", "@"),
			`string(trigger.body?.email ?? "") contains "@"`},
		{"does not contain", group("all", "trigger.body.email", "does not contain", "test"),
			`string(trigger.body?.email ?? "") not contains "test"`},
		{"starts with", group("all", `trigger.headers["x-github-event"]`, "starts_with", "pu"),
			`string(trigger.headers?.["x-github-event"] ?? "") startsWith "pu"`},
		{"ends with", group("all", "trigger.body.email", "ends_with", ".ru"),
			`string(trigger.body?.email ?? "") endsWith ".ru"`},
		{"matches", group("all", "trigger.body.phone", "matches_regex", `^\+7`),
			`string(trigger.body?.phone ?? "") matches "^\\+7"`},
		{"is empty", group("all", "trigger.body.email", "is_empty", ""), `(trigger.body?.email ?? "") == ""`},
		{"is not empty ignores a value", group("all", "trigger.body.email", "is_not_empty", "left over"),
			`(trigger.body?.email ?? "") != ""`},
		{"exists", group("all", "steps.lead.output.id", "exists", ""), `steps.lead?.output?.id != nil`},
		{"does not exist", group("all", "trigger.body.order.coupon", "does_not_exist", ""),
			`trigger.body?.order?.coupon == nil`},
		{"bracketed keys", group("all", `trigger.body["first name"]`, "equals", "Ann"),
			`string(trigger.body?.["first name"] ?? "") == "Ann"`},
		{"single-quoted key, Cyrillic key", group("all", `trigger.body['Имя']`, "equals", "Анна"),
			`string(trigger.body?.["Имя"] ?? "") == "Анна"`},
		{"all", condition.Group{Mode: "all", Conditions: []condition.Condition{
			{Field: "trigger.body.amount", Op: "greater_than", Value: "100"},
			{Field: "trigger.body.email", Op: "is_not_empty"},
		}}, `(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100 && (trigger.body?.email ?? "") != ""`},
		{"any puts numeric pairs in parentheses", condition.Group{Mode: "any", Conditions: []condition.Condition{
			{Field: "trigger.body.amount", Op: "greater_than", Value: "100"},
			{Field: "trigger.body.vip", Op: "equals", Value: "true"},
		}}, `((trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100) || string(trigger.body?.vip ?? "") == "true"`},
		{"a value holding && needs no parentheses", condition.Group{Mode: "any", Conditions: []condition.Condition{
			{Field: "trigger.body.a", Op: "equals", Value: "x && y"},
			{Field: "trigger.body.b", Op: "exists"},
		}}, `string(trigger.body?.a ?? "") == "x && y" || trigger.body?.b != nil`},
		{"any of one numeric needs no parentheses", group("any", "trigger.body.amount", "greater_than", "1"),
			`(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := condition.Build(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			if got != "" {
				_, err := hexpr.Compile(got)
				require.NoError(t, err, "the engine compiles what Build writes")
			}
		})
	}
}

func group(mode, field, op, value string) condition.Group {
	return condition.Group{Mode: mode, Conditions: []condition.Condition{{Field: field, Op: op, Value: value}}}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   condition.Group
		part string
		msg  string
	}{
		{"unknown mode", condition.Group{Mode: "some"}, "", `mode "some" is neither "all" nor "any"`},
		{"unknown root", group("all", "vars.x", "exists", ""), "field", "must start with one of trigger, steps, run, workflow"},
		{"root alone", group("all", "trigger", "exists", ""), "field", `names only "trigger"`},
		{"item is not a root", group("all", "item.id", "exists", ""), "field", "must start with one of"},
		{"call in field", group("all", "trigger.body.x()", "exists", ""), "field", `unexpected '('`},
		{"expression in field", group("all", "trigger.body.a || true", "exists", ""), "field", `unexpected ' '`},
		{"unquoted bracket", group("all", "trigger.body[x]", "exists", ""), "field", "must be quoted"},
		{"unterminated bracket", group("all", `trigger.body["x`, "exists", ""), "field", "unterminated string"},
		{"negative index", group("all", `trigger.body[-1]`, "exists", ""), "field", "must be quoted"},
		{"list position", group("all", `trigger.body.items[0]`, "exists", ""), "field", "list positions are not supported"},
		{"dot at end", group("all", `trigger.body.`, "exists", ""), "field", "a name must follow the dot"},
		{"unknown op", group("all", "trigger.body.a", "between", "1"), "op", `unknown operator "between"`},
		{"text for a number", group("all", "trigger.body.a", "greater_than", "abc"), "value", `"abc" is not a number`},
		{"empty number", group("all", "trigger.body.a", "less_than", ""), "value", `"" is not a number`},
		{"exponent", group("all", "trigger.body.a", "less_than", "1e3"), "value", "is not a number"},
		{"huge number", group("all", "trigger.body.a", "less_than", "1000000000000000"), "value", "out of range"},
		{"injection in a number", group("all", "trigger.body.a", "less_than", "1 || true"), "value", "is not a number"},
		{"bad regex", group("all", "trigger.body.a", "matches_regex", "(a"), "value", "not a regular expression"},
		{"invalid UTF-8", group("all", "trigger.body.a", "equals", "\xff"), "value", "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := condition.Build(tc.in)
			var ce *condition.Error
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Equal(t, tc.part, ce.Part)
			require.Contains(t, ce.Msg, tc.msg)
		})
	}

	// The error names the condition by its position.
	_, err := condition.Build(condition.Group{Conditions: []condition.Condition{
		{Field: "trigger.body.a", Op: "exists"}, {Field: "trigger.body.b", Op: "less_than", Value: "x"}}})
	require.EqualError(t, err, `condition 2: value: "x" is not a number (write it like 100, -5 or 1.5)`)
}

// TestBuildQuotesValues feeds values that try to end the string literal and add their
// own expression; each must come back from the expression as the very same text.
func TestBuildQuotesValues(t *testing.T) {
	t.Parallel()
	for _, v := range []string{
		`"x") || true || ("`,
		`x" || true || "`,
		`\" || true || \"`,
		`\`,
		`' || true || '`,
		"` || true || `",
		"line\nbreak\r\ttab",
		"nul\x00bell\a",
		"\u2028\u00a0\ufeff",
		"emoji 🚀 and \U000E0001",
		`{{ trigger.body.x }}`,
		`$param:chat_id`,
	} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			src, err := condition.Build(group("all", "trigger.body.name", "equals", v))
			require.NoError(t, err)
			g, ok := condition.Parse(src)
			require.True(t, ok, src)
			require.Equal(t, v, g.Conditions[0].Value)
			require.Len(t, g.Conditions, 1, "the value stayed one literal")

			prog, err := hexpr.Compile(src)
			require.NoError(t, err)
			for _, body := range []map[string]any{{"name": v}, {"name": "other"}, {}} {
				got, err := prog.EvalBool(t.Context(), map[string]any{"trigger": map[string]any{"body": body}})
				require.NoError(t, err)
				require.Equal(t, body["name"] == v, got, "body %v", body)
			}
		})
	}
}

func TestCanonicalField(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"trigger.body.amount":             "trigger.body.amount",
		`trigger.body["amount"]`:          "trigger.body.amount",
		`trigger.body['first name']`:      `trigger.body["first name"]`,
		`trigger.headers["x-request-id"]`: `trigger.headers["x-request-id"]`,
		`trigger.body.Имя`:                `trigger.body["Имя"]`,
		`steps.lead.output.id`:            `steps.lead.output.id`,
		`trigger.body["say \"hi\"\\"]`:    `trigger.body["say \"hi\"\\"]`,
		`trigger.body['it\'s']`:           `trigger.body["it's"]`,
		`workflow.name`:                   `workflow.name`,
		`run.id`:                          `run.id`,
		`trigger.body["a"]["b"]["c d"]`:   `trigger.body.a.b["c d"]`,
	} {
		got, err := condition.CanonicalField(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	got, err := condition.FieldPath("trigger", "body", "customer", "first name")
	require.NoError(t, err)
	require.Equal(t, `trigger.body.customer["first name"]`, got)
	_, err = condition.FieldPath("env", "x")
	require.Error(t, err)
	_, err = condition.FieldPath("trigger")
	require.Error(t, err)
}

func TestRootsAreEngineVariables(t *testing.T) {
	t.Parallel()
	for _, r := range condition.Roots {
		require.Contains(t, hexpr.Variables, r)
	}
}

func TestOps(t *testing.T) {
	t.Parallel()
	require.Len(t, condition.Ops, 15)
	seen := map[string]bool{}
	for _, o := range condition.Ops {
		require.False(t, seen[o.Op], o.Op)
		seen[o.Op] = true
		require.NotEmpty(t, o.Label["en"], o.Op)
		require.NotEmpty(t, o.Label["ru"], o.Op)
		value := ""
		switch o.Value {
		case condition.ValueNumber:
			value = "1"
		case condition.ValueText, condition.ValueRegex:
			value = "a"
		}
		src, err := condition.Build(group("all", "trigger.body.x", o.Op, value))
		require.NoError(t, err, o.Op)
		g, ok := condition.Parse(src)
		require.True(t, ok, src)
		require.Equal(t, o.Op, g.Conditions[0].Op)
	}
	info, ok := condition.Info("Does Not Contain")
	require.True(t, ok)
	require.Equal(t, condition.OpNotContains, info.Op)
}

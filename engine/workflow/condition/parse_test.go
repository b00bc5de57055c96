package condition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	hexpr "github.com/hookflow/hookflow/engine/expr"
	"github.com/hookflow/hookflow/engine/workflow/condition"
)

func TestParse(t *testing.T) {
	t.Parallel()
	g, ok := condition.Parse("")
	require.True(t, ok)
	require.Equal(t, condition.Group{Mode: "all", Conditions: []condition.Condition{}}, g)

	g, ok = condition.Parse(`((trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100) ||
	    string(trigger.body?.["first name"] ?? "") not contains "test"`)
	require.True(t, ok, "line breaks and spaces may differ")
	require.Equal(t, condition.Group{Mode: "any", Conditions: []condition.Condition{
		{Field: "trigger.body.amount", Op: "greater_than", Value: "100"},
		{Field: `trigger.body["first name"]`, Op: "does_not_contain", Value: "test"},
	}}, g)

	// "not (a contains b)" is the same tree as "a not contains b".
	g, ok = condition.Parse(`not (string(trigger.body?.a ?? "") contains "x")`)
	require.True(t, ok)
	require.Equal(t, "does_not_contain", g.Conditions[0].Op)

	// A negative number and a decimal come back as typed.
	g, ok = condition.Parse(`(steps.s?.output?.n ?? "") != "" && number(steps.s?.output?.n) <= -0.25`)
	require.True(t, ok)
	require.Equal(t, condition.Condition{Field: "steps.s.output.n", Op: "less_or_equal", Value: "-0.25"}, g.Conditions[0])
}

// TestParseRejects lists expressions Build could not have written, many of them one
// small edit away from one it could: each must go to the raw editor.
func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`trigger.body.amount > 100`,
		`number(default(trigger.body.amount, 0)) > 100`,
		`string(trigger.body.status ?? "") == "paid"`,                  // plain dots below the first key
		`string(trigger.body?.status ?? "x") == "paid"`,                // another fallback
		`string(trigger.body?.status) == "paid"`,                       // no fallback
		`lower(trigger.body?.status ?? "") == "paid"`,                  // another function
		`string(trigger.body?.status ?? "") == 5`,                      // a number for a text operator
		`string(trigger.body?.status ?? "") in ["a"]`,                  // another operator
		`(trigger.body?.a ?? "") != "" && number(trigger.body?.b) > 1`, // guard on another field
		`number(trigger.body?.a) > 1`,                                  // no guard
		`trigger.body?.a?.[0] != nil`,
		`(trigger.body?.a ?? "") != "" && number(trigger.body?.a) > trigger.body?.b`,
		`(trigger.body?.a ?? "") != "" || number(trigger.body?.a) > 1`,
		`trigger.body?.a != nil and trigger.body?.b != nil`,
		`trigger.body?.a != nil && (trigger.body?.b != nil || trigger.body?.c != nil)`,
		`!(string(trigger.body?.a ?? "") contains "x")`,
		`not (string(trigger.body?.a ?? "") startsWith "x")`,
		`vars?.a != nil`,
		`item?.a != nil`,
		`trigger != nil`,
		`trigger.body?.a() != nil`,
		`trigger.body?.[trigger.body?.k] != nil`,
		`trigger.body?.a[1:2] != nil`,
		`let x = 1; trigger.body?.a != nil`,
		`true`,
		`trigger.body?.a != nil &&`,
		`"unterminated`,
		`string(trigger.body?.a ?? "") matches "(a"`,
	} {
		_, ok := condition.Parse(src)
		require.False(t, ok, src)
	}
}

// TestRoundTrip builds groups of every operator in both modes, reads them back and
// builds them again: the expression must not change.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	fields := []string{"trigger.body.amount", `trigger.body["first name"]`, "steps.lead.output.items.id", "trigger.query.utm_source"}
	values := []string{"100", "-1.5", `"x") || true || ("`, "", "Привет", `\d+`}
	for _, mode := range []string{"all", "any"} {
		for n := 1; n <= 3; n++ {
			for i := range condition.Ops {
				g := condition.Group{Mode: mode}
				for k := 0; k < n; k++ {
					op := condition.Ops[(i+k*5)%len(condition.Ops)]
					v := values[(i+k)%len(values)]
					if op.Value == condition.ValueNumber {
						v = "42.5"
					}
					g.Conditions = append(g.Conditions, condition.Condition{Field: fields[(i+k)%len(fields)], Op: op.Op, Value: v})
				}
				assertRoundTrip(t, g)
			}
		}
	}
}

func assertRoundTrip(t *testing.T, g condition.Group) {
	t.Helper()
	src, err := condition.Build(g)
	if err != nil {
		return
	}
	if src != "" {
		_, err := hexpr.Compile(src)
		require.NoError(t, err, "the engine refused what Build wrote: %s", src)
	}
	back, ok := condition.Parse(src)
	require.True(t, ok, "Parse refused what Build wrote: %s", src)
	again, err := condition.Build(back)
	require.NoError(t, err, src)
	require.Equal(t, src, again)
	if len(g.Conditions) > 1 && g.Mode != "" {
		require.Equal(t, g.Mode, back.Mode)
	}
	require.Len(t, back.Conditions, len(g.Conditions), src)
}

// FuzzRoundTrip: whatever a form sends, Build either refuses it or writes an expression
// that Parse reads back into a group that Build writes identically.
func FuzzRoundTrip(f *testing.F) {
	f.Add("trigger.body.amount", uint8(6), "100", "trigger.body.email", uint8(3), "test", false)
	f.Add(`trigger.body["a b"]`, uint8(0), `"x") || true || ("`, `steps.x.output["0"]`, uint8(14), `^\d+$`, true)
	f.Add("trigger.headers['x-y']", uint8(12), "", "run.id", uint8(8), "-0,5", true)
	f.Fuzz(func(t *testing.T, f1 string, op1 uint8, v1 string, f2 string, op2 uint8, v2 string, anyMode bool) {
		mode := "all"
		if anyMode {
			mode = "any"
		}
		g := condition.Group{Mode: mode, Conditions: []condition.Condition{
			{Field: f1, Op: condition.Ops[int(op1)%len(condition.Ops)].Op, Value: v1},
			{Field: f2, Op: condition.Ops[int(op2)%len(condition.Ops)].Op, Value: v2},
		}}
		assertRoundTrip(t, g)
		assertRoundTrip(t, condition.Group{Mode: mode, Conditions: g.Conditions[:1]})
	})
}

// FuzzParse: Parse never panics, and what it accepts builds back to an expression it
// accepts again as the same group.
func FuzzParse(f *testing.F) {
	f.Add(`(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100`)
	f.Add(`string(trigger.body?.["first name"] ?? "") not contains "x" || trigger.body?.a == nil`)
	f.Add(`trigger.body.amount > 100`)
	f.Fuzz(func(t *testing.T, src string) {
		g, ok := condition.Parse(src)
		if !ok {
			return
		}
		built, err := condition.Build(g)
		require.NoError(t, err)
		back, ok := condition.Parse(built)
		require.True(t, ok, built)
		require.Equal(t, g, back)
	})
}

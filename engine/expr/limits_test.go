package expr

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The runaway tests assert that an error comes back and, loosely, that it
// comes back within a few times the limit; they do not measure precisely.

func TestRunawayStopsAtMaxEvalTime(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		// A billion iterations without allocating: only the time limit helps.
		"let xs = 1..1000; sum(xs, sum(xs, sum(xs, #)))",
		"let xs = 1..1000; all(xs, all(xs, all(xs, true)))",
		"let xs = 1..1000; any(xs, all(xs, all(xs, # > 0)) && # < 0)",
		"let xs = 1..1000; reduce(xs, #acc + reduce(xs, #acc + len(filter(xs, # > 0)), 0), 0)",
	} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(src)
			require.NoError(t, err)
			start := time.Now()
			got, err := p.Eval(context.Background(), testEnv())
			require.ErrorIs(t, err, ErrTimeout)
			require.ErrorContains(t, err, "evaluation time limit exceeded (1s)")
			require.Nil(t, got)
			require.Less(t, time.Since(start), 10*MaxEvalTime)
		})
	}
}

func TestRunawayStopsAtContextDeadline(t *testing.T) {
	t.Parallel()
	p, err := Compile("let xs = 1..1000; sum(xs, sum(xs, sum(xs, #)))")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.Eval(ctx, testEnv())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), MaxEvalTime)
}

func TestRunawayStopsWhenCanceled(t *testing.T) {
	t.Parallel()
	tmpl, err := CompileTemplate("total: {{ let xs = 1..1000; sum(xs, sum(xs, sum(xs, #))) }}")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = tmpl.Render(ctx, testEnv())
	require.ErrorIs(t, err, context.Canceled)
}

func TestNestedRangesHitMemoryBudget(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"len(1..10000000)",
		"let a = 1..100000; let b = concat(a, a, a, a); let c = concat(b, b, b, b); len(c)",
		"repeat('x', 2000000)", // expr's own cap on the count
	} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(src)
			require.NoError(t, err)
			_, err = p.Eval(context.Background(), testEnv())
			require.ErrorIs(t, err, ErrMemoryBudget)
			require.ErrorContains(t, err, "memory budget exceeded")
		})
	}
}

// TestRunawayAllocationStops covers loops that allocate: the memory budget
// normally stops them within milliseconds, but on a slow machine (or under
// -race) the time limit may come first; either way an error comes back.
func TestRunawayAllocationStops(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"map(1..100000, map(1..100000, #))",
		"let xs = 1..300; len(map(xs, map(xs, sort(map(xs, -#)))))",
		"len(flatten(map(1..10000, map(1..10000, [#]))))",
	} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(src)
			require.NoError(t, err)
			start := time.Now()
			got, err := p.Eval(context.Background(), testEnv())
			require.Nil(t, got)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrMemoryBudget) || errors.Is(err, ErrTimeout), err.Error())
			require.Less(t, time.Since(start), 10*MaxEvalTime)
		})
	}
}

func TestStringSizeLimit(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"repeat(repeat('x', 1000000), 1000)",
		"repeat('abcd', 5000000)",
		"let a = repeat('x', 1000000); let b = a + a; let c = b + b; let d = c + c; let e = d + d; let f = e + e; len(f)",
		"reduce(1..100, #acc + #acc, 'x')",
		"let s = repeat('x', 1000000); len(toJSON(map(1..1000, s)))",
		"let s = repeat('x', 1000000); len(string(map(1..1000, s)))",
		"let s = repeat('x', 100000); len(join(map(1..1000, s), s))",
		"let s = repeat('x', 5000); len(replace(s, '', s))",
		"let s = repeat('xxxxxxxxxx', 1000000); len(toBase64(toBase64(s)))",
	} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(src)
			require.NoError(t, err)
			_, err = p.Eval(context.Background(), testEnv())
			require.ErrorIs(t, err, ErrMemoryBudget)
			require.ErrorContains(t, err, "byte limit")
		})
	}
}

func TestStringSizeLimitInTemplates(t *testing.T) {
	t.Parallel()
	tmpl, err := CompileTemplate("x{{ let s = repeat('x', 100000); map(1..1000, s) }}")
	require.NoError(t, err)
	_, err = tmpl.Render(context.Background(), testEnv())
	require.ErrorIs(t, err, ErrMemoryBudget)

	parts := strings.Repeat("{{ repeat('xxxx', 1000000) }}", 5)
	tmpl, err = CompileTemplate(parts)
	require.NoError(t, err)
	_, err = tmpl.Render(context.Background(), testEnv())
	require.ErrorIs(t, err, ErrMemoryBudget)
}

// TestLimitsLeaveNormalWorkAlone is not parallel: beside the runaway tests, which burn the
// CPU on purpose, a loaded machine could take its sums past the 1 s time limit.
func TestLimitsLeaveNormalWorkAlone(t *testing.T) {
	for src, want := range map[string]any{
		"len(repeat('x', 1000000))":                               1000000,
		"len(map(1..10000, # * 2))":                               10000,
		"let xs = 1..300; sum(xs, sum(xs, #))":                    13545000,
		"len(join(map(1..1000, 'abc'), ','))":                     3999,
		"let s = repeat('ab', 1000); len(replace(s, 'a', 'xyz'))": 4000,
	} {
		got, err := eval(t, src)
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}
}

func TestGuardOnlyForPredicates(t *testing.T) {
	t.Parallel()
	p, err := Compile("trigger.body.amount > 1 && trigger.body.name != ''")
	require.NoError(t, err)
	require.False(t, p.guarded)
	p, err = Compile("any(trigger.body.items, #.qty > 1)")
	require.NoError(t, err)
	require.True(t, p.guarded)
}

func TestConcatKeepsAddSemantics(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]any{
		"trigger.body.amount + trigger.body.amount":                                     3000, // expr's own rule: integers add up to int
		"trigger.body.price + trigger.body.amount":                                      3000.5,
		"trigger.body.name + trigger.body.name":                                         "AnnAnn",
		"date('2024-05-01T00:00:00Z') + duration('1h') == date('2024-05-01T01:00:00Z')": true,
		"duration('1h') + duration('1m')":                                               time.Hour + time.Minute,
	} {
		got, err := eval(t, src)
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}
	_, err := eval(t, "trigger.body.name + trigger.body.amount")
	require.ErrorContains(t, err, "invalid operation")
}

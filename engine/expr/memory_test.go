package expr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These are the attacks of issue 11: each builds far more memory than the
// budget from a small expression, through a function the element budget did
// not see. Each must now fail with the memory error, before (or right after)
// the allocation that passes the limit, and never hold much more than it.
//
// Not parallel: the cases are heavy, and beside the runaway tests, which burn the CPU on
// purpose, a loaded machine could reach the 1 s time limit before the memory limit.
func TestMemoryLimitCountsBytes(t *testing.T) {
	for _, src := range []string{
		// 2M list elements from one split, then fromJSON of a 4 MB list.
		"len(split(repeat(',,', 1000000), ','))",
		"len(splitAfter(repeat(',,', 1000000), ','))",
		"len(fromJSON('[' + repeat('0,0,', 1000000) + '0]'))",
		// Many strings, each under the string size cap, together over the budget.
		"len(map(1..6, repeat('xxxxxxxxxxxx', 1000000)))",
		"let s = repeat('xxxxxxxxx', 1000000); len(map(1..8, s + 'y'))",
		"let s = repeat('xxxxxxxxx', 1000000); len(map(1..8, upper(s)))",
		"let s = repeat('xxxxxxxxx', 1000000); len(map(1..8, toBase64(s)))",
		"let s = repeat('xxxxx', 1000000); len(map(1..16, toJSON(s)))",
		"let s = repeat('xxxxxxxxx', 1000000); len(map(1..8, replace(s, 'x', 'y')))",
		"let s = repeat('xxxxxxxxx', 1000000); len(map(1..8, urlEncode(s)))",
		"let m = groupBy(1..100000, #); len(map(1..12, toPairs(m)))",
	} {
		t.Run(src, func(t *testing.T) {
			p, err := Compile(src)
			require.NoError(t, err)
			_, err = p.Eval(context.Background(), testEnv())
			require.ErrorIs(t, err, ErrMemoryBudget)
			var mle *MemoryLimitError
			require.ErrorAs(t, err, &mle)
			require.EqualValues(t, MemoryBudget, mle.Limit)
		})
	}
}

func TestMemoryLimitFromContext(t *testing.T) {
	t.Parallel()
	p, err := Compile("len(repeat('xx', 1000000) + 'y')")
	require.NoError(t, err)
	got, err := p.Eval(context.Background(), testEnv())
	require.NoError(t, err)
	require.Equal(t, 2000001, got)

	_, err = p.Eval(WithMemoryLimit(context.Background(), 1<<20), testEnv())
	var mle *MemoryLimitError
	require.ErrorAs(t, err, &mle)
	require.EqualValues(t, 1<<20, mle.Limit)
	require.ErrorContains(t, err, "memory budget exceeded: the expression needs more than 1 MiB")

	// The element budget follows the same limit: 64 bytes an element.
	p, err = Compile("len(1..20000)")
	require.NoError(t, err)
	_, err = p.Eval(WithMemoryLimit(context.Background(), 1<<20), testEnv())
	require.ErrorAs(t, err, &mle)
}

// One rendering of a step's inputs shares one budget: eight templates of
// 10 MB each are over 64 MiB together.
func TestMemoryLimitCoversAWholeRender(t *testing.T) {
	t.Parallel()
	with := map[string]any{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		with[k] = "x{{ repeat('yyyyyyyyyy', 1000000) }}"
	}
	v, err := CompileValue(with)
	require.NoError(t, err)
	_, err = v.Render(context.Background(), testEnv())
	var mle *MemoryLimitError
	require.ErrorAs(t, err, &mle)
}

// uniq was quadratic: 30,000 distinct values took seconds of a worker that no
// time limit could interrupt.
func TestUniqIsLinear(t *testing.T) {
	t.Parallel()
	start := time.Now()
	got, err := eval(t, "len(uniq(map(1..30000, #)))")
	require.NoError(t, err)
	require.Equal(t, 30000, got)
	require.Less(t, time.Since(start), 2*time.Second)

	for src, want := range map[string]any{
		"uniq([1, 1.0, '1', 2, nil, nil, true, true, [1], [1], {'a': 1}, {'a': 1}])": []any{1, "1", 2, nil, true, []any{1}, map[string]any{"a": 1}},
		"uniq(['b', 'a', 'b'])": []any{"b", "a"},
	} {
		got, err := eval(t, src)
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}
}

func TestMemoryLimitLeavesNormalWorkAlone(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]any{
		"len(split(repeat('a,', 100000), ','))":                          100001,
		"len(fromJSON(toJSON(map(1..10000, ({'id': #, 'name': 'x'})))))": 10000,
		"len(map(1..4, repeat('x', 1000000)))":                           4,
		"len(join(split(trigger.body.name, ''), '-'))":                   5,
		"uniq(split('a,b,a', ','))":                                      []any{"a", "b"},
		"upper(trigger.body.name) + lower(trigger.body.name)":            "ANNann",
		"len(keys(fromJSON(toJSON({'a': 1, 'b': 2}))))":                  2,
		strings.Repeat("trigger.body.name + ", 10) + "''":                strings.Repeat("Ann", 10),
	} {
		got, err := eval(t, src)
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}
}

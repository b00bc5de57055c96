package expr

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm/runtime"
)

// elementBytes is what one list element or object entry counts against the
// memory budget. expr's VM counts the elements it allocates (list literals,
// map, filter, ranges, sort, concat); counting each as 64 bytes (an interface,
// the boxed value, slack from growing) puts them in the same unit as strings.
const elementBytes = 64

// meterVar is the hidden environment name of the evaluation's meter. Like
// guardVar it holds a space, so no expression can spell it.
const meterVar = " mem"

// meteredPrefix names the hidden twin of each metered function.
const meteredPrefix = " m."

// MemoryLimitError is the error of an evaluation (or a rendering) that needed
// more memory than its limit. It matches ErrMemoryBudget with errors.Is.
type MemoryLimitError struct {
	// Limit is the budget in bytes.
	Limit int64
}

// Error says which limit was hit.
func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("%s: the expression needs more than %s", ErrMemoryBudget, formatBytes(e.Limit))
}

// Is makes errors.Is(err, ErrMemoryBudget) hold.
func (e *MemoryLimitError) Is(target error) bool { return target == ErrMemoryBudget }

type memoryLimitKey struct{}

type meterKey struct{}

// WithMemoryLimit returns a context whose evaluations and renderings may use at
// most limit bytes each, instead of MemoryBudget: a workflow's
// limits.expression_memory. A limit of zero or less leaves MemoryBudget.
func WithMemoryLimit(ctx context.Context, limit int64) context.Context {
	if limit <= 0 {
		return ctx
	}
	return context.WithValue(ctx, memoryLimitKey{}, limit)
}

// memoryLimit returns the budget of evaluations under ctx.
func memoryLimit(ctx context.Context) int64 {
	if n, ok := ctx.Value(memoryLimitKey{}).(int64); ok {
		return n
	}
	return int64(MemoryBudget)
}

// meter counts the bytes one evaluation, or one rendering of a template or a
// step's inputs, has built through functions whose output can be much larger
// than their input. One evaluation runs on one goroutine; a rendering evaluates
// its parts one after another, so the meter needs no synchronization.
type meter struct {
	used, limit int64
}

// charge adds n bytes and fails once the total passes the limit.
func (m *meter) charge(n int64) error {
	if n <= 0 {
		return nil
	}
	m.used += n
	if m.used > m.limit {
		return &MemoryLimitError{Limit: m.limit}
	}
	return nil
}

// meterFor returns the meter of the rendering ctx belongs to, or a new one for
// a single evaluation.
func meterFor(ctx context.Context) *meter {
	if m, ok := ctx.Value(meterKey{}).(*meter); ok {
		return m
	}
	return &meter{limit: memoryLimit(ctx)}
}

// withMeter makes every evaluation under the returned context share one
// meter, so that the parts of a rendering count against one budget.
func withMeter(ctx context.Context) context.Context {
	if _, ok := ctx.Value(meterKey{}).(*meter); ok {
		return ctx
	}
	return context.WithValue(ctx, meterKey{}, &meter{limit: memoryLimit(ctx)})
}

// shallowCost is what a function's result counts: its bytes for a string, its
// elements for a list or an object. Nested values were counted when they were
// built, or come from the input.
func shallowCost(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x))
	case []any:
		return int64(len(x)) * elementBytes
	case []string:
		return int64(len(x)) * elementBytes
	case map[string]any:
		return int64(len(x)) * elementBytes
	case nil, bool, int, int64, float64:
		return 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return int64(rv.Len()) * elementBytes
	}
	return 0
}

// estimators give, before the call, what a function is about to build, for
// the functions whose output can dwarf their input: split turns 1 byte into
// an element per separator, and fromJSON turns 2 bytes into a list element.
var estimators = map[string]func(args []any) int64{
	"split":      splitEstimate,
	"splitAfter": splitEstimate,
	"fromJSON": func(args []any) int64 {
		s, _ := args[0].(string)
		return int64(len(s)) + jsonValues(s)*elementBytes
	},
}

func splitEstimate(args []any) int64 {
	s, _ := args[0].(string)
	sep, _ := args[1].(string)
	n := int64(utf8.RuneCountInString(s))
	if sep != "" {
		n = int64(strings.Count(s, sep)) + 1
	}
	if len(args) == 3 {
		if max, ok := toInt(args[2]); ok && max >= 0 && int64(max) < n {
			n = int64(max)
		}
	}
	return n * elementBytes
}

// jsonValues counts the values of a JSON text (commas, colons and opening
// brackets outside strings, plus one) without decoding it: an upper bound on
// the elements fromJSON will allocate.
func jsonValues(s string) int64 {
	n := int64(1)
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if in {
			switch c {
			case '\\':
				i++
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case ',', ':', '[', '{':
			n++
		}
	}
	return n
}

// meteredNames are the functions whose result is charged to the meter: every
// function that can return more than a few bytes that were not in its input.
// The patcher routes their calls to a hidden twin that takes the meter first.
var meteredNames = []string{
	"repeat", "replace", "join", "split", "splitAfter", "upper", "lower",
	"toJSON", "fromJSON", "toBase64", "fromBase64", "string",
	"uniq", "keys", "values", "toPairs", "fromPairs",
	"urlEncode", "urlDecode", "cleanEmail", "cleanPhone",
	concatFn,
}

var isMetered = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range meteredNames {
		m[n] = true
	}
	return m
}()

// meteredOption installs the hidden twin of every metered function. It runs
// after the other function options, so that c.Functions holds the helpers and
// overrides the twins call.
func meteredOption(c *conf.Config) {
	for _, name := range meteredNames {
		fn := c.Functions[name]
		if fn == nil {
			fn = builtinFunction(name)
		}
		c.Functions[meteredPrefix+name] = meteredTwin(name, fn)
	}
}

var meterType = reflect.TypeOf((*meter)(nil))

// builtinFunction returns expr's builtin name with a plain Func, whichever form
// (Fast, Safe, Func) expr implements it in.
func builtinFunction(name string) *builtin.Function {
	f := *builtin.Builtins[builtin.Index[name]]
	switch {
	case f.Func != nil:
	case f.Fast != nil:
		fast := f.Fast
		f.Func = func(args ...any) (any, error) { return fast(args[0]), nil }
	case f.Safe != nil:
		safe := f.Safe
		f.Func = func(args ...any) (any, error) {
			out, _, err := safe(args...)
			return out, err
		}
	}
	f.Fast, f.Safe = nil, nil
	return &f
}

// meteredTwin wraps fn so that it takes the meter as its first argument,
// charges what it is about to build (when that can be estimated) and what it
// built, and keeps fn's signatures for the type checker.
func meteredTwin(name string, fn *builtin.Function) *builtin.Function {
	call := fn.Func
	if name == "uniq" {
		call = uniq
	}
	estimate := estimators[name]
	twin := &builtin.Function{Name: meteredPrefix + name}
	twin.Func = func(args ...any) (any, error) {
		m := args[0].(*meter)
		args = args[1:]
		var pre int64
		if estimate != nil {
			pre = estimate(args)
			if err := m.charge(pre); err != nil {
				return nil, err
			}
		}
		out, err := call(args...)
		if err != nil {
			return nil, err
		}
		if pre == 0 {
			if err := m.charge(shallowCost(out)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for _, t := range fn.Types {
		twin.Types = append(twin.Types, prependIn(t, meterType))
	}
	if v := fn.Validate; v != nil {
		twin.Validate = func(args []reflect.Type) (reflect.Type, error) {
			if len(args) == 0 {
				return v(args)
			}
			return v(args[1:])
		}
	}
	return twin
}

// prependIn returns the function type t with an extra first parameter.
func prependIn(t reflect.Type, first reflect.Type) reflect.Type {
	in := []reflect.Type{first}
	for i := range t.NumIn() {
		in = append(in, t.In(i))
	}
	out := make([]reflect.Type, t.NumOut())
	for i := range out {
		out[i] = t.Out(i)
	}
	return reflect.FuncOf(in, out, t.IsVariadic())
}

// uniq is expr's uniq in linear time: expr compares every element with every
// kept one, so 30,000 distinct values take seconds that nothing can interrupt.
// Scalars are found in a set; lists and objects, rare in uniq, are still
// compared with runtime.Equal, against each other only.
func uniq(args ...any) (any, error) {
	v := reflect.ValueOf(args[0])
	if v.Kind() != reflect.Array && v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("cannot uniq %s", v.Kind())
	}
	out := []any{}
	seen := map[any]bool{}
	var complex []any
	for i := range v.Len() {
		item := v.Index(i).Interface()
		key, scalar := uniqKey(item)
		if scalar {
			if !seen[key] {
				seen[key] = true
				out = append(out, item)
			}
			continue
		}
		dup := false
		for _, c := range complex {
			if runtime.Equal(item, c) {
				dup = true
				break
			}
		}
		if !dup {
			complex = append(complex, item)
			out = append(out, item)
		}
	}
	return out, nil
}

// uniqKey gives scalars a set key that agrees with runtime.Equal: numbers of
// any type compare by value (1 == 1.0), and a string never equals a number.
func uniqKey(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string, bool:
		return x, true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), rv.Int() == int64(float64(rv.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), rv.Uint() == uint64(float64(rv.Uint()))
	}
	return nil, false
}

// formatBytes writes a size the way limits are written: 64 MiB, 1.5 KiB, 100 B.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTPE"[exp]) + "iB"
}

package expr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

// Variables lists the top-level names an expression may use. Compile rejects
// any other name, so a typo such as trgger.body.x fails at save time instead
// of silently evaluating to nil in every run. item and index are set only
// inside a for_each step; elsewhere they are nil. The slice is read once, at
// the first Compile; treat it as read-only.
var Variables = []string{"trigger", "steps", "run", "workflow", "item", "index"}

// mapVariables are the Variables that always hold a JSON object. Declaring
// them as maps lets Compile reject indexing them with a number; the others are
// declared as any because their type depends on the data.
var mapVariables = map[string]bool{"trigger": true, "steps": true, "run": true, "workflow": true}

// MaxNodes caps the size of one expression in syntax nodes. It bounds the
// work an expression without predicates can do and keeps pathological sources
// from slowing down compilation. It is a constant because compiled programs
// are cached by source alone.
const MaxNodes = 2000

// MemoryBudget is the memory, in bytes, that one evaluation, or one rendering
// of a template or a value, may build; beyond it evaluation fails with a
// *MemoryLimitError, which matches ErrMemoryBudget. Strings built by functions
// and + count their bytes, parsed JSON its text plus its values, and every
// list element or object entry 64 bytes. WithMemoryLimit sets another budget
// for the evaluations under a context. Set it at startup, before any
// evaluation.
var MemoryBudget uint = MemoryBudgetDefault

// MemoryBudgetDefault is the default of MemoryBudget: 64 MiB.
const MemoryBudgetDefault = 64 << 20

// MaxStringSize is the largest string, in bytes, that one expression or
// template may build (by +, repeat, replace, join, toJSON, text joining, ...).
// Without it a few nested doublings would exhaust the process's memory long
// before any time limit could react. Set it at startup.
var MaxStringSize = 16 << 20

// MaxEvalTime bounds the duration of one evaluation of an expression that
// contains predicates (map, filter, all, reduce, ...), on top of the context's
// deadline. Zero or less means only the context bounds it. Expressions
// without predicates are not timed: their work is bounded by MaxNodes and the
// size of their input. Set it at startup.
var MaxEvalTime = time.Second

// ErrTimeout is wrapped by evaluation errors caused by MaxEvalTime.
var ErrTimeout = errors.New("evaluation time limit exceeded")

// ErrMemoryBudget is wrapped by evaluation errors caused by MemoryBudget or
// MaxStringSize.
var ErrMemoryBudget = errors.New("memory budget exceeded")

// Error is a compile or evaluation error located in an expression or a
// template. Line and Column are 1-based (Column counts runes) and are zero
// when the position is unknown. Callers that show errors next to the source,
// such as the workflow editor, use them to point at the problem.
type Error struct {
	Msg    string
	Line   int
	Column int
	// Err is the underlying cause when there is a more specific one, such as
	// ErrTimeout or a helper function's error; it may be nil.
	Err error
}

// Error formats the message with the position the way expr does: "msg (line:col)".
func (e *Error) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return e.Msg + " (" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column) + ")"
}

// Unwrap returns the underlying cause, so errors.Is(err, ErrTimeout) works.
func (e *Error) Unwrap() error { return e.Err }

// Program is a compiled expression, safe for concurrent use.
type Program struct {
	src  string
	prog *vm.Program
	// guarded is set when the expression contains predicates; its loops then
	// call the guard, which needs a deadline in the environment.
	guarded bool
	// metered is set when the expression calls functions that charge the
	// evaluation's meter, which then goes into the environment.
	metered bool
}

// Source returns the expression as written.
func (p *Program) Source() string { return p.src }

// Compile compiles one expression. Programs are cached process-wide by
// source, so compiling the same expression again is cheap and returns the same
// immutable Program.
func Compile(src string) (*Program, error) {
	return Scope{}.Compile(src)
}

// Scope adds top-level names to the workflow language for expressions evaluated
// somewhere else than a run: a poll trigger's inputs see "cursor", and http.poll's
// expressions see the response as "body", "headers" and "status". The zero Scope is
// the language of runs.
type Scope struct {
	extra []string
	key   string // cache key prefix: the extra names
}

// NewScope returns the scope with the given extra names, each of any type.
func NewScope(extra ...string) Scope {
	extra = slices.Clone(extra)
	slices.Sort(extra)
	return Scope{extra: extra, key: strings.Join(extra, ",") + "\x00"}
}

// Compile compiles one expression of the scope; see the package Compile.
func (sc Scope) Compile(src string) (*Program, error) {
	p, err := sc.compileCached(src)
	if err != nil {
		return nil, fmt.Errorf("compile expression: %w", err)
	}
	return p, nil
}

// compileCached is Compile without the error prefix; templates re-locate the
// bare *Error before wrapping it.
func (sc Scope) compileCached(src string) (*Program, error) {
	if p := cache.get(sc.key + src); p != nil {
		return p, nil
	}
	p, err := sc.compile(src)
	if err != nil {
		return nil, err
	}
	cache.put(sc.key+src, p)
	return p, nil
}

var (
	optionsMu sync.Mutex
	// scopeOptions holds the options of each scope, by the scope's key; there are a
	// handful of scopes, all fixed in the code.
	scopeOptions = map[string][]expr.Option{}
)

// options returns the expr options shared by every compilation in the scope; they are
// built once because they capture Variables and the helper table.
func (sc Scope) options() []expr.Option {
	optionsMu.Lock()
	defer optionsMu.Unlock()
	if o, ok := scopeOptions[sc.key]; ok {
		return o
	}
	env := types.Map{guardVar: types.TypeOf((func() bool)(nil)), meterVar: types.TypeOf((*meter)(nil))}
	for _, name := range Variables {
		if mapVariables[name] {
			env[name] = types.TypeOf(map[string]any{})
		} else {
			env[name] = types.Any
		}
	}
	for _, name := range sc.extra {
		env[name] = types.Any
	}
	o := append([]expr.Option{expr.Env(env), expr.MaxNodes(MaxNodes)}, functionOptions()...)
	scopeOptions[sc.key] = o
	return o
}

func (sc Scope) compile(src string) (_ *Program, err error) {
	// Sources come from users at save time; a panic in the compiler on some
	// odd input must fail the save, not the API server.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Msg: "empty expression"}
	}
	base := sc.options()
	pt := &patcher{src: src}
	opts := make([]expr.Option, 0, len(base)+2)
	opts = append(opts, base...)
	opts = append(opts, expr.Patch(pt), expr.Patch(rootPatcher{pt}))
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, locate(err)
	}
	if pt.err != nil {
		return nil, pt.err
	}
	if pt.metered == 0 {
		return &Program{src: src, prog: prog, guarded: pt.predicates > 0}, nil
	}
	// The source is valid; compile it again with metered calls routed to
	// their twins. Errors were reported above with the names users wrote.
	mp := &patcher{src: src, meter: true}
	opts = append(opts[:len(base)], expr.Patch(mp), expr.Patch(rootPatcher{mp}))
	if prog, err = expr.Compile(src, opts...); err != nil {
		return nil, fmt.Errorf("internal error: compile metered expression: %w", err)
	}
	return &Program{src: src, prog: prog, guarded: mp.predicates > 0, metered: true}, nil
}

// vmPool reuses VMs: a VM keeps its stack and scope buffers between runs,
// which saves a few allocations on every evaluation.
var vmPool = sync.Pool{New: func() any { return new(vm.VM) }}

// Eval evaluates the expression against env on the calling goroutine. Once
// ctx is done or MaxEvalTime has passed, a looping predicate stops at its
// next iteration and Eval returns an error wrapping ctx.Err() or ErrTimeout;
// nothing keeps running in the background. A single builtin call (one sort
// of a long list) is not interrupted, so Eval may return that much late.
// Panics inside evaluation become errors. The result may share structure
// with env: treat it as read-only.
func (p *Program) Eval(ctx context.Context, env map[string]any) (any, error) {
	out, err := p.eval(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("eval %s: %w", quoteSource(p.src), err)
	}
	return out, nil
}

// eval is Eval without the error prefix; templates re-locate the bare
// *Error before wrapping it.
func (p *Program) eval(ctx context.Context, env map[string]any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := memoryLimit(ctx)
	if p.guarded || p.metered {
		return p.runGuarded(ctx, env, limit)
	}
	return p.run(env, limit)
}

// guardedRun is the per-evaluation state of a guarded program, pooled
// because a guarded evaluation would otherwise allocate a guard, its bound
// tick function and an environment map every time.
type guardedRun struct {
	g    guard
	tick func() bool
	env  map[string]any
}

var guardedPool = sync.Pool{New: func() any {
	r := &guardedRun{env: make(map[string]any, 8)}
	r.tick = r.g.tick
	return r
}}

// runGuarded runs a program whose loops call the guard or whose functions
// charge the meter. Both reach the program through hidden environment
// entries, so env is copied: the caller's map is shared with other
// evaluations and must not change. The copy can be reused afterwards because
// no result can reference it: $env, the only way to reach the map itself, is
// rejected at compile time.
func (p *Program) runGuarded(ctx context.Context, env map[string]any, limit int64) (any, error) {
	r := guardedPool.Get().(*guardedRun)
	r.g = guard{ctx: ctx, done: ctx.Done(), limit: MaxEvalTime}
	if r.g.limit > 0 {
		r.g.deadline = time.Now().Add(r.g.limit)
	}
	for k, v := range env {
		r.env[k] = v
	}
	r.env[guardVar] = r.tick
	if p.metered {
		r.env[meterVar] = meterFor(ctx)
	}
	out, err := p.run(r.env, limit)
	clear(r.env)
	r.g = guard{} // drop ctx so that the pool does not keep it alive
	guardedPool.Put(r)
	return out, err
}

func (p *Program) run(env map[string]any, limit int64) (out any, err error) {
	machine := vmPool.Get().(*vm.VM)
	defer func() {
		// vm.Run recovers panics itself; this is a second line of defense
		// for a panic that escapes it, after which the VM is not reused.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	// The VM counts elements; the budget is in bytes.
	machine.MemoryBudget = uint(max(limit/elementBytes, 1))
	out, err = machine.Run(p.prog, env)
	vmPool.Put(machine)
	if err != nil {
		err = locate(err)
		if e, ok := err.(*Error); ok {
			if mle, ok := e.Err.(*MemoryLimitError); ok && mle.Limit == 0 {
				// The VM's own budget: report it as the limit it stands for.
				mle.Limit = limit
				e.Msg = mle.Error()
			}
		}
		return nil, err
	}
	return out, nil
}

// EvalBool evaluates a condition (a filter or a step's if). nil counts as
// false, so a condition on a missing field such as trigger.body.vip is simply
// not met; any other non-boolean result is an error because it almost always
// means a mistake like a missing comparison.
func (p *Program) EvalBool(ctx context.Context, env map[string]any) (bool, error) {
	v, err := p.Eval(ctx, env)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("expression %s returned %s, expected a boolean", quoteSource(p.src), typeName(v))
}

// locate turns expr's *file.Error, whose message carries a multi-line source
// snippet, into a one-line *Error with the position in fields.
func locate(err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return err
	}
	e := &Error{Msg: fe.Message, Err: fe.Prev}
	if fe.Snippet != "" {
		e.Line, e.Column = fe.Line, fe.Column+1
	}
	if fe.Message == ErrMemoryBudget.Error() {
		// expr reports its budget with a plain message (a panic string or
		// its own errors.New); give callers the sentinel instead. The VM's
		// element budget panics with a string (no Prev): it is the memory
		// limit, whose size run fills in. The other is repeat's count cap.
		e.Err = ErrMemoryBudget
		if fe.Prev == nil {
			e.Err = &MemoryLimitError{}
		}
	}
	return e
}

// position returns the 1-based line and rune column of byte offset off in s.
func position(s string, off int) (line, col int) {
	line, col = 1, 1
	for i, r := range s {
		if i >= off {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// runeOffset converts a rune offset (what expr's AST locations hold) to a
// byte offset in s.
func runeOffset(s string, runes int) int {
	n := 0
	for i := range s {
		if n == runes {
			return i
		}
		n++
	}
	return len(s)
}

// quoteSource quotes an expression for an error message, shortened so that a
// long template does not drown the message.
func quoteSource(src string) string {
	src = strings.TrimSpace(src)
	const max = 60
	if utf8.RuneCountInString(src) > max {
		src = string([]rune(src)[:max]) + "…"
	}
	return strconv.Quote(src)
}

// typeName names a value's type the way a workflow author thinks of it.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "string"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case time.Time:
		return "time"
	case time.Duration:
		return "duration"
	}
	return fmt.Sprintf("%T", v)
}

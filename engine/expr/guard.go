package expr

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm/runtime"
)

// Hidden names used by the patcher. They contain a space, so no expression
// can spell them: users can neither call the guard nor read its state.
const (
	guardVar = " guard"
	guardLet = " g"
	concatFn = " concat"
)

// envIdent is expr's name for the whole environment, which the patcher
// rejects.
const envIdent = "$env"

// guard is the per-evaluation state that lets a runaway loop stop itself.
// expr's VM cannot be interrupted from outside, so instead every predicate
// body (the part of map, filter, all, reduce, ... that runs per element) is
// patched to call the guard's tick first. One evaluation runs on one
// goroutine, so the fields need no synchronization.
//
// tick reaches the VM as an environment value of type func() bool rather
// than as a registered function: the VM calls such typed values directly,
// while a registered function with an argument costs an allocation per call
// once inside a loop. The program copies it into a local variable once
// (let " g" = " guard"), because an environment lookup per iteration would
// cost more than the check itself.
type guard struct {
	ctx      context.Context
	done     <-chan struct{}
	deadline time.Time
	limit    time.Duration
	n        uint32
}

// checkEvery is how many loop iterations pass between two looks at the
// clock. time.Now costs about as much as a cheap predicate body, so looking
// every time would double the cost of simple loops; every 16th iteration keeps
// the overhead small while an expensive body (say a sort of a large list per
// element) still overshoots the deadline by at most 16 bodies.
const checkEvery = 16

// check returns an error once the context is done or the deadline passed.
func (g *guard) check() error {
	g.n++
	if g.n%checkEvery != 1 {
		return nil
	}
	if g.done != nil {
		select {
		case <-g.done:
			return g.ctx.Err()
		default:
		}
	}
	if g.limit > 0 && time.Now().After(g.deadline) {
		return fmt.Errorf("%w (%s)", ErrTimeout, g.limit)
	}
	return nil
}

// tick is called at the start of every predicate iteration. The VM turns
// the panic into an evaluation error that wraps err, with the position of the
// predicate.
func (g *guard) tick() bool {
	if err := g.check(); err != nil {
		panic(err)
	}
	return true
}

// concat replaces + between operands that may be strings, so that repeated
// doubling (let a = b + b; ...) fails at MaxStringSize instead of exhausting
// memory. Everything else keeps expr's own semantics through runtime.Add.
func concat(args ...any) (out any, err error) {
	if a, ok := args[0].(string); ok {
		if b, ok := args[1].(string); ok {
			if err := checkSize(len(a) + len(b)); err != nil {
				return nil, err
			}
			return a + b, nil
		}
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return runtime.Add(args[0], args[1]), nil
}

// patcher rewrites the checked AST before compilation: it inserts the guard
// into predicate bodies, routes string-capable + through concat, and rejects
// $env, which would bypass the unknown-variable check.
type patcher struct {
	src        string
	predicates int
	// meter makes the patcher route metered calls (and string +) to their hidden
	// twins, which take the evaluation's meter. Without it, the patcher only
	// counts such calls in metered: compile then compiles a second time with
	// meter set, so that type errors are reported with the names users wrote.
	meter   bool
	metered int
	err     error
	// last is the most recently visited node. ast.Walk visits children
	// before their parent, so after the walk it points at the root.
	last *ast.Node
}

// Visit implements ast.Visitor. ast.Walk visits children first, so a node is
// never revisited after it has been replaced.
func (p *patcher) Visit(node *ast.Node) {
	p.last = node
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == envIdent && p.err == nil {
			line, col := position(p.src, runeOffset(p.src, n.Location().From))
			p.err = &Error{Msg: "$env is not available; use " + strings.Join(Variables, ", "), Line: line, Column: col}
		}
	case *ast.PredicateNode:
		p.predicates++
		call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: guardLet}}
		seq := &ast.SequenceNode{Nodes: []ast.Node{call, n.Node}}
		for _, x := range []ast.Node{call, call.Callee, seq} {
			x.SetLocation(n.Node.Location())
		}
		n.Node = seq
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && isMetered[id.Value] {
			if !p.meter {
				p.metered++
				return
			}
			ast.Patch(node, p.meteredCall(id.Value, n.Arguments, n.Location()))
		}
	case *ast.BuiltinNode:
		if isMetered[n.Name] {
			if !p.meter {
				p.metered++
				return
			}
			ast.Patch(node, p.meteredCall(n.Name, n.Arguments, n.Location()))
		}
	case *ast.BinaryNode:
		if n.Operator != "+" || !maybeString(n.Left) || !maybeString(n.Right) {
			return
		}
		_, ls := n.Left.(*ast.StringNode)
		_, rs := n.Right.(*ast.StringNode)
		if ls && rs {
			return // two literals: bounded by the source, and foldable
		}
		if p.meter {
			ast.Patch(node, p.meteredCall(concatFn, []ast.Node{n.Left, n.Right}, n.Location()))
			return
		}
		p.metered++
		call := &ast.CallNode{
			Callee:    &ast.IdentifierNode{Value: concatFn},
			Arguments: []ast.Node{n.Left, n.Right},
		}
		call.SetLocation(n.Location())
		call.Callee.SetLocation(n.Location())
		ast.Patch(node, call)
	}
}

// meteredCall is a call of name's hidden twin, with the evaluation's meter
// as the first argument.
func (p *patcher) meteredCall(name string, args []ast.Node, loc file.Location) *ast.CallNode {
	m := &ast.IdentifierNode{Value: meterVar}
	m.SetLocation(loc)
	call := &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: meteredPrefix + name},
		Arguments: append([]ast.Node{m}, args...),
	}
	call.SetLocation(loc)
	call.Callee.SetLocation(loc)
	return call
}

// rootPatcher runs after patcher. When patcher inserted guard calls, it
// wraps the root in let " g" = " guard"; ... so that they read a VM variable.
type rootPatcher struct{ p *patcher }

// Visit implements ast.Visitor.
func (r rootPatcher) Visit(node *ast.Node) {
	if node != r.p.last || r.p.predicates == 0 {
		return
	}
	if let, ok := (*node).(*ast.VariableDeclaratorNode); ok && let.Name == guardLet {
		return // already wrapped
	}
	loc := (*node).Location()
	value := &ast.IdentifierNode{Value: guardVar}
	value.SetLocation(loc)
	let := &ast.VariableDeclaratorNode{Name: guardLet, Value: value, Expr: *node}
	let.SetLocation(loc)
	*node = let
}

// maybeString reports whether the checker could not rule out that the node
// is a string. Operands known to be numbers keep the fast + opcode, and a
// known type mismatch is left for the checker to report.
func maybeString(n ast.Node) bool {
	t := n.Type()
	return t == nil || t.Kind() == reflect.Interface || t.Kind() == reflect.String
}

package condition

import (
	"slices"
	"strconv"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// maxParseLen bounds the expressions Parse looks at; a builder's group is far shorter.
const maxParseLen = 64 << 10

// Parse reads back an expression that Build could have written and returns its group,
// with fields in canonical form (CanonicalField). Anything else, however valid as an
// expression, gives false: the builder then offers the raw expression. "" is the empty
// group. A group of one condition comes back with ModeAll.
//
// Parse matches the expression's syntax tree, then builds the group again and requires
// the same tree: whitespace may differ from what Build wrote, the meaning may not.
func Parse(src string) (Group, bool) {
	if len(src) > maxParseLen {
		return Group{}, false
	}
	if isBlank(src) {
		return Group{Mode: ModeAll, Conditions: []Condition{}}, true
	}
	tree, err := parse(src)
	if err != nil {
		return Group{}, false
	}
	g, ok := match(tree)
	if !ok {
		return Group{}, false
	}
	rebuilt, err := Build(g)
	if err != nil {
		return Group{}, false
	}
	again, err := parse(rebuilt)
	if err != nil || again.String() != tree.String() {
		return Group{}, false
	}
	return g, true
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// parse returns the syntax tree of src; the expr parser may panic on odd input.
func parse(src string) (node ast.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			node, err = nil, errPanic
		}
	}()
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	return tree.Node, nil
}

type parseError string

func (e parseError) Error() string { return string(e) }

const errPanic = parseError("the expression parser failed")

func match(n ast.Node) (Group, bool) {
	if b, ok := n.(*ast.BinaryNode); ok && b.Operator == "||" {
		g := Group{Mode: ModeAny}
		for _, item := range flatten(n, "||") {
			c, ok := matchAny(item)
			if !ok {
				return Group{}, false
			}
			g.Conditions = append(g.Conditions, c)
		}
		return g, true
	}
	conds, ok := matchAll(flatten(n, "&&"))
	if !ok {
		return Group{}, false
	}
	return Group{Mode: ModeAll, Conditions: conds}, true
}

// matchAny reads one operand of ||: a condition, or a numeric one in parentheses.
func matchAny(n ast.Node) (Condition, bool) {
	conds, ok := matchAll(flatten(n, "&&"))
	if !ok || len(conds) != 1 {
		return Condition{}, false
	}
	return conds[0], true
}

// matchAll reads the operands of a chain of &&. A numeric condition spans two of them:
// the emptiness guard and the comparison.
func matchAll(items []ast.Node) ([]Condition, bool) {
	var out []Condition
	for i := 0; i < len(items); i++ {
		if i+1 < len(items) {
			if c, ok := matchNumeric(items[i], items[i+1]); ok {
				out = append(out, c)
				i++
				continue
			}
		}
		c, ok := matchSimple(items[i])
		if !ok {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// flatten lists the operands of a chain of one binary operator, left to right.
func flatten(n ast.Node, op string) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && b.Operator == op {
		return append(flatten(b.Left, op), flatten(b.Right, op)...)
	}
	return []ast.Node{n}
}

var numericOps = map[string]string{">": OpGreater, "<": OpLess, ">=": OpGreaterOrEqual, "<=": OpLessOrEqual}

func matchNumeric(guard, cmp ast.Node) (Condition, bool) {
	g, ok := matchSimple(guard)
	if !ok || g.Op != OpNotEmpty {
		return Condition{}, false
	}
	b, ok := cmp.(*ast.BinaryNode)
	if !ok {
		return Condition{}, false
	}
	op, ok := numericOps[b.Operator]
	if !ok {
		return Condition{}, false
	}
	arg, ok := callArg(b.Left, "number")
	if !ok {
		return Condition{}, false
	}
	p, ok := matchPath(arg)
	if !ok || p.String() != g.Field {
		return Condition{}, false
	}
	v, ok := numberLiteral(b.Right)
	if !ok {
		return Condition{}, false
	}
	return Condition{Field: g.Field, Op: op, Value: v}, true
}

var textOps = map[string]string{"==": OpEquals, "!=": OpNotEquals, "contains": OpContains,
	"startsWith": OpStartsWith, "endsWith": OpEndsWith, "matches": OpMatches}

func matchSimple(n ast.Node) (Condition, bool) {
	if u, ok := n.(*ast.UnaryNode); ok && u.Operator == "not" {
		c, ok := matchSimple(u.Node)
		if !ok || c.Op != OpContains {
			return Condition{}, false
		}
		c.Op = OpNotContains
		return c, true
	}
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return Condition{}, false
	}
	// F == nil, F != nil
	if _, isNil := b.Right.(*ast.NilNode); isNil {
		p, ok := matchPath(b.Left)
		if !ok {
			return Condition{}, false
		}
		switch b.Operator {
		case "!=":
			return Condition{Field: p.String(), Op: OpExists}, true
		case "==":
			return Condition{Field: p.String(), Op: OpNotExists}, true
		}
		return Condition{}, false
	}
	s, ok := b.Right.(*ast.StringNode)
	if !ok {
		return Condition{}, false
	}
	// (F ?? "") == "", != ""
	if p, ok := matchOrEmpty(b.Left); ok && s.Value == "" {
		switch b.Operator {
		case "==":
			return Condition{Field: p.String(), Op: OpEmpty}, true
		case "!=":
			return Condition{Field: p.String(), Op: OpNotEmpty}, true
		}
	}
	// string(F ?? "") op "v"
	op, ok := textOps[b.Operator]
	if !ok {
		return Condition{}, false
	}
	arg, ok := callArg(b.Left, "string")
	if !ok {
		return Condition{}, false
	}
	p, ok := matchOrEmpty(arg)
	if !ok {
		return Condition{}, false
	}
	return Condition{Field: p.String(), Op: op, Value: s.Value}, true
}

// matchOrEmpty reads F ?? "".
func matchOrEmpty(n ast.Node) (path, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok || b.Operator != "??" {
		return path{}, false
	}
	if s, ok := b.Right.(*ast.StringNode); !ok || s.Value != "" {
		return path{}, false
	}
	return matchPath(b.Left)
}

// callArg returns the only argument of a call to the named function.
func callArg(n ast.Node, name string) (ast.Node, bool) {
	switch c := n.(type) {
	case *ast.BuiltinNode:
		if c.Name == name && len(c.Arguments) == 1 {
			return c.Arguments[0], true
		}
	case *ast.CallNode:
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == name && len(c.Arguments) == 1 {
			return c.Arguments[0], true
		}
	}
	return nil, false
}

// matchPath reads a field: a root name followed by member accesses with string keys. Whether each access is optional is left to the final comparison.
func matchPath(n ast.Node) (path, bool) {
	var keys []string
	for {
		switch v := n.(type) {
		case *ast.ChainNode:
			// ?.["key"] nests one chain per bracket.
			n = v.Node
		case *ast.MemberNode:
			prop, ok := v.Property.(*ast.StringNode)
			if v.Method || !ok {
				return path{}, false
			}
			keys = append(keys, prop.Value)
			n = v.Node
		case *ast.IdentifierNode:
			slices.Reverse(keys)
			p := path{root: v.Value, keys: keys}
			if p.check() != nil {
				return path{}, false
			}
			return p, true
		default:
			return path{}, false
		}
	}
}

// numberLiteral reads an integer or float literal, possibly negated, as Build wrote it.
func numberLiteral(n ast.Node) (string, bool) {
	neg := ""
	if u, ok := n.(*ast.UnaryNode); ok && u.Operator == "-" {
		neg, n = "-", u.Node
	}
	var s string
	switch v := n.(type) {
	case *ast.IntegerNode:
		s = strconv.Itoa(v.Value)
	case *ast.FloatNode:
		s = strconv.FormatFloat(v.Value, 'f', -1, 64)
	default:
		return "", false
	}
	out, err := canonicalNumber(neg + s)
	if err != nil {
		return "", false
	}
	return out, true
}

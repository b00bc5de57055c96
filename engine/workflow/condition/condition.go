// Package condition is the workflow builder's condition model: rows of "field, operator,
// value" joined by all or any, written as an expr expression for a workflow's filter or a
// step's if, and read back from one.
//
// Build writes the expression; Parse reads back an expression Build could have written,
// so a saved filter reopens in the builder, and reports false for anything else (the
// builder then shows the raw expression). Evaluation is the engine's: the expression is a
// plain filter, checked and run by engine/expr like any other.
//
// What Build writes for each operator, with F the field read with optional chaining
// (trigger.body?.customer?.name, so a missing level gives nil rather than an error):
//
//	equals, not_equals           string(F ?? "") == "v"       (!=)
//	contains, does_not_contain   string(F ?? "") contains "v" (not contains)
//	starts_with, ends_with       string(F ?? "") startsWith "v", endsWith "v"
//	matches_regex                string(F ?? "") matches "re"
//	greater_than ... less_or_equal
//	                             (F ?? "") != "" && number(F) > 100   (>, <, >=, <=)
//	is_empty, is_not_empty       (F ?? "") == "", != ""
//	exists, does_not_exist       F != nil, == nil
//
// Text operators read the field as text, so the number 150 equals "150"; they are case
// sensitive (matches_regex takes (?i) for the other case). Numeric operators read the
// field with number(), so the form value "150" is greater than 100; a missing or empty
// field does not match, and text that is not a number fails the run with number's error.
package condition

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Group modes.
const (
	ModeAll = "all" // every condition must hold (&&)
	ModeAny = "any" // one condition is enough (||)
)

// Operators.
const (
	OpEquals         = "equals"
	OpNotEquals      = "not_equals"
	OpContains       = "contains"
	OpNotContains    = "does_not_contain"
	OpStartsWith     = "starts_with"
	OpEndsWith       = "ends_with"
	OpGreater        = "greater_than"
	OpLess           = "less_than"
	OpGreaterOrEqual = "greater_or_equal"
	OpLessOrEqual    = "less_or_equal"
	OpEmpty          = "is_empty"
	OpNotEmpty       = "is_not_empty"
	OpExists         = "exists"
	OpNotExists      = "does_not_exist"
	OpMatches        = "matches_regex"
)

// Condition is one row of the builder: a field path such as trigger.body.amount or
// trigger.body["first name"], an operator and, for operators that take one, a value as
// typed into the form.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value string `json:"value,omitempty"`
}

// Group is a list of conditions joined by Mode: ModeAll or ModeAny ("" counts as all).
type Group struct {
	Mode       string      `json:"mode"`
	Conditions []Condition `json:"conditions"`
}

// ValueKind says what an operator's value is.
type ValueKind string

// Value kinds.
const (
	ValueNone   ValueKind = ""       // the operator takes no value
	ValueText   ValueKind = "text"   // compared as text
	ValueNumber ValueKind = "number" // a decimal number: 100, -5, 1.5 or 1,5
	ValueRegex  ValueKind = "regex"  // a Go regular expression
)

// OpInfo describes an operator for the builder's menu.
type OpInfo struct {
	Op    string
	Value ValueKind
	// Label is the menu text by language: "en" and "ru".
	Label map[string]string
	// expr is the comparison operator written for it.
	expr string
}

// Ops lists the operators in the order the builder offers them.
var Ops = []OpInfo{
	{Op: OpEquals, Value: ValueText, expr: "==", Label: map[string]string{"en": "equals", "ru": "равно"}},
	{Op: OpNotEquals, Value: ValueText, expr: "!=", Label: map[string]string{"en": "does not equal", "ru": "не равно"}},
	{Op: OpContains, Value: ValueText, expr: "contains", Label: map[string]string{"en": "contains", "ru": "содержит"}},
	{Op: OpNotContains, Value: ValueText, expr: "contains", Label: map[string]string{"en": "does not contain", "ru": "не содержит"}},
	{Op: OpStartsWith, Value: ValueText, expr: "startsWith", Label: map[string]string{"en": "starts with", "ru": "начинается с"}},
	{Op: OpEndsWith, Value: ValueText, expr: "endsWith", Label: map[string]string{"en": "ends with", "ru": "заканчивается на"}},
	{Op: OpGreater, Value: ValueNumber, expr: ">", Label: map[string]string{"en": "is greater than", "ru": "больше"}},
	{Op: OpLess, Value: ValueNumber, expr: "<", Label: map[string]string{"en": "is less than", "ru": "меньше"}},
	{Op: OpGreaterOrEqual, Value: ValueNumber, expr: ">=", Label: map[string]string{"en": "is greater than or equal to", "ru": "больше или равно"}},
	{Op: OpLessOrEqual, Value: ValueNumber, expr: "<=", Label: map[string]string{"en": "is less than or equal to", "ru": "меньше или равно"}},
	{Op: OpEmpty, expr: "==", Label: map[string]string{"en": "is empty", "ru": "пусто"}},
	{Op: OpNotEmpty, expr: "!=", Label: map[string]string{"en": "is not empty", "ru": "не пусто"}},
	{Op: OpExists, expr: "!=", Label: map[string]string{"en": "exists", "ru": "существует"}},
	{Op: OpNotExists, expr: "==", Label: map[string]string{"en": "does not exist", "ru": "не существует"}},
	{Op: OpMatches, Value: ValueRegex, expr: "matches", Label: map[string]string{"en": "matches the regular expression", "ru": "соответствует регулярному выражению"}},
}

// Info returns the description of an operator. The spelled-out forms the issue uses
// ("does not contain", "greater than") are accepted for the ids.
func Info(op string) (OpInfo, bool) {
	op = normalizeOp(op)
	for _, o := range Ops {
		if o.Op == op {
			return o, true
		}
	}
	return OpInfo{}, false
}

func normalizeOp(op string) string {
	op = strings.ToLower(strings.Join(strings.Fields(op), "_"))
	switch op {
	case "not_equal", "does_not_equal":
		return OpNotEquals
	case "not_contains":
		return OpNotContains
	case "not_exists":
		return OpNotExists
	case "matches":
		return OpMatches
	}
	return op
}

// Error is a problem with one condition of a group, so that the builder can show it next
// to the input it is about.
type Error struct {
	Index int    // position of the condition in the group, from 0
	Part  string // "field", "op" or "value"; "" for the group itself
	Msg   string
}

func (e *Error) Error() string {
	if e.Part == "" {
		return e.Msg
	}
	return fmt.Sprintf("condition %d: %s: %s", e.Index+1, e.Part, e.Msg)
}

// Build writes the expression of a group. A group without conditions gives "" (no
// filter). An error is an *Error naming the condition and the part that is wrong.
func Build(g Group) (string, error) {
	join := " && "
	switch g.Mode {
	case "", ModeAll:
	case ModeAny:
		join = " || "
	default:
		return "", &Error{Msg: fmt.Sprintf("mode %q is neither %q nor %q", g.Mode, ModeAll, ModeAny)}
	}
	parts := make([]string, 0, len(g.Conditions))
	for i, c := range g.Conditions {
		s, err := buildOne(c)
		if err != nil {
			err.Index = i
			return "", err
		}
		if info, _ := Info(c.Op); g.Mode == ModeAny && len(g.Conditions) > 1 && info.Value == ValueNumber {
			s = "(" + s + ")" // the numeric guard's && binds tighter than ||
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, join), nil
}

func buildOne(c Condition) (string, *Error) {
	p, err := parseField(strings.TrimSpace(c.Field))
	if err != nil {
		return "", &Error{Part: "field", Msg: err.Error()}
	}
	info, ok := Info(c.Op)
	if !ok {
		return "", &Error{Part: "op", Msg: fmt.Sprintf("unknown operator %q", c.Op)}
	}
	f := p.expr()
	text := "string(" + f + ` ?? "")`
	switch info.Value {
	case ValueNone:
		if info.Op == OpExists || info.Op == OpNotExists {
			return f + " " + info.expr + " nil", nil
		}
		return "(" + f + ` ?? "") ` + info.expr + ` ""`, nil
	case ValueNumber:
		n, err := canonicalNumber(c.Value)
		if err != nil {
			return "", &Error{Part: "value", Msg: err.Error()}
		}
		return "(" + f + ` ?? "") != "" && number(` + f + ") " + info.expr + " " + n, nil
	case ValueRegex:
		if _, err := regexp.Compile(c.Value); err != nil {
			return "", &Error{Part: "value", Msg: fmt.Sprintf("not a regular expression: %v", err)}
		}
	}
	if !utf8.ValidString(c.Value) {
		return "", &Error{Part: "value", Msg: "is not valid UTF-8 text"}
	}
	if len(c.Value) > maxValueLen {
		return "", &Error{Part: "value", Msg: fmt.Sprintf("is longer than %d bytes", maxValueLen)}
	}
	if info.Op == OpNotContains {
		return text + " not contains " + quote(c.Value), nil
	}
	return text + " " + info.expr + " " + quote(c.Value), nil
}

// maxValueLen bounds a value typed into the builder; the expression's own limit is in
// syntax nodes, not bytes.
const maxValueLen = 4096

// maxNumber bounds numeric values, so every one is written exactly as a literal.
const maxNumber = 1e15

// canonicalNumber reads a number typed into a form ("100", "-5", "1.5", "1,5", "100 000")
// and writes it the one way Build writes it: integers without a point, others in the
// shortest decimal form, so that "100.0" and "100" give the same expression.
func canonicalNumber(s string) (string, error) {
	t := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\t':
			return -1
		case ',':
			return '.'
		}
		return r
	}, s)
	if !numberPattern.MatchString(t) {
		return "", fmt.Errorf("%q is not a number (write it like 100, -5 or 1.5)", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.Abs(f) >= maxNumber {
		return "", fmt.Errorf("%q is out of range (at most 15 digits before the point)", s)
	}
	if f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10), nil
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

var numberPattern = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// Package expr compiles and evaluates the expressions used in workflows: a
// workflow's filter, a step's if, and the {{ expr }} templates inside a step's
// with inputs.
//
// The expression language is expr-lang/expr (https://expr-lang.org) with a
// fixed environment (see Variables), a small set of helper functions (sha256,
// cleanEmail, formatDate, ...) and limits that keep a hostile or careless
// expression from hanging or exhausting a worker.
//
// Expressions compile once per workflow version, at save time, so that a
// syntax error or a misspelled variable is a validation error rather than a
// failed run; the compiled forms (Program, Template, Value) are immutable and
// safe for concurrent use, and evaluate many times.
//
// # Templates
//
// Any string in a step's inputs may contain {{ expr }} parts. A string that is
// exactly one {{ expr }} (whitespace inside the braces allowed, none outside)
// keeps the type of the value: a number stays a number, an object stays an
// object. Otherwise the parts are joined as text: nil becomes "", numbers
// are written without exponent or trailing zeros, objects and lists as compact
// JSON. A literal "{{" is written as {{ "{{" }}.
//
// # Limits
//
// Compile rejects expressions of more than MaxNodes syntax nodes. Evaluation
// builds at most MemoryBudget bytes (or the limit WithMemoryLimit sets),
// counting the strings functions and + build, parsed JSON, and 64 bytes per
// list element or object entry; one rendering of a template or a value shares
// one such budget. No string is longer than MaxStringSize bytes. The loops of map, filter, all, any, count,
// reduce, sortBy and the other predicate builtins check the context and the
// MaxEvalTime deadline as they iterate, so a runaway loop stops promptly on
// the evaluating goroutine itself and nothing is left running in the
// background; expressions without predicates do an amount of work bounded by
// their size and input, so they run without any checks.
package expr

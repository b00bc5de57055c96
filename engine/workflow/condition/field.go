package condition

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Roots are the names a condition's field may start with: the parts of the expression
// environment (engine/expr.Variables) that hold data in a filter or a step's if. item and
// index are left out, since they are nil until a for_each step runs.
var Roots = []string{"trigger", "steps", "run", "workflow"}

// path is a parsed field: a root and the object keys below it. List positions are not
// part of the model: optional chaining does not cover a position past a list's end, so a
// condition on one could fail the run instead of being false.
type path struct {
	root string
	keys []string
}

var asciiIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxFieldLen bounds a field path; sample bodies have short keys.
const maxFieldLen = 1000

// CanonicalField checks a field path and returns it in the form Parse gives back: keys
// that are ASCII identifiers after a dot, other keys in double quotes inside brackets.
// `trigger.body['first name']` becomes `trigger.body["first name"]`.
func CanonicalField(field string) (string, error) {
	p, err := parseField(field)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// FieldPath builds the field of a value found in a sample from its root and keys, for
// the field picker: FieldPath("trigger", "body", "first name") is
// `trigger.body["first name"]`.
func FieldPath(root string, keys ...string) (string, error) {
	p := path{root: root, keys: keys}
	if err := p.check(); err != nil {
		return "", err
	}
	return p.String(), nil
}

func (p path) check() error {
	if !isRoot(p.root) {
		return fmt.Errorf("must start with one of %s, not %q", strings.Join(Roots, ", "), p.root)
	}
	if len(p.keys) == 0 {
		return fmt.Errorf("names only %q: add the key to compare, such as %s.body.amount", p.root, p.root)
	}
	for _, k := range p.keys {
		if !utf8.ValidString(k) {
			return fmt.Errorf("key %q is not valid UTF-8", k)
		}
	}
	if len(p.String()) > maxFieldLen {
		return fmt.Errorf("is longer than %d characters", maxFieldLen)
	}
	return nil
}

func isRoot(name string) bool {
	for _, r := range Roots {
		if r == name {
			return true
		}
	}
	return false
}

// String writes the canonical field.
func (p path) String() string {
	var b strings.Builder
	b.WriteString(p.root)
	for _, k := range p.keys {
		if asciiIdent.MatchString(k) {
			b.WriteString("." + k)
		} else {
			b.WriteString("[" + quote(k) + "]")
		}
	}
	return b.String()
}

// expr writes the path as an expression. Every level below the first key is read with
// optional chaining (?.), so a missing level gives nil instead of failing the run:
// trigger.body?.customer?.name.
func (p path) expr() string {
	var b strings.Builder
	b.WriteString(p.root)
	for i, k := range p.keys {
		opt := ""
		if i > 0 {
			opt = "?."
		}
		if asciiIdent.MatchString(k) {
			if opt == "" {
				opt = "."
			}
			b.WriteString(opt + k)
		} else {
			b.WriteString(opt + "[" + quote(k) + "]")
		}
	}
	return b.String()
}

// parseField reads root(.key | ["key"] | ['key'])*. A key after a dot is a run of
// letters, digits and _, not starting with a digit.
func parseField(s string) (path, error) {
	var p path
	if len(s) > maxFieldLen {
		return p, fmt.Errorf("is longer than %d characters", maxFieldLen)
	}
	i := identEnd(s, 0)
	if i == 0 {
		return p, fmt.Errorf("%q must start with a name such as trigger", s)
	}
	p.root = s[:i]
	for i < len(s) {
		switch s[i] {
		case '.':
			j := identEnd(s, i+1)
			if j == i+1 {
				return p, fmt.Errorf("%q: a name must follow the dot at position %d", s, i+1)
			}
			p.keys = append(p.keys, s[i+1:j])
			i = j
		case '[':
			key, n, err := parseBracket(s[i:])
			if err != nil {
				return p, fmt.Errorf("%q at position %d: %w", s, i+1, err)
			}
			p.keys = append(p.keys, key)
			i += n
		default:
			return p, fmt.Errorf("%q: unexpected %q at position %d (use .key or [\"key\"])", s, s[i], i+1)
		}
	}
	if err := p.check(); err != nil {
		return p, err
	}
	return p, nil
}

// identEnd returns the end of the identifier starting at i (i itself when there is none).
func identEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		ok := r == '_' || unicode.IsLetter(r) || (j > i && unicode.IsDigit(r))
		if !ok || r == utf8.RuneError {
			break
		}
		j += size
	}
	return j
}

// parseBracket reads ["key"] or ['key'] at the start of s and returns the key and the
// length read.
func parseBracket(s string) (string, int, error) {
	if len(s) < 3 {
		return "", 0, fmt.Errorf("unterminated [")
	}
	q := s[1]
	if q != '"' && q != '\'' {
		return "", 0, fmt.Errorf("a key in brackets must be quoted, such as [\"first name\"] (list positions are not supported)")
	}
	var key strings.Builder
	rest := s[2:]
	for {
		if rest == "" {
			return "", 0, fmt.Errorf("unterminated string")
		}
		if rest[0] == q {
			rest = rest[1:]
			break
		}
		r, _, tail, err := strconv.UnquoteChar(rest, q)
		if err != nil {
			return "", 0, fmt.Errorf("bad escape in key: %w", err)
		}
		key.WriteRune(r)
		rest = tail
	}
	if rest == "" || rest[0] != ']' {
		return "", 0, fmt.Errorf("expected ] after the key")
	}
	return key.String(), len(s) - len(rest) + 1, nil
}

// quote writes s as a double-quoted expr string literal. Quotes and backslashes are
// escaped, and so is every character that is not printable, so no value can end the
// literal early or hide in the source.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x10000 && (r < 0x20 || !unicode.IsPrint(r)):
			fmt.Fprintf(&b, `\u%04x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// checkSize fails when a string of n bytes would exceed MaxStringSize.
func checkSize(n int) error {
	if n > MaxStringSize || n < 0 {
		return fmt.Errorf("%w: string of %d bytes is longer than the %d byte limit", ErrMemoryBudget, n, MaxStringSize)
	}
	return nil
}

// Text returns v as a template with text around its {{ }} would write it: nil is empty,
// strings as they are, numbers in plain decimal, bools as true/false, times in RFC 3339,
// and objects and lists as compact JSON.
func Text(v any) (string, error) {
	buf, err := appendText(nil, v, MaxStringSize)
	if err != nil {
		if errors.Is(err, errTooLong) {
			err = checkSize(MaxStringSize + 1)
		}
		return "", fmt.Errorf("write value as text: %w", err)
	}
	return string(buf), nil
}

// appendText appends v as template text: nil is empty, strings as they are,
// numbers in plain decimal, bools as true/false, times in RFC 3339, and
// objects and lists as compact JSON.
func appendText(buf []byte, v any, limit int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return buf, nil
	case string:
		return append(buf, x...), nil
	case []byte:
		return append(buf, x...), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case float64:
		return appendFloat(buf, x, 64), nil
	case json.Number:
		return append(buf, x...), nil
	case time.Time:
		return x.AppendFormat(buf, time.RFC3339Nano), nil
	case time.Duration:
		return append(buf, x.String()...), nil
	case fmt.Stringer:
		return append(buf, x.String()...), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(buf, rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(buf, rv.Uint(), 10), nil
	case reflect.Float32:
		return appendFloat(buf, rv.Float(), 32), nil
	case reflect.Float64:
		return appendFloat(buf, rv.Float(), 64), nil
	case reflect.String:
		return append(buf, rv.String()...), nil
	case reflect.Bool:
		return strconv.AppendBool(buf, rv.Bool()), nil
	}
	e := encoder{buf: buf, limit: limit}
	if err := e.value(v, ""); err != nil {
		return buf, err
	}
	return e.buf, nil
}

// appendFloat writes a float the way encoding/json and JavaScript do: the
// shortest representation that round-trips, without an exponent unless the
// magnitude is tiny or huge. NaN and infinities are written as strconv does.
func appendFloat(buf []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && !math.IsInf(f, 0) {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(buf) - start
		if n >= 4 && buf[len(buf)-4] == 'e' && buf[len(buf)-3] == '-' && buf[len(buf)-2] == '0' {
			buf[len(buf)-2] = buf[len(buf)-1]
			buf = buf[:len(buf)-1]
		}
	}
	return buf
}

// errTooLong is returned by the encoder when its output passes the limit;
// callers turn it into a size error that names the limit.
var errTooLong = errors.New("output too long")

// maxDepth bounds the nesting the encoder follows, so a self-referencing
// value cannot recurse forever.
const maxDepth = 200

// encoder writes JSON like encoding/json (sorted map keys, the same number
// and string formats) but fails as soon as the output passes limit. It exists
// because encoding/json materializes its whole output first: a list holding
// the same large string a million times would be encoded to terabytes before
// any size check could run.
type encoder struct {
	buf        []byte
	limit      int
	indent     string // "" for compact output
	escapeHTML bool
	depth      int
	// counting makes the encoder only measure: what it wrote is added to
	// counted and dropped at every grow, so that it holds at most one string.
	counting bool
	counted  int64
	// partial makes a string that does not fit fill the rest of the limit.
	partial bool
}

func (e *encoder) grow(n int) error {
	if e.counting {
		e.counted += int64(len(e.buf))
		e.buf = e.buf[:0]
		return nil
	}
	if len(e.buf)+n > e.limit {
		return errTooLong
	}
	return nil
}

func (e *encoder) newline(prefix string) {
	if e.indent != "" {
		e.buf = append(e.buf, '\n')
		e.buf = append(e.buf, prefix...)
	}
}

func (e *encoder) value(v any, prefix string) error {
	if err := e.grow(0); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
		return nil
	case string:
		return e.string(x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
		return nil
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
		return nil
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
		return nil
	case float64:
		return e.float(x, 64)
	case json.Number:
		if x == "" {
			x = "0" // as encoding/json
		}
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return fmt.Errorf("json: invalid number literal %q", string(x))
		}
		e.buf = append(e.buf, x...)
		return nil
	case map[string]any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return e.object(len(keys), prefix, func(i int) (string, any) { return keys[i], x[keys[i]] })
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.array(len(x), prefix, func(i int) any { return x[i] })
	case json.Marshaler, encodingTextMarshaler:
		return e.leaf(v, prefix)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, rv.Int(), 10)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, rv.Uint(), 10)
		return nil
	case reflect.Float32:
		return e.float(rv.Float(), 32)
	case reflect.Float64:
		return e.float(rv.Float(), 64)
	case reflect.String:
		return e.string(rv.String())
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, rv.Bool())
		return nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.nested(func() error { return e.value(rv.Elem().Interface(), prefix) })
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return e.leaf(v, prefix) // []byte is base64, as in encoding/json
		}
		return e.array(rv.Len(), prefix, func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map:
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		type kv struct {
			k string
			v reflect.Value
		}
		pairs := make([]kv, 0, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			// Keys that encoding/json cannot encode (interface keys from
			// groupBy) are written with fmt, which is what a reader expects.
			pairs = append(pairs, kv{fmt.Sprint(iter.Key().Interface()), iter.Value()})
		}
		slices.SortFunc(pairs, func(a, b kv) int {
			switch {
			case a.k < b.k:
				return -1
			case a.k > b.k:
				return 1
			}
			return 0
		})
		return e.object(len(pairs), prefix, func(i int) (string, any) { return pairs[i].k, pairs[i].v.Interface() })
	}
	return e.leaf(v, prefix)
}

// encodingTextMarshaler mirrors encoding.TextMarshaler without importing the
// package only for the interface.
type encodingTextMarshaler interface {
	MarshalText() ([]byte, error)
}

// nested runs f one level deeper, failing past maxDepth.
func (e *encoder) nested(f func() error) error {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxDepth {
		return fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	return f()
}

func (e *encoder) object(n int, prefix string, at func(int) (string, any)) error {
	return e.nested(func() error {
		e.buf = append(e.buf, '{')
		inner := prefix + e.indent
		for i := 0; i < n; i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.newline(inner)
			k, v := at(i)
			if err := e.string(k); err != nil {
				return err
			}
			e.buf = append(e.buf, ':')
			if e.indent != "" {
				e.buf = append(e.buf, ' ')
			}
			if err := e.value(v, inner); err != nil {
				return err
			}
		}
		if n > 0 {
			e.newline(prefix)
		}
		e.buf = append(e.buf, '}')
		return e.grow(0)
	})
}

func (e *encoder) array(n int, prefix string, at func(int) any) error {
	return e.nested(func() error {
		e.buf = append(e.buf, '[')
		inner := prefix + e.indent
		for i := 0; i < n; i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.newline(inner)
			if err := e.value(at(i), inner); err != nil {
				return err
			}
		}
		if n > 0 {
			e.newline(prefix)
		}
		e.buf = append(e.buf, ']')
		return e.grow(0)
	})
}

func (e *encoder) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, bits))
	}
	e.buf = appendFloat(e.buf, f, bits)
	return nil
}

// leaf encodes a value the encoder does not walk itself (times, structs,
// byte slices, marshalers) with encoding/json; such values are small.
func (e *encoder) leaf(v any, prefix string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := e.grow(len(b)); err != nil {
		return err
	}
	if e.indent == "" || (len(b) > 0 && b[0] != '{' && b[0] != '[') {
		e.buf = append(e.buf, b...)
		return nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, e.indent); err != nil {
		return err
	}
	e.buf = append(e.buf, out.Bytes()...)
	return e.grow(0)
}

const hexDigits = "0123456789abcdef"

// string writes s as a JSON string with encoding/json's escaping: control
// characters, quotes and backslashes, U+2028/U+2029, invalid UTF-8 as
// U+FFFD, and <, >, & only when escapeHTML is set.
func (e *encoder) string(s string) error {
	if err := e.grow(len(s) + 2); err != nil {
		if e.partial && e.limit-len(e.buf) > 1 {
			// The start of the string, unescaped: a preview for people.
			e.buf = append(e.buf, '"')
			e.buf = append(e.buf, s[:e.limit-len(e.buf)]...)
		}
		return err
	}
	e.buf = append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!e.escapeHTML || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			e.buf = append(e.buf, s[start:i]...)
			switch c {
			case '\\', '"':
				e.buf = append(e.buf, '\\', c)
			case '\b':
				e.buf = append(e.buf, '\\', 'b')
			case '\f':
				e.buf = append(e.buf, '\\', 'f')
			case '\n':
				e.buf = append(e.buf, '\\', 'n')
			case '\r':
				e.buf = append(e.buf, '\\', 'r')
			case '\t':
				e.buf = append(e.buf, '\\', 't')
			default:
				e.buf = append(e.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			if err := e.grow(len(s) - i + 1); err != nil {
				return err
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.buf = append(e.buf, s[start:i]...)
			e.buf = append(e.buf, `\ufffd`...)
			i += size
			start = i
			if err := e.grow(len(s) - i + 1); err != nil {
				return err
			}
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			e.buf = append(e.buf, s[start:i]...)
			e.buf = append(e.buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			if err := e.grow(len(s) - i + 1); err != nil {
				return err
			}
			continue
		}
		i += size
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
	return nil
}

// encodeJSON encodes v within MaxStringSize; indent "" means compact output.
func encodeJSON(v any, indent string, escapeHTML bool) (string, error) {
	e := encoder{limit: MaxStringSize, indent: indent, escapeHTML: escapeHTML}
	if err := e.value(v, ""); err != nil {
		if errors.Is(err, errTooLong) {
			return "", fmt.Errorf("%w: JSON longer than the %d byte limit", ErrMemoryBudget, MaxStringSize)
		}
		return "", err
	}
	return string(e.buf), nil
}

// StoredJSON encodes v as compact JSON without HTML escaping, as run records
// store it, writing at most limit bytes. It returns the text and the size of
// the whole encoding; when size is over limit, text is only its first bytes,
// a preview that may be cut inside a character and whose last string is not
// escaped. The whole encoding is never built, so a
// list holding one large string many times costs no more than the string.
func StoredJSON(v any, limit int) (text string, size int64, err error) {
	e := encoder{limit: limit, partial: true}
	err = e.value(v, "")
	if err == nil {
		return string(e.buf), int64(len(e.buf)), nil
	}
	if !errors.Is(err, errTooLong) {
		return "", 0, err
	}
	text = string(e.buf)
	c := encoder{counting: true}
	if err := c.value(v, ""); err != nil {
		return "", 0, err
	}
	return text, c.counted + int64(len(c.buf)), nil
}

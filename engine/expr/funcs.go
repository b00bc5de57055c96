package expr

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
)

// helper is one function added to expr's builtins. types are the signatures
// the checker validates calls against at compile time; at run time values
// from JSON are untyped, so every helper checks its arguments again and
// returns an error instead of panicking.
type helper struct {
	name  string
	fn    func(args ...any) (any, error)
	types []any
}

// Helpers lists the names of the functions this package adds to expr's
// builtins, in documentation order.
var Helpers = []string{
	"sha256", "sha1", "md5", "hmacSHA256",
	"urlEncode", "urlDecode",
	"cleanEmail", "cleanPhone", "default", "truncate", "number",
	"formatDate", "unix", "uuid",
}

var helpers = []helper{
	{"sha256", hashFunc("sha256", sha256.New), []any{new(func(string) string)}},
	{"sha1", hashFunc("sha1", sha1.New), []any{new(func(string) string)}},
	{"md5", hashFunc("md5", md5.New), []any{new(func(string) string)}},
	{"hmacSHA256", hmacSHA256, []any{new(func(string, string) string)}},
	{"urlEncode", urlEncode, []any{new(func(any) string)}},
	{"urlDecode", urlDecode, []any{new(func(any) string)}},
	{"cleanEmail", cleanEmail, []any{new(func(any) string)}},
	{"cleanPhone", cleanPhone, []any{new(func(any) string)}},
	{"default", defaultFunc, []any{new(func(any, any) any)}},
	{"truncate", truncate, []any{new(func(any, any) string)}},
	{"number", number, []any{new(func(any) any)}},
	{"formatDate", formatDate, []any{new(func(any, string) string)}},
	{"unix", unixFunc, []any{new(func(any) int)}},
	{"uuid", uuidFunc, []any{new(func() string)}},
}

// functionOptions returns the expr options that install the helpers, the
// guard hooks and the size-checked versions of expr's string builtins.
func functionOptions() []expr.Option {
	opts := []expr.Option{
		expr.Function(concatFn, concat, new(func(string, string) string), new(func(any, any) any)),
	}
	for _, h := range helpers {
		opts = append(opts, expr.Function(h.name, h.fn, h.types...))
	}
	for name, fn := range overrides {
		opts = append(opts, override(name, fn))
	}
	return append(opts, meteredOption)
}

// overrides are expr builtins that can build a string much larger than
// their input. Each replacement checks the size before building and then
// calls expr's own implementation, so the semantics stay expr's.
var overrides = map[string]func(orig *builtin.Function) func(args ...any) (any, error){
	"repeat": func(orig *builtin.Function) func(args ...any) (any, error) {
		return func(args ...any) (any, error) {
			if s, ok := args[0].(string); ok {
				if n, ok := toInt(args[1]); ok && n > 0 && len(s) > 0 && n > MaxStringSize/len(s) {
					return nil, checkSize(MaxStringSize + 1)
				}
			}
			out, _, err := orig.Safe(args...)
			return out, err
		}
	},
	"replace": func(orig *builtin.Function) func(args ...any) (any, error) {
		return func(args ...any) (any, error) {
			if len(args) >= 3 {
				s, ok1 := args[0].(string)
				old, ok2 := args[1].(string)
				repl, ok3 := args[2].(string)
				if ok1 && ok2 && ok3 && len(repl) > len(old) {
					count := strings.Count(s, old)
					if len(args) == 4 {
						if n, ok := toInt(args[3]); ok && n >= 0 && n < count {
							count = n
						}
					}
					if count > 0 && count > (MaxStringSize-len(s))/(len(repl)-len(old)) {
						return nil, checkSize(MaxStringSize + 1)
					}
				}
			}
			return orig.Func(args...)
		}
	},
	"join": func(orig *builtin.Function) func(args ...any) (any, error) {
		return func(args ...any) (any, error) {
			sep := ""
			if len(args) == 2 {
				sep, _ = args[1].(string)
			}
			size := 0
			switch list := args[0].(type) {
			case []string:
				for _, s := range list {
					size += len(s) + len(sep)
					if size > MaxStringSize {
						return nil, checkSize(size)
					}
				}
			case []any:
				for _, v := range list {
					s, _ := v.(string)
					size += len(s) + len(sep)
					if size > MaxStringSize {
						return nil, checkSize(size)
					}
				}
			}
			return orig.Func(args...)
		}
	},
	"toBase64": func(orig *builtin.Function) func(args ...any) (any, error) {
		return func(args ...any) (any, error) {
			if s, ok := args[0].(string); ok {
				if err := checkSize(base64.StdEncoding.EncodedLen(len(s))); err != nil {
					return nil, err
				}
			}
			return orig.Func(args...)
		}
	},
	// toJSON keeps expr's output (indented by two spaces, HTML-escaped like
	// json.MarshalIndent) but stops at MaxStringSize while encoding.
	"toJSON": func(*builtin.Function) func(args ...any) (any, error) {
		return func(args ...any) (any, error) {
			return encodeJSON(args[0], "  ", true)
		}
	},
	// string formats collections with fmt, whose output cannot be limited
	// while it is built; the JSON size, which is close to it, is checked first.
	"string": func(orig *builtin.Function) func(args ...any) (any, error) {
		return func(args ...any) (any, error) {
			switch args[0].(type) {
			case nil, string, bool, int, int64, float64:
			default:
				if _, err := encodeJSON(args[0], "", false); errors.Is(err, ErrMemoryBudget) {
					return nil, err
				}
			}
			return orig.Fast(args[0]), nil
		}
	},
}

// override replaces builtin name by fn while keeping the builtin's type
// signatures, so compile-time checks are unchanged.
func override(name string, wrap func(orig *builtin.Function) func(args ...any) (any, error)) expr.Option {
	var orig *builtin.Function
	for _, f := range builtin.Builtins {
		if f.Name == name {
			orig = f
		}
	}
	if orig == nil {
		panic("expr: no builtin " + name + " to override")
	}
	fn := *orig
	fn.Fast, fn.Safe = nil, nil
	fn.Func = wrap(orig)
	return func(c *conf.Config) {
		c.Functions[name] = &fn
	}
}

// argError reports an argument of the wrong type.
func argError(fn string, i int, want string, got any) error {
	return fmt.Errorf("%s: argument %d must be %s, got %s", fn, i+1, want, typeName(got))
}

// stringArg returns argument i as a string. nilOK makes nil an empty
// string, for the text helpers where a missing field is normal input.
func stringArg(fn string, args []any, i int, nilOK bool) (string, error) {
	switch v := args[i].(type) {
	case string:
		return v, nil
	case nil:
		if nilOK {
			return "", nil
		}
	}
	return "", argError(fn, i, "a string", args[i])
}

// toInt converts an integral number of any JSON or Go numeric type.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	case uint:
		return int(n), n <= math.MaxInt
	case uint64:
		return int(n), n <= math.MaxInt
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int(n), true
		}
	case float32:
		return toInt(float64(n))
	}
	return 0, false
}

func hashFunc(name string, newHash func() hash.Hash) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		s, err := stringArg(name, args, 0, false)
		if err != nil {
			return nil, err
		}
		h := newHash()
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	}
}

func hmacSHA256(args ...any) (any, error) {
	key, err := stringArg("hmacSHA256", args, 0, false)
	if err != nil {
		return nil, err
	}
	msg, err := stringArg("hmacSHA256", args, 1, false)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil)), nil
}

func urlEncode(args ...any) (any, error) {
	s, err := stringArg("urlEncode", args, 0, true)
	if err != nil {
		return nil, err
	}
	// Escaping at most triples the length; check before building.
	if len(s) > MaxStringSize/3 {
		out := url.QueryEscape(s)
		if err := checkSize(len(out)); err != nil {
			return nil, err
		}
		return out, nil
	}
	return url.QueryEscape(s), nil
}

func urlDecode(args ...any) (any, error) {
	s, err := stringArg("urlDecode", args, 0, true)
	if err != nil {
		return nil, err
	}
	out, err := url.QueryUnescape(s)
	if err != nil {
		return nil, fmt.Errorf("urlDecode: %w", err)
	}
	return out, nil
}

// cleanEmail normalizes an address for comparison and deduplication. It is
// deliberately permissive (one @, a non-empty local part, a dotted domain, no
// spaces): real validation is the mail server's job, and rejecting a valid
// address is worse than accepting an odd one.
func cleanEmail(args ...any) (any, error) {
	s, err := stringArg("cleanEmail", args, 0, true)
	if err != nil {
		return nil, err
	}
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") || strings.ContainsAny(s, " \t\r\n") {
		return "", nil
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return "", nil
	}
	return s, nil
}

// cleanPhone keeps the digits of a phone number and a leading plus sign. It
// accepts numbers too, since forms often send phone numbers as JSON numbers.
func cleanPhone(args ...any) (any, error) {
	var s string
	switch v := args[0].(type) {
	case nil:
		return "", nil
	case string:
		s = v
	default:
		n, ok := toInt(v)
		if !ok || n < 0 {
			return nil, argError("cleanPhone", 0, "a string or a whole number", v)
		}
		return strconv.Itoa(n), nil
	}
	s = strings.TrimSpace(s)
	var b strings.Builder
	if strings.HasPrefix(s, "+") {
		b.WriteByte('+')
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
			digits++
		}
	}
	if digits == 0 {
		return "", nil
	}
	return b.String(), nil
}

// defaultFunc returns the fallback for nil and "". Unlike ??, it also
// replaces empty strings, which web forms send for untouched fields.
func defaultFunc(args ...any) (any, error) {
	if args[0] == nil {
		return args[1], nil
	}
	if s, ok := args[0].(string); ok && s == "" {
		return args[1], nil
	}
	return args[0], nil
}

func truncate(args ...any) (any, error) {
	s, err := stringArg("truncate", args, 0, true)
	if err != nil {
		return nil, err
	}
	n, ok := toInt(args[1])
	if !ok || n < 0 {
		return nil, argError("truncate", 1, "a non-negative whole number", args[1])
	}
	if len(s) <= n {
		return s, nil // n bytes hold at least n runes
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos], nil
		}
		i++
	}
	return s, nil
}

// number turns a number or a numeric string into a number: form bodies carry every value
// as a string, and a comparison of a string with a number is an error. Unlike expr's
// int() and float(), it trims spaces, takes "150" and "150.5" alike, and says what is
// wrong with a value it refuses. Whole numbers come out as integers, others as floats.
func number(args ...any) (any, error) {
	switch v := args[0].(type) {
	case nil:
		return nil, errors.New("number: the value is missing (nil); for a field that may be missing write number(default(x, 0))")
	case string:
		return parseNumber(v)
	case json.Number:
		return parseNumber(v.String())
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	}
	if n, ok := toInt(args[0]); ok {
		return n, nil
	}
	return nil, argError("number", 0, "a number or a numeric string", args[0])
}

// parseNumber reads decimal text: digits with an optional sign, point and exponent. Hex,
// digit separators, NaN and infinities are refused: a form never means them.
func parseNumber(text string) (any, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, errors.New("number: empty string is not a number; for a field that may be empty write number(default(x, 0))")
	}
	if strings.Trim(s, "0123456789+-.eE") == "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= math.MinInt && n <= math.MaxInt {
			return int(n), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
			return f, nil
		}
	}
	if strings.Contains(s, ",") {
		return nil, fmt.Errorf(`number: %q is not a number (write decimals with a point: replace(x, ",", "."))`, text)
	}
	return nil, fmt.Errorf("number: %q is not a number", text)
}

// timeArg accepts the time representations found in workflow data: a
// time.Time (from now() or date()), an RFC 3339 string, or unix seconds.
func timeArg(fn string, v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		parsed, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t))
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time", fn, t)
		}
		return parsed, nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) || math.Abs(t) > 1e15 {
			return time.Time{}, fmt.Errorf("%s: %v is not a unix time", fn, t)
		}
		sec, frac := math.Modf(t)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	case float32:
		return timeArg(fn, float64(t))
	}
	if n, ok := toInt(v); ok {
		return time.Unix(int64(n), 0).UTC(), nil
	}
	return time.Time{}, argError(fn, 0, "a time, an RFC 3339 string or unix seconds", v)
}

// layouts lets authors name Go's predefined layouts instead of spelling them.
var layouts = map[string]string{
	"RFC3339":     time.RFC3339,
	"RFC3339Nano": time.RFC3339Nano,
	"RFC1123":     time.RFC1123,
	"RFC1123Z":    time.RFC1123Z,
	"RFC822":      time.RFC822,
	"RFC822Z":     time.RFC822Z,
	"RFC850":      time.RFC850,
	"ANSIC":       time.ANSIC,
	"Kitchen":     time.Kitchen,
	"DateTime":    time.DateTime,
	"DateOnly":    time.DateOnly,
	"TimeOnly":    time.TimeOnly,
}

func formatDate(args ...any) (any, error) {
	t, err := timeArg("formatDate", args[0])
	if err != nil {
		return nil, err
	}
	layout, ok := args[1].(string)
	if !ok {
		return nil, argError("formatDate", 1, "a layout string", args[1])
	}
	if named, ok := layouts[layout]; ok {
		layout = named
	}
	if err := checkSize(len(layout) * 4); err != nil {
		return nil, err
	}
	return t.Format(layout), nil
}

func unixFunc(args ...any) (any, error) {
	t, err := timeArg("unix", args[0])
	if err != nil {
		return nil, err
	}
	return int(t.Unix()), nil
}

// uuidFunc returns a random (version 4) UUID from crypto/rand.
func uuidFunc(...any) (any, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:]), nil
}

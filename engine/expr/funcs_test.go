package expr

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// eval compiles and evaluates src against testEnv.
func eval(t *testing.T, src string) (any, error) {
	t.Helper()
	p, err := Compile(src)
	require.NoError(t, err)
	return p.Eval(context.Background(), testEnv())
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src     string
		want    any
		wantErr string
	}{
		// Hashes: lowercase hex of the UTF-8 bytes.
		{src: `sha256("abc")`, want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{src: `sha256("")`, want: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{src: `sha1("abc")`, want: "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{src: `md5("abc")`, want: "900150983cd24fb0d6963f7d28e17f72"},
		{src: `md5(trigger.body.name)`, want: "82e335f7ac0e0e412b2ae15abe662110"},
		{src: `sha256(trigger.body.amount)`, wantErr: "sha256: argument 1 must be a string, got number"},
		{src: `sha1(trigger.body.missing)`, wantErr: "sha1: argument 1 must be a string, got nil"},
		{src: `md5(trigger.body.tags)`, wantErr: "md5: argument 1 must be a string, got list"},
		{src: `hmacSHA256("key", "The quick brown fox jumps over the lazy dog")`, want: "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
		{src: `hmacSHA256("", "")`, want: "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
		{src: `hmacSHA256(trigger.body.amount, "x")`, wantErr: "hmacSHA256: argument 1 must be a string"},
		{src: `hmacSHA256("k", trigger.body)`, wantErr: "hmacSHA256: argument 2 must be a string, got object"},

		// URL encoding is query encoding: spaces become +.
		{src: `urlEncode("a b&c=d/é")`, want: "a+b%26c%3Dd%2F%C3%A9"},
		{src: `urlEncode("")`, want: ""},
		{src: `urlEncode(trigger.body.missing)`, want: ""},
		{src: `urlEncode(trigger.body.amount)`, wantErr: "urlEncode: argument 1 must be a string, got number"},
		{src: `urlDecode("a+b%26c%3Dd%2F%C3%A9")`, want: "a b&c=d/é"},
		{src: `urlDecode("%zz")`, wantErr: `urlDecode: invalid URL escape "%zz"`},
		{src: `urlDecode("100%")`, wantErr: "urlDecode: invalid URL escape"},
		{src: `urlDecode(trigger.body.missing)`, want: ""},

		// cleanEmail: trimmed, lowercased, or "" when not plausibly an address.
		{src: `cleanEmail(trigger.body.email)`, want: "ann@example.com"},
		{src: `cleanEmail("  BOB@Mail.Example.org")`, want: "bob@mail.example.org"},
		{src: `cleanEmail("a+tag@x.io")`, want: "a+tag@x.io"},
		{src: `cleanEmail("no-at-sign.com")`, want: ""},
		{src: `cleanEmail("two@@x.com")`, want: ""},
		{src: `cleanEmail("a@b@x.com")`, want: ""},
		{src: `cleanEmail("@x.com")`, want: ""},
		{src: `cleanEmail("a@")`, want: ""},
		{src: `cleanEmail("a@localhost")`, want: ""},
		{src: `cleanEmail("a@x.")`, want: ""},
		{src: `cleanEmail("a@.com")`, want: ""},
		{src: `cleanEmail("a@x..com")`, want: ""},
		{src: `cleanEmail("a b@x.com")`, want: ""},
		{src: `cleanEmail("")`, want: ""},
		{src: `cleanEmail(trigger.body.missing)`, want: ""},
		{src: `cleanEmail(trigger.body.amount)`, wantErr: "cleanEmail: argument 1 must be a string, got number"},

		// cleanPhone: digits, a leading + kept.
		{src: `cleanPhone("+7 (999) 000-00-00")`, want: "+79990000000"},
		{src: `cleanPhone("8 999 000 00 00")`, want: "89990000000"},
		{src: `cleanPhone("  +1-555-0100 ext")`, want: "+15550100"},
		{src: `cleanPhone("tel: 12+34")`, want: "1234"},
		{src: `cleanPhone("no digits")`, want: ""},
		{src: `cleanPhone("+")`, want: ""},
		{src: `cleanPhone("")`, want: ""},
		{src: `cleanPhone(trigger.body.missing)`, want: ""},
		{src: `cleanPhone(trigger.body.amount)`, want: "1500"},
		{src: `cleanPhone(79990000000)`, want: "79990000000"},
		{src: `cleanPhone(1.5)`, wantErr: "cleanPhone: argument 1 must be a string or a whole number"},
		{src: `cleanPhone(trigger.body.tags)`, wantErr: "cleanPhone: argument 1 must be a string or a whole number, got list"},

		// default: fallback for nil and "", anything else kept.
		{src: `default(trigger.body.missing, "n/a")`, want: "n/a"},
		{src: `default(trigger.body.none, 1)`, want: 1},
		{src: `default(trigger.body.empty, "n/a")`, want: "n/a"},
		{src: `default(trigger.body.name, "n/a")`, want: "Ann"},
		{src: `default(0, 5)`, want: 0},
		{src: `default(false, true)`, want: false},
		{src: `default([], [1])`, want: []any{}},
		{src: `trigger.body.empty ?? "n/a"`, want: ""}, // the difference from ??

		// number: a number, or a numeric string as form bodies send them.
		{src: `number("150")`, want: 150},
		{src: `number(" -3 ")`, want: -3},
		{src: `number("+7")`, want: 7},
		{src: `number("150.5")`, want: 150.5},
		{src: `number(".5")`, want: 0.5},
		{src: `number("1e3")`, want: 1000.0},
		{src: `number("12345678901234567890")`, want: 1.2345678901234567e19},
		{src: `number(trigger.body.amount)`, want: 1500},
		{src: `number(trigger.body.price)`, want: 1500.5},
		{src: `number(7)`, want: 7},
		{src: `number("150") > 100`, want: true},
		{src: `number("99.9") > 100`, want: false},
		{src: `number("150") == 150`, want: true},
		{src: `number(default(trigger.body.empty, 0)) > 100`, want: false},
		{src: `number(trigger.body.empty)`, wantErr: "number: empty string is not a number; for a field that may be empty write number(default(x, 0))"},
		{src: `number("  ")`, wantErr: "number: empty string is not a number"},
		{src: `number(trigger.body.none)`, wantErr: "number: the value is missing (nil); for a field that may be missing write number(default(x, 0))"},
		{src: `number("abc")`, wantErr: `number: "abc" is not a number`},
		{src: `number("150,50")`, wantErr: `number: "150,50" is not a number (write decimals with a point: replace(x, ",", "."))`},
		{src: `number("1_000")`, wantErr: `number: "1_000" is not a number`},
		{src: `number("0x10")`, wantErr: `number: "0x10" is not a number`},
		{src: `number("NaN")`, wantErr: `number: "NaN" is not a number`},
		{src: `number("Inf")`, wantErr: `number: "Inf" is not a number`},
		{src: `number("1e999")`, wantErr: `number: "1e999" is not a number`},
		{src: `number(trigger.body.vip)`, wantErr: "number: argument 1 must be a number or a numeric string, got bool"},
		{src: `number(trigger.body.tags)`, wantErr: "number: argument 1 must be a number or a numeric string, got list"},

		// int and float, expr's own conversions, for comparison: int takes only whole
		// numbers, neither trims spaces nor takes "".
		{src: `int("150")`, want: 150},
		{src: `int("150.5")`, wantErr: "invalid operation: int(150.5)"},
		{src: `int("")`, wantErr: "invalid operation: int()"},
		{src: `float("150.5")`, want: 150.5},
		{src: `float(" 150")`, wantErr: "invalid operation: float( 150)"},
		{src: `trigger.body.empty > 100`, wantErr: "invalid operation: string > int"},

		// truncate: at most n runes.
		{src: `truncate("hello", 3)`, want: "hel"},
		{src: `truncate("hello", 5)`, want: "hello"},
		{src: `truncate("hello", 10)`, want: "hello"},
		{src: `truncate("привет мир", 6)`, want: "привет"},
		{src: `truncate("日本語", 2)`, want: "日本"},
		{src: `truncate("hello", 0)`, want: ""},
		{src: `truncate(trigger.body.missing, 3)`, want: ""},
		{src: `truncate("hello", trigger.body.amount)`, want: "hello"},
		{src: `truncate("hello", -1)`, wantErr: "truncate: argument 2 must be a non-negative whole number, got number"},
		{src: `truncate("hello", 1.5)`, wantErr: "truncate: argument 2 must be a non-negative whole number"},
		{src: `truncate("hello", "3")`, wantErr: "truncate: argument 2 must be a non-negative whole number, got string"},
		{src: `truncate(trigger.body.amount, 3)`, wantErr: "truncate: argument 1 must be a string"},

		// formatDate and unix accept times, RFC 3339 strings and unix seconds.
		{src: `formatDate("2024-05-01T10:20:30Z", "2006-01-02 15:04")`, want: "2024-05-01 10:20"},
		{src: `formatDate("2024-05-01T10:20:30+03:00", "15:04 -07:00")`, want: "10:20 +03:00"},
		{src: `formatDate("2024-05-01T10:20:30.5Z", "RFC3339Nano")`, want: "2024-05-01T10:20:30.5Z"},
		{src: `formatDate(1714558830, "DateTime")`, want: "2024-05-01 10:20:30"},
		{src: `formatDate(1714558830.25, "15:04:05.00")`, want: "10:20:30.25"},
		{src: `formatDate(date("2024-05-01"), "DateOnly")`, want: "2024-05-01"},
		{src: `formatDate(date("2024-05-01T10:00:00Z").In(timezone("Asia/Tokyo")), "15:04")`, want: "19:00"},
		{src: `formatDate(trigger.received_at, "Jan 2")`, want: "May 1"},
		{src: `formatDate("yesterday", "DateOnly")`, wantErr: `formatDate: "yesterday" is not an RFC 3339 time`},
		{src: `formatDate(trigger.body.missing, "DateOnly")`, wantErr: "formatDate: argument 1 must be a time, an RFC 3339 string or unix seconds, got nil"},
		{src: `formatDate(trigger.body.tags, "DateOnly")`, wantErr: "got list"},
		{src: `formatDate("2024-05-01T10:20:30Z", trigger.body.amount)`, wantErr: "formatDate: argument 2 must be a layout string, got number"},
		{src: `unix("2024-05-01T10:20:30Z")`, want: 1714558830},
		{src: `unix("2024-05-01T13:20:30+03:00")`, want: 1714558830},
		{src: `unix(date("2024-05-01T10:20:30Z"))`, want: 1714558830},
		{src: `unix(1714558830)`, want: 1714558830},
		{src: `unix(1714558830.9)`, want: 1714558830},
		{src: `unix(trigger.body.amount)`, want: 1500},
		{src: `unix(0)`, want: 0},
		{src: `unix("")`, wantErr: `unix: "" is not an RFC 3339 time`},
		{src: `unix(true)`, wantErr: "unix: argument 1 must be a time"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			got, err := eval(t, tt.src)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestUUID(t *testing.T) {
	t.Parallel()
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[any]bool{}
	for range 100 {
		got, err := eval(t, "uuid()")
		require.NoError(t, err)
		require.Regexp(t, v4, got)
		require.False(t, seen[got], "duplicate uuid")
		seen[got] = true
	}
}

func TestFormatDateNow(t *testing.T) {
	t.Parallel()
	got, err := eval(t, `formatDate(now(), "2006")`)
	require.NoError(t, err)
	require.Equal(t, time.Now().Format("2006"), got)
	got, err = eval(t, `unix(now()) > 1700000000`)
	require.NoError(t, err)
	require.Equal(t, true, got)
}

// TestHelpersNeverPanic calls every helper directly, with the arity the
// checker enforces, and each kind of argument a workflow can produce.
func TestHelpersNeverPanic(t *testing.T) {
	t.Parallel()
	values := []any{nil, "", "x", "2024-05-01T10:00:00Z", true, 0, -1, int64(3), 2.5, math.NaN(), float32(1),
		uint64(1 << 63), []any{"a", 1}, []string{"a"}, map[string]any{"a": 1}, time.Now(), time.Second, struct{}{}}
	fns := []helper{{"concat", concat, []any{new(func(any, any) any)}}}
	fns = append(fns, helpers...)
	for _, h := range fns {
		arity := reflect.TypeOf(h.types[0]).Elem().NumIn()
		var call func(args []any)
		call = func(args []any) {
			if len(args) == arity {
				require.NotPanics(t, func() { _, _ = h.fn(args...) }, "%s%v", h.name, args)
				return
			}
			for _, v := range values {
				call(append(args[:len(args):len(args)], v))
			}
		}
		call(nil)
	}
}

// TestBuiltinOverridesWithBadArguments checks that the size-checked
// builtins report wrong argument types as errors, like expr's originals.
func TestBuiltinOverridesWithBadArguments(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"repeat(trigger.body.amount, 2)",
		"repeat('x', trigger.body.name)",
		"replace(trigger.body.amount, 'a', 'b')",
		"replace('abc', trigger.body.tags, 'b')",
		"join(trigger.body.items, ',')",
		"join(trigger.body.tags, trigger.body.amount)",
		"toBase64(trigger.body.amount)",
		"toJSON(trigger.body.price / 0 * 0)",
	} {
		got, err := eval(t, src)
		require.Error(t, err, src)
		require.Nil(t, got, src)
	}
	got, err := eval(t, "string(trigger.body.tags)")
	require.NoError(t, err)
	require.Equal(t, "[a b]", got)
}

// TestHelpersAreListedAndDocumented keeps Helpers, the helper table and the
// user reference in docs/expressions.md in sync.
func TestHelpersAreListedAndDocumented(t *testing.T) {
	t.Parallel()
	names := make([]string, len(helpers))
	for i, h := range helpers {
		names[i] = h.name
	}
	require.Equal(t, Helpers, names)

	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "expressions.md"))
	require.NoError(t, err)
	for _, name := range Helpers {
		require.Contains(t, string(doc), "| `"+name+"(", "docs/expressions.md has no table row for %s", name)
	}
}

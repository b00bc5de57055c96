package connectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// NormalizeNumbers converts the json.Number values of a decoded tree into int64 when
// integral and float64 otherwise, so that expressions compare them as numbers. Integers
// too large for int64 stay exact as their decimal text rather than losing digits.
func NormalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if !strings.ContainsAny(string(x), ".eE") {
			return string(x)
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case map[string]any:
		for k, e := range x {
			x[k] = NormalizeNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = NormalizeNumbers(e)
		}
		return x
	}
	return v
}

// DecodeJSON decodes one JSON document keeping numbers exact (see NormalizeNumbers).
// Trailing data after the document is an error.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the JSON document at offset %d", dec.InputOffset())
	}
	return NormalizeNumbers(v), nil
}

// RoundTrip passes a value through JSON, so that what a connector reads is only what
// encoding/json produces (map[string]any, []any, string, bool, json.Number, nil),
// whatever Go types the engine's expressions or a test put in an input.
func RoundTrip(v any) (any, error) {
	if out, ok := plainCopy(v, 0); ok {
		return out, nil
	}
	return encodedRoundTrip(v)
}

// encodedRoundTrip is RoundTrip through encoding/json, for any value.
func encodedRoundTrip(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// ScalarText writes a string, a json.Number or a boolean as text, as it goes in a query
// string or a header.
func ScalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// Int64 reads a whole number of any of the types inputs and settings arrive as (Go
// integers, float64 from JSON, json.Number); fractions, overflow and other types are
// not ok.
func Int64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), uint64(n) <= math.MaxInt64
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float32:
		return Int64(float64(n))
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// plainCopy is RoundTrip without the encoding for the values expressions produce (maps
// of strings, slices, strings, numbers, booleans, nil): a copy with every number as the
// json.Number its JSON text would decode to. ok is false for anything else (structs,
// typed maps, invalid UTF-8, deep nesting), which RoundTrip then encodes.
func plainCopy(v any, depth int) (any, bool) {
	if depth > 100 {
		return nil, false
	}
	switch x := v.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case json.Number:
		return x, plainNumber(string(x))
	case int:
		return json.Number(strconv.Itoa(x)), true
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), true
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), true
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), true
	case float64, float32:
		data, err := json.Marshal(x) // its formatting rules (exponents, -0) are encoding/json's
		if err != nil {
			return nil, false
		}
		return json.Number(data), true
	case map[string]any:
		if x == nil {
			return nil, true // encoded as null
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false
			}
			c, ok := plainCopy(e, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		if x == nil {
			return nil, true // encoded as null
		}
		out := make([]any, len(x))
		for i, e := range x {
			c, ok := plainCopy(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	}
	return nil, false
}

// plainNumber reports whether s is a JSON number as encoding/json writes it unchanged.
func plainNumber(s string) bool {
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	return json.Valid([]byte(s))
}

package body

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// fuzzOptions are small limits, so the fuzzer reaches them.
var fuzzOptions = Options{MaxFileBytes: 8, MaxFields: 16, MaxDepth: 4}

// FuzzParseForm checks that any input either errors or gives a value that
// encodes as JSON, holds only valid UTF-8 and is the same on every parse.
func FuzzParseForm(f *testing.F) {
	for _, file := range goldenFiles(f) {
		in, _, _ := readGolden(f, file)
		if strings.HasPrefix(in.contentType, "application/x-www-form-urlencoded") {
			f.Add(string(in.body))
		}
	}
	f.Add("a[]=1&a[][b]=2&a=3&a[9]=4&a[99999999999999999999]=5&[=&]=")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, opts := range []Options{{}, fuzzOptions} {
			got, _, err := ParseForm(raw, opts)
			if err != nil {
				continue
			}
			_, err = json.Marshal(got)
			require.NoError(t, err)
			requireValidStrings(t, got)
			again, _, err := ParseForm(raw, opts)
			require.NoError(t, err)
			require.Equal(t, got, again)
		}
	})
}

// FuzzDecode checks that Decode never panics over any content type and body,
// and that its Result encodes as JSON and keeps its promises.
func FuzzDecode(f *testing.F) {
	for _, file := range goldenFiles(f) {
		in, _, _ := readGolden(f, file)
		f.Add(in.contentType, in.body)
	}
	f.Fuzz(func(t *testing.T, contentType string, raw []byte) {
		for _, opts := range []Options{{}, fuzzOptions} {
			r := Decode(contentType, raw, opts)
			require.Contains(t, []string{FormatNone, FormatJSON, FormatForm, FormatMultipart, FormatXML, FormatText}, r.Format)
			require.Equal(t, len(raw) == 0, r.Format == FormatNone)
			if r.Malformed && r.Format != FormatNone {
				require.IsType(t, "", r.Value)
			}
			_, err := json.Marshal(r)
			require.NoError(t, err)
			requireValidStrings(t, r.Value)
		}
	})
}

// requireValidStrings fails when a string or object key in v is not valid UTF-8,
// or v holds a type that decoded bodies never contain.
func requireValidStrings(t *testing.T, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil, bool, int64, float64:
	case string:
		require.True(t, utf8.ValidString(x), "invalid UTF-8 in %q", x)
	case []any:
		for _, e := range x {
			requireValidStrings(t, e)
		}
	case map[string]any:
		for k, e := range x {
			require.True(t, utf8.ValidString(k), "invalid UTF-8 in key %q", k)
			requireValidStrings(t, e)
		}
	default:
		require.Fail(t, fmt.Sprintf("unexpected %T in a decoded body", v))
	}
}

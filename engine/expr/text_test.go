package expr

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// encoderSamples are values the encoder must write exactly like
// encoding/json does.
var encoderSamples = []any{
	nil, true, false, 0, -7, int64(1) << 60, uint8(7), 1.5, 100.0, 0.1, 1e20, 1e21, 1e-6, 1e-7, -2.5e-10, float32(0.1),
	"", "plain", "quote\" backslash\\ slash/", "ctl\x00\x01\x1f\b\f\n\r\t", "<html>&amp;", "é 日本 🙂",
	"bad utf8 \xff\xfe", "line sep \u2028 para \u2029",
	[]any{}, map[string]any{}, []any{1, "a", nil, []any{true}},
	map[string]any{"b": 1, "a": map[string]any{"z": []any{}, "y": map[string]any{}}, "": "empty key", "ü": "x"},
	[]string{"a", "b"}, []int{1, 2}, []float64{1.5}, map[string]string{"k": "v"}, map[string]int{"x": 1},
	map[int]string{2: "b", 10: "a"}, []byte("bytes"), (*int)(nil), []any(nil), map[string]any(nil),
	time.Date(2024, 5, 1, 10, 0, 0, 500, time.UTC), time.Second, json.Number("12.50"),
	struct {
		A int    `json:"a"`
		B []int  `json:"b"`
		C string `json:"-"`
	}{1, []int{2}, "hidden"},
	[]any{map[string]any{"nested": []any{map[string]any{"deep": 1}}}},
}

func TestEncoderMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, v := range encoderSamples {
		// Compact, without HTML escaping: the template text form.
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		got, err := encodeJSON(v, "", false)
		require.NoError(t, err, "%#v", v)
		require.Equal(t, string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))), got, "%#v", v)

		// Indented and HTML-escaped: expr's toJSON.
		indented, err := json.MarshalIndent(v, "", "  ")
		require.NoError(t, err)
		got, err = encodeJSON(v, "  ", true)
		require.NoError(t, err, "%#v", v)
		require.Equal(t, string(indented), got, "%#v", v)
	}
}

func TestEncoderErrors(t *testing.T) {
	t.Parallel()
	_, err := encodeJSON(math.NaN(), "", false)
	require.ErrorContains(t, err, "unsupported value: NaN")
	_, err = encodeJSON([]any{math.Inf(1)}, "", false)
	require.ErrorContains(t, err, "unsupported value: +Inf")

	loop := []any{nil}
	loop[0] = loop
	_, err = encodeJSON(loop, "", false)
	require.ErrorContains(t, err, "nested deeper than")

	_, err = encodeJSON(map[string]any{"f": func() {}}, "", false)
	require.ErrorContains(t, err, "unsupported type")
}

func TestEncoderStopsAtLimit(t *testing.T) {
	t.Parallel()
	big := string(make([]byte, 1<<20))
	list := make([]any, 1000)
	for i := range list {
		list[i] = big // a gigabyte of output from a megabyte of memory
	}
	e := encoder{limit: 4 << 20}
	require.ErrorIs(t, e.value(list, ""), errTooLong)
	require.LessOrEqual(t, len(e.buf), 16<<20, "stops near the limit instead of encoding everything")

	_, err := encodeJSON(list, "", false)
	require.ErrorIs(t, err, ErrMemoryBudget)
}

func TestAppendText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"s", "s"},
		{[]byte("b"), "b"},
		{true, "true"},
		{42, "42"},
		{int64(-42), "-42"},
		{int8(8), "8"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{1500.5, "1500.5"},
		{100.0, "100"},
		{1e20, "100000000000000000000"},
		{1e21, "1e+21"},
		{1e-7, "1e-7"},
		{float32(0.1), "0.1"},
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Inf"},
		{json.Number("1.50"), "1.50"},
		{time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), "2024-05-01T10:00:00Z"},
		{90 * time.Minute, "1h30m0s"},
		{[]any{1, "a"}, `[1,"a"]`},
		{map[string]any{"a": "<b>"}, `{"a":"<b>"}`},
		{map[any][]any{1: {"x"}}, `{"1":["x"]}`},
	}
	for _, tt := range tests {
		got, err := appendText(nil, tt.in, MaxStringSize)
		require.NoError(t, err, "%#v", tt.in)
		require.Equal(t, tt.want, string(got), "%#v", tt.in)
	}
}

func TestStoredJSON(t *testing.T) {
	t.Parallel()
	v := map[string]any{"b": []any{"x<y", 1.5, nil}, "a": true}
	text, size, err := StoredJSON(v, 100)
	require.NoError(t, err)
	require.Equal(t, `{"a":true,"b":["x<y",1.5,null]}`, text)
	require.EqualValues(t, len(text), size)

	text, size, err = StoredJSON(v, 10)
	require.NoError(t, err)
	require.LessOrEqual(t, len(text), 10)
	require.True(t, strings.HasPrefix(`{"a":true,"b":["x<y",1.5,null]}`, text), text)
	require.EqualValues(t, 31, size)

	// One 1 MB string referenced 64 times measures 64 MB without building it.
	s := strings.Repeat("x", 1<<20)
	list := make([]any, 64)
	for i := range list {
		list[i] = s
	}
	text, size, err = StoredJSON(list, 1000)
	require.NoError(t, err)
	require.Len(t, text, 1000)
	require.EqualValues(t, 64*(1<<20+2)+63+2, size)
}

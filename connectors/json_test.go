package connectors

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    any
		wantErr bool
	}{
		{name: "small int", in: `1`, want: int64(1)},
		{name: "int beyond float precision", in: `9007199254740993`, want: int64(9007199254740993)},
		{name: "negative chat id", in: `-1001234567890`, want: int64(-1001234567890)},
		{name: "float", in: `1.25`, want: 1.25},
		{name: "exponent", in: `1e3`, want: 1000.0},
		{name: "int beyond int64 keeps its digits", in: `123456789012345678901234`, want: "123456789012345678901234"},
		{name: "nested", in: `{"a":[1,{"b":2.5}]}`, want: map[string]any{"a": []any{int64(1), map[string]any{"b": 2.5}}}},
		{name: "string", in: `"x"`, want: "x"},
		{name: "trailing space", in: `{"a":1}   `, want: map[string]any{"a": int64(1)}},
		{name: "trailing data", in: `1 2`, wantErr: true},
		{name: "two documents", in: `{"a":1} {"b":2}`, wantErr: true},
		{name: "invalid", in: `{`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeJSON([]byte(tt.in))
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestRoundTripShortcutAgrees: for the values expressions produce, RoundTrip's copy
// without encoding gives exactly what encoding and decoding give; for anything else it
// takes the encoding path.
func TestRoundTripShortcutAgrees(t *testing.T) {
	t.Parallel()
	type custom struct{ A int }
	values := []any{
		nil, true, "text", "<&>", "", int(-5), int64(1) << 60, int32(7), uint64(1) << 63, 1.5, math.Copysign(0, -1), 1e21, 1e-7,
		float32(0.1), 3.0, json.Number("12"), json.Number("-1.5e3"), map[string]any(nil), []any(nil),
		map[string]any{"id": int64(3), "nested": map[string]any{"list": []any{"a", 2.25, nil, false}}},
		[]any{map[string]any{}, []any{}, "x"},
		// Not plain: the encoding path decides (replacement characters, errors, structs).
		"bad \xff utf-8", map[string]any{"k\xfe": 1}, json.Number(" 1"), json.Number("01"), json.Number(""),
		math.NaN(), custom{A: 1}, map[string]int{"a": 1}, []string{"a"}, map[string]any{"deep": []any{custom{}}},
	}
	for _, v := range values {
		want, wantErr := encodedRoundTrip(v)
		got, err := RoundTrip(v)
		if wantErr != nil {
			require.Error(t, err, "%#v", v)
			continue
		}
		require.NoError(t, err, "%#v", v)
		require.Equal(t, want, got, "%#v", v)
	}
	// A copy: changing it leaves the input alone.
	in := map[string]any{"a": []any{"x"}}
	out, err := RoundTrip(in)
	require.NoError(t, err)
	out.(map[string]any)["a"].([]any)[0] = "y"
	require.Equal(t, "x", in["a"].([]any)[0])
}

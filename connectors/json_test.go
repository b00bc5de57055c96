package connectors

import (
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

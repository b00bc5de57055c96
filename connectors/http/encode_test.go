package http

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEncodeForm(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      map[string]any
		want    string
		wantErr string
	}{
		{name: "empty", in: map[string]any{}, want: ""},
		{name: "flat sorted", in: map[string]any{"b": "2", "a": "1"}, want: "a=1&b=2"},
		{name: "escaping", in: map[string]any{"q": "a b&c=d"}, want: "q=a+b%26c%3Dd"},
		{name: "scalars", in: map[string]any{"n": json.Number("1.50"), "t": true, "f": false}, want: "f=false&n=1.50&t=true"},
		{name: "nested object", in: map[string]any{"a": map[string]any{"b": "x"}}, want: "a%5Bb%5D=x"},
		{name: "list", in: map[string]any{"a": []any{"x", "y"}}, want: "a%5B0%5D=x&a%5B1%5D=y"},
		{name: "deep", in: map[string]any{"leads": map[string]any{"add": []any{map[string]any{"id": json.Number("7")}}}}, want: "leads%5Badd%5D%5B0%5D%5Bid%5D=7"},
		{name: "nulls and empties skipped", in: map[string]any{"a": nil, "b": map[string]any{}, "c": []any{}, "d": "1"}, want: "d=1"},
		{name: "unsupported value", in: map[string]any{"a": struct{}{}}, wantErr: `form field "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := encodeForm(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEncodeQuery(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      map[string]any
		want    string
		wantErr string
	}{
		{name: "empty", in: map[string]any{}, want: ""},
		{name: "scalars sorted", in: map[string]any{"b": json.Number("2"), "a": "x y", "c": true}, want: "a=x+y&b=2&c=true"},
		{name: "repeated", in: map[string]any{"tag": []any{"a", "b"}}, want: "tag=a&tag=b"},
		{name: "empty list", in: map[string]any{"tag": []any{}}, want: ""},
		{name: "null skipped", in: map[string]any{"a": nil, "b": "1"}, want: "b=1"},
		{name: "empty string kept", in: map[string]any{"a": ""}, want: "a="},
		{name: "object refused", in: map[string]any{"a": map[string]any{}}, wantErr: `query parameter "a"`},
		{name: "object in list refused", in: map[string]any{"a": []any{map[string]any{}}}, wantErr: `query parameter "a" element 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := encodeQuery(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestWithQuery(t *testing.T) {
	t.Parallel()

	tests := []struct {
		url, query, want string
	}{
		{"https://a.test/x", "", "https://a.test/x"},
		{"https://a.test/x", "a=1", "https://a.test/x?a=1"},
		{"https://a.test/x?b=2", "a=1", "https://a.test/x?b=2&a=1"},
		{"https://a.test/x?", "a=1", "https://a.test/x?a=1"},
		{"https://a.test/x?b=2&", "a=1", "https://a.test/x?b=2&a=1"},
		{"https://a.test/x#frag", "a=1", "https://a.test/x?a=1#frag"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, withQuery(tt.url, tt.query))
		})
	}
}

func TestRedactValue(t *testing.T) {
	t.Parallel()

	redact := func(s string) string {
		if s == "secret" {
			return "******"
		}
		return s
	}
	in := map[string]any{"a": "secret", "secret": []any{"secret", int64(1), nil, true}}
	require.Equal(t, map[string]any{"a": "******", "******": []any{"******", int64(1), nil, true}}, redactValue(in, redact))
	require.Equal(t, "secret", in["a"], "the input is not modified")
}

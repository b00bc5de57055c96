package body

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseFormAmoCRMShape(t *testing.T) {
	t.Parallel()
	got, truncated, err := ParseForm("leads[add][0][id]=1&leads[add][0][name]=x&account[subdomain]=y", Options{})
	require.NoError(t, err)
	require.False(t, truncated)
	require.Equal(t, map[string]any{
		"leads":   map[string]any{"add": []any{map[string]any{"id": "1", "name": "x"}}},
		"account": map[string]any{"subdomain": "y"},
	}, got)
}

func TestParseFormRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw string
		want      map[string]any
	}{
		{"empty", "", map[string]any{}},
		{"only separators", "&&&", map[string]any{}},
		{"append", "a[]=1&a[]=2", map[string]any{"a": []any{"1", "2"}}},
		{"append objects", "a[][x]=1&a[][x]=2", map[string]any{"a": []any{map[string]any{"x": "1"}, map[string]any{"x": "2"}}}},
		{"append after index", "a[3]=x&a[]=y", map[string]any{"a": map[string]any{"3": "x", "4": "y"}}},
		{"indexes out of order", "a[1]=y&a[0]=x", map[string]any{"a": []any{"x", "y"}}},
		{"sparse index", "a[5]=x", map[string]any{"a": map[string]any{"5": "x"}}},
		{"non-canonical index", "a[00]=x", map[string]any{"a": map[string]any{"00": "x"}}},
		{"repeated key", "x=1&x=2", map[string]any{"x": []any{"1", "2"}}},
		{"scalar then container", "a=1&a[b]=2", map[string]any{"a": map[string]any{"": "1", "b": "2"}}},
		{"container then scalar", "a[b]=2&a=1", map[string]any{"a": map[string]any{"": "1", "b": "2"}}},
		{"scalar beside list", "a[0]=x&a=y", map[string]any{"a": map[string]any{"": "y", "0": "x"}}},
		{"unclosed bracket", "a[b=1", map[string]any{"a[b": "1"}},
		{"text after brackets", "a[b]c=1", map[string]any{"a[b]c": "1"}},
		{"no base name", "[a]=1", map[string]any{"[a]": "1"}},
		{"bracket in key", "a[b[c]]=1", map[string]any{"a[b[c]]": "1"}},
		{"encoded brackets", "a%5Bb%5D=1", map[string]any{"a": map[string]any{"b": "1"}}},
		{"plus is space", "a+b=c+d", map[string]any{"a b": "c d"}},
		{"no equals sign", "flag", map[string]any{"flag": ""}},
		{"value with equals", "a=b=c", map[string]any{"a": "b=c"}},
		{"semicolon is literal", "a=1;b=2", map[string]any{"a": "1;b=2"}},
		{"invalid utf-8 replaced", "a=%FFx", map[string]any{"a": "\uFFFDx"}},
		{"huge index stays a key", "a[123456789012345678901]=x&a[]=y", map[string]any{"a": map[string]any{"123456789012345678901": "x", "0": "y"}}},
		{"append past long index", "a[999999999999999999]=x&a[]=y&a[]=z", map[string]any{"a": map[string]any{
			"999999999999999999": "x", "1000000000000000000": "y", "1000000000000000001": "z"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, truncated, err := ParseForm(tc.raw, Options{})
			require.NoError(t, err)
			require.False(t, truncated)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseFormLimits(t *testing.T) {
	t.Parallel()

	got, truncated, err := ParseForm("a=1&b=2&c=3", Options{MaxFields: 2})
	require.NoError(t, err)
	require.True(t, truncated)
	require.Equal(t, map[string]any{"a": "1", "b": "2"}, got)

	got, truncated, err = ParseForm("a=1&b=2&&", Options{MaxFields: 2})
	require.NoError(t, err)
	require.False(t, truncated, "empty pairs after the last field are not fields")
	require.Equal(t, map[string]any{"a": "1", "b": "2"}, got)

	deep := "a" + strings.Repeat("[x]", MaxDepthDefault)
	got, _, err = ParseForm(deep+"=1&"+deep+"[y]=2", Options{})
	require.NoError(t, err)
	require.Equal(t, "2", got[deep+"[y]"], "a name deeper than MaxDepth is a literal key")
	inner := got["a"]
	for range MaxDepthDefault {
		inner = inner.(map[string]any)["x"]
	}
	require.Equal(t, "1", inner)

	many := strings.Repeat("k[]=v&", MaxFieldsDefault+5)
	got, truncated, err = ParseForm(many, Options{})
	require.NoError(t, err)
	require.True(t, truncated)
	require.Len(t, got["k"], MaxFieldsDefault)
}

func TestParseFormErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"a=%zz", "%zz=1", "a=%", "a=1&b=%4"} {
		_, _, err := ParseForm(raw, Options{})
		var escErr url.EscapeError
		require.ErrorAs(t, err, &escErr, raw)
		require.Contains(t, err.Error(), "decode ")
	}
}

package workflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckDuplicateKeys(t *testing.T) {
	t.Parallel()
	for doc, want := range map[string]string{
		`{"a":1,"b":2}`:                                    "",
		`{"a":1,"a":2}`:                                    `duplicate key "a" at the top level`,
		`{"a":{"x":1},"b":{"x":1}}`:                        "",
		`{"steps":[{"id":"a"},{"id":"b","id":"c"}]}`:       `duplicate key "id" in steps[1]`,
		`{"s":[{"with":{"url":1,"u":[1,{"k":1,"k":2}]}}]}`: `duplicate key "k" in s[0].with.u[1]`,
		`{"h":{"X-A":1,"X-A":2}}`:                          `duplicate key "X-A" in h`,
		`{"a":"a","b":"a"}`:                                "",
		`[{"a":1},{"a":1}]`:                                "",
		`{"a":[1,2],"b":{"a":[]},"c":"x","c":1}`:           `duplicate key "c" at the top level`,
		`{"a":1,`:                                          "",
		`"x"`:                                              "",
	} {
		err := CheckDuplicateKeys([]byte(doc))
		if want == "" {
			require.NoError(t, err, doc)
			continue
		}
		require.EqualError(t, err, want, doc)
	}
}

// TestParseRefusesDuplicateKeys: `hookflow validate` and the engine see the same rule as
// the API.
func TestParseRefusesDuplicateKeys(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`{"name":"a","trigger":{"type":"webhook","type":"schedule"},"steps":[]}`))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Errors, 1)
	require.Equal(t, "trigger.type", ve.Errors[0].Path)
	require.Contains(t, ve.Errors[0].Message, "appears twice")
}

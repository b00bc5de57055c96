package declarative

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLintWarnings(t *testing.T) {
	t.Parallel()
	src := readSource(t, filepath.Join("testdata", "parse", "lint", "warnings.yaml"))
	def, warnings, err := Lint(src)
	require.NoError(t, err)
	require.Equal(t, "warnings", def.File.Name)
	type want struct {
		path string
		line int
		msg  string
	}
	wants := []want{
		{"connection", 7, "no connection test"},
		{"actions.create", 12, "the action has no description"},
		{"actions.create.request.method", 16, "POST without idempotency: retries may act twice; add idempotency if the service supports it"},
		{"actions.replace.request.method", 22, "PUT without idempotency"},
		{"triggers.listed", 29, "the trigger has neither a cursor nor pagination"},
		{"triggers.listed", 29, "the trigger has no description"},
		{"triggers.paged.pagination.stop", 41, "short_page loses records"},
		{"triggers.paged.pagination.max_pages", 41, "max_pages 500"},
	}
	require.Len(t, warnings, len(wants), "warnings: %v", warnings)
	for i, w := range wants {
		require.Equal(t, w.path, warnings[i].Path, "warning %d: %v", i, warnings[i])
		require.Equal(t, w.line, warnings[i].Line, "warning %d: %v", i, warnings[i])
		require.Contains(t, warnings[i].Message, w.msg, "warning %d", i)
	}
	// Warnings do not stop loading.
	parsed, err := Parse(src)
	require.NoError(t, err)
	require.Equal(t, def.File, parsed.File)
}

func TestLintNoActionsNoTriggers(t *testing.T) {
	t.Parallel()
	_, warnings, err := Lint(Source{Path: "f", Data: []byte(minimal + "  test: {path: /}\n")})
	require.NoError(t, err)
	require.Equal(t, []Problem{{Path: "", Line: 1, Column: 1, Message: "the connector has no actions and no triggers"}}, warnings)
}

// The complete example has nothing to warn about.
func TestLintCleanFile(t *testing.T) {
	t.Parallel()
	def, warnings, err := Lint(readSource(t, filepath.Join("testdata", "parse", "valid", "moysklad_full.yaml")))
	require.NoError(t, err)
	require.NotNil(t, def)
	require.Empty(t, warnings)
}

func TestLintBrokenFile(t *testing.T) {
	t.Parallel()
	def, warnings, err := Lint(readSource(t, filepath.Join("testdata", "parse", "invalid", "unknown_key.yaml")))
	require.Nil(t, def)
	require.Nil(t, warnings)
	var le *LoadError
	require.True(t, errors.As(err, &le))
	require.Len(t, le.Problems, 2)
}

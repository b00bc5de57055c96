package body

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files in testdata")

// goldenSeparator divides a golden file's input from its expected output.
const goldenSeparator = "\n----\n"

// goldenOptions are the Options of the golden cases that do not use the
// defaults, by file name, so that limits can be shown with small bodies.
var goldenOptions = map[string]Options{
	"multipart_fields_files.txt": {MaxFileBytes: 16},
	"form_max_fields.txt":        {MaxFields: 3},
	"form_max_depth.txt":         {MaxDepth: 2},
}

// goldenCase is the input of a golden file.
type goldenCase struct {
	contentType string
	body        []byte
}

// readGolden splits a golden file into its input and expected output. The first
// line is "Content-Type: <type>", the body follows up to a line "----", and the
// expected Result comes after it. A multipart body is written with LF line ends
// and sent with CRLF, as clients send it.
func readGolden(t testing.TB, file string) (goldenCase, string, string) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	input, want, found := cutLast(string(data), goldenSeparator)
	require.True(t, found, "%s needs a %q separator line", file, strings.TrimSpace(goldenSeparator))
	header, raw, _ := strings.Cut(input, "\n")
	contentType, ok := strings.CutPrefix(header, "Content-Type:")
	require.True(t, ok, "%s must start with a Content-Type: line", file)
	contentType = strings.TrimSpace(contentType)
	if strings.HasPrefix(contentType, "multipart/") {
		raw = strings.ReplaceAll(raw, "\n", "\r\n")
	}
	return goldenCase{contentType: contentType, body: []byte(raw)}, input, want
}

// cutLast is strings.Cut at the last occurrence of sep, so a body may contain a
// line "----" of its own.
func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// goldenFiles lists testdata/*.txt.
func goldenFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// encodeResult renders a Result as the golden files hold it: indented JSON,
// object keys sorted, HTML characters not escaped.
func encodeResult(t testing.TB, r Result) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(map[string]any{
		"format": r.Format, "value": r.Value, "malformed": r.Malformed, "truncated": r.Truncated,
	}))
	return buf.String()
}

// TestGolden decodes each testdata/*.txt case and compares the Result with the
// expected JSON. Run with -update to rewrite the expected output.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, file := range goldenFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			in, input, want := readGolden(t, file)
			got := encodeResult(t, Decode(in.contentType, in.body, goldenOptions[filepath.Base(file)]))
			if *update {
				require.NoError(t, os.WriteFile(file, []byte(input+goldenSeparator+got), 0o644))
				return
			}
			require.Equal(t, want, got)
		})
	}
}

package expr

import (
	"bytes"
	"context"
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

// TestGoldenTemplates renders each testdata/templates/*.txt case. A file is
// a JSON object {"template": ..., "env": {...}}, a line "----", and the
// expected result: the JSON encoding of the rendered value, or "error: "
// followed by the error text. Run with -update to rewrite the results.
func TestGoldenTemplates(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "templates", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			input, want, found := strings.Cut(string(data), goldenSeparator)
			require.True(t, found, "missing %q separator line", strings.TrimSpace(goldenSeparator))

			var c struct {
				Template string         `json:"template"`
				Env      map[string]any `json:"env"`
			}
			dec := json.NewDecoder(strings.NewReader(input))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&c))
			env, _ := jsonNumbers(c.Env).(map[string]any)

			got := renderGolden(c.Template, env)
			if *update {
				require.NoError(t, os.WriteFile(file, []byte(strings.TrimRight(input, "\n")+goldenSeparator+got+"\n"), 0o644))
				return
			}
			require.Equal(t, strings.TrimRight(want, "\n"), got)
		})
	}
}

func renderGolden(tmpl string, env map[string]any) string {
	t, err := CompileTemplate(tmpl)
	if err != nil {
		return "error: " + err.Error()
	}
	v, err := t.Render(context.Background(), env)
	if err != nil {
		return "error: " + err.Error()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "error: encode result: " + err.Error()
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// jsonNumbers turns json.Number into int64 or float64, as the runner's JSON
// decoding does.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = jsonNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonNumbers(e)
		}
	}
	return v
}

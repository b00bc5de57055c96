package workflows_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/workflows"
)

var update = flag.Bool("update", false, "regenerate workflow.schema.json and docs/connectors")

// TestSchemaIsFresh fails when workflow.schema.json differs from what the workflow types
// and the built-in connectors' specs generate. Regenerate with `make generate`.
func TestSchemaIsFresh(t *testing.T) {
	t.Parallel()
	want, err := workflow.JSONSchema(engine.WithCore(connectors.Default))
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile(workflows.SchemaFile, want, 0o644))
		return
	}
	got, err := os.ReadFile(workflows.SchemaFile)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "workflow.schema.json is stale: run `make generate`")
}

// TestConnectorDocsAreFresh fails when a page of docs/connectors differs from what its
// connector's spec generates, or a page has no connector. Regenerate with `make generate`.
func TestConnectorDocsAreFresh(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "docs", "connectors")
	reg := engine.WithCore(connectors.Default)
	want := map[string]string{}
	for _, c := range reg.Connectors() {
		want[c.Name+".md"] = connectors.Markdown(c)
	}
	if *update {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		old, _ := filepath.Glob(filepath.Join(dir, "*.md"))
		for _, f := range old {
			require.NoError(t, os.Remove(f))
		}
		for name, page := range want {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(page), 0o644))
		}
		return
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	require.NoError(t, err)
	got := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		got[filepath.Base(f)] = string(b)
	}
	require.Equal(t, want, got, "docs/connectors is stale: run `make generate`")
}

// TestExamplesAreValid validates every example offline, as `hookflow validate` does.
func TestExamplesAreValid(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(workflows.FS, "examples/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 2)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			data, err := fs.ReadFile(workflows.FS, f)
			require.NoError(t, err)
			def, err := engine.ValidateDefinition(data, false, connectors.Default)
			require.NoError(t, err)
			require.NotEmpty(t, def.Steps)
		})
	}
}

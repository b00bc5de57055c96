package workflows_test

import (
	"flag"
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/workflows"
)

var update = flag.Bool("update", false, "regenerate workflow.schema.json")

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

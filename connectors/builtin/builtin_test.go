package builtin_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/builtin"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/connectors/declarative/kit"
)

// names are the built-in connectors, one file each.
var names = []string{"github", "notion", "xero"}

// TestBuiltinsLoad fails loudly when an embedded file does not parse or build, which init
// would only log: every file is a valid connector, registered under its file's name as a
// built-in.
func TestBuiltinsLoad(t *testing.T) {
	t.Parallel()
	require.Empty(t, builtin.Errors(), "init could not register every built-in connector file")

	defs, errs := builtin.Definitions()
	for _, err := range errs {
		t.Errorf("%v", err)
	}
	require.Empty(t, errs)
	require.Len(t, defs, len(names))
	for i, d := range defs {
		require.Equal(t, names[i], d.File.Name, "%s: a built-in file is named after its connector", d.Source.Path)
		require.Equal(t, "connectors/builtin/"+names[i]+".yaml", d.Source.Path)
		require.Equal(t, declarative.OriginBuiltin, d.Source.Origin)

		c, ok := connectors.Default.Connector(d.File.Name)
		require.True(t, ok, "%s is not registered", d.File.Name)
		require.Equal(t, string(declarative.OriginBuiltin), c.Origin)
		require.NotEmpty(t, c.Version)
		require.NotNil(t, c.TestConnection, "%s: every built-in tests its connections", d.File.Name)
	}

	cs, err := builtin.Connectors()
	require.NoError(t, err)
	require.Len(t, cs, len(names))
}

// TestBuiltinFixtures replays every built-in's recorded fixtures, as `hookflow connector
// test` does, and requires every case that applies to the file.
func TestBuiltinFixtures(t *testing.T) {
	t.Parallel()
	defs, errs := builtin.Definitions()
	require.Empty(t, errs)
	for _, d := range defs {
		t.Run(d.File.Name, func(t *testing.T) {
			t.Parallel()
			report, err := kit.Run(t.Context(), d, d.File.Name)
			require.NoError(t, err)
			t.Log("\n" + report.String())
			require.True(t, report.Passed(), "%s", report)
		})
	}
}

// TestLint runs the SDK's lint on the built-ins alone, so a problem names this package.
func TestLint(t *testing.T) {
	t.Parallel()
	cs, err := builtin.Connectors()
	require.NoError(t, err)
	connectortest.LintAll(t, connectors.NewRegistry().With(cs...))
}

// TestFixtureSecretsAreFake keeps real-looking credentials out of the fixtures: every
// secret value says it is fake.
func TestFixtureSecretsAreFake(t *testing.T) {
	t.Parallel()
	for _, name := range names {
		files, err := filepath.Glob(filepath.Join(name, "*.yaml"))
		require.NoError(t, err)
		require.NotEmpty(t, files, "%s has no fixtures", name)
		for _, f := range files {
			fx, err := kit.LoadFixture(f)
			require.NoError(t, err)
			c, ok := connectors.Default.Connector(name)
			require.True(t, ok, name)
			spec := c.Spec()
			for _, secret := range spec.SecretFields() {
				v, ok := fx.Connection[secret].(string)
				if !ok {
					continue
				}
				require.Contains(t, strings.ToLower(v), "fake", "%s: the %s of a fixture must be visibly fake", f, secret)
			}
		}
	}
}

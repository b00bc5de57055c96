package connectortest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

// LintAll checks every connector in r, one subtest each: the spec passes Lint and encodes
// as JSON; the connector, its actions and their fields have the titles and descriptions
// the UI and the generated docs show; every action has a factory that returns an action
// and resolves by its "connector.action" name; secret fields are strings; no required
// field has a default. It fails when r is empty.
func LintAll(t *testing.T, r *connectors.Registry) {
	t.Helper()
	all := r.Connectors()
	require.NotEmpty(t, all, "no connectors registered")
	for _, c := range all {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			lintConnector(t, r, c)
		})
	}
}

func lintConnector(t *testing.T, r *connectors.Registry, c *connectors.Connector) {
	spec := c.Spec()
	require.NoError(t, spec.Lint())
	_, err := json.Marshal(spec)
	require.NoError(t, err, "the spec must encode as JSON")
	require.NotEmpty(t, spec.Description, "connector %q has no description", c.Name)
	require.True(t, len(c.Actions) > 0 || len(c.Connection) > 0,
		"connector %q has neither actions nor connection settings", c.Name)
	lintFields(t, "connection", spec.Connection)
	for _, f := range spec.Connection {
		if f.Secret {
			require.Equal(t, connectors.TypeString, f.Type, "secret connection field %q must be a string", f.Name)
		}
	}
	for _, a := range c.Actions {
		require.NotNil(t, a, "connector %q has a nil action", c.Name)
		require.NotEmpty(t, a.Description, "action %s.%s has no description", c.Name, a.Name)
		require.NotNil(t, a.New, "action %s.%s has no factory", c.Name, a.Name)
		require.NotNil(t, a.New(), "the factory of %s.%s returned nil", c.Name, a.Name)
		_, got, ok := r.Action(c.Name + "." + a.Name)
		require.True(t, ok, "%s.%s does not resolve", c.Name, a.Name)
		require.Same(t, a, got, "%s.%s resolves to another action", c.Name, a.Name)
		lintFields(t, "action "+a.Name+" input", a.Inputs)
		lintFields(t, "action "+a.Name+" output", a.Outputs)
	}
}

func lintFields(t *testing.T, where string, fields []connectors.Field) {
	t.Helper()
	for _, f := range fields {
		require.NotEmpty(t, f.Title, "%s field %q has no title", where, f.Name)
		require.NotEmpty(t, f.Description, "%s field %q has no description", where, f.Name)
		require.False(t, f.Required && f.Default != nil, "%s field %q is required yet has a default", where, f.Name)
	}
}

package all_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

func TestLintAll(t *testing.T) {
	t.Parallel()

	connectortest.LintAll(t, connectors.Default)
}

func TestBuiltinsRegistered(t *testing.T) {
	t.Parallel()

	for _, uses := range []string{"http.request", "email.send", "telegram.send_message"} {
		_, def, ok := connectors.Default.Action(uses)
		require.True(t, ok, "%s is not registered", uses)
		require.NotNil(t, def.New)
	}
	require.Contains(t, connectors.Default.ActionNames(), "http.request")
	// Subset, not Equal: each connector added to all brings its own pollers.
	require.Subset(t, connectors.Default.PollerNames(), []string{"http.poll", "telegram.updates"})
}

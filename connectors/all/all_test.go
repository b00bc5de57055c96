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

	for _, uses := range []string{"http.request", "email.send", "telegram.send_message", "hubspot.upsert_contact", "hubspot.create_deal",
		"pipedrive.create_person", "pipedrive.create_lead", "pipedrive.create_deal"} {
		_, def, ok := connectors.Default.Action(uses)
		require.True(t, ok, "%s is not registered", uses)
		require.NotNil(t, def.New)
	}
	require.Contains(t, connectors.Default.ActionNames(), "http.request")
	require.Equal(t, []string{"amocrm.new_leads", "bitrix24.new_leads", "http.poll", "hubspot.new_contacts", "pipedrive.new_deals", "telegram.updates"}, connectors.Default.PollerNames())
}

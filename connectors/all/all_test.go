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
		"pipedrive.create_person", "pipedrive.create_lead", "pipedrive.create_deal",
		"github.create_issue", "xero.create_invoice", "notion.create_page"} {
		_, def, ok := connectors.Default.Action(uses)
		require.True(t, ok, "%s is not registered", uses)
		require.NotNil(t, def.New)
	}
	require.Contains(t, connectors.Default.ActionNames(), "http.request")
	require.Equal(t, []string{"amocrm.new_leads", "bitrix24.new_leads", "github.issues", "http.poll", "hubspot.new_contacts",
		"notion.database_items", "pipedrive.new_deals", "telegram.updates", "xero.invoices"}, connectors.Default.PollerNames())
}

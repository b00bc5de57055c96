package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/hubspot/hubspottest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// hubspotLeadWorkflow takes a site form (urlencoded, as Tilda posts it), creates or
// updates the contact in HubSpot and creates a deal associated with it.
const hubspotLeadWorkflow = `{"name": "Site form to HubSpot", "trigger": {"type": "webhook"},
  "steps": [
    {"id": "contact", "uses": "hubspot.upsert_contact", "connection": "hubspot", "retry": {"max_attempts": 3, "initial": "10ms"},
     "with": {"name": "{{ trigger.body.Name }}", "email": "{{ trigger.body.Email }}", "phone": "{{ trigger.body.Phone }}"}},
    {"id": "deal", "uses": "hubspot.create_deal", "connection": "hubspot", "retry": {"max_attempts": 3, "initial": "10ms"},
     "with": {"dealname": "Site lead: {{ trigger.body.Name }}", "amount": "{{ trigger.body.price }}",
              "contact_id": "{{ steps.contact.output.id }}"}}]}`

// TestHubSpotLeadFromForm: a form webhook makes a HubSpot contact and a deal associated
// with it; the same email again updates that one contact and adds a second deal; a
// create_deal whose connection the fake drops after creating the deal is retried
// without making another one.
func TestHubSpotLeadFromForm(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	hs := hubspottest.NewServer(t)
	res := app.Do(t, http.MethodPost, "/api/v1/connections", fmt.Sprintf(`{"name": "hubspot", "connector": "hubspot",
	  "config": {"token": %q, "base_url": %q, "default_country": "RU", "idempotency_property": "hookflow_key"}}`, hs.Token, hs.URL), true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	require.NotContains(t, res.Body, hs.Token)
	res = app.Do(t, http.MethodPost, "/api/v1/connections/hubspot/test", "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)

	hook := hookPath(t, app.CreateWorkflow(t, hubspotLeadWorkflow))
	submit := func(form url.Values) *engine.Run {
		t.Helper()
		res := app.Do(t, http.MethodPost, hook, form.Encode(), false, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, "succeeded", run.Status, run.Error)
		return run
	}
	output := func(run *engine.Run, step int) map[string]any {
		t.Helper()
		var out map[string]any
		require.NoError(t, json.Unmarshal(run.Steps[step].Output, &out))
		return out
	}

	first := submit(url.Values{"Name": {"Ann Lee"}, "Email": {"ann@example.com"}, "Phone": {"8 (999) 123-45-67"}, "price": {"1500"}, "formid": {"form1"}})
	contacts := hs.Contacts()
	require.Len(t, contacts, 1)
	require.Equal(t, "+79991234567", contacts[0].Properties["phone"])
	require.Equal(t, true, output(first, 0)["created"])
	deals := hs.Deals()
	require.Len(t, deals, 1)
	require.Equal(t, []string{contacts[0].ID}, deals[0].Contacts)
	require.Equal(t, "1500", deals[0].Properties["amount"])
	require.Equal(t, "Site lead: Ann Lee", deals[0].Properties["dealname"])

	// The same person again, email in other letters and the phone written otherwise.
	second := submit(url.Values{"Name": {"Ann Lee"}, "Email": {"ANN@example.com"}, "Phone": {"+7 999 123 4567"}, "price": {"700"}})
	require.Equal(t, false, output(second, 0)["created"])
	require.Equal(t, contacts[0].ID, output(second, 0)["id"])
	require.Len(t, hs.Contacts(), 1, "one contact")
	deals = hs.Deals()
	require.Len(t, deals, 2, "two deals")
	require.Equal(t, []string{contacts[0].ID}, deals[1].Contacts)

	// The deal is created, then the connection drops: the retry finds it by its key.
	hs.DropNext(hubspottest.OpCreateDeal, 1)
	third := submit(url.Values{"Name": {"Ann Lee"}, "Email": {"ann@example.com"}, "price": {"700"}})
	require.Equal(t, 2, third.Steps[1].Attempts)
	deals = hs.Deals()
	require.Len(t, deals, 3, "the retry made no second deal")
	require.Equal(t, false, output(third, 1)["created"])
	require.Equal(t, deals[2].ID, output(third, 1)["id"])
	require.Equal(t, []string{contacts[0].ID}, deals[2].Contacts)
	require.Len(t, hs.Contacts(), 1)
	require.NotContains(t, fmt.Sprint(third), hs.Token)
}

// TestHubSpotWebhookDelivery: the fake HubSpot posts a contact.creation event signed with
// v3 to a workflow whose webhook checks hubspot-v3 with the app's client secret; the run
// sees the event. A delivery signed with another secret is refused and starts nothing.
func TestHubSpotWebhookDelivery(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	hs := hubspottest.NewServer(t)
	res := app.Do(t, http.MethodPost, "/api/v1/connections", `{"name": "hs-app", "connector": "webhook", "config": {"secret": "hubspot-client-secret"}}`, true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	wf := app.CreateWorkflow(t, `{"name": "New HubSpot contacts",
	  "trigger": {"type": "webhook", "webhook": {"auth": {"type": "hubspot-v3", "connection": "hs-app"}}},
	  "steps": [{"id": "seen", "uses": "core.set", "with": {"contact": "{{ trigger.body[0].objectId }}",
	    "kind": "{{ trigger.body[0].subscriptionType }}"}}]}`)
	hookURL := app.Server.URL + hookPath(t, wf)

	ev, err := hs.ContactCreated("51")
	require.NoError(t, err)
	status, err := hs.SendEvents(context.Background(), hookURL, "hubspot-client-secret", []hubspottest.Event{ev})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, status)
	page, err := app.Engine.ListRuns(context.Background(), engine.RunFilter{WorkflowID: wf["id"].(string)})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	run := enginetest.WaitRun(t, app.Engine.Engine, page.Items[0].ID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	require.JSONEq(t, `{"contact": 51, "kind": "contact.creation"}`, string(run.Steps[0].Output))

	status, err = hs.SendEvents(context.Background(), hookURL, "another-app-secret", []hubspottest.Event{ev})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status)
	page, err = app.Engine.ListRuns(context.Background(), engine.RunFilter{WorkflowID: wf["id"].(string)})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "the forged delivery started nothing")
}

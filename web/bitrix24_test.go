package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/bitrix24/bitrix24test"
	"github.com/hookflow/hookflow/connectors/email/smtptest"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// stepOutput decodes the output of a run's step.
func stepOutput(t *testing.T, app *webtest.App, runID, stepID string) map[string]any {
	t.Helper()
	run := enginetest.WaitRun(t, app.Engine.Engine, runID)
	for _, s := range run.Steps {
		if s.StepID == stepID {
			var out map[string]any
			require.NoError(t, json.Unmarshal(s.Output, &out), "step %s: %s", stepID, s.Error)
			return out
		}
	}
	t.Fatalf("run %s has no step %s", runID, stepID)
	return nil
}

// TestBitrix24LeadFromSiteForm: a site form posts urlencoded, as Tilda does; the workflow
// creates a Bitrix24 lead and mails the sales team. The same person twice gives two leads
// and one contact; a create step whose answer is lost (the fake stores the lead, then
// drops the connection) is retried without a second lead.
func TestBitrix24LeadFromSiteForm(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	portal := bitrix24test.NewServer(t, bitrix24test.Options{})
	smtp := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain, Username: "robot", Password: "mail-password-123"})

	res := app.Do(t, http.MethodPost, "/api/v1/connections", fmt.Sprintf(`{"name": "portal", "connector": "bitrix24",
	  "config": {"webhook_url": %q, "default_country": "RU"}}`, portal.WebhookURL()), true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	require.NotContains(t, res.Body, bitrix24test.DefaultCode, "the webhook URL is a secret")
	res = app.Do(t, http.MethodPost, "/api/v1/connections", fmt.Sprintf(`{"name": "office", "connector": "email", "config":
	  {"host": %q, "port": %d, "security": "none", "username": "robot", "password": "mail-password-123", "from": "Leads <leads@example.com>"}}`,
		smtp.Host(), smtp.Port()), true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	res = app.Do(t, http.MethodPost, "/api/v1/connections/portal/test", "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)

	wf := app.CreateWorkflow(t, `{"name": "Site form to Bitrix24", "trigger": {"type": "webhook"},
	  "steps": [
	    {"id": "lead", "uses": "bitrix24.create_lead", "connection": "portal", "retry": {"max_attempts": 3, "initial": "10ms"},
	      "with": {"name": "{{ trigger.body.Name }}", "email": "{{ trigger.body.Email }}", "phone": "{{ trigger.body.Phone }}",
	        "utm_source": "{{ trigger.body.utm_source }}", "title": "Site form {{ trigger.body.formid }}",
	        "fields": {"UF_CRM_TRANID": "{{ trigger.body.tranid }}"}}},
	    {"id": "mail", "uses": "email.send", "connection": "office",
	      "with": {"to": "sales@example.com", "subject": "Lead #{{ steps.lead.output.id }}: {{ trigger.body.Name }}",
	        "text": "Contact {{ steps.lead.output.contact_id }}, new contact: {{ steps.lead.output.created }}"}}]}`)
	submit := func(name, email, phone, tranid string) string {
		t.Helper()
		form := url.Values{"Name": {name}, "Email": {email}, "Phone": {phone}, "formid": {"form1"}, "tranid": {tranid}, "utm_source": {"yandex"}}
		res := app.Do(t, http.MethodPost, hookPath(t, wf), form.Encode(), false,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		runID := res.JSON(t)["run_id"].(string)
		run := enginetest.WaitRun(t, app.Engine.Engine, runID)
		require.Equal(t, "succeeded", run.Status, run.Error)
		return runID
	}

	first := submit("Ann Lee", "Ann@Example.com", "8 (999) 123-45-67", "t1")
	require.Equal(t, map[string]any{"id": float64(1), "contact_id": float64(1), "created": true, "recovered": false},
		stepOutput(t, app, first, "lead"))
	second := submit("Ann Lee", "ann@example.com ", "+7 999 123 45 67", "t2")
	require.Equal(t, map[string]any{"id": float64(2), "contact_id": float64(1), "created": false, "recovered": false},
		stepOutput(t, app, second, "lead"))
	require.Len(t, portal.Leads(), 2)
	require.Len(t, portal.Contacts(), 1, "the same person is one contact")
	lead := portal.Leads()[0]
	require.Equal(t, "Site form form1", lead["TITLE"])
	require.Equal(t, "yandex", lead["UTM_SOURCE"])
	require.Equal(t, "t1", lead["UF_CRM_TRANID"])
	require.Equal(t, "+79991234567", lead["PHONE"].([]any)[0].(map[string]any)["VALUE"])

	portal.DropAfterWrite("crm.lead.add", 1)
	third := submit("Bob Stone", "bob@example.com", "", "t3")
	run := enginetest.WaitRun(t, app.Engine.Engine, third)
	require.Equal(t, 2, run.Steps[0].Attempts, "the lost answer was retried")
	require.Equal(t, map[string]any{"id": float64(3), "contact_id": float64(2), "created": false, "recovered": true},
		stepOutput(t, app, third, "lead"))
	require.Len(t, portal.Leads(), 3, "no second lead for the retried step")
	require.Len(t, portal.Contacts(), 2)

	msgs := smtp.Messages()
	require.Len(t, msgs, 3)
	require.Contains(t, string(msgs[0].Data), "Subject: Lead #1: Ann Lee")
	require.Contains(t, string(msgs[2].Data), "Subject: Lead #3: Bob Stone")
}

// TestBitrix24EventWebhook: Bitrix24's outgoing event handler starts a workflow through
// the bitrix24 preset, which comments on the new lead; a wrong application token is 401.
func TestBitrix24EventWebhook(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	portal := bitrix24test.NewServer(t, bitrix24test.Options{})
	leadID := portal.AddLead(map[string]any{"TITLE": "From the portal"})
	const token = "51856fefc120afa4b628cc82d3935cce"
	for _, c := range []struct{ name, connector, config string }{
		{"bitrix-events", "webhook", fmt.Sprintf(`{"secret": %q}`, token)},
		{"portal", "bitrix24", fmt.Sprintf(`{"webhook_url": %q}`, portal.WebhookURL())},
	} {
		res := app.Do(t, http.MethodPost, "/api/v1/connections", fmt.Sprintf(`{"name": %q, "connector": %q, "config": %s}`,
			c.name, c.connector, c.config), true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
	}
	wf := app.CreateWorkflow(t, `{"name": "Bitrix24 new lead", "trigger": {"type": "webhook",
	    "webhook": {"auth": {"type": "bitrix24", "connection": "bitrix-events"}}},
	  "filter": "trigger.body.event == 'ONCRMLEADADD'",
	  "steps": [{"id": "note", "uses": "bitrix24.add_comment", "connection": "portal",
	    "with": {"entity_type": "lead", "entity_id": "{{ trigger.body.data.FIELDS.ID }}", "comment": "Seen by Hookflow"}}]}`)

	status, err := portal.PostEvent(t.Context(), app.Server.URL+hookPath(t, wf),
		bitrix24test.Event{Name: "ONCRMLEADADD", ID: leadID, HandlerID: 711, ApplicationToken: "wrong-token-0000"})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status)

	status, err = portal.PostEvent(t.Context(), app.Server.URL+hookPath(t, wf),
		bitrix24test.Event{Name: "ONCRMLEADADD", ID: leadID, HandlerID: 711, ApplicationToken: token})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, status)
	counts := app.Settle(t)
	require.Equal(t, int64(1), counts.Runs["succeeded"])
	comments := portal.Comments()
	require.Len(t, comments, 1)
	require.Equal(t, "1", comments[0]["ENTITY_ID"])
	require.Equal(t, "Seen by Hookflow", comments[0]["COMMENT"])
}

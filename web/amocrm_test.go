package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// amoCRMWorkflow is a site form's lead going to amoCRM with its contact, then to a
// Telegram chat: the workflow of workflows/examples/amocrm-site-form-lead.json with short
// retries.
const amoCRMWorkflow = `{"name": "Site form to amoCRM",
  "trigger": {"type": "webhook"},
  "steps": [
    {"id": "lead", "uses": "amocrm.create_lead", "connection": "amo", "retry": {"max_attempts": 3, "initial": "10ms"},
     "with": {"name": "{{ trigger.body.Name }}", "email": "{{ trigger.body.Email }}", "phone": "{{ trigger.body.Phone }}",
       "utm_source": "{{ trigger.body.utm_source }}", "utm_campaign": "{{ trigger.body.utm_campaign }}",
       "lead_name": "Site form: {{ trigger.body.Name }}", "tags": ["site"]}},
    {"id": "notify", "uses": "telegram.send_message", "connection": "bot", "retry": {"max_attempts": 3, "initial": "10ms"},
     "with": {"chat_id": 42, "text": "Lead {{ steps.lead.output.id }} from {{ trigger.body.Name }}, new contact: {{ steps.lead.output.created }}"}}]}`

// TestAmoCRMSiteFormLead posts a site form (urlencoded, as Tilda and amoCRM's own forms
// send it) to a workflow that creates an amoCRM lead with its contact and tells a Telegram
// chat. The same person twice makes one contact with two leads; a create step whose answer
// the fake drops after applying it is retried without a second lead or contact.
func TestAmoCRMSiteFormLead(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	amo := amocrmtest.NewServer(t)
	bot := telegramtest.NewServer(t)
	bot.AddChat(telegramtest.Chat{ID: 42, FirstName: "Sales"})
	for _, body := range []string{
		fmt.Sprintf(`{"name": "amo", "connector": "amocrm", "config": {"base_url": %q, "token": %q, "default_country": "RU"}}`, amo.URL, amo.Token),
		fmt.Sprintf(`{"name": "bot", "connector": "telegram", "config": {"token": %q, "base_url": %q}}`, bot.Token, bot.URL),
	} {
		res := app.Do(t, http.MethodPost, "/api/v1/connections", body, true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
	}
	res := app.Do(t, http.MethodPost, "/api/v1/connections/amo/test", "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NotContains(t, res.Body, amo.Token)

	wf := app.CreateWorkflow(t, amoCRMWorkflow)
	form := func(phone string) string {
		return url.Values{"Name": {"Ivan Petrov"}, "Email": {"Ivan@Example.ru"}, "Phone": {phone},
			"utm_source": {"yandex"}, "utm_campaign": {"spring"}, "formid": {"form123"}}.Encode()
	}
	submit := func(body string) map[string]any {
		res := app.Do(t, http.MethodPost, hookPath(t, wf), body, false, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, "succeeded", run.Status, run.Error)
		return map[string]any{"attempts": run.Steps[0].Attempts}
	}

	submit(form("8 (999) 123-45-67"))
	leads, contacts := amo.Leads(), amo.Contacts()
	require.Len(t, leads, 1)
	require.Len(t, contacts, 1)
	require.Equal(t, "Site form: Ivan Petrov", leads[0].Name)
	require.Equal(t, "yandex", amocrmtest.FieldValue(leads[0], "UTM_SOURCE"))
	require.Equal(t, "+79991234567", amocrmtest.PhoneOf(contacts[0]))
	require.Equal(t, "ivan@example.ru", amocrmtest.EmailOf(contacts[0]))
	waitMessage(t, bot, fmt.Sprintf("Lead %d from Ivan Petrov, new contact: true", leads[0].ID))

	// The same person again, the phone written another way: one contact, two leads.
	submit(form("+7 999 123 45 67"))
	leads = amo.Leads()
	require.Len(t, leads, 2)
	require.Len(t, amo.Contacts(), 1)
	require.Equal(t, []int64{contacts[0].ID}, leads[1].ContactIDs)
	waitMessage(t, bot, fmt.Sprintf("Lead %d from Ivan Petrov, new contact: false", leads[1].ID))

	// A new person whose create answer is lost: the write happened, the retry finds it.
	amo.DropAfterWrite(1)
	got := submit(url.Values{"Name": {"Anna"}, "Phone": {"+7 912 000-11-22"}}.Encode())
	require.Equal(t, 2, got["attempts"], "the lost answer made the step retry")
	leads = amo.Leads()
	require.Len(t, leads, 3, "no second lead")
	require.Len(t, amo.Contacts(), 2, "no second contact")
	waitMessage(t, bot, fmt.Sprintf("Lead %d from Anna, new contact: true", leads[2].ID))
	require.Zero(t, amo.RateLimited(), "the built-in limiter kept under 7 requests a second")
}

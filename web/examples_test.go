package web_test

import (
	"fmt"
	"io"
	"io/fs"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
	"github.com/hookflow/hookflow/connectors/bitrix24/bitrix24test"
	"github.com/hookflow/hookflow/connectors/email/smtptest"
	"github.com/hookflow/hookflow/connectors/hubspot/hubspottest"
	"github.com/hookflow/hookflow/connectors/moysklad/moyskladtest"
	"github.com/hookflow/hookflow/connectors/pipedrive/pipedrivetest"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
	"github.com/hookflow/hookflow/workflows"
)

// TestCRMExamples runs the five CRM example workflows of workflows/examples exactly as
// shipped: each file is created through the API unchanged, the connections it names are
// made with those names and point at the contract fakes, the chats it writes to exist in
// the fake Bot API, and the event it expects (a urlencoded site form, or MoySklad's
// webhook delivery) starts a run whose records and notification are checked in the fakes.
func TestCRMExamples(t *testing.T) {
	t.Parallel()

	t.Run("amocrm-site-form-lead", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		amo := amocrmtest.NewServer(t)
		bot := telegramtest.NewServer(t)
		// The example writes to "@my_sales_channel": the fake knows a channel by that name.
		bot.AddChat(telegramtest.Chat{ID: -1001000000001, Type: telegramtest.ChatChannel, Title: "Sales", Username: "my_sales_channel"})
		connect(t, app, "amo", "amocrm", fmt.Sprintf(`{"base_url": %q, "token": %q, "default_country": "RU"}`, amo.URL, amo.Token))
		connect(t, app, "sales-bot", "telegram", fmt.Sprintf(`{"token": %q, "base_url": %q}`, bot.Token, bot.URL))
		wf := app.CreateWorkflow(t, loadExample(t, "amocrm-site-form-lead.json"))

		form := url.Values{"Name": {"Ivan Petrov"}, "Email": {"Ivan@Example.ru"}, "Phone": {"8 (999) 123-45-67"},
			"utm_source": {"yandex"}, "utm_campaign": {"spring"}, "formid": {"form123"}}
		submitForm(t, app, wf, form)
		leads, contacts := amo.Leads(), amo.Contacts()
		require.Len(t, leads, 1)
		require.Len(t, contacts, 1)
		require.Equal(t, "Site form: Ivan Petrov", leads[0].Name)
		require.Contains(t, leads[0].Tags, "site")
		require.Equal(t, "yandex", amocrmtest.FieldValue(leads[0], "UTM_SOURCE"))
		require.Equal(t, "spring", amocrmtest.FieldValue(leads[0], "UTM_CAMPAIGN"))
		require.Equal(t, []int64{contacts[0].ID}, leads[0].ContactIDs)
		require.Equal(t, "+79991234567", amocrmtest.PhoneOf(contacts[0]))
		require.Equal(t, "ivan@example.ru", amocrmtest.EmailOf(contacts[0]))
		msg := waitMessage(t, bot, fmt.Sprintf("New lead %d: Ivan Petrov, 8 (999) 123-45-67 Ivan@Example.ru (new contact)", leads[0].ID))
		require.EqualValues(t, -1001000000001, msg.ChatID)

		// The same person again, the phone written another way: one contact, two leads.
		form.Set("Phone", "+7 999 123 45 67")
		submitForm(t, app, wf, form)
		leads = amo.Leads()
		require.Len(t, leads, 2)
		require.Len(t, amo.Contacts(), 1)
		require.Equal(t, []int64{contacts[0].ID}, leads[1].ContactIDs)
		waitMessage(t, bot, fmt.Sprintf("New lead %d: Ivan Petrov, +7 999 123 45 67 Ivan@Example.ru (known contact)", leads[1].ID))
	})

	t.Run("bitrix24-site-lead", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		portal := bitrix24test.NewServer(t, bitrix24test.Options{})
		smtp := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain, Username: "robot", Password: "mail-password-123"})
		connect(t, app, "portal", "bitrix24", fmt.Sprintf(`{"webhook_url": %q, "default_country": "RU"}`, portal.WebhookURL()))
		connect(t, app, "office", "email", fmt.Sprintf(`{"host": %q, "port": %d, "security": "none",
		  "username": "robot", "password": "mail-password-123", "from": "Leads <leads@example.com>"}`, smtp.Host(), smtp.Port()))
		wf := app.CreateWorkflow(t, loadExample(t, "bitrix24-site-lead.json"))

		form := url.Values{"Name": {"Ann Lee"}, "Email": {"ann@example.com"}, "Phone": {"8 (999) 123-45-67"},
			"formid": {"form512883611"}, "tranid": {"5186541:4209364231"}, "utm_source": {"yandex"}, "utm_medium": {"cpc"}}
		res := submitForm(t, app, wf, form)
		leads, contacts := portal.Leads(), portal.Contacts()
		require.Len(t, leads, 1)
		require.Len(t, contacts, 1)
		require.Equal(t, "Site form: form512883611", leads[0]["TITLE"])
		require.Equal(t, "WEB", leads[0]["SOURCE_ID"])
		require.Equal(t, "yandex", leads[0]["UTM_SOURCE"])
		require.Equal(t, "cpc", leads[0]["UTM_MEDIUM"])
		require.Equal(t, "+79991234567", leads[0]["PHONE"].([]any)[0].(map[string]any)["VALUE"])

		msgs := smtp.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, []string{"sales@example.com"}, msgs[0].To)
		subject, text := readMail(t, msgs[0])
		require.Equal(t, "New lead #1: Ann Lee", subject)
		require.Equal(t, "Email: ann@example.com\nPhone: 8 (999) 123-45-67\nContact 1 (new)", text)

		// The form's retry (same tranid) starts nothing: no second lead, no second email.
		again := app.Do(t, http.MethodPost, hookPath(t, wf), form.Encode(), false,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusOK, again.Status, again.Body)
		dup := again.JSON(t)
		require.Equal(t, true, dup["duplicate"])
		require.Equal(t, res["run_id"], dup["run_id"])
		require.Equal(t, map[string]int64{engine.RunSucceeded: 1}, app.Settle(t).Runs)
		require.Len(t, portal.Leads(), 1)
		require.Len(t, smtp.Messages(), 1)
	})

	t.Run("hubspot-site-lead", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		hs := hubspottest.NewServer(t)
		connect(t, app, "hubspot", "hubspot", fmt.Sprintf(`{"token": %q, "base_url": %q, "default_country": "RU",
		  "idempotency_property": "hookflow_key"}`, hs.Token, hs.URL))
		wf := app.CreateWorkflow(t, loadExample(t, "hubspot-site-lead.json"))

		submitForm(t, app, wf, url.Values{"Name": {"Ann Lee"}, "Email": {"ann@example.com"}, "Phone": {"8 (999) 123-45-67"},
			"price": {"1500"}, "formid": {"form1"}})
		contacts := hs.Contacts()
		require.Len(t, contacts, 1)
		require.Equal(t, "ann@example.com", contacts[0].Properties["email"])
		require.Equal(t, "+79991234567", contacts[0].Properties["phone"])
		require.Equal(t, "lead", contacts[0].Properties["lifecyclestage"])
		deals := hs.Deals()
		require.Len(t, deals, 1)
		require.Equal(t, "Site lead: Ann Lee", deals[0].Properties["dealname"])
		require.Equal(t, "1500", deals[0].Properties["amount"])
		require.Equal(t, "default", deals[0].Properties["pipeline"])
		require.Equal(t, "appointmentscheduled", deals[0].Properties["dealstage"])
		require.Equal(t, []string{contacts[0].ID}, deals[0].Contacts)

		// The same person by phone alone: the contact is updated, a second deal is made.
		submitForm(t, app, wf, url.Values{"Name": {"Ann Lee"}, "Phone": {"+7 999 123 4567"}})
		require.Len(t, hs.Contacts(), 1)
		deals = hs.Deals()
		require.Len(t, deals, 2)
		require.Equal(t, []string{contacts[0].ID}, deals[1].Contacts)
	})

	t.Run("pipedrive-form-lead", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		crm := pipedrivetest.NewServer(t)
		connect(t, app, "pipedrive", "pipedrive", fmt.Sprintf(`{"api_token": %q, "base_url": %q, "default_country": "RU"}`, crm.Token, crm.URL))
		wf := app.CreateWorkflow(t, loadExample(t, "pipedrive-form-lead.json"))

		submitForm(t, app, wf, url.Values{"Name": {"Ann Lee"}, "Email": {"Ann@Example.com"}, "Phone": {"8 (999) 123-45-67"}})
		persons := crm.Persons()
		require.Len(t, persons, 1)
		require.Equal(t, "Ann Lee", persons[0].Name)
		require.Equal(t, "+79991234567", persons[0].Phones[0].Value)
		leads := crm.Leads()
		require.Len(t, leads, 1)
		require.Equal(t, "Website: Ann Lee", leads[0].Title)
		require.Equal(t, persons[0].ID, leads[0].PersonID)

		// A returning visitor without a name: the same person, a second lead titled by email.
		submitForm(t, app, wf, url.Values{"Email": {"ann@example.com"}})
		require.Len(t, crm.Persons(), 1)
		leads = crm.Leads()
		require.Len(t, leads, 2)
		require.Equal(t, "Website: ann@example.com", leads[1].Title)
		require.Equal(t, persons[0].ID, leads[1].PersonID)
	})

	t.Run("moysklad-new-orders-to-telegram", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		shop := moyskladtest.NewServer(t)
		bot := telegramtest.NewServer(t)
		// The example posts to chat -1001234567890: the fake has a supergroup with that id.
		bot.AddChat(telegramtest.Chat{ID: -1001234567890, Type: telegramtest.ChatSupergroup, Title: "Sales"})
		connect(t, app, "moysklad", "moysklad", fmt.Sprintf(`{"token": %q, "base_url": %q, "webhook_prefix": %q}`,
			shop.Token, shop.URL, app.Server.URL))
		connect(t, app, "moysklad-hook", "webhook", fmt.Sprintf(`{"secret": %q}`, shopHookSecret))
		connect(t, app, "team-bot", "telegram", fmt.Sprintf(`{"token": %q, "base_url": %q}`, bot.Token, bot.URL))
		wf := app.CreateWorkflow(t, loadExample(t, "moysklad-new-orders-to-telegram.json"))

		// Subscribed the way the example's description says.
		res := app.Do(t, http.MethodPost, "/api/v1/connections/moysklad/webhook",
			`{"workflow_id": "`+wf["id"].(string)+`", "options": {"entity_type": "customerorder", "action": "CREATE"}}`, true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		hooks := shop.Entities("webhook")
		require.Len(t, hooks, 1)
		require.Equal(t, wf["webhook_url"].(string)+"?key="+shopHookSecret, hooks[0]["url"])

		order := shop.CreateOrder("Анна Петрова", 2)
		ds, err := shop.WaitDeliveries(t.Context(), 1)
		require.NoError(t, err)
		require.True(t, ds[0].Delivered, "%+v", ds[0].Attempts)
		require.Equal(t, http.StatusOK, ds[0].Attempts[0].Status)
		msg := waitMessage(t, bot, fmt.Sprintf("New order %s from Анна Петрова: 3980 RUB (Новый)", order["name"]))
		require.EqualValues(t, -1001234567890, msg.ChatID)

		// MoySklad's retry of the same delivery (same requestId) starts no second run.
		again := shop.Redeliver(t.Context(), ds[0])
		require.True(t, again.Delivered)
		require.Equal(t, map[string]int64{engine.RunSucceeded: 1}, app.Settle(t).Runs)
		require.Len(t, bot.Messages(), 1)
	})
}

// loadExample returns the document of an example workflow as shipped.
func loadExample(t *testing.T, name string) string {
	t.Helper()
	doc, err := fs.ReadFile(workflows.FS, "examples/"+name)
	require.NoError(t, err)
	return string(doc)
}

// connect creates a connection through the API.
func connect(t *testing.T, app *webtest.App, name, connector, config string) {
	t.Helper()
	res := app.Do(t, http.MethodPost, "/api/v1/connections",
		fmt.Sprintf(`{"name": %q, "connector": %q, "config": %s}`, name, connector, config), true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
}

// submitForm posts a site form, urlencoded as Tilda sends it, to a workflow's webhook,
// waits for the run it started and requires it succeeded. It returns the webhook's answer.
func submitForm(t *testing.T, app *webtest.App, wf map[string]any, form url.Values) map[string]any {
	t.Helper()
	res := app.Do(t, http.MethodPost, hookPath(t, wf), form.Encode(), false,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	require.Equal(t, http.StatusAccepted, res.Status, res.Body)
	answer := res.JSON(t)
	runID, _ := answer["run_id"].(string)
	require.NotEmpty(t, runID, res.Body)
	run := enginetest.WaitRun(t, app.Engine.Engine, runID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	return answer
}

// readMail parses a message the SMTP fake received: its subject and its plain text with
// the transfer encoding undone and LF line ends.
func readMail(t *testing.T, m smtptest.Message) (subject, text string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	require.NoError(t, err)
	require.Contains(t, msg.Header.Get("Content-Type"), "text/plain")
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return msg.Header.Get("Subject"), strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

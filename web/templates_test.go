package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
	"github.com/hookflow/hookflow/connectors/bitrix24/bitrix24test"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
	"github.com/hookflow/hookflow/workflows/templates"
)

// instantiate fills a template and returns its workflow document.
func instantiate(t *testing.T, id string, p templates.Params) string {
	t.Helper()
	doc, err := templates.Instantiate(id, p)
	require.NoError(t, err)
	return string(doc)
}

// TestTemplates runs builder templates end to end, as a user would after picking one:
// the template is instantiated with the user's connections and fields, saved through the
// API, and driven by the event its description names, against the contract fakes.
func TestTemplates(t *testing.T) {
	t.Parallel()

	t.Run("site-form-amocrm-telegram", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		amo := amocrmtest.NewServer(t)
		bot := telegramtest.NewServer(t)
		bot.AddChat(telegramtest.Chat{ID: -1001000000002, Type: telegramtest.ChatSupergroup, Title: "Sales"})
		connect(t, app, "amo", "amocrm", fmt.Sprintf(`{"base_url": %q, "token": %q, "default_country": "RU"}`, amo.URL, amo.Token))
		connect(t, app, "sales-bot", "telegram", fmt.Sprintf(`{"token": %q, "base_url": %q}`, bot.Token, bot.URL))
		wf := app.CreateWorkflow(t, instantiate(t, "site-form-amocrm-telegram", templates.Params{
			Connections: map[string]string{"crm": "amo", "bot": "sales-bot"},
			Fields:      map[string]any{"chat_id": "-1001000000002"},
			Lang:        "ru",
		}))
		require.Equal(t, "Заявка с сайта в amoCRM и Telegram", wf["name"])

		submitForm(t, app, wf, url.Values{"Name": {"Анна Петрова"}, "Email": {"anna@example.ru"}, "Phone": {"8 (999) 765-43-21"},
			"utm_source": {"yandex"}})
		leads, contacts := amo.Leads(), amo.Contacts()
		require.Len(t, leads, 1)
		require.Len(t, contacts, 1)
		require.Equal(t, "Site form: Анна Петрова", leads[0].Name)
		require.Equal(t, "yandex", amocrmtest.FieldValue(leads[0], "UTM_SOURCE"))
		require.Equal(t, "+79997654321", amocrmtest.PhoneOf(contacts[0]))
		msg := waitMessage(t, bot, fmt.Sprintf("New lead %d: Анна Петрова, 8 (999) 765-43-21 anna@example.ru (new contact)", leads[0].ID))
		require.EqualValues(t, -1001000000002, msg.ChatID)

		// A submission with neither email nor phone is filtered: no lead, no message.
		res := app.Do(t, http.MethodPost, hookPath(t, wf), url.Values{"Name": {"Nobody"}}.Encode(), false,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, engine.RunFiltered, run.Status)
		require.Len(t, amo.Leads(), 1)
		require.Len(t, bot.Messages(), 1)
	})

	t.Run("github-push-telegram", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		bot := telegramtest.NewServer(t)
		bot.AddChat(telegramtest.Chat{ID: -1001000000003, Type: telegramtest.ChatSupergroup, Title: "Dev"})
		const secret = "gh-webhook-secret-1"
		connect(t, app, "gh-hook", "webhook", fmt.Sprintf(`{"secret": %q}`, secret))
		connect(t, app, "dev-bot", "telegram", fmt.Sprintf(`{"token": %q, "base_url": %q}`, bot.Token, bot.URL))
		wf := app.CreateWorkflow(t, instantiate(t, "github-push-telegram", templates.Params{
			Connections: map[string]string{"hook": "gh-hook", "bot": "dev-bot"},
			Fields:      map[string]any{"chat_id": -1001000000003},
		}))
		deliver := func(event, delivery, body, key string) *webtest.Response {
			mac := hmac.New(sha256.New, []byte(key))
			mac.Write([]byte(body))
			return app.Do(t, http.MethodPost, hookPath(t, wf), body, false, map[string]string{
				"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
				"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)),
			})
		}

		// GitHub's ping when the webhook is added: accepted, filtered.
		res := deliver("ping", "d-0", `{"zen": "Keep it logically awesome.", "hook_id": 1}`, secret)
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, engine.RunFiltered, run.Status)

		push := `{"ref": "refs/heads/main", "compare": "https://github.com/acme/app/compare/1a2b...3c4d",
		  "repository": {"full_name": "acme/app"}, "pusher": {"name": "ann"},
		  "commits": [{"id": "3c4d", "message": "Fix crash on save\n\nThe editor lost the file."}, {"id": "5e6f", "message": "Bump version"}]}`
		res = deliver("push", "d-1", push, secret)
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		run = enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		msg := waitMessage(t, bot, "ann pushed 2 commit(s) to acme/app (main):\n• Fix crash on save\n• Bump version\n"+
			"https://github.com/acme/app/compare/1a2b...3c4d")
		require.EqualValues(t, -1001000000003, msg.ChatID)

		// GitHub's redelivery of the same push starts nothing; a forged one is refused.
		again := deliver("push", "d-1", push, secret)
		require.Equal(t, http.StatusOK, again.Status, again.Body)
		require.Equal(t, true, again.JSON(t)["duplicate"])
		forged := deliver("push", "d-2", push, "not-the-secret")
		require.Equal(t, http.StatusUnauthorized, forged.Status, forged.Body)
		c := app.Settle(t)
		require.Equal(t, map[string]int64{engine.RunSucceeded: 1, engine.RunFiltered: 1}, c.Runs)
		require.Len(t, bot.Messages(), 1)
	})

	t.Run("tilda-bitrix24-lead", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		portal := bitrix24test.NewServer(t, bitrix24test.Options{})
		connect(t, app, "portal", "bitrix24", fmt.Sprintf(`{"webhook_url": %q, "default_country": "RU"}`, portal.WebhookURL()))
		wf := app.CreateWorkflow(t, instantiate(t, "tilda-bitrix24-lead", templates.Params{
			Connections: map[string]string{"crm": "portal"},
		}))
		post := func(form url.Values) *webtest.Response {
			return app.Do(t, http.MethodPost, hookPath(t, wf), form.Encode(), false,
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		}
		// Tilda's check of the URL.
		check := post(url.Values{"test": {"test"}})
		require.Equal(t, http.StatusOK, check.Status, check.Body)

		form := url.Values{"Name": {"Ann Lee"}, "Email": {"ann@example.com"}, "Phone": {"8 (999) 123-45-67"},
			"formid": {"form512883611"}, "tranid": {"5186541:4209364231"},
			"COOKIES": {"TILDAUTM=utm_source%3Dyandex%7C%7C%7Cutm_campaign%3Dspring"}}
		res := post(form)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		leads := portal.Leads()
		require.Len(t, leads, 1)
		require.Equal(t, "Tilda: Ann Lee", leads[0]["TITLE"])
		require.Equal(t, "WEB", leads[0]["SOURCE_ID"], "the field's default")
		require.Equal(t, "Form form512883611, submission 5186541:4209364231", leads[0]["COMMENTS"])
		require.Len(t, portal.Contacts(), 1)

		// Tilda's retry of the same submission starts nothing.
		again := post(form)
		require.Equal(t, http.StatusOK, again.Status, again.Body)
		require.Equal(t, true, again.JSON(t)["duplicate"])
		require.Equal(t, map[string]int64{engine.RunSucceeded: 1}, app.Settle(t).Runs)
		require.Len(t, portal.Leads(), 1)
	})

	t.Run("failed-run-alert-telegram", func(t *testing.T) {
		t.Parallel()
		app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
		bot := telegramtest.NewServer(t)
		bot.AddChat(telegramtest.Chat{ID: 77, FirstName: "Ops"})
		connect(t, app, "ops-bot", "telegram", fmt.Sprintf(`{"token": %q, "base_url": %q}`, bot.Token, bot.URL))
		alerts := app.CreateWorkflow(t, instantiate(t, "failed-run-alert-telegram", templates.Params{
			Connections: map[string]string{"bot": "ops-bot"},
			Fields:      map[string]any{"chat_id": 77},
		}))
		// A workflow whose filter fails on a lead without a numeric amount, watched by it.
		wf := app.CreateWorkflow(t, `{"name": "Leads", "on_failure": "`+alerts["id"].(string)+`",
		  "trigger": {"type": "webhook"}, "filter": "number(trigger.body.amount) > 100", "steps": []}`)
		res := app.Do(t, http.MethodPost, hookPath(t, wf), `{"amount": "lots"}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, engine.RunFailed, run.Status)

		msg := waitMessageLike(t, bot, "⚠️ Leads failed (run "+run.ID+"):\nevaluate filter: ")
		require.EqualValues(t, 77, msg.ChatID)
		require.Contains(t, msg.Text, "number")
	})
}

// waitMessageLike waits for a message to the fake Bot API that starts with prefix.
func waitMessageLike(t *testing.T, bot *telegramtest.Server, prefix string) telegramtest.Message {
	t.Helper()
	var found telegramtest.Message
	require.Eventually(t, func() bool {
		for _, m := range bot.Messages() {
			if strings.HasPrefix(m.Text, prefix) {
				found = m
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "no message starting %q reached the bot API: %v", prefix, bot.Messages())
	return found
}

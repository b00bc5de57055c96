package web_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// botSecret is the secret_token Telegram is told to send with each delivery.
const botSecret = "hookflow-bot-secret_42"

// newBot starts a fake Bot API with one private chat and makes the connections a bot
// workflow needs: "bot" (the token) and "bot-hook" (the webhook secret).
func newBot(t *testing.T, app *webtest.App) *telegramtest.Server {
	t.Helper()
	bot := telegramtest.NewServer(t)
	bot.AddChat(telegramtest.Chat{ID: 42, FirstName: "Ann"})
	for _, body := range []string{
		fmt.Sprintf(`{"name": "bot", "connector": "telegram", "config": {"token": %q, "base_url": %q}}`, bot.Token, bot.URL),
		fmt.Sprintf(`{"name": "bot-hook", "connector": "webhook", "config": {"secret": %q}}`, botSecret),
	} {
		res := app.Do(t, http.MethodPost, "/api/v1/connections", body, true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
	}
	return bot
}

// waitMessage waits until the fake Bot API has accepted a message with the given text.
func waitMessage(t *testing.T, bot *telegramtest.Server, text string) telegramtest.Message {
	t.Helper()
	var found telegramtest.Message
	require.Eventually(t, func() bool {
		for _, m := range bot.Messages() {
			if m.Text == text {
				found = m
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "no message %q reached the bot API", text)
	return found
}

// TestTelegramWebhookBot registers a workflow's URL with the fake Bot API through the
// connection webhook endpoint; the fake then pushes a user's message with the secret
// header, the telegram preset checks it, and the workflow answers through sendMessage.
func TestTelegramWebhookBot(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	bot := newBot(t, app)
	wf := app.CreateWorkflow(t, `{"name": "Echo bot",
	  "trigger": {"type": "webhook", "webhook": {"auth": {"type": "telegram", "connection": "bot-hook"}}},
	  "filter": "trigger.body.message != nil",
	  "steps": [{"id": "reply", "uses": "telegram.send_message", "connection": "bot",
	    "with": {"chat_id": "{{ trigger.body.message.chat.id }}", "text": "Echo: {{ trigger.body.message.text }}", "silent": true}}]}`)
	id := wf["id"].(string)

	res := app.Do(t, http.MethodPost, "/api/v1/connections/bot/webhook", `{"workflow_id": "`+id+`"}`, true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NotContains(t, res.Body, botSecret, "the answer holds no secret")
	hook := bot.Webhook()
	require.Equal(t, wf["webhook_url"], hook.URL)
	require.Equal(t, botSecret, hook.SecretToken)

	bot.AddMessageUpdate(42, "hello")
	msg := waitMessage(t, bot, "Echo: hello")
	require.EqualValues(t, 42, msg.ChatID)
	require.True(t, msg.DisableNotification)

	// A delivery without the secret is refused and starts nothing.
	forged := app.Do(t, http.MethodPost, hook.URL, `{"update_id": 99, "message": {"text": "forged", "chat": {"id": 42}}}`, false, nil)
	require.Equal(t, http.StatusUnauthorized, forged.Status, forged.Body)

	// Registration needs a workflow that checks a secret and a connector that can register.
	plain := app.CreateWorkflow(t, `{"name": "No secret", "trigger": {"type": "webhook"}, "steps": []}`)
	res = app.Do(t, http.MethodPost, "/api/v1/connections/bot/webhook", `{"workflow_id": "`+plain["id"].(string)+`"}`, true, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
	require.Contains(t, res.Body, "checks no secret")
	res = app.Do(t, http.MethodPost, "/api/v1/connections/bot-hook/webhook", `{"workflow_id": "`+id+`"}`, true, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
	res = app.Do(t, http.MethodPost, "/api/v1/connections/nope/webhook", `{"workflow_id": "`+id+`"}`, true, nil)
	require.Equal(t, http.StatusNotFound, res.Status, res.Body)

	// Telegram refusing is a 502 carrying its description, without the token.
	bot.FailNext("setWebhook", 1, http.StatusBadRequest, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
	res = app.Do(t, http.MethodPost, "/api/v1/connections/bot/webhook", `{"workflow_id": "`+id+`"}`, true, nil)
	require.Equal(t, http.StatusBadGateway, res.Status, res.Body)
	require.Contains(t, res.Body, "HTTPS url must be provided")
	require.NotContains(t, res.Body, bot.Token)

	res = app.Do(t, http.MethodDelete, "/api/v1/connections/bot/webhook?workflow_id="+id, "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Empty(t, bot.Webhook().URL)
}

// TestTelegramUpdatesPoll polls the fake Bot API with telegram.updates: the pending
// update is only recorded, a new one starts a run, and each update is confirmed to
// Telegram (dropped from its queue) only by the poll after the one that queued its run.
func TestTelegramUpdatesPoll(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.Postgres, enginetest.Options{})
	bot := newBot(t, app)
	first := bot.AddMessageUpdate(42, "sent before the workflow existed")
	wf := app.CreateWorkflow(t, `{"name": "Polling bot",
	  "trigger": {"type": "poll", "poll": {"uses": "telegram.updates", "connection": "bot", "cron": "@every 1s"}},
	  "steps": [{"id": "reply", "uses": "telegram.send_message", "connection": "bot",
	    "with": {"chat_id": "{{ trigger.item.message.chat.id }}", "text": "Got: {{ trigger.item.message.text }}"}}]}`)
	id := wf["id"].(string)
	require.Empty(t, wf["webhook_url"], "a poll workflow has no webhook")
	require.Equal(t, "/api/v1/workflows/"+id+"/trigger", wf["trigger_url"])

	health := func() map[string]any {
		res := app.Do(t, http.MethodGet, "/api/v1/workflows/"+id+"/trigger", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		return res.JSON(t)
	}
	require.Eventually(t, func() bool { return health()["seeded"] == true }, 20*time.Second, 20*time.Millisecond)
	h := health()
	require.EqualValues(t, 1, h["items_seen"])
	require.EqualValues(t, 0, h["runs_started"])
	require.Equal(t, "poll", h["type"])

	second := bot.AddMessageUpdate(42, "hi")
	waitMessage(t, bot, "Got: hi")
	require.Eventually(t, func() bool {
		return !slices.ContainsFunc(bot.Updates(), func(u map[string]any) bool { return fmt.Sprint(u["update_id"]) == fmt.Sprint(second) })
	}, 20*time.Second, 20*time.Millisecond, "the update is confirmed by a later poll")
	for _, m := range bot.Messages() {
		require.NotContains(t, m.Text, "sent before", "the first poll starts nothing")
	}
	h = health()
	require.EqualValues(t, 2, h["items_seen"])
	require.EqualValues(t, 1, h["runs_started"])
	require.Zero(t, h["consecutive_failures"])
	require.NotEqual(t, first, second)

	// Webhook workflows keep no trigger state.
	hookWF := app.CreateWorkflow(t, `{"name": "Hook", "trigger": {"type": "webhook"}, "steps": []}`)
	res := app.Do(t, http.MethodGet, "/api/v1/workflows/"+hookWF["id"].(string)+"/trigger", "", true, nil)
	require.Equal(t, http.StatusNotFound, res.Status, res.Body)
}

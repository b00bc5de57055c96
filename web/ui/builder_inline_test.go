package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

func init() {
	guardCase("POST /workflows/:id/builder/connection", guard{
		path: func(f *guardFixture) string { return "/workflows/" + f.WorkflowID + "/builder/connection" },
		form: url.Values{"step_index": {"0"}, "newconn.0.connector": {"http"}, "newconn.0.name": {"guarded-inline"}}})
}

// inlineTelegramWF has a Telegram step on the connection "old-bot".
const inlineTelegramWF = `{"name":"Inline","trigger":{"type":"webhook"},
  "steps":[{"id":"tell","uses":"telegram.send_message","connection":"old-bot","with":{"chat_id":"42","text":"Hi"}}]}`

// inlineSetup creates the fake Bot API, the connection old-bot and the workflow.
func inlineSetup(t *testing.T, b *testBundle) (*telegramtest.Server, *engine.Workflow) {
	t.Helper()
	bot := telegramtest.NewServer(t)
	_, err := b.eng.CreateConnection(context.Background(), engine.ConnectionInput{Name: "old-bot", Connector: "telegram",
		Config: map[string]any{"token": bot.Token, "base_url": bot.URL}})
	require.NoError(t, err)
	return bot, createWF(t, b, inlineTelegramWF)
}

// TestBuilderInlineConnection: a Telegram step's card holds the "New connection" block
// under newconn.0.*; posting it creates the connection (secret sealed, never in the
// answer), tests it against the fake Bot API and answers the builder-connection event; a
// bad value comes back on its field with the values typed (not the secret); the builder's
// save ignores newconn.* fields; a viewer gets 403; Russian labels.
func TestBuilderInlineConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	ctx := context.Background()
	bot, w := inlineSetup(t, b)
	br, csrf := admin(t, b)
	htmx := map[string]string{"HX-Request": "true", "X-CSRF-Token": csrf}

	p := br.get("/workflows/" + w.ID + "/edit")
	require.Equal(t, http.StatusOK, p.status)
	for _, s := range []string{`<details class="builder-newconn" id="builder-newconn-0">`, `name="newconn.0.name"`,
		`name="newconn.0.config.token"`, `id="cfg-newconn-0-token"`, `name="newconn.0.config.base_url"`,
		`hx-post="/workflows/` + w.ID + `/builder/connection"`, `hx-include="#builder-newconn-0"`, "Create and test",
		`id="builder-newconn-0-result"`} {
		require.Contains(t, p.body, s)
	}

	// The builder ignores the block: a save with newconn.* fields keeps the document.
	form := builderForm(t, p.body)
	form.Set("newconn.0.name", "ignored")
	form.Set("newconn.0.config.token", bot.Token)
	form.Set("newconn.0.config.base_url", bot.URL)
	up, form := builderOp(t, br, w.ID, form, "refresh")
	require.NotContains(t, up.body, bot.Token)
	step := definitionOf(t, form)["steps"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"id": "tell", "uses": "telegram.send_message", "connection": "old-bot", "with": map[string]any{"chat_id": 42.0, "text": "Hi"}}, step)

	endpoint := "/workflows/" + w.ID + "/builder/connection"
	// A bad value: the problem in the block (200, for htmx), the values kept, not the secret.
	bad := url.Values{"step_index": {"0"}, "newconn.0.connector": {"telegram"}, "newconn.0.name": {"team-bot"},
		"newconn.0.config.token": {bot.Token}, "newconn.0.config.base_url": {bot.URL}, "newconn.0.config.rate_limit": {"lots"}}
	p = br.do(http.MethodPost, endpoint, bad, htmx)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `value="team-bot"`)
	require.Contains(t, p.body, `value="`+bot.URL+`"`)
	require.Contains(t, p.body, `value="lots"`)
	require.Contains(t, p.body, `id="cfg-newconn-0-rate_limit-error"`)
	require.NotContains(t, p.body, bot.Token)
	require.Empty(t, p.header.Get("HX-Trigger"))
	_, err := b.eng.GetConnection(ctx, "team-bot")
	require.ErrorIs(t, err, engine.ErrNotFound)

	// Created, tested against the fake, chosen for step 0.
	good := url.Values{"step_index": {"0"}, "newconn.0.connector": {"telegram"}, "newconn.0.name": {"team-bot"},
		"newconn.0.config.token": {bot.Token}, "newconn.0.config.base_url": {bot.URL}}
	p = br.do(http.MethodPost, endpoint, good, htmx)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.NotContains(t, p.body, bot.Token)
	require.Contains(t, p.body, "Connection team-bot created")
	require.Contains(t, p.body, "It works")
	require.Contains(t, p.body, `<div id="builder-newconn-0-result" hx-swap-oob="innerHTML">`)
	var ev map[string]struct {
		Step int    `json:"step"`
		Name string `json:"name"`
	}
	require.NoError(t, json.Unmarshal([]byte(p.header.Get("HX-Trigger")), &ev))
	require.Equal(t, 0, ev["builder-connection"].Step)
	require.Equal(t, "team-bot", ev["builder-connection"].Name)
	conn, err := b.eng.GetConnection(ctx, "team-bot")
	require.NoError(t, err)
	require.Equal(t, "telegram", conn.Connector)
	require.Contains(t, conn.SecretsSet, "token")
	require.Equal(t, bot.URL, conn.Config["base_url"])
	// The builder drawn with it chosen lists and selects it.
	form.Set("steps[0].connection", "team-bot")
	up, form = builderOp(t, br, w.ID, form, "refresh")
	require.Contains(t, up.body, `<option value="team-bot" selected>`)
	require.Equal(t, "team-bot", definitionOf(t, form)["steps"].([]any)[0].(map[string]any)["connection"])

	// The same name again: the engine's refusal on the name field.
	p = br.do(http.MethodPost, endpoint, good, htmx)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `id="builder-newconn-0-name-error"`)
	require.NotContains(t, p.body, bot.Token)

	// Russian.
	ru := br.do(http.MethodGet, "/workflows/"+w.ID+"/edit", nil, map[string]string{"Accept-Language": "ru"})
	require.Equal(t, http.StatusOK, ru.status)
	require.Contains(t, ru.body, "Новое подключение")
	require.Contains(t, ru.body, "Создать и проверить")

	// A viewer: no block, and 403 on the endpoint.
	const pw = "viewer's password"
	_, err = b.eng.CreateUser(ctx, "viewer@example.com", pw, engine.RoleViewer)
	require.NoError(t, err)
	vb, vcsrf := signedInBrowser(t, b, "viewer@example.com", pw)
	vp := vb.get("/workflows/" + w.ID + "/edit")
	require.NotContains(t, vp.body, "newconn")
	good.Set("newconn.0.name", "viewer-bot")
	require.Equal(t, http.StatusForbidden, vb.do(http.MethodPost, endpoint, good, map[string]string{"HX-Request": "true", "X-CSRF-Token": vcsrf}).status)
}

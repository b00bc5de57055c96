package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
	"github.com/hookflow/hookflow/workflows/templates"
)

const siteFormTemplate = "site-form-amocrm-telegram"

func init() {
	guardCase("POST /workflows/new/scratch", guard{path: func(*guardFixture) string { return "/workflows/new/scratch" }})
	guardCase("POST /workflows/new/template/:id", guard{
		path: func(*guardFixture) string { return "/workflows/new/template/failed-run-alert-telegram" },
		form: url.Values{"connection.bot": {"guarded-http"}, "field.chat_id": {"77"}},
	})
	pagePath("/workflows/new/template/:id", func(*pageFixture) string { return "/workflows/new/template/" + siteFormTemplate })
}

var ruHeaders = map[string]string{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}

// TestTemplateGallery: /workflows/new offers starting from scratch, every template by
// category in the page's language with what it needs, and the import form. A viewer
// sees the gallery without any control that creates, and is refused when posting.
func TestTemplateGallery(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	br, _ := admin(t, b)
	all := templates.List()
	require.Len(t, all, 8)

	en := br.get("/workflows/new")
	require.Equal(t, http.StatusOK, en.status)
	for _, s := range []string{`action="/workflows/new/scratch"`, "Start from scratch", "Start from a template",
		"<h3 id=\"tpl-cat-leads\">Leads</h3>", "Connections:</span> amoCRM (Kommo), Telegram", "Import JSON or YAML", `id="wf-definition"`} {
		require.Contains(t, en.body, s)
	}
	ru := br.do(http.MethodGet, "/workflows/new", nil, ruHeaders)
	require.Equal(t, http.StatusOK, ru.status)
	for _, s := range []string{"Начать с нуля", "Начать с шаблона", "Заявки</h3>", "Импорт из JSON или YAML"} {
		require.Contains(t, ru.body, s)
	}
	for _, tpl := range all {
		link := `<a href="/workflows/new/template/` + tpl.ID + `">`
		require.Contains(t, en.body, link+html.EscapeString(tpl.Name["en"])+"</a>", tpl.ID)
		require.Contains(t, en.body, html.EscapeString(tpl.Description["en"]), tpl.ID)
		require.Contains(t, ru.body, link+html.EscapeString(tpl.Name["ru"])+"</a>", tpl.ID)
		require.Contains(t, ru.body, html.EscapeString(tpl.Description["ru"]), tpl.ID)
		require.NotContains(t, ru.body, html.EscapeString(tpl.Name["en"]), tpl.ID)

		form := br.do(http.MethodGet, "/workflows/new/template/"+tpl.ID, nil, ruHeaders)
		require.Equal(t, http.StatusOK, form.status, tpl.ID)
		require.Contains(t, form.body, "<h1>"+html.EscapeString(tpl.Name["ru"])+"</h1>", tpl.ID)
		for _, f := range tpl.Fields {
			require.Contains(t, form.body, `name="field.`+f.Key+`"`, tpl.ID)
			require.Contains(t, form.body, html.EscapeString(f.Label["ru"]), tpl.ID)
		}
		for _, c := range tpl.Connections {
			require.Contains(t, form.body, `href="/connections?add=`+c.Connector+`" target="_blank"`, tpl.ID)
		}
	}
	require.Equal(t, http.StatusNotFound, br.get("/workflows/new/template/no-such-template").status)

	const pw = "a long enough password"
	_, err := b.eng.CreateUser(context.Background(), "viewer@example.com", pw, engine.RoleViewer)
	require.NoError(t, err)
	vb, csrf := signedInBrowser(t, b, "viewer@example.com", pw)
	for _, path := range []string{"/workflows/new", "/workflows/new/template/" + siteFormTemplate} {
		p := vb.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		require.Contains(t, p.body, "Only editors and admins can create workflows", path)
		for _, write := range []string{`method="post" action="/workflows`, `href="/workflows/new/template/`, "/connections?add="} {
			require.NotContains(t, p.body, write, "%s shows %s to a viewer", path, write)
		}
	}
	require.Contains(t, vb.get("/workflows/new").body, html.EscapeString(all[0].Name["en"]), "the gallery, to read")
	for _, path := range []string{"/workflows/new/scratch", "/workflows/new/template/failed-run-alert-telegram"} {
		p := vb.do(http.MethodPost, path, url.Values{"csrf_token": {csrf}, "field.chat_id": {"77"}}, nil)
		require.Equal(t, http.StatusForbidden, p.status, path)
	}
	page, err := b.eng.ListWorkflows(context.Background(), "", 0)
	require.NoError(t, err)
	require.Empty(t, page.Items)
}

// TestStartFromScratch: the button makes a switched-off draft with a webhook trigger
// and no steps, named in the page's language, and opens the builder.
func TestStartFromScratch(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	br, csrf := admin(t, b)
	for lang, name := range map[string]string{"en": "Untitled workflow", "ru": "Новый сценарий"} {
		headers := map[string]string{"Accept-Language": lang}
		p := br.do(http.MethodPost, "/workflows/new/scratch", url.Values{"csrf_token": {csrf}}, headers)
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		m := regexp.MustCompile(`^/workflows/([0-9a-f-]{36})/edit$`).FindStringSubmatch(p.location())
		require.NotNil(t, m, p.location())
		w, err := b.eng.GetWorkflow(context.Background(), m[1])
		require.NoError(t, err)
		require.Equal(t, name, w.Name)
		require.False(t, w.Enabled, "a draft starts nothing")
		require.Equal(t, "webhook", w.TriggerType)
		var def struct {
			Steps []any `json:"steps"`
		}
		require.NoError(t, json.Unmarshal(w.Definition, &def))
		require.Empty(t, def.Steps)
	}
}

// siteFormFakes are an amoCRM and a Telegram fake with connections to them.
func siteFormFakes(t *testing.T, b *testBundle) (*amocrmtest.Server, *telegramtest.Server) {
	t.Helper()
	ctx := context.Background()
	amo := amocrmtest.NewServer(t)
	bot := telegramtest.NewServer(t)
	bot.AddChat(telegramtest.Chat{ID: -1001000000002, Type: telegramtest.ChatSupergroup, Title: "Sales"})
	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "amo", Connector: "amocrm",
		Config: map[string]any{"base_url": amo.URL, "token": amo.Token, "default_country": "RU"}})
	require.NoError(t, err)
	_, err = b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "sales-bot", Connector: "telegram",
		Config: map[string]any{"token": bot.Token, "base_url": bot.URL}})
	require.NoError(t, err)
	return amo, bot
}

// postForm sends a site form's submission to a webhook; want is the expected status.
func postForm(t *testing.T, b *testBundle, token string, form url.Values, want int) string {
	t.Helper()
	res, err := http.Post(b.srv.URL+"/hooks/"+token, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, want, res.StatusCode, string(raw))
	m := regexp.MustCompile(`"run_id":"([^"]+)"`).FindSubmatch(raw)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestTemplateSiteFormToAmoCRMAndTelegram: the template's form lists the connections of
// each role's connector; a missing chat id comes back on its field (422) with the choices
// kept; filled in, it makes a switched-off workflow which, switched on, takes a real
// form submission to the amoCRM fake and the Telegram fake.
func TestTemplateSiteFormToAmoCRMAndTelegram(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	ctx := context.Background()
	br, csrf := admin(t, b)

	// No connections yet: the form says so and links to making one.
	p := br.get("/workflows/new/template/" + siteFormTemplate)
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "There is no amoCRM (Kommo) connection yet")
	require.Contains(t, p.body, `<a href="/connections?add=amocrm" target="_blank" rel="noopener">New amoCRM (Kommo) connection</a>`)
	require.NotContains(t, p.body, `<select id="tpl-conn-crm"`)

	amo, bot := siteFormFakes(t, b)
	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "other-bot", Connector: "telegram",
		Config: map[string]any{"token": "123:other", "base_url": bot.URL}})
	require.NoError(t, err)
	p = br.get("/workflows/new/template/" + siteFormTemplate)
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, `value="Site form to amoCRM and Telegram"`, "the name defaults to the template's")
	require.Contains(t, p.body, `<option value="amo" selected>amo</option>`, "the only amoCRM connection is chosen")
	require.Contains(t, p.body, `<option value="">Choose a connection</option>`, "two bots: the user chooses")
	require.Contains(t, p.body, `<option value="sales-bot">sales-bot</option>`)
	require.NotContains(t, p.body, `value="crm-`, "only connections of the role's connector")
	require.Contains(t, p.body, `placeholder="-1001234567890"`, "the example")

	// The chat id left out: 422, on its field, the rest kept.
	form := url.Values{"csrf_token": {csrf}, "name": {"Leads <site>"}, "connection.crm": {"amo"},
		"connection.bot": {"sales-bot"}, "field.chat_id": {""}}
	p = br.do(http.MethodPost, "/workflows/new/template/"+siteFormTemplate, form, nil)
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, `<p class="field-error" id="tpl-field-chat_id-error">Fill in this field.</p>`)
	require.Regexp(t, `id="tpl-field-chat_id"[^>]*aria-invalid="true"`, p.body)
	require.Contains(t, p.body, `value="Leads &lt;site&gt;"`)
	require.Contains(t, p.body, `<option value="sales-bot" selected>sales-bot</option>`)
	form.Set("field.chat_id", "not a chat")
	p = br.do(http.MethodPost, "/workflows/new/template/"+siteFormTemplate, form, nil)
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, "neither a chat id")
	require.Contains(t, p.body, `value="not a chat"`)
	form.Set("connection.bot", "")
	p = br.do(http.MethodPost, "/workflows/new/template/"+siteFormTemplate, form, map[string]string{"Accept-Language": "ru"})
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, `<p class="field-error" id="tpl-conn-bot-error">Выберите подключение.</p>`)
	page, err := b.eng.ListWorkflows(ctx, "", 0)
	require.NoError(t, err)
	require.Empty(t, page.Items, "nothing saved from the refused forms")

	form.Set("connection.bot", "sales-bot")
	form.Set("field.chat_id", " -1001000000002 ")
	p = br.do(http.MethodPost, "/workflows/new/template/"+siteFormTemplate, form, nil)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	m := regexp.MustCompile(`^/workflows/([0-9a-f-]{36})\?flash=workflow_from_template$`).FindStringSubmatch(p.location())
	require.NotNil(t, m, p.location())
	shown := br.get(p.location())
	require.Equal(t, http.StatusOK, shown.status)
	require.Contains(t, shown.body, "Workflow created from the template. It is switched off")
	w, err := b.eng.GetWorkflow(ctx, m[1])
	require.NoError(t, err)
	require.Equal(t, "Leads <site>", w.Name)
	require.False(t, w.Enabled, "nothing fires before the user has checked it")
	require.Contains(t, string(w.Definition), `"chat_id":-1001000000002`)

	submission := url.Values{"Name": {"Анна Петрова"}, "Email": {"anna@example.ru"}, "Phone": {"8 (999) 765-43-21"}, "utm_source": {"yandex"}}
	postForm(t, b, w.HookToken, submission, http.StatusNotFound)
	require.Empty(t, amo.Leads())

	p = br.do(http.MethodPost, "/workflows/"+w.ID+"/enabled", url.Values{"csrf_token": {csrf}, "enabled": {"true"}}, nil)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	run := enginetest.WaitRun(t, b.eng.Engine, postForm(t, b, w.HookToken, submission, http.StatusAccepted))
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	leads := amo.Leads()
	require.Len(t, leads, 1)
	require.Equal(t, "Site form: Анна Петрова", leads[0].Name)
	want := fmt.Sprintf("New lead %d: Анна Петрова, 8 (999) 765-43-21 anna@example.ru (new contact)", leads[0].ID)
	require.Eventually(t, func() bool {
		for _, msg := range bot.Messages() {
			if msg.Text == want && msg.ChatID == -1001000000002 {
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "%q did not reach the bot API: %v", want, bot.Messages())
}

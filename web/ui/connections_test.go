package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
	"github.com/hookflow/hookflow/web/ui"
)

func init() {
	conn := func(f *guardFixture) string { return "/connections/" + f.Connection }
	guardCase("POST /connections", guard{path: func(*guardFixture) string { return "/connections" },
		form: url.Values{"connector": {"http"}, "name": {"made-by-viewer"}, "config.auth": {"none"}}})
	guardCase("POST /connections/:name", guard{path: conn, form: url.Values{"config.auth": {"none"}}})
	guardCase("POST /connections/:name/delete", guard{path: func(f *guardFixture) string { return conn(f) + "/delete" }})
	guardCase("POST /connections/:name/test", guard{path: func(f *guardFixture) string { return conn(f) + "/test" }})
}

// post sends a form with the session's CSRF token.
func (br *browser) post(csrf, path string, form url.Values) page {
	br.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", csrf)
	return br.do(http.MethodPost, path, form, nil)
}

// pages remembers every page a test saw, to check that none shows a secret.
type pages []page

func (ps *pages) add(p page) page { *ps = append(*ps, p); return p }

func (ps pages) noneContains(t *testing.T, secrets ...string) {
	t.Helper()
	require.NotEmpty(t, ps)
	for _, p := range ps {
		for _, s := range secrets {
			require.NotContains(t, p.body, s, "a page shows a secret")
		}
	}
}

const (
	headerSecret = "hdr-secret-4d1b9e77c2a0"
	newSecret    = "hdr-secret-rotated-55e0"
)

// TestConnectionForms creates, edits and deletes an http connection with a secret
// header through the forms: the secret is write-only (shown as set, kept when left
// empty, removed only when asked), moving the base URL while keeping it is refused with
// the engine's reason, problems keep the typed values, and no page ever shows the secret.
func TestConnectionForms(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		ctx := context.Background()
		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
		var seen pages

		list := seen.add(br.get("/connections"))
		require.Equal(t, http.StatusOK, list.status)
		require.Contains(t, list.body, "No connections yet.")
		require.Contains(t, list.body, `<option value="telegram">Telegram</option>`)
		require.NotContains(t, list.body, `value="core"`, "core actions take no connection")

		form := seen.add(br.get("/connections?add=http"))
		require.Equal(t, http.StatusOK, form.status)
		require.Contains(t, form.body, "New HTTP connection")
		require.Contains(t, form.body, `name="config.header_value" type="password"`, "a secret is a password input")
		require.Contains(t, form.body, `<option value="none" selected>none</option>`, "the default is chosen")
		require.Contains(t, form.body, `name="config.allowed_hosts"`, "a list of hosts is a textarea")
		require.Contains(t, form.body, `type="number" step="any"`, "rate_limit is a number")
		require.Equal(t, http.StatusNotFound, br.get("/connections?add=nosuch").status)

		create := url.Values{"connector": {"http"}, "name": {"Bad Name"}, "config.base_url": {"https://api.example.com/v1"},
			"config.auth": {"header"}, "config.header_name": {"X-Api-Key"}, "config.header_value": {headerSecret},
			"config.rate_limit": {"five"}}
		p := seen.add(br.post(csrf, "/connections", create))
		require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
		require.Contains(t, p.body, "Enter a number.")
		require.Contains(t, p.body, `value="https://api.example.com/v1"`, "typed values stay")
		require.Contains(t, p.body, `value="Bad Name"`)
		create.Set("config.rate_limit", "2.5")
		p = seen.add(br.post(csrf, "/connections", create))
		require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
		require.Contains(t, p.body, `id="conn-name-error"`, "the engine's problem shows on the name")
		require.Contains(t, p.body, "must be 1 to 64 lower-case letters")
		require.Contains(t, p.body, `<option value="header" selected>header</option>`)

		create.Set("name", "site")
		p = seen.add(br.post(csrf, "/connections", create))
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/connections/site?flash=connection_created", p.location())
		c, err := b.eng.GetConnection(ctx, "site")
		require.NoError(t, err)
		require.Equal(t, []string{"header_value"}, c.SecretsSet)
		require.Equal(t, map[string]any{"base_url": "https://api.example.com/v1", "auth": "header", "header_name": "X-Api-Key",
			"rate_limit": 2.5}, c.Config)

		show := seen.add(br.get("/connections/site?flash=connection_created"))
		require.Equal(t, http.StatusOK, show.status)
		require.Contains(t, show.body, "Connection created.")
		require.Contains(t, show.body, "Leave empty to keep the stored value.")
		require.Contains(t, show.body, `name="remove.header_value"`)
		require.Contains(t, show.body, `value="X-Api-Key"`)
		require.NotContains(t, show.body, "Test connection", "http has no connection test")

		// Saving with the secret left empty keeps it.
		edit := url.Values{"config.base_url": {"https://api.example.com/v2"}, "config.auth": {"header"},
			"config.header_name": {"X-Key"}, "config.header_value": {""}}
		p = seen.add(br.post(csrf, "/connections/site", edit))
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		c, err = b.eng.GetConnection(ctx, "site")
		require.NoError(t, err)
		require.Equal(t, "X-Key", c.Config["header_name"])
		require.Nil(t, c.Config["rate_limit"], "a field left empty is cleared")
		require.Equal(t, []string{"header_value"}, c.SecretsSet, "the empty secret kept its value")

		// Moving the base URL elsewhere while keeping the secret is the engine's 422.
		edit.Set("config.base_url", "https://collector.evil.example")
		p = seen.add(br.post(csrf, "/connections/site", edit))
		require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
		require.Contains(t, p.body, "changing base_url would send the stored secrets to another destination")
		require.Contains(t, p.body, "enter the secrets again")
		require.Contains(t, p.body, `value="https://collector.evil.example"`, "the typed value stays")
		c, err = b.eng.GetConnection(ctx, "site")
		require.NoError(t, err)
		require.Equal(t, "https://api.example.com/v2", c.Config["base_url"], "nothing saved")

		edit.Set("config.header_value", newSecret)
		p = seen.add(br.post(csrf, "/connections/site", edit))
		require.Equal(t, http.StatusSeeOther, p.status, "sending the secret again allows the move: %s", p.body)

		// Removing the secret takes the box ticked.
		p = seen.add(br.post(csrf, "/connections/site", url.Values{"config.base_url": {"https://collector.evil.example"},
			"config.auth": {"none"}, "remove.header_value": {"1"}}))
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		c, err = b.eng.GetConnection(ctx, "site")
		require.NoError(t, err)
		require.Empty(t, c.SecretsSet)
		show = seen.add(br.get("/connections/site"))
		require.Contains(t, show.body, "not set")
		require.NotContains(t, show.body, `name="remove.header_value"`)

		// A connection in use is not deleted; the page names the workflow.
		wf, err := b.eng.CreateWorkflow(ctx, []byte(`{"name": "Lead relay", "trigger": {"type": "manual"},
			"steps": [{"id": "send", "uses": "http.request", "connection": "site", "with": {"url": "/leads"}}]}`))
		require.NoError(t, err)
		list = seen.add(br.get("/connections"))
		require.Contains(t, list.body, `<a href="/workflows/`+wf.ID+`">Lead relay</a>`)
		require.Contains(t, list.body, "1 connection")
		p = seen.add(br.post(csrf, "/connections/site/delete", nil))
		require.Equal(t, http.StatusConflict, p.status, p.body)
		require.Contains(t, p.body, "The connection was not deleted: it is used by Lead relay.")
		require.NoError(t, b.eng.DeleteWorkflow(ctx, wf.ID))
		p = seen.add(br.post(csrf, "/connections/site/delete", nil))
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		require.Equal(t, "/connections?flash=connection_deleted", p.location())
		_, err = b.eng.GetConnection(ctx, "site")
		require.ErrorIs(t, err, engine.ErrNotFound)
		require.Equal(t, http.StatusNotFound, br.get("/connections/site").status)

		seen.add(br.get("/connections"))
		seen.add(br.get("/settings/audit"))
		seen.noneContains(t, headerSecret, newSecret)
	})
}

// TestSMTPConnectionForm: an email connection's number, select and secret fields
// become typed settings.
func TestSMTPConnectionForm(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
	form := br.get("/connections?add=email")
	require.Contains(t, form.body, `type="number" step="1"`, "the port is a whole number")
	require.Contains(t, form.body, `<option value="starttls" selected>starttls</option>`)
	require.Contains(t, form.body, `placeholder="smtp.example.com"`, "an example shows in an empty field")
	p := br.post(csrf, "/connections", url.Values{"connector": {"email"}, "name": {"mail"}, "config.host": {"smtp.example.com"},
		"config.port": {"2525"}, "config.security": {"tls"}, "config.username": {"alerts"}, "config.password": {"smtp-pass-9f3"},
		"config.from": {"Alerts <alerts@example.com>"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	c, err := b.eng.GetConnection(context.Background(), "mail")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"host": "smtp.example.com", "port": 2525.0, "security": "tls", "username": "alerts",
		"from": "Alerts <alerts@example.com>"}, c.Config)
	require.Equal(t, []string{"password"}, c.SecretsSet)
	show := br.get("/connections/mail")
	require.Contains(t, show.body, `value="2525"`)
	require.Contains(t, show.body, `<option value="tls" selected>tls</option>`)
	require.NotContains(t, show.body, "smtp-pass-9f3")
	p = br.post(csrf, "/connections/mail", url.Values{"config.host": {"smtp.example.com"}, "config.port": {"twenty"},
		"config.security": {"tls"}, "config.from": {"alerts@example.com"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Enter a whole number.")
}

// TestConnectionTestButton runs "test connection" against a fake Bot API: as htmx, the
// answer is the result box alone; working credentials say so, a wrong token shows the
// service's reason and never the token.
func TestConnectionTestButton(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		bot := telegramtest.NewServer(t)
		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
		form := br.get("/connections?add=telegram")
		require.Contains(t, form.body, `placeholder="https://api.telegram.org"`, "the default shows as a placeholder")
		p := br.post(csrf, "/connections", url.Values{"connector": {"telegram"}, "name": {"bot"},
			"config.token": {bot.Token}, "config.base_url": {bot.URL}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		show := br.get("/connections/bot")
		require.Contains(t, show.body, `hx-post="/connections/bot/test"`)
		require.NotContains(t, show.body, bot.Token)

		htmx := map[string]string{"HX-Request": "true", "X-CSRF-Token": csrf}
		p = br.do(http.MethodPost, "/connections/bot/test", url.Values{}, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, "It works")
		require.NotContains(t, p.body, "<html", "htmx gets the result box only")

		wrong := "987654321:AAWrongTokenOfTheUiTestButton-000000"
		p = br.post(csrf, "/connections", url.Values{"connector": {"telegram"}, "name": {"old-bot"},
			"config.token": {wrong}, "config.base_url": {bot.URL}})
		require.Equal(t, http.StatusSeeOther, p.status, p.body)
		p = br.do(http.MethodPost, "/connections/old-bot/test", url.Values{}, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, "The test failed:")
		require.Contains(t, p.body, "Unauthorized")
		require.NotContains(t, p.body, wrong)
		require.NotContains(t, p.body, "AAWrongToken")

		p = br.post(csrf, "/connections/old-bot/test", nil)
		require.Equal(t, http.StatusOK, p.status, "without htmx the whole page shows the result")
		require.Contains(t, p.body, "<html")
		require.Contains(t, p.body, "The test failed:")
		require.NotContains(t, p.body, "AAWrongToken")
	})
}

// TestViewerSeesConnectionsReadOnly: a viewer reads connections with secrets as set or
// not set, gets no form, and the server refuses their posts whatever the page shows.
func TestViewerSeesConnectionsReadOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	ctx := context.Background()
	_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "hook", Connector: "webhook",
		Config: map[string]any{"secret": headerSecret, "username": "site", "password": newSecret}})
	require.NoError(t, err)
	_, err = b.eng.CreateUser(ctx, "viewer@example.com", "viewer-password", engine.RoleViewer)
	require.NoError(t, err)
	br, csrf := signedInBrowser(t, b, "viewer@example.com", "viewer-password")
	list := br.get("/connections")
	require.Equal(t, http.StatusOK, list.status)
	require.Contains(t, list.body, `href="/connections/hook"`)
	require.NotContains(t, list.body, `name="add"`, "no create form")
	show := br.get("/connections/hook")
	require.Equal(t, http.StatusOK, show.status)
	require.NotContains(t, show.body, headerSecret)
	require.NotContains(t, show.body, newSecret)
	require.NotContains(t, show.body, "<input id=\"cfg-", "no form for a viewer")
	require.Contains(t, show.body, ">set</span>")
	require.Contains(t, show.body, "<code class=\"value\">site</code>")
	require.NotContains(t, show.body, "Delete connection")
	require.Equal(t, http.StatusForbidden, br.get("/connections?add=http").status, "no form a viewer cannot post")
	p := br.post(csrf, "/connections/hook", url.Values{"config.username": {"mine"}})
	require.Equal(t, http.StatusForbidden, p.status)
	require.Contains(t, p.body, "Your role does not allow this.")
	c, err := b.eng.GetConnection(ctx, "hook")
	require.NoError(t, err)
	require.Equal(t, "site", c.Config["username"])
	for _, path := range []string{"/connections", "/connections/hook"} {
		require.NotContains(t, strings.ToLower(br.get(path).body), strings.ToLower(headerSecret))
	}
}

// labelRE finds a form control's label: <label for="cfg-NAME">Title, or a switch's
// <label class="check" for="cfg-NAME"><input …> Title.
var labelRE = regexp.MustCompile(`<label (?:class="check" )?for="cfg-([a-z0-9_]+)">(?:<input[^>]*> )?([^<]*)`)

// formLabels maps a connection form's field names to their labels.
func formLabels(body string) map[string]string {
	out := map[string]string{}
	for _, m := range labelRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(strings.TrimSpace(m[2]))
	}
	return out
}

// TestConnectionFormsInRussian: with Accept-Language: ru, the create form of every
// connector shows its title, description, labels, help texts and choices in Russian, no
// label keeps the spec's English title, and the list offers the connectors by their
// Russian names. The English form is the spec's own text.
func TestConnectionFormsInRussian(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	br, _ := signedInBrowser(t, b, adminEmail, adminPassword)
	ru := map[string]string{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}

	want := map[string][]string{
		"amocrm": {"Новое подключение: amoCRM (Kommo)", "Поддомен", "Долгосрочный токен", "Страна по умолчанию",
			"Создаёт сделки вместе с контактами"},
		"bitrix24": {"Новое подключение: Bitrix24", "URL входящего вебхука", "Страна по умолчанию"},
		"email": {"Новое подключение: Электронная почта", "SMTP-сервер", "Шифрование",
			`<option value="starttls" selected>STARTTLS</option>`, `<option value="none">без шифрования</option>`, "Отправитель"},
		"http": {"Новое подключение: HTTP", "Базовый URL", "Разрешённые хосты", "Способ авторизации",
			`<option value="none" selected>без авторизации</option>`, `<option value="header">свой заголовок</option>`,
			"Ограничение частоты", "По одному на строку."},
		"github":    {"Новое подключение: GitHub", "Токен доступа", "Сервер API"},
		"hubspot":   {"Новое подключение: HubSpot CRM", "Токен приватного приложения", "Свойство сделки для идемпотентности"},
		"moysklad":  {"Новое подключение: МойСклад", "Токен доступа", "Публичный адрес Hookflow"},
		"notion":    {"Новое подключение: Notion", "Секрет интеграции", "Сервер API"},
		"pipedrive": {"Новое подключение: Pipedrive", "Токен API", "Домен компании"},
		"telegram":  {"Новое подключение: Telegram", "Токен бота", "Сервер Bot API", "@BotFather"},
		"webhook":   {"Новое подключение: Секреты входящих вебхуков", "Секрет", "Предыдущий секрет", "Имя пользователя"},
		"xero": {"Новое подключение: Xero", "ID клиента (client ID)", "Refresh-токен", "ID организации (tenant ID)",
			"Адрес выдачи токенов"},
	}
	reg := engine.WithCore(connectors.Default)
	seen := 0
	for _, c := range reg.Connectors() {
		spec := c.Spec()
		if c.Name == "core" || len(spec.Connection) == 0 {
			continue
		}
		seen++
		path := "/connections?add=" + c.Name
		p := br.do(http.MethodGet, path, nil, ru)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, `<html lang="ru"`)
		body := html.UnescapeString(p.body)
		require.Contains(t, want, c.Name, "add the Russian strings of the %s form to this test", c.Name)
		for _, s := range want[c.Name] {
			require.Contains(t, body, s, "%s in Russian", c.Name)
		}
		local := ui.LocalSpec("ru", spec)
		require.Contains(t, body, strings.ReplaceAll(local.Description, "`", ""), "%s: the connector's description", c.Name)
		labels := formLabels(p.body)
		require.Len(t, labels, len(spec.Connection), "%s: one label per field", c.Name)
		for i, f := range spec.Connection {
			require.NotEqual(t, f.Title, labels[f.Name], "%s.%s: the label is still English", c.Name, f.Name)
			require.Equal(t, local.Connection[i].Title, labels[f.Name], "%s.%s", c.Name, f.Name)
			require.NotEmpty(t, local.Connection[i].Description)
			require.Contains(t, body, local.Connection[i].Description, "%s.%s: help text", c.Name, f.Name)
		}

		en := br.get(path)
		require.Equal(t, http.StatusOK, en.status)
		require.Contains(t, en.body, `<html lang="en"`)
		enBody := html.UnescapeString(en.body)
		require.Contains(t, enBody, "New "+spec.Title+" connection")
		for _, f := range spec.Connection {
			require.Equal(t, f.Title, formLabels(en.body)[f.Name], "%s.%s in English", c.Name, f.Name)
			require.Contains(t, enBody, strings.ReplaceAll(f.Description, "`", ""))
			for _, e := range f.Enum {
				require.Regexp(t, `<option value="`+e+`"( selected)?>`+e+`</option>`, en.body)
			}
		}
	}
	require.Equal(t, len(want), seen)

	list := br.do(http.MethodGet, "/connections", nil, ru)
	require.Contains(t, list.body, `<option value="bitrix24">Bitrix24</option>`)
	require.Contains(t, list.body, `<option value="webhook">Секреты входящих вебхуков</option>`)
}

package ui_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

func init() {
	wf := func(suffix string) func(f *guardFixture) string {
		return func(f *guardFixture) string { return "/workflows/" + f.WorkflowID + suffix }
	}
	doc := url.Values{"definition": {`{"name":"posted by a viewer","trigger":{"type":"webhook"},"steps":[]}`}}
	guardCase("POST /workflows/:id/edit", guard{path: wf("/edit"), form: doc})
	guardCase("POST /workflows/:id/edit/update", guard{path: wf("/edit/update"), form: url.Values{
		"definition": doc["definition"], "op": {"add_step"}}})
	pagePath("/workflows/:id/edit", func(f *pageFixture) string { return "/workflows/" + f.Workflow.ID + "/edit" })
}

var (
	builderFormRE = regexp.MustCompile(`(?s)<form id="builder".*?</form>`)
	controlRE     = regexp.MustCompile(`(?s)<input [^>]*>|<select [^>]*>.*?</select>|<textarea [^>]*>.*?</textarea>`)
	attrRE        = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)"|='([^']*)')?`)
	optionRE      = regexp.MustCompile(`<option value="([^"]*)"( selected)?>`)
	textareaRE    = regexp.MustCompile(`(?s)^<textarea [^>]*>(.*)</textarea>$`)
)

// builderForm is what a browser would post from the builder's form in body.
func builderForm(t *testing.T, body string) url.Values {
	t.Helper()
	form := builderFormRE.FindString(body)
	require.NotEmpty(t, form, "no builder form in %s", body)
	out := url.Values{}
	for _, ctl := range controlRE.FindAllString(form, -1) {
		tag := ctl[:strings.IndexAny(ctl, " >")]
		head := ctl
		if i := strings.Index(ctl, ">"); i > 0 {
			head = ctl[:i]
		}
		attrs := map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(head, -1) {
			attrs[m[1]] = html.UnescapeString(m[2] + m[3])
		}
		name, ok := attrs["name"]
		if !ok {
			continue
		}
		switch tag {
		case "<input":
			if attrs["type"] == "checkbox" {
				if _, checked := attrs["checked"]; !checked {
					continue
				}
			}
			out.Add(name, attrs["value"])
		case "<select":
			opts := optionRE.FindAllStringSubmatch(ctl, -1)
			val := ""
			if len(opts) > 0 {
				val = opts[0][1]
			}
			for _, o := range opts {
				if o[2] != "" {
					val = o[1]
				}
			}
			out.Add(name, html.UnescapeString(val))
		case "<textarea":
			m := textareaRE.FindStringSubmatch(ctl)
			out.Add(name, html.UnescapeString(strings.TrimPrefix(m[1], "\n")))
		}
	}
	return out
}

// builderOp posts the form with an op and returns the form drawn again.
func builderOp(t *testing.T, br *browser, id string, form url.Values, op string) (page, url.Values) {
	t.Helper()
	form.Set("op", op)
	p := br.do(http.MethodPost, "/workflows/"+id+"/edit/update", form, map[string]string{"HX-Request": "true"})
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.NotContains(t, p.body, "<html", "an htmx answer is the form alone")
	return p, builderForm(t, p.body)
}

// definitionOf is the document a builder form carries.
func definitionOf(t *testing.T, form url.Values) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(form.Get("definition")), &doc), form.Get("definition"))
	return doc
}

func savedDefinition(t *testing.T, b *testBundle, id string) (map[string]any, int) {
	t.Helper()
	w, err := b.eng.GetWorkflow(context.Background(), id)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(w.Definition, &doc))
	return doc, w.Version
}

const builderWebhookWF = `{"name":"Leads","trigger":{"type":"webhook"},
  "steps":[{"id":"note","uses":"core.set","with":{"ok":true}}]}`

// TestBuilderOps opens the builder and walks the structural changes: add a step, choose
// its connector and action (the action's inputs appear), move, duplicate and delete it,
// add a condition row. Nothing is saved by them.
func TestBuilderOps(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	w := createWF(t, b, builderWebhookWF)
	br, _ := admin(t, b)
	p := br.get("/workflows/" + w.ID + "/edit")
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `name="trigger.type"`)
	require.Contains(t, p.body, `name="trigger.webhook.auth.type"`)
	require.Contains(t, p.body, `<option value="github">GitHub</option>`)
	require.Contains(t, p.body, `name="filter.rows[0].field"`)
	require.Contains(t, p.body, `name="steps[0].connector"`)
	require.Contains(t, p.body, `id="builder-sample"`)
	require.Contains(t, p.body, "/hooks/"+w.HookToken)
	form := builderForm(t, p.body)

	p, form = builderOp(t, br, w.ID, form, "add_step")
	require.Contains(t, p.body, `name="steps[1].connector"`)
	require.Equal(t, "step_2", form.Get("steps[1].id"))

	form.Set("steps[1].connector", "telegram")
	_, form = builderOp(t, br, w.ID, form, "refresh")
	form.Set("steps[1].action", "send_message")
	p, form = builderOp(t, br, w.ID, form, "refresh")
	require.Contains(t, p.body, `name="steps[1].with.chat_id"`)
	require.Contains(t, p.body, `name="steps[1].with.text"`)
	require.Contains(t, p.body, `name="steps[1].connection"`)
	require.Contains(t, p.body, `name="newconn.1.config.token"`, "the inline New connection")
	require.Equal(t, "telegram.send_message", definitionOf(t, form)["steps"].([]any)[1].(map[string]any)["uses"])

	form.Set("steps[1].with.text", "Hello {{ trigger.body.name }}")
	_, form = builderOp(t, br, w.ID, form, "move_up:1")
	steps := definitionOf(t, form)["steps"].([]any)
	require.Equal(t, "step_2", steps[0].(map[string]any)["id"])
	require.Equal(t, "Hello {{ trigger.body.name }}", steps[0].(map[string]any)["with"].(map[string]any)["text"])
	require.Equal(t, "note", steps[1].(map[string]any)["id"])

	_, form = builderOp(t, br, w.ID, form, "duplicate_step:0")
	steps = definitionOf(t, form)["steps"].([]any)
	require.Len(t, steps, 3)
	require.Equal(t, "step_3", steps[1].(map[string]any)["id"])
	require.Equal(t, "telegram.send_message", steps[1].(map[string]any)["uses"])

	_, form = builderOp(t, br, w.ID, form, "remove_step:1")
	_, form = builderOp(t, br, w.ID, form, "move_down:0")
	steps = definitionOf(t, form)["steps"].([]any)
	require.Len(t, steps, 2)
	require.Equal(t, "note", steps[0].(map[string]any)["id"])

	p, form = builderOp(t, br, w.ID, form, "add_row")
	require.Contains(t, p.body, `name="filter.rows[1].field"`)
	require.Contains(t, p.body, `<option value="greater_than">is greater than</option>`)
	form.Set("filter.rows[0].field", "trigger.body.amount")
	form.Set("filter.rows[0].op", "greater_than")
	form.Set("filter.rows[0].value", "100")
	_, form = builderOp(t, br, w.ID, form, "remove_row:1")
	require.Contains(t, definitionOf(t, form)["filter"], "number(trigger.body?.amount) > 100")
	p, form = builderOp(t, br, w.ID, form, "filter_raw")
	require.Contains(t, p.body, `name="filter.raw"`)
	_, form = builderOp(t, br, w.ID, form, "filter_rows")
	require.Equal(t, "trigger.body.amount", form.Get("filter.rows[0].field"))

	_, version := savedDefinition(t, b, w.ID)
	require.Equal(t, 1, version, "ops save nothing")
}

// TestBuilderSave saves a built workflow as version 2, and shows problems next to their
// fields with 422: a Telegram step without its chat, a schedule with a bad cron.
func TestBuilderSave(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	w := createWF(t, b, builderWebhookWF)
	_, err := b.eng.CreateConnection(context.Background(), engine.ConnectionInput{Name: "sales-bot", Connector: "telegram",
		Config: map[string]any{"token": "123456789:AAH-fake-token-for-builder-test-00"}})
	require.NoError(t, err)
	br, _ := admin(t, b)
	form := builderForm(t, br.get("/workflows/"+w.ID+"/edit").body)
	_, form = builderOp(t, br, w.ID, form, "add_step")
	form.Set("steps[1].connector", "telegram")
	_, form = builderOp(t, br, w.ID, form, "refresh")
	form.Set("steps[1].action", "send_message")
	_, form = builderOp(t, br, w.ID, form, "refresh")
	form.Set("steps[1].with.text", "New lead")
	form.Set("steps[1].connection", "sales-bot")

	p := br.do(http.MethodPost, "/workflows/"+w.ID+"/edit", form, nil)
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, `id="b-steps-1--with-chat_id-err"`, "the error sits on the chat field")
	require.Contains(t, p.body, `aria-describedby="b-steps-1--with-chat_id-err"`)
	require.Contains(t, p.body, `id="builder-errors"`)
	_, version := savedDefinition(t, b, w.ID)
	require.Equal(t, 1, version)

	form = builderForm(t, p.body)
	require.Equal(t, "New lead", form.Get("steps[1].with.text"), "the form comes back as typed")
	form.Set("steps[1].with.chat_id", "-1001234567890")
	form.Set("filter.rows[0].field", "trigger.body.amount")
	form.Set("filter.rows[0].op", "greater_than")
	form.Set("filter.rows[0].value", "100")
	p = br.do(http.MethodPost, "/workflows/"+w.ID+"/edit", form, nil)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/workflows/"+w.ID+"/edit?flash=workflow_saved", p.location())
	doc, version := savedDefinition(t, b, w.ID)
	require.Equal(t, 2, version)
	require.Equal(t, `(trigger.body?.amount ?? "") != "" && number(trigger.body?.amount) > 100`, doc["filter"])
	step := doc["steps"].([]any)[1].(map[string]any)
	require.Equal(t, "telegram.send_message", step["uses"])
	require.Equal(t, map[string]any{"chat_id": -1001234567890.0, "text": "New lead"}, step["with"])

	// A schedule with a bad cron: 422, the error on the cron field.
	form = builderForm(t, br.get("/workflows/"+w.ID+"/edit").body)
	form.Set("trigger.type", "schedule")
	p, form = builderOp(t, br, w.ID, form, "refresh")
	require.Contains(t, p.body, `name="schedule.preset"`)
	require.Contains(t, p.body, "Every day at 09:00")
	form.Set("schedule.preset", "raw")
	_, form = builderOp(t, br, w.ID, form, "refresh")
	form.Set("trigger.schedule.cron", "61 * * * *")
	p = br.do(http.MethodPost, "/workflows/"+w.ID+"/edit", form, nil)
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, `id="b-trigger-schedule-cron-err"`)
}

// TestBuilderKeepsWhatItDoesNotDraw: fields the cards do not draw survive a save from
// the builder untouched, and the JSON tab reads the builder's document back unchanged.
func TestBuilderKeepsWhatItDoesNotDraw(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	alert := createWF(t, b, `{"name":"Alerts","trigger":{"type":"manual"},"steps":[]}`)
	w := createWF(t, b, `{"name":"Rich","description":"kept","concurrency":1,"max_duration":"2h",
	  "limits":{"for_each_items":50},"on_failure":%q,"retention":{"max_runs":100},
	  "trigger":{"type":"webhook","webhook":{"methods":["POST","PUT"],"max_body_bytes":2048}},
	  "filter":"trigger.body.amount > 100 || trigger.body.vip",
	  "steps":[{"id":"note","uses":"core.set","timeout":"30s","retry":{"max_attempts":3,"multiplier":3},"with":{"ok":true,"extra":[1,2]}}]}`, alert.ID)
	before, _ := savedDefinition(t, b, w.ID)
	br, csrf := admin(t, b)
	p := br.get("/workflows/" + w.ID + "/edit")
	require.Contains(t, p.body, `name="filter.raw"`, "a filter the rows cannot read opens raw")
	form := builderForm(t, p.body)
	form.Set("steps[0].name", "A note")
	p = br.do(http.MethodPost, "/workflows/"+w.ID+"/edit", form, nil)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	after, version := savedDefinition(t, b, w.ID)
	require.Equal(t, 2, version)
	before["steps"].([]any)[0].(map[string]any)["name"] = "A note"
	require.Equal(t, before, after)

	// The JSON tab shows the builder's document; posting it back changes nothing.
	js := br.get("/workflows/" + w.ID + "/json")
	m := regexp.MustCompile(`(?s)<textarea id="wf-definition" name="definition"[^>]*>(.*?)</textarea>`).FindStringSubmatch(js.body)
	require.NotNil(t, m)
	p = br.post(csrf, "/workflows/"+w.ID+"/json", url.Values{"definition": {html.UnescapeString(m[1])}, "base_version": {"2"}})
	require.Equal(t, "/workflows/"+w.ID+"/json?flash=workflow_unchanged", p.location())
	// And the builder saving it again without a change makes no version.
	p = br.do(http.MethodPost, "/workflows/"+w.ID+"/edit", builderForm(t, br.get("/workflows/"+w.ID+"/edit").body), nil)
	require.Equal(t, "/workflows/"+w.ID+"/edit?flash=workflow_unchanged", p.location())
}

// TestBuilderViewerAndRussian: a viewer reads the builder without editing controls and
// is refused on its posts; the page speaks Russian with Accept-Language: ru.
func TestBuilderViewerAndRussian(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	w := createWF(t, b, builderWebhookWF)
	const pw = "viewer's password"
	_, err := b.eng.CreateUser(context.Background(), "viewer@example.com", pw, engine.RoleViewer)
	require.NoError(t, err)
	vb, vcsrf := signedInBrowser(t, b, "viewer@example.com", pw)
	p := vb.get("/workflows/" + w.ID + "/edit")
	require.Equal(t, http.StatusOK, p.status)
	require.NotContains(t, p.body, `id="builder-save"`)
	require.NotContains(t, p.body, "hx-post")
	require.NotContains(t, p.body, w.HookToken)
	require.Contains(t, p.body, `<fieldset class="builder-all" disabled>`)
	form := builderForm(t, p.body)
	form.Set("csrf_token", vcsrf)
	require.Equal(t, http.StatusForbidden, vb.do(http.MethodPost, "/workflows/"+w.ID+"/edit", form, nil).status)
	form.Set("op", "add_step")
	require.Equal(t, http.StatusForbidden, vb.do(http.MethodPost, "/workflows/"+w.ID+"/edit/update", form, nil).status)

	br, _ := admin(t, b)
	ru := br.do(http.MethodGet, "/workflows/"+w.ID+"/edit", nil, map[string]string{"Accept-Language": "ru"})
	require.Equal(t, http.StatusOK, ru.status)
	for _, s := range []string{"Конструктор", "1. Триггер: что запускает сценарий", "Добавить шаг", "больше", "Сохранить", "Форма Tilda"} {
		require.Contains(t, ru.body, s)
	}
	sched := createWF(t, b, `{"name":"Daily","trigger":{"type":"schedule","schedule":{"cron":"0 9 * * 1-5","timezone":"Europe/Moscow"}},"steps":[]}`)
	ru = br.do(http.MethodGet, "/workflows/"+sched.ID+"/edit", nil, map[string]string{"Accept-Language": "ru"})
	require.Contains(t, ru.body, "В 09:00 с понедельника по пятницу")
	require.Contains(t, ru.body, `<option value="weekdays" selected>По будним дням в</option>`)
	require.Contains(t, ru.body, "MSK</li>")
}

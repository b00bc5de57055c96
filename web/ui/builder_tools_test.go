package ui_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
)

// builderDoc is the unsaved document the builder tests post: a core.set, a Telegram
// message to the fake Bot API (connection "bot"), a step reading the message's output.
const builderDoc = `{"name":"lead","trigger":{"type":"webhook"},"steps":[
	{"id":"greet","uses":"core.set","with":{"greeting":"Hi"}},
	{"id":"tell","uses":"telegram.send_message","connection":"bot",
	 "with":{"chat_id":"42","text":"{{ steps.greet.output.greeting }}, {{ trigger.body.name }}"}},
	{"id":"after","uses":"core.set","with":{"message_id":"{{ steps.tell.output.message_id }}"}}]}`

func init() {
	for _, r := range []string{"/workflows/:id/builder/listen", "/workflows/:id/builder/history", "/workflows/:id/builder/sample"} {
		pagePath(r, nil) // fragments of the builder page, not pages
	}
	base := func(f *guardFixture) string { return "/workflows/" + f.WorkflowID + "/builder/" }
	guardCase("POST /workflows/:id/builder/sample", guard{path: func(f *guardFixture) string { return base(f) + "sample" },
		form: url.Values{"sample_json": {`{"name":"Ann"}`}}})
	guardCase("POST /workflows/:id/builder/test-step", guard{path: func(f *guardFixture) string { return base(f) + "test-step" },
		form: url.Values{"definition": {`{"name":"g","trigger":{"type":"webhook"},"steps":[{"id":"s","uses":"core.set","with":{"a":"1"}}]}`},
			"step_index": {"0"}, "sample_json": {`{"name":"Ann"}`}}})
	guardCase("POST /workflows/:id/builder/vars", guard{path: func(f *guardFixture) string { return base(f) + "vars" },
		form: url.Values{"sample_json": {`{"name":"Ann"}`}, "step_index": {"0"}}})
}

var (
	afterRE       = regexp.MustCompile(`builder/listen\?after=([^"]*)"`)
	sampleEventRE = regexp.MustCompile(`name="sample_event" value="([^"]+)"`)
	tellOutputRE  = regexp.MustCompile(`name="step_output.tell" value="([^"]+)"`)
)

// TestBuilderTools: listening polls (200) until a real webhook reaches the workflow's URL,
// then shows the request as a tree (286) and keeps it as the sample; testing a step on it
// sends the message to the fake Bot API with the sample's name and shows the rendered
// input and the output, kept in step_output.<id>; a dry run calls nothing; the picker of
// a later step lists the trigger's fields and that output; the history and a pasted JSON
// give samples too; Russian labels.
func TestBuilderTools(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setup(t, d, web.Config{})
		ctx := context.Background()
		bot := telegramtest.NewServer(t)
		bot.AddChat(telegramtest.Chat{ID: 42, FirstName: "Ann"})
		_, err := b.eng.CreateConnection(ctx, engine.ConnectionInput{Name: "bot", Connector: "telegram",
			Config: map[string]any{"token": bot.Token, "base_url": bot.URL}})
		require.NoError(t, err)
		wf, err := b.eng.CreateWorkflow(ctx, []byte(`{"name":"lead","trigger":{"type":"webhook"},"steps":[]}`))
		require.NoError(t, err)
		base := "/workflows/" + wf.ID + "/builder/"
		br, csrf := signedInBrowser(t, b, adminEmail, adminPassword)
		htmx := map[string]string{"HX-Request": "true", "X-CSRF-Token": csrf}

		// Listening: nothing yet, htmx keeps polling.
		p := br.do(http.MethodGet, base+"listen", nil, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, `hx-trigger="every 2s"`)
		m := afterRE.FindStringSubmatch(p.body)
		require.NotNil(t, m, p.body)
		poll := base + "listen?after=" + m[1]
		p = br.do(http.MethodGet, poll, nil, htmx)
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `hx-trigger="every 2s"`)
		require.NotContains(t, p.body, "sample_event")

		// A real webhook: the tree, the sample, and 286 to stop polling.
		sendWebhook(t, b, wf, `{"name":"Ann Lee","lead":{"e-mail":"ann@example.com","tags":["vip"]}}`)
		p = br.do(http.MethodGet, poll, nil, htmx)
		require.Equal(t, 286, p.status, p.body)
		require.NotContains(t, p.body, "every 2s")
		require.Contains(t, p.body, `<code class="builder-path">trigger.body.name</code> <span class="builder-value">&#34;Ann Lee&#34;</span>`)
		require.Contains(t, p.body, `trigger.body.lead[&#34;e-mail&#34;]`, "a key with a dash is bracketed")
		require.Contains(t, p.body, `trigger.body.lead.tags[0]`)
		require.Contains(t, p.body, `trigger.headers[&#34;content-type&#34;]`)
		require.Equal(t, "builder-sample", p.header.Get("HX-Trigger-After-Settle"))
		ev := sampleEventRE.FindStringSubmatch(p.body)
		require.NotNil(t, ev, p.body)
		sample := ev[1]

		// Test this step, for real, after greet's output.
		form := url.Values{"definition": {builderDoc}, "step_index": {"1"}, "sample_event": {sample},
			"step_output.greet": {`{"greeting":"Hello"}`}}
		p = br.do(http.MethodPost, base+"test-step", form, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, "Hello, Ann Lee", "the rendered input")
		require.Contains(t, p.body, "message_id", "the output")
		require.Equal(t, "builder-outputs", p.header.Get("HX-Trigger-After-Settle"))
		msgs := bot.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, "Hello, Ann Lee", msgs[0].Text)
		out := tellOutputRE.FindStringSubmatch(p.body)
		require.NotNil(t, out, p.body)
		tellOutput := html.UnescapeString(out[1])
		require.Contains(t, tellOutput, fmt.Sprintf(`"message_id":%d`, msgs[0].MessageID))

		// Dry run: rendered, nothing called; greet untested reads as empty and is named.
		form = url.Values{"definition": {builderDoc}, "step_index": {"1"}, "sample_event": {sample}, "dry_run": {"1"}}
		p = br.do(http.MethodPost, base+"test-step", form, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, "status-would_call")
		require.Contains(t, p.body, ", Ann Lee")
		require.Contains(t, p.body, "Not tested yet, read as empty: greet.")
		require.NotContains(t, p.body, "step_output.tell")
		require.Len(t, bot.Messages(), 1, "a dry run calls nothing")

		// An invalid document: its error in the result, by path.
		form = url.Values{"definition": {`{"name":"x","trigger":{"type":"webhook"},"steps":[{"id":"s","uses":"telegram.nope"}]}`},
			"step_index": {"0"}, "sample_event": {sample}}
		p = br.do(http.MethodPost, base+"test-step", form, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, "steps[0]")

		// The picker of the third step: the trigger's fields, tell's output, greet untested.
		form = url.Values{"definition": {builderDoc}, "step_index": {"2"}, "sample_event": {sample},
			"step_output.tell": {tellOutput}}
		p = br.do(http.MethodPost, base+"vars", form, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, `data-insert="{{ trigger.body.name }}"`)
		require.Contains(t, p.body, `data-insert="{{ trigger.body.lead[&#34;e-mail&#34;] }}"`)
		require.Contains(t, p.body, `data-insert="{{ steps.tell.output.message_id }}"`)
		require.Contains(t, p.body, "Test step greet to list its output.")
		// The first step's picker lists no step.
		form.Set("step_index", "0")
		p = br.do(http.MethodPost, base+"vars", form, htmx)
		require.NotContains(t, p.body, "steps.tell")

		// The history offers the request; choosing it makes it the sample.
		p = br.do(http.MethodGet, base+"history", nil, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, `<option value="`+sample+`">`)
		p = br.do(http.MethodGet, base+"sample?sample_history="+sample, nil, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, `name="sample_event" value="`+sample+`"`)

		// Pasted JSON: a tree without sample_event; bad JSON is said so.
		p = br.do(http.MethodPost, base+"sample", url.Values{"sample_json": {`{"first name":"Bob"}`}}, htmx)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Contains(t, p.body, `trigger.body[&#34;first name&#34;]`)
		require.NotContains(t, p.body, "sample_event")
		p = br.do(http.MethodPost, base+"sample", url.Values{"sample_json": {`{"first name":`}}, htmx)
		require.Contains(t, p.body, "sample_json: is not valid JSON")
		p = br.do(http.MethodPost, base+"vars", url.Values{"definition": {builderDoc}, "step_index": {"1"}}, htmx)
		require.Contains(t, p.body, "No sample yet")

		// In Russian.
		ru := map[string]string{"HX-Request": "true", "X-CSRF-Token": csrf, "Accept-Language": "ru"}
		p = br.do(http.MethodGet, base+"listen", nil, ru)
		require.Contains(t, p.body, "Ждём запрос на адрес вебхука")
		p = br.do(http.MethodPost, base+"vars", url.Values{"definition": {builderDoc}, "step_index": {"1"}}, ru)
		require.Contains(t, p.body, "Образца пока нет")
		require.Contains(t, p.body, "Проверьте шаг greet")
	})
}

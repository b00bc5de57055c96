package ui_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/web/ui"
)

// registered are the specs of every connector a Hookflow binary registers, core included.
func registered() []connectors.Spec {
	var out []connectors.Spec
	for _, c := range engine.WithCore(connectors.Default).Connectors() {
		out = append(out, c.Spec())
	}
	return out
}

// TestConnectorTextsAreComplete walks every registered connector's spec: each of its texts
// (connector, connection fields, actions, poll triggers, their inputs and choices) has
// Russian, its own or the shared one, and every Russian key names a text that exists.
// English has no file: it is the spec.
func TestConnectorTextsAreComplete(t *testing.T) {
	t.Parallel()
	require.Nil(t, ui.ConnectorTextFile("en"), "English is the specs' own text")
	ru := ui.ConnectorTextFile("ru")
	require.NotEmpty(t, ru)
	known := map[string]bool{}
	var missing []string
	for _, spec := range registered() {
		for _, text := range ui.ConnectorTexts(spec) {
			known[text.Key] = true
			if text.Shared != "" {
				known[text.Shared] = true
			}
			if ru[text.Key] == "" && (text.Shared == "" || ru[text.Shared] == "") {
				missing = append(missing, text.Key+" ("+text.English+")")
			}
		}
	}
	require.Empty(t, missing, "Russian lacks these connector texts (add them to locales/connectors.ru.json)")
	var stale []string
	for k, v := range ru {
		if !known[k] {
			stale = append(stale, k)
		}
		require.NotEmpty(t, strings.TrimSpace(v), k)
		require.NotContains(t, v, "`", "%s: connector texts are plain text", k)
	}
	sort.Strings(stale)
	require.Empty(t, stale, "these Russian keys name nothing in the registered specs (renamed or removed, or an English text changed from the shared one)")
}

// field returns the field of that name.
func field(fields []connectors.Field, name string) connectors.Field {
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	return connectors.Field{}
}

// TestLocalSpecTranslatesActions: the spec helper translates an action, its inputs
// (nested ones too) and their choices, shared lead fields included; English is the spec
// unchanged, and the registered spec is not touched.
func TestLocalSpecTranslatesActions(t *testing.T) {
	t.Parallel()
	reg := engine.WithCore(connectors.Default)
	tg, ok := reg.Connector("telegram")
	require.True(t, ok)
	require.Equal(t, tg.Spec(), ui.LocalSpec("en", tg.Spec()))

	ru := ui.LocalSpec("ru", tg.Spec())
	require.Equal(t, "Telegram", ru.Title)
	send, ok := ru.Action("send_message")
	require.True(t, ok)
	require.Equal(t, "Отправить сообщение", send.Title)
	require.Contains(t, send.Description, "Отправляет текстовое сообщение")
	require.Equal(t, "Чат", field(send.Inputs, "chat_id").Title)
	require.Equal(t, "Форматирование", field(send.Inputs, "parse_mode").Title)
	require.Equal(t, []string{"HTML", "MarkdownV2", "Markdown"}, field(send.Inputs, "parse_mode").Enum, "values stay")
	require.Equal(t, "Обновления бота", ru.Pollers[0].Title)
	require.Equal(t, "Сколько обновлений за опрос", ru.Pollers[0].Inputs[0].Title)

	tgSpec := tg.Spec()
	orig, _ := tgSpec.Action("send_message")
	require.Equal(t, "Send message", orig.Title, "the registered spec is unchanged")
	require.Equal(t, "Chat", orig.Inputs[0].Title)

	amo, _ := reg.Connector("amocrm")
	amoSpec, amoRU := amo.Spec(), ui.LocalSpec("ru", amo.Spec())
	lead, _ := amoSpec.Action("create_lead")
	dedupe := field(lead.Inputs, "dedupe")
	require.Equal(t, "по email или телефону", ui.OptionLabel("ru", "amocrm", "create_lead", dedupe, "email_or_phone"), "a shared choice")
	require.Equal(t, "email_or_phone", ui.OptionLabel("en", "amocrm", "create_lead", dedupe, "email_or_phone"))
	ruLead, _ := amoRU.Action("create_lead")
	require.Equal(t, "Создать сделку", ruLead.Title)
	require.Equal(t, "Телефон", field(ruLead.Inputs, "phone").Title, "a shared lead field")
	require.Equal(t, "Бюджет", field(ruLead.Inputs, "price").Title, "amoCRM's own field")
	find, _ := amoRU.Action("find_contact")
	require.Equal(t, "Телефон", field(find.Inputs, "phone").Title, "the shared title")
	require.Equal(t, "Номер телефона контакта.", field(find.Inputs, "phone").Description, "its own description")

	ms, _ := reg.Connector("moysklad")
	msRU := ui.LocalSpec("ru", ms.Spec())
	order, _ := msRU.Action("create_customer_order")
	positions := field(order.Inputs, "positions")
	require.Equal(t, "Позиции", positions.Title)
	require.Equal(t, "Позиция", positions.Items.Title)
	require.Equal(t, "Количество", field(positions.Items.Fields, "quantity").Title, "an array item's known key")

	core, _ := reg.Connector("core")
	coreRU := ui.LocalSpec("ru", core.Spec())
	delay, _ := coreRU.Action("delay")
	require.Equal(t, "Пауза", delay.Title)
}

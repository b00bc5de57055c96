package templates_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/workflows/templates"
)

// The templates issue 14 asks for, in the order the builder shows them.
var wantIDs = []string{
	"site-form-amocrm-telegram",
	"tilda-bitrix24-lead",
	"moysklad-order-telegram",
	"github-push-telegram",
	"stripe-payment-email-receipt",
	"schedule-http-report-email",
	"poll-api-telegram",
	"failed-run-alert-telegram",
}

func TestList(t *testing.T) {
	t.Parallel()
	list := templates.List()
	var ids []string
	for _, tpl := range list {
		ids = append(ids, tpl.ID)
		for _, lang := range []string{"en", "ru"} {
			require.NotEmpty(t, tpl.Name[lang], tpl.ID)
			require.NotEmpty(t, tpl.Description[lang], tpl.ID)
		}
		require.NotEmpty(t, tpl.Category, tpl.ID)
		require.NotEmpty(t, tpl.Connections, tpl.ID)
		got, ok := templates.Get(tpl.ID)
		require.True(t, ok)
		require.Equal(t, tpl.ID, got.ID)
	}
	require.Equal(t, wantIDs, ids)
	_, ok := templates.Get("nope")
	require.False(t, ok)
}

// sampleParams fills every connection role with a name and every field with its example.
func sampleParams(tpl templates.Template) templates.Params {
	p := templates.Params{Connections: map[string]string{}, Fields: map[string]any{}}
	for _, c := range tpl.Connections {
		p.Connections[c.Role] = "my-" + c.Role
	}
	for _, f := range tpl.Fields {
		p.Fields[f.Key] = f.Example
	}
	return p
}

// TestTemplatesValidate instantiates every template with sample params and validates the
// result as `hookflow validate` and the API do, against every built-in connector; each
// connection a step, the webhook's auth or the poll names belongs to the connector its
// role says.
func TestTemplatesValidate(t *testing.T) {
	t.Parallel()
	for _, tpl := range templates.List() {
		t.Run(tpl.ID, func(t *testing.T) {
			t.Parallel()
			for _, f := range tpl.Fields {
				require.NotEmpty(t, f.Example, "field %s has an example", f.Key)
			}
			doc, err := templates.Instantiate(tpl.ID, sampleParams(tpl))
			require.NoError(t, err)
			require.NotContains(t, string(doc), templates.ParamPrefix)
			require.NotContains(t, string(doc), templates.ConnectionPrefix)
			def, err := engine.ValidateDefinition(doc, false, connectors.Default)
			require.NoError(t, err, string(doc))
			require.Equal(t, tpl.Name["en"], def.Name)

			roles := map[string]string{}
			for _, c := range tpl.Connections {
				_, ok := connectors.Default.Connector(c.Connector)
				require.True(t, ok, "connector %s exists", c.Connector)
				roles["my-"+c.Role] = c.Connector
			}
			used := map[string]bool{}
			check := func(conn, connector, where string) {
				if conn == "" {
					return
				}
				require.Equal(t, roles[conn], connector, "%s: connection %s", where, conn)
				used[conn] = true
			}
			for _, st := range def.Steps {
				check(st.Connection, strings.SplitN(st.Uses, ".", 2)[0], st.ID)
			}
			if wh := def.Trigger.Webhook; wh != nil && wh.Auth != nil {
				check(wh.Auth.Connection, "webhook", "trigger.webhook.auth")
			}
			if poll := def.Trigger.Poll; poll != nil {
				check(poll.Connection, strings.SplitN(poll.Uses, ".", 2)[0], "trigger.poll")
			}
			require.Len(t, used, len(roles), "every connection is used")
		})
	}
}

func TestInstantiate(t *testing.T) {
	t.Parallel()
	doc, err := templates.Instantiate("site-form-amocrm-telegram", templates.Params{
		Connections: map[string]string{"crm": "amo", "bot": "sales-bot"},
		Fields:      map[string]any{"chat_id": " -1001234567890 "},
	})
	require.NoError(t, err)
	def, err := workflow.Parse(doc)
	require.NoError(t, err)
	require.Equal(t, "amo", def.Steps[0].Connection)
	require.Equal(t, "sales-bot", def.Steps[1].Connection)
	require.Equal(t, int64(-1001234567890), def.Steps[1].With["chat_id"], "a numeric chat id is a JSON number")
	require.Contains(t, def.Steps[1].With["text"], "{{ steps.lead.output.id }}", "templates stay as written")
	require.Equal(t, "Site form to amoCRM and Telegram", def.Name)

	// A channel by name stays a string; the name and description follow the language.
	doc, err = templates.Instantiate("site-form-amocrm-telegram", templates.Params{
		Connections: map[string]string{"crm": "amo", "bot": "sales-bot"},
		Fields:      map[string]any{"chat_id": "@my_sales_channel"},
		Lang:        "ru",
	})
	require.NoError(t, err)
	def, err = workflow.Parse(doc)
	require.NoError(t, err)
	require.Equal(t, "@my_sales_channel", def.Steps[1].With["chat_id"])
	require.Equal(t, "Заявка с сайта в amoCRM и Telegram", def.Name)
	require.True(t, strings.HasPrefix(def.Description, "Каждая заявка"))

	// JSON numbers, defaults, a name of one's own.
	doc, err = templates.Instantiate("schedule-http-report-email", templates.Params{
		Connections: map[string]string{"api": "shop-api", "mail": "office"},
		Fields:      map[string]any{"path": "/reports/daily", "to": "team@example.com", "timezone": ""},
		Name:        "Morning report",
	})
	require.NoError(t, err)
	def, err = workflow.Parse(doc)
	require.NoError(t, err)
	require.Equal(t, "Morning report", def.Name)
	require.Equal(t, "0 9 * * 1-5", def.Trigger.Schedule.Cron, "the default")
	require.Equal(t, "Europe/Moscow", def.Trigger.Schedule.Timezone, "an empty field takes the default")
	require.Equal(t, "team@example.com", def.Steps[1].With["to"])

	var generic map[string]any
	require.NoError(t, json.Unmarshal(doc, &generic))
	require.NotContains(t, generic, "order", "template metadata stays out of the workflow")
}

func TestInstantiateErrors(t *testing.T) {
	t.Parallel()
	_, err := templates.Instantiate("nope", templates.Params{})
	require.EqualError(t, err, `unknown template "nope"`)

	for _, tc := range []struct {
		name string
		id   string
		p    templates.Params
		want []templates.Problem
	}{
		{"nothing given", "site-form-amocrm-telegram", templates.Params{}, []templates.Problem{
			{Kind: "connection", Key: "bot", Message: "is required: choose a connection of the telegram connector"},
			{Kind: "connection", Key: "crm", Message: "is required: choose a connection of the amocrm connector"},
			{Kind: "field", Key: "chat_id", Message: "is required"},
		}},
		{"bad values and unknown keys", "site-form-amocrm-telegram", templates.Params{
			Connections: map[string]string{"crm": "Amo CRM", "bot": "bot", "mail": "x"},
			Fields:      map[string]any{"chat_id": "sales chat", "colour": "red"},
		}, []templates.Problem{
			{Kind: "connection", Key: "crm", Message: `"Amo CRM" is not a connection name (lower-case letters, digits, - and _)`},
			{Kind: "connection", Key: "mail", Message: "is not used by this template"},
			{Kind: "field", Key: "chat_id", Message: `"sales chat" is neither a chat id such as -1001234567890 nor an @username`},
			{Kind: "field", Key: "colour", Message: "is not used by this template"},
		}},
		{"chat id zero, bad username", "failed-run-alert-telegram", templates.Params{
			Connections: map[string]string{"bot": "bot"}, Fields: map[string]any{"chat_id": 0},
		}, []templates.Problem{{Kind: "field", Key: "chat_id", Message: "0 is neither a chat id such as -1001234567890 nor an @username"}}},
		{"email, cron, time zone", "schedule-http-report-email", templates.Params{
			Connections: map[string]string{"api": "api", "mail": "mail"},
			Fields:      map[string]any{"path": "/r", "to": "Team <team@example.com>", "cron": "0 25 * * *", "timezone": "Moscow"},
		}, []templates.Problem{
			{Kind: "field", Key: "cron", Message: `"0 25 * * *": invalid cron expression "0 25 * * *": end of range (25) above maximum (23): 25`},
			{Kind: "field", Key: "timezone", Message: `"Moscow" is not a time zone such as Europe/Moscow`},
			{Kind: "field", Key: "to", Message: `"Team <team@example.com>" is not an email address such as team@example.com`},
		}},
		{"text for a text field", "stripe-payment-email-receipt", templates.Params{
			Connections: map[string]string{"hook": "stripe", "mail": "mail"},
			Fields:      map[string]any{"shop_name": 42, "reply_to": "shop@example"},
		}, []templates.Problem{
			{Kind: "field", Key: "reply_to", Message: `"shop@example" is not an email address such as team@example.com`},
			{Kind: "field", Key: "shop_name", Message: "must be text, not int"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := templates.Instantiate(tc.id, tc.p)
			var pe *templates.ParamsError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.Equal(t, tc.id, pe.Template)
			require.Equal(t, tc.want, pe.Problems)
		})
	}
	_, err = templates.Instantiate("failed-run-alert-telegram", templates.Params{})
	require.EqualError(t, err, "template failed-run-alert-telegram: connection bot: is required: choose a connection of the telegram connector; field chat_id: is required")
}

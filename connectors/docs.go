package connectors

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Markdown renders a connector's reference page from its spec, the source of
// docs/connectors/<name>.md. Regenerate the pages with `make generate`.
func Markdown(c *Connector) string {
	spec := c.Spec()
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- Generated from the %s connector's spec by `make generate`. Do not edit. -->\n\n", c.Name)
	fmt.Fprintf(&b, "# %s (`%s`)\n\n", c.Title, c.Name)
	if c.Description != "" {
		b.WriteString(c.Description + "\n\n")
	}
	b.WriteString("## Connection\n\n")
	switch {
	case len(spec.Connection) == 0:
		b.WriteString("This connector takes no connection.\n\n")
	default:
		switch {
		case len(c.Actions) == 0:
			b.WriteString("This connector has no actions: its connections only hold settings that other parts of Hookflow read.\n\n")
		case c.ConnectionRequired:
			b.WriteString("Every step must name a connection of this connector.\n\n")
		default:
			b.WriteString("A connection is optional.\n\n")
		}
		b.WriteString("Secret settings are encrypted at rest and never returned by the API.\n\n")
		if names := spec.EndpointFields(); len(names) > 0 && len(spec.SecretFields()) > 0 {
			fmt.Fprintf(&b, "An update that changes %s without sending the secrets again is refused: the secrets stay with "+
				"the destination they were saved for ([connections.md](../connections.md#secrets-stay-with-their-destination)).\n\n",
				joinCode(names))
		}
		fieldTable(&b, spec.Connection, true)
		example := map[string]any{}
		for _, f := range spec.Connection {
			switch {
			case len(f.Examples) > 0:
				example[f.Name] = f.Examples[0]
			case f.Default != nil:
				example[f.Name] = f.Default
			}
		}
		if len(example) > 0 {
			js, _ := json.MarshalIndent(map[string]any{"name": "my-" + strings.ReplaceAll(c.Name, "_", "-"), "connector": c.Name, "config": example}, "", "  ")
			b.WriteString("```json\n" + string(js) + "\n```\n\n")
		}
	}
	for _, a := range c.Actions {
		fmt.Fprintf(&b, "## `%s.%s`: %s\n\n", c.Name, a.Name, a.Title)
		if a.Description != "" {
			b.WriteString(a.Description + "\n\n")
		}
		if a.Idempotent {
			b.WriteString("Sends the step's idempotency key, so a retry after an unknown outcome does not act twice.\n\n")
		}
		b.WriteString("### Inputs\n\n")
		if len(a.Inputs) == 0 {
			b.WriteString("None.\n\n")
		} else {
			fieldTable(&b, a.Inputs, false)
		}
		if a.FreeInputs {
			b.WriteString("Inputs of any other name are accepted too.\n\n")
		}
		if len(a.Outputs) > 0 {
			b.WriteString("### Output\n\n")
			fieldTable(&b, a.Outputs, false)
		}
	}
	for _, p := range c.Pollers {
		fmt.Fprintf(&b, "## Poll trigger `%s.%s`: %s\n\n", c.Name, p.Name, p.Title)
		if p.Description != "" {
			b.WriteString(p.Description + "\n\n")
		}
		fmt.Fprintf(&b, "Use it as `\"trigger\": {\"type\": \"poll\", \"poll\": {\"uses\": \"%s.%s\", \"cron\": \"@every 1m\", \"with\": {...}}}`. "+
			"Each item not seen before starts one run, which reads it as `trigger.item`.", c.Name, p.Name)
		if p.DefaultKey != "" {
			fmt.Fprintf(&b, " Items are told apart by `%s` unless the trigger's `key` says otherwise.", p.DefaultKey)
		}
		b.WriteString("\n\n### Inputs\n\n")
		if len(p.Inputs) == 0 {
			b.WriteString("None.\n\n")
		} else {
			fieldTable(&b, p.Inputs, false)
		}
		if len(p.Item) > 0 {
			b.WriteString("### Item\n\n")
			fieldTable(&b, p.Item, false)
		}
	}
	if c.RegisterWebhook != nil {
		b.WriteString("## Webhook registration\n\n")
		b.WriteString("`POST /api/v1/connections/{name}/webhook` with `{\"workflow_id\": \"...\"}` tells the service to send its events " +
			"to that workflow's webhook URL, signed or tagged with the secret of the workflow's webhook auth connection; " +
			"`DELETE /api/v1/connections/{name}/webhook?workflow_id=...` removes the registration.\n\n")
	}
	return b.String()
}

func fieldTable(b *strings.Builder, fields []Field, showSecret bool) {
	if showSecret {
		b.WriteString("| Name | Type | Required | Secret | Default | Description |\n|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("| Name | Type | Required | Default | Description |\n|---|---|---|---|---|\n")
	}
	for _, f := range fields {
		typ := string(f.Type)
		if f.Expression {
			typ = "expression"
		}
		if len(f.Enum) > 0 {
			typ = "`" + strings.Join(f.Enum, "` \\| `") + "`"
		}
		def := ""
		if f.Default != nil {
			js, _ := json.Marshal(f.Default)
			def = "`" + string(js) + "`"
		}
		desc := strings.ReplaceAll(f.Description, "|", "\\|")
		desc = strings.ReplaceAll(desc, "\n", " ")
		req := ""
		if f.Required {
			req = "yes"
		}
		if showSecret {
			sec := ""
			if f.Secret {
				sec = "yes"
			}
			fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s |\n", f.Name, typ, req, sec, def, desc)
		} else {
			fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", f.Name, typ, req, def, desc)
		}
	}
	b.WriteString("\n")
}

// joinCode writes names as `a`, `b` or `c`.
func joinCode(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "`" + n + "`"
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

package bitrix24

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Poller input names.
const (
	inSelect   = "select"
	inFilter   = "filter"
	inMaxItems = "max_items"
)

const (
	// maxItemsDefault is the most leads one poll returns: ten pages of 50. The rest come
	// with the next polls, so a backlog does not hold the trigger's slot for minutes.
	maxItemsDefault = 500
	maxItemsMax     = 5000
)

// selectDefault is every plain field, the custom ones, and the multi-fields list
// methods leave out unless named.
var selectDefault = []string{"*", "UF_*", "PHONE", "EMAIL"}

var newLeadsPoller = &connectors.PollerDef{
	PollerSpec: connectors.PollerSpec{
		Name:  "new_leads",
		Title: "New leads",
		Description: "Each lead created since the last poll, fetched with crm.lead.list ordered by ID with the " +
			"vendor-recommended {\">ID\": <last id>} cursor, following next across pages of 50. Each lead starts one run " +
			"with trigger.item holding the lead's id, title, name, first phone and email, and the whole lead as returned " +
			"(trigger.item.lead.UF_CRM_…). The first poll only notes the newest lead, so " +
			"existing leads start no runs (unless the trigger asks for a backfill, which gets the newest 50).",
		Inputs: []connectors.Field{
			{Name: inSelect, Type: connectors.TypeArray, Title: "Fields",
				Items: &connectors.Field{Name: "field", Type: connectors.TypeString, Title: "Field",
					Description: "A lead field name, or * (plain fields) or UF_* (custom fields)."},
				Description: "The lead fields each item holds. Default: *, UF_*, PHONE and EMAIL. ID is always included.",
				Examples:    []any{[]any{"ID", "TITLE", "NAME", "PHONE", "EMAIL", "UF_CRM_1700000000"}}},
			{Name: inFilter, Type: connectors.TypeObject, Title: "Filter",
				Description: "More crm.lead.list filter conditions, with Bitrix24's prefixes: {\"SOURCE_ID\": \"WEB\"}, " +
					"{\"!STATUS_ID\": \"JUNK\"}. Leads the filter leaves out are skipped for good: the cursor moves past them.",
				Examples: []any{map[string]any{"SOURCE_ID": "WEB"}}},
			{Name: inMaxItems, Type: connectors.TypeInteger, Title: "Leads per poll", Default: maxItemsDefault,
				Description: "Most leads one poll fetches, 50 to 5000; the rest come with the next polls."},
		},
		Item: []connectors.Field{
			{Name: "id", Type: connectors.TypeInteger, Title: "Lead id", Description: "The lead's id; the trigger's default key."},
			{Name: "title", Type: connectors.TypeString, Title: "Title", Description: "TITLE of the lead."},
			{Name: "name", Type: connectors.TypeString, Title: "First name", Description: "NAME of the lead."},
			{Name: "last_name", Type: connectors.TypeString, Title: "Last name", Description: "LAST_NAME of the lead."},
			{Name: "phone", Type: connectors.TypeString, Title: "Phone", Description: "The first of the lead's phones, \"\" for none."},
			{Name: "email", Type: connectors.TypeString, Title: "Email", Description: "The first of the lead's emails, \"\" for none."},
			{Name: "date_create", Type: connectors.TypeString, Title: "Created", Description: "DATE_CREATE, ISO 8601 with the portal's offset."},
			{Name: "lead", Type: connectors.TypeObject, Title: "Lead",
				Description: "The lead as crm.lead.list returned it, with Bitrix24's field names: ID, SOURCE_ID, UTM_SOURCE, " +
					"UF_CRM_…, PHONE and EMAIL as lists of {ID, VALUE, VALUE_TYPE, TYPE_ID}. Bitrix24 sends numbers as strings."},
		},
		DefaultKey: "item.id",
	},
	New: func() connectors.Poller { return &newLeadsPoll{} },
}

var _ connectors.Poller = (*newLeadsPoll)(nil)

type newLeadsPoll struct{}

type newLeadsInput struct {
	Select   []string       `json:"select"`
	Filter   map[string]any `json:"filter"`
	MaxItems *int           `json:"max_items"`
}

// Poll lists the leads after the cursor, oldest first. The cursor is the last lead id
// returned, saved by the engine with the runs.
func (p *newLeadsPoll) Poll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	var in newLeadsInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	maxItems := maxItemsDefault
	if in.MaxItems != nil {
		maxItems = min(max(*in.MaxItems, 50), maxItemsMax)
	}
	sel := in.Select
	if len(sel) == 0 {
		sel = selectDefault
	} else if !slices.Contains(sel, "ID") {
		sel = append([]string{"ID"}, sel...)
	}
	filter := map[string]any{}
	for k, v := range in.Filter {
		if strings.TrimLeft(k, "<>=!@%") == "ID" {
			return nil, connectors.Permanent(fmt.Errorf("poll bitrix24 leads for workflow %s: filter: ID is the poller's cursor", call.WorkflowID))
		}
		filter[k] = v
	}
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, fmt.Errorf("poll bitrix24 leads for workflow %s: %w", call.WorkflowID, err)
	}
	last, hasCursor := cursorID(call.Cursor)
	if call.Cursor != nil && !hasCursor && call.Logger != nil {
		call.Logger.LogAttrs(ctx, slog.LevelWarn, "Ignoring unreadable Bitrix24 leads cursor", slog.String("cursor", fmt.Sprint(call.Cursor)))
	}
	params := map[string]any{"select": sel, "filter": filter}
	var leads []map[string]any
	if hasCursor {
		filter[">ID"] = last
		params["order"] = map[string]any{"ID": "ASC"}
		leads, _, err = api.list(ctx, "crm.lead.list", params, maxItems)
	} else {
		// No cursor yet: only the newest page, to learn where to start.
		params["order"] = map[string]any{"ID": "DESC"}
		leads, _, err = api.list(ctx, "crm.lead.list", params, 1)
		if len(leads) > 50 {
			leads = leads[:50]
		}
		slices.Reverse(leads)
	}
	if err != nil {
		return nil, fmt.Errorf("poll bitrix24 leads for workflow %s: %w", call.WorkflowID, err)
	}
	items := make([]any, 0, len(leads))
	for _, l := range leads {
		id, _ := idOf(l["ID"])
		last = max(last, id)
		items = append(items, leadItem(id, l))
	}
	return &connectors.PollResult{Items: items, Cursor: last}, nil
}

// cursorID reads a saved cursor: the last lead id.
func cursorID(c any) (int64, bool) {
	if c == nil {
		return 0, false
	}
	if n, ok := connectors.Int64(c); ok {
		return n, true
	}
	return idOf(c)
}

// leadItem is one poll item: the fields templates use most under plain names, and the
// lead itself.
func leadItem(id int64, l map[string]any) map[string]any {
	text := func(k string) string { s, _ := l[k].(string); return s }
	return map[string]any{
		"id": id, "title": text("TITLE"), "name": text("NAME"), "last_name": text("LAST_NAME"),
		"phone": firstValue(l["PHONE"]), "email": firstValue(l["EMAIL"]), "date_create": text("DATE_CREATE"),
		"lead": connectors.NormalizeNumbers(map[string]any(l)),
	}
}

// firstValue is the VALUE of a multi-field's first entry.
func firstValue(v any) string {
	list, _ := v.([]any)
	if len(list) == 0 {
		return ""
	}
	m, _ := list[0].(map[string]any)
	s, _ := m["VALUE"].(string)
	return s
}

package amocrm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Input names of the amocrm.new_leads poller.
const (
	inPollPipeline = "pipeline_id"
	inWithContacts = "with_contacts"
)

const (
	// pollPageSize is amoCRM's largest page.
	pollPageSize = 250
	// pollMaxPages bounds one poll; the next poll continues from the newest lead seen.
	pollMaxPages = 20
	// pollOverlap is how far before the newest created_at seen the next poll starts:
	// leads created in the same second, or committed late, are not missed. The engine
	// drops the leads it has seen by id.
	pollOverlap = 60 * time.Second
	// pollFirstLookback is how far back the first poll looks. What it finds is only
	// recorded as seen (unless the trigger asks for a backfill).
	pollFirstLookback = time.Hour
)

// timeNowFunc is the clock of the first poll; tests replace it.
var timeNowFunc = time.Now

var newLeadsPoller = &connectors.PollerDef{
	PollerSpec: connectors.PollerSpec{
		Name:  "new_leads",
		Title: "New leads",
		Description: "Starts a run for each lead created since the last poll, oldest first, with the lead as trigger.item. " +
			"Polls GET /api/v4/leads filtered by created_at and ordered by it, page by page (250 leads a page, up to 5,000 " +
			"a poll; the rest come with the next poll). Each poll starts a minute before the newest lead seen, so leads " +
			"created in the same second are not missed; leads seen before are dropped by id. The first poll looks back an hour.",
		Inputs: []connectors.Field{
			{Name: inPollPipeline, Type: connectors.TypeInteger, Title: "Pipeline id",
				Description: "Only leads of this pipeline. Empty: every pipeline."},
			{Name: inWithContacts, Type: connectors.TypeBoolean, Title: "With contact ids", Default: false,
				Description: "Embed the ids of each lead's contacts (_embedded.contacts)."},
		},
		Item: []connectors.Field{
			{Name: "id", Type: connectors.TypeInteger, Title: "Lead id", Description: "The lead's id; the trigger's default key."},
			{Name: "name", Type: connectors.TypeString, Title: "Name", Description: "The lead's name."},
			{Name: "price", Type: connectors.TypeInteger, Title: "Budget", Description: "The lead's budget."},
			{Name: "pipeline_id", Type: connectors.TypeInteger, Title: "Pipeline id", Description: "The lead's pipeline."},
			{Name: "status_id", Type: connectors.TypeInteger, Title: "Status id", Description: "The lead's stage."},
			{Name: "responsible_user_id", Type: connectors.TypeInteger, Title: "Responsible user id", Description: "The user responsible for the lead."},
			{Name: "created_at", Type: connectors.TypeInteger, Title: "Created at", Description: "When the lead was created, unix seconds."},
			{Name: "custom_fields_values", Type: connectors.TypeArray, Title: "Custom fields",
				Description: "The lead's custom field values (field_id, field_code, values), or null."},
			{Name: "tags", Type: connectors.TypeArray, Title: "Tags", Description: "The names of the lead's tags (from _embedded.tags).",
				Items: &connectors.Field{Name: "tag", Type: connectors.TypeString, Title: "Tag", Description: "A tag's name."}},
			{Name: "contact_ids", Type: connectors.TypeArray, Title: "Contact ids",
				Description: "With with_contacts: the ids of the lead's contacts, the main one first. The raw _embedded object is kept too.",
				Items:       &connectors.Field{Name: "id", Type: connectors.TypeInteger, Title: "Contact id", Description: "A contact's id."}},
		},
		DefaultKey: "item.id",
	},
	New: func() connectors.Poller { return &newLeadsPoll{} },
}

var _ connectors.Poller = (*newLeadsPoll)(nil)

// newLeadsPoll is one poll of amocrm.new_leads.
type newLeadsPoll struct{}

// Poll reads the leads created since the cursor (less the overlap), oldest first, and
// returns the newest created_at as the next cursor.
func (p *newLeadsPoll) Poll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	fail := func(err error) error {
		return fmt.Errorf("poll amocrm new leads for workflow %s: %w", call.WorkflowID, err)
	}
	log := call.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	api, err := newAPI(call.Connection, log)
	if err != nil {
		return nil, fail(err)
	}
	base := url.Values{"order[created_at]": {"asc"}, "limit": {strconv.Itoa(pollPageSize)}}
	if v, ok := call.Input[inPollPipeline]; ok && v != nil && v != "" {
		n, ok := connectors.Int64(v)
		if s, isString := v.(string); isString {
			n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			ok = err == nil
		}
		if !ok {
			return nil, fail(connectors.Permanent(fmt.Errorf("pipeline_id must be a whole number, got %v", v)))
		}
		base.Set("filter[pipeline_id]", strconv.FormatInt(n, 10))
	}
	if call.Input[inWithContacts] == true {
		base.Set("with", "contacts")
	}
	newest, hasCursor := cursorTime(call.Cursor)
	if !hasCursor && call.Cursor != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "Ignoring unreadable amoCRM leads cursor", slog.String("cursor", fmt.Sprint(call.Cursor)))
	}
	from := newest - int64(pollOverlap/time.Second)
	if !hasCursor {
		newest = timeNowFunc().Add(-pollOverlap).Unix()
		from = timeNowFunc().Add(-pollFirstLookback).Unix()
	}
	base.Set("filter[created_at][from]", strconv.FormatInt(max(from, 0), 10))

	var items []any
	for page := 1; page <= pollMaxPages; page++ {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(page))
		var list struct {
			Links struct {
				Next *json.RawMessage `json:"next"`
			} `json:"_links"`
			Embedded struct {
				Leads json.RawMessage `json:"leads"`
			} `json:"_embedded"`
		}
		found, err := api.get(ctx, "/api/v4/leads", q, &list)
		if err != nil {
			return nil, fail(err)
		}
		if !found { // 204: no (more) leads
			break
		}
		leads, err := decodeLeads(list.Embedded.Leads)
		if err != nil {
			return nil, fail(connectors.Permanent(err))
		}
		items = append(items, leads...)
		if list.Links.Next == nil || len(leads) == 0 {
			break
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].(map[string]any), items[j].(map[string]any)
		ca, _ := a["created_at"].(int64)
		cb, _ := b["created_at"].(int64)
		if ca != cb {
			return ca < cb
		}
		ia, _ := a["id"].(int64)
		ib, _ := b["id"].(int64)
		return ia < ib
	})
	for _, it := range items {
		if c, _ := it.(map[string]any)["created_at"].(int64); c > newest {
			newest = c
		}
	}
	log.LogAttrs(ctx, slog.LevelDebug, "Polled amoCRM leads", slog.Int64("from", from), slog.Int("leads", len(items)), slog.Int64("cursor", newest))
	return &connectors.PollResult{Items: items, Cursor: newest}, nil
}

// decodeLeads decodes a page's leads with integers as int64, as the engine keeps them.
func decodeLeads(raw json.RawMessage) ([]any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	v, err := connectors.DecodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("read leads: %w", err)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("read leads: expected a list, got %s", connectors.JSONTypeOf(v))
	}
	for i, l := range list {
		m, ok := l.(map[string]any)
		if _, isInt := m["id"].(int64); !ok || !isInt {
			return nil, fmt.Errorf("read leads: lead %d has no integer id", i)
		}
		if _, isInt := m["created_at"].(int64); !isInt {
			return nil, fmt.Errorf("read leads: lead %d has no integer created_at", i)
		}
		// Flat copies of what workflows use most, so they need not dig in _embedded.
		tags := []any{}
		for _, t := range embedded(m, "tags") {
			if tm, ok := t.(map[string]any); ok && tm["name"] != nil {
				tags = append(tags, tm["name"])
			}
		}
		m["tags"] = tags
		if e, _ := m["_embedded"].(map[string]any); e != nil && e["contacts"] != nil {
			ids := []any{}
			if main := mainContact(m); main != 0 {
				ids = append(ids, main)
			}
			for _, c := range embedded(m, "contacts") {
				cm, _ := c.(map[string]any)
				if id, _ := connectors.Int64(cm["id"]); id != 0 && id != mainContact(m) {
					ids = append(ids, id)
				}
			}
			m["contact_ids"] = ids
		}
	}
	return list, nil
}

// cursorTime reads the saved cursor, the newest created_at seen (unix seconds).
func cursorTime(cursor any) (int64, bool) {
	if cursor == nil {
		return 0, false
	}
	n, ok := connectors.Int64(cursor)
	if s, isString := cursor.(string); isString {
		var err error
		n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		ok = err == nil
	}
	return n, ok && n > 0
}

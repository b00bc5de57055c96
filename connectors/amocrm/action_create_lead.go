package amocrm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Input names of amocrm.create_lead besides the shared lead inputs.
const (
	inLeadName     = "lead_name"
	inPrice        = "price"
	inPipelineID   = "pipeline_id"
	inStatusID     = "status_id"
	inResponsible  = "responsible_user_id"
	inTags         = "tags"
	inCustomFields = "custom_fields"
)

// Output names of amocrm.create_lead.
const (
	outID        = "id"
	outContactID = "contact_id"
	outCreated   = "created"
	outMerged    = "merged"
	outReplayed  = "replayed"
)

const (
	// idempotencyTagPrefix starts the tag that marks a lead with its step's idempotency
	// key, so that a retry can find the lead an unanswered attempt created.
	idempotencyTagPrefix = "hookflow-"
	// linkedSuffix ends the tag of a lead linked to a contact that existed before, so a
	// retry can tell whether the contact was created with the lead.
	linkedSuffix = "-r"
	// retryLookback is how long before the step's first attempt a retry looks for the
	// lead, against clock skew between Hookflow and amoCRM.
	retryLookback = 10 * time.Minute
	// retryMaxPages bounds the retry's search: 250 leads a page.
	retryMaxPages = 20
)

var createLeadAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_lead",
		Title: "Create lead",
		Description: "Creates a lead (сделка) with its contact. Unless dedupe is none, it first searches contacts by the email, " +
			"then the phone, and links the new lead to the contact it finds (POST /api/v4/leads); otherwise it creates " +
			"the lead and a new contact together (POST /api/v4/leads/complex). UTM inputs go to the lead's UTM tracking fields (UTM_SOURCE…). The lead gets a " +
			"tag hookflow-<hash of the step's idempotency key> (ending in -r when the contact was found, not created) and the key as its request_id: a retry after an " +
			"unanswered attempt first looks for a lead with that tag and returns it instead of creating a second one.",
		Idempotent: true,
		Inputs: append(connectors.LeadFields(connectors.DedupeEmailOrPhone),
			connectors.Field{Name: inLeadName, Type: connectors.TypeString, Title: "Lead name",
				Description: "The lead's name (название сделки). Default: \"Lead from \" and the person's name, email or phone.",
				Examples:    []any{"Order from the site: {{ trigger.body.Name }}"}},
			connectors.Field{Name: inPrice, Type: connectors.TypeInteger, Title: "Budget",
				Description: "The lead's budget (price), a whole amount in the account's currency."},
			connectors.Field{Name: inPipelineID, Type: connectors.TypeInteger, Title: "Pipeline id",
				Description: "The pipeline to put the lead in; default the account's main pipeline. Ids are in GET /api/v4/leads/pipelines."},
			connectors.Field{Name: inStatusID, Type: connectors.TypeInteger, Title: "Status id",
				Description: "The pipeline stage; default the pipeline's first stage."},
			connectors.Field{Name: inResponsible, Type: connectors.TypeInteger, Title: "Responsible user id",
				Description: "The user responsible for the lead and its new contact; default the integration's user."},
			connectors.Field{Name: inTags, Type: connectors.TypeAny, Title: "Tags",
				Description: "Tags for the lead: a list of names, or one string with names separated by commas.",
				Examples:    []any{[]any{"site", "tilda"}}},
			connectors.Field{Name: inCustomFields, Type: connectors.TypeAny, Title: "Custom fields",
				Description: "The lead's custom field values: an object from field id (or field code) to a value, a list of " +
					"values, or an {\"enum_id\": …} object; or a list of amoCRM custom_fields_values entries as the API takes them. " +
					"Field ids are in GET /api/v4/leads/custom_fields.",
				Examples: []any{map[string]any{"512345": "From the site", "512346": []any{map[string]any{"enum_id": 7}}}}},
		),
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeInteger, Title: "Lead id", Description: "The lead's id."},
			{Name: outContactID, Type: connectors.TypeInteger, Title: "Contact id",
				Description: "The lead's contact, new or found; 0 when the lead has no contact."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Contact created",
				Description: "True when a new contact was created, false when an existing one was reused (or there is none)."},
			{Name: outMerged, Type: connectors.TypeBoolean, Title: "Merged",
				Description: "True when amoCRM's duplicate control joined the lead to an existing one; id is then that lead."},
			{Name: outReplayed, Type: connectors.TypeBoolean, Title: "Found on retry",
				Description: "True when a retry found the lead an earlier attempt created, instead of creating it."},
		},
	},
	New: func() connectors.Action { return &createLead{} },
}

var (
	_ connectors.Action    = (*createLead)(nil)
	_ connectors.Validator = (*createLead)(nil)
)

type createLead struct{}

// Validate checks the inputs a workflow can get wrong before any call.
func (a *createLead) Validate(input map[string]any) error {
	if _, err := connectors.DedupeMode(input, connectors.DedupeEmailOrPhone); err != nil {
		return err
	}
	if _, err := parseTags(input[inTags]); err != nil {
		return connectors.Permanent(err)
	}
	if _, err := customFields(input[inCustomFields], inCustomFields); err != nil {
		return connectors.Permanent(err)
	}
	return nil
}

// leadOut is a lead to create.
type leadOut struct {
	Name         string           `json:"name"`
	Price        *int64           `json:"price,omitempty"`
	PipelineID   *int64           `json:"pipeline_id,omitempty"`
	StatusID     *int64           `json:"status_id,omitempty"`
	Responsible  *int64           `json:"responsible_user_id,omitempty"`
	RequestID    string           `json:"request_id,omitempty"`
	CustomFields []map[string]any `json:"custom_fields_values,omitempty"`
	Embedded     leadEmbedded     `json:"_embedded"`
}

type leadEmbedded struct {
	Tags     []map[string]any `json:"tags,omitempty"`
	Contacts []map[string]any `json:"contacts,omitempty"`
}

// Run creates the lead, or on a retry returns the one an earlier attempt created.
func (a *createLead) Run(ctx context.Context, call *connectors.Call) (any, error) {
	fail := func(err error) error { return fmt.Errorf("create lead in amocrm for run %s: %w", call.RunID, err) }
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, fail(err)
	}
	person, err := connectors.ParseLead(call.Input, api.country)
	if err != nil {
		return nil, fail(err)
	}
	mode, err := connectors.DedupeMode(call.Input, connectors.DedupeEmailOrPhone)
	if err != nil {
		return nil, fail(err)
	}
	lead, err := buildLead(call.Input, person)
	if err != nil {
		return nil, fail(connectors.Permanent(err))
	}
	tag := idempotencyTag(call.IdempotencyKey)
	if tag != "" {
		lead.RequestID = call.IdempotencyKey
	}

	// An earlier attempt may have created the lead and lost the answer.
	if call.Attempt > 1 && tag != "" {
		out, err := api.findTaggedLead(ctx, tag, call.StartedAt)
		if err != nil {
			return nil, fail(fmt.Errorf("look for the lead of an earlier attempt: %w", err))
		}
		if out != nil {
			return out, nil
		}
	}

	var existing *contact
	if email, phone := person.SearchBy(mode); email != "" || phone != "" {
		if existing, err = api.findContact(ctx, email, phone); err != nil {
			return nil, fail(fmt.Errorf("search contacts: %w", err))
		}
	}
	if existing != nil {
		// Linking an existing contact by id is what POST /api/v4/leads documents;
		// /leads/complex is for new contacts.
		lead.Embedded.Contacts = []map[string]any{{"id": existing.ID}}
		if tag != "" {
			lead.Embedded.Tags = append(lead.Embedded.Tags, map[string]any{"name": tag + linkedSuffix})
		}
		var res struct {
			Embedded struct {
				Leads []struct {
					ID int64 `json:"id"`
				} `json:"leads"`
			} `json:"_embedded"`
		}
		if err := api.post(ctx, "/api/v4/leads", []leadOut{lead}, call.IdempotencyKey, &res); err != nil {
			return nil, fail(err)
		}
		if len(res.Embedded.Leads) != 1 || res.Embedded.Leads[0].ID == 0 {
			return nil, fail(connectors.Permanent(fmt.Errorf("amocrm answered POST /api/v4/leads with %d leads, want 1", len(res.Embedded.Leads))))
		}
		return result(res.Embedded.Leads[0].ID, existing.ID, false, false, false), nil
	}

	if c := newContact(person, lead.Responsible); c != nil {
		lead.Embedded.Contacts = []map[string]any{c}
	}
	if tag != "" {
		lead.Embedded.Tags = append(lead.Embedded.Tags, map[string]any{"name": tag})
	}
	var res []struct {
		ID        int64 `json:"id"`
		ContactID int64 `json:"contact_id"`
		Merged    bool  `json:"merged"`
	}
	if err := api.post(ctx, "/api/v4/leads/complex", []leadOut{lead}, call.IdempotencyKey, &res); err != nil {
		return nil, fail(err)
	}
	if len(res) != 1 || res[0].ID == 0 {
		return nil, fail(connectors.Permanent(fmt.Errorf("amocrm answered POST /api/v4/leads/complex with %d leads, want 1", len(res))))
	}
	r := res[0]
	return result(r.ID, r.ContactID, r.ContactID != 0 && !r.Merged, r.Merged, false), nil
}

func result(id, contactID int64, created, merged, replayed bool) map[string]any {
	return map[string]any{outID: id, outContactID: contactID, outCreated: created, outMerged: merged, outReplayed: replayed}
}

// idempotencyTag is the tag that marks the lead of one step of one run. A hash keeps it
// short and free of the characters amoCRM's tags dislike.
func idempotencyTag(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return idempotencyTagPrefix + hex.EncodeToString(sum[:8])
}

// leadList is a page of GET /api/v4/leads.
type leadList struct {
	Links struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
	Embedded struct {
		Leads []map[string]any `json:"leads"`
	} `json:"_embedded"`
}

// findTaggedLead looks for a lead with tag among those created since the step's first
// attempt began (less retryLookback), and returns create_lead's output for it, or nil.
// amoCRM cannot filter leads by tag through the API, but the created_at filter keeps the
// search to the few leads created while the step was running.
func (a *api) findTaggedLead(ctx context.Context, tag string, startedAt time.Time) (map[string]any, error) {
	if startedAt.IsZero() {
		startedAt = time.Now()
	}
	from := startedAt.Add(-retryLookback).Unix()
	for page := 1; page <= retryMaxPages; page++ {
		q := url.Values{
			"filter[created_at][from]": {strconv.FormatInt(from, 10)},
			"order[created_at]":        {"asc"},
			"with":                     {"contacts"},
			"limit":                    {"250"},
			"page":                     {strconv.Itoa(page)},
		}
		var list leadList
		found, err := a.get(ctx, "/api/v4/leads", q, &list)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, nil
		}
		for _, l := range list.Embedded.Leads {
			switch {
			case hasTag(l, tag):
				id, _ := connectors.Int64(l["id"])
				contactID := mainContact(l)
				return result(id, contactID, contactID != 0, false, true), nil
			case hasTag(l, tag+linkedSuffix):
				id, _ := connectors.Int64(l["id"])
				return result(id, mainContact(l), false, false, true), nil
			}
		}
		if list.Links.Next == nil {
			return nil, nil
		}
	}
	return nil, nil
}

func embedded(l map[string]any, key string) []any {
	e, _ := l["_embedded"].(map[string]any)
	list, _ := e[key].([]any)
	return list
}

func hasTag(l map[string]any, tag string) bool {
	for _, t := range embedded(l, "tags") {
		if m, ok := t.(map[string]any); ok && m["name"] == tag {
			return true
		}
	}
	return false
}

// mainContact returns the id of the lead's main contact (the first one when none is
// marked), or 0.
func mainContact(l map[string]any) int64 {
	var first int64
	for _, c := range embedded(l, "contacts") {
		m, _ := c.(map[string]any)
		id, _ := connectors.Int64(m["id"])
		if m["is_main"] == true {
			return id
		}
		if first == 0 {
			first = id
		}
	}
	return first
}

// buildLead turns the inputs into the lead to create (without its contact).
func buildLead(input map[string]any, person connectors.Lead) (leadOut, error) {
	l := leadOut{Name: strings.TrimSpace(text(input[inLeadName]))}
	if l.Name == "" {
		who := person.Name
		if who == "" {
			who = person.Email
		}
		if who == "" {
			who = person.Phone
		}
		l.Name = strings.TrimSpace("Lead from " + who)
		if who == "" {
			l.Name = "Lead"
		}
	}
	for name, dst := range map[string]**int64{inPrice: &l.Price, inPipelineID: &l.PipelineID, inStatusID: &l.StatusID, inResponsible: &l.Responsible} {
		v, ok := input[name]
		if !ok || v == nil || v == "" {
			continue
		}
		n, ok := connectors.Int64(v)
		if s, isString := v.(string); isString {
			var err error
			n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			ok = err == nil
		}
		if !ok {
			return leadOut{}, fmt.Errorf("%s must be a whole number, got %v", name, v)
		}
		*dst = &n
	}
	tags, err := parseTags(input[inTags])
	if err != nil {
		return leadOut{}, err
	}
	for _, t := range tags {
		l.Embedded.Tags = append(l.Embedded.Tags, map[string]any{"name": t})
	}
	fields, err := customFields(input[inCustomFields], inCustomFields)
	if err != nil {
		return leadOut{}, err
	}
	// amoCRM's tracking fields: every account's leads have them, by code.
	for _, u := range connectors.UTMFields {
		if v := person.UTM[u]; v != "" {
			fields = append(fields, map[string]any{"field_code": strings.ToUpper(u), "values": []any{map[string]any{"value": v}}})
		}
	}
	l.CustomFields = fields
	return l, nil
}

// newContact is the embedded contact of a complex lead, or nil when the lead names
// nobody.
func newContact(p connectors.Lead, responsible *int64) map[string]any {
	if p.Name == "" && p.FirstName == "" && p.LastName == "" && p.Email == "" && p.Phone == "" {
		return nil
	}
	c := map[string]any{}
	if p.FirstName != "" || p.LastName != "" {
		c["first_name"], c["last_name"] = p.FirstName, p.LastName
	}
	name := p.Name
	if name == "" {
		name = p.Email
	}
	if name == "" {
		name = p.Phone
	}
	c["name"] = name
	if responsible != nil {
		c["responsible_user_id"] = *responsible
	}
	var fields []any
	if p.Phone != "" {
		fields = append(fields, map[string]any{"field_code": "PHONE", "values": []any{map[string]any{"value": p.Phone, "enum_code": "WORK"}}})
	}
	if p.Email != "" {
		fields = append(fields, map[string]any{"field_code": "EMAIL", "values": []any{map[string]any{"value": p.Email, "enum_code": "WORK"}}})
	}
	if len(fields) > 0 {
		c["custom_fields_values"] = fields
	}
	return c
}

// parseTags reads a list of tag names or a comma-separated string.
func parseTags(v any) ([]string, error) {
	var raw []string
	switch t := v.(type) {
	case nil:
	case string:
		raw = strings.Split(t, ",")
	case []string:
		raw = t
	case []any:
		for _, e := range t {
			s, ok := connectors.ScalarText(e)
			if !ok {
				if n, isInt := connectors.Int64(e); isInt {
					s, ok = strconv.FormatInt(n, 10), true
				}
			}
			if !ok {
				return nil, fmt.Errorf("tags must hold names, got %s", connectors.JSONTypeOf(e))
			}
			raw = append(raw, s)
		}
	default:
		return nil, fmt.Errorf("tags must be a list of names or a comma-separated string, got %s", connectors.JSONTypeOf(v))
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// customFields reads custom field values: an object from field id or code to value(s),
// or a list of custom_fields_values entries passed through as they are.
func customFields(v any, name string) ([]map[string]any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, nil
		}
	case []any:
		out := make([]map[string]any, 0, len(t))
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok || (m["field_id"] == nil && m["field_code"] == nil) || m["values"] == nil {
				return nil, fmt.Errorf("%s[%d] must be an object with field_id (or field_code) and values", name, i)
			}
			out = append(out, m)
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]map[string]any, 0, len(keys))
		for _, k := range keys {
			entry := map[string]any{"values": fieldValues(t[k])}
			if id, err := strconv.ParseInt(strings.TrimSpace(k), 10, 64); err == nil {
				entry["field_id"] = id
			} else if strings.TrimSpace(k) != "" {
				entry["field_code"] = strings.TrimSpace(k)
			} else {
				return nil, fmt.Errorf("%s has an empty field id", name)
			}
			out = append(out, entry)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s must be an object from field id to value, or a list of custom_fields_values entries, got %s", name, connectors.JSONTypeOf(v))
}

// fieldValues writes one field's value(s) as amoCRM's values list: objects (with enum_id,
// enum_code or value) as they are, anything else as {"value": …}.
func fieldValues(v any) []any {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		if m, isObj := e.(map[string]any); isObj {
			out = append(out, m)
			continue
		}
		out = append(out, map[string]any{"value": e})
	}
	return out
}

// text reads an input as text.
func text(v any) string {
	if s, ok := connectors.ScalarText(v); ok {
		return s
	}
	if n, ok := connectors.Int64(v); ok {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

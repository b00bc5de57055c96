package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Input and output field names of bitrix24.create_lead.
const (
	inTitle         = "title"
	inSourceID      = "source_id"
	inStatusID      = "status_id"
	inAssignedByID  = "assigned_by_id"
	inComments      = "comments"
	inFields        = "fields"
	inCreateContact = "create_contact"

	outID        = "id"
	outContactID = "contact_id"
	outCreated   = "created"
	outRecovered = "recovered"
)

// Defaults of bitrix24.create_lead.
const (
	// SourceIDDefault is the lead source "Web site", a source every portal has.
	SourceIDDefault = "WEB"
	// OriginatorID marks the leads and contacts Hookflow makes: with ORIGIN_ID, the
	// step's idempotency key, it lets a retry find what an earlier attempt made.
	OriginatorID = "hookflow"
)

// fieldName is the shape of a Bitrix24 field name (TITLE, UF_CRM_1700000000).
var fieldName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// reservedFields are set by the action itself and may not come through "fields".
var reservedFields = map[string]bool{"ID": true, "ORIGINATOR_ID": true, "ORIGIN_ID": true}

var createLeadAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_lead",
		Title: "Create lead",
		Description: "Adds a lead with crm.lead.add: title, the person's name, phone and email (as WORK multi-fields), " +
			"source, UTM fields, comments and custom UF_CRM_* fields. Per dedupe it first looks for the person among the " +
			"contacts with crm.duplicate.findbycomm (email first, then phone) and links the lead to the match; without a " +
			"match it creates the contact (crm.contact.add) unless create_contact is false. A retried step never makes a " +
			"second lead or contact: each is tagged with ORIGINATOR_ID hookflow and ORIGIN_ID set to the step's " +
			"idempotency key, and a retry looks them up with crm.lead.list and crm.contact.list before creating anything.",
		Inputs: append(connectors.LeadFields(connectors.DedupeEmailOrPhone),
			connectors.Field{Name: inTitle, Type: connectors.TypeString, Title: "Lead title",
				Description: "TITLE of the lead. Default: \"Lead: \" and the person's name, email or phone.",
				Examples:    []any{"Site form: {{ trigger.body.formname }}"}},
			connectors.Field{Name: inSourceID, Type: connectors.TypeString, Title: "Source", Default: SourceIDDefault,
				Description: "SOURCE_ID, the id of a lead source in the portal's CRM settings: WEB, CALL, EMAIL, ADVERTISING, OTHER…"},
			connectors.Field{Name: inStatusID, Type: connectors.TypeString, Title: "Status",
				Description: "STATUS_ID, the lead's stage. Default: the portal's first stage (NEW)."},
			connectors.Field{Name: inAssignedByID, Type: connectors.TypeInteger, Title: "Responsible user",
				Description: "ASSIGNED_BY_ID, the id of the user responsible for the lead (and a new contact). Default: the webhook's user."},
			connectors.Field{Name: inComments, Type: connectors.TypeString, Title: "Comments",
				Description: "COMMENTS of the lead: the form's message, what was ordered. Bitrix24 shows it as HTML."},
			connectors.Field{Name: inFields, Type: connectors.TypeObject, Title: "More fields",
				Description: "Other lead fields by their Bitrix24 names, custom ones included: " +
					"{\"UF_CRM_1700000000\": \"value\", \"OPPORTUNITY\": 1500, \"CURRENCY_ID\": \"RUB\"}. They override the inputs above. " +
					"ID, ORIGINATOR_ID and ORIGIN_ID are the action's own.",
				Examples: []any{map[string]any{"UF_CRM_1700000000": "{{ trigger.body.formid }}"}}},
			connectors.Field{Name: inCreateContact, Type: connectors.TypeBoolean, Title: "Create a contact", Default: true,
				Description: "Create a contact for the person when the search finds none (or dedupe is none), and link the lead " +
					"to it. false: the lead is linked only to a contact found."},
		),
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeInteger, Title: "Lead id", Description: "Id of the lead."},
			{Name: outContactID, Type: connectors.TypeInteger, Title: "Contact id",
				Description: "Id of the contact the lead is linked to, 0 for none."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Contact created",
				Description: "true when this step created the contact, false when it reused one it found (or linked none)."},
			{Name: outRecovered, Type: connectors.TypeBoolean, Title: "Recovered",
				Description: "true when a retry found the lead an earlier attempt had made, whose answer was lost."},
		},
	},
	New: func() connectors.Action { return &createLead{} },
}

var (
	_ connectors.Action    = (*createLead)(nil)
	_ connectors.Validator = (*createLead)(nil)
)

type createLead struct{}

type createLeadInput struct {
	Title         string         `json:"title"`
	SourceID      *string        `json:"source_id"`
	StatusID      string         `json:"status_id"`
	AssignedByID  *int64         `json:"assigned_by_id"`
	Comments      string         `json:"comments"`
	Fields        map[string]any `json:"fields"`
	CreateContact *bool          `json:"create_contact"`
}

// Validate checks the dedupe mode and the names in fields.
func (a *createLead) Validate(input map[string]any) error {
	if _, err := connectors.DedupeMode(input, connectors.DedupeEmailOrPhone); err != nil {
		return err
	}
	if m, ok := input[inFields].(map[string]any); ok {
		return checkFieldNames(m)
	}
	return nil
}

func checkFieldNames(m map[string]any) error {
	var errs []error
	for k := range m {
		switch {
		case !fieldName.MatchString(k):
			errs = append(errs, fmt.Errorf("fields: %q is not a Bitrix24 field name (upper case, such as UF_CRM_1700000000)", k))
		case reservedFields[k]:
			errs = append(errs, fmt.Errorf("fields: %s is set by the action itself", k))
		}
	}
	return errors.Join(errs...)
}

// Run finds or creates the contact, then the lead; on a retry it first looks for what an
// earlier attempt made.
func (a *createLead) Run(ctx context.Context, call *connectors.Call) (any, error) {
	var in createLeadInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	if err := a.Validate(call.Input); err != nil {
		return nil, connectors.Permanent(err)
	}
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, fmt.Errorf("create bitrix24 lead for run %s: %w", call.RunID, err)
	}
	lead, err := connectors.ParseLead(call.Input, api.defaultCountry)
	if err != nil {
		return nil, fmt.Errorf("create bitrix24 lead for run %s: %w", call.RunID, err)
	}
	mode, _ := connectors.DedupeMode(call.Input, connectors.DedupeEmailOrPhone)
	out, err := a.create(ctx, api, call, in, lead, mode)
	if err != nil {
		return nil, fmt.Errorf("create bitrix24 lead for run %s: %w", call.RunID, err)
	}
	return out, nil
}

func (a *createLead) create(ctx context.Context, api *restAPI, call *connectors.Call, in createLeadInput, lead connectors.Lead, mode string) (map[string]any, error) {
	retry := call.Attempt > 1
	if retry {
		// An earlier attempt may have made the lead and lost the answer: Bitrix24 has
		// no idempotency key, so look for the one tagged with ours.
		found, err := api.findByOrigin(ctx, "crm.lead.list", call.IdempotencyKey, "CONTACT_ID")
		if err != nil {
			return nil, err
		}
		if found != nil {
			contactID, _ := idOf(found["CONTACT_ID"])
			id, _ := idOf(found["ID"])
			return map[string]any{outID: id, outContactID: contactID, outCreated: false, outRecovered: true}, nil
		}
	}
	contactID, created, err := a.contact(ctx, api, call, in, lead, mode, retry)
	if err != nil {
		return nil, err
	}
	env, err := api.call(ctx, "crm.lead.add", map[string]any{
		"fields": leadFields(in, lead, contactID, call.IdempotencyKey),
		"params": map[string]any{"REGISTER_SONET_EVENT": "Y"},
	})
	if err != nil {
		return nil, err
	}
	id, err := intResult(env.Result)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("read bitrix24 crm.lead.add result: %w", err))
	}
	return map[string]any{outID: id, outContactID: contactID, outCreated: created, outRecovered: false}, nil
}

// contact returns the contact to link: one found by email or phone, one an earlier
// attempt created, or a new one. 0 means none.
func (a *createLead) contact(ctx context.Context, api *restAPI, call *connectors.Call, in createLeadInput, lead connectors.Lead, mode string, retry bool) (int64, bool, error) {
	email, phone := lead.SearchBy(mode)
	for _, q := range [][2]string{{"EMAIL", email}, {"PHONE", phone}} {
		if q[1] == "" {
			continue
		}
		ids, err := api.findByComm(ctx, "CONTACT", q[0], q[1])
		if err != nil {
			return 0, false, err
		}
		if len(ids) > 0 {
			// The oldest contact is the one people have been working with.
			return ids[0], false, nil
		}
	}
	if in.CreateContact != nil && !*in.CreateContact {
		return 0, false, nil
	}
	if lead.Name == "" && lead.Email == "" && lead.Phone == "" {
		return 0, false, nil // nobody to make a contact of
	}
	if retry {
		// With dedupe none, or a contact made without the searched fields, only the
		// tag finds the contact an earlier attempt created.
		found, err := api.findByOrigin(ctx, "crm.contact.list", call.IdempotencyKey)
		if err != nil {
			return 0, false, err
		}
		if found != nil {
			id, _ := idOf(found["ID"])
			return id, false, nil
		}
	}
	fields := personFields(lead, call.IdempotencyKey)
	fields["SOURCE_ID"] = sourceID(in)
	if in.AssignedByID != nil {
		fields["ASSIGNED_BY_ID"] = *in.AssignedByID
	}
	env, err := api.call(ctx, "crm.contact.add", map[string]any{"fields": fields})
	if err != nil {
		return 0, false, err
	}
	id, err := intResult(env.Result)
	if err != nil {
		return 0, false, connectors.Permanent(fmt.Errorf("read bitrix24 crm.contact.add result: %w", err))
	}
	return id, true, nil
}

// findByOrigin returns the record of a list method tagged with key, or nil.
func (a *restAPI) findByOrigin(ctx context.Context, method, key string, extra ...string) (map[string]any, error) {
	items, _, err := a.list(ctx, method, map[string]any{
		"filter": map[string]any{"ORIGINATOR_ID": OriginatorID, "ORIGIN_ID": key},
		"select": append([]string{"ID"}, extra...),
		"order":  map[string]any{"ID": "ASC"},
	}, 1)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return items[0], nil
}

// personFields are the fields a lead and a contact share.
func personFields(lead connectors.Lead, key string) map[string]any {
	f := map[string]any{"ORIGINATOR_ID": OriginatorID, "ORIGIN_ID": key}
	if lead.FirstName != "" {
		f["NAME"] = lead.FirstName
	}
	if lead.LastName != "" {
		f["LAST_NAME"] = lead.LastName
	}
	if lead.Phone != "" {
		f["PHONE"] = []map[string]string{{"VALUE": lead.Phone, "VALUE_TYPE": "WORK"}}
	}
	if lead.Email != "" {
		f["EMAIL"] = []map[string]string{{"VALUE": lead.Email, "VALUE_TYPE": "WORK"}}
	}
	return f
}

func sourceID(in createLeadInput) string {
	if in.SourceID != nil && *in.SourceID != "" {
		return *in.SourceID
	}
	return SourceIDDefault
}

// leadFields builds crm.lead.add's fields.
func leadFields(in createLeadInput, lead connectors.Lead, contactID int64, key string) map[string]any {
	f := personFields(lead, key)
	title := strings.TrimSpace(in.Title)
	if title == "" {
		who := lead.Name
		for _, s := range []string{lead.Email, lead.Phone} {
			if who == "" {
				who = s
			}
		}
		title = strings.TrimSpace("Lead: " + who)
	}
	f["TITLE"] = title
	f["SOURCE_ID"] = sourceID(in)
	if in.StatusID != "" {
		f["STATUS_ID"] = in.StatusID
	}
	if in.AssignedByID != nil {
		f["ASSIGNED_BY_ID"] = *in.AssignedByID
	}
	if in.Comments != "" {
		f["COMMENTS"] = in.Comments
	}
	if contactID > 0 {
		f["CONTACT_ID"] = contactID
	}
	utm := make([]string, 0, len(lead.UTM))
	for k := range lead.UTM {
		utm = append(utm, k)
	}
	sort.Strings(utm)
	for _, k := range utm {
		f[strings.ToUpper(k)] = lead.UTM[k] // utm_source → UTM_SOURCE
	}
	for k, v := range in.Fields {
		f[k] = v
	}
	return f
}

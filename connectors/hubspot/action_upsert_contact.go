package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hookflow/hookflow/connectors"
)

// Input and output field names of upsert_contact.
const (
	inProperties    = "properties"
	inUTMProperties = "utm_properties"

	outID         = "id"
	outCreated    = "created"
	outMatchedBy  = "matched_by"
	outProperties = "properties"
)

// Values of matched_by.
const (
	matchedNone  = ""
	matchedEmail = "email"
	matchedPhone = "phone"
)

var upsertContactAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "upsert_contact",
		Title: "Create or update contact",
		Description: "Creates a contact from a lead, or updates the one that exists. With dedupe phone or email_or_phone " +
			"the contact is first looked up by phone (search API, an exact match on phone as Hookflow writes it, E.164). " +
			"Email needs no search: HubSpot keeps one contact per email and answers a create with an existing email by " +
			"naming that contact, which is then updated, whatever dedupe says. A retry after an unknown outcome therefore " +
			"finds the contact it created by its email, or by its phone when there is no email. Only non-empty values " +
			"are written, so an update never blanks a property. HubSpot's own source properties (hs_analytics_source…) " +
			"are computed by HubSpot and read-only: UTM fields are written only with utm_properties, to custom contact " +
			"properties of the same names.",
		Inputs: append(connectors.LeadFields(connectors.DedupeEmailOrPhone),
			connectors.Field{Name: inProperties, Type: connectors.TypeObject, Title: "Other properties",
				Description: "More contact properties by internal name (company, city, lifecyclestage, your custom ones), " +
					"written as text. The lead inputs win over the same names here.",
				Examples: []any{map[string]any{"lifecyclestage": "lead", "company": "{{ trigger.body.company }}"}}},
			connectors.Field{Name: inUTMProperties, Type: connectors.TypeBoolean, Title: "Write UTM properties", Default: false,
				Description: "Write utm_source, utm_medium, utm_campaign, utm_term and utm_content to contact properties of " +
					"those names. Create them in HubSpot first (single-line text); HubSpot refuses unknown properties."},
		),
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeString, Title: "Contact id",
				Description: "HubSpot's id of the contact, for hubspot.create_deal's contact_id."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Created",
				Description: "True when a new contact was made, false when an existing one was updated."},
			{Name: outMatchedBy, Type: connectors.TypeString, Title: "Matched by",
				Description: "How the existing contact was found: email or phone; empty for a new contact."},
			{Name: outProperties, Type: connectors.TypeObject, Title: "Properties",
				Description: "The contact's properties as HubSpot returned them after the write."},
		},
	},
	New: func() connectors.Action { return &upsertContact{} },
}

var (
	_ connectors.Action    = (*upsertContact)(nil)
	_ connectors.Validator = (*upsertContact)(nil)
)

// upsertContact is one call of hubspot.upsert_contact.
type upsertContact struct{}

// Validate checks the inputs that need no connection.
func (a *upsertContact) Validate(input map[string]any) error {
	if _, err := connectors.DedupeMode(input, connectors.DedupeEmailOrPhone); err != nil {
		return err
	}
	// A whole-object template is checked once rendered, by Run.
	if m, ok := input[inProperties].(map[string]any); ok {
		if _, err := freeProperties(m); err != nil {
			return err
		}
	}
	return nil
}

// Run creates or updates the contact.
func (a *upsertContact) Run(ctx context.Context, call *connectors.Call) (any, error) {
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	props, lead, mode, err := contactProperties(call)
	if err != nil {
		return nil, err
	}
	_, phone := lead.SearchBy(mode)
	if phone == "" && lead.Email == "" && call.Attempt > 1 {
		// Nothing else can find the contact an earlier attempt may have created.
		phone = lead.Phone
	}
	if phone != "" {
		found, err := api.findOne(ctx, "contacts", []string{"email", "phone"},
			filter{PropertyName: "phone", Operator: "EQ", Value: phone})
		if err != nil {
			return nil, fmt.Errorf("find hubspot contact by phone for step %s: %w", call.StepID, err)
		}
		if found != nil {
			return a.update(ctx, api, call, found.ID, props, matchedPhone)
		}
	}
	var created object
	err = api.do(ctx, "create contact", http.MethodPost, "/crm/v3/objects/contacts", map[string]any{"properties": props}, &created)
	if e, ok := asAPIError(err); ok && e.Status == http.StatusConflict {
		m := existingID.FindStringSubmatch(e.Message)
		if m == nil {
			return nil, fmt.Errorf("create hubspot contact for step %s: the conflict names no existing contact: %w", call.StepID, err)
		}
		return a.update(ctx, api, call, m[1], props, matchedEmail)
	}
	if err != nil {
		return nil, fmt.Errorf("create hubspot contact for step %s: %w", call.StepID, err)
	}
	return contactOutput(&created, true, matchedNone), nil
}

// update writes props to the existing contact id.
func (a *upsertContact) update(ctx context.Context, api *api, call *connectors.Call, id string, props map[string]string, by string) (any, error) {
	var updated object
	if err := api.do(ctx, "update contact "+id, http.MethodPatch, "/crm/v3/objects/contacts/"+id,
		map[string]any{"properties": props}, &updated); err != nil {
		return nil, fmt.Errorf("update hubspot contact %s found by %s for step %s: %w", id, by, call.StepID, err)
	}
	return contactOutput(&updated, false, by), nil
}

func contactOutput(o *object, created bool, by string) map[string]any {
	return map[string]any{outID: o.ID, outCreated: created, outMatchedBy: by, outProperties: o.props()}
}

// contactProperties builds the contact's properties from the lead inputs, the free
// properties and, when asked, the UTM fields.
func contactProperties(call *connectors.Call) (map[string]string, connectors.Lead, string, error) {
	lead, err := connectors.ParseLead(call.Input, call.Connection.String(connDefaultCountry))
	if err != nil {
		return nil, lead, "", err
	}
	mode, err := connectors.DedupeMode(call.Input, connectors.DedupeEmailOrPhone)
	if err != nil {
		return nil, lead, "", err
	}
	props, err := freeProperties(call.Input[inProperties])
	if err != nil {
		return nil, lead, "", err
	}
	set := func(name, value string) {
		if value != "" {
			props[name] = value
		}
	}
	set("email", lead.Email)
	set("firstname", lead.FirstName)
	set("lastname", lead.LastName)
	set("phone", lead.Phone)
	if utm, _ := call.Input[inUTMProperties].(bool); utm {
		for name, v := range lead.UTM {
			set(name, v)
		}
	}
	if len(props) == 0 {
		return nil, lead, "", connectors.Permanent(errors.New("nothing to write: give an email, a phone, a name or properties"))
	}
	return props, lead, mode, nil
}

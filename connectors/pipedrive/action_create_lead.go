package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Input field names of create_lead (and create_deal, where they match).
const (
	inTitle             = "title"
	inPersonID          = "person_id"
	inOrganizationID    = "organization_id"
	inValue             = "value"
	inCurrency          = "currency"
	inLabelIDs          = "label_ids"
	inExpectedCloseDate = "expected_close_date"
)

// Output field names of create_lead.
const (
	outTitle          = "title"
	outPersonID       = "person_id"
	outOrganizationID = "organization_id"
	outPersonCreated  = "person_created"
)

// currencyPattern is an ISO 4217 code, as Pipedrive takes it.
var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// datePattern is YYYY-MM-DD.
var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

var createLeadAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_lead",
		Title: "Create lead",
		Description: "Adds a lead to Pipedrive's Leads Inbox (POST /v1/leads). A lead belongs to a person or an " +
			"organization: give person_id, or the lead's details (name, email, phone) and the person is found by dedupe or " +
			"created as pipedrive.create_person does; or give organization_id alone. Lead ids are UUIDs. The lead's " +
			"origin_id is set to a marker of the step (hookflow:<run>:<step>), so a retry after an unknown outcome lists " +
			"the person's (or organization's) newest leads, finds the one the lost attempt made and returns it with " +
			"created false instead of adding a second one. Pipedrive's validation errors fail the step with its message.",
		Inputs: append([]connectors.Field{
			{Name: inTitle, Type: connectors.TypeString, Title: "Title", Required: true,
				Description: "The lead's name in the Leads Inbox.", Examples: []any{"Website: {{ trigger.body.Name }}"}},
			{Name: inPersonID, Type: connectors.TypeInteger, Title: "Person id",
				Description: "Id of the person the lead belongs to, such as {{ steps.person.output.id }}. Unset: the " +
					"person is found or created from name, email and phone.",
				Examples: []any{"{{ steps.person.output.id }}"}},
			{Name: inOrganizationID, Type: connectors.TypeInteger, Title: "Organization id",
				Description: "Id of the organization the lead belongs to; enough on its own when there is no person.", Examples: []any{12}},
			{Name: inValue, Type: connectors.TypeNumber, Title: "Value",
				Description: "The lead's potential value; needs a currency.", Examples: []any{1500, "{{ number(trigger.body.amount) }}"}},
			{Name: inCurrency, Type: connectors.TypeString, Title: "Currency",
				Description: "ISO 4217 code of the value, such as USD, EUR or RUB.", Examples: []any{"EUR"}},
			{Name: inLabelIDs, Type: connectors.TypeArray, Title: "Label ids",
				Items:       &connectors.Field{Name: "label_id", Type: connectors.TypeString, Title: "Label id", Description: "A lead label's UUID."},
				Description: "UUIDs of lead labels (GET /v1/leadLabels) to put on the lead."},
			{Name: inOwnerID, Type: connectors.TypeInteger, Title: "Owner id",
				Description: "Id of the Pipedrive user who owns the lead (and a new person). Default: the API token's user.", Examples: []any{7}},
			{Name: inExpectedCloseDate, Type: connectors.TypeString, Title: "Expected close date",
				Description: "When the deal made from the lead should close, YYYY-MM-DD.", Examples: []any{"2026-12-31"}},
			{Name: inCustomFields, Type: connectors.TypeObject, Title: "Custom fields",
				Description: "Deal custom fields by their 40-character API key (leads share the deal fields), such as UTM fields.",
				Examples:    []any{map[string]any{"a3f0c1…": "{{ trigger.body.utm_campaign }}"}}},
		}, connectors.LeadFields(connectors.DedupeEmailOrPhone)...),
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeString, Title: "Lead id", Description: "The lead's UUID."},
			{Name: outTitle, Type: connectors.TypeString, Title: "Title", Description: "The lead's title."},
			{Name: outPersonID, Type: connectors.TypeInteger, Title: "Person id", Description: "Id of the lead's person, or null."},
			{Name: outOrganizationID, Type: connectors.TypeInteger, Title: "Organization id", Description: "Id of the lead's organization, or null."},
			{Name: outPersonCreated, Type: connectors.TypeBoolean, Title: "Person created",
				Description: "True when the step created the person from the lead's details; false when it found one or was given person_id."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Created",
				Description: "True when this attempt created the lead; false when a retry found the lead a lost attempt had created."},
		},
	},
	New: func() connectors.Action { return &createLead{} },
}

var (
	_ connectors.Action    = (*createLead)(nil)
	_ connectors.Validator = (*createLead)(nil)
)

// createLead is one call of pipedrive.create_lead.
type createLead struct{}

// Validate checks the literal inputs against Pipedrive's rules, so a workflow is refused
// when it is saved rather than when a lead arrives.
func (*createLead) Validate(input map[string]any) error {
	var errs []error
	if inputString(input, inTitle) == "" {
		errs = append(errs, errors.New("title is required"))
	}
	if err := checkValue(input); err != nil {
		errs = append(errs, err)
	}
	if d := inputString(input, inExpectedCloseDate); d != "" && !datePattern.MatchString(d) {
		errs = append(errs, fmt.Errorf("expected_close_date %q must be YYYY-MM-DD", d))
	}
	if _, err := connectors.DedupeMode(input, connectors.DedupeEmailOrPhone); err != nil {
		errs = append(errs, err)
	}
	if !present(input, inPersonID) && !present(input, inOrganizationID) && !hasLeadDetails(input) {
		errs = append(errs, errors.New("a lead belongs to a person or an organization: set person_id, organization_id, or the lead's name, email or phone"))
	}
	return connectors.Permanent(errors.Join(errs...))
}

// present says an input is set to something other than blank text.
func present(input map[string]any, name string) bool {
	v := input[name]
	return v != nil && !isBlank(v)
}

func isBlank(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// checkValue checks that a value comes with its currency, as Pipedrive requires.
func checkValue(input map[string]any) error {
	if !present(input, inValue) {
		return nil
	}
	currency := strings.ToUpper(inputString(input, inCurrency))
	if currency == "" {
		return errors.New("value needs a currency, such as USD")
	}
	if !currencyPattern.MatchString(currency) {
		return fmt.Errorf("currency %q must be a three-letter ISO 4217 code such as USD", currency)
	}
	return nil
}

// inputNumber reads an optional number input, given as a number or as text.
func inputNumber(input map[string]any, name string) (json.Number, bool, error) {
	v := input[name]
	if v == nil || isBlank(v) {
		return "", false, nil
	}
	text, ok := connectors.ScalarText(v)
	if !ok {
		switch x := v.(type) {
		case float64, float32, int, int64, int32:
			text = fmt.Sprint(x)
		default:
			return "", false, connectors.Permanent(fmt.Errorf("%s: expected a number, got %s", name, connectors.JSONTypeOf(v)))
		}
	}
	n := json.Number(strings.TrimSpace(text))
	if _, err := n.Float64(); err != nil {
		return "", false, connectors.Permanent(fmt.Errorf("%s: %q is not a number", name, text))
	}
	return n, true, nil
}

// leadData is the part of Pipedrive's lead the action reads.
type leadData struct {
	ID             string `json:"id"`
	Title          string `json:"title"`
	PersonID       *pdID  `json:"person_id"`
	OrganizationID *pdID  `json:"organization_id"`
	OriginID       string `json:"origin_id"`
}

// Run creates the lead, or on a retry returns the one a lost attempt created.
func (*createLead) Run(ctx context.Context, call *connectors.Call) (any, error) {
	a, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	out, err := runCreateLead(ctx, a, call)
	if err != nil {
		return nil, fmt.Errorf("create lead in pipedrive for run %s: %w", call.RunID, err)
	}
	return out, nil
}

func runCreateLead(ctx context.Context, a *api, call *connectors.Call) (map[string]any, error) {
	in := call.Input
	body, err := customFieldsBody(in)
	if err != nil {
		return nil, err
	}
	body["title"] = inputString(in, inTitle)
	personID, hasPerson, err := inputInt(in, inPersonID)
	if err != nil {
		return nil, err
	}
	orgID, hasOrg, err := inputInt(in, inOrganizationID)
	if err != nil {
		return nil, err
	}
	ownerID, hasOwner, err := inputInt(in, inOwnerID)
	if err != nil {
		return nil, err
	}
	personCreated := false
	if !hasPerson && hasLeadDetails(in) {
		p, err := ensurePerson(ctx, a, call)
		if err != nil {
			return nil, fmt.Errorf("find or create the lead's person: %w", err)
		}
		personID, hasPerson, personCreated = p.ID, true, p.Created
	}
	if hasPerson {
		body["person_id"] = personID
	}
	if hasOrg {
		body["organization_id"] = orgID
	}
	if hasOwner {
		body["owner_id"] = ownerID
	}
	if amount, ok, err := inputNumber(in, inValue); err != nil {
		return nil, err
	} else if ok {
		body["value"] = map[string]any{"amount": amount, "currency": strings.ToUpper(inputString(in, inCurrency))}
	}
	if labels := in[inLabelIDs]; labels != nil {
		list, ok := labels.([]any)
		if !ok {
			return nil, connectors.Permanent(fmt.Errorf("%s: expected a list of label UUIDs, got %s", inLabelIDs, connectors.JSONTypeOf(labels)))
		}
		body["label_ids"] = list
	}
	if d := inputString(in, inExpectedCloseDate); d != "" {
		body["expected_close_date"] = d
	}
	marker := idempotencyMarker(call)
	body["origin_id"] = marker

	var lead leadData
	found := false
	if call.Attempt > 1 && (hasPerson || hasOrg) {
		lead, found, err = a.findLeadByMarker(ctx, personID, hasPerson, orgID, marker)
		if err != nil {
			return nil, fmt.Errorf("look for the lead of an earlier attempt: %w", err)
		}
		if found {
			loggerOf(call.Logger).LogAttrs(ctx, slog.LevelInfo, "Found the Pipedrive lead of an earlier attempt",
				slog.String("lead_id", lead.ID), slog.Int("attempt", call.Attempt))
		}
	}
	if !found {
		if err := a.post(ctx, "/v1/leads", body, &lead); err != nil {
			return nil, err
		}
		if lead.ID == "" {
			return nil, connectors.Permanent(errors.New("pipedrive created a lead but sent no id"))
		}
	}
	return map[string]any{outID: lead.ID, outTitle: lead.Title, outPersonID: optionalID(lead.PersonID),
		outOrganizationID: optionalID(lead.OrganizationID), outPersonCreated: personCreated, outCreated: !found}, nil
}

func hasLeadDetails(in map[string]any) bool {
	for _, k := range []string{connectors.LeadName, connectors.LeadFirstName, connectors.LeadLastName, connectors.LeadEmail, connectors.LeadPhone} {
		if inputString(in, k) != "" {
			return true
		}
	}
	return false
}

func optionalID(p *pdID) any {
	if p == nil || *p == 0 {
		return nil
	}
	return int64(*p)
}

// leadsScanned is how many of a person's newest leads a retry looks through for the
// lost attempt's lead: it was created moments ago, so it is among the newest.
const leadsScanned = 100

// findLeadByMarker lists the newest leads of the person (or the organization) and
// returns the one whose origin_id is marker. Listing, unlike search, sees a lead as soon
// as it is created.
func (a *api) findLeadByMarker(ctx context.Context, personID int64, byPerson bool, orgID int64, marker string) (leadData, bool, error) {
	q := url.Values{"sort": {"add_time DESC"}, "limit": {fmt.Sprint(leadsScanned)}, "start": {"0"}}
	if byPerson {
		q.Set("person_id", formatID(personID))
	} else {
		q.Set("organization_id", formatID(orgID))
	}
	var leads []leadData
	if err := a.get(ctx, "/v1/leads", q, &leads); err != nil {
		return leadData{}, false, err
	}
	for _, l := range leads {
		if l.OriginID == marker {
			return l, true, nil
		}
	}
	return leadData{}, false, nil
}

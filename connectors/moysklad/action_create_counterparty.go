package moysklad

import (
	"context"
	"fmt"

	"github.com/hookflow/hookflow/connectors"
)

// Input and output field names of moysklad.create_counterparty.
const (
	inCompanyType = "company_type"
	inDescription = "description"
	inTags        = "tags"

	outID      = "id"
	outHref    = "href"
	outName    = "name"
	outCreated = "created"
)

// Company types of a counterparty.
var companyTypes = []string{"individual", "legal", "entrepreneur"}

var createCounterpartyAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_counterparty",
		Title: "Find or create counterparty",
		Description: "Looks for the person among the counterparties by email and phone (per dedupe, through filter) " +
			"and reuses the first match; otherwise creates a counterparty. The new counterparty's syncId comes " +
			"from the step's idempotency key, so a retry after a lost answer gets the counterparty already " +
			"created instead of a second one.",
		Inputs: append(connectors.LeadFields(connectors.DedupeEmailOrPhone),
			connectors.Field{Name: inCompanyType, Type: connectors.TypeString, Title: "Company type",
				Description: "individual (a person, the default for leads), legal (a company) or entrepreneur.",
				Enum:        companyTypes, Default: "individual"},
			connectors.Field{Name: inDescription, Type: connectors.TypeString, Title: "Comment",
				Description: "The counterparty's comment; the lead's UTM fields are added to it, one per line."},
			connectors.Field{Name: inTags, Type: connectors.TypeArray, Title: "Groups",
				Description: "Counterparty groups (tags), lower-case in MoySklad.",
				Items:       &connectors.Field{Name: "tag", Type: connectors.TypeString, Title: "Group", Description: "A group name."}},
		),
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeString, Title: "Counterparty id", Description: "The counterparty's UUID."},
			{Name: outHref, Type: connectors.TypeString, Title: "Counterparty href",
				Description: "The counterparty's meta.href, to refer to it as an order's agent."},
			{Name: outName, Type: connectors.TypeString, Title: "Name", Description: "The counterparty's name."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Created",
				Description: "true when this step created the counterparty, false when an existing one matched."},
		},
	},
	New: func() connectors.Action { return &createCounterparty{} },
}

var (
	_ connectors.Action    = (*createCounterparty)(nil)
	_ connectors.Validator = (*createCounterparty)(nil)
)

type createCounterparty struct{}

type counterpartyInput struct {
	CompanyType string   `json:"company_type"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
}

// Validate checks the dedupe mode and the company type.
func (a *createCounterparty) Validate(input map[string]any) error {
	if _, err := connectors.DedupeMode(input, connectors.DedupeEmailOrPhone); err != nil {
		return err
	}
	return validCompanyType(input[inCompanyType])
}

func validCompanyType(v any) error {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	for _, c := range companyTypes {
		if s == c {
			return nil
		}
	}
	return connectors.Permanent(fmt.Errorf("company_type %q is not individual, legal or entrepreneur", s))
}

// Run finds or creates the counterparty.
func (a *createCounterparty) Run(ctx context.Context, call *connectors.Call) (any, error) {
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	var in counterpartyInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	country := call.Connection.String(connectors.DefaultCountryField.Name)
	lead, err := connectors.ParseLead(call.Input, country)
	if err != nil {
		return nil, fmt.Errorf("read lead of step %s: %w", call.StepID, err)
	}
	mode, err := connectors.DedupeMode(call.Input, connectors.DedupeEmailOrPhone)
	if err != nil {
		return nil, err
	}
	if in.CompanyType == "" {
		in.CompanyType = "individual"
	}
	res, err := api.findOrCreateCounterparty(ctx, counterpartyRequest{
		Lead: lead, Dedupe: mode, Country: country, CompanyType: in.CompanyType,
		Description: in.Description, Tags: in.Tags, SyncID: syncID("counterparty", call.IdempotencyKey),
	})
	if err != nil {
		return nil, fmt.Errorf("find or create moysklad counterparty for run %s step %s: %w", call.RunID, call.StepID, err)
	}
	id, href := entityOutput(res.Entity)
	return map[string]any{outID: id, outHref: href, outName: str(res.Entity["name"]), outCreated: res.Created}, nil
}

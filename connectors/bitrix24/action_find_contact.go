package bitrix24

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Input and output names of bitrix24.find_contact.
const (
	inFindEntityType = "entity_type"
	outFound         = "found"
	outIDs           = "ids"
)

// findEntityTypes are what crm.duplicate.findbycomm searches.
var findEntityTypes = []string{"CONTACT", "LEAD", "COMPANY"}

var findContactAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "find_contact",
		Title: "Find contact",
		Description: "Looks for contacts (or leads, or companies) with an email or a phone number through " +
			"crm.duplicate.findbycomm, Bitrix24's duplicate search, which matches phones however they were written. " +
			"The email is searched first, then the phone; ids from both are merged.",
		Inputs: []connectors.Field{
			{Name: connectors.LeadEmail, Type: connectors.TypeString, Title: "Email",
				Description: "Trimmed and lower-cased before the search.", Examples: []any{"{{ trigger.body.Email }}"}},
			{Name: connectors.LeadPhone, Type: connectors.TypeString, Title: "Phone",
				Description: "Normalised to E.164 with the connection's default country before the search.",
				Examples:    []any{"{{ trigger.body.Phone }}"}},
			{Name: inFindEntityType, Type: connectors.TypeString, Title: "Record type", Enum: findEntityTypes, Default: "CONTACT",
				Description: "What to search: contacts, leads or companies."},
		},
		Outputs: []connectors.Field{
			{Name: outFound, Type: connectors.TypeBoolean, Title: "Found", Description: "Whether any record matched."},
			{Name: outID, Type: connectors.TypeInteger, Title: "First id", Description: "The oldest match's id, 0 when none."},
			{Name: outIDs, Type: connectors.TypeArray, Title: "Ids", Description: "Every match's id, lowest first.",
				Items: &connectors.Field{Name: "id", Type: connectors.TypeInteger, Title: "Id", Description: "A record id."}},
		},
	},
	New: func() connectors.Action { return &findContact{} },
}

var (
	_ connectors.Action    = (*findContact)(nil)
	_ connectors.Validator = (*findContact)(nil)
)

type findContact struct{}

func entityTypeInput(input map[string]any) (string, error) {
	et, _ := input[inFindEntityType].(string)
	et = strings.ToUpper(strings.TrimSpace(et))
	if et == "" {
		return "CONTACT", nil
	}
	if !slices.Contains(findEntityTypes, et) {
		return "", connectors.Permanent(fmt.Errorf("entity_type: %q is not one of %s", et, strings.Join(findEntityTypes, ", ")))
	}
	return et, nil
}

// Validate checks the record type.
func (a *findContact) Validate(input map[string]any) error {
	_, err := entityTypeInput(input)
	return err
}

// Run searches by email, then by phone. Without either it finds nothing and calls
// nothing: an empty form field is not an error.
func (a *findContact) Run(ctx context.Context, call *connectors.Call) (any, error) {
	et, err := entityTypeInput(call.Input)
	if err != nil {
		return nil, err
	}
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, fmt.Errorf("find bitrix24 contact for run %s: %w", call.RunID, err)
	}
	lead, err := connectors.ParseLead(call.Input, api.defaultCountry)
	if err != nil {
		return nil, fmt.Errorf("find bitrix24 contact for run %s: %w", call.RunID, err)
	}
	ids := []int64{}
	for _, q := range [][2]string{{"EMAIL", lead.Email}, {"PHONE", lead.Phone}} {
		if q[1] == "" {
			continue
		}
		found, err := api.findByComm(ctx, et, q[0], q[1])
		if err != nil {
			return nil, fmt.Errorf("find bitrix24 %s by %s for run %s: %w", strings.ToLower(et), strings.ToLower(q[0]), call.RunID, err)
		}
		for _, id := range found {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	var first int64
	if len(ids) > 0 {
		first = ids[0]
	}
	return map[string]any{outFound: len(ids) > 0, outID: first, outIDs: ids}, nil
}

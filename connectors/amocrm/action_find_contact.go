package amocrm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Input and output names of amocrm.find_contact.
const (
	inQuery    = "query"
	outFound   = "found"
	outContact = "contact"
)

var findContactAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "find_contact",
		Title: "Find contact",
		Description: "Finds a contact by email, by phone (either written any way: it is normalised to E.164 with the " +
			"connection's default country) or by free text. Email and phone need an exact match of a contact's EMAIL or " +
			"PHONE field; email is tried first. A free-text query returns amoCRM's first hit. Finding nothing is no error: found is false.",
		Inputs: []connectors.Field{
			{Name: connectors.LeadEmail, Type: connectors.TypeString, Title: "Email",
				Description: "An email address the contact has.", Examples: []any{"{{ trigger.body.Email }}"}},
			{Name: connectors.LeadPhone, Type: connectors.TypeString, Title: "Phone",
				Description: "A phone number the contact has.", Examples: []any{"{{ trigger.body.Phone }}"}},
			{Name: inQuery, Type: connectors.TypeString, Title: "Search text",
				Description: "Free text searched in every field of contacts, used when neither email nor phone is given."},
		},
		Outputs: []connectors.Field{
			{Name: outFound, Type: connectors.TypeBoolean, Title: "Found", Description: "Whether a contact was found."},
			{Name: outID, Type: connectors.TypeInteger, Title: "Contact id", Description: "The contact's id, 0 when none was found."},
			{Name: outContact, Type: connectors.TypeObject, Title: "Contact",
				Description: "The contact: id, name, first_name, last_name, emails, phones, created_at, updated_at; null when none was found."},
		},
	},
	New: func() connectors.Action { return &findContact{} },
}

var (
	_ connectors.Action    = (*findContact)(nil)
	_ connectors.Validator = (*findContact)(nil)
)

type findContact struct{}

// Validate requires something to search by.
func (a *findContact) Validate(input map[string]any) error {
	for _, k := range []string{connectors.LeadEmail, connectors.LeadPhone, inQuery} {
		if strings.TrimSpace(text(input[k])) != "" {
			return nil
		}
	}
	return connectors.Permanent(errors.New("give an email, a phone or a query to search by"))
}

// Run searches.
func (a *findContact) Run(ctx context.Context, call *connectors.Call) (any, error) {
	fail := func(err error) error { return fmt.Errorf("find contact in amocrm for run %s: %w", call.RunID, err) }
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, fail(err)
	}
	email := connectors.NormalizeEmail(text(call.Input[connectors.LeadEmail]))
	var phone string
	if raw := strings.TrimSpace(text(call.Input[connectors.LeadPhone])); raw != "" {
		if phone, err = connectors.NormalizePhone(raw, api.country); err != nil {
			return nil, fail(connectors.Permanent(fmt.Errorf("phone: %w", err)))
		}
	}
	var c *contact
	if email != "" || phone != "" {
		c, err = api.findContact(ctx, email, phone)
	} else if q := strings.TrimSpace(text(call.Input[inQuery])); q != "" {
		c, err = api.searchContacts(ctx, q, func(*contact) bool { return true })
	} else {
		return nil, fail(connectors.Permanent(errors.New("give an email, a phone or a query to search by")))
	}
	if err != nil {
		return nil, fail(err)
	}
	if c == nil {
		return map[string]any{outFound: false, outID: int64(0), outContact: nil}, nil
	}
	return map[string]any{outFound: true, outID: c.ID, outContact: c.output()}, nil
}

package pipedrive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/hookflow/hookflow/connectors"
)

// Input field names shared by the actions that create a person.
const (
	inOrgID        = "org_id"
	inOwnerID      = "owner_id"
	inCustomFields = "custom_fields"
)

// Output field names.
const (
	outID        = "id"
	outCreated   = "created"
	outName      = "name"
	outEmail     = "email"
	outPhone     = "phone"
	outMatchedBy = "matched_by"
)

var createPersonAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_person",
		Title: "Find or create person",
		Description: "Looks the lead up among Pipedrive's persons by email and phone (per dedupe, exact matches through " +
			"/v1/persons/search) and reuses the first match; otherwise creates a person (POST /v1/persons) with the name, " +
			"email and phone. The output's created says which happened. A person needs a name: without one the email, " +
			"then the phone, stands in for it. A retry after an unknown outcome searches by email and phone even with " +
			"dedupe none, so the person the lost attempt made is reused rather than doubled. Pipedrive's search index can " +
			"lag a few seconds behind new persons.",
		Inputs: append(connectors.LeadFields(connectors.DedupeEmailOrPhone),
			connectors.Field{Name: inOrgID, Type: connectors.TypeInteger, Title: "Organization id",
				Description: "Id of the organization a new person belongs to.", Examples: []any{12}},
			connectors.Field{Name: inOwnerID, Type: connectors.TypeInteger, Title: "Owner id",
				Description: "Id of the Pipedrive user who owns a new person. Default: the API token's user.", Examples: []any{7}},
			connectors.Field{Name: inCustomFields, Type: connectors.TypeObject, Title: "Custom fields",
				Description: "Person custom fields of a new person by their 40-character API key (Settings → Data fields), " +
					"such as UTM fields: {\"<key>\": \"{{ trigger.body.utm_source }}\"}. Pipedrive has no UTM fields of its own.",
				Examples: []any{map[string]any{"f1b4c6…": "google"}}},
		),
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeInteger, Title: "Person id", Description: "Id of the person found or created."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Created", Description: "True when a new person was created, false when an existing one was found."},
			{Name: outName, Type: connectors.TypeString, Title: "Name", Description: "The person's name in Pipedrive."},
			{Name: outEmail, Type: connectors.TypeString, Title: "Email", Description: "The lead's email, cleaned up."},
			{Name: outPhone, Type: connectors.TypeString, Title: "Phone", Description: "The lead's phone in E.164."},
			{Name: outMatchedBy, Type: connectors.TypeString, Title: "Matched by",
				Description: "email or phone when an existing person was found; empty when one was created."},
		},
	},
	New: func() connectors.Action { return &createPerson{} },
}

var (
	_ connectors.Action    = (*createPerson)(nil)
	_ connectors.Validator = (*createPerson)(nil)
)

// createPerson is one call of pipedrive.create_person.
type createPerson struct{}

// Validate checks the literal inputs: something to name the person by.
func (*createPerson) Validate(input map[string]any) error {
	if _, err := connectors.DedupeMode(input, connectors.DedupeEmailOrPhone); err != nil {
		return err
	}
	if inputString(input, connectors.LeadName) == "" && inputString(input, connectors.LeadFirstName) == "" &&
		inputString(input, connectors.LeadLastName) == "" && inputString(input, connectors.LeadEmail) == "" &&
		inputString(input, connectors.LeadPhone) == "" {
		return connectors.Permanent(errors.New("a person needs a name, an email or a phone"))
	}
	return nil
}

// Run finds or creates the person.
func (*createPerson) Run(ctx context.Context, call *connectors.Call) (any, error) {
	a, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	p, err := ensurePerson(ctx, a, call)
	if err != nil {
		return nil, fmt.Errorf("create person in pipedrive for run %s: %w", call.RunID, err)
	}
	return map[string]any{outID: p.ID, outCreated: p.Created, outName: p.Name, outEmail: p.Email,
		outPhone: p.Phone, outMatchedBy: p.MatchedBy}, nil
}

// personResult is a person found or created from a call's lead inputs.
type personResult struct {
	ID        int64
	Created   bool
	Name      string
	Email     string
	Phone     string
	MatchedBy string
}

// ensurePerson reads the lead inputs of call, searches Pipedrive per dedupe and creates
// the person when none matches. On a retry it searches by email and phone whatever the
// dedupe mode: the lost attempt may have created the person.
func ensurePerson(ctx context.Context, a *api, call *connectors.Call) (*personResult, error) {
	lead, err := connectors.ParseLead(call.Input, a.country)
	if err != nil {
		return nil, err
	}
	mode, err := connectors.DedupeMode(call.Input, connectors.DedupeEmailOrPhone)
	if err != nil {
		return nil, err
	}
	if call.Attempt > 1 {
		mode = connectors.DedupeEmailOrPhone
	}
	res := &personResult{Email: lead.Email, Phone: lead.Phone}
	email, phone := lead.SearchBy(mode)
	for _, by := range []struct{ field, term string }{{"email", email}, {"phone", phone}} {
		if by.term == "" {
			continue
		}
		found, name, err := a.searchPerson(ctx, by.field, by.term)
		if err != nil {
			return nil, err
		}
		if found != 0 {
			res.ID, res.Name, res.MatchedBy = found, name, by.field
			loggerOf(call.Logger).LogAttrs(ctx, slog.LevelDebug, "Found Pipedrive person",
				slog.Int64("person_id", found), slog.String("matched_by", by.field))
			return res, nil
		}
	}

	name := lead.Name
	for _, alt := range []string{lead.Email, lead.Phone} {
		if name == "" {
			name = alt
		}
	}
	if name == "" {
		return nil, connectors.Permanent(errors.New("a person needs a name, an email or a phone"))
	}
	body, err := customFieldsBody(call.Input)
	if err != nil {
		return nil, err
	}
	body["name"] = name
	if lead.Email != "" {
		body["email"] = []map[string]any{{"value": lead.Email, "primary": true, "label": "work"}}
	}
	if lead.Phone != "" {
		body["phone"] = []map[string]any{{"value": lead.Phone, "primary": true, "label": "work"}}
	}
	for _, k := range []string{inOrgID, inOwnerID} {
		n, ok, err := inputInt(call.Input, k)
		if err != nil {
			return nil, err
		}
		if ok {
			body[k] = n
		}
	}
	var created struct {
		ID   pdID   `json:"id"`
		Name string `json:"name"`
	}
	if err := a.post(ctx, "/v1/persons", body, &created); err != nil {
		return nil, err
	}
	if created.ID == 0 {
		return nil, connectors.Permanent(errors.New("pipedrive created a person but sent no id"))
	}
	res.ID, res.Name, res.Created = int64(created.ID), created.Name, true
	return res, nil
}

// searchPerson looks for a person whose email or phone (field) is exactly term, and
// returns the best match's id and name (0 when none).
func (a *api) searchPerson(ctx context.Context, field, term string) (int64, string, error) {
	q := url.Values{"term": {term}, "fields": {field}, "exact_match": {"true"}, "limit": {"5"}}
	var data struct {
		Items []struct {
			Item struct {
				ID   pdID   `json:"id"`
				Name string `json:"name"`
			} `json:"item"`
		} `json:"items"`
	}
	if err := a.get(ctx, "/v1/persons/search", q, &data); err != nil {
		return 0, "", fmt.Errorf("search persons by %s: %w", field, err)
	}
	for _, it := range data.Items {
		if it.Item.ID != 0 {
			return int64(it.Item.ID), it.Item.Name, nil
		}
	}
	return 0, "", nil
}

// loggerOf returns l, or a logger that discards everything.
func loggerOf(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// formatID writes an id for a query string.
func formatID(n int64) string { return strconv.FormatInt(n, 10) }

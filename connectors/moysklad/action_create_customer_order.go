package moysklad

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Input and output field names of moysklad.create_customer_order.
const (
	inOrganization = "organization"
	inAgent        = "agent"
	inPositions    = "positions"
	inState        = "state"

	outSum              = "sum"
	outAgentHref        = "agent_href"
	outAgentCreated     = "agent_created"
	outOrganizationHref = "organization_href"
)

// PositionsMax is how many positions MoySklad takes inline in one order (413 above).
const PositionsMax = 1000

var createCustomerOrderAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_customer_order",
		Title: "Create customer order",
		Description: "Creates a customer order for an organization and a counterparty: the agent's href, or the " +
			"counterparty found or created from the lead inputs as moysklad.create_counterparty does. The order's " +
			"syncId comes from the step's idempotency key: MoySklad answers a repeated syncId with the order already " +
			"created, so a retry after a lost answer makes no second order.",
		Inputs: append([]connectors.Field{
			{Name: inOrganization, Type: connectors.TypeString, Title: "Organization",
				Description: "meta.href of your legal entity (GET entity/organization); empty: the account's first organization.",
				Examples:    []any{"https://api.moysklad.ru/api/remap/1.2/entity/organization/7944ef04-f831-11e5-7a69-971500188b19"}},
			{Name: inAgent, Type: connectors.TypeString, Title: "Counterparty",
				Description: "meta.href of the buyer, such as a moysklad.create_counterparty step's href; empty: found or " +
					"created from the lead inputs below."},
			{Name: inPositions, Type: connectors.TypeArray, Title: "Positions",
				Description: "The ordered goods, at most 1000: assortment (meta.href of a product, service, variant or bundle), " +
					"quantity, price in kopecks (cents) per unit, and optionally discount (%) and vat (%).",
				Items: &connectors.Field{Name: "position", Type: connectors.TypeObject, Title: "Position", Description: "One ordered item.", Fields: []connectors.Field{
					{Name: "assortment", Type: connectors.TypeString, Title: "Assortment", Required: true,
						Description: "meta.href of the product, service, variant or bundle."},
					{Name: "quantity", Type: connectors.TypeNumber, Title: "Quantity", Description: "How many; default 1."},
					{Name: "price", Type: connectors.TypeInteger, Title: "Price", Description: "Price per unit in kopecks: 1990 rubles is 199000."},
					{Name: "discount", Type: connectors.TypeNumber, Title: "Discount", Description: "Discount in percent."},
					{Name: "vat", Type: connectors.TypeInteger, Title: "VAT", Description: "VAT rate in percent."},
				}}},
			{Name: inDescription, Type: connectors.TypeString, Title: "Comment",
				Description: "The order's comment; the lead's UTM fields are added to it, one per line."},
			{Name: inState, Type: connectors.TypeString, Title: "Status",
				Description: "Name of the order status to set, as in MoySklad's list of customer order statuses; empty: the default one.",
				Examples:    []any{"Новый"}},
		}, connectors.LeadFields(connectors.DedupeEmailOrPhone)...),
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeString, Title: "Order id", Description: "The order's UUID."},
			{Name: outHref, Type: connectors.TypeString, Title: "Order href", Description: "The order's meta.href."},
			{Name: outName, Type: connectors.TypeString, Title: "Number", Description: "The order's number, such as 00042."},
			{Name: outSum, Type: connectors.TypeInteger, Title: "Sum", Description: "The order's total in kopecks."},
			{Name: outAgentHref, Type: connectors.TypeString, Title: "Counterparty href", Description: "meta.href of the order's counterparty."},
			{Name: outAgentCreated, Type: connectors.TypeBoolean, Title: "Counterparty created",
				Description: "true when this step created the counterparty from the lead inputs."},
			{Name: outOrganizationHref, Type: connectors.TypeString, Title: "Organization href", Description: "meta.href of the order's organization."},
		},
	},
	New: func() connectors.Action { return &createCustomerOrder{} },
}

var (
	_ connectors.Action    = (*createCustomerOrder)(nil)
	_ connectors.Validator = (*createCustomerOrder)(nil)
)

type createCustomerOrder struct{}

type orderInput struct {
	Organization string          `json:"organization"`
	Agent        string          `json:"agent"`
	Positions    []positionInput `json:"positions"`
	Description  string          `json:"description"`
	State        string          `json:"state"`
}

type positionInput struct {
	Assortment string       `json:"assortment"`
	Quantity   *json.Number `json:"quantity"`
	Price      *json.Number `json:"price"`
	Discount   *json.Number `json:"discount"`
	VAT        *json.Number `json:"vat"`
}

// Validate checks the dedupe mode and the number of positions.
func (a *createCustomerOrder) Validate(input map[string]any) error {
	if _, err := connectors.DedupeMode(input, connectors.DedupeEmailOrPhone); err != nil {
		return err
	}
	if p, ok := input[inPositions].([]any); ok && len(p) > PositionsMax {
		return connectors.Permanent(fmt.Errorf("positions: %d positions; MoySklad takes at most %d in one order", len(p), PositionsMax))
	}
	return nil
}

// Run creates the order, after finding the organization and the counterparty when the
// inputs do not name them.
func (a *createCustomerOrder) Run(ctx context.Context, call *connectors.Call) (any, error) {
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	var in orderInput
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	fail := func(err error) error {
		return fmt.Errorf("create moysklad customer order for run %s step %s: %w", call.RunID, call.StepID, err)
	}
	positions, err := api.positions(in.Positions)
	if err != nil {
		return nil, fail(connectors.Permanent(err))
	}
	org := in.Organization
	if org == "" {
		if org, err = api.firstOrganization(ctx); err != nil {
			return nil, fail(err)
		}
	} else if _, err := api.checkHref(org); err != nil {
		return nil, fail(connectors.Permanent(fmt.Errorf("organization: %w", err)))
	}
	agent, agentCreated := in.Agent, false
	if agent == "" {
		country := call.Connection.String(connectors.DefaultCountryField.Name)
		lead, err := connectors.ParseLead(call.Input, country)
		if err != nil {
			return nil, fail(err)
		}
		mode, err := connectors.DedupeMode(call.Input, connectors.DedupeEmailOrPhone)
		if err != nil {
			return nil, err
		}
		res, err := api.findOrCreateCounterparty(ctx, counterpartyRequest{Lead: lead, Dedupe: mode, Country: country,
			CompanyType: "individual", SyncID: syncID("agent", call.IdempotencyKey)})
		if err != nil {
			return nil, fail(fmt.Errorf("agent from the lead inputs: %w", err))
		}
		_, agent = entityOutput(res.Entity)
		agentCreated = res.Created
	} else if _, err := api.checkHref(agent); err != nil {
		return nil, fail(connectors.Permanent(fmt.Errorf("agent: %w", err)))
	}
	body := map[string]any{
		"organization": ref(org, "organization"),
		"agent":        ref(agent, "counterparty"),
		"syncId":       syncID("customerorder", call.IdempotencyKey),
	}
	if len(positions) > 0 {
		body["positions"] = positions
	}
	var utm map[string]string
	if in.Agent == "" {
		lead, _ := connectors.ParseLead(call.Input, call.Connection.String(connectors.DefaultCountryField.Name))
		utm = lead.UTM
	}
	if d := describe(in.Description, utm); d != "" {
		body["description"] = d
	}
	if in.State != "" {
		href, err := api.stateHref(ctx, in.State)
		if err != nil {
			return nil, fail(err)
		}
		body["state"] = ref(href, "state")
	}
	var order map[string]any
	if err := api.do(ctx, http.MethodPost, api.url("entity/customerorder"), body, &order); err != nil {
		return nil, fail(err)
	}
	id, href := entityOutput(order)
	sum, _ := connectors.Int64(order["sum"])
	if f, ok := order["sum"].(float64); ok {
		sum = int64(f)
	}
	return map[string]any{
		outID: id, outHref: href, outName: str(order["name"]), outSum: sum,
		outAgentHref: agent, outAgentCreated: agentCreated, outOrganizationHref: org,
	}, nil
}

// positions turns the position inputs into MoySklad's positions.
func (a *api) positions(in []positionInput) ([]map[string]any, error) {
	if len(in) > PositionsMax {
		return nil, fmt.Errorf("positions: %d positions; MoySklad takes at most %d in one order", len(in), PositionsMax)
	}
	out := make([]map[string]any, 0, len(in))
	for i, p := range in {
		u, err := a.checkHref(p.Assortment)
		if err != nil {
			return nil, fmt.Errorf("positions[%d].assortment: %w", i, err)
		}
		pos := map[string]any{"assortment": ref(p.Assortment, assortmentType(u)), "quantity": 1}
		for name, v := range map[string]*json.Number{"quantity": p.Quantity, "discount": p.Discount} {
			if v != nil {
				f, err := v.Float64()
				if err != nil || f < 0 {
					return nil, fmt.Errorf("positions[%d].%s: %q is not a non-negative number", i, name, v.String())
				}
				pos[name] = f
			}
		}
		for name, v := range map[string]*json.Number{"price": p.Price, "vat": p.VAT} {
			if v != nil {
				n, err := v.Int64()
				if err != nil || n < 0 {
					return nil, fmt.Errorf("positions[%d].%s: %q is not a whole non-negative number (prices are in kopecks)", i, name, v.String())
				}
				pos[name] = n
			}
		}
		out = append(out, pos)
	}
	return out, nil
}

// assortmentType is the entity type in an href's path: …/entity/product/<id> is product.
func assortmentType(u *url.URL) string {
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2]
	}
	return "product"
}

// firstOrganization returns the href of the account's first organization.
func (a *api) firstOrganization(ctx context.Context) (string, error) {
	var list listResponse
	if err := a.get(ctx, "entity/organization?limit=1", &list); err != nil {
		return "", fmt.Errorf("find the organization: %w", err)
	}
	if len(list.Rows) == 0 {
		return "", connectors.Permanent(fmt.Errorf("the account has no organization: create one in MoySklad or name one in organization"))
	}
	_, href := entityOutput(list.Rows[0])
	return href, nil
}

// stateHref looks a customer order status up by name.
func (a *api) stateHref(ctx context.Context, name string) (string, error) {
	var md struct {
		States []struct {
			Name string `json:"name"`
			Meta meta   `json:"meta"`
		} `json:"states"`
	}
	if err := a.get(ctx, "entity/customerorder/metadata", &md); err != nil {
		return "", fmt.Errorf("read customer order statuses: %w", err)
	}
	names := make([]string, 0, len(md.States))
	for _, s := range md.States {
		if strings.EqualFold(strings.TrimSpace(s.Name), strings.TrimSpace(name)) {
			return s.Meta.Href, nil
		}
		names = append(names, s.Name)
	}
	return "", connectors.Permanent(fmt.Errorf("state: no customer order status is named %q; the statuses are %s", name, strings.Join(names, ", ")))
}

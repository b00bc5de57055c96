package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Input field names of create_deal.
const (
	inDealName  = "dealname"
	inAmount    = "amount"
	inPipeline  = "pipeline"
	inDealStage = "dealstage"
	inCloseDate = "closedate"
	inContactID = "contact_id"
)

// Defaults of create_deal: the first stage of the pipeline every portal has.
const (
	PipelineDefault  = "default"
	DealStageDefault = "appointmentscheduled"
)

// contactToDeal is HubSpot's association type of a deal to a contact (v4, HUBSPOT_DEFINED).
const contactToDeal = 3

// retryWindow is how long before the step's first attempt a deal found by a retry's
// search may have been created: it absorbs the clock difference with HubSpot.
const retryWindow = 2 * time.Minute

var createDealAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_deal",
		Title: "Create deal",
		Description: "Creates a deal, associated with a contact when contact_id is given. HubSpot has no idempotency " +
			"key, so a retried step first searches for the deal an earlier attempt may have made and returns it with " +
			"created false instead of making a second one: by the connection's idempotency_property when it is set (exact: " +
			"the property holds the step's idempotency key), otherwise by a deal with the same name, pipeline and amount " +
			"created since shortly before the step began (two such deals in the same minutes count as one on a retry). " +
			"HubSpot's search can lag a few seconds behind a create; the step's retry backoff usually covers it.",
		Inputs: []connectors.Field{
			{Name: inDealName, Type: connectors.TypeString, Title: "Deal name", Required: true,
				Description: "The deal's name.", Examples: []any{"Site lead: {{ trigger.body.Name }}"}},
			{Name: inAmount, Type: connectors.TypeAny, Title: "Amount",
				Description: "The deal's amount, a number or its text (1500, \"1500.50\").", Examples: []any{1500, "{{ trigger.body.price }}"}},
			{Name: inPipeline, Type: connectors.TypeString, Title: "Pipeline", Default: PipelineDefault,
				Description: "Internal id of the deal pipeline; every portal has \"default\"."},
			{Name: inDealStage, Type: connectors.TypeString, Title: "Deal stage", Default: DealStageDefault,
				Description: "Internal id of the stage in that pipeline (the default pipeline's stages: appointmentscheduled, " +
					"qualifiedtobuy, presentationscheduled, decisionmakerboughtin, contractsent, closedwon, closedlost)."},
			{Name: inCloseDate, Type: connectors.TypeString, Title: "Close date",
				Description: "Expected close date, ISO 8601 (2025-12-31 or 2025-12-31T00:00:00Z).", Examples: []any{"2025-12-31"}},
			{Name: inContactID, Type: connectors.TypeAny, Title: "Contact id",
				Description: "Id of the contact to associate the deal with, as text or a number.",
				Examples:    []any{"{{ steps.contact.output.id }}"}},
			{Name: inProperties, Type: connectors.TypeObject, Title: "Other properties",
				Description: "More deal properties by internal name (hubspot_owner_id, dealtype, your custom ones), written as " +
					"text. The inputs above win over the same names here.",
				Examples: []any{map[string]any{"dealtype": "newbusiness"}}},
		},
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeString, Title: "Deal id", Description: "HubSpot's id of the deal."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Created",
				Description: "True when this call made the deal; false when a retry found the deal an earlier attempt made."},
			{Name: outProperties, Type: connectors.TypeObject, Title: "Properties",
				Description: "The deal's properties as HubSpot returned them."},
		},
	},
	New: func() connectors.Action { return &createDeal{} },
}

var (
	_ connectors.Action    = (*createDeal)(nil)
	_ connectors.Validator = (*createDeal)(nil)
)

// createDeal is one call of hubspot.create_deal.
type createDeal struct{}

// Validate checks the inputs that need no connection.
func (a *createDeal) Validate(input map[string]any) error {
	if m, ok := input[inProperties].(map[string]any); ok {
		if _, err := freeProperties(m); err != nil {
			return err
		}
	}
	for _, name := range []string{inAmount, inContactID} {
		if v, ok := input[name]; ok && v != nil {
			if _, ok := propertyText(v); !ok {
				return connectors.Permanent(fmt.Errorf("%s must be text or a number, got %s", name, connectors.JSONTypeOf(v)))
			}
		}
	}
	if v, ok := input[inContactID]; ok {
		if s, _ := propertyText(v); s != "" && !strings.Contains(s, "{{") && !isDigits(s) {
			return connectors.Permanent(fmt.Errorf("contact_id %q is not a HubSpot id (digits)", s))
		}
	}
	return nil
}

// Run creates the deal, or finds the one an earlier attempt created.
func (a *createDeal) Run(ctx context.Context, call *connectors.Call) (any, error) {
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	if err := a.Validate(call.Input); err != nil {
		return nil, err
	}
	props, err := freeProperties(call.Input[inProperties])
	if err != nil {
		return nil, err
	}
	text := func(name, def string) string {
		if s, ok := propertyText(call.Input[name]); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
		return def
	}
	props["dealname"] = text(inDealName, "")
	if props["dealname"] == "" {
		return nil, connectors.Permanent(fmt.Errorf("dealname is required for step %s", call.StepID))
	}
	props["pipeline"] = text(inPipeline, PipelineDefault)
	props["dealstage"] = text(inDealStage, DealStageDefault)
	if v := text(inAmount, ""); v != "" {
		props["amount"] = v
	}
	if v := text(inCloseDate, ""); v != "" {
		props["closedate"] = v
	}
	keyProp := call.Connection.String(connKeyProperty)
	if keyProp != "" {
		props[keyProp] = call.IdempotencyKey
	}
	contactID := text(inContactID, "")

	if call.Attempt > 1 {
		found, err := a.findEarlier(ctx, api, call, props, keyProp)
		if err != nil {
			return nil, fmt.Errorf("look for the deal of an earlier attempt of step %s: %w", call.StepID, err)
		}
		if found != nil {
			call.Logger.Info("Deal found from an earlier attempt", "deal_id", found.ID, "attempt", call.Attempt)
			return map[string]any{outID: found.ID, outCreated: false, outProperties: found.props()}, nil
		}
	}
	body := map[string]any{"properties": props}
	if contactID != "" {
		body["associations"] = []any{map[string]any{
			"to":    map[string]any{"id": contactID},
			"types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": contactToDeal}},
		}}
	}
	var created object
	if err := api.do(ctx, "create deal", http.MethodPost, "/crm/v3/objects/deals", body, &created); err != nil {
		return nil, fmt.Errorf("create hubspot deal for step %s: %w", call.StepID, err)
	}
	return map[string]any{outID: created.ID, outCreated: true, outProperties: created.props()}, nil
}

// findEarlier searches for the deal an earlier attempt of this step may have created.
func (a *createDeal) findEarlier(ctx context.Context, api *api, call *connectors.Call, props map[string]string, keyProp string) (*object, error) {
	fields := []string{"dealname", "amount", "pipeline", "dealstage"}
	if keyProp != "" {
		return api.findOne(ctx, "deals", append(fields, keyProp),
			filter{PropertyName: keyProp, Operator: "EQ", Value: call.IdempotencyKey})
	}
	since := call.StartedAt
	if since.IsZero() {
		since = time.Now()
	}
	filters := []filter{
		{PropertyName: "dealname", Operator: "EQ", Value: props["dealname"]},
		{PropertyName: "pipeline", Operator: "EQ", Value: props["pipeline"]},
		{PropertyName: "createdate", Operator: "GTE", Value: strconv.FormatInt(since.Add(-retryWindow).UnixMilli(), 10)},
	}
	if amount := props["amount"]; amount != "" {
		filters = append(filters, filter{PropertyName: "amount", Operator: "EQ", Value: amount})
	}
	return api.findOne(ctx, "deals", fields, filters...)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

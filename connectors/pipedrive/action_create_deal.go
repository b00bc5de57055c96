package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Input field names of create_deal besides those shared with create_lead.
const (
	inStageID    = "stage_id"
	inPipelineID = "pipeline_id"
	inStatus     = "status"
)

// Output field names of create_deal besides those shared.
const (
	outValue      = "value"
	outCurrency   = "currency"
	outOrgID      = "org_id"
	outStageID    = "stage_id"
	outPipelineID = "pipeline_id"
	outStatus     = "status"
)

var createDealAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "create_deal",
		Title: "Create deal",
		Description: "Adds a deal (POST /v1/deals) in a pipeline and stage, linked to a person and an organization. The " +
			"deal's origin_id is set to a marker of the step (hookflow:<run>:<step>), so a retry after an unknown outcome " +
			"lists the deals changed since the step began (GET /api/v2/deals), finds the one the lost attempt made and " +
			"returns it with created false instead of adding a second one.",
		Inputs: []connectors.Field{
			{Name: inTitle, Type: connectors.TypeString, Title: "Title", Required: true,
				Description: "The deal's name.", Examples: []any{"Order #{{ trigger.body.id }}"}},
			{Name: inValue, Type: connectors.TypeNumber, Title: "Value",
				Description: "The deal's value, in currency.", Examples: []any{1500}},
			{Name: inCurrency, Type: connectors.TypeString, Title: "Currency",
				Description: "ISO 4217 code of the value. Default: the company's default currency.", Examples: []any{"EUR"}},
			{Name: inPersonID, Type: connectors.TypeInteger, Title: "Person id",
				Description: "Id of the deal's person, such as {{ steps.person.output.id }}.", Examples: []any{"{{ steps.person.output.id }}"}},
			{Name: inOrgID, Type: connectors.TypeInteger, Title: "Organization id",
				Description: "Id of the deal's organization.", Examples: []any{12}},
			{Name: inPipelineID, Type: connectors.TypeInteger, Title: "Pipeline id",
				Description: "Id of the pipeline. Default: the first stage of the default pipeline, unless stage_id is set.", Examples: []any{1}},
			{Name: inStageID, Type: connectors.TypeInteger, Title: "Stage id",
				Description: "Id of the stage, which also decides the pipeline.", Examples: []any{3}},
			{Name: inStatus, Type: connectors.TypeString, Title: "Status", Enum: []string{"open", "won", "lost"},
				Description: "open (the default), won or lost."},
			{Name: inOwnerID, Type: connectors.TypeInteger, Title: "Owner id",
				Description: "Id of the Pipedrive user who owns the deal (sent as user_id). Default: the API token's user.", Examples: []any{7}},
			{Name: inExpectedCloseDate, Type: connectors.TypeString, Title: "Expected close date",
				Description: "When the deal should close, YYYY-MM-DD.", Examples: []any{"2026-12-31"}},
			{Name: inCustomFields, Type: connectors.TypeObject, Title: "Custom fields",
				Description: "Deal custom fields by their 40-character API key, such as UTM fields.",
				Examples:    []any{map[string]any{"a3f0c1…": "{{ trigger.body.utm_campaign }}"}}},
		},
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeInteger, Title: "Deal id", Description: "The deal's id."},
			{Name: outTitle, Type: connectors.TypeString, Title: "Title", Description: "The deal's title."},
			{Name: outValue, Type: connectors.TypeNumber, Title: "Value", Description: "The deal's value."},
			{Name: outCurrency, Type: connectors.TypeString, Title: "Currency", Description: "The value's currency."},
			{Name: outPersonID, Type: connectors.TypeInteger, Title: "Person id", Description: "Id of the deal's person, or null."},
			{Name: outOrgID, Type: connectors.TypeInteger, Title: "Organization id", Description: "Id of the deal's organization, or null."},
			{Name: outPipelineID, Type: connectors.TypeInteger, Title: "Pipeline id", Description: "Id of the deal's pipeline."},
			{Name: outStageID, Type: connectors.TypeInteger, Title: "Stage id", Description: "Id of the deal's stage."},
			{Name: outStatus, Type: connectors.TypeString, Title: "Status", Description: "open, won or lost."},
			{Name: outCreated, Type: connectors.TypeBoolean, Title: "Created",
				Description: "True when this attempt created the deal; false when a retry found the deal a lost attempt had created."},
		},
	},
	New: func() connectors.Action { return &createDeal{} },
}

var (
	_ connectors.Action    = (*createDeal)(nil)
	_ connectors.Validator = (*createDeal)(nil)
)

// createDeal is one call of pipedrive.create_deal.
type createDeal struct{}

// Validate checks the literal inputs.
func (*createDeal) Validate(input map[string]any) error {
	var errs []error
	if inputString(input, inTitle) == "" {
		errs = append(errs, errors.New("title is required"))
	}
	if c := inputString(input, inCurrency); c != "" && !currencyPattern.MatchString(strings.ToUpper(c)) {
		errs = append(errs, fmt.Errorf("currency %q must be a three-letter ISO 4217 code such as USD", c))
	}
	if d := inputString(input, inExpectedCloseDate); d != "" && !datePattern.MatchString(d) {
		errs = append(errs, fmt.Errorf("expected_close_date %q must be YYYY-MM-DD", d))
	}
	return connectors.Permanent(errors.Join(errs...))
}

// dealData is the part of a deal the action reads, from v1 (related ids as objects) or
// v2 (plain ids).
type dealData struct {
	ID         pdID        `json:"id"`
	Title      string      `json:"title"`
	Value      json.Number `json:"value"`
	Currency   string      `json:"currency"`
	PersonID   *pdID       `json:"person_id"`
	OrgID      *pdID       `json:"org_id"`
	PipelineID *pdID       `json:"pipeline_id"`
	StageID    *pdID       `json:"stage_id"`
	Status     string      `json:"status"`
	OriginID   string      `json:"origin_id"`
}

// Run creates the deal, or on a retry returns the one a lost attempt created.
func (*createDeal) Run(ctx context.Context, call *connectors.Call) (any, error) {
	a, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	out, err := runCreateDeal(ctx, a, call)
	if err != nil {
		return nil, fmt.Errorf("create deal in pipedrive for run %s: %w", call.RunID, err)
	}
	return out, nil
}

func runCreateDeal(ctx context.Context, a *api, call *connectors.Call) (map[string]any, error) {
	in := call.Input
	body, err := customFieldsBody(in)
	if err != nil {
		return nil, err
	}
	body["title"] = inputString(in, inTitle)
	for input, field := range map[string]string{inPersonID: "person_id", inOrgID: "org_id", inPipelineID: "pipeline_id",
		inStageID: "stage_id", inOwnerID: "user_id"} {
		n, ok, err := inputInt(in, input)
		if err != nil {
			return nil, err
		}
		if ok {
			body[field] = n
		}
	}
	if amount, ok, err := inputNumber(in, inValue); err != nil {
		return nil, err
	} else if ok {
		body["value"] = amount
	}
	if c := inputString(in, inCurrency); c != "" {
		body["currency"] = strings.ToUpper(c)
	}
	if s := inputString(in, inStatus); s != "" {
		body["status"] = s
	}
	if d := inputString(in, inExpectedCloseDate); d != "" {
		body["expected_close_date"] = d
	}
	marker := idempotencyMarker(call)
	body["origin_id"] = marker

	var deal dealData
	found := false
	if call.Attempt > 1 {
		var err error
		deal, found, err = a.findDealByMarker(ctx, call.StartedAt, marker)
		if err != nil {
			return nil, fmt.Errorf("look for the deal of an earlier attempt: %w", err)
		}
		if found {
			loggerOf(call.Logger).LogAttrs(ctx, slog.LevelInfo, "Found the Pipedrive deal of an earlier attempt",
				slog.Int64("deal_id", int64(deal.ID)), slog.Int("attempt", call.Attempt))
		}
	}
	if !found {
		if err := a.post(ctx, "/v1/deals", body, &deal); err != nil {
			return nil, err
		}
		if deal.ID == 0 {
			return nil, connectors.Permanent(errors.New("pipedrive created a deal but sent no id"))
		}
	}
	var value any
	if deal.Value != "" {
		value = deal.Value
	}
	return map[string]any{outID: int64(deal.ID), outTitle: deal.Title, outValue: value, outCurrency: deal.Currency,
		outPersonID: optionalID(deal.PersonID), outOrgID: optionalID(deal.OrgID), outPipelineID: optionalID(deal.PipelineID),
		outStageID: optionalID(deal.StageID), outStatus: deal.Status, outCreated: !found}, nil
}

// markerLookback is how long before the step began a retry looks for its deal: the step's
// start is by Hookflow's clock, the deal's times by Pipedrive's.
const markerLookback = time.Hour

// dealsScanned caps the deals a retry looks through: a few pages of the deals changed
// since the step began, newest first.
const dealsScanned = 500

// findDealByMarker lists the deals changed since the step began, newest first, and
// returns the one whose origin_id is marker. A deal is changed at the latest when it is
// created, so the lost attempt's deal is among them whatever happened to it since.
func (a *api) findDealByMarker(ctx context.Context, startedAt time.Time, marker string) (dealData, bool, error) {
	if startedAt.IsZero() {
		startedAt = time.Now()
	}
	q := url.Values{"updated_since": {startedAt.Add(-markerLookback).UTC().Format(time.RFC3339)},
		"sort_by": {"add_time"}, "sort_direction": {"desc"}, "limit": {"100"}}
	for scanned := 0; scanned < dealsScanned; {
		var deals []dealData
		extra, err := a.call(ctx, "GET", "/api/v2/deals", q, nil, &deals)
		if err != nil {
			return dealData{}, false, err
		}
		for _, d := range deals {
			if d.OriginID == marker {
				return d, true, nil
			}
		}
		scanned += len(deals)
		next := nextCursor(extra)
		if next == "" || len(deals) == 0 {
			break
		}
		q.Set("cursor", next)
	}
	return dealData{}, false, nil
}

// nextCursor reads additional_data.next_cursor of a v2 list ("" at the end).
func nextCursor(extra json.RawMessage) string {
	var ad struct {
		NextCursor *string `json:"next_cursor"`
	}
	if len(extra) == 0 || json.Unmarshal(extra, &ad) != nil || ad.NextCursor == nil {
		return ""
	}
	return *ad.NextCursor
}

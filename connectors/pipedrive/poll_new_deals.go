package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Poller input names.
const (
	inLimit = "limit"
)

const (
	// pollLimitDefault and pollLimitMax are the page sizes of GET /api/v2/deals.
	pollLimitDefault = 100
	pollLimitMax     = 500
	// pollOverlap is how far before the newest add_time seen each poll looks again: a
	// deal can become visible a little after a newer one, and add_time has whole
	// seconds. The engine drops the deals it has seen by their id.
	pollOverlap = 5 * time.Minute
	// pollMaxPages bounds one poll; the deals beyond it are older than those returned
	// and come with the next polls only if still within the overlap, so it is generous.
	pollMaxPages = 50
)

var newDealsPoller = &connectors.PollerDef{
	PollerSpec: connectors.PollerSpec{
		Name:  "new_deals",
		Title: "New deals",
		Description: "Lists deals newest first by add_time (GET /api/v2/deals, cursor paging) and starts one run per deal " +
			"added since the last poll, oldest first, with the deal as trigger.item. The cursor is the newest add_time " +
			"seen; each poll looks back a few minutes before it so that no deal is missed, and deals already seen are " +
			"dropped by their id. The first poll only records the newest page of deals as seen.",
		Inputs: []connectors.Field{
			{Name: inLimit, Type: connectors.TypeInteger, Title: "Deals per page", Default: pollLimitDefault,
				Description: "Deals fetched per request, 1 to 500. A poll fetches pages until it reaches deals it has seen."},
			{Name: inPipelineID, Type: connectors.TypeInteger, Title: "Pipeline id",
				Description: "Only deals of this pipeline. Unset: every pipeline.", Examples: []any{1}},
		},
		Item: []connectors.Field{
			{Name: "id", Type: connectors.TypeInteger, Title: "Deal id", Description: "The deal's id; the trigger's default key."},
			{Name: "title", Type: connectors.TypeString, Title: "Title", Description: "The deal's title."},
			{Name: "value", Type: connectors.TypeNumber, Title: "Value", Description: "The deal's value."},
			{Name: "currency", Type: connectors.TypeString, Title: "Currency", Description: "The value's currency."},
			{Name: "person_id", Type: connectors.TypeInteger, Title: "Person id", Description: "Id of the deal's person, or null."},
			{Name: "org_id", Type: connectors.TypeInteger, Title: "Organization id", Description: "Id of the deal's organization, or null."},
			{Name: "owner_id", Type: connectors.TypeInteger, Title: "Owner id", Description: "Id of the user who owns the deal."},
			{Name: "pipeline_id", Type: connectors.TypeInteger, Title: "Pipeline id", Description: "Id of the deal's pipeline."},
			{Name: "stage_id", Type: connectors.TypeInteger, Title: "Stage id", Description: "Id of the deal's stage."},
			{Name: "status", Type: connectors.TypeString, Title: "Status", Description: "open, won, lost or deleted."},
			{Name: "add_time", Type: connectors.TypeString, Title: "Added", Description: "When the deal was added, RFC 3339 in UTC."},
		},
		DefaultKey: "item.id",
	},
	New: func() connectors.Poller { return &newDealsPoll{} },
}

var _ connectors.Poller = (*newDealsPoll)(nil)

// newDealsPoll is one poll of pipedrive.new_deals.
type newDealsPoll struct{}

// Poll pages through the deals newest first until it reaches the cursor less the overlap.
func (p *newDealsPoll) Poll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	limit, pipeline, err := parsePollInput(call.Input)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid input for pipedrive new_deals poll of workflow %s: %w", call.WorkflowID, err))
	}
	log := loggerOf(call.Logger)
	newest, hasCursor := cursorTime(call.Cursor)
	if call.Cursor != nil && !hasCursor {
		// Starting over is safe: the engine drops deals it has seen by id.
		log.LogAttrs(ctx, slog.LevelWarn, "Ignoring unreadable Pipedrive deals cursor", slog.String("cursor", fmt.Sprint(call.Cursor)))
	}
	a, err := newAPI(call.Connection, log)
	if err != nil {
		return nil, fmt.Errorf("poll pipedrive deals for workflow %s: %w", call.WorkflowID, err)
	}
	q := url.Values{"sort_by": {"add_time"}, "sort_direction": {"desc"}, "limit": {strconv.Itoa(limit)}}
	if pipeline != 0 {
		q.Set("pipeline_id", formatID(pipeline))
	}
	since := newest.Add(-pollOverlap)
	if hasCursor {
		// add_time is never after update_time, so this only drops deals too old to matter.
		q.Set("updated_since", since.UTC().Format(time.RFC3339))
	}
	var items []any
	maxSeen := newest
	for page := 0; page < pollMaxPages; page++ {
		var raw json.RawMessage
		extra, err := a.call(ctx, "GET", "/api/v2/deals", q, nil, &raw)
		if err != nil {
			return nil, fmt.Errorf("poll pipedrive deals for workflow %s: %w", call.WorkflowID, err)
		}
		deals, err := decodeDeals(raw)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("poll pipedrive deals for workflow %s: %w", call.WorkflowID, err))
		}
		reachedOld := false
		for _, d := range deals {
			if hasCursor && d.added.Before(since) {
				reachedOld = true
				break
			}
			items = append(items, d.item)
			if d.added.After(maxSeen) {
				maxSeen = d.added
			}
		}
		next := nextCursor(extra)
		// The first poll records one page as seen; the deals before it are history.
		if reachedOld || next == "" || !hasCursor {
			break
		}
		q.Set("cursor", next)
	}
	slices.Reverse(items) // oldest first
	res := &connectors.PollResult{Items: items}
	if maxSeen.After(newest) || (!hasCursor && !maxSeen.IsZero()) {
		res.Cursor = maxSeen.UTC().Format(time.RFC3339)
	}
	log.LogAttrs(ctx, slog.LevelDebug, "Polled Pipedrive deals", slog.Int("deals", len(items)), slog.Any("cursor", res.Cursor))
	return res, nil
}

// parsePollInput checks the inputs and applies their defaults.
func parsePollInput(input map[string]any) (limit int, pipeline int64, err error) {
	limit = pollLimitDefault
	var errs []error
	if n, ok, ierr := inputInt(input, inLimit); ierr != nil || (ok && (n < 1 || n > pollLimitMax)) {
		errs = append(errs, fmt.Errorf("limit must be an integer from 1 to %d, got %v", pollLimitMax, input[inLimit]))
	} else if ok {
		limit = int(n)
	}
	pipeline, _, ierr := inputInt(input, inPipelineID)
	if ierr != nil {
		errs = append(errs, ierr)
	}
	return limit, pipeline, errors.Join(errs...)
}

// cursorTime reads the saved cursor, the newest add_time seen.
func cursorTime(cursor any) (time.Time, bool) {
	s, ok := cursor.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

type polledDeal struct {
	item  any
	added time.Time
}

// decodeDeals decodes a v2 deal list (numbers as int64, as elsewhere in the engine) and
// reads each deal's add_time.
func decodeDeals(raw json.RawMessage) ([]polledDeal, error) {
	v, err := connectors.DecodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("read deals: %w", err)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("read deals: expected a list, got %s", connectors.JSONTypeOf(v))
	}
	out := make([]polledDeal, len(list))
	for i, d := range list {
		m, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("read deals: deal %d is %s, not an object", i, connectors.JSONTypeOf(d))
		}
		s, _ := m["add_time"].(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("read deals: deal %v has add_time %q, not an RFC 3339 time", m["id"], s)
		}
		out[i] = polledDeal{item: m, added: t}
	}
	return out, nil
}

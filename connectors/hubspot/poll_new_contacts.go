package hubspot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Poll settings of new_contacts.
const (
	// pageSize is the search page size (HubSpot allows up to 200).
	pageSize = 100
	// maxPages bounds one poll; the cursor carries on from the last page at the next poll.
	maxPages = 5
	// pagePause keeps a poll under the search API's 5 requests a second.
	pagePause = 250 * time.Millisecond
	// indexLag is how far back each poll looks again: HubSpot's search index can show a
	// contact a few seconds after its createdate, and the engine drops repeats by id.
	indexLag = time.Minute
)

// inPollProperties is the poller's input: the properties to return.
const inPollProperties = "properties"

// defaultContactProperties are returned by every poll.
var defaultContactProperties = []string{"email", "firstname", "lastname", "phone", "createdate"}

var newContactsPoller = &connectors.PollerDef{
	PollerSpec: connectors.PollerSpec{
		Name:  "new_contacts",
		Title: "New contacts",
		Description: "Starts a run for each contact created in HubSpot, oldest first, found with the search API sorted by " +
			"createdate. Each poll looks from the newest createdate seen (less a minute, since the search index lags), " +
			"reads up to 500 contacts in pages, and the engine drops the ones it has seen by id. The first poll records " +
			"the 100 newest contacts as seen without starting runs (unless the trigger asks for a backfill).",
		Inputs: []connectors.Field{
			{Name: inPollProperties, Type: connectors.TypeArray, Title: "Properties",
				Description: "Contact properties to return besides email, firstname, lastname, phone and createdate, by internal name.",
				Items:       &connectors.Field{Name: "property", Type: connectors.TypeString, Title: "Property", Description: "A property's internal name."},
				Examples:    []any{[]any{"company", "lifecyclestage"}}},
		},
		Item: []connectors.Field{
			{Name: "id", Type: connectors.TypeString, Title: "Contact id", Description: "HubSpot's id of the contact; the trigger's key."},
			{Name: "properties", Type: connectors.TypeObject, Title: "Properties",
				Description: "The asked properties, as text; a property the contact lacks is absent."},
			{Name: "created_at", Type: connectors.TypeString, Title: "Created at", Description: "When the contact was created, ISO 8601."},
			{Name: "updated_at", Type: connectors.TypeString, Title: "Updated at", Description: "When the contact last changed, ISO 8601."},
		},
		DefaultKey: "item.id",
	},
	New: func() connectors.Poller { return &newContacts{} },
}

var _ connectors.Poller = (*newContacts)(nil)

// newContacts is one poll of hubspot.new_contacts. Its cursor is the createdate, in Unix
// milliseconds, the next poll's search starts from.
type newContacts struct{}

// Poll returns the contacts created since the cursor, oldest first.
func (p *newContacts) Poll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	var in struct {
		Properties []string `json:"properties"`
	}
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	props := slices.Clone(defaultContactProperties)
	for _, name := range in.Properties {
		if !propertyName.MatchString(name) {
			return nil, connectors.Permanent(fmt.Errorf("properties: %q is not a HubSpot property's internal name", name))
		}
		if !slices.Contains(props, name) {
			props = append(props, name)
		}
	}
	since, ok := connectors.Int64(call.Cursor)
	if !ok {
		return p.newest(ctx, api, props)
	}

	req := searchRequest{
		FilterGroups: []filterGroup{{Filters: []filter{
			{PropertyName: "createdate", Operator: "GTE", Value: strconv.FormatInt(since, 10)}}}},
		Sorts:      []sortSpec{{PropertyName: "createdate", Direction: "ASCENDING"}},
		Properties: props,
		Limit:      pageSize,
	}
	var items []any
	newest := since
	complete := false
	for page := 0; page < maxPages; page++ {
		if page > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(pagePause):
			}
		}
		res, err := api.search(ctx, "contacts", req)
		if err != nil {
			if len(items) == 0 {
				return nil, fmt.Errorf("poll hubspot contacts created since %d: %w", since, err)
			}
			// Keep what the earlier pages found; the cursor stops at the last of them.
			call.Logger.Warn("HubSpot poll stopped early", "items", len(items), "err", err)
			break
		}
		for i := range res.Results {
			items = append(items, item(&res.Results[i]))
			newest = max(newest, createdMillis(&res.Results[i]))
		}
		if res.Paging == nil || res.Paging.Next.After == "" {
			complete = true
			break
		}
		req.After = res.Paging.Next.After
	}
	return &connectors.PollResult{Items: items, Cursor: nextCursor(since, newest, complete)}, nil
}

// newest reads the 100 newest contacts, for a trigger that has no cursor yet.
func (p *newContacts) newest(ctx context.Context, api *api, props []string) (*connectors.PollResult, error) {
	res, err := api.search(ctx, "contacts", searchRequest{
		Sorts:      []sortSpec{{PropertyName: "createdate", Direction: "DESCENDING"}},
		Properties: props,
		Limit:      pageSize,
	})
	if err != nil {
		return nil, fmt.Errorf("poll the newest hubspot contacts: %w", err)
	}
	items := make([]any, 0, len(res.Results))
	var newest int64
	for i := len(res.Results) - 1; i >= 0; i-- {
		items = append(items, item(&res.Results[i]))
		newest = max(newest, createdMillis(&res.Results[i]))
	}
	if newest == 0 {
		// An empty portal: start from the first contact ever made.
		return &connectors.PollResult{Items: items, Cursor: int64(0)}, nil
	}
	return &connectors.PollResult{Items: items, Cursor: nextCursor(0, newest, true)}, nil
}

// nextCursor is where the next poll starts. After a complete read it looks back by
// indexLag for contacts the index showed late; after a read cut short it starts at the
// newest contact read, so a burst larger than a poll still makes progress. It never
// goes back before since.
func nextCursor(since, newest int64, complete bool) int64 {
	next := newest
	if complete {
		next = newest - indexLag.Milliseconds()
	}
	return max(next, since)
}

// item is a contact as runs see it in trigger.item.
func item(o *object) map[string]any {
	return map[string]any{"id": o.ID, "properties": o.props(), "created_at": o.CreatedAt, "updated_at": o.UpdatedAt}
}

// createdMillis reads a contact's createdate in Unix milliseconds, 0 when it has none.
func createdMillis(o *object) int64 {
	for _, s := range []*string{o.Properties["createdate"], &o.CreatedAt} {
		if s == nil {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, *s); err == nil {
			return t.UnixMilli()
		}
		if n, err := strconv.ParseInt(*s, 10, 64); err == nil {
			return n
		}
	}
	return 0
}

package moysklad

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hookflow/hookflow/connectors"
)

// Input names of moysklad.get.
const (
	inHref   = "href"
	inExpand = "expand"
)

var getAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "get",
		Title: "Get entity by href",
		Description: "Reads an entity by its meta.href, such as the href of a webhook event " +
			"(trigger.body.events[i].meta.href), and returns MoySklad's JSON as it is. The href must be on the " +
			"connection's API address: the token is sent nowhere else.",
		Inputs: []connectors.Field{
			{Name: inHref, Type: connectors.TypeString, Title: "Href", Required: true,
				Description: "The entity's meta.href.",
				Examples:    []any{"{{ item.meta.href }}"}},
			{Name: inExpand, Type: connectors.TypeString, Title: "Expand",
				Description: "Comma-separated references to include in full instead of as meta, at most 3 levels deep.",
				Examples:    []any{"agent,state,positions.assortment"}},
		},
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeString, Title: "Id", Description: "The entity's UUID (absent for lists)."},
			{Name: outName, Type: connectors.TypeString, Title: "Name", Description: "The entity's name or number."},
			{Name: "meta", Type: connectors.TypeObject, Title: "Meta", Description: "The entity's meta: href, type, mediaType."},
			{Name: "rows", Type: connectors.TypeArray, Title: "Rows", Description: "For an href of a list (positions): its items."},
		},
	},
	New: func() connectors.Action { return &getEntity{} },
}

var (
	_ connectors.Action    = (*getEntity)(nil)
	_ connectors.Validator = (*getEntity)(nil)
)

type getEntity struct{}

// Validate checks that the href is an absolute URL; its host is checked against the
// connection in Run.
func (a *getEntity) Validate(input map[string]any) error {
	s, ok := input[inHref].(string)
	if !ok {
		return nil
	}
	if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
		return connectors.Permanent(fmt.Errorf("href %q is not an absolute URL", s))
	}
	return nil
}

// Run reads the entity.
func (a *getEntity) Run(ctx context.Context, call *connectors.Call) (any, error) {
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, err
	}
	var in struct {
		Href   string `json:"href"`
		Expand string `json:"expand"`
	}
	if err := call.Decode(&in); err != nil {
		return nil, err
	}
	u, err := api.checkHref(in.Href)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("get moysklad entity for step %s: %w", call.StepID, err))
	}
	if in.Expand != "" {
		q := u.Query()
		q.Set("expand", in.Expand)
		u.RawQuery = q.Encode()
	}
	var out map[string]any
	if err := api.do(ctx, http.MethodGet, u.String(), nil, &out); err != nil {
		return nil, fmt.Errorf("get moysklad entity for run %s step %s: %w", call.RunID, call.StepID, err)
	}
	return out, nil
}

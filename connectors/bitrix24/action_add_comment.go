package bitrix24

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Input names of bitrix24.add_comment.
const (
	inEntityType = "entity_type"
	inEntityID   = "entity_id"
	inComment    = "comment"
)

// commentEntityTypes are the records add_comment writes to.
var commentEntityTypes = []string{"lead", "deal", "contact"}

// commentClockSkew allows for the portal's clock when a retry looks for a comment made
// since the step started.
const commentClockSkew = 5 * time.Minute

var addCommentAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "add_comment",
		Title: "Add timeline comment",
		Description: "Writes a comment to the timeline of a lead, deal or contact with crm.timeline.comment.add. " +
			"A retry after a lost answer first lists the record's comments and reuses one with the same text made " +
			"since the step started, so the comment is not posted twice.",
		Inputs: []connectors.Field{
			{Name: inEntityType, Type: connectors.TypeString, Title: "Record type", Required: true, Enum: commentEntityTypes,
				Description: "The kind of record whose timeline gets the comment."},
			{Name: inEntityID, Type: connectors.TypeInteger, Title: "Record id", Required: true,
				Description: "Id of the lead, deal or contact, such as the id output of bitrix24.create_lead.",
				Examples:    []any{"{{ steps.lead.output.id }}"}},
			{Name: inComment, Type: connectors.TypeString, Title: "Comment", Required: true,
				Description: "The comment's text; Bitrix24 reads BB codes in it ([b]bold[/b])."},
		},
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeInteger, Title: "Comment id", Description: "Id of the timeline comment."},
			{Name: outRecovered, Type: connectors.TypeBoolean, Title: "Recovered",
				Description: "true when a retry found the comment an earlier attempt had made, whose answer was lost."},
		},
	},
	New: func() connectors.Action { return &addComment{} },
}

var (
	_ connectors.Action    = (*addComment)(nil)
	_ connectors.Validator = (*addComment)(nil)
)

type addComment struct{}

// Validate checks the record type, the id and that there is a comment.
func (a *addComment) Validate(input map[string]any) error {
	_, _, _, err := readCommentInput(input)
	return err
}

func readCommentInput(input map[string]any) (string, int64, string, error) {
	et, _ := input[inEntityType].(string)
	et = strings.ToLower(strings.TrimSpace(et))
	ok := false
	for _, t := range commentEntityTypes {
		ok = ok || t == et
	}
	if !ok {
		return "", 0, "", connectors.Permanent(fmt.Errorf("entity_type: %q is not one of %s", et, strings.Join(commentEntityTypes, ", ")))
	}
	id, ok := idInput(input[inEntityID])
	if !ok || id <= 0 {
		return "", 0, "", connectors.Permanent(fmt.Errorf("entity_id: %v is not a record id", input[inEntityID]))
	}
	comment, _ := input[inComment].(string)
	if strings.TrimSpace(comment) == "" {
		return "", 0, "", connectors.Permanent(fmt.Errorf("comment is empty"))
	}
	return et, id, comment, nil
}

// idInput reads an id input: a number, or text from a template.
func idInput(v any) (int64, bool) {
	if n, ok := connectors.Int64(v); ok {
		return n, true
	}
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Run posts the comment.
func (a *addComment) Run(ctx context.Context, call *connectors.Call) (any, error) {
	et, id, comment, err := readCommentInput(call.Input)
	if err != nil {
		return nil, err
	}
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, fmt.Errorf("add bitrix24 comment for run %s: %w", call.RunID, err)
	}
	if call.Attempt > 1 {
		found, err := findComment(ctx, api, et, id, comment, call.StartedAt.Add(-commentClockSkew))
		if err != nil {
			return nil, fmt.Errorf("add bitrix24 comment to %s %d for run %s: %w", et, id, call.RunID, err)
		}
		if found > 0 {
			return map[string]any{outID: found, outRecovered: true}, nil
		}
	}
	env, err := api.call(ctx, "crm.timeline.comment.add", map[string]any{
		"fields": map[string]any{"ENTITY_TYPE": et, "ENTITY_ID": id, "COMMENT": comment}})
	if err != nil {
		return nil, fmt.Errorf("add bitrix24 comment to %s %d for run %s: %w", et, id, call.RunID, err)
	}
	cid, err := intResult(env.Result)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("read bitrix24 crm.timeline.comment.add result: %w", err))
	}
	return map[string]any{outID: cid, outRecovered: false}, nil
}

// findComment returns the newest comment on the record with exactly this text created
// after since, or 0. Timeline comments carry no external id, so text and time are the
// best match there is.
func findComment(ctx context.Context, api *restAPI, et string, id int64, comment string, since time.Time) (int64, error) {
	items, _, err := api.list(ctx, "crm.timeline.comment.list", map[string]any{
		"filter": map[string]any{"ENTITY_TYPE": et, "ENTITY_ID": id},
		"select": []string{"ID", "CREATED", "COMMENT"},
		"order":  map[string]any{"ID": "DESC"},
	}, 50)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		text, _ := it["COMMENT"].(string)
		created, _ := it["CREATED"].(string)
		t, terr := time.Parse(time.RFC3339, created)
		if text == comment && terr == nil && !t.Before(since) {
			cid, _ := idOf(it["ID"])
			return cid, nil
		}
	}
	return 0, nil
}

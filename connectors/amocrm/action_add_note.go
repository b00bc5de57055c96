package amocrm

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Input names of amocrm.add_note.
const (
	inEntity   = "entity"
	inEntityID = "entity_id"
	inText     = "text"
)

// Entities a note can be added to, and their API paths.
var noteEntities = map[string]string{"lead": "leads", "contact": "contacts"}

var addNoteAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "add_note",
		Title: "Add note",
		Description: "Adds a text note (common note) to a lead or a contact, shown in its feed. The step's idempotency key " +
			"goes in the note's request_id, but a retry after an unanswered attempt may add the note twice: amoCRM does " +
			"not deduplicate by it.",
		Inputs: []connectors.Field{
			{Name: inEntity, Type: connectors.TypeString, Title: "Add to", Enum: []string{"lead", "contact"}, Default: "lead",
				Description: "Whether entity_id is a lead or a contact."},
			{Name: inEntityID, Type: connectors.TypeInteger, Title: "Lead or contact id", Required: true,
				Description: "The id of the lead or contact, such as the id output of amocrm.create_lead.",
				Examples:    []any{"{{ steps.lead.output.id }}"}},
			{Name: inText, Type: connectors.TypeString, Title: "Text", Required: true,
				Description: "The note's text."},
		},
		Outputs: []connectors.Field{
			{Name: outID, Type: connectors.TypeInteger, Title: "Note id", Description: "The new note's id."},
			{Name: inEntityID, Type: connectors.TypeInteger, Title: "Lead or contact id", Description: "The entity the note was added to."},
		},
	},
	New: func() connectors.Action { return &addNote{} },
}

var (
	_ connectors.Action    = (*addNote)(nil)
	_ connectors.Validator = (*addNote)(nil)
)

type addNote struct{}

type noteInput struct {
	entity   string
	entityID int64
	text     string
}

func parseNoteInput(input map[string]any) (noteInput, error) {
	in := noteInput{entity: strings.TrimSpace(text(input[inEntity])), text: strings.TrimSpace(text(input[inText]))}
	if in.entity == "" {
		in.entity = "lead"
	}
	if _, ok := noteEntities[in.entity]; !ok {
		return in, fmt.Errorf("entity must be lead or contact, got %q", in.entity)
	}
	v := input[inEntityID]
	n, ok := connectors.Int64(v)
	if s, isString := v.(string); isString {
		var err error
		n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		ok = err == nil
	}
	if !ok || n <= 0 {
		return in, fmt.Errorf("entity_id must be a positive id, got %v", v)
	}
	in.entityID = n
	if in.text == "" {
		return in, fmt.Errorf("text is empty")
	}
	return in, nil
}

// Validate checks literal inputs; inputs still holding templates are checked at run time.
func (a *addNote) Validate(input map[string]any) error {
	for _, k := range []string{inEntityID, inText} {
		if s, ok := input[k].(string); ok && strings.Contains(s, "{{") {
			return nil
		}
	}
	if _, err := parseNoteInput(input); err != nil {
		return connectors.Permanent(err)
	}
	return nil
}

// Run adds the note.
func (a *addNote) Run(ctx context.Context, call *connectors.Call) (any, error) {
	in, err := parseNoteInput(call.Input)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("add note in amocrm for run %s: %w", call.RunID, err))
	}
	fail := func(err error) error {
		return fmt.Errorf("add note to amocrm %s %d for run %s: %w", in.entity, in.entityID, call.RunID, err)
	}
	api, err := newAPI(call.Connection, call.Logger)
	if err != nil {
		return nil, fail(err)
	}
	note := map[string]any{"entity_id": in.entityID, "note_type": "common", "params": map[string]any{"text": in.text}}
	if call.IdempotencyKey != "" {
		note["request_id"] = call.IdempotencyKey
	}
	var res struct {
		Embedded struct {
			Notes []struct {
				ID       int64 `json:"id"`
				EntityID int64 `json:"entity_id"`
			} `json:"notes"`
		} `json:"_embedded"`
	}
	if err := api.post(ctx, "/api/v4/"+noteEntities[in.entity]+"/notes", []any{note}, call.IdempotencyKey, &res); err != nil {
		return nil, fail(err)
	}
	if len(res.Embedded.Notes) != 1 {
		return nil, fail(connectors.Permanent(fmt.Errorf("amocrm answered with %d notes, want 1", len(res.Embedded.Notes))))
	}
	return map[string]any{outID: res.Embedded.Notes[0].ID, inEntityID: in.entityID}, nil
}

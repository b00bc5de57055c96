package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Poller fetches the items a source has now, for a poll trigger ("http.poll",
// "telegram.updates"). The engine calls it on the trigger's schedule from one process at a
// time, de-duplicates the items by key, starts one run per new item, and saves the cursor
// in the same transaction as those runs. A new value is made for each poll by
// PollerDef.New.
type Poller interface {
	// Poll returns the source's current items, oldest first, and the cursor to save. It
	// must return promptly once ctx is done. Errors count towards the trigger's
	// consecutive failures; nothing is saved for a failed poll, so the next poll starts
	// again from the last saved cursor.
	Poll(ctx context.Context, call *PollCall) (*PollResult, error)
}

// PollerSpec describes a poll trigger: what it is called, what it takes and what each
// item holds.
type PollerSpec struct {
	// Name is the poller's name inside its connector ("poll", "updates"); workflows use
	// it as "connector.name" in trigger.poll.uses.
	Name        string  `json:"name"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Inputs      []Field `json:"inputs"`
	// Item describes the fields of one item, as runs see it in trigger.item.
	Item []Field `json:"item,omitempty"`
	// DefaultKey is the expression (over "item") that identifies an item when the
	// workflow's trigger gives no key ("item.update_id"). Empty: the item's whole JSON.
	DefaultKey string `json:"default_key,omitempty"`
}

// PollerDef registers a poller: its spec and its factory.
type PollerDef struct {
	PollerSpec
	New func() Poller
}

// PollCall is everything a poller gets for one poll.
type PollCall struct {
	// WorkflowID names the workflow whose trigger is polling.
	WorkflowID string
	// Input holds the trigger's rendered "with" values. Templates in them see the saved
	// cursor as "cursor".
	Input map[string]any
	// Cursor is what the last successful poll returned as its cursor, decoded from JSON
	// by DecodeJSON (integers as int64, other numbers as float64), or nil before the
	// first one.
	Cursor any
	// First says no poll of this trigger has succeeded yet: the engine only records what
	// it returns as seen (unless the trigger asks for a backfill).
	First bool
	// Connection is the trigger's connection with its secrets decrypted, or nil.
	Connection *Connection
	// Logger carries the workflow's attributes. Never log secrets.
	Logger *slog.Logger
	// Eval evaluates an expression of the workflow language over env, for inputs that
	// hold expressions (http.poll's "items"). It is never nil when the engine calls.
	Eval func(expression string, env map[string]any) (any, error)
}

// Decode copies the poll's input into dst, a pointer to a struct with json tags.
// A value of the wrong type is a permanent error.
func (c *PollCall) Decode(dst any) error {
	data, err := json.Marshal(c.Input)
	if err != nil {
		return Permanent(fmt.Errorf("encode poll input: %w", err))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return Permanent(fmt.Errorf("decode poll input: %w", err))
	}
	return nil
}

// PollResult is what one poll found.
type PollResult struct {
	// Items are the source's items, oldest first. Items seen before are dropped by the
	// engine, so a poller may return overlapping windows.
	Items []any
	// Cursor is saved with the runs the poll starts and handed to the next poll. nil keeps
	// the previous cursor. It must encode as JSON.
	Cursor any
}

// WebhookTarget is what a connector's RegisterWebhook gets: where the service should send
// its events and the secret it should sign or tag them with.
type WebhookTarget struct {
	// URL is the workflow's public webhook URL.
	URL string
	// Secret is the secret of the workflow's webhook auth connection, or "" when the
	// workflow checks none.
	Secret string
	// Delete asks to remove the registration instead.
	Delete bool
	// SecretQuery is the query parameter the workflow's auth reads the secret from (auth
	// type token with query), or "". A service that can neither sign nor send a header
	// (MoySklad) puts the secret in the URL under this name.
	SecretQuery string
	// Options are the connector's own registration settings, from the "options" of the
	// registration request (MoySklad: entity_type, action). nil when none were given.
	Options map[string]any
}

package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
)

// Poller input names.
const (
	inLimit          = "limit"
	inTimeout        = "timeout"
	inAllowedUpdates = "allowed_updates"
)

const (
	// limitDefault and limitMax are getUpdates' own default and maximum.
	limitDefault = 100
	limitMax     = 100
	// timeoutMax caps the long-poll wait: a poll holds the trigger's slot while it
	// waits, and Telegram's own examples stay under a minute.
	timeoutMax = 50
	// longPollGrace is added to the long-poll wait for the request's own timeout, so
	// Telegram's empty answer arrives before the client gives up.
	longPollGrace = 15 * time.Second
)

var updatesPoller = &connectors.PollerDef{
	PollerSpec: connectors.PollerSpec{
		Name:  "updates",
		Title: "New bot updates",
		Description: "Fetches the bot's new updates with getUpdates: messages sent to it or in its groups, button presses " +
			"(callback_query), channel posts, membership changes. Each update starts one run, with the Update object as " +
			"trigger.item (update_id and one field named after its type, such as message). Updates are confirmed to " +
			"Telegram only by the next poll, once the runs of this one are stored, so a crash loses none; Telegram keeps " +
			"unconfirmed updates for about 24 hours. A bot receives updates either by polling or through a webhook: while " +
			"a webhook is set, every poll fails until it is deleted. Use one poll trigger per bot, since each poll confirms " +
			"what the previous one returned, whoever made it.",
		Inputs: []connectors.Field{
			{Name: inLimit, Type: connectors.TypeInteger, Title: "Updates per poll", Default: limitDefault,
				Description: "Most updates fetched by one poll, 1 to 100. The rest come with the next polls."},
			{Name: inTimeout, Type: connectors.TypeInteger, Title: "Long-poll seconds", Default: 0,
				Description: "Seconds Telegram may hold a poll open until an update arrives (long polling), 0 to 50; " +
					"larger values are reduced to 50. 0 answers at once. A long poll picks updates up as they happen " +
					"but keeps each poll running up to this long, so keep it below the trigger's interval.",
				Examples: []any{25}},
			{Name: inAllowedUpdates, Type: connectors.TypeArray, Title: "Update types",
				Items: &connectors.Field{Name: "type", Type: connectors.TypeString, Title: "Update type",
					Description: "An Update field name, such as message or callback_query."},
				Description: "Update types to receive, such as message, edited_message, channel_post, callback_query, " +
					"my_chat_member, chat_member. An empty list: every type except chat_member, message_reaction and " +
					"message_reaction_count. Unset: the bot keeps its previous setting. A change applies to updates " +
					"that arrive after it, not to those already waiting.",
				Examples: []any{[]any{"message", "callback_query"}}},
		},
		Item: []connectors.Field{
			{Name: "update_id", Type: connectors.TypeInteger, Title: "Update id",
				Description: "The update's id, ascending; the trigger's default key."},
			{Name: "message", Type: connectors.TypeObject, Title: "Message",
				Description: "A new message: message_id, from (the sender), chat (id, type, title or username), date, text, and more."},
			{Name: "edited_message", Type: connectors.TypeObject, Title: "Edited message",
				Description: "A new version of a message the bot saw before."},
			{Name: "channel_post", Type: connectors.TypeObject, Title: "Channel post",
				Description: "A new post in a channel the bot is in."},
			{Name: "callback_query", Type: connectors.TypeObject, Title: "Button press",
				Description: "A press on an inline keyboard button: id, from, message and the button's data."},
			{Name: "my_chat_member", Type: connectors.TypeObject, Title: "Bot membership change",
				Description: "The bot was added to, removed from or blocked in a chat."},
		},
		DefaultKey: "item.update_id",
	},
	New: func() connectors.Poller { return &updatesPoll{} },
}

var _ connectors.Poller = (*updatesPoll)(nil)

// updatesPoll is one poll of telegram.updates.
type updatesPoll struct{}

// getUpdatesParams is the getUpdates request body.
type getUpdatesParams struct {
	Offset  int64 `json:"offset,omitempty"`
	Limit   int   `json:"limit"`
	Timeout int   `json:"timeout"`
	// AllowedUpdates is nil when the input is unset, so Telegram keeps the previous
	// setting; an empty list is sent as [].
	AllowedUpdates *[]string `json:"allowed_updates,omitempty"`
}

// Poll makes one getUpdates call. Its offset is the saved cursor, which confirms (and so
// deletes at Telegram) the updates the previous poll returned: the engine saved that
// cursor with their runs. Only one call per poll, since a second one with a higher
// offset would confirm updates whose runs are not stored yet.
func (p *updatesPoll) Poll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	params, err := parsePollInput(call.Input)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid input for telegram updates poll of workflow %s: %w", call.WorkflowID, err))
	}
	log := loggerOf(call.Logger)
	offset, err := cursorOffset(call.Cursor)
	if err != nil {
		// Polling from Telegram's oldest unconfirmed update is safe: the engine drops
		// updates it has seen by their key. Failing instead would fail every poll.
		log.LogAttrs(ctx, slog.LevelWarn, "Ignoring unreadable Telegram updates cursor",
			slog.String("cursor", fmt.Sprint(call.Cursor)), slog.String("err", err.Error()))
	}
	params.Offset = offset
	api, err := newBotAPI(call.Connection, log)
	if err != nil {
		return nil, fmt.Errorf("poll telegram updates for workflow %s: %w", call.WorkflowID, err)
	}
	var raw json.RawMessage
	err = api.withTimeout(time.Duration(params.Timeout)*time.Second+longPollGrace).call(ctx, "getUpdates", params, &raw)
	if e, ok := asAPIError(err); ok && e.Code == http.StatusConflict {
		if strings.Contains(strings.ToLower(e.Description), "webhook") {
			return nil, connectors.Permanent(fmt.Errorf(
				"poll telegram updates for workflow %s: a webhook is set for this bot; delete it or use the webhook trigger: %w",
				call.WorkflowID, e))
		}
		// A poll of another trigger, process or program took over; the next poll may
		// succeed, so this is no more permanent than a network error.
		return nil, fmt.Errorf("poll telegram updates for workflow %s: another getUpdates request with the same bot token is running "+
			"(make sure only one trigger or program polls this bot): %w", call.WorkflowID, e)
	}
	if err != nil {
		return nil, fmt.Errorf("poll telegram updates for workflow %s: %w", call.WorkflowID, err)
	}
	items, last, err := decodeUpdates(raw)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("poll telegram updates for workflow %s: %w", call.WorkflowID, err))
	}
	res := &connectors.PollResult{Items: items}
	// nil keeps the saved cursor; never move it backwards, which would ask Telegram
	// for confirmed updates again (or, with a negative offset, drop pending ones).
	if len(items) > 0 && last+1 > offset {
		res.Cursor = last + 1
	}
	log.LogAttrs(ctx, slog.LevelDebug, "Polled Telegram updates",
		slog.Int64("offset", offset),
		slog.Int("updates", len(items)),
		slog.Any("cursor", res.Cursor))
	return res, nil
}

// parsePollInput checks the inputs and applies their defaults.
func parsePollInput(input map[string]any) (*getUpdatesParams, error) {
	p := &getUpdatesParams{Limit: limitDefault}
	var errs []error
	if v, ok := input[inLimit]; ok && v != nil {
		n, ok := connectors.Int64(v)
		if !ok || n < 1 || n > limitMax {
			errs = append(errs, fmt.Errorf("limit must be an integer from 1 to %d, got %v", limitMax, v))
		}
		p.Limit = int(n)
	}
	if v, ok := input[inTimeout]; ok && v != nil {
		n, ok := connectors.Int64(v)
		if !ok || n < 0 {
			errs = append(errs, fmt.Errorf("timeout must be a number of seconds from 0 to %d, got %v", timeoutMax, v))
		}
		p.Timeout = int(min(max(n, 0), timeoutMax))
	}
	switch v := input[inAllowedUpdates].(type) {
	case nil:
	case []any:
		types := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok || strings.TrimSpace(s) == "" {
				errs = append(errs, fmt.Errorf("allowed_updates must hold update type names, got %s %v", connectors.JSONTypeOf(e), e))
				continue
			}
			types = append(types, strings.TrimSpace(s))
		}
		p.AllowedUpdates = &types
	case []string:
		types := append([]string{}, v...)
		p.AllowedUpdates = &types
	default:
		errs = append(errs, fmt.Errorf("allowed_updates: expected a list of update types, got %s", connectors.JSONTypeOf(v)))
	}
	return p, errors.Join(errs...)
}

// cursorOffset reads the saved cursor, the next update_id to ask for. It comes back
// from JSON as a json.Number; other integer forms are accepted too.
func cursorOffset(cursor any) (int64, error) {
	if cursor == nil {
		return 0, nil
	}
	n, ok := connectors.Int64(cursor)
	if s, isString := cursor.(string); isString {
		var err error
		n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		ok = err == nil
	}
	if !ok || n <= 0 {
		// Zero or below would not confirm anything, and a negative offset would make
		// Telegram forget pending updates.
		return 0, fmt.Errorf("cursor %v is not a positive update id", cursor)
	}
	return n, nil
}

// decodeUpdates decodes getUpdates' result: Update objects (numbers as int64, as
// elsewhere in the engine), sorted by update_id, and the highest id.
func decodeUpdates(raw json.RawMessage) ([]any, int64, error) {
	v, err := connectors.DecodeJSON(raw)
	if err != nil {
		return nil, 0, fmt.Errorf("read getUpdates result: %w", err)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, 0, fmt.Errorf("read getUpdates result: expected a list of updates, got %s", connectors.JSONTypeOf(v))
	}
	ids := make([]int64, len(list))
	for i, u := range list {
		m, ok := u.(map[string]any)
		id, isInt := m["update_id"].(int64)
		if !ok || !isInt {
			return nil, 0, fmt.Errorf("read getUpdates result: update %d has no integer update_id", i)
		}
		ids[i] = id
	}
	// Telegram sends them in order; sorting keeps "oldest first" true whatever the server.
	sort.Sort(byID{ids, list})
	var last int64
	if len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	return list, last, nil
}

// byID sorts updates and their ids together.
type byID struct {
	ids   []int64
	items []any
}

func (b byID) Len() int           { return len(b.ids) }
func (b byID) Less(i, j int) bool { return b.ids[i] < b.ids[j] }
func (b byID) Swap(i, j int) {
	b.ids[i], b.ids[j] = b.ids[j], b.ids[i]
	b.items[i], b.items[j] = b.items[j], b.items[i]
}

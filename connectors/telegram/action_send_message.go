package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/hookflow/hookflow/connectors"
)

// Input field names.
const (
	inChatID             = "chat_id"
	inText               = "text"
	inParseMode          = "parse_mode"
	inDisableLinkPreview = "disable_link_preview"
	inLinkPreviewURL     = "link_preview_url"
	inSilent             = "silent"
	inProtectContent     = "protect_content"
	inMessageThreadID    = "message_thread_id"
	inReplyToMessageID   = "reply_to_message_id"
	inReplyMarkup        = "reply_markup"
)

// Output field names.
const (
	outMessageID    = "message_id"
	outChatID       = "chat_id"
	outDate         = "date"
	outText         = "text"
	outMigratedFrom = "migrated_from"
)

// Values of parse_mode.
const (
	parseHTML       = "HTML"
	parseMarkdownV2 = "MarkdownV2"
	parseMarkdown   = "Markdown"
)

// maxTextLength is Telegram's limit on a message, in UTF-16 code units after the
// formatting markup is removed.
const maxTextLength = 4096

// usernamePattern is a public chat's @username. Telegram's rules are stricter (5 to 32
// characters); this only keeps obvious mistakes from reaching the API.
var usernamePattern = regexp.MustCompile(`^@[A-Za-z0-9_]+$`)

var sendMessageAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "send_message",
		Title: "Send message",
		Description: "Sends a text message as the bot to a user, a group or a channel (sendMessage) and returns the new " +
			"message's id. A flood limit (429) is retried after the wait Telegram asks for; server errors (5xx), timeouts " +
			"and connection errors are retried with the step's backoff. An unknown chat, a bot blocked by the user or not in " +
			"the chat, a refused token or markup that does not parse fail the step at once with Telegram's description. " +
			"When a group has been upgraded to a supergroup, the message is sent once more to the new chat id and the output " +
			"names the old one in migrated_from. Telegram has no idempotency key: a retry after a timeout can post the " +
			"message twice.",
		Inputs: []connectors.Field{
			{Name: inChatID, Type: connectors.TypeAny, Title: "Chat", Required: true,
				Description: "Where to send: the chat's numeric id, as a number or a string of digits (users have positive " +
					"ids, groups negative ones, supergroups and channels -100…), or a public channel's or supergroup's " +
					"@username. A user must have started a chat with the bot first; in groups and channels the bot must be a member.",
				Examples: []any{-1001234567890, "@my_channel", "{{ trigger.item.message.chat.id }}"}},
			{Name: inText, Type: connectors.TypeString, Title: "Text", Required: true,
				Description: "The message: 1 to 4096 characters once formatting markup is removed. With a parse_mode, " +
					"text inserted from triggers must be escaped for that mode (for HTML: `&` as `&amp;`, `<` as `&lt;` and `>` as `&gt;`), " +
					"otherwise Telegram refuses the message.",
				Examples: []any{"New lead: {{ trigger.body.name }}, {{ trigger.body.phone }}",
					"<b>New order</b> #{{ trigger.body.id }}"}},
			{Name: inParseMode, Type: connectors.TypeString, Title: "Formatting",
				Description: "How the text is formatted: HTML (`<b>`, `<i>`, `<u>`, `<s>`, `<a href=\"…\">`, `<code>`, `<pre>`, " +
					"`<blockquote>`), MarkdownV2 (special characters such as `.` `!` `-` escaped with `\\`), or the legacy Markdown. " +
					"Unset: plain text, sent as is.",
				Enum: []string{parseHTML, parseMarkdownV2, parseMarkdown}},
			{Name: inDisableLinkPreview, Type: connectors.TypeBoolean, Title: "No link preview", Default: false,
				Description: "Do not show a preview of the first link in the text."},
			{Name: inLinkPreviewURL, Type: connectors.TypeString, Title: "Link preview URL",
				Description: "Show the preview of this URL instead of the first link in the text.",
				Examples:    []any{"https://example.com/offer"}},
			{Name: inSilent, Type: connectors.TypeBoolean, Title: "Silent", Default: false,
				Description: "Send without sound: recipients get a notification with no sound."},
			{Name: inProtectContent, Type: connectors.TypeBoolean, Title: "Protect content", Default: false,
				Description: "Keep the message from being forwarded and saved."},
			{Name: inMessageThreadID, Type: connectors.TypeInteger, Title: "Topic",
				Description: "In a supergroup with topics, the message_thread_id of the topic to post in.",
				Examples:    []any{42}},
			{Name: inReplyToMessageID, Type: connectors.TypeInteger, Title: "Reply to",
				Description: "Id of a message in the same chat to reply to. If that message is gone, the message is sent as a normal one.",
				Examples:    []any{"{{ trigger.item.message.message_id }}"}},
			{Name: inReplyMarkup, Type: connectors.TypeObject, Title: "Buttons",
				Description: "Telegram's reply_markup object, sent unchanged: inline_keyboard (buttons under the message), " +
					"keyboard (a custom reply keyboard), remove_keyboard or force_reply.",
				Examples: []any{map[string]any{"inline_keyboard": []any{[]any{
					map[string]any{"text": "Open in CRM", "url": "https://crm.example.com/leads/42"}}}}}},
		},
		Outputs: []connectors.Field{
			{Name: outMessageID, Type: connectors.TypeInteger, Title: "Message id",
				Description: "Id of the new message in its chat, for replies (reply_to_message_id) and edits."},
			{Name: outChatID, Type: connectors.TypeInteger, Title: "Chat id",
				Description: "Numeric id of the chat the message went to; after a group upgrade, the supergroup's new id."},
			{Name: outDate, Type: connectors.TypeInteger, Title: "Date",
				Description: "When Telegram accepted the message, in Unix seconds."},
			{Name: outText, Type: connectors.TypeString, Title: "Text",
				Description: "The text as Telegram stored it, without formatting markup."},
			{Name: outMigratedFrom, Type: connectors.TypeAny, Title: "Migrated from",
				Description: "Only when the group had been upgraded to a supergroup: the chat_id the step named. " +
					"Change the workflow's chat_id to chat_id from this output."},
		},
	},
	New: func() connectors.Action { return &sendMessage{} },
}

var (
	_ connectors.Action    = (*sendMessage)(nil)
	_ connectors.Validator = (*sendMessage)(nil)
)

// sendMessage is one call of telegram.send_message.
type sendMessage struct{}

// sendMessageParams is the sendMessage request body.
type sendMessageParams struct {
	// ChatID is an int64 id or an "@username".
	ChatID              any                 `json:"chat_id"`
	MessageThreadID     int64               `json:"message_thread_id,omitempty"`
	Text                string              `json:"text"`
	ParseMode           string              `json:"parse_mode,omitempty"`
	LinkPreviewOptions  *linkPreviewOptions `json:"link_preview_options,omitempty"`
	DisableNotification bool                `json:"disable_notification,omitempty"`
	ProtectContent      bool                `json:"protect_content,omitempty"`
	ReplyParameters     *replyParameters    `json:"reply_parameters,omitempty"`
	ReplyMarkup         map[string]any      `json:"reply_markup,omitempty"`
}

type linkPreviewOptions struct {
	IsDisabled bool   `json:"is_disabled,omitempty"`
	URL        string `json:"url,omitempty"`
}

type replyParameters struct {
	MessageID int64 `json:"message_id"`
	// AllowSendingWithoutReply sends the message even when the one replied to is gone,
	// rather than failing the step.
	AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
}

// sentMessage is the part of the Message result the output uses.
type sentMessage struct {
	MessageID int64  `json:"message_id"`
	Date      int64  `json:"date"`
	Text      string `json:"text"`
	Chat      struct {
		ID int64 `json:"id"`
	} `json:"chat"`
}

// Validate checks the inputs offline, so mistakes fail at save time or before the call.
func (a *sendMessage) Validate(input map[string]any) error {
	if _, err := parseSendInput(input); err != nil {
		return connectors.Permanent(err)
	}
	return nil
}

// Run sends the message, following a group's upgrade to a supergroup once.
func (a *sendMessage) Run(ctx context.Context, call *connectors.Call) (any, error) {
	params, err := parseSendInput(call.Input)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid input for step %s: %w", call.StepID, err))
	}
	log := loggerOf(call.Logger)
	api, err := newBotAPI(call.Connection, log)
	if err != nil {
		return nil, fmt.Errorf("send telegram message for step %s: %w", call.StepID, err)
	}
	var msg sentMessage
	err = api.call(ctx, "sendMessage", params, &msg)
	var migratedFrom any
	if e, ok := asAPIError(err); ok && e.MigrateToChatID != 0 {
		// The group became a supergroup with a new id. Nothing was sent, so sending again
		// is safe; once only, so a chain of migrations cannot loop.
		migratedFrom = params.ChatID
		log.LogAttrs(ctx, slog.LevelWarn, "Telegram group was upgraded to a supergroup; sending to its new chat id",
			slog.String("chat_id", fmt.Sprint(migratedFrom)),
			slog.Int64("new_chat_id", e.MigrateToChatID))
		params.ChatID = e.MigrateToChatID
		err = api.call(ctx, "sendMessage", params, &msg)
		if e2, ok := asAPIError(err); ok && e2.MigrateToChatID != 0 {
			return nil, connectors.Permanent(fmt.Errorf(
				"send telegram message for step %s: chat %v was upgraded to %d, which reports another upgrade to %d; set chat_id to the current id: %w",
				call.StepID, migratedFrom, e.MigrateToChatID, e2.MigrateToChatID, err))
		}
		if err != nil {
			return nil, fmt.Errorf("send telegram message to chat %d (the upgrade of group %v) for step %s: %w",
				e.MigrateToChatID, migratedFrom, call.StepID, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("send telegram message to chat %v for step %s: %w", params.ChatID, call.StepID, err)
	}
	log.LogAttrs(ctx, slog.LevelDebug, "Sent Telegram message",
		slog.Int64("chat_id", msg.Chat.ID),
		slog.Int64("message_id", msg.MessageID))
	out := map[string]any{
		outMessageID: msg.MessageID,
		outChatID:    msg.Chat.ID,
		outDate:      msg.Date,
		outText:      msg.Text,
	}
	if migratedFrom != nil {
		out[outMigratedFrom] = migratedFrom
	}
	return out, nil
}

// parseSendInput checks every input and builds the request body. Errors are plain;
// callers mark them permanent.
func parseSendInput(input map[string]any) (*sendMessageParams, error) {
	p := &sendMessageParams{}
	var errs []error
	var err error
	if p.ChatID, err = parseChatID(input[inChatID]); err != nil {
		errs = append(errs, err)
	}

	switch v := input[inText].(type) {
	case nil:
		errs = append(errs, errors.New("text is required"))
	case string:
		p.Text = v
	case bool, json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		p.Text = fmt.Sprint(v) // a template such as "{{ trigger.body.count }}" keeps its number type
	default:
		errs = append(errs, fmt.Errorf("text: expected a string, got %s", connectors.JSONTypeOf(v)))
	}

	switch v := input[inParseMode].(type) {
	case nil:
	case string:
		switch v {
		case "", parseHTML, parseMarkdownV2, parseMarkdown:
			p.ParseMode = v
		default:
			errs = append(errs, fmt.Errorf("parse_mode %q is not one of HTML, MarkdownV2, Markdown", v))
		}
	default:
		errs = append(errs, fmt.Errorf("parse_mode: expected a string, got %s", connectors.JSONTypeOf(v)))
	}
	if _, hasText := input[inText]; hasText && strings.TrimSpace(p.Text) == "" {
		errs = append(errs, errors.New("text is empty: Telegram refuses empty messages"))
	}
	// With a parse mode the markup does not count, and only Telegram's parser knows how
	// much of the text is markup.
	if n := len(utf16.Encode([]rune(p.Text))); p.ParseMode == "" && n > maxTextLength {
		errs = append(errs, fmt.Errorf("text is %d characters long; Telegram allows %d", n, maxTextLength))
	}

	var preview linkPreviewOptions
	if preview.IsDisabled, err = parseBool(inDisableLinkPreview, input[inDisableLinkPreview]); err != nil {
		errs = append(errs, err)
	}
	switch v := input[inLinkPreviewURL].(type) {
	case nil:
	case string:
		preview.URL = strings.TrimSpace(v)
	default:
		errs = append(errs, fmt.Errorf("link_preview_url: expected a string, got %s", connectors.JSONTypeOf(v)))
	}
	if preview != (linkPreviewOptions{}) {
		p.LinkPreviewOptions = &preview
	}
	if p.DisableNotification, err = parseBool(inSilent, input[inSilent]); err != nil {
		errs = append(errs, err)
	}
	if p.ProtectContent, err = parseBool(inProtectContent, input[inProtectContent]); err != nil {
		errs = append(errs, err)
	}
	if p.MessageThreadID, err = parseID(inMessageThreadID, input[inMessageThreadID]); err != nil {
		errs = append(errs, err)
	}
	replyTo, err := parseID(inReplyToMessageID, input[inReplyToMessageID])
	if err != nil {
		errs = append(errs, err)
	}
	if replyTo != 0 {
		p.ReplyParameters = &replyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	if p.ReplyMarkup, err = parseReplyMarkup(input[inReplyMarkup]); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// parseChatID accepts a numeric id (number or digits) and returns it as int64, or an
// @username and returns it as a string.
func parseChatID(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, errors.New("chat_id is required")
	case string:
		s := strings.TrimSpace(x)
		switch {
		case s == "":
			return nil, errors.New("chat_id is empty")
		case strings.HasPrefix(s, "@"):
			if !usernamePattern.MatchString(s) {
				return nil, fmt.Errorf("chat_id %q is not a valid @username", s)
			}
			return s, nil
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("chat_id %q is neither a numeric chat id such as -1001234567890 nor an @username", s)
		}
		return id, nil
	default:
		id, ok := connectors.Int64(v)
		if !ok || id == 0 {
			return nil, fmt.Errorf("chat_id: expected a chat id or an @username, got %s %v", connectors.JSONTypeOf(v), v)
		}
		return id, nil
	}
}

// parseID reads an optional positive integer id: a number or a string of digits.
func parseID(name string, v any) (int64, error) {
	if v == nil {
		return 0, nil
	}
	id, ok := connectors.Int64(v)
	if s, isString := v.(string); isString {
		if strings.TrimSpace(s) == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		id, ok = n, err == nil
	}
	if !ok || id <= 0 {
		return 0, fmt.Errorf("%s: expected a positive integer, got %s %v", name, connectors.JSONTypeOf(v), v)
	}
	return id, nil
}

// parseBool reads an optional boolean; "true" and "false" from templates are accepted.
func parseBool(name string, v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
	}
	return false, fmt.Errorf("%s: expected true or false, got %s %v", name, connectors.JSONTypeOf(v), v)
}

// parseReplyMarkup accepts an object, or its JSON text from a template.
func parseReplyMarkup(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err != nil || m == nil {
			return nil, errors.New("reply_markup: expected an object or its JSON text")
		}
		return m, nil
	}
	return nil, fmt.Errorf("reply_markup: expected an object, got %s", connectors.JSONTypeOf(v))
}

func loggerOf(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// method is one Bot API method the fake implements.
type method struct {
	name   string // documented spelling
	handle func(ex *exchange, p params)
}

// methods is keyed by the lower-cased name: the Bot API ignores the case of method names.
var methods = map[string]method{}

func init() {
	for _, m := range []method{
		{"getMe", (*exchange).getMe},
		{"sendMessage", (*exchange).sendMessage},
		{"getUpdates", (*exchange).getUpdates},
		{"setWebhook", (*exchange).setWebhook},
		{"deleteWebhook", (*exchange).deleteWebhook},
		{"getWebhookInfo", (*exchange).getWebhookInfo},
	} {
		methods[strings.ToLower(m.name)] = m
	}
}

// Telegram's limits that the fake enforces.
const (
	maxMessageLength = 4096 // UTF-16 code units, after entity parsing
	maxSecretLength  = 256
	maxLimit         = 100
)

// defaultExcludedUpdates are the update types Telegram leaves out unless
// allowed_updates names them.
var defaultExcludedUpdates = map[string]bool{"chat_member": true, "message_reaction": true, "message_reaction_count": true}

// webhookConflict answers getUpdates while a webhook is set.
const webhookConflict = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"

var secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// params reads parameters whatever the transport: JSON bodies keep their types, query
// strings and forms give strings, and JSON-typed parameters sent in forms are JSON text.
type params map[string]any

func (p params) has(k string) bool {
	v, ok := p[k]
	return ok && v != nil && v != ""
}

func (p params) str(k string) string {
	switch v := p[k].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (p params) int(k string) (int64, bool, error) {
	if !p.has(k) {
		return 0, false, nil
	}
	switch v := p[k].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil, err
	case float64:
		if v != float64(int64(v)) {
			return 0, false, fmt.Errorf("%s is not an integer", k)
		}
		return int64(v), true, nil
	default:
		n, err := strconv.ParseInt(strings.TrimSpace(p.str(k)), 10, 64)
		return n, err == nil, err
	}
}

func (p params) bool(k string) (value, present bool) {
	switch v := p[k].(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		return b, err == nil
	case json.Number:
		return v.String() != "0", true
	}
	return false, false
}

// json returns an object or array parameter, decoding it when it came as JSON text.
func (p params) json(k string) (any, bool, error) {
	switch v := p[k].(type) {
	case nil:
		return nil, false, nil
	case map[string]any, []any:
		return v, true, nil
	case string:
		if v == "" {
			return nil, false, nil
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		var out any
		if err := dec.Decode(&out); err != nil {
			return nil, true, err
		}
		return out, true, nil
	default:
		return nil, true, fmt.Errorf("%s is neither an object nor an array", k)
	}
}

func (p params) object(k string) (map[string]any, bool, error) {
	v, ok, err := p.json(k)
	if !ok || err != nil {
		return nil, ok, err
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		return nil, true, fmt.Errorf("%s is not an object", k)
	}
	return m, true, nil
}

func (p params) strings(k string) ([]string, bool, error) {
	v, ok, err := p.json(k)
	if !ok || err != nil {
		return nil, ok, err
	}
	list, isList := v.([]any)
	if !isList {
		return nil, true, fmt.Errorf("%s is not an array", k)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, isString := e.(string)
		if !isString {
			return nil, true, fmt.Errorf("%s holds a non-string", k)
		}
		out = append(out, s)
	}
	return out, true, nil
}

func (ex *exchange) getMe(params) {
	ex.ok(ex.s.botUser(), "")
}

func (s *Server) botUser() map[string]any {
	return map[string]any{
		"id": s.BotID, "is_bot": true, "first_name": "Hookflow Test Bot", "username": "hookflow_test_bot",
		"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
	}
}

// resolveChat finds the chat a chat_id parameter names: a number or "@username".
func (s *Server) resolveChat(p params) (*Chat, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := strings.TrimSpace(p.str("chat_id"))
	if name, isName := strings.CutPrefix(raw, "@"); isName {
		for _, c := range s.chats {
			if c.Username != "" && strings.EqualFold(c.Username, name) {
				cp := *c
				return &cp, true
			}
		}
		return nil, false
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, false
	}
	c, ok := s.chats[id]
	if !ok {
		return nil, false
	}
	cp := *c
	return &cp, true
}

func (ex *exchange) sendMessage(p params) {
	if !p.has("chat_id") {
		ex.fail(http.StatusBadRequest, "Bad Request: chat_id is empty", nil)
		return
	}
	text := p.str("text")
	if strings.TrimSpace(text) == "" {
		ex.fail(http.StatusBadRequest, "Bad Request: message text is empty", nil)
		return
	}
	chat, found := ex.s.resolveChat(p)
	switch {
	case !found:
		ex.fail(http.StatusBadRequest, "Bad Request: chat not found", nil)
		return
	case chat.MigrateToChatID != 0:
		ex.fail(http.StatusBadRequest, "Bad Request: group chat was upgraded to a supergroup chat",
			map[string]any{"migrate_to_chat_id": chat.MigrateToChatID})
		return
	case chat.Blocked:
		ex.fail(http.StatusForbidden, "Forbidden: bot was blocked by the user", nil)
		return
	}
	parseMode := p.str("parse_mode")
	plain, err := parseEntities(text, parseMode)
	if err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: "+err.Error(), nil)
		return
	}
	if strings.TrimSpace(plain) == "" {
		ex.fail(http.StatusBadRequest, "Bad Request: message text is empty", nil)
		return
	}
	if len(utf16.Encode([]rune(plain))) > maxMessageLength {
		ex.fail(http.StatusBadRequest, "Bad Request: message is too long", nil)
		return
	}
	msg := Message{ChatID: chat.ID, Text: text, Plain: plain, ParseMode: parseMode, Params: p}
	if msg.LinkPreviewOptions, _, err = p.object("link_preview_options"); err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: can't parse link preview options JSON object", nil)
		return
	}
	if msg.ReplyMarkup, _, err = p.object("reply_markup"); err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object", nil)
		return
	}
	if msg.ReplyParameters, _, err = p.object("reply_parameters"); err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: can't parse reply parameters JSON object", nil)
		return
	}
	if v, ok := p.bool("disable_web_page_preview"); ok {
		msg.DisableWebPagePreview = &v
	}
	msg.DisableNotification, _ = p.bool("disable_notification")
	msg.ProtectContent, _ = p.bool("protect_content")
	if msg.MessageThreadID, _, err = p.int("message_thread_id"); err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: invalid message thread identifier specified", nil)
		return
	}

	s := ex.s
	s.mu.Lock()
	s.nextMessageID++
	msg.MessageID = s.nextMessageID
	msg.Date = time.Now().Unix()
	s.messages = append(s.messages, msg)
	s.mu.Unlock()

	result := map[string]any{
		"message_id": msg.MessageID,
		"from":       s.botUser(),
		"chat":       chatJSON(chat),
		"date":       msg.Date,
		"text":       plain,
	}
	if msg.MessageThreadID != 0 {
		result["message_thread_id"] = msg.MessageThreadID
	}
	if _, inline := msg.ReplyMarkup["inline_keyboard"]; inline {
		result["reply_markup"] = msg.ReplyMarkup // Telegram echoes inline keyboards only
	}
	ex.ok(result, "")
}

func chatJSON(c *Chat) map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type}
	if c.Title != "" {
		out["title"] = c.Title
	}
	if c.Username != "" {
		out["username"] = c.Username
	}
	if c.FirstName != "" {
		out["first_name"] = c.FirstName
	}
	return out
}

func (ex *exchange) getUpdates(p params) {
	s := ex.s
	offset, _, err := p.int("offset")
	if err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: invalid offset specified", nil)
		return
	}
	limit, _, err := p.int("limit")
	if err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: invalid limit specified", nil)
		return
	}
	if limit <= 0 || limit > maxLimit {
		limit = maxLimit // the real server clamps rather than refuses
	}
	timeout, _, err := p.int("timeout")
	if err != nil || timeout < 0 {
		ex.fail(http.StatusBadRequest, "Bad Request: invalid timeout specified", nil)
		return
	}
	allowed, hasAllowed, err := p.strings("allowed_updates")
	if err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: can't parse allowed updates", nil)
		return
	}

	s.mu.Lock()
	if s.hook != nil {
		s.mu.Unlock()
		ex.fail(http.StatusConflict, webhookConflict, nil)
		return
	}
	if hasAllowed {
		s.allowedUpdates = allowed
	}
	// A newer getUpdates ends the one waiting, as the real server does.
	if s.poll != nil {
		close(s.poll.terminated)
	}
	me := &longPoll{terminated: make(chan struct{})}
	s.poll = me
	s.confirmLocked(offset)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.poll == me {
			s.poll = nil
		}
		s.mu.Unlock()
	}()

	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		batch := s.batchLocked(offset, int(limit))
		changed := s.changed
		s.mu.Unlock()
		if len(batch) > 0 || timeout == 0 {
			ex.ok(batch, "")
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			ex.ok([]any{}, "")
			return
		case <-me.terminated:
			s.mu.Lock()
			webhookSet := s.hook != nil
			s.mu.Unlock()
			if webhookSet {
				ex.fail(http.StatusConflict, webhookConflict, nil)
				return
			}
			ex.fail(http.StatusConflict, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", nil)
			return
		case <-ex.r.Context().Done():
			return
		case <-s.ctx.Done():
			ex.fail(http.StatusInternalServerError, "Internal Server Error: the server is shutting down", nil)
			return
		}
	}
}

// confirmLocked applies a getUpdates offset: a positive one confirms (deletes) every
// update below it; a negative one forgets all but the last -offset updates.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		i := sort.Search(len(s.updates), func(i int) bool { return s.updates[i].id >= offset })
		if i > 0 {
			s.updates = append([]storedUpdate(nil), s.updates[i:]...)
			s.broadcastLocked()
		}
	case offset < 0:
		if keep := int(-offset); keep < len(s.updates) {
			s.updates = append([]storedUpdate(nil), s.updates[len(s.updates)-keep:]...)
			s.broadcastLocked()
		}
	}
}

// batchLocked returns up to limit queued updates with id >= offset (any id for an offset
// of 0 or below), oldest first.
func (s *Server) batchLocked(offset int64, limit int) []any {
	out := []any{}
	for _, u := range s.updates {
		if offset > 0 && u.id < offset {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, u.body)
	}
	return out
}

func (ex *exchange) setWebhook(p params) {
	s := ex.s
	raw := strings.TrimSpace(p.str("url"))
	if raw == "" {
		ex.removeWebhook(p) // an empty url removes the webhook
		return
	}
	// Telegram requires https on ports 443, 80, 88 or 8443; the fake takes http on any
	// port so tests can use loopback receivers.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		ex.fail(http.StatusBadRequest, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook", nil)
		return
	}
	secret := p.str("secret_token")
	switch {
	case len(secret) > maxSecretLength:
		ex.fail(http.StatusBadRequest, "Bad Request: secret token is too long", nil)
		return
	case !secretPattern.MatchString(secret):
		ex.fail(http.StatusBadRequest, "Bad Request: secret token contains unallowed characters", nil)
		return
	}
	maxConn, hasMax, err := p.int("max_connections")
	if err != nil || (hasMax && (maxConn < 1 || maxConn > 100)) {
		ex.fail(http.StatusBadRequest, "Bad Request: invalid max_connections specified", nil)
		return
	}
	if !hasMax {
		maxConn = 40
	}
	allowed, hasAllowed, err := p.strings("allowed_updates")
	if err != nil {
		ex.fail(http.StatusBadRequest, "Bad Request: can't parse allowed updates", nil)
		return
	}
	drop, _ := p.bool("drop_pending_updates")

	s.mu.Lock()
	description := "Webhook was set"
	if s.hook != nil && s.hook.url == raw && s.hook.secret == secret {
		description = "Webhook is already set"
	}
	s.hook = &webhook{url: raw, secret: secret, maxConnections: int(maxConn)}
	if hasAllowed {
		s.allowedUpdates = allowed
	}
	if drop {
		s.updates = nil
	}
	if s.poll != nil {
		close(s.poll.terminated) // a waiting getUpdates cannot go on under a webhook
		s.poll = nil
	}
	s.broadcastLocked()
	s.mu.Unlock()
	ex.ok(true, description)
}

func (ex *exchange) deleteWebhook(p params) { ex.removeWebhook(p) }

func (ex *exchange) removeWebhook(p params) {
	s := ex.s
	drop, _ := p.bool("drop_pending_updates")
	s.mu.Lock()
	description := "Webhook was deleted"
	if s.hook == nil {
		description = "Webhook is already deleted"
	}
	s.hook = nil
	if drop {
		s.updates = nil
	}
	s.broadcastLocked()
	s.mu.Unlock()
	ex.ok(true, description)
}

func (ex *exchange) getWebhookInfo(params) {
	info := ex.s.Webhook()
	result := map[string]any{
		"url":                    info.URL,
		"has_custom_certificate": false,
		"pending_update_count":   info.PendingUpdateCount,
	}
	if info.URL != "" {
		result["max_connections"] = info.MaxConnections
	}
	if info.LastErrorDate != 0 {
		result["last_error_date"] = info.LastErrorDate
		result["last_error_message"] = info.LastErrorMessage
	}
	if len(info.AllowedUpdates) > 0 {
		result["allowed_updates"] = info.AllowedUpdates
	}
	ex.ok(result, "")
}

package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// AddUpdate queues an Update for getUpdates or the webhook pusher and returns its
// update_id. The update holds one field besides update_id, named after its type
// ("message", "callback_query", …). Without an update_id it gets the next one; with one,
// it must be above every id queued before. Like Telegram, the fake does not queue an
// update whose type allowed_updates excludes (by default chat_member,
// message_reaction and message_reaction_count); it then returns 0.
func (s *Server) AddUpdate(update map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.addUpdateLocked(update)
	if err != nil {
		s.t.Errorf("telegramtest: AddUpdate: %v", err)
	}
	return id
}

// AddMessageUpdate queues a "message" update: text from a user in chatID (the user is
// the chat's own for a private chat). It returns the update_id.
func (s *Server) AddMessageUpdate(chatID int64, text string) int64 {
	s.mu.Lock()
	chat := Chat{ID: chatID, Type: ChatPrivate, FirstName: "Test"}
	if chatID < 0 {
		chat.Type, chat.FirstName, chat.Title = ChatGroup, "", "Test group"
	}
	if c, ok := s.chats[chatID]; ok {
		chat = *c
	}
	userID := chatID
	if userID < 0 {
		userID = 1001
	}
	s.nextMessageID++
	msg := map[string]any{
		"message_id": s.nextMessageID,
		"from":       map[string]any{"id": userID, "is_bot": false, "first_name": "Test", "language_code": "en"},
		"chat":       chatJSON(&chat),
		"date":       time.Now().Unix(),
		"text":       text,
	}
	id, err := s.addUpdateLocked(map[string]any{"message": msg})
	s.mu.Unlock()
	if err != nil {
		s.t.Errorf("telegramtest: AddMessageUpdate: %v", err)
	}
	return id
}

// Updates returns the queued updates, not yet confirmed or delivered, oldest first.
func (s *Server) Updates() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, len(s.updates))
	for i, u := range s.updates {
		out[i] = u.body
	}
	return out
}

// addUpdateLocked copies update (through JSON, so numbers become json.Number and later
// changes by the caller do not show), gives it an id and queues it. s.mu must be held.
func (s *Server) addUpdateLocked(update map[string]any) (int64, error) {
	data, err := json.Marshal(update)
	if err != nil {
		return 0, fmt.Errorf("encode update: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return 0, fmt.Errorf("decode update: %w", err)
	}
	kind := ""
	for k := range body {
		if k != "update_id" {
			if kind != "" {
				return 0, fmt.Errorf("update has two types, %q and %q", kind, k)
			}
			kind = k
		}
	}
	if kind == "" {
		return 0, fmt.Errorf("update has no content such as \"message\"")
	}
	id := s.lastUpdateID + 1
	if raw, ok := body["update_id"]; ok {
		n, isNumber := raw.(json.Number)
		given, err := n.Int64()
		if !isNumber || err != nil {
			return 0, fmt.Errorf("update_id %v is not an integer", raw)
		}
		if given <= s.lastUpdateID {
			return 0, fmt.Errorf("update_id %d is not above the last one, %d", given, s.lastUpdateID)
		}
		id = given
	}
	s.lastUpdateID = id
	if !s.allowedLocked(kind) {
		return 0, nil
	}
	body["update_id"] = id
	s.updates = append(s.updates, storedUpdate{id: id, kind: kind, body: body})
	s.broadcastLocked()
	return id, nil
}

// allowedLocked applies allowed_updates: an empty or absent list means every type but
// the ones Telegram sends only on request.
func (s *Server) allowedLocked(kind string) bool {
	if len(s.allowedUpdates) == 0 {
		return !defaultExcludedUpdates[kind]
	}
	for _, a := range s.allowedUpdates {
		if a == kind {
			return true
		}
	}
	return false
}

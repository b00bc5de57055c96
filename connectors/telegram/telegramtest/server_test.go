package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// answer is a decoded Bot API response.
type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (a answer) description() string {
	s, _ := a.Body["description"].(string)
	return s
}

func (a answer) result() any { return a.Body["result"] }

func (a answer) parameters() map[string]any {
	p, _ := a.Body["parameters"].(map[string]any)
	return p
}

// do sends one request and decodes the JSON answer; numbers stay json.Number.
func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var body map[string]any
	require.NoError(t, dec.Decode(&body), "body: %s", data)
	if resp.StatusCode != http.StatusOK {
		// The envelope's error_code always equals the HTTP status.
		require.Equal(t, false, body["ok"])
		require.Equal(t, json.Number(strconv.Itoa(resp.StatusCode)), body["error_code"])
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// postJSON calls method with a JSON body.
func postJSON(t *testing.T, s *Server, method string, params map[string]any) answer {
	t.Helper()
	body, err := json.Marshal(params)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.BotURL(method), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func get(t *testing.T, rawURL string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	return do(t, req)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	s := NewServer(t)

	tests := []struct {
		name        string
		url         string
		status      int
		description string
	}{
		{"wrong token", s.URL + "/bot987654321:AAwrongwrongwrongwrongwrongwrongwro/getMe", 401, "Unauthorized"},
		{"wrong token unknown method", s.URL + "/bot987654321:AAwrong/nosuchMethod", 401, "Unauthorized"},
		{"no bot prefix", s.URL + "/" + s.Token + "/getMe", 404, "Not Found"},
		{"malformed token", s.URL + "/botnotatoken/getMe", 404, "Not Found"},
		{"no method", s.URL + "/bot" + s.Token, 404, "Not Found"},
		{"empty method", s.URL + "/bot" + s.Token + "/", 404, "Not Found"},
		{"nested path", s.URL + "/bot" + s.Token + "/getMe/x", 404, "Not Found"},
		{"unknown method", s.BotURL("sendPigeon"), 404, "Not Found: method not found"},
		{"method case ignored", s.BotURL("GETME"), 200, ""},
		{"method lower case", s.BotURL("getme"), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := get(t, tt.url)
			require.Equal(t, tt.status, a.Status)
			require.Equal(t, tt.description, a.description())
		})
	}

	t.Run("exact unauthorized body", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Get(s.URL + "/bot1:wrong/getMe")
		require.NoError(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		require.JSONEq(t, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, string(data))
	})
}

func TestRequestsAreRecorded(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	get(t, s.BotURL("getme"))
	get(t, s.BotURL("sendPigeon"))
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "getMe", reqs[0].Method, "the documented spelling whatever the path's")
	require.Equal(t, 200, reqs[0].Status)
	require.Equal(t, "sendPigeon", reqs[1].Method)
	require.Equal(t, 404, reqs[1].Status)
	require.Equal(t, 1, s.Calls("GetMe"))
}

func TestGetMe(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithToken("42:custom_token-value"))
	require.Equal(t, int64(42), s.BotID)
	a := get(t, s.BotURL("getMe"))
	require.Equal(t, 200, a.Status)
	me := a.result().(map[string]any)
	require.Equal(t, json.Number("42"), me["id"])
	require.Equal(t, true, me["is_bot"])
	require.Equal(t, 401, get(t, s.URL+"/bot"+DefaultToken+"/getMe").Status)
}

func TestSendMessageTransports(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddChat(Chat{ID: 1001, FirstName: "Ann"})
	markup := `{"inline_keyboard":[[{"text":"Open","url":"https://example.com"}]]}`

	form := url.Values{"chat_id": {"1001"}, "text": {"via form"}, "reply_markup": {markup}, "disable_notification": {"true"}}
	var multi bytes.Buffer
	mw := multipart.NewWriter(&multi)
	require.NoError(t, mw.WriteField("chat_id", "1001"))
	require.NoError(t, mw.WriteField("text", "via multipart"))
	require.NoError(t, mw.WriteField("link_preview_options", `{"is_disabled":true}`))
	require.NoError(t, mw.Close())

	requests := []func() *http.Request{
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, s.BotURL("sendMessage")+"?chat_id=1001&text=via+query", nil)
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.BotURL("sendMessage"), strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.BotURL("sendMessage"), &multi)
			r.Header.Set("Content-Type", mw.FormDataContentType())
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.BotURL("sendMessage"),
				strings.NewReader(`{"chat_id":1001,"text":"via json","disable_web_page_preview":true}`))
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			return r
		},
		func() *http.Request {
			// Query parameters count for POST requests too.
			r, _ := http.NewRequest(http.MethodPost, s.BotURL("sendMessage")+"?chat_id=1001", strings.NewReader(`{"text":"mixed"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		},
	}
	for _, mk := range requests {
		a := do(t, mk())
		require.Equal(t, 200, a.Status, a.description())
	}
	msgs := s.Messages()
	require.Len(t, msgs, 5)
	require.Equal(t, []string{"via query", "via form", "via multipart", "via json", "mixed"},
		[]string{msgs[0].Text, msgs[1].Text, msgs[2].Text, msgs[3].Text, msgs[4].Text})
	for i, m := range msgs {
		require.Equal(t, int64(1001), m.ChatID)
		require.Equal(t, int64(i+1), m.MessageID, "message ids increment")
	}
	require.True(t, msgs[1].DisableNotification)
	require.Equal(t, "Open", msgs[1].ReplyMarkup["inline_keyboard"].([]any)[0].([]any)[0].(map[string]any)["text"],
		"JSON-typed parameters sent in a form are decoded")
	require.Equal(t, map[string]any{"is_disabled": true}, msgs[2].LinkPreviewOptions)
	require.NotNil(t, msgs[3].DisableWebPagePreview)
	require.True(t, *msgs[3].DisableWebPagePreview)
	require.Equal(t, "application/x-www-form-urlencoded", s.Requests()[1].ContentType)
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddChat(Chat{ID: -1001234567890, Type: ChatChannel, Title: "News", Username: "hookflow_news"})

	before := time.Now().Unix()
	a := postJSON(t, s, "sendMessage", map[string]any{
		"chat_id": "@Hookflow_News", "text": "<b>Hi</b> &amp; welcome", "parse_mode": "HTML",
		"link_preview_options": map[string]any{"is_disabled": true, "url": "https://example.com"},
		"reply_markup":         map[string]any{"inline_keyboard": []any{[]any{map[string]any{"text": "Go", "callback_data": "go"}}}},
		"message_thread_id":    7, "protect_content": true,
	})
	require.Equal(t, 200, a.Status, a.description())
	res := a.result().(map[string]any)
	require.Equal(t, json.Number("1"), res["message_id"])
	require.Equal(t, "Hi & welcome", res["text"], "the result holds the text without markup")
	require.Equal(t, map[string]any{"id": json.Number("-1001234567890"), "type": "channel", "title": "News", "username": "hookflow_news"}, res["chat"])
	date, _ := res["date"].(json.Number).Int64()
	require.GreaterOrEqual(t, date, before)
	require.Contains(t, res, "reply_markup", "inline keyboards are echoed")
	require.Equal(t, json.Number("7"), res["message_thread_id"])

	a = postJSON(t, s, "sendMessage", map[string]any{"chat_id": -1001234567890, "text": "second"})
	require.Equal(t, json.Number("2"), a.result().(map[string]any)["message_id"])

	msgs := s.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "<b>Hi</b> &amp; welcome", msgs[0].Text)
	require.Equal(t, "Hi & welcome", msgs[0].Plain)
	require.Equal(t, "HTML", msgs[0].ParseMode)
	require.Equal(t, int64(7), msgs[0].MessageThreadID)
	require.True(t, msgs[0].ProtectContent)
	require.Equal(t, map[string]any{"is_disabled": true, "url": "https://example.com"}, msgs[0].LinkPreviewOptions)
	require.Nil(t, msgs[1].LinkPreviewOptions)
}

func TestSendMessageErrors(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddChat(Chat{ID: 1001})
	s.AddChat(Chat{ID: 1002, Blocked: true})
	s.AddChat(Chat{ID: -555, Type: ChatGroup, MigrateToChatID: -1009999})

	tests := []struct {
		name        string
		params      map[string]any
		status      int
		description string
		migrateTo   string
	}{
		{"no chat", map[string]any{"text": "x"}, 400, "Bad Request: chat_id is empty", ""},
		{"empty text", map[string]any{"chat_id": 1001, "text": ""}, 400, "Bad Request: message text is empty", ""},
		{"blank text", map[string]any{"chat_id": 1001, "text": "  \n"}, 400, "Bad Request: message text is empty", ""},
		{"no text", map[string]any{"chat_id": 1001}, 400, "Bad Request: message text is empty", ""},
		{"unknown chat", map[string]any{"chat_id": 424242, "text": "x"}, 400, "Bad Request: chat not found", ""},
		{"unknown username", map[string]any{"chat_id": "@nobody_here", "text": "x"}, 400, "Bad Request: chat not found", ""},
		{"garbage chat id", map[string]any{"chat_id": "abc", "text": "x"}, 400, "Bad Request: chat not found", ""},
		{"blocked", map[string]any{"chat_id": 1002, "text": "x"}, 403, "Forbidden: bot was blocked by the user", ""},
		{"migrated group", map[string]any{"chat_id": "-555", "text": "x"}, 400, "Bad Request: group chat was upgraded to a supergroup chat", "-1009999"},
		{"unclosed html tag", map[string]any{"chat_id": 1001, "text": "<b>bold", "parse_mode": "HTML"}, 400,
			`Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`, ""},
		{"unsupported html tag", map[string]any{"chat_id": 1001, "text": "a<br>b", "parse_mode": "HTML"}, 400,
			`Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 1`, ""},
		{"markdownv2 unescaped", map[string]any{"chat_id": 1001, "text": "Total: 5.00!", "parse_mode": "MarkdownV2"}, 400,
			`Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\'`, ""},
		{"unknown parse mode", map[string]any{"chat_id": 1001, "text": "x", "parse_mode": "BBCode"}, 400, "Bad Request: unsupported parse_mode", ""},
		{"too long", map[string]any{"chat_id": 1001, "text": strings.Repeat("я", 4097)}, 400, "Bad Request: message is too long", ""},
		{"bad reply markup", map[string]any{"chat_id": 1001, "text": "x", "reply_markup": "{not json"}, 400,
			"Bad Request: can't parse reply keyboard markup JSON object", ""},
		{"bad link preview options", map[string]any{"chat_id": 1001, "text": "x", "link_preview_options": "[1]"}, 400,
			"Bad Request: can't parse link preview options JSON object", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := postJSON(t, s, "sendMessage", tt.params)
			require.Equal(t, tt.status, a.Status)
			require.Equal(t, tt.description, a.description())
			if tt.migrateTo != "" {
				require.Equal(t, map[string]any{"migrate_to_chat_id": json.Number(tt.migrateTo)}, a.parameters())
			} else {
				require.Nil(t, a.parameters())
			}
		})
	}
	t.Run("nothing recorded as sent", func(t *testing.T) {
		t.Parallel()
		// Runs alongside the cases above: none of them may add a message.
		require.Empty(t, s.Messages())
	})
}

func TestScriptedFailures(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddChat(Chat{ID: 1001})
	s.Flood("SENDMESSAGE", 2, 7)
	s.FailNext("getMe", 1, 502, "Bad Gateway")

	for range 2 {
		a := postJSON(t, s, "sendMessage", map[string]any{"chat_id": 1001, "text": "x"})
		require.Equal(t, 429, a.Status)
		require.Equal(t, "7", a.Header.Get("Retry-After"))
		require.Equal(t, "Too Many Requests: retry after 7", a.description())
		require.Equal(t, map[string]any{"retry_after": json.Number("7")}, a.parameters())
	}
	require.Equal(t, 200, postJSON(t, s, "sendMessage", map[string]any{"chat_id": 1001, "text": "x"}).Status)
	require.Len(t, s.Messages(), 1, "a flooded message is not sent")

	a := get(t, s.BotURL("getMe"))
	require.Equal(t, 502, a.Status)
	require.Equal(t, "Bad Gateway", a.description())
	require.Equal(t, 200, get(t, s.BotURL("getMe")).Status)
	require.Equal(t, 3, s.Calls("sendMessage"))
}

// updateIDs returns the update_ids of a getUpdates result.
func updateIDs(t *testing.T, a answer) []int64 {
	t.Helper()
	require.Equal(t, 200, a.Status, a.description())
	var ids []int64
	for _, u := range a.result().([]any) {
		id, err := u.(map[string]any)["update_id"].(json.Number).Int64()
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}

func TestGetUpdatesOffsetAndLimit(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	var ids []int64
	for i := range 5 {
		ids = append(ids, s.AddMessageUpdate(1001, "msg "+strconv.Itoa(i)))
	}
	require.IsIncreasing(t, ids)

	require.Equal(t, ids, updateIDs(t, postJSON(t, s, "getUpdates", nil)), "no offset: everything pending, oldest first")
	require.Len(t, s.Updates(), 5, "without an offset nothing is confirmed")

	require.Equal(t, ids[:2], updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"limit": 2})))
	require.Equal(t, ids[2:4], updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"offset": ids[2], "limit": 2})))
	require.Len(t, s.Updates(), 3, "the offset confirmed the two updates below it")

	require.Equal(t, ids[2:], updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"limit": 0})), "limit 0 means the default")
	require.Equal(t, ids[2:], updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"limit": 1000})), "limits above 100 are clamped")

	require.Equal(t, ids[4:], updateIDs(t, get(t, s.BotURL("getUpdates")+"?offset=-1")), "a negative offset returns the last updates")
	require.Len(t, s.Updates(), 1, "and forgets the ones before")

	require.Empty(t, updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"offset": ids[4] + 1})))
	require.Empty(t, s.Updates())

	require.Equal(t, 400, postJSON(t, s, "getUpdates", map[string]any{"offset": "soon"}).Status)
}

func TestGetUpdatesAllowedUpdates(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	require.Zero(t, s.AddUpdate(map[string]any{"chat_member": map[string]any{}}), "excluded by default")
	msg := s.AddUpdate(map[string]any{"message": map[string]any{"text": "hi"}})
	require.NotZero(t, msg)

	updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"offset": msg + 1, "allowed_updates": []string{"callback_query"}}))
	require.Equal(t, []string{"callback_query"}, s.Webhook().AllowedUpdates)
	require.Zero(t, s.AddMessageUpdate(1001, "filtered"))
	cb := s.AddUpdate(map[string]any{"callback_query": map[string]any{"id": "1", "data": "go"}})
	require.Equal(t, []int64{cb}, updateIDs(t, postJSON(t, s, "getUpdates", nil)))

	// Form-encoded requests send the list as JSON text.
	form := url.Values{"allowed_updates": {`[]`}}
	r, _ := http.NewRequest(http.MethodPost, s.BotURL("getUpdates"), strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	updateIDs(t, do(t, r))
	require.Empty(t, s.Webhook().AllowedUpdates)
	require.NotZero(t, s.AddMessageUpdate(1001, "allowed again"))
}

func TestAddUpdateWithID(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	require.Equal(t, int64(900_000_001), s.AddUpdate(map[string]any{"update_id": 900_000_001, "message": map[string]any{}}))
	require.Equal(t, int64(900_000_002), s.AddMessageUpdate(1, "next"))
}

func TestGetUpdatesLongPoll(t *testing.T) {
	t.Parallel()

	t.Run("answers when an update arrives", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t)
		go func() {
			time.Sleep(100 * time.Millisecond)
			s.AddMessageUpdate(1001, "late")
		}()
		start := time.Now()
		ids := updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"timeout": 10}))
		require.Len(t, ids, 1)
		require.Less(t, time.Since(start), 5*time.Second, "the long poll must end with the update, not the timeout")
	})

	t.Run("answers empty when time runs out", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t)
		start := time.Now()
		require.Empty(t, updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"timeout": 1})))
		require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
	})

	t.Run("confirmed updates do not end it", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t)
		old := s.AddMessageUpdate(1001, "old")
		go func() {
			time.Sleep(100 * time.Millisecond)
			s.AddMessageUpdate(1001, "new")
		}()
		ids := updateIDs(t, postJSON(t, s, "getUpdates", map[string]any{"offset": old + 1, "timeout": 10}))
		require.Equal(t, []int64{old + 1}, ids)
	})

	t.Run("ends when the client goes away", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.BotURL("getUpdates")+"?timeout=30", nil)
		_, err := http.DefaultClient.Do(req)
		require.Error(t, err)
		require.Eventually(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.poll == nil
		}, 5*time.Second, 10*time.Millisecond, "the handler must stop waiting")
	})
}

func TestGetUpdatesConflicts(t *testing.T) {
	t.Parallel()

	t.Run("a newer getUpdates ends the waiting one", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t)
		first := make(chan answer, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, s.BotURL("getUpdates")+"?timeout=10", nil)
			first <- do(t, req)
		}()
		require.Eventually(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.poll != nil
		}, 5*time.Second, 5*time.Millisecond)
		second := postJSON(t, s, "getUpdates", map[string]any{"timeout": 0})
		require.Equal(t, 200, second.Status, "the newer request goes on")

		var a answer
		select {
		case a = <-first:
		case <-time.After(5 * time.Second):
			t.Fatal("the first getUpdates did not end")
		}
		require.Equal(t, 409, a.Status)
		require.Equal(t, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", a.description())
	})

	t.Run("setting a webhook ends the waiting one", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t)
		first := make(chan answer, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, s.BotURL("getUpdates")+"?timeout=10", nil)
			first <- do(t, req)
		}()
		require.Eventually(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.poll != nil
		}, 5*time.Second, 5*time.Millisecond)
		require.Equal(t, 200, postJSON(t, s, "setWebhook", map[string]any{"url": "https://example.com/hook"}).Status)
		select {
		case a := <-first:
			require.Equal(t, 409, a.Status)
			require.Contains(t, a.description(), "webhook is active")
		case <-time.After(5 * time.Second):
			t.Fatal("the waiting getUpdates did not end")
		}
	})

	t.Run("refused while a webhook is set", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t)
		s.SetWebhook("https://example.com/hook", "")
		a := postJSON(t, s, "getUpdates", nil)
		require.Equal(t, 409, a.Status)
		require.Equal(t, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", a.description())
		s.SetWebhook("", "")
		require.Equal(t, 200, postJSON(t, s, "getUpdates", nil).Status)
	})
}

func TestSetWebhook(t *testing.T) {
	t.Parallel()
	s := NewServer(t)

	a := postJSON(t, s, "setWebhook", map[string]any{"url": "http://127.0.0.1:1/hooks/abc", "secret_token": "tg_Secret-Token_42"})
	require.Equal(t, 200, a.Status, a.description())
	require.Equal(t, true, a.result())
	require.Equal(t, "Webhook was set", a.description())
	require.Equal(t, "http://127.0.0.1:1/hooks/abc", s.Webhook().URL)
	require.Equal(t, "tg_Secret-Token_42", s.Webhook().SecretToken)
	a = postJSON(t, s, "setWebhook", map[string]any{"url": "http://127.0.0.1:1/hooks/abc", "secret_token": "tg_Secret-Token_42"})
	require.Equal(t, "Webhook is already set", a.description())

	for _, tt := range []struct{ name, secret, description string }{
		{"bad characters", "has space", "Bad Request: secret token contains unallowed characters"},
		{"unicode", "сек", "Bad Request: secret token contains unallowed characters"},
		{"too long", strings.Repeat("a", 257), "Bad Request: secret token is too long"},
	} {
		a := postJSON(t, s, "setWebhook", map[string]any{"url": "https://example.com/x", "secret_token": tt.secret})
		require.Equal(t, 400, a.Status, tt.name)
		require.Equal(t, tt.description, a.description(), tt.name)
	}
	require.Equal(t, 200, postJSON(t, s, "setWebhook", map[string]any{"url": "https://example.com/x", "secret_token": strings.Repeat("a", 256)}).Status)
	a = postJSON(t, s, "setWebhook", map[string]any{"url": "ftp://example.com/x"})
	require.Equal(t, 400, a.Status)
	require.Contains(t, a.description(), "HTTPS URL must be provided")

	s.AddMessageUpdate(1001, "pending")
	info := get(t, s.BotURL("getWebhookInfo")).result().(map[string]any)
	require.Equal(t, "https://example.com/x", info["url"])
	require.Equal(t, json.Number("40"), info["max_connections"])
	require.Contains(t, info, "pending_update_count")

	a = postJSON(t, s, "deleteWebhook", nil)
	require.Equal(t, "Webhook was deleted", a.description())
	require.Empty(t, s.Webhook().URL)
	require.Len(t, s.Updates(), 1, "deleteWebhook keeps pending updates unless asked")
	require.Equal(t, "Webhook is already deleted", postJSON(t, s, "deleteWebhook", nil).description())
	postJSON(t, s, "deleteWebhook", map[string]any{"drop_pending_updates": true})
	require.Empty(t, s.Updates())
	info = get(t, s.BotURL("getWebhookInfo")).result().(map[string]any)
	require.Equal(t, "", info["url"])

	// An empty url removes the webhook too.
	postJSON(t, s, "setWebhook", map[string]any{"url": "https://example.com/y"})
	require.Equal(t, "Webhook was deleted", postJSON(t, s, "setWebhook", map[string]any{"url": ""}).description())
}

package telegram

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
)

func TestSendMessage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	markup := map[string]any{"inline_keyboard": []any{[]any{
		map[string]any{"text": "Open in CRM", "url": "https://crm.example.com/leads/42"}}}}
	call, logs := newCall(t, srv, map[string]any{
		inChatID:             userChat,
		inText:               "<b>New lead</b>: Ann &amp; Co",
		inParseMode:          parseHTML,
		inDisableLinkPreview: true,
		inSilent:             true,
		inProtectContent:     true,
		inMessageThreadID:    int64(12),
		inReplyToMessageID:   json.Number("5"),
		inReplyMarkup:        markup,
	})
	before := time.Now().Unix()
	out, err := send(t, call, logs)
	require.NoError(t, err)

	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	require.Equal(t, userChat, m.ChatID)
	require.Equal(t, json.Number("1001"), m.Params["chat_id"], "a numeric chat id is sent as a number")
	require.Equal(t, "<b>New lead</b>: Ann &amp; Co", m.Text)
	require.Equal(t, "HTML", m.ParseMode)
	require.Equal(t, map[string]any{"is_disabled": true}, m.LinkPreviewOptions)
	require.Nil(t, m.DisableWebPagePreview, "only the current parameter is sent")
	require.True(t, m.DisableNotification)
	require.True(t, m.ProtectContent)
	require.Equal(t, int64(12), m.MessageThreadID)
	require.Equal(t, map[string]any{"message_id": json.Number("5"), "allow_sending_without_reply": true}, m.ReplyParameters)
	require.Equal(t, "Open in CRM", m.ReplyMarkup["inline_keyboard"].([]any)[0].([]any)[0].(map[string]any)["text"])
	require.Equal(t, "application/json", srv.Requests()[0].ContentType)
	require.Equal(t, "POST", srv.Requests()[0].HTTPMethod)

	require.Equal(t, m.MessageID, out[outMessageID])
	require.Equal(t, userChat, out[outChatID])
	require.Equal(t, "New lead: Ann & Co", out[outText], "Telegram returns the text without markup")
	require.GreaterOrEqual(t, out[outDate].(int64), before)
	require.NotContains(t, out, outMigratedFrom)
}

func TestSendMessageMinimal(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newCall(t, srv, map[string]any{inChatID: "@" + channelName, inText: "plain <text> *as is*"})
	out, err := send(t, call, logs)
	require.NoError(t, err)
	require.Equal(t, channelChat, out[outChatID])
	m := srv.Messages()[0]
	require.Equal(t, "@"+channelName, m.Params["chat_id"])
	for _, absent := range []string{"parse_mode", "link_preview_options", "disable_notification", "protect_content",
		"message_thread_id", "reply_parameters", "reply_markup"} {
		require.NotContains(t, m.Params, absent, "unset inputs are not sent")
	}
}

func TestSendMessageLinkPreviewURL(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newCall(t, srv, map[string]any{inChatID: userChat, inText: "see https://a.test",
		inLinkPreviewURL: "https://example.com/offer"})
	_, err := send(t, call, logs)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"url": "https://example.com/offer"}, srv.Messages()[0].LinkPreviewOptions)
}

func TestSendMessageChatIDForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		sent any
	}{
		{"int64", channelChat, json.Number("-1001234567890")},
		{"int", int(userChat), json.Number("1001")},
		{"float from an expression", float64(userChat), json.Number("1001")},
		{"json number", json.Number("-1001234567890"), json.Number("-1001234567890")},
		{"digits", " -1001234567890 ", json.Number("-1001234567890")},
		{"username", "@" + channelName, "@" + channelName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			call, logs := newCall(t, srv, map[string]any{inChatID: tt.in, inText: "hi"})
			_, err := send(t, call, logs)
			require.NoError(t, err)
			require.Equal(t, tt.sent, srv.Messages()[0].Params["chat_id"])
		})
	}
}

func TestSendMessageFlood(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Flood("sendMessage", 1, 17)
	call, logs := newCall(t, srv, map[string]any{inChatID: userChat, inText: "hi"})

	_, err := send(t, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	d, ok := connectors.RetryDelay(err)
	require.True(t, ok, "a 429 carries Telegram's wait")
	require.Equal(t, 17*time.Second, d)
	require.ErrorContains(t, err, "Too Many Requests: retry after 17")
	require.Empty(t, srv.Messages())

	call.Attempt = 2
	_, err = send(t, call, logs)
	require.NoError(t, err, "the retry goes through once the flood is over")
	require.Len(t, srv.Messages(), 1)
}

func TestSendMessageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		chatID    any
		text      string
		parseMode string
		script    func(*telegramtest.Server)
		permanent bool
		want      []string
	}{
		{name: "chat not found", chatID: unknownChat, text: "hi", permanent: true,
			want: []string{"send telegram message to chat 424242", "telegram sendMessage failed with 400: Bad Request: chat not found"}},
		{name: "unknown username", chatID: "@nobody_here", text: "hi", permanent: true,
			want: []string{"chat @nobody_here", "Bad Request: chat not found"}},
		{name: "blocked", chatID: blockedChat, text: "hi", permanent: true,
			want: []string{"403: Forbidden: bot was blocked by the user"}},
		{name: "broken html", chatID: userChat, text: "<b>unclosed", parseMode: parseHTML, permanent: true,
			want: []string{`Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`}},
		{name: "unescaped markdownv2", chatID: userChat, text: "Total: 5.00", parseMode: parseMarkdownV2, permanent: true,
			want: []string{"can't parse entities: Character '.' is reserved"}},
		{name: "server error", chatID: userChat, text: "hi", permanent: false,
			script: func(s *telegramtest.Server) { s.FailNext("sendMessage", 1, 500, "Internal Server Error") },
			want:   []string{"telegram sendMessage failed with 500: Internal Server Error"}},
		{name: "bad gateway", chatID: userChat, text: "hi", permanent: false,
			script: func(s *telegramtest.Server) { s.FailNext("", 1, 502, "Bad Gateway") },
			want:   []string{"502"}},
		{name: "conflict is permanent", chatID: userChat, text: "hi", permanent: true,
			script: func(s *telegramtest.Server) { s.FailNext("sendMessage", 1, 409, "Conflict: something") },
			want:   []string{"409: Conflict: something"}},
		{name: "not found hint", chatID: userChat, text: "hi", permanent: true,
			script: func(s *telegramtest.Server) { s.FailNext("sendMessage", 1, 404, "Not Found") },
			want:   []string{"404: Not Found", "check the connection's base_url and token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			if tt.script != nil {
				tt.script(srv)
			}
			input := map[string]any{inChatID: tt.chatID, inText: tt.text}
			if tt.parseMode != "" {
				input[inParseMode] = tt.parseMode
			}
			call, logs := newCall(t, srv, input)
			out, err := send(t, call, logs)
			require.Error(t, err)
			require.Nil(t, out)
			require.Equal(t, tt.permanent, connectors.IsPermanent(err), "error: %v", err)
			_, hasDelay := connectors.RetryDelay(err)
			require.False(t, hasDelay)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			require.ErrorContains(t, err, call.StepID, "the error names the step")
			require.Empty(t, srv.Messages())
		})
	}
}

func TestSendMessageMigratedGroup(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newCall(t, srv, map[string]any{inChatID: "-555", inText: "hi"})
	out, err := send(t, call, logs)
	require.NoError(t, err)

	reqs := requestsOf(srv, "sendMessage")
	require.Len(t, reqs, 2, "the upgrade is followed with one more call")
	require.Equal(t, json.Number("-555"), reqs[0].Params["chat_id"])
	require.Equal(t, 400, reqs[0].Status)
	require.Equal(t, json.Number("-1009999"), reqs[1].Params["chat_id"])
	require.Equal(t, 200, reqs[1].Status)

	require.Equal(t, supergroup, out[outChatID])
	require.Equal(t, oldGroup, out[outMigratedFrom])
	require.Contains(t, logs.String(), "Telegram group was upgraded to a supergroup")
	require.Contains(t, logs.String(), `"new_chat_id":-1009999`)
}

func TestSendMessageMigrationFollowedOnce(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newCall(t, srv, map[string]any{inChatID: upgradedTwice, inText: "hi"})
	_, err := send(t, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "chat -777 was upgraded to -1007777, which reports another upgrade to -1006666")
	require.Len(t, requestsOf(srv, "sendMessage"), 2, "a chain of upgrades is not followed twice")
	require.Empty(t, srv.Messages())
}

func TestSendMessageMigratedToUnusableChat(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.AddChat(telegramtest.Chat{ID: -556, Type: telegramtest.ChatGroup, MigrateToChatID: -1005556}) // unknown target
	call, logs := newCall(t, srv, map[string]any{inChatID: int64(-556), inText: "hi"})
	_, err := send(t, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "send telegram message to chat -1005556 (the upgrade of group -556)")
	require.ErrorContains(t, err, "Bad Request: chat not found")
}

func TestSendMessageWrongToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call := connectortest.NewCall(t, map[string]any{inChatID: userChat, inText: "hi"}, connection(srv, wrongToken))
	logger, logs := connectortest.NewCaptureLogger(t)
	call.Logger = logger

	_, err := send(t, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "401: Unauthorized")
	require.ErrorContains(t, err, "check the connection's token")
	require.NotContains(t, err.Error(), wrongToken)
	require.NotContains(t, logs.String(), wrongToken)
	require.NotContains(t, logs.String(), "987654321:", "not even the bot id part with its colon")
	require.Contains(t, logs.String(), "/bot******/sendMessage", "requests are logged with the token masked")
}

func TestSendMessageUnreachable(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newCall(t, srv, map[string]any{inChatID: userChat, inText: "hi"})
	srv.Close()
	_, err := send(t, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err), "network errors are retried")
	require.ErrorContains(t, err, "call telegram sendMessage")
}

func TestSendMessageNotTheBotAPI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		permanent bool
		want      string
	}{
		{"html page", http.StatusOK, true, "not a Bot API response"},
		{"gateway error page", http.StatusBadGateway, false, "unexpected status 502"},
		{"proxy refusing", http.StatusForbidden, true, "unexpected status 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte("<html>echo " + r.URL.Path + "</html>"))
			}))
			t.Cleanup(page.Close)
			conn := connectortest.NewConnection(connector, map[string]any{connToken: telegramtest.DefaultToken, connBaseURL: page.URL})
			call := connectortest.NewCall(t, map[string]any{inChatID: userChat, inText: "hi"}, conn)
			logger, logs := connectortest.NewCaptureLogger(t)
			call.Logger = logger
			_, err := send(t, call, logs)
			require.Error(t, err)
			require.Equal(t, tt.permanent, connectors.IsPermanent(err), "error: %v", err)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestSendMessageNeedsConnection(t *testing.T) {
	t.Parallel()
	call := connectortest.NewCall(t, map[string]any{inChatID: userChat, inText: "hi"}, nil)
	_, err := connectortest.Invoke(t.Context(), sendMessageAction, call)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "no telegram connection")
}

func TestSendMessageValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   map[string]any
		wantErr []string
	}{
		{name: "minimal", input: map[string]any{inChatID: int64(1), inText: "x"}},
		{name: "number text", input: map[string]any{inChatID: "1", inText: int64(42)}},
		{name: "long text with markup", input: map[string]any{inChatID: "1", inText: strings.Repeat("<b>x</b>", 1000), inParseMode: parseHTML}},
		{name: "exactly the limit", input: map[string]any{inChatID: "1", inText: strings.Repeat("я", 4096)}},
		{name: "string booleans", input: map[string]any{inChatID: "1", inText: "x", inSilent: "true", inDisableLinkPreview: "false"}},
		{name: "markup as json text", input: map[string]any{inChatID: "1", inText: "x", inReplyMarkup: `{"remove_keyboard":true}`}},
		{name: "empty optional values", input: map[string]any{inChatID: "1", inText: "x", inParseMode: "", inMessageThreadID: "", inReplyMarkup: ""}},
		{name: "nothing", input: map[string]any{}, wantErr: []string{"chat_id is required", "text is required"}},
		{name: "empty chat", input: map[string]any{inChatID: " ", inText: "x"}, wantErr: []string{"chat_id is empty"}},
		{name: "zero chat", input: map[string]any{inChatID: 0, inText: "x"}, wantErr: []string{"chat_id: expected a chat id"}},
		{name: "name without at", input: map[string]any{inChatID: "mychannel", inText: "x"}, wantErr: []string{`chat_id "mychannel" is neither`}},
		{name: "bad username", input: map[string]any{inChatID: "@my channel", inText: "x"}, wantErr: []string{"not a valid @username"}},
		{name: "fractional chat", input: map[string]any{inChatID: 1.5, inText: "x"}, wantErr: []string{"chat_id: expected a chat id"}},
		{name: "object chat", input: map[string]any{inChatID: map[string]any{}, inText: "x"}, wantErr: []string{"chat_id: expected a chat id"}},
		{name: "empty text", input: map[string]any{inChatID: "1", inText: " \n"}, wantErr: []string{"text is empty"}},
		{name: "list text", input: map[string]any{inChatID: "1", inText: []any{"a"}}, wantErr: []string{"text: expected a string, got array"}},
		{name: "too long", input: map[string]any{inChatID: "1", inText: strings.Repeat("я", 4097)}, wantErr: []string{"text is 4097 characters long; Telegram allows 4096"}},
		{name: "emoji count twice", input: map[string]any{inChatID: "1", inText: strings.Repeat("😀", 2049)}, wantErr: []string{"text is 4098 characters long"}},
		{name: "bad parse mode", input: map[string]any{inChatID: "1", inText: "x", inParseMode: "html"}, wantErr: []string{`parse_mode "html" is not one of HTML, MarkdownV2, Markdown`}},
		{name: "bad bool", input: map[string]any{inChatID: "1", inText: "x", inSilent: "yes"}, wantErr: []string{"silent: expected true or false"}},
		{name: "bad thread", input: map[string]any{inChatID: "1", inText: "x", inMessageThreadID: -3}, wantErr: []string{"message_thread_id: expected a positive integer"}},
		{name: "bad reply", input: map[string]any{inChatID: "1", inText: "x", inReplyToMessageID: "abc"}, wantErr: []string{"reply_to_message_id: expected a positive integer"}},
		{name: "bad markup", input: map[string]any{inChatID: "1", inText: "x", inReplyMarkup: []any{}}, wantErr: []string{"reply_markup: expected an object, got array"}},
		{name: "bad markup text", input: map[string]any{inChatID: "1", inText: "x", inReplyMarkup: "[1]"}, wantErr: []string{"reply_markup: expected an object or its JSON text"}},
		{name: "bad preview url", input: map[string]any{inChatID: "1", inText: "x", inLinkPreviewURL: 5}, wantErr: []string{"link_preview_url: expected a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := (&sendMessage{}).Validate(tt.input)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, connectors.IsPermanent(err))
			for _, w := range tt.wantErr {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestSendMessageInvalidInputMakesNoCall checks that Validate runs before any request.
func TestSendMessageInvalidInputMakesNoCall(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newCall(t, srv, map[string]any{inChatID: userChat, inText: ""})
	_, err := send(t, call, logs)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "text is empty")
	require.Zero(t, srv.Calls("sendMessage"))
}

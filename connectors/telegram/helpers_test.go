package telegram

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/telegram/telegramtest"
)

// Chats the fake knows in most tests.
const (
	userChat       int64 = 1001
	blockedChat    int64 = 1002
	channelChat    int64 = -1001234567890
	oldGroup       int64 = -555
	supergroup     int64 = -1009999
	channelName          = "hookflow_news"
	wrongToken           = "987654321:AAwrong-token-for-hookflow_tests"
	unknownChat    int64 = 424242
	upgradedTwice  int64 = -777
	movedAgain     int64 = -1007777
	movedAgainNext int64 = -1006666
)

// newServer starts a fake Bot API that knows the chats above.
func newServer(t *testing.T, opts ...telegramtest.Option) *telegramtest.Server {
	t.Helper()
	srv := telegramtest.NewServer(t, opts...)
	srv.AddChat(telegramtest.Chat{ID: userChat, FirstName: "Ann"})
	srv.AddChat(telegramtest.Chat{ID: blockedChat, FirstName: "Bob", Blocked: true})
	srv.AddChat(telegramtest.Chat{ID: channelChat, Type: telegramtest.ChatChannel, Title: "News", Username: channelName})
	srv.AddChat(telegramtest.Chat{ID: oldGroup, Type: telegramtest.ChatGroup, Title: "Sales", MigrateToChatID: supergroup})
	srv.AddChat(telegramtest.Chat{ID: supergroup, Type: telegramtest.ChatSupergroup, Title: "Sales"})
	srv.AddChat(telegramtest.Chat{ID: upgradedTwice, Type: telegramtest.ChatGroup, MigrateToChatID: movedAgain})
	srv.AddChat(telegramtest.Chat{ID: movedAgain, Type: telegramtest.ChatSupergroup, MigrateToChatID: movedAgainNext})
	return srv
}

// connection returns the connection a step gets for the fake, with token as its token.
func connection(srv *telegramtest.Server, token string) *connectors.Connection {
	return connectortest.NewConnection(connector, map[string]any{connToken: token, connBaseURL: srv.URL})
}

// newCall builds a send_message call against srv whose logs are captured.
func newCall(t *testing.T, srv *telegramtest.Server, input map[string]any) (*connectors.Call, *connectortest.LogBuffer) {
	t.Helper()
	call := connectortest.NewCall(t, input, connection(srv, srv.Token))
	logger, logs := connectortest.NewCaptureLogger(t)
	call.Logger = logger
	return call, logs
}

// send runs telegram.send_message through the runner's lifecycle and checks that no
// secret leaked, whatever the outcome.
func send(t *testing.T, call *connectors.Call, logs *connectortest.LogBuffer) (map[string]any, error) {
	t.Helper()
	out, err := connectortest.Invoke(t.Context(), sendMessageAction, call)
	connectortest.AssertNoSecrets(t, append(call.Connection.SecretValues(), telegramtest.DefaultToken, wrongToken), out, err, logs.String())
	if out == nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	require.True(t, ok, "output is %T, want an object", out)
	return m, err
}

// newPollCall builds a telegram.updates poll against srv whose logs are captured.
func newPollCall(t *testing.T, srv *telegramtest.Server, input map[string]any, cursor any) (*connectors.PollCall, *connectortest.LogBuffer) {
	t.Helper()
	logger, logs := connectortest.NewCaptureLogger(t)
	return &connectors.PollCall{
		WorkflowID: "wf_test",
		Input:      input,
		Cursor:     cursor,
		First:      cursor == nil,
		Connection: connection(srv, srv.Token),
		Logger:     logger,
	}, logs
}

// poll runs one poll and checks that the token leaked nowhere.
func poll(t *testing.T, call *connectors.PollCall, logs *connectortest.LogBuffer) (*connectors.PollResult, error) {
	t.Helper()
	res, err := updatesPoller.New().Poll(t.Context(), call)
	var items []any
	if res != nil {
		items = res.Items
	}
	connectortest.AssertNoSecrets(t, []string{call.Connection.String(connToken)}, items, err, logs.String())
	return res, err
}

// savedCursor round-trips a cursor through JSON as the engine stores it, so the next
// poll sees a json.Number.
func savedCursor(t *testing.T, cursor any) any {
	t.Helper()
	data, err := json.Marshal(cursor)
	require.NoError(t, err)
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&raw))
	return raw
}

// updateIDs returns the update_id of each polled item.
func updateIDs(t *testing.T, items []any) []int64 {
	t.Helper()
	ids := make([]int64, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		require.True(t, ok, "item %d is %T", i, it)
		ids[i], ok = m["update_id"].(int64)
		require.True(t, ok, "update_id of item %d is %T", i, m["update_id"])
	}
	return ids
}

// requestsOf returns the fake's requests for method.
func requestsOf(srv *telegramtest.Server, method string) []telegramtest.Request {
	var out []telegramtest.Request
	for _, r := range srv.Requests() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

package telegram

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

func TestPollUpdatesConfirmsOnlyOnTheNextPoll(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	first := []int64{
		srv.AddMessageUpdate(userChat, "one"),
		srv.AddMessageUpdate(userChat, "two"),
		srv.AddUpdate(map[string]any{"callback_query": map[string]any{"id": "cb1", "data": "approve"}}),
	}

	call, logs := newPollCall(t, srv, nil, nil)
	res, err := poll(t, call, logs)
	require.NoError(t, err)
	require.Equal(t, first, updateIDs(t, res.Items), "pending updates, oldest first")
	require.Equal(t, first[2]+1, res.Cursor, "the cursor is the next offset")
	msg := res.Items[0].(map[string]any)["message"].(map[string]any)
	require.Equal(t, "one", msg["text"])
	require.Equal(t, userChat, msg["chat"].(map[string]any)["id"], "numbers come as int64, as elsewhere in the engine")
	require.Len(t, srv.Updates(), 3, "nothing is confirmed before the engine stored the runs")
	require.NotContains(t, requestsOf(srv, "getUpdates")[0].Params, "offset", "the first poll sends no offset")

	second := []int64{srv.AddMessageUpdate(userChat, "three"), srv.AddMessageUpdate(userChat, "four")}
	call, logs = newPollCall(t, srv, nil, savedCursor(t, res.Cursor))
	res, err = poll(t, call, logs)
	require.NoError(t, err)
	require.Equal(t, second, updateIDs(t, res.Items), "only the new updates")
	require.Equal(t, second[1]+1, res.Cursor)
	require.Len(t, srv.Updates(), 2, "the offset confirmed the first three")
	require.Equal(t, json.Number(jsonInt(first[2]+1)), requestsOf(srv, "getUpdates")[1].Params["offset"])

	call, logs = newPollCall(t, srv, nil, savedCursor(t, res.Cursor))
	res, err = poll(t, call, logs)
	require.NoError(t, err)
	require.Empty(t, res.Items)
	require.Nil(t, res.Cursor, "no updates: the saved cursor stays")
	require.Empty(t, srv.Updates())
	require.Equal(t, 3, srv.Calls("getUpdates"), "one getUpdates per poll")
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestPollUpdatesParameters(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ids := []int64{srv.AddMessageUpdate(userChat, "a"), srv.AddMessageUpdate(userChat, "b"), srv.AddMessageUpdate(userChat, "c")}

	call, logs := newPollCall(t, srv, map[string]any{inLimit: int64(2), inAllowedUpdates: []any{"message", "callback_query"}}, nil)
	res, err := poll(t, call, logs)
	require.NoError(t, err)
	require.Equal(t, ids[:2], updateIDs(t, res.Items), "limit is honoured")
	require.Equal(t, ids[1]+1, res.Cursor, "the cursor stops at what this poll returned")

	p := requestsOf(srv, "getUpdates")[0].Params
	require.Equal(t, json.Number("2"), p["limit"])
	require.Equal(t, json.Number("0"), p["timeout"], "short polling by default")
	require.Equal(t, []any{"message", "callback_query"}, p["allowed_updates"])
	require.Equal(t, []string{"message", "callback_query"}, srv.Webhook().AllowedUpdates)

	call, logs = newPollCall(t, srv, map[string]any{inAllowedUpdates: []any{}}, savedCursor(t, res.Cursor))
	res, err = poll(t, call, logs)
	require.NoError(t, err)
	require.Equal(t, ids[2:], updateIDs(t, res.Items))
	p = requestsOf(srv, "getUpdates")[1].Params
	require.Equal(t, json.Number("100"), p["limit"], "the default limit")
	require.Equal(t, []any{}, p["allowed_updates"], "an empty list is sent: every default type")

	call, logs = newPollCall(t, srv, map[string]any{}, savedCursor(t, res.Cursor))
	_, err = poll(t, call, logs)
	require.NoError(t, err)
	require.NotContains(t, requestsOf(srv, "getUpdates")[2].Params, "allowed_updates", "unset keeps the bot's setting")
}

func TestPollUpdatesLongPoll(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	go func() {
		time.Sleep(150 * time.Millisecond)
		srv.AddMessageUpdate(userChat, "late")
	}()
	start := time.Now()
	call, logs := newPollCall(t, srv, map[string]any{inTimeout: int64(10)}, nil)
	res, err := poll(t, call, logs)
	require.NoError(t, err)
	require.Len(t, res.Items, 1)
	require.Less(t, time.Since(start), 5*time.Second, "the poll ends when the update arrives")
	require.Equal(t, json.Number("10"), requestsOf(srv, "getUpdates")[0].Params["timeout"])
}

func TestPollUpdatesTimeoutCapped(t *testing.T) {
	t.Parallel()
	p, err := parsePollInput(map[string]any{inTimeout: json.Number("600")})
	require.NoError(t, err)
	require.Equal(t, timeoutMax, p.Timeout)
}

func TestPollUpdatesWhileWebhookIsSet(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.SetWebhook("https://example.com/hooks/abc", "tg_secret")
	call, logs := newPollCall(t, srv, nil, nil)
	_, err := poll(t, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "a webhook is set for this bot; delete it or use the webhook trigger")
	require.ErrorContains(t, err, "Conflict: can't use getUpdates method while webhook is active")
	require.ErrorContains(t, err, "wf_test")
}

func TestPollUpdatesTakenOver(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.FailNext("getUpdates", 1, 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
	call, logs := newPollCall(t, srv, nil, nil)
	_, err := poll(t, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err), "another poller may go away")
	require.ErrorContains(t, err, "another getUpdates request with the same bot token is running")
}

func TestPollUpdatesFlood(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Flood("getUpdates", 1, 5)
	call, logs := newPollCall(t, srv, nil, nil)
	_, err := poll(t, call, logs)
	d, ok := connectors.RetryDelay(err)
	require.True(t, ok)
	require.Equal(t, 5*time.Second, d)
}

func TestPollUpdatesWrongToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newPollCall(t, srv, nil, nil)
	call.Connection = connection(srv, wrongToken)
	_, err := poll(t, call, logs)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "401: Unauthorized")
}

func TestPollUpdatesUnreadableCursor(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	id := srv.AddMessageUpdate(userChat, "x")
	call, logs := newPollCall(t, srv, nil, "garbage")
	res, err := poll(t, call, logs)
	require.NoError(t, err, "a bad cursor must not fail every poll")
	require.Equal(t, []int64{id}, updateIDs(t, res.Items))
	require.Equal(t, id+1, res.Cursor)
	require.Contains(t, logs.String(), "Ignoring unreadable Telegram updates cursor")
	require.NotContains(t, requestsOf(srv, "getUpdates")[0].Params, "offset")
}

func TestPollUpdatesInvalidInput(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	call, logs := newPollCall(t, srv, map[string]any{inLimit: int64(0)}, nil)
	_, err := poll(t, call, logs)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "limit must be an integer from 1 to 100")
	require.Zero(t, srv.Calls("getUpdates"))
}

func TestCursorOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cursor any
		want   int64
		bad    bool
	}{
		{name: "nil", cursor: nil, want: 0},
		{name: "json number", cursor: json.Number("846381042"), want: 846381042},
		{name: "int64", cursor: int64(7), want: 7},
		{name: "float64", cursor: float64(7), want: 7},
		{name: "string", cursor: "846381042", want: 846381042},
		{name: "zero", cursor: json.Number("0"), bad: true},
		{name: "negative would drop updates", cursor: json.Number("-5"), bad: true},
		{name: "fraction", cursor: 1.5, bad: true},
		{name: "text", cursor: "next", bad: true},
		{name: "object", cursor: map[string]any{"offset": 1}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := cursorOffset(tt.cursor)
			if tt.bad {
				require.Error(t, err)
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParsePollInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   map[string]any
		want    getUpdatesParams
		wantErr string
	}{
		{name: "defaults", input: nil, want: getUpdatesParams{Limit: 100}},
		{name: "values", input: map[string]any{inLimit: json.Number("10"), inTimeout: int64(25)}, want: getUpdatesParams{Limit: 10, Timeout: 25}},
		{name: "limit too big", input: map[string]any{inLimit: int64(101)}, wantErr: "limit must be an integer from 1 to 100"},
		{name: "limit not a number", input: map[string]any{inLimit: "ten"}, wantErr: "limit must be an integer"},
		{name: "negative timeout", input: map[string]any{inTimeout: int64(-1)}, wantErr: "timeout must be a number of seconds"},
		{name: "allowed not a list", input: map[string]any{inAllowedUpdates: "message"}, wantErr: "allowed_updates: expected a list"},
		{name: "allowed holds a number", input: map[string]any{inAllowedUpdates: []any{"message", 3}}, wantErr: "allowed_updates must hold update type names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePollInput(tt.input)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, *got)
		})
	}
}

func TestDecodeUpdatesSortsAndChecks(t *testing.T) {
	t.Parallel()
	items, last, err := decodeUpdates(json.RawMessage(`[{"update_id":9,"message":{}},{"update_id":7,"message":{}}]`))
	require.NoError(t, err)
	require.Equal(t, []int64{7, 9}, updateIDs(t, items))
	require.Equal(t, int64(9), last)

	_, _, err = decodeUpdates(json.RawMessage(`[{"message":{}}]`))
	require.ErrorContains(t, err, "no integer update_id")
	_, _, err = decodeUpdates(json.RawMessage(`{"update_id":1}`))
	require.ErrorContains(t, err, "expected a list of updates")
}

package pipedrive

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/pipedrive/pipedrivetest"
)

// base is a fixed time, so no test depends on today's date.
var base = time.Now().UTC().Truncate(time.Hour)

func pollOnce(t *testing.T, srv *pipedrivetest.Server, input map[string]any, cursor any) *connectors.PollResult {
	t.Helper()
	logger, logs := connectortest.NewCaptureLogger(t)
	call := &connectors.PollCall{WorkflowID: "wf_test", Input: input, Cursor: cursor, First: cursor == nil,
		Connection: connection(srv, srv.Token), Logger: logger}
	res, err := newDealsPoller.New().Poll(t.Context(), call)
	require.NoError(t, err)
	connectortest.AssertNoSecrets(t, []string{srv.Token}, res.Items, nil, logs.String())
	return res
}

// saved round-trips a cursor through JSON as the engine stores it.
func saved(t *testing.T, cursor any) any {
	t.Helper()
	data, err := json.Marshal(cursor)
	require.NoError(t, err)
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&v))
	return v
}

func ids(t *testing.T, items []any) []int64 {
	t.Helper()
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)["id"].(int64)
	}
	return out
}

// TestNewDealsPoll: the first poll returns the newest page and its newest add_time as the
// cursor; later polls page through everything added since (with the overlap), oldest
// first, and never move the cursor back.
func TestNewDealsPoll(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)
	var old []int64
	for _, at := range []time.Duration{-2 * time.Hour, -time.Hour, -59 * time.Minute} {
		old = append(old, srv.AddDeal(pipedrivetest.Deal{Title: "old", AddTime: base.Add(at)}))
	}
	first := pollOnce(t, srv, map[string]any{inLimit: 2}, nil)
	require.Equal(t, old[1:], ids(t, first.Items), "one page, oldest first")
	require.Equal(t, base.Add(-59*time.Minute).Format(time.RFC3339), first.Cursor)

	var fresh []int64
	for i := range 5 {
		fresh = append(fresh, srv.AddDeal(pipedrivetest.Deal{Title: "new", AddTime: base.Add(time.Duration(i) * time.Second)}))
	}
	// A deal that shows up late but was added within the overlap is still found.
	late := srv.AddDeal(pipedrivetest.Deal{Title: "late", AddTime: base.Add(-61 * time.Minute)})
	second := pollOnce(t, srv, map[string]any{inLimit: 2}, saved(t, first.Cursor))
	got := ids(t, second.Items)
	require.Subset(t, got, append(fresh, late))
	require.NotContains(t, got, old[0], "older than the overlap")
	require.Equal(t, fresh[4], got[len(got)-1], "newest last")
	require.Equal(t, base.Add(4*time.Second).Format(time.RFC3339), second.Cursor)
	for _, r := range requestsTo(srv, "GET", "/api/v2/deals")[1:] {
		require.Contains(t, r.Query, "sort_by=add_time")
		require.Contains(t, r.Query, "sort_direction=desc")
		require.Contains(t, r.Query, "updated_since=")
	}
	require.Greater(t, len(requestsTo(srv, "GET", "/api/v2/deals")), 3, "paged with the cursor")

	third := pollOnce(t, srv, nil, saved(t, second.Cursor))
	require.Nil(t, third.Cursor, "nothing newer: the cursor stays")
	require.Subset(t, []int64{fresh[0], fresh[1], fresh[2], fresh[3], fresh[4]}, ids(t, third.Items), "only the overlap")
}

func TestNewDealsPollInput(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)
	call := &connectors.PollCall{WorkflowID: "wf", Input: map[string]any{inLimit: 501}, Connection: connection(srv, srv.Token)}
	_, err := newDealsPoller.New().Poll(t.Context(), call)
	require.True(t, connectors.IsPermanent(err))

	call.Input, call.Connection = nil, connection(srv, wrongToken)
	_, err = newDealsPoller.New().Poll(t.Context(), call)
	require.True(t, connectors.IsPermanent(err))
	require.NotContains(t, err.Error(), wrongToken)
}

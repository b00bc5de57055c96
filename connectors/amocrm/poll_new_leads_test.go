package amocrm

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

const pollBase = int64(1700000000)

func pollOnce(t *testing.T, srv *amocrmtest.Server, input map[string]any, cursor any) (*connectors.PollResult, error) {
	t.Helper()
	logger, logs := connectortest.NewCaptureLogger(t)
	call := &connectors.PollCall{WorkflowID: "wf_test", Input: input, Cursor: cursor, First: cursor == nil,
		Connection: connection(srv, srv.Token), Logger: logger}
	res, err := newLeadsPoller.New().Poll(t.Context(), call)
	var items []any
	if res != nil {
		items = res.Items
	}
	connectortest.AssertNoSecrets(t, []string{srv.Token}, items, err, logs.String())
	return res, err
}

func leadIDs(items []any) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.(map[string]any)["id"].(int64)
	}
	return ids
}

// Checklist: GET /api/v4/leads with filter[created_at][from], order[created_at]=asc,
// page and limit ≤ 250; _links.next until the last page; 204 when empty.
func TestNewLeadsPaging(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t, amocrmtest.WithRateLimit(0))
	var want []int64
	// Two leads a second, so pages split seconds and the overlap matters.
	for i := range 300 {
		want = append(want, srv.AddLead("Lead", pollBase+int64(i/2)).ID)
	}
	res, err := pollOnce(t, srv, map[string]any{}, pollBase-1)
	require.NoError(t, err)
	require.Equal(t, want, leadIDs(res.Items), "every lead once, oldest first, across pages")
	require.Equal(t, pollBase+149, res.Cursor)
	item := res.Items[0].(map[string]any)
	require.Equal(t, []any{}, item["tags"])
	require.Equal(t, pollBase, item["created_at"])

	var pages []string
	for _, r := range srv.Requests() {
		q, err := url.ParseQuery(r.Query)
		require.NoError(t, err)
		require.Equal(t, "250", q.Get("limit"))
		require.Equal(t, "asc", q.Get("order[created_at]"))
		require.Equal(t, "1699999939", q.Get("filter[created_at][from]"), "a minute before the cursor")
		pages = append(pages, q.Get("page"))
	}
	require.Equal(t, []string{"1", "2"}, pages, "no page after the one without next")

	// A lead created in the newest second seen is found by the next poll; the overlap
	// returns the others again, for the engine to drop.
	late := srv.AddLead("Same second", pollBase+149)
	res, err = pollOnce(t, srv, map[string]any{}, res.Cursor)
	require.NoError(t, err)
	require.Contains(t, leadIDs(res.Items), late.ID)
	require.Equal(t, pollBase+149, res.Cursor)

	// 204: nothing new keeps the cursor.
	res, err = pollOnce(t, srv, map[string]any{}, pollBase+1000)
	require.NoError(t, err)
	require.Empty(t, res.Items)
	require.Equal(t, pollBase+1000, res.Cursor)
}

// The first poll looks back an hour from now and sets a cursor even when it finds nothing.
func TestNewLeadsFirstPoll(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	res, err := pollOnce(t, srv, map[string]any{}, nil)
	require.NoError(t, err)
	require.Empty(t, res.Items)
	require.InDelta(t, time.Now().Add(-pollOverlap).Unix(), res.Cursor, 5)

	recent := srv.AddLead("Recent", time.Now().Add(-10*time.Minute).Unix())
	srv.AddLead("Old", time.Now().Add(-3*time.Hour).Unix())
	res, err = pollOnce(t, srv, map[string]any{inWithContacts: true}, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{recent.ID}, leadIDs(res.Items))
	require.Equal(t, []any{}, res.Items[0].(map[string]any)["contact_ids"])
}

func TestNewLeadsErrors(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	logger, _ := connectortest.NewCaptureLogger(t)
	call := &connectors.PollCall{WorkflowID: "wf", Input: map[string]any{}, Cursor: pollBase,
		Connection: connection(srv, "amo-bad-token-for-polls"), Logger: logger}
	_, err := newLeadsPoller.New().Poll(t.Context(), call)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "401")

	srv.FailNext("/api/v4/leads", 1, 429)
	_, err = pollOnce(t, srv, map[string]any{}, pollBase)
	require.False(t, connectors.IsPermanent(err))
	_, ok := connectors.RetryDelay(err)
	require.True(t, ok)

	_, err = pollOnce(t, srv, map[string]any{inPollPipeline: "x"}, pollBase)
	require.True(t, connectors.IsPermanent(err))
}

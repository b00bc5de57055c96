package hubspot

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/hubspot/hubspottest"
)

// clock is a settable time for the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// poll runs one poll and checks that the token leaked nowhere.
func poll(t *testing.T, srv *hubspottest.Server, input map[string]any, cursor any) (*connectors.PollResult, error) {
	t.Helper()
	logger, logs := connectortest.NewCaptureLogger(t)
	call := &connectors.PollCall{WorkflowID: "wf_test", Input: input, Cursor: cursor, First: cursor == nil,
		Connection: connection(srv, srv.Token, nil), Logger: logger}
	res, err := newContactsPoller.New().Poll(t.Context(), call)
	var items []any
	if res != nil {
		items = res.Items
	}
	connectortest.AssertNoSecrets(t, []string{srv.Token}, items, err, logs.String())
	return res, err
}

func ids(items []any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)["id"].(string)
	}
	return out
}

// TestNewContactsPoll: the first poll returns the newest contacts oldest first; later
// polls search createdate GTE the cursor, sorted ascending, paging with after until
// paging is absent, and the cursor looks back a minute for the search index's lag.
func TestNewContactsPoll(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now().UTC().Truncate(time.Hour)}
	srv := hubspottest.NewServer(t, hubspottest.WithClock(clk.now), hubspottest.WithSearchLimit(0))
	base := clk.now()
	old := srv.AddContact(map[string]string{"email": "old@example.com"}, base.Add(-time.Hour))
	older := srv.AddContact(map[string]string{"email": "older@example.com"}, base.Add(-2*time.Hour))

	res, err := poll(t, srv, map[string]any{"properties": []any{"company"}}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{older, old}, ids(res.Items))
	cursor := res.Cursor.(int64)
	require.Equal(t, base.Add(-time.Hour-indexLag).UnixMilli(), cursor)
	props := res.Items[1].(map[string]any)["properties"].(map[string]any)
	require.Equal(t, "old@example.com", props["email"])
	require.NotContains(t, props, "company", "a property the contact lacks is absent")

	// 250 new contacts: three pages of 100.
	var want []string
	for i := range 250 {
		want = append(want, srv.AddContact(map[string]string{"email": fmt.Sprintf("c%d@example.com", i)}, base.Add(time.Duration(i)*time.Second)))
	}
	res, err = poll(t, srv, nil, cursor)
	require.NoError(t, err)
	require.Equal(t, append([]string{old}, want...), ids(res.Items), "oldest first, the overlap included")
	require.Len(t, srv.RequestsOf(hubspottest.OpSearch), 4)
	last := srv.RequestsOf(hubspottest.OpSearch)[3].Body
	require.Equal(t, "200", fmt.Sprint(last["after"]))
	require.Equal(t, base.Add(249*time.Second-indexLag).UnixMilli(), res.Cursor)

	// Nothing new: the cursor stays.
	res, err = poll(t, srv, nil, res.Cursor)
	require.NoError(t, err)
	require.Equal(t, base.Add(249*time.Second-indexLag).UnixMilli(), res.Cursor)
}

// TestNewContactsPollBurst: more contacts than a poll reads end the poll at the page cap
// with the cursor at the newest read, so the next poll carries on.
func TestNewContactsPollBurst(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t, hubspottest.WithSearchLimit(0))
	base := time.Now().UTC().Truncate(time.Hour)
	for i := range maxPages*pageSize + 20 {
		srv.AddContact(map[string]string{"email": fmt.Sprintf("c%d@example.com", i)}, base.Add(time.Duration(i)*time.Millisecond))
	}
	res, err := poll(t, srv, nil, int64(0))
	require.NoError(t, err)
	require.Len(t, res.Items, maxPages*pageSize)
	require.Equal(t, base.Add((maxPages*pageSize-1)*time.Millisecond).UnixMilli(), res.Cursor)
	res, err = poll(t, srv, nil, res.Cursor)
	require.NoError(t, err)
	require.Len(t, res.Items, 21, "the newest read again, then the rest")
}

// TestNewContactsPollErrors: a failed first page fails the poll (retryable for the
// search limit); a refused token is permanent.
func TestNewContactsPollErrors(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t, hubspottest.WithSearchLimit(1))
	_, err := poll(t, srv, nil, int64(0))
	require.NoError(t, err)
	_, err = poll(t, srv, nil, int64(0))
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))

	logger, _ := connectortest.NewCaptureLogger(t)
	_, err = newContactsPoller.New().Poll(t.Context(), &connectors.PollCall{Connection: connection(srv, wrongToken, nil), Logger: logger})
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.NotContains(t, err.Error(), wrongToken)
}

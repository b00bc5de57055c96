package bitrix24

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/bitrix24/bitrix24test"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

func poll(t *testing.T, srv *bitrix24test.Server, input map[string]any, cursor any) *connectors.PollResult {
	t.Helper()
	logger, logs := connectortest.NewCaptureLogger(t)
	call := &connectors.PollCall{WorkflowID: "wf_test", Input: input, Cursor: cursor, First: cursor == nil,
		Connection: connection(srv), Logger: logger}
	res, err := newLeadsPoller.New().Poll(t.Context(), call)
	require.NoError(t, err)
	connectortest.AssertNoSecrets(t, call.Connection.SecretValues(), res.Items, nil, logs.String())
	return res
}

func itemIDs(items []any) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.(map[string]any)["id"].(int64)
	}
	return ids
}

// The first poll notes the newest lead; later polls page through the leads after the
// cursor with >ID, oldest first, following next, up to max_items.
func TestNewLeadsPoll(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(t, bitrix24test.Options{Burst: 1000})
	for i := 1; i <= 3; i++ {
		srv.AddLead(map[string]any{"TITLE": fmt.Sprint("Lead ", i)})
	}
	res := poll(t, srv, nil, nil)
	require.Equal(t, []int64{1, 2, 3}, itemIDs(res.Items))
	require.Equal(t, int64(3), res.Cursor)

	res = poll(t, srv, nil, res.Cursor)
	require.Empty(t, res.Items)
	require.Equal(t, int64(3), res.Cursor, "an empty poll keeps the cursor")

	for i := 4; i <= 130; i++ {
		srv.AddLead(map[string]any{"TITLE": fmt.Sprint("Lead ", i), "NAME": "Ann",
			"PHONE": []any{map[string]any{"VALUE": "+79991234567", "VALUE_TYPE": "WORK"}}, "UF_CRM_1": "x"})
	}
	res = poll(t, srv, map[string]any{"max_items": int64(100)}, "3") // a cursor saved as text is read too
	require.Len(t, res.Items, 100, "two pages of 50, then the limit")
	require.Equal(t, int64(4), itemIDs(res.Items)[0])
	require.Equal(t, int64(103), res.Cursor)
	item := res.Items[0].(map[string]any)
	require.Equal(t, "Ann", item["name"])
	require.Equal(t, "+79991234567", item["phone"])
	require.Equal(t, "x", item["lead"].(map[string]any)["UF_CRM_1"])

	res = poll(t, srv, nil, res.Cursor)
	require.Len(t, res.Items, 27)
	require.Equal(t, int64(130), res.Cursor)

	var starts []any
	for _, r := range srv.Requests() {
		if r.Method == "crm.lead.list" {
			starts = append(starts, fmt.Sprint(r.Params["start"]))
		}
	}
	require.Equal(t, []any{"0", "0", "0", "50", "0"}, starts)
}

func TestNewLeadsPollFilter(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(t, bitrix24test.Options{})
	srv.AddLead(map[string]any{"SOURCE_ID": "WEB"})
	srv.AddLead(map[string]any{"SOURCE_ID": "CALL"})
	res := poll(t, srv, map[string]any{"filter": map[string]any{"SOURCE_ID": "WEB"}, "select": []any{"TITLE"}}, int64(0))
	require.Equal(t, []int64{1}, itemIDs(res.Items))
	require.Equal(t, int64(1), res.Cursor)

	_, err := newLeadsPoller.New().Poll(t.Context(), &connectors.PollCall{Input: map[string]any{"filter": map[string]any{">ID": 5}},
		Connection: connection(srv)})
	require.True(t, connectors.IsPermanent(err))
}

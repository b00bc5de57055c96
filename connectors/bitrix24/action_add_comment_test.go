package bitrix24

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/bitrix24/bitrix24test"
)

func TestAddComment(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(t, bitrix24test.Options{})
	lead := srv.AddLead(map[string]any{"TITLE": "Lead"})
	call, logs := newCall(t, srv, map[string]any{"entity_type": "lead", "entity_id": "1", "comment": "Called back"})
	out, err := run(t, addCommentAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, map[string]any{outID: int64(1), outRecovered: false}, out)
	c := srv.Comments()[0]
	require.Equal(t, "lead", c["ENTITY_TYPE"])
	require.Equal(t, "1", c["ENTITY_ID"])
	require.Equal(t, "Called back", c["COMMENT"])

	// A retry after a lost answer reuses the comment.
	srv.DropAfterWrite("crm.timeline.comment.add", 1)
	call, logs = newCall(t, srv, map[string]any{"entity_type": "lead", "entity_id": lead, "comment": "Second"})
	_, err = run(t, addCommentAction, call, logs)
	require.Error(t, err)
	call.Attempt = 2
	out, err = run(t, addCommentAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, map[string]any{outID: int64(2), outRecovered: true}, out)
	require.Len(t, srv.Comments(), 2)

	// An unknown record is Bitrix24's 400: permanent, with its description.
	call, logs = newCall(t, srv, map[string]any{"entity_type": "contact", "entity_id": 99, "comment": "x"})
	_, err = run(t, addCommentAction, call, logs)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "Entity not found.")

	call, logs = newCall(t, srv, map[string]any{"entity_type": "invoice", "entity_id": 1, "comment": "x"})
	_, err = run(t, addCommentAction, call, logs)
	require.True(t, connectors.IsPermanent(err))
}

func TestFindContact(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(t, bitrix24test.Options{})
	srv.AddContact(map[string]any{"EMAIL": []any{map[string]any{"VALUE": "ann@example.com"}}})
	srv.AddContact(map[string]any{"PHONE": []any{map[string]any{"VALUE": "+7 999 123-45-67"}}})
	call, logs := newCall(t, srv, map[string]any{"email": "ANN@example.com", "phone": "8 999 1234567"})
	out, err := run(t, findContactAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, map[string]any{outFound: true, outID: int64(1), outIDs: []int64{1, 2}}, out)

	call, logs = newCall(t, srv, map[string]any{"email": "nobody@example.com", "entity_type": "LEAD"})
	out, err = run(t, findContactAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, map[string]any{outFound: false, outID: int64(0), outIDs: []int64{}}, out)

	call, logs = newCall(t, srv, map[string]any{})
	out, err = run(t, findContactAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, false, out[outFound])
	require.Equal(t, 3, srv.Calls("crm.duplicate.findbycomm"), "no search without an email or phone")
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(t, bitrix24test.Options{})
	require.NoError(t, testConnection(t.Context(), connection(srv)))
	require.Equal(t, 1, srv.Calls("profile"))

	bad := connection(srv)
	bad.Config[connWebhookURL] = srv.URL + "/rest/1/wrongcode0123456789/"
	err := testConnection(t.Context(), bad)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "INVALID_CREDENTIALS")
	require.NotContains(t, err.Error(), "wrongcode0123456789")
}

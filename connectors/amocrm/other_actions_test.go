package amocrm

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
)

func TestAddNote(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	lead := srv.AddLead("Order", 1700000000)
	c := srv.AddContact("Ann", "+79990000000", "ann@example.com")

	call, logs := newCall(t, srv, map[string]any{inEntityID: lead.ID, inText: "Called back"})
	out, err := invoke(t, addNoteAction, call, logs)
	require.NoError(t, err)
	call, logs = newCall(t, srv, map[string]any{inEntity: "contact", inEntityID: strconv.FormatInt(c.ID, 10), inText: "VIP"})
	out2, err := invoke(t, addNoteAction, call, logs)
	require.NoError(t, err)
	notes := srv.Notes()
	require.Len(t, notes, 2)
	require.Equal(t, notes[0].ID, out[outID])
	require.Equal(t, "leads", notes[0].EntityType)
	require.Equal(t, "Called back", notes[0].Text)
	require.Equal(t, notes[1].ID, out2[outID])
	require.Equal(t, "contacts", notes[1].EntityType)

	// An unknown lead is amoCRM's validation error, permanent.
	call, logs = newCall(t, srv, map[string]any{inEntityID: int64(5), inText: "x"})
	_, err = invoke(t, addNoteAction, call, logs)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "entity_id: Entity not found")

	require.Error(t, addNoteAction.New().(connectors.Validator).Validate(map[string]any{inEntity: "company", inEntityID: int64(1), inText: "x"}))
	require.NoError(t, addNoteAction.New().(connectors.Validator).Validate(map[string]any{inEntityID: "{{ steps.lead.output.id }}", inText: "x"}))
}

func TestFindContact(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	srv.AddContact("Ann Smith", "8 (999) 000-00-00", "Ann@Example.com")
	bob := srv.AddContact("Bob", "+7 999 111 22 33", "")

	tests := []struct {
		input map[string]any
		found bool
		name  string
	}{
		{map[string]any{"email": "ann@example.com"}, true, "Ann Smith"},
		{map[string]any{"phone": "+79990000000"}, true, "Ann Smith"},
		{map[string]any{"phone": "89991112233"}, true, "Bob"},
		{map[string]any{"query": "Bob"}, true, "Bob"},
		{map[string]any{"email": "nobody@example.com"}, false, ""},
		{map[string]any{"email": "ann@example"}, false, ""},
	}
	for _, tt := range tests {
		call, logs := newCall(t, srv, tt.input)
		out, err := invoke(t, findContactAction, call, logs)
		require.NoError(t, err, "%v", tt.input)
		require.Equal(t, tt.found, out[outFound], "%v", tt.input)
		if tt.found {
			require.Equal(t, tt.name, out[outContact].(map[string]any)["name"])
		} else {
			require.Nil(t, out[outContact])
			require.EqualValues(t, 0, out[outID])
		}
	}
	call, logs := newCall(t, srv, map[string]any{"phone": "89991112233"})
	out, err := invoke(t, findContactAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, bob.ID, out[outID])
	require.Equal(t, []string{"+7 999 111 22 33"}, out[outContact].(map[string]any)["phones"])

	require.Error(t, findContactAction.New().(connectors.Validator).Validate(map[string]any{}))
}

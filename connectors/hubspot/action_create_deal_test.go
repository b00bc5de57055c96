package hubspot

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/hubspot/hubspottest"
)

// TestCreateDeal: POST deals answers 201; the deal is associated with the contact
// (HUBSPOT_DEFINED type 3) and gets the default pipeline and stage.
func TestCreateDeal(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t)
	contact := srv.AddContact(map[string]string{"email": "ann@example.com"}, time.Unix(1_700_000_000, 0))
	out, err := run(t, createDealAction, newCall(t, srv, map[string]any{
		"dealname": "Site lead: Ann", "amount": 1500.5, "contact_id": contact,
		"properties": map[string]any{"dealtype": "newbusiness", "dealname": "loses to the input"},
	}, nil))
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	deals := srv.Deals()
	require.Len(t, deals, 1)
	require.Equal(t, deals[0].ID, out[outID])
	require.Equal(t, []string{contact}, deals[0].Contacts)
	p := deals[0].Properties
	require.Equal(t, "Site lead: Ann", p["dealname"])
	require.Equal(t, "1500.5", p["amount"])
	require.Equal(t, PipelineDefault, p["pipeline"])
	require.Equal(t, DealStageDefault, p["dealstage"])
	require.Equal(t, "newbusiness", p["dealtype"])
	require.Empty(t, srv.RequestsOf(hubspottest.OpSearch), "a first attempt does not search")

	// An unknown contact is HubSpot's validation error, permanent.
	_, err = run(t, createDealAction, newCall(t, srv, map[string]any{"dealname": "x", "contact_id": int64(424242)}, nil))
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "contact 424242 does not exist")
}

// TestCreateDealRetryAfterDrop: the fake creates the deal and drops the connection; the
// retry finds that deal instead of making a second one, by the idempotency property when
// the connection names one and by name, pipeline, amount and createdate otherwise.
func TestCreateDealRetryAfterDrop(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		extra map[string]any
	}{
		{"idempotency property", map[string]any{connKeyProperty: "hookflow_key"}},
		{"name and time window", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := hubspottest.NewServer(t)
			srv.DropNext(hubspottest.OpCreateDeal, 1)
			call := newCall(t, srv, map[string]any{"dealname": "Site lead", "amount": "990"}, tt.extra)
			call.StartedAt = time.Now()
			_, err := run(t, createDealAction, call)
			require.Error(t, err)
			require.False(t, connectors.IsPermanent(err), "an unknown outcome is retried: %v", err)
			require.Len(t, srv.Deals(), 1)

			call.Attempt = 2
			out, err := run(t, createDealAction, call)
			require.NoError(t, err)
			require.Equal(t, false, out[outCreated])
			require.Equal(t, srv.Deals()[0].ID, out[outID])
			require.Len(t, srv.Deals(), 1, "the retry made no second deal")
			if tt.extra != nil {
				require.Equal(t, call.IdempotencyKey, srv.Deals()[0].Properties["hookflow_key"])
			}

			// A retry whose earlier attempt made nothing creates the deal.
			other := newCall(t, srv, map[string]any{"dealname": "Another lead"}, tt.extra)
			other.Attempt = 2
			other.StartedAt = time.Now()
			out, err = run(t, createDealAction, other)
			require.NoError(t, err)
			require.Equal(t, true, out[outCreated])
			require.Len(t, srv.Deals(), 2)
		})
	}
}

// TestCreateDealErrors: validation of inputs before any call, and HubSpot's refusals.
func TestCreateDealErrors(t *testing.T) {
	t.Parallel()
	a := &createDeal{}
	require.Error(t, a.Validate(map[string]any{"dealname": "x", "contact_id": "abc"}))
	require.Error(t, a.Validate(map[string]any{"dealname": "x", "amount": []any{1}}))
	require.NoError(t, a.Validate(map[string]any{"dealname": "x", "contact_id": "{{ steps.c.output.id }}"}))

	srv := hubspottest.NewServer(t)
	srv.FailNext(hubspottest.OpCreateDeal, 1, http.StatusForbidden, "MISSING_SCOPES",
		"This app hasn't been granted all required scopes to make this call.")
	_, err := run(t, createDealAction, newCall(t, srv, map[string]any{"dealname": "x"}, nil))
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "granted all required scopes")
}

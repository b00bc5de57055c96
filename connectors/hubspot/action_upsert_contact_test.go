package hubspot

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/hubspot/hubspottest"
)

// TestUpsertContactCreates: POST contacts answers 201 with a string id; the lead is
// cleaned up (email lower-cased, phone E.164, name split) before it is sent.
func TestUpsertContactCreates(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t)
	out, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{
		"name": "Ann Marie Lee", "email": " Ann@Example.COM ", "phone": "8 (999) 123-45-67",
		"utm_source": "google", "properties": map[string]any{"lifecyclestage": "lead", "score": int64(5)},
	}, nil))
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Equal(t, "", out[outMatchedBy])
	id, ok := out[outID].(string)
	require.True(t, ok, "id is %T", out[outID])

	contacts := srv.Contacts()
	require.Len(t, contacts, 1)
	require.Equal(t, id, contacts[0].ID)
	p := contacts[0].Properties
	require.Equal(t, "ann@example.com", p["email"])
	require.Equal(t, "Ann Marie", p["firstname"])
	require.Equal(t, "Lee", p["lastname"])
	require.Equal(t, "+79991234567", p["phone"])
	require.Equal(t, "lead", p["lifecyclestage"])
	require.Equal(t, "5", p["score"])
	require.NotContains(t, p, "utm_source", "UTM goes to properties only with utm_properties")
	require.NotEmpty(t, out[outProperties].(map[string]any)["createdate"])
	// The phone was searched for first (dedupe defaults to email_or_phone).
	require.Len(t, srv.RequestsOf(hubspottest.OpSearch), 1)
}

// TestUpsertContactSameEmailUpdates: HubSpot answers the second create with 409
// "Contact already exists. Existing ID: <id>", and the action updates that contact.
func TestUpsertContactSameEmailUpdates(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t)
	first, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{"name": "Ann", "email": "ann@example.com", "dedupe": "email"}, nil))
	require.NoError(t, err)
	second, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{
		"name": "Ann Lee", "email": "ANN@example.com", "phone": "+1 415 555 0100", "dedupe": "none",
		"utm_source": "newsletter", "utm_properties": true,
	}, nil))
	require.NoError(t, err)
	require.Equal(t, first[outID], second[outID])
	require.Equal(t, false, second[outCreated])
	require.Equal(t, matchedEmail, second[outMatchedBy])
	require.Empty(t, srv.RequestsOf(hubspottest.OpSearch), "neither email nor none searches by phone")

	conflicts := srv.RequestsOf(hubspottest.OpCreateContact)
	require.Len(t, conflicts, 2)
	require.Equal(t, http.StatusConflict, conflicts[1].Status)
	contacts := srv.Contacts()
	require.Len(t, contacts, 1)
	require.Equal(t, "Lee", contacts[0].Properties["lastname"])
	require.Equal(t, "+14155550100", contacts[0].Properties["phone"])
	require.Equal(t, "newsletter", contacts[0].Properties["utm_source"])
}

// TestUpsertContactByPhone: with dedupe phone or email_or_phone the search API finds the
// contact by phone (EQ) before anything is created.
func TestUpsertContactByPhone(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t)
	id := srv.AddContact(map[string]string{"phone": "+79991234567", "firstname": "Old"}, time.Unix(1_700_000_000, 0))
	out, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{"name": "Ann", "phone": "+7 999 123 45 67", "dedupe": "phone"}, nil))
	require.NoError(t, err)
	require.Equal(t, id, out[outID])
	require.Equal(t, false, out[outCreated])
	require.Equal(t, matchedPhone, out[outMatchedBy])
	require.Len(t, srv.Contacts(), 1)
	require.Equal(t, "Ann", srv.Contacts()[0].Properties["firstname"])
	search := srv.RequestsOf(hubspottest.OpSearch)
	require.Len(t, search, 1)
	require.Contains(t, string(mustJSON(t, search[0].Body)), `"operator":"EQ"`)

	// dedupe email does not search by phone: a second contact is made.
	out, err = run(t, upsertContactAction, newCall(t, srv, map[string]any{"name": "Bob", "phone": "+79991234567", "dedupe": "email"}, nil))
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Len(t, srv.Contacts(), 2)
}

// TestUpsertContactRetryWithoutEmail: a retry of a contact with only a phone searches by
// phone even with dedupe none, so the contact the dropped attempt made is reused.
func TestUpsertContactRetryWithoutEmail(t *testing.T) {
	t.Parallel()
	srv := hubspottest.NewServer(t)
	srv.DropNext(hubspottest.OpCreateContact, 1)
	call := newCall(t, srv, map[string]any{"name": "Ann", "phone": "89991234567", "dedupe": "none"}, nil)
	_, err := run(t, upsertContactAction, call)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err), "a dropped connection is retryable: %v", err)
	require.Len(t, srv.Contacts(), 1, "the fake applied the write before dropping")

	call.Attempt = 2
	out, err := run(t, upsertContactAction, call)
	require.NoError(t, err)
	require.Equal(t, false, out[outCreated])
	require.Equal(t, srv.Contacts()[0].ID, out[outID])
	require.Len(t, srv.Contacts(), 1)
}

// TestUpsertContactErrors: HubSpot's validation message and property are surfaced and
// permanent; a refused token is permanent and never shown; 429s wait as HubSpot's rate
// headers or policy say.
func TestUpsertContactErrors(t *testing.T) {
	t.Parallel()
	t.Run("invalid email", func(t *testing.T) {
		t.Parallel()
		srv := hubspottest.NewServer(t)
		_, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{"email": "not-an-email", "dedupe": "none"}, nil))
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.Contains(t, err.Error(), "VALIDATION_ERROR")
		require.Contains(t, err.Error(), "Email address not-an-email is invalid")
		require.Contains(t, err.Error(), "email: ")
	})
	t.Run("bad token", func(t *testing.T) {
		t.Parallel()
		srv := hubspottest.NewServer(t)
		call := connectortest.NewCall(t, map[string]any{"email": "ann@example.com"}, connection(srv, wrongToken, nil))
		_, err := run(t, upsertContactAction, call)
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.Contains(t, err.Error(), "INVALID_AUTHENTICATION")
		require.Empty(t, srv.Contacts())
	})
	t.Run("interval limit", func(t *testing.T) {
		t.Parallel()
		srv := hubspottest.NewServer(t, hubspottest.WithRateLimit(1, 10*time.Second))
		_, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{"email": "a@example.com", "dedupe": "none"}, nil))
		require.NoError(t, err)
		_, err = run(t, upsertContactAction, newCall(t, srv, map[string]any{"email": "b@example.com", "dedupe": "none"}, nil))
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err))
		d, ok := connectors.RetryDelay(err)
		require.True(t, ok, "the wait comes from X-HubSpot-RateLimit-Interval-Milliseconds: %v", err)
		require.Equal(t, 10*time.Second, d)
		require.Contains(t, err.Error(), "RATE_LIMIT")
	})
	t.Run("search limit", func(t *testing.T) {
		t.Parallel()
		srv := hubspottest.NewServer(t, hubspottest.WithSearchLimit(1))
		_, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{"phone": "+79990000001"}, nil))
		require.NoError(t, err)
		_, err = run(t, upsertContactAction, newCall(t, srv, map[string]any{"phone": "+79990000002"}, nil))
		require.Error(t, err)
		d, ok := connectors.RetryDelay(err)
		require.True(t, ok, "SECONDLY waits a second: %v", err)
		require.Equal(t, time.Second, d)
	})
	t.Run("daily limit", func(t *testing.T) {
		t.Parallel()
		srv := hubspottest.NewServer(t)
		srv.FailNext(hubspottest.OpCreateContact, 1, http.StatusTooManyRequests, "DAILY", "")
		_, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{"email": "a@example.com", "dedupe": "none"}, nil))
		require.Error(t, err)
		d, ok := connectors.RetryDelay(err)
		require.True(t, ok)
		require.Equal(t, time.Hour, d)
	})
	t.Run("server error", func(t *testing.T) {
		t.Parallel()
		srv := hubspottest.NewServer(t)
		srv.FailNext("", 1, http.StatusBadGateway, "INTERNAL_ERROR", "Bad gateway")
		_, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{"email": "a@example.com"}, nil))
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err))
	})
	t.Run("nothing to write", func(t *testing.T) {
		t.Parallel()
		srv := hubspottest.NewServer(t)
		_, err := run(t, upsertContactAction, newCall(t, srv, map[string]any{}, nil))
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.Empty(t, srv.Requests())
	})
	t.Run("bad property name", func(t *testing.T) {
		t.Parallel()
		err := (&upsertContact{}).Validate(map[string]any{"properties": map[string]any{"Bad Name": "x"}})
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
	})
}

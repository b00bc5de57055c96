package bitrix24

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/bitrix24/bitrix24test"
)

func annInput() map[string]any {
	return map[string]any{"name": "Ann Lee", "email": " Ann@Example.com ", "phone": "8 (999) 123-45-67",
		"utm_source": "google", "utm_campaign": "spring", "comments": "Call after 6pm",
		"fields": map[string]any{"UF_CRM_1700000000": "form-1", "OPPORTUNITY": int64(1500)}}
}

// The lead carries the contract's fields: TITLE, NAME, LAST_NAME, PHONE and EMAIL as WORK
// multi-fields, SOURCE_ID, UTM_*, COMMENTS, UF_CRM_*, and the idempotency tag; a new
// contact is created and linked.
func TestCreateLead(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(t, bitrix24test.Options{})
	call, logs := newCall(t, srv, annInput())
	out, err := run(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, map[string]any{outID: int64(1), outContactID: int64(1), outCreated: true, outRecovered: false}, out)

	lead := srv.Leads()[0]
	require.Equal(t, "Lead: Ann Lee", lead["TITLE"])
	require.Equal(t, "Ann", lead["NAME"])
	require.Equal(t, "Lee", lead["LAST_NAME"])
	phone := lead["PHONE"].([]any)[0].(map[string]any)
	require.Equal(t, "+79991234567", phone["VALUE"])
	require.Equal(t, "WORK", phone["VALUE_TYPE"])
	require.Equal(t, "ann@example.com", lead["EMAIL"].([]any)[0].(map[string]any)["VALUE"])
	require.Equal(t, "WEB", lead["SOURCE_ID"])
	require.Equal(t, "google", lead["UTM_SOURCE"])
	require.Equal(t, "spring", lead["UTM_CAMPAIGN"])
	require.Equal(t, "Call after 6pm", lead["COMMENTS"])
	require.Equal(t, "form-1", lead["UF_CRM_1700000000"])
	require.Equal(t, "1500", lead["OPPORTUNITY"])
	require.Equal(t, "1", lead["CONTACT_ID"])
	require.Equal(t, OriginatorID, lead["ORIGINATOR_ID"])
	require.Equal(t, call.IdempotencyKey, lead["ORIGIN_ID"])
	require.Len(t, srv.Contacts(), 1)
	require.Equal(t, "Ann", srv.Contacts()[0]["NAME"])
}

// The same person again (the email in another case, the phone written another way)
// reuses the contact: one contact, two leads.
func TestCreateLeadDedupe(t *testing.T) {
	t.Parallel()
	srv := bitrix24test.NewServer(t, bitrix24test.Options{})
	call, logs := newCall(t, srv, annInput())
	_, err := run(t, createLeadAction, call, logs)
	require.NoError(t, err)

	call, logs = newCall(t, srv, map[string]any{"name": "Ann", "phone": "+7 999 123 45 67"})
	out, err := run(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, map[string]any{outID: int64(2), outContactID: int64(1), outCreated: false, outRecovered: false}, out)
	require.Len(t, srv.Contacts(), 1)
	require.Len(t, srv.Leads(), 2)

	// dedupe none makes a new contact; create_contact false links none.
	call, logs = newCall(t, srv, map[string]any{"name": "Ann", "email": "ann@example.com", "dedupe": "none"})
	out, err = run(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, int64(2), out[outContactID])
	require.Equal(t, true, out[outCreated])
	call, logs = newCall(t, srv, map[string]any{"name": "Bob", "email": "bob@example.com", "create_contact": false})
	out, err = run(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, int64(0), out[outContactID])
	require.Len(t, srv.Contacts(), 2)
	require.NotContains(t, srv.Leads()[3], "CONTACT_ID")
}

// A retry after the portal made the lead but the answer was lost finds the lead by its
// ORIGIN_ID instead of making a second one; so with the contact.
func TestCreateLeadRetryAfterLostAnswer(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"crm.lead.add", "crm.contact.add"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			srv := bitrix24test.NewServer(t, bitrix24test.Options{})
			srv.DropAfterWrite(method, 1)
			// dedupe none: only the tag can find the contact of attempt 1.
			input := annInput()
			input["dedupe"] = "none"
			call, logs := newCall(t, srv, input)
			_, err := run(t, createLeadAction, call, logs)
			require.Error(t, err)
			require.False(t, connectors.IsPermanent(err), "a lost answer is retryable: %v", err)

			call.Attempt = 2
			out, err := run(t, createLeadAction, call, logs)
			require.NoError(t, err)
			require.Len(t, srv.Leads(), 1, "no second lead")
			require.Len(t, srv.Contacts(), 1, "no second contact")
			require.Equal(t, int64(1), out[outID])
			require.Equal(t, int64(1), out[outContactID])
			require.Equal(t, method == "crm.lead.add", out[outRecovered])
		})
	}
}

// Checklist errors: the permission case is permanent with Bitrix24's description; the
// leaky bucket's 503 is retried after QueryLimitWait; a wrong code is permanent.
func TestCreateLeadErrors(t *testing.T) {
	t.Parallel()
	t.Run("access denied", func(t *testing.T) {
		t.Parallel()
		srv := bitrix24test.NewServer(t, bitrix24test.Options{})
		srv.Deny("crm.lead.add")
		call, logs := newCall(t, srv, annInput())
		_, err := run(t, createLeadAction, call, logs)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "crm.lead.add failed with 400: Access denied.")
	})
	t.Run("query limit", func(t *testing.T) {
		t.Parallel()
		srv := bitrix24test.NewServer(t, bitrix24test.Options{Burst: 1, DrainPerSecond: -1})
		call, logs := newCall(t, srv, annInput())
		_, err := run(t, createLeadAction, call, logs)
		require.False(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "QUERY_LIMIT_EXCEEDED")
		d, ok := connectors.RetryDelay(err)
		require.True(t, ok)
		require.Equal(t, time.Second, d)
	})
	t.Run("invalid credentials", func(t *testing.T) {
		t.Parallel()
		srv := bitrix24test.NewServer(t, bitrix24test.Options{})
		call, logs := newCall(t, srv, annInput())
		call.Connection.Config[connWebhookURL] = srv.URL + "/rest/1/wrongcode0123456789/"
		_, err := run(t, createLeadAction, call, logs)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "INVALID_CREDENTIALS")
		require.NotContains(t, err.Error(), "wrongcode0123456789")
	})
	t.Run("bad phone and fields", func(t *testing.T) {
		t.Parallel()
		srv := bitrix24test.NewServer(t, bitrix24test.Options{})
		call, logs := newCall(t, srv, map[string]any{"phone": "call me"})
		_, err := run(t, createLeadAction, call, logs)
		require.True(t, connectors.IsPermanent(err))
		call, logs = newCall(t, srv, map[string]any{"name": "Ann", "fields": map[string]any{"ORIGIN_ID": "x", "lower": 1}})
		_, err = run(t, createLeadAction, call, logs)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "ORIGIN_ID is set by the action itself")
		require.Empty(t, srv.Requests())
	})
}

func TestParseWebhookURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://acme.bitrix24.ru/rest/1/abc123/":              "https://acme.bitrix24.ru/rest/1/abc123/",
		"https://acme.bitrix24.ru/rest/1/abc123":               "https://acme.bitrix24.ru/rest/1/abc123/",
		"https://acme.bitrix24.ru/rest/12/abc123/profile.json": "https://acme.bitrix24.ru/rest/12/abc123/",
		"https://crm.example.com/portal/rest/1/abc123/":        "https://crm.example.com/portal/rest/1/abc123/",
	} {
		base, code, err := parseWebhookURL(raw)
		require.NoError(t, err, raw)
		require.Equal(t, want, base)
		require.Equal(t, "abc123", code)
	}
	for _, raw := range []string{"", "acme.bitrix24.ru/rest/1/abc", "https://acme.bitrix24.ru/", "https://acme.bitrix24.ru/rest/x/abc/",
		"https://acme.bitrix24.ru/rest/1/abc/?auth=1", "ftp://acme/rest/1/abc/"} {
		_, _, err := parseWebhookURL(raw)
		require.Error(t, err, raw)
	}
	err := validateConnection(map[string]any{connWebhookURL: "https://acme.bitrix24.ru/rest/1/secretcode99/x/y"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secretcode99")
}

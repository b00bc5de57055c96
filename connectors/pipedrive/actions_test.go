package pipedrive

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/pipedrive/pipedrivetest"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestCreatePersonDedupe: a new person is created with email and phone as arrays, the
// same email or phone again finds it, dedupe none creates another.
func TestCreatePersonDedupe(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)

	call, logs := newCall(t, srv, map[string]any{"name": " Ann  Lee ", "email": " Ann@Example.COM ", "phone": "8 (999) 123-45-67"})
	out, err := invoke(t, createPersonAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Equal(t, "Ann Lee", out[outName])
	require.Equal(t, "+79991234567", out[outPhone])
	persons := srv.Persons()
	require.Len(t, persons, 1)
	require.Equal(t, out[outID], persons[0].ID)
	require.Equal(t, []pipedrivetest.Contact{{Label: "work", Value: "ann@example.com", Primary: true}}, persons[0].Emails)
	require.Equal(t, "+79991234567", persons[0].Phones[0].Value)

	// The token goes in the header, never in the query string.
	for _, r := range srv.Requests() {
		require.Equal(t, srv.Token, r.Header.Get("x-api-token"))
		require.NotContains(t, r.Query, "api_token")
	}

	call, logs = newCall(t, srv, map[string]any{"name": "Ann", "email": "ann@example.com"})
	out, err = invoke(t, createPersonAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, false, out[outCreated])
	require.Equal(t, "email", out[outMatchedBy])
	require.Equal(t, persons[0].ID, out[outID])

	call, logs = newCall(t, srv, map[string]any{"name": "Ann", "email": "other@example.com", "phone": "+7 999 123 45 67"})
	out, err = invoke(t, createPersonAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, false, out[outCreated])
	require.Equal(t, "phone", out[outMatchedBy])

	search := requestsTo(srv, http.MethodGet, "/v1/persons/search")
	require.NotEmpty(t, search)
	require.Contains(t, search[0].Query, "exact_match=true")
	require.Contains(t, search[0].Query, "fields=email")

	call, logs = newCall(t, srv, map[string]any{"email": "ann@example.com", "dedupe": "none"})
	out, err = invoke(t, createPersonAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Equal(t, "ann@example.com", out[outName], "without a name the email stands in")
	require.Len(t, srv.Persons(), 2)
}

// TestCreatePersonErrors: a missing name is refused before any call; a refused token is
// permanent with Pipedrive's error; a 429 is retried after Retry-After; a 5xx is retryable.
func TestCreatePersonErrors(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)

	call, logs := newCall(t, srv, map[string]any{"dedupe": "none"})
	_, err := invoke(t, createPersonAction, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Empty(t, srv.Requests())

	call, logs = newCall(t, srv, map[string]any{"name": "Ann", "dedupe": "none"})
	call.Connection = connection(srv, wrongToken)
	_, err = invoke(t, createPersonAction, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "unauthorized access")

	srv.FailNext(http.MethodPost, "/v1/persons", 1, http.StatusTooManyRequests, "Request over limit", 4)
	call, logs = newCall(t, srv, map[string]any{"name": "Ann", "dedupe": "none"})
	_, err = invoke(t, createPersonAction, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	d, ok := connectors.RetryDelay(err)
	require.True(t, ok)
	require.Equal(t, 4*time.Second, d)

	srv.FailNext(http.MethodPost, "/v1/persons", 1, http.StatusBadGateway, "Bad gateway", 0)
	_, err = invoke(t, createPersonAction, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	require.Empty(t, srv.Persons())
}

// TestRateWindow: over the fake's 2-second window the client gets a 429 whose wait is
// the time left in the window, from Retry-After.
func TestRateWindow(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Hour)
	srv := pipedrivetest.NewServer(t, pipedrivetest.WithRateLimit(2), pipedrivetest.WithClock(func() time.Time { return now }))
	for i := 0; i < 2; i++ {
		call, logs := newCall(t, srv, map[string]any{"name": "Ann", "dedupe": "none"})
		_, err := invoke(t, createPersonAction, call, logs)
		require.NoError(t, err)
	}
	call, logs := newCall(t, srv, map[string]any{"name": "Ann", "dedupe": "none"})
	_, err := invoke(t, createPersonAction, call, logs)
	require.Error(t, err)
	d, ok := connectors.RetryDelay(err)
	require.True(t, ok, "err: %v", err)
	require.Equal(t, 2*time.Second, d)
	require.Len(t, srv.Persons(), 2)
}

// TestCreateLead: a lead for a person id gets a UUID; a lead from the lead's details
// creates the person first; Pipedrive's own validation errors are surfaced, permanent.
func TestCreateLead(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)
	pid := srv.AddPerson(pipedrivetest.Person{Name: "Bob"})

	call, logs := newCall(t, srv, map[string]any{inTitle: "Website lead", inPersonID: pid, inValue: 1500, inCurrency: "eur",
		inLabelIDs: []any{"f08b42a0-4e75-11ea-9643-03698ef1cfd6"}, inExpectedCloseDate: "2026-12-31"})
	out, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Regexp(t, uuidPattern, out[outID])
	require.Equal(t, pid, out[outPersonID])
	require.Equal(t, true, out[outCreated])
	require.Equal(t, false, out[outPersonCreated])
	leads := srv.Leads()
	require.Len(t, leads, 1)
	require.Equal(t, "EUR", leads[0].Value.Currency)
	require.Equal(t, "1500", leads[0].Value.Amount.String())
	require.Equal(t, "hookflow:"+call.IdempotencyKey, leads[0].OriginID)
	posts := requestsTo(srv, http.MethodPost, "/v1/leads")
	require.Equal(t, http.StatusCreated, posts[0].Status)

	// From the lead's details: the person is created, then found the second time.
	for i, wantPersonCreated := range []bool{true, false} {
		call, logs = newCall(t, srv, map[string]any{inTitle: "Form lead", "name": "Cat Doe", "email": "cat@example.com"})
		out, err = invoke(t, createLeadAction, call, logs)
		require.NoError(t, err, "lead %d", i)
		require.Equal(t, wantPersonCreated, out[outPersonCreated])
	}
	require.Len(t, srv.Persons(), 2)
	require.Len(t, srv.Leads(), 3)

	// Refused before any call: a value without its currency, no person at all.
	for _, in := range []map[string]any{
		{inTitle: "x", inPersonID: pid, inValue: 10},
		{inTitle: "x"},
		{inPersonID: pid},
	} {
		call, logs = newCall(t, srv, in)
		_, err = invoke(t, createLeadAction, call, logs)
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err), "%v", in)
	}

	// Pipedrive's own 400, with its message.
	call, logs = newCall(t, srv, map[string]any{inTitle: "x", inPersonID: 999999})
	_, err = invoke(t, createLeadAction, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "Person with id 999999 does not exist")
	require.Len(t, srv.Leads(), 3)
}

// TestCreateLeadRetryAfterDrop: the fake applies the lead and drops the connection; the
// retry finds the lead by its origin_id marker and creates no second one.
func TestCreateLeadRetryAfterDrop(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)
	pid := srv.AddPerson(pipedrivetest.Person{Name: "Bob"})
	srv.DropNext(http.MethodPost, "/v1/leads", 1)

	call, logs := newCall(t, srv, map[string]any{inTitle: "Website lead", inPersonID: pid})
	_, err := invoke(t, createLeadAction, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err), "an unknown outcome is retried: %v", err)
	require.Len(t, srv.Leads(), 1, "the write was applied")

	call.Attempt = 2
	out, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, false, out[outCreated])
	require.Equal(t, srv.Leads()[0].ID, out[outID])
	require.Len(t, srv.Leads(), 1)

	// Another step's retry with nothing lost creates its lead.
	other, logs := newCall(t, srv, map[string]any{inTitle: "Website lead", inPersonID: pid})
	other.Attempt = 2
	out, err = invoke(t, createLeadAction, other, logs)
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Len(t, srv.Leads(), 2)
}

// TestCreateDeal: a deal with its person (v1 answers the person as an object), and a
// retry after a dropped answer that finds the deal through GET /api/v2/deals.
func TestCreateDeal(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)
	pid := srv.AddPerson(pipedrivetest.Person{Name: "Bob"})

	call, logs := newCall(t, srv, map[string]any{inTitle: "Order 1", inValue: "99.5", inCurrency: "usd", inPersonID: pid,
		inStageID: 3, inOwnerID: 7, inStatus: "open"})
	out, err := invoke(t, createDealAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Equal(t, pid, out[outPersonID])
	require.EqualValues(t, 3, out[outStageID])
	require.Equal(t, "USD", out[outCurrency])
	deals := srv.Deals()
	require.Len(t, deals, 1)
	require.EqualValues(t, 7, deals[0].UserID)
	require.Equal(t, "99.5", deals[0].Value.String())

	srv.DropNext(http.MethodPost, "/v1/deals", 1)
	call, logs = newCall(t, srv, map[string]any{inTitle: "Order 2"})
	_, err = invoke(t, createDealAction, call, logs)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	call.Attempt = 2
	out, err = invoke(t, createDealAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, false, out[outCreated])
	require.Len(t, srv.Deals(), 2)
	require.Equal(t, srv.Deals()[1].ID, out[outID])

	call, logs = newCall(t, srv, map[string]any{inTitle: ""})
	_, err = invoke(t, createDealAction, call, logs)
	require.True(t, connectors.IsPermanent(err))
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	srv := pipedrivetest.NewServer(t)
	require.NoError(t, testConnection(t.Context(), connection(srv, srv.Token)))
	err := testConnection(t.Context(), connection(srv, wrongToken))
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "unauthorized access")
	require.NotContains(t, err.Error(), wrongToken)
}

func TestValidateConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config map[string]any
		want   string
	}{
		{"domain", map[string]any{connAPIToken: "t0ken-123456", connDomain: "mycompany"}, ""},
		{"base url", map[string]any{connAPIToken: "t0ken-123456", connBaseURL: "http://127.0.0.1:9"}, ""},
		{"neither", map[string]any{connAPIToken: "t0ken-123456"}, "set domain"},
		{"both", map[string]any{connAPIToken: "t0ken-123456", connDomain: "a", connBaseURL: "http://x"}, ""},
		{"bad base url", map[string]any{connAPIToken: "t0ken-123456", connBaseURL: "ftp://x"}, "absolute http"},
		{"host in domain", map[string]any{connAPIToken: "t0ken-123456", connDomain: "evil.com/x"}, "company domain only"},
		{"no token", map[string]any{connDomain: "mycompany"}, "api_token is required"},
		{"bad country", map[string]any{connAPIToken: "t0ken-123456", connDomain: "a", "default_country": "Narnia"}, "default country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateConnection(tt.config)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
	// The domain decides the host the token goes to.
	a, err := newAPI(connectortest.NewConnection(connector, map[string]any{connAPIToken: "t0ken-123456", connDomain: "acme"}), nil)
	require.NoError(t, err)
	require.Equal(t, "https://acme.pipedrive.com", a.base)
	require.False(t, strings.Contains(a.base, "t0ken"))
}

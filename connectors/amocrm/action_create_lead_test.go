package amocrm

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
)

// Checklist: /leads/complex → 200 array {id, contact_id, request_id[], merged}; the
// embedded contact gets PHONE and EMAIL multi-fields, the lead its UTM fields and tags.
func TestCreateLeadWithNewContact(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	call, logs := newCall(t, srv, formLead())
	out, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Equal(t, false, out[outMerged])
	require.Equal(t, false, out[outReplayed])

	leads, contacts := srv.Leads(), srv.Contacts()
	require.Len(t, leads, 1)
	require.Len(t, contacts, 1)
	l, c := leads[0], contacts[0]
	require.Equal(t, l.ID, out[outID])
	require.Equal(t, c.ID, out[outContactID])
	require.Equal(t, "Site order", l.Name)
	require.EqualValues(t, 1500, l.Price)
	require.Equal(t, []int64{c.ID}, l.ContactIDs)
	require.Equal(t, []string{"site", "tilda", idempotencyTag(call.IdempotencyKey)}, l.Tags)
	require.Equal(t, call.IdempotencyKey, l.RequestID, "the idempotency key is the lead's request_id")
	require.Equal(t, "yandex", amocrmtest.FieldValue(l, "UTM_SOURCE"))
	require.Equal(t, "spring", amocrmtest.FieldValue(l, "UTM_CAMPAIGN"))
	require.Equal(t, "From the form", amocrmtest.FieldValue(l, "1001"))
	require.Equal(t, "Ivan", c.FirstName)
	require.Equal(t, "Petrov", c.LastName)
	require.Equal(t, "+79991234567", amocrmtest.PhoneOf(c))
	require.Equal(t, "ivan@example.ru", amocrmtest.EmailOf(c))

	var complexReqs int
	for _, r := range srv.Requests() {
		if r.Path == "/api/v4/leads/complex" {
			complexReqs++
			var body []map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.Body), &body), "the body is a JSON array")
			require.Equal(t, call.IdempotencyKey, r.Header.Get(idempotencyHeader))
		}
	}
	require.Equal(t, 1, complexReqs)
}

// The same person twice makes one contact with two leads: the second call finds the
// contact by email (or by a phone written another way) and links the lead to it.
func TestCreateLeadReusesContact(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	first, logs := newCall(t, srv, formLead())
	out1, err := invoke(t, createLeadAction, first, logs)
	require.NoError(t, err)
	require.Equal(t, true, out1[outCreated])

	for _, in := range []map[string]any{
		{"name": "Ivan", "email": "IVAN@example.ru"},
		{"name": "Ivan", "phone": "+7 999 123 45 67", "dedupe": "phone"},
	} {
		call, logs := newCall(t, srv, in)
		out, err := invoke(t, createLeadAction, call, logs)
		require.NoError(t, err)
		require.Equal(t, false, out[outCreated], "input %v", in)
		require.Equal(t, out1[outContactID], out[outContactID])
		require.NotEqual(t, out1[outID], out[outID])
	}
	require.Len(t, srv.Contacts(), 1)
	leads := srv.Leads()
	require.Len(t, leads, 3)
	for _, l := range leads {
		require.Equal(t, []int64{srv.Contacts()[0].ID}, l.ContactIDs)
	}

	// dedupe none always creates a contact.
	call, logs := newCall(t, srv, map[string]any{"name": "Ivan", "email": "ivan@example.ru", "dedupe": "none"})
	out, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Len(t, srv.Contacts(), 2)
}

// A substring hit is not a match: amoCRM's query finds ann@example.com.ru for
// ann@example.com, and the connector checks the field's whole value.
func TestCreateLeadSearchNeedsExactMatch(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	srv.AddContact("Other", "", "ann@example.com.ru")
	call, logs := newCall(t, srv, map[string]any{"name": "Ann", "email": "ann@example.com"})
	out, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, true, out[outCreated])
	require.Len(t, srv.Contacts(), 2)
}

// The fake applies the write, then drops the connection; the retry (attempt 2, same
// idempotency key) finds the lead by its tag and creates nothing more.
func TestCreateLeadRetryAfterDroppedAnswer(t *testing.T) {
	t.Parallel()
	for _, existing := range []bool{false, true} {
		t.Run(map[bool]string{false: "new contact", true: "existing contact"}[existing], func(t *testing.T) {
			t.Parallel()
			srv := amocrmtest.NewServer(t)
			if existing {
				srv.AddContact("Ivan Petrov", "+7 999 123-45-67", "")
			}
			srv.DropAfterWrite(1)
			call, logs := newCall(t, srv, formLead())
			_, err := invoke(t, createLeadAction, call, logs)
			require.Error(t, err)
			require.False(t, connectors.IsPermanent(err), "a lost answer is retryable: %v", err)
			require.Len(t, srv.Leads(), 1, "the write took effect")
			wantTag := idempotencyTag(call.IdempotencyKey)
			if existing {
				wantTag += linkedSuffix
			}
			require.Contains(t, srv.Leads()[0].Tags, wantTag)
			posts := 0
			for _, r := range srv.Requests() {
				if r.Method == http.MethodPost {
					posts++
				}
			}
			require.Equal(t, 1, posts, "nothing, not even Go's transport, re-sent the write")

			call.Attempt = 2
			out, err := invoke(t, createLeadAction, call, logs)
			require.NoError(t, err)
			require.Equal(t, true, out[outReplayed])
			require.Equal(t, !existing, out[outCreated], "created says whether the first attempt made the contact")
			leads := srv.Leads()
			require.Len(t, leads, 1, "no second lead")
			require.Len(t, srv.Contacts(), 1, "no second contact")
			require.Equal(t, leads[0].ID, out[outID])
			require.Equal(t, leads[0].ContactIDs[0], out[outContactID])
		})
	}
}

// A retry whose first attempt created nothing creates the lead.
func TestCreateLeadRetryWithoutEarlierLead(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	srv.AddLead("Someone else's", time.Now().Unix())
	call, logs := newCall(t, srv, formLead())
	call.Attempt = 3
	out, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, false, out[outReplayed])
	require.Len(t, srv.Leads(), 2)
}

// Checklist: duplicate control answers merged: true for the same phone or email.
func TestCreateLeadDuplicateControlMerged(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t, amocrmtest.WithDuplicateControl())
	call, logs := newCall(t, srv, formLead())
	out1, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)

	// Without the connector's own search, amoCRM's duplicate control joins them.
	in := formLead()
	in["dedupe"] = "none"
	call, logs = newCall(t, srv, in)
	out2, err := invoke(t, createLeadAction, call, logs)
	require.NoError(t, err)
	require.Equal(t, true, out2[outMerged])
	require.Equal(t, false, out2[outCreated])
	require.Equal(t, out1[outID], out2[outID])
	require.Len(t, srv.Leads(), 1)
}

// Checklist: a bad field_id → 400 validation-errors with path; the error is permanent and
// names the path and amoCRM's message.
func TestCreateLeadValidationError(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)
	in := formLead()
	in["custom_fields"] = map[string]any{"999999": "x"}
	call, logs := newCall(t, srv, in)
	_, err := invoke(t, createLeadAction, call, logs)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "custom_fields_values.0.field_id: The value you selected is not a valid choice. (NotSupportedChoice)")
	require.Contains(t, err.Error(), "Request validation failed")
	e, ok := asAPIError(err)
	require.True(t, ok)
	require.Equal(t, "custom_fields_values.0.field_id", e.Fields[0].Path)
	require.Empty(t, srv.Leads())
}

// Checklist: a wrong token → 401 and a blocked account → 403, both permanent with the
// API's detail; more than 7 requests a second → a non-JSON 429, retried after a second.
func TestCreateLeadErrors(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t)

	call, logs := newCall(t, srv, formLead())
	call.Connection = connection(srv, "amo-wrong-token-value-123")
	_, err := invoke(t, createLeadAction, call, logs)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "answered 401 Unauthorized: Невозможно авторизоваться")
	require.NotContains(t, err.Error(), "amo-wrong-token-value-123")

	srv.FailNext("/api/v4/contacts", 1, http.StatusTooManyRequests)
	call, logs = newCall(t, srv, formLead())
	_, err = invoke(t, createLeadAction, call, logs)
	require.False(t, connectors.IsPermanent(err))
	d, ok := connectors.RetryDelay(err)
	require.True(t, ok, "429 asks to wait: %v", err)
	require.Equal(t, time.Second, d)
	require.Empty(t, srv.Leads())

	srv.FailNext("/api/v4/leads/complex", 1, http.StatusBadGateway)
	call, logs = newCall(t, srv, formLead())
	_, err = invoke(t, createLeadAction, call, logs)
	require.False(t, connectors.IsPermanent(err))

	srv.Block(srv.Token)
	call, logs = newCall(t, srv, formLead())
	_, err = invoke(t, createLeadAction, call, logs)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "403 Forbidden: Аккаунт заблокирован")
	require.Empty(t, srv.Leads())
}

func TestCreateLeadInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{"bad phone", map[string]any{"phone": "call me"}, "phone"},
		{"bad dedupe", map[string]any{"dedupe": "name"}, "dedupe"},
		{"bad tags", map[string]any{"tags": map[string]any{"a": 1}}, "tags"},
		{"bad custom fields", map[string]any{"custom_fields": []any{"x"}}, "custom_fields[0]"},
		{"bad price", map[string]any{"price": "a lot"}, "price"},
	}
	srv := amocrmtest.NewServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			call, logs := newCall(t, srv, tt.input)
			_, err := invoke(t, createLeadAction, call, logs)
			require.Error(t, err)
			require.True(t, connectors.IsPermanent(err))
			require.Contains(t, err.Error(), tt.want)
		})
	}
	require.Empty(t, srv.Requests(), "bad inputs never reach amoCRM")
}

func TestCustomFields(t *testing.T) {
	t.Parallel()
	got, err := customFields(map[string]any{"12": []any{"a", map[string]any{"enum_id": int64(3)}}, "UTM_REFERRER": "x"}, "f")
	require.NoError(t, err)
	require.Equal(t, []map[string]any{
		{"field_id": int64(12), "values": []any{map[string]any{"value": "a"}, map[string]any{"enum_id": int64(3)}}},
		{"field_code": "UTM_REFERRER", "values": []any{map[string]any{"value": "x"}}},
	}, got)
	raw := []any{map[string]any{"field_id": int64(5), "values": []any{map[string]any{"value": true}}}}
	got, err = customFields(raw, "f")
	require.NoError(t, err)
	require.Equal(t, raw[0], got[0])
	tags, err := parseTags("a, b,,c ")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c"}, tags)
}

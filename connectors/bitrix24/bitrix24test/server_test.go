package bitrix24test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func post(t *testing.T, target, ctype, body string) reply {
	t.Helper()
	resp, err := http.Post(target, ctype, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	return reply{resp.StatusCode, resp.Header, m}
}

func postJSON(t *testing.T, s *Server, method, body string) reply {
	t.Helper()
	return post(t, s.WebhookURL()+method+".json", "application/json", body)
}

// Checklist: wrong uid or code → 401 INVALID_CREDENTIALS; unknown method → 404
// ERROR_METHOD_NOT_FOUND; the .json suffix is optional.
func TestAuthAndMethods(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	for _, path := range []string{"/rest/2/" + DefaultCode + "/profile", "/rest/1/wrongcode/profile.json"} {
		r := post(t, s.URL+path, "application/json", `{}`)
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Equal(t, map[string]any{"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}, r.body)
	}
	r := postJSON(t, s, "crm.nothing.here", `{}`)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "ERROR_METHOD_NOT_FOUND", r.body["error"])
	r = post(t, s.WebhookURL()+"profile", "application/json", `{}`)
	require.Equal(t, http.StatusOK, r.status)
	require.NotNil(t, r.body["time"])
}

// Checklist: the leaky bucket refuses above its burst with 503 QUERY_LIMIT_EXCEEDED and
// no Retry-After, and drains with time.
func TestLeakyBucket(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	s := NewServer(t, Options{Burst: 3, DrainPerSecond: 2, Now: func() time.Time { return now }})
	for range 3 {
		require.Equal(t, http.StatusOK, postJSON(t, s, "profile", `{}`).status)
	}
	r := postJSON(t, s, "profile", `{}`)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, "QUERY_LIMIT_EXCEEDED", r.body["error"])
	require.Empty(t, r.header.Get("Retry-After"))
	now = now.Add(time.Second) // two drained
	require.Equal(t, http.StatusOK, postJSON(t, s, "profile", `{}`).status)
	require.Equal(t, http.StatusOK, postJSON(t, s, "profile", `{}`).status)
	require.Equal(t, http.StatusServiceUnavailable, postJSON(t, s, "profile", `{}`).status)
}

// Checklist: crm.lead.add takes JSON and form bodies → 200 {"result":<int>,"time":{…}};
// the permission case → 400 {"error":"","error_description":"Access denied."}.
func TestLeadAdd(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	r := postJSON(t, s, "crm.lead.add", `{"fields":{"TITLE":"From JSON","PHONE":[{"VALUE":"+79991234567","VALUE_TYPE":"WORK"}]}}`)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, float64(1), r.body["result"])
	require.Contains(t, r.body["time"], "operating_reset_at")

	form := url.Values{"fields[TITLE]": {"From a form"}, "fields[PHONE][0][VALUE]": {"+79990000000"},
		"fields[PHONE][0][VALUE_TYPE]": {"MOBILE"}, "fields[EMAIL][0][VALUE]": {"a@example.com"}}
	r = post(t, s.WebhookURL()+"crm.lead.add", "application/x-www-form-urlencoded", form.Encode())
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, float64(2), r.body["result"])
	leads := s.Leads()
	require.Len(t, leads, 2)
	require.Equal(t, "From a form", leads[1]["TITLE"])
	require.Equal(t, "+79990000000", leads[1]["PHONE"].([]any)[0].(map[string]any)["VALUE"])
	require.Equal(t, "MOBILE", leads[1]["PHONE"].([]any)[0].(map[string]any)["VALUE_TYPE"])
	require.Equal(t, "WORK", leads[1]["EMAIL"].([]any)[0].(map[string]any)["VALUE_TYPE"])

	s.Deny("crm.lead.add")
	r = postJSON(t, s, "crm.lead.add", `{"fields":{"TITLE":"x"}}`)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, map[string]any{"error": "", "error_description": "Access denied."}, r.body)
}

// Checklist: crm.lead.list filters by >ID and >DATE_CREATE, orders, pages by a fixed 50
// with next and total (next absent on the last page), start=-1 drops both, and PHONE and
// EMAIL come back only when selected.
func TestLeadList(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Hour)
	s := NewServer(t, Options{Burst: 1000, Now: func() time.Time { return now }})
	for i := range 120 {
		if i == 100 {
			now = now.Add(time.Hour)
		}
		s.AddLead(map[string]any{"TITLE": "Lead", "PHONE": []any{map[string]any{"VALUE": "+7999", "VALUE_TYPE": "WORK"}}})
	}
	r := postJSON(t, s, "crm.lead.list", `{"filter":{">ID":10},"order":{"ID":"ASC"}}`)
	require.Len(t, r.body["result"], 50)
	require.Equal(t, float64(50), r.body["next"])
	require.Equal(t, float64(110), r.body["total"])
	first := r.body["result"].([]any)[0].(map[string]any)
	require.Equal(t, "11", first["ID"])
	require.NotContains(t, first, "PHONE", "multi-fields only when selected")

	r = postJSON(t, s, "crm.lead.list", `{"filter":{">ID":10},"order":{"ID":"ASC"},"start":100}`)
	require.Len(t, r.body["result"], 10)
	require.NotContains(t, r.body, "next", "no next on the last page")
	require.Equal(t, float64(110), r.body["total"])

	r = postJSON(t, s, "crm.lead.list", `{"filter":{">ID":10},"order":{"ID":"DESC"},"select":["ID","PHONE"],"start":-1}`)
	require.NotContains(t, r.body, "next")
	require.NotContains(t, r.body, "total")
	first = r.body["result"].([]any)[0].(map[string]any)
	require.Equal(t, "120", first["ID"])
	require.Contains(t, first, "PHONE")
	require.NotContains(t, first, "TITLE")

	// Half an hour after the first hour's leads, written in +01:00.
	since := now.Add(-30 * time.Minute).In(time.FixedZone("", 3600)).Format(time.RFC3339)
	r = postJSON(t, s, "crm.lead.list", `{"filter":{">DATE_CREATE":"`+since+`"}}`)
	require.Equal(t, float64(20), r.body["total"], "the offset is honoured")
}

// crm.duplicate.findbycomm matches phones by digits and emails case-blind, and answers
// [] when nothing matches.
func TestFindByComm(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	s.AddContact(map[string]any{"PHONE": []any{map[string]any{"VALUE": "+7 (999) 123-45-67"}}, "EMAIL": []any{map[string]any{"VALUE": "Ann@Example.com"}}})
	r := postJSON(t, s, "crm.duplicate.findbycomm", `{"entity_type":"CONTACT","type":"PHONE","values":["+79991234567"]}`)
	require.Equal(t, map[string]any{"CONTACT": []any{float64(1)}}, r.body["result"])
	r = postJSON(t, s, "crm.duplicate.findbycomm", `{"entity_type":"CONTACT","type":"EMAIL","values":["ann@example.com"]}`)
	require.Equal(t, map[string]any{"CONTACT": []any{float64(1)}}, r.body["result"])
	r = postJSON(t, s, "crm.duplicate.findbycomm", `{"entity_type":"LEAD","type":"EMAIL","values":["ann@example.com"]}`)
	require.Equal(t, []any{}, r.body["result"])
}

// DropAfterWrite stores the lead and closes the connection without an answer.
func TestDropAfterWrite(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	s.DropAfterWrite("crm.lead.add", 1)
	_, err := http.Post(s.WebhookURL()+"crm.lead.add.json", "application/json", strings.NewReader(`{"fields":{"TITLE":"x"}}`))
	require.Error(t, err)
	require.Len(t, s.Leads(), 1)
	require.Equal(t, http.StatusOK, postJSON(t, s, "crm.lead.add", `{"fields":{"TITLE":"y"}}`).status)
	require.Len(t, s.Leads(), 2)
}

// Checklist: the event emitter posts event=ONCRMLEADADD&data[FIELDS][ID]=…&auth[application_token]=….
func TestEventBody(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	body := s.EventBody(Event{Name: "ONCRMLEADADD", ID: 1000983, HandlerID: 711, ApplicationToken: "51856fefc120afa4b628cc82d3935cce", TS: 1742807199})
	require.True(t, strings.HasPrefix(body, "event=ONCRMLEADADD&event_handler_id=711&data%5BFIELDS%5D%5BID%5D=1000983&ts=1742807199&"), body)
	v, err := url.ParseQuery(body)
	require.NoError(t, err)
	require.Equal(t, "51856fefc120afa4b628cc82d3935cce", v.Get("auth[application_token]"))
	nested := ParseNested(v)
	require.Equal(t, "1000983", nested["data"].(map[string]any)["FIELDS"].(map[string]any)["ID"])
}

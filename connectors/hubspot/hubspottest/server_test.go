package hubspottest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// call sends one request with token (""; none) and decodes the JSON answer.
func call(t *testing.T, s *Server, method, path, token string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	return reply{Status: res.StatusCode, Header: res.Header, Body: m}
}

func contact(email string) map[string]any {
	return map[string]any{"properties": map[string]any{"email": email, "firstname": "Ann"}}
}

// Checklist: missing or bad Bearer → 401 INVALID_AUTHENTICATION.
func TestAuth(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	for _, token := range []string{"", "pat-wrong"} {
		r := call(t, s, http.MethodPost, "/crm/v3/objects/contacts", token, contact("a@example.com"))
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.Equal(t, "error", r.Body["status"])
		require.Equal(t, "INVALID_AUTHENTICATION", r.Body["category"])
	}
	require.Empty(t, s.Contacts())
}

// Checklist: rate headers on every normal answer; 429 RATE_LIMIT with policyName past
// the limit; search answers carry none and have their own 5/s limit.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Hour)
	s := NewServer(t, WithRateLimit(2, 10*time.Second), WithClock(func() time.Time { return now }))
	r := call(t, s, http.MethodPost, "/crm/v3/objects/contacts", s.Token, contact("a@example.com"))
	require.Equal(t, http.StatusCreated, r.Status)
	for _, h := range []string{"Daily", "Daily-Remaining", "Interval-Milliseconds", "Max", "Remaining"} {
		require.NotEmpty(t, r.Header.Get("X-HubSpot-RateLimit-"+h), h)
	}
	require.Equal(t, "10000", r.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
	require.Equal(t, "1", r.Header.Get("X-HubSpot-RateLimit-Remaining"))
	call(t, s, http.MethodGet, "/crm/v3/objects/contacts?limit=1", s.Token, nil)
	r = call(t, s, http.MethodGet, "/crm/v3/objects/contacts?limit=1", s.Token, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "RATE_LIMIT", r.Body["errorType"])
	require.Equal(t, "TEN_SECONDLY_ROLLING", r.Body["policyName"])
	require.Equal(t, "0", r.Header.Get("X-HubSpot-RateLimit-Remaining"))

	for i := range SearchPerSecondDefault + 1 {
		r = call(t, s, http.MethodPost, "/crm/v3/objects/contacts/search", s.Token, map[string]any{})
		require.Empty(t, r.Header.Get("X-HubSpot-RateLimit-Remaining"), "search answers have no rate headers")
		if i < SearchPerSecondDefault {
			require.Equal(t, http.StatusOK, r.Status, "search %d", i)
		}
	}
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "SECONDLY", r.Body["policyName"])
	now = now.Add(time.Second)
	r = call(t, s, http.MethodPost, "/crm/v3/objects/contacts/search", s.Token, map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "the secondly window has passed")
}

// Checklist: POST contacts → 201 with a string id and createdate; the same email → 409
// CONFLICT naming the existing id; an invalid email → 400 VALIDATION_ERROR with errors[];
// POST deals → 201.
func TestContactsAndDeals(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	r := call(t, s, http.MethodPost, "/crm/v3/objects/contacts", s.Token, contact("Ann@Example.com"))
	require.Equal(t, http.StatusCreated, r.Status)
	id, ok := r.Body["id"].(string)
	require.True(t, ok)
	require.NotEmpty(t, r.Body["properties"].(map[string]any)["createdate"])

	r = call(t, s, http.MethodPost, "/crm/v3/objects/contacts", s.Token, contact("ann@example.com"))
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "CONFLICT", r.Body["category"])
	require.Equal(t, "Contact already exists. Existing ID: "+id, r.Body["message"])

	r = call(t, s, http.MethodPost, "/crm/v3/objects/contacts", s.Token, contact("nope"))
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, "VALIDATION_ERROR", r.Body["category"])
	errs := r.Body["errors"].([]any)
	require.Len(t, errs, 1)
	require.Equal(t, "INVALID_EMAIL", errs[0].(map[string]any)["code"])

	r = call(t, s, http.MethodPatch, "/crm/v3/objects/contacts/"+id, s.Token, map[string]any{"properties": map[string]any{"lastname": "Lee"}})
	require.Equal(t, http.StatusOK, r.Status)
	r = call(t, s, http.MethodPatch, "/crm/v3/objects/contacts/999999", s.Token, map[string]any{"properties": map[string]any{}})
	require.Equal(t, http.StatusNotFound, r.Status)
	require.Equal(t, "OBJECT_NOT_FOUND", r.Body["category"])

	r = call(t, s, http.MethodPost, "/crm/v3/objects/deals", s.Token, map[string]any{
		"properties":   map[string]any{"dealname": "D", "amount": "10", "dealstage": "appointmentscheduled"},
		"associations": []any{map[string]any{"to": map[string]any{"id": id}, "types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}}}},
	})
	require.Equal(t, http.StatusCreated, r.Status)
	require.Equal(t, []string{id}, s.Deals()[0].Contacts)
	require.Equal(t, "default", s.Deals()[0].Properties["pipeline"])
}

// Checklist: search with GT/GTE/LT/EQ on createdate, ASC/DESC sorts, limit ≤ 200, the
// after cursor, paging absent at the end, total.
func TestSearch(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithSearchLimit(0))
	base := time.Now().UTC().Truncate(time.Hour)
	var ids []string
	for i := range 5 {
		ids = append(ids, s.AddContact(map[string]string{"email": fmt.Sprintf("c%d@example.com", i)}, base.Add(time.Duration(i)*time.Minute)))
	}
	ms := func(i int) string { return fmt.Sprint(base.Add(time.Duration(i) * time.Minute).UnixMilli()) }
	search := func(op, value, dir string, limit int, after string) reply {
		body := map[string]any{
			"filterGroups": []any{map[string]any{"filters": []any{map[string]any{"propertyName": "createdate", "operator": op, "value": value}}}},
			"sorts":        []any{map[string]any{"propertyName": "createdate", "direction": dir}},
			"limit":        limit, "properties": []any{"email"},
		}
		if after != "" {
			body["after"] = after
		}
		return call(t, s, http.MethodPost, "/crm/v3/objects/contacts/search", s.Token, body)
	}
	got := func(r reply) []string {
		var out []string
		for _, x := range r.Body["results"].([]any) {
			out = append(out, x.(map[string]any)["id"].(string))
		}
		return out
	}
	r := search("GT", ms(2), "ASCENDING", 10, "")
	require.Equal(t, ids[3:], got(r))
	require.Nil(t, r.Body["paging"], "paging is absent on the last page")
	require.EqualValues(t, 2, r.Body["total"])
	require.Equal(t, ids[2:], got(search("GTE", ms(2), "ASCENDING", 10, "")))
	require.Equal(t, []string{ids[1], ids[0]}, got(search("LT", ms(2), "DESCENDING", 10, "")))
	require.Equal(t, []string{ids[4]}, got(search("EQ", base.Add(4*time.Minute).Format(time.RFC3339), "ASCENDING", 10, "")), "ISO dates too")

	r = search("GTE", ms(0), "ASCENDING", 2, "")
	require.Equal(t, ids[:2], got(r))
	next := r.Body["paging"].(map[string]any)["next"].(map[string]any)["after"].(string)
	r = search("GTE", ms(0), "ASCENDING", 2, next)
	require.Equal(t, ids[2:4], got(r))
	require.NotNil(t, r.Body["paging"])
	r = search("GTE", ms(0), "ASCENDING", 2, "4")
	require.Equal(t, ids[4:], got(r))
	require.Nil(t, r.Body["paging"])

	r = search("GTE", ms(0), "ASCENDING", SearchLimitMax+1, "")
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, r.Body["message"], "limit")
}

// DropNext applies the write and closes the connection without an answer.
func TestDropNext(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.DropNext(OpCreateDeal, 1)
	data, _ := json.Marshal(map[string]any{"properties": map[string]any{"dealname": "D"}})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/crm/v3/objects/deals", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
	}
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset"), err.Error())
	require.Len(t, s.Deals(), 1)
}

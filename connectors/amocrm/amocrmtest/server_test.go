package amocrmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type answer struct {
	status int
	ctype  string
	body   string
}

func do(t *testing.T, s *Server, method, path, token, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

// fixedClock keeps the rate window from moving during a test.
func fixedClock() func() time.Time {
	now := time.Unix(1700000000, 0)
	return func() time.Time { return now }
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	for _, token := range []string{"", "wrong"} {
		a := do(t, s, http.MethodGet, "/api/v4/account", token, "")
		require.Equal(t, http.StatusUnauthorized, a.status)
		require.Equal(t, "application/problem+json", a.ctype)
		require.Contains(t, a.body, `"status":401`)
		require.Contains(t, a.body, `"detail"`)
	}
	s.Block(s.Token)
	a := do(t, s, http.MethodGet, "/api/v4/account", s.Token, "")
	require.Equal(t, http.StatusForbidden, a.status)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithClock(fixedClock()))
	for range RateLimitDefault {
		require.Equal(t, http.StatusOK, do(t, s, http.MethodGet, "/api/v4/account", s.Token, "").status)
	}
	a := do(t, s, http.MethodGet, "/api/v4/account", s.Token, "")
	require.Equal(t, http.StatusTooManyRequests, a.status)
	require.False(t, json.Valid([]byte(a.body)), "amoCRM's 429 is not JSON")
	require.Equal(t, 1, s.RateLimited())
}

func TestLeadsAndComplex(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithRateLimit(0))
	c := s.AddContact("Ann", "+79990000000", "")
	a := do(t, s, http.MethodPost, "/api/v4/leads", s.Token, fmt.Sprintf(`[{"name":"A","_embedded":{"contacts":[{"id":%d}]}}]`, c.ID))
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Equal(t, "application/hal+json", a.ctype)
	var hal struct {
		Embedded struct {
			Leads []struct {
				ID        int64  `json:"id"`
				RequestID string `json:"request_id"`
			} `json:"leads"`
		} `json:"_embedded"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &hal))
	require.Len(t, hal.Embedded.Leads, 1)
	require.Equal(t, "0", hal.Embedded.Leads[0].RequestID)

	a = do(t, s, http.MethodPost, "/api/v4/leads/complex", s.Token,
		`[{"name":"B","request_id":"k1","_embedded":{"contacts":[{"first_name":"Bob","custom_fields_values":[{"field_code":"EMAIL","values":[{"value":"b@x.ru"}]}]}]}}]`)
	require.Equal(t, http.StatusOK, a.status, a.body)
	var complexAns []map[string]any
	require.NoError(t, json.Unmarshal([]byte(a.body), &complexAns))
	require.Equal(t, []any{"k1"}, complexAns[0]["request_id"])
	require.Equal(t, false, complexAns[0]["merged"])
	require.NotNil(t, complexAns[0]["contact_id"])

	many := "[" + strings.TrimSuffix(strings.Repeat(`{"name":"x"},`, MaxComplexLeads+1), ",") + "]"
	a = do(t, s, http.MethodPost, "/api/v4/leads/complex", s.Token, many)
	require.Equal(t, http.StatusBadRequest, a.status)

	a = do(t, s, http.MethodPost, "/api/v4/leads", s.Token, `[{"name":"C","custom_fields_values":[{"field_id":5,"values":[{"value":"x"}]}]}]`)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Contains(t, a.body, `"path":"custom_fields_values.0.field_id"`)
	require.Contains(t, a.body, `"validation-errors"`)
}

func TestListLeads(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithRateLimit(0))
	a := do(t, s, http.MethodGet, "/api/v4/leads", s.Token, "")
	require.Equal(t, http.StatusNoContent, a.status)
	require.Empty(t, a.body)
	for i := range 260 {
		s.AddLead("L", 1700000000+int64(i))
	}
	a = do(t, s, http.MethodGet, "/api/v4/leads?limit=500&order[created_at]=desc", s.Token, "")
	require.Equal(t, http.StatusOK, a.status)
	var page struct {
		Page  int `json:"_page"`
		Links struct {
			Next *struct{ Href string } `json:"next"`
		} `json:"_links"`
		Embedded struct {
			Leads []map[string]any `json:"leads"`
		} `json:"_embedded"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &page))
	require.Len(t, page.Embedded.Leads, MaxLimit, "limit is capped at 250")
	require.EqualValues(t, 1700000259, page.Embedded.Leads[0]["created_at"])
	require.NotNil(t, page.Links.Next)
	next, err := url.Parse(page.Links.Next.Href)
	require.NoError(t, err)
	require.Equal(t, "2", next.Query().Get("page"))

	a = do(t, s, http.MethodGet, "/api/v4/leads?limit=250&page=2&filter[created_at][from]=1700000000", s.Token, "")
	page.Links.Next = nil
	require.NoError(t, json.Unmarshal([]byte(a.body), &page))
	require.Len(t, page.Embedded.Leads, 10)
	require.Nil(t, page.Links.Next, "no next on the last page")
	a = do(t, s, http.MethodGet, "/api/v4/leads?filter[created_at][from]=1800000000", s.Token, "")
	require.Equal(t, http.StatusNoContent, a.status)
}

func TestDropAfterWrite(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.DropAfterWrite(1)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/api/v4/leads/complex", strings.NewReader(`[{"name":"x"}]`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err, "the connection is closed without an answer")
	require.Len(t, s.Leads(), 1, "the write took effect")
}

func TestWebhookForm(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	l := s.AddLead("Order #1", 1700000000)
	var got url.Values
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		require.NoError(t, r.ParseForm())
		got = r.PostForm
	}))
	defer target.Close()
	status, err := s.SendWebhook(t.Context(), target.URL, "add", l)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, fmt.Sprint(l.ID), got.Get("leads[add][0][id]"))
	require.Equal(t, "Order #1", got.Get("leads[add][0][name]"))
	require.Equal(t, "fake", got.Get("account[subdomain]"))
}

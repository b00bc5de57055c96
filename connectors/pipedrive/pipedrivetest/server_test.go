package pipedrivetest

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// do sends a request to the fake and decodes its JSON answer.
func do(t *testing.T, s *Server, method, path, body string, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res, out
}

func auth(s *Server) map[string]string { return map[string]string{"x-api-token": s.Token} }

// TestAuth: the header and the legacy query are accepted; a bad or missing token and an
// unrouted path get the same 401 body; every answer carries the rate headers.
func TestAuth(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	res, body := do(t, s, "GET", "/v1/users/me", "", auth(s))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, true, body["success"])
	res, _ = do(t, s, "GET", "/v1/users/me?api_token="+s.Token, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	want := map[string]any{"success": false, "error": "unauthorized access", "errorCode": float64(401),
		"error_info": "Please check developers.pipedrive.com"}
	for _, c := range []struct {
		path   string
		header map[string]string
	}{{"/v1/users/me", nil}, {"/v1/users/me", map[string]string{"x-api-token": "nope-nope"}}, {"/v1/nowhere", auth(s)}} {
		res, body = do(t, s, "GET", c.path, "", c.header)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		require.Equal(t, want, body)
		for _, h := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} {
			require.NotEmpty(t, res.Header.Get(h), h)
		}
	}
}

// TestRateLimit: over the limit in a 2-second window → 429 with Retry-After; the next
// window is open again.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Hour)
	s := NewServer(t, WithRateLimit(2), WithClock(func() time.Time { return now }))
	for i := range 2 {
		res, _ := do(t, s, "GET", "/v1/users/me", "", auth(s))
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "2", res.Header.Get("x-ratelimit-limit"))
		require.Equal(t, []string{"1", "0"}[i], res.Header.Get("x-ratelimit-remaining"))
	}
	now = now.Add(500 * time.Millisecond)
	res, body := do(t, s, "GET", "/v1/users/me", "", auth(s))
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.Equal(t, "2", res.Header.Get("Retry-After"))
	require.Equal(t, false, body["success"])
	now = now.Add(2 * time.Second)
	res, _ = do(t, s, "GET", "/v1/users/me", "", auth(s))
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// TestCreations: persons (arrays, missing name), leads (person or organization, value
// with currency, UUID, source_name) and deals.
func TestCreations(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	res, body := do(t, s, "POST", "/v1/persons", `{"name":"Ann","email":"ann@example.com","phone":["+79991234567"]}`, auth(s))
	require.Equal(t, http.StatusCreated, res.StatusCode)
	data := body["data"].(map[string]any)
	require.IsType(t, float64(0), data["id"])
	require.Equal(t, []any{map[string]any{"label": "", "value": "ann@example.com", "primary": true}}, data["email"])
	require.Equal(t, "+79991234567", data["phone"].([]any)[0].(map[string]any)["value"])
	pid := int64(data["id"].(float64))

	res, body = do(t, s, "POST", "/v1/persons", `{"email":"x@example.com"}`, auth(s))
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Equal(t, false, body["success"])
	require.NotEmpty(t, body["error"])

	for _, bad := range []string{`{"title":"x"}`, `{"title":"x","person_id":` + jsonInt(pid) + `,"value":{"amount":5}}`} {
		res, body = do(t, s, "POST", "/v1/leads", bad, auth(s))
		require.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		require.Equal(t, false, body["success"])
	}
	res, body = do(t, s, "POST", "/v1/leads", `{"title":"x","person_id":`+jsonInt(pid)+`,"value":{"amount":5,"currency":"EUR"}}`, auth(s))
	require.Equal(t, http.StatusCreated, res.StatusCode)
	lead := body["data"].(map[string]any)
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), lead["id"])
	require.Equal(t, "API", lead["source_name"])
	res, _ = do(t, s, "POST", "/v1/leads", `{"title":"org only","organization_id":5}`, auth(s))
	require.Equal(t, http.StatusCreated, res.StatusCode)

	res, body = do(t, s, "POST", "/v1/deals", `{"title":"Deal","value":10,"currency":"EUR"}`, auth(s))
	require.Equal(t, http.StatusCreated, res.StatusCode)
	require.IsType(t, float64(0), body["data"].(map[string]any)["id"])
	res, _ = do(t, s, "POST", "/v1/deals", `{"value":10}`, auth(s))
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestPaging: v1 start/limit/sort with additional_data.pagination, and the v2 cursor.
func TestPaging(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	base := time.Now().UTC().Truncate(time.Hour)
	var ids []float64
	for i := range 5 {
		ids = append(ids, float64(s.AddDeal(Deal{Title: "d", AddTime: base.Add(time.Duration(i) * time.Minute)})))
	}
	var got []float64
	start := "0"
	for start != "" {
		res, body := do(t, s, "GET", "/v1/deals?limit=2&sort=add_time%20DESC&start="+start, "", auth(s))
		require.Equal(t, http.StatusOK, res.StatusCode)
		for _, d := range body["data"].([]any) {
			got = append(got, d.(map[string]any)["id"].(float64))
		}
		pg := body["additional_data"].(map[string]any)["pagination"].(map[string]any)
		require.EqualValues(t, 2, pg["limit"])
		start = ""
		if pg["more_items_in_collection"] == true {
			start = jsonInt(int64(pg["next_start"].(float64)))
		}
	}
	require.Equal(t, []float64{ids[4], ids[3], ids[2], ids[1], ids[0]}, got)

	got = nil
	cursor := ""
	for {
		path := "/api/v2/deals?limit=2&sort_by=add_time&sort_direction=asc"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res, body := do(t, s, "GET", path, "", auth(s))
		require.Equal(t, http.StatusOK, res.StatusCode)
		for _, d := range body["data"].([]any) {
			got = append(got, d.(map[string]any)["id"].(float64))
		}
		next := body["additional_data"].(map[string]any)["next_cursor"]
		if next == nil {
			break
		}
		cursor = next.(string)
	}
	require.Equal(t, ids, got)
}

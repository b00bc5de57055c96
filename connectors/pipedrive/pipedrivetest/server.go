// Package pipedrivetest is a fake Pipedrive API server for tests. It runs on a loopback
// httptest server and reproduces the behaviours of the real API that connectors must
// handle (docs: the "Pipedrive fake" checklist of the service contracts, services.md §5):
//
//   - the API token in the x-api-token header or the legacy ?api_token= query; a bad or
//     missing token, or an unrouted path, answers 401 {"success":false,"error":
//     "unauthorized access","errorCode":401,"error_info":"Please check developers.pipedrive.com"};
//   - x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset on every response,
//     and 429 with Retry-After once a token makes more requests in a 2-second window
//     than its limit;
//   - POST /v1/persons (201, int id, email and phone made arrays; no name: 400),
//     GET /v1/persons/search (term, fields, exact_match), GET /v1/persons/{id};
//   - POST /v1/leads (201, UUID id, source_name "API"; 400 without person_id or
//     organization_id, or with a value lacking its currency), GET /v1/leads;
//   - POST /v1/deals (201, int id), GET /v1/deals (start, limit, sort "add_time DESC",
//     additional_data.pagination) and GET /api/v2/deals (cursor, next_cursor,
//     sort_by, sort_direction, updated_since, person_id, org_id);
//   - GET /v1/users/me;
//   - scripted failures (FailNext) and dropped connections (DropNext: the write is
//     applied, then the connection is closed without an answer, the "unknown outcome").
//
// Everything the fake receives is recorded for assertions (Requests).
//
// Differences from the real service, on purpose: search is not eventually consistent
// (the real index lags a few seconds behind writes); there is no daily token budget;
// persons, leads and deals are the only entities; and error texts are close to, not
// copies of, Pipedrive's.
//
// The package is for tests only: production code must not import it.
package pipedrivetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the API token a Server accepts unless WithToken sets another.
const DefaultToken = "pd-fake-api-token-0123456789abcdef"

// Defaults of the rate limiter.
const (
	// RateWindow is Pipedrive's burst window.
	RateWindow = 2 * time.Second
	// RateLimitDefault is the requests per window of the Essential plan with an API token.
	RateLimitDefault = 20
)

// Option configures a Server.
type Option func(*Server)

// WithToken makes the server accept token instead of DefaultToken.
func WithToken(token string) Option { return func(s *Server) { s.Token = token } }

// WithRateLimit sets the requests allowed per 2-second window (0: no limit).
func WithRateLimit(n int) Option { return func(s *Server) { s.rateLimit = n } }

// WithClock makes the server read the time from now: add_time of new records and the
// rate window.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  string
	// Body is the JSON body, decoded (numbers as json.Number), or nil.
	Body map[string]any
	// Header holds the request's headers.
	Header http.Header
	// Status is the answer's status; 0 for a dropped connection.
	Status int
}

type script struct {
	method, path string
	count        int
	status       int
	message      string
	retryAfter   int
	drop         bool
}

// Server is a fake Pipedrive API.
type Server struct {
	*httptest.Server
	// Token is the API token the server accepts.
	Token string

	now       func() time.Time
	rateLimit int

	mu          sync.Mutex
	requests    []Request
	scripts     []*script
	windowStart time.Time
	windowCount int
	nextID      int64
	persons     []*Person
	leads       []*Lead
	deals       []*Deal
}

// NewServer starts a fake Pipedrive on loopback, closed when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{Token: DefaultToken, now: time.Now, rateLimit: RateLimitDefault, nextID: 100}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Requests returns what the fake received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// FailNext makes the next count requests to method and path ("" for any) answer status
// with message as Pipedrive's error; a 429 carries Retry-After: retryAfter.
func (s *Server) FailNext(method, path string, count, status int, message string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, &script{method: method, path: path, count: count, status: status, message: message, retryAfter: retryAfter})
}

// DropNext makes the next count requests to method and path be applied as usual, and
// then their connection closed without an answer: the client cannot know the outcome.
func (s *Server) DropNext(method, path string, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, &script{method: method, path: path, count: count, drop: true})
}

// takeScript returns the first live script matching the request, using one of its count.
func (s *Server) takeScript(method, path string) *script {
	for _, sc := range s.scripts {
		if sc.count > 0 && (sc.method == "" || sc.method == method) && (sc.path == "" || sc.path == path) {
			sc.count--
			return sc
		}
	}
	return nil
}

// envelope writes Pipedrive's JSON envelope.
func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"success": false, "error": message,
		"error_info": "Please check developers.pipedrive.com", "data": nil, "additional_data": nil})
}

func writeUnauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "error": "unauthorized access",
		"errorCode": 401, "error_info": "Please check developers.pipedrive.com"})
}

// routeFunc handles one routed request; it runs with s.mu held and returns the status
// and body to send.
type routeFunc func(s *Server, r *http.Request, body map[string]any, id string) (int, any)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if r.Body != nil {
		raw, _ := io.ReadAll(r.Body)
		if len(strings.TrimSpace(string(raw))) > 0 {
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil {
				body = nil
				s.record(r, nil, http.StatusBadRequest)
				writeError(w, http.StatusBadRequest, "Invalid JSON body")
				return
			}
		}
	}

	s.mu.Lock()
	now := s.now()
	// The rate limit counts every request of the token, refused or not.
	if now.Sub(s.windowStart) >= RateWindow || s.windowStart.IsZero() {
		s.windowStart, s.windowCount = now, 0
	}
	s.windowCount++
	reset := s.windowStart.Add(RateWindow).Sub(now)
	resetSecs := int((reset + time.Second - 1) / time.Second)
	if resetSecs < 1 {
		resetSecs = 1
	}
	h := w.Header()
	if s.rateLimit > 0 {
		h.Set("x-ratelimit-limit", strconv.Itoa(s.rateLimit))
		h.Set("x-ratelimit-remaining", strconv.Itoa(max(s.rateLimit-s.windowCount, 0)))
		h.Set("x-ratelimit-reset", strconv.Itoa(resetSecs))
	}
	if s.rateLimit > 0 && s.windowCount > s.rateLimit {
		s.recordLocked(r, body, http.StatusTooManyRequests)
		s.mu.Unlock()
		h.Set("Retry-After", strconv.Itoa(resetSecs))
		writeError(w, http.StatusTooManyRequests, "Request over limit")
		return
	}

	token := r.Header.Get("x-api-token")
	if token == "" {
		token = r.URL.Query().Get("api_token")
	}
	handler, id := route(r.Method, r.URL.Path)
	if token != s.Token || handler == nil {
		s.recordLocked(r, body, http.StatusUnauthorized)
		s.mu.Unlock()
		writeUnauthorized(w)
		return
	}
	if sc := s.takeScript(r.Method, r.URL.Path); sc != nil && !sc.drop {
		s.recordLocked(r, body, sc.status)
		s.mu.Unlock()
		if sc.status == http.StatusTooManyRequests {
			h.Set("Retry-After", strconv.Itoa(sc.retryAfter))
		}
		writeError(w, sc.status, sc.message)
		return
	} else if sc != nil {
		handler(s, r, body, id) // applied, then the answer is lost
		s.recordLocked(r, body, 0)
		s.mu.Unlock()
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("pipedrivetest: the response writer cannot be hijacked")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	status, out := handler(s, r, body, id)
	s.recordLocked(r, body, status)
	s.mu.Unlock()
	writeJSON(w, status, out)
}

func (s *Server) record(r *http.Request, body map[string]any, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(r, body, status)
}

func (s *Server) recordLocked(r *http.Request, body map[string]any, status int) {
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Body: body, Header: r.Header.Clone(), Status: status})
}

// route finds the handler of a request and the id in its path, if any.
func route(method, path string) (routeFunc, string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "users" && parts[2] == "me" && method == http.MethodGet:
		return (*Server).usersMe, ""
	case len(parts) == 2 && parts[0] == "v1":
		switch {
		case parts[1] == "persons" && method == http.MethodPost:
			return (*Server).addPerson, ""
		case parts[1] == "persons" && method == http.MethodGet:
			return (*Server).listPersons, ""
		case parts[1] == "leads" && method == http.MethodPost:
			return (*Server).addLead, ""
		case parts[1] == "leads" && method == http.MethodGet:
			return (*Server).listLeads, ""
		case parts[1] == "deals" && method == http.MethodPost:
			return (*Server).addDeal, ""
		case parts[1] == "deals" && method == http.MethodGet:
			return (*Server).listDealsV1, ""
		}
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "persons" && method == http.MethodGet:
		if parts[2] == "search" {
			return (*Server).searchPersons, ""
		}
		return (*Server).getPerson, parts[2]
	case len(parts) == 3 && parts[0] == "api" && parts[1] == "v2" && parts[2] == "deals" && method == http.MethodGet:
		return (*Server).listDealsV2, ""
	}
	return nil, ""
}

func (s *Server) usersMe(*http.Request, map[string]any, string) (int, any) {
	return http.StatusOK, map[string]any{"success": true, "data": map[string]any{
		"id": 1, "name": "Fake Admin", "email": "admin@example.com", "company_id": 7, "company_domain": "fakeco"}}
}

// v1Time is how v1 writes times: UTC, without a zone.
const v1Time = "2006-01-02 15:04:05"

// paginate cuts items by the v1 start and limit parameters.
func paginate[T any](items []T, q map[string][]string) ([]T, map[string]any, error) {
	start, limit := 0, 100
	if v := first(q, "start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, nil, fmt.Errorf("start must be a non-negative integer")
		}
		start = n
	}
	if v := first(q, "limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("limit must be a positive integer")
		}
		limit = min(n, 500)
	}
	end := min(start+limit, len(items))
	page := []T{}
	if start < len(items) {
		page = items[start:end]
	}
	more := end < len(items)
	pg := map[string]any{"start": start, "limit": limit, "more_items_in_collection": more}
	if more {
		pg["next_start"] = end
	}
	return page, pg, nil
}

func first(q map[string][]string, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

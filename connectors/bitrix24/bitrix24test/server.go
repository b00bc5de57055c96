// Package bitrix24test is a fake Bitrix24 REST server for tests. It runs on a loopback
// httptest server and reproduces what connectors must handle of the real API (the
// "Bitrix24 fake" checklist of the service contracts, services.md §3):
//
//   - inbound-webhook URLs, /rest/{user}/{code}/{method} with an optional .json suffix,
//     taking parameters as a JSON body, a form body with nested keys
//     (fields[PHONE][0][VALUE]=…) or a query string;
//   - a wrong user or code (401 INVALID_CREDENTIALS) and an unknown method (404
//     ERROR_METHOD_NOT_FOUND);
//   - the leaky bucket: a request counter that drains DrainPerSecond a second and refuses
//     requests above Burst with 503 QUERY_LIMIT_EXCEEDED and no Retry-After;
//   - crm.lead.add, crm.contact.add, crm.lead.list and crm.contact.list (filter prefixes
//     >, >=, <, <=, ! and exact match; order; a fixed page of 50; next and total omitted on
//     the last page; start=-1 without them; PHONE and EMAIL only when selected),
//     crm.duplicate.findbycomm, crm.timeline.comment.add and .list, and profile;
//   - the permission case, 400 {"error":"","error_description":"Access denied."}, per
//     method (Deny);
//   - a write applied and its answer lost: DropAfterWrite makes the next call of a method
//     store its record, then hijack and close the connection without an answer;
//   - Bitrix24's outgoing event handlers (EventBody, PostEvent): a form body with
//     event, data[FIELDS][ID] and auth[application_token].
//
// Differences from the real service, on purpose: the fake has no OAuth applications, no
// batch method and no 480-second time limit; dates are in UTC; phone numbers match on
// their digits and emails case-blind, as Bitrix24's duplicate search does, but with no
// further normalisation. Everything received is recorded (Requests).
//
// The package is for tests only: production code must not import it.
package bitrix24test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of a Server.
const (
	// DefaultUserID and DefaultCode make up the inbound webhook a Server accepts.
	DefaultUserID = "1"
	DefaultCode   = "hf7fakebitrixcode0123456"
	// BurstDefault and DrainDefault are Bitrix24's leaky bucket on most plans: 50
	// requests, draining 2 a second.
	BurstDefault = 50
	DrainDefault = 2.0
	// PageSize is the fixed page of list methods.
	PageSize = 50
)

// Options configures a Server. Zero values take the defaults.
type Options struct {
	UserID string
	Code   string
	// Burst is how many requests the bucket holds; DrainPerSecond how fast it empties.
	// A negative DrainPerSecond never drains.
	Burst          int
	DrainPerSecond float64
	// Now is the clock of DATE_CREATE, CREATED and the bucket. Default time.Now.
	Now func() time.Time
}

// Record is a stored lead, contact or comment: its fields as the fake returns them
// (ID as a string, as Bitrix24 does).
type Record map[string]any

// Request is what the fake saw of one request.
type Request struct {
	// Method is the REST method ("crm.lead.add"), "" when the path had none.
	Method string
	// HTTPMethod and ContentType are the request's.
	HTTPMethod  string
	ContentType string
	// Params are the decoded parameters.
	Params map[string]any
}

// Server is a fake Bitrix24 portal.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	level    float64 // the bucket's counter
	levelAt  time.Time
	nextID   map[string]int64 // by entity: lead, contact, comment
	records  map[string][]Record
	denied   map[string]bool
	drops    map[string]int
	requests []Request
}

// NewServer starts a fake portal, closed when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.UserID == "" {
		opts.UserID = DefaultUserID
	}
	if opts.Code == "" {
		opts.Code = DefaultCode
	}
	if opts.Burst <= 0 {
		opts.Burst = BurstDefault
	}
	if opts.DrainPerSecond == 0 {
		opts.DrainPerSecond = DrainDefault
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, nextID: map[string]int64{}, records: map[string][]Record{},
		denied: map[string]bool{}, drops: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// WebhookURL is the inbound webhook URL of the portal, with its trailing slash, as
// Bitrix24 shows it.
func (s *Server) WebhookURL() string {
	return s.URL + "/rest/" + s.opts.UserID + "/" + s.opts.Code + "/"
}

// Deny makes every call of method answer the permission case.
func (s *Server) Deny(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[method] = true
}

// DropAfterWrite makes the next n calls of a write method (crm.lead.add,
// crm.contact.add, crm.timeline.comment.add) store their record and then close the
// connection without answering, as when a network fails after the portal did the work.
func (s *Server) DropAfterWrite(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[method] += n
}

// Requests returns every request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns how many requests called method.
func (s *Server) Calls(method string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// Leads returns the stored leads, oldest first.
func (s *Server) Leads() []Record { return s.list("lead") }

// Contacts returns the stored contacts, oldest first.
func (s *Server) Contacts() []Record { return s.list("contact") }

// Comments returns the stored timeline comments, oldest first.
func (s *Server) Comments() []Record { return s.list("comment") }

func (s *Server) list(entity string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, len(s.records[entity]))
	for i, r := range s.records[entity] {
		out[i] = cloneRecord(r)
	}
	return out
}

// AddLead stores a lead as if made in the portal and returns its id.
func (s *Server) AddLead(fields map[string]any) int64 { return s.add("lead", fields) }

// AddContact stores a contact as if made in the portal and returns its id.
func (s *Server) AddContact(fields map[string]any) int64 { return s.add("contact", fields) }

func (s *Server) add(entity string, fields map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(entity, fields)
}

func (s *Server) addLocked(entity string, fields map[string]any) int64 {
	s.nextID[entity]++
	id := s.nextID[entity]
	r := Record{}
	for k, v := range fields {
		r[strings.ToUpper(k)] = v
	}
	r["ID"] = strconv.FormatInt(id, 10)
	date := s.opts.Now().UTC().Format(time.RFC3339)
	if entity == "comment" {
		r["CREATED"] = date
	} else {
		r["DATE_CREATE"] = date
	}
	s.records[entity] = append(s.records[entity], r)
	return id
}

func cloneRecord(r Record) Record {
	data, _ := json.Marshal(r)
	var out Record
	_ = json.Unmarshal(data, &out)
	return out
}

// pathPattern is /rest/{user}/{code}/{method}[.json].
var pathPattern = regexp.MustCompile(`^/rest/([^/]+)/([^/]+)/([A-Za-z0-9_.]+?)(?:\.json)?$`)

// apiError is a Bitrix24 error answer.
type apiError struct {
	status      int
	code        string
	description string
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, description: fmt.Sprintf(format, args...)}
}

var (
	errCredentials = errorf(http.StatusUnauthorized, "INVALID_CREDENTIALS", "Invalid request credentials")
	errAccess      = errorf(http.StatusBadRequest, "", "Access denied.")
	errLimit       = errorf(http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED", "Too many requests")
)

// answer is a successful call's body besides "time".
type answer struct {
	Result any
	Next   *int
	Total  *int
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	params, perr := readParams(r)
	m := pathPattern.FindStringSubmatch(r.URL.Path)
	method := ""
	if m != nil {
		method = strings.ToLower(m[3])
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: method, HTTPMethod: r.Method, ContentType: r.Header.Get("Content-Type"), Params: params})
	s.mu.Unlock()

	switch {
	case m == nil:
		writeError(w, errorf(http.StatusNotFound, "ERROR_METHOD_NOT_FOUND", "Method not found!"))
		return
	case m[1] != s.opts.UserID || m[2] != s.opts.Code:
		writeError(w, errCredentials)
		return
	case !s.take():
		writeError(w, errLimit)
		return
	case perr != nil:
		writeError(w, errorf(http.StatusBadRequest, "INVALID_REQUEST", "%s", perr.Error()))
		return
	}
	handler, ok := methods[method]
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "ERROR_METHOD_NOT_FOUND", "Method not found!"))
		return
	}
	s.mu.Lock()
	if s.denied[method] {
		s.mu.Unlock()
		writeError(w, errAccess)
		return
	}
	res, aerr := handler(s, params)
	drop := false
	if aerr == nil && s.drops[method] > 0 {
		s.drops[method]--
		drop = true
	}
	s.mu.Unlock()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if drop {
		hangUp(w)
		return
	}
	s.writeResult(w, res)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("bitrix24test: the response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// take counts one request into the leaky bucket, reporting false when it is full.
func (s *Server) take() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if !s.levelAt.IsZero() && s.opts.DrainPerSecond > 0 {
		s.level -= now.Sub(s.levelAt).Seconds() * s.opts.DrainPerSecond
		if s.level < 0 {
			s.level = 0
		}
	}
	s.levelAt = now
	if s.level+1 > float64(s.opts.Burst) {
		return false
	}
	s.level++
	return true
}

func (s *Server) timeInfo() map[string]any {
	now := s.opts.Now()
	start := float64(now.UnixMilli()) / 1000
	return map[string]any{"start": start, "finish": start + 0.01, "duration": 0.01, "processing": 0.005,
		"date_start": now.Format(time.RFC3339), "date_finish": now.Format(time.RFC3339),
		"operating_reset_at": now.Add(10 * time.Minute).Unix(), "operating": 0}
}

func (s *Server) writeResult(w http.ResponseWriter, a answer) {
	body := map[string]any{"result": a.Result, "time": s.timeInfo()}
	if a.Next != nil {
		body["next"] = *a.Next
	}
	if a.Total != nil {
		body["total"] = *a.Total
	}
	writeJSON(w, http.StatusOK, body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]any{"error": e.code, "error_description": e.description})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// readParams decodes a JSON body, a form body or the query string into nested maps; a
// map whose keys are all 0, 1, 2… becomes a list, as PHP reads fields[PHONE][0][VALUE].
func readParams(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ctype == "application/json" {
		var out map[string]any
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("invalid JSON body: %v", err)
		}
		if out == nil {
			out = map[string]any{}
		}
		return out, nil
	}
	values := r.URL.Query()
	if len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("invalid form body: %v", err)
		}
		for k, v := range form {
			values[k] = append(values[k], v...)
		}
	}
	return ParseNested(values), nil
}

// ParseNested turns PHP-style form keys (a[b][0][c]=v) into nested maps and lists.
func ParseNested(values url.Values) map[string]any {
	root := map[string]any{}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := splitKey(k)
		v := values[k]
		var leaf any = v[len(v)-1]
		if strings.HasSuffix(k, "[]") {
			list := make([]any, len(v))
			for i := range v {
				list[i] = v[i]
			}
			leaf = list
			path = path[:len(path)-1]
		}
		node := root
		for i, p := range path {
			if i == len(path)-1 {
				node[p] = leaf
				break
			}
			next, ok := node[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[p] = next
			}
			node = next
		}
	}
	return listify(root).(map[string]any)
}

func splitKey(k string) []string {
	name, rest, ok := strings.Cut(k, "[")
	if !ok {
		return []string{k}
	}
	return append([]string{name}, strings.Split(strings.TrimSuffix(rest, "]"), "][")...)
}

func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, x := range m {
		m[k] = listify(x)
	}
	if len(m) == 0 {
		return m
	}
	list := make([]any, len(m))
	for i := range list {
		x, ok := m[strconv.Itoa(i)]
		if !ok {
			return m
		}
		list[i] = x
	}
	return list
}

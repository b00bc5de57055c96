// Package amocrmtest is a fake amoCRM (Kommo) API v4 for tests, on a loopback httptest
// server. It reproduces the contract in services.md §2 and its fake checklist: bearer auth
// with 401/403 problem+json answers, the 7 requests per second limit answered with a
// non-JSON 429, POST /api/v4/leads (HAL) and /api/v4/leads/complex (a plain array, at most
// 50 leads), validation errors with their path, optional duplicate control (merged),
// GET /api/v4/leads with the created_at filter, ordering, pages and 204 for an empty list,
// contact search by query, notes, and the form-encoded webhook amoCRM sends.
//
// Scripted failures let tests reproduce what is hard to get from a real account: the
// next requests failing with a status, and a write applied whose answer never arrives
// (DropAfterWrite), the case that makes a retried create dangerous.
package amocrmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the long-lived token the fake accepts unless told otherwise.
const DefaultToken = "amo-fake-long-lived-token-5f3e9c"

// RateLimitDefault is amoCRM's limit: requests per second per account.
const RateLimitDefault = 7

// MaxComplexLeads is the most leads one /leads/complex request may hold.
const MaxComplexLeads = 50

// MaxLimit is the largest page size; larger limits are capped.
const MaxLimit = 250

// Option configures a Server.
type Option func(*Server)

// WithRateLimit sets the requests per second the fake accepts before answering 429;
// 0 turns the limit off.
func WithRateLimit(n int) Option { return func(s *Server) { s.rateLimit = n } }

// WithClock makes the fake read the time from now (created_at, the rate window).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithDuplicateControl turns on amoCRM's duplicate control for /leads/complex: a lead
// whose new contact has the phone or email of an existing contact is joined to that
// contact's newest lead, answered with merged: true.
func WithDuplicateControl() Option { return func(s *Server) { s.dupControl = true } }

// WithToken sets the token the fake accepts.
func WithToken(token string) Option { return func(s *Server) { s.Token = token } }

// Server is a fake amoCRM account.
type Server struct {
	*httptest.Server
	// Token is the bearer token the fake accepts.
	Token string

	rateLimit  int
	now        func() time.Time
	dupControl bool

	mu        sync.Mutex
	nextID    int64
	leads     []*Lead
	contacts  []*Contact
	notes     []*Note
	fields    map[string]map[int64]bool // entity → custom field ids that exist
	blocked   map[string]bool
	failures  []failure
	drops     int
	recent    []time.Time
	requests  []Request
	limited   int
	subdomain string
}

// Lead is a lead as the fake stores it.
type Lead struct {
	ID           int64            `json:"id"`
	Name         string           `json:"name"`
	Price        int64            `json:"price"`
	PipelineID   int64            `json:"pipeline_id"`
	StatusID     int64            `json:"status_id"`
	CreatedAt    int64            `json:"created_at"`
	UpdatedAt    int64            `json:"updated_at"`
	RequestID    string           `json:"-"`
	CustomFields []map[string]any `json:"custom_fields_values"`
	Tags         []string         `json:"-"`
	ContactIDs   []int64          `json:"-"`
}

// Contact is a contact as the fake stores it.
type Contact struct {
	ID           int64            `json:"id"`
	Name         string           `json:"name"`
	FirstName    string           `json:"first_name"`
	LastName     string           `json:"last_name"`
	CreatedAt    int64            `json:"created_at"`
	UpdatedAt    int64            `json:"updated_at"`
	CustomFields []map[string]any `json:"custom_fields_values"`
}

// Note is a note as the fake stores it.
type Note struct {
	ID         int64  `json:"id"`
	EntityType string `json:"-"`
	EntityID   int64  `json:"entity_id"`
	NoteType   string `json:"note_type"`
	Text       string `json:"-"`
	CreatedAt  int64  `json:"created_at"`
}

// Request is what the fake saw of one request.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

type failure struct {
	path   string
	status int
}

// NewServer starts a fake account that knows lead custom field 1001 and contact custom
// field 2001. It stops when t ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		Token:     DefaultToken,
		rateLimit: RateLimitDefault,
		now:       time.Now,
		nextID:    1000000,
		fields:    map[string]map[int64]bool{"leads": {1001: true}, "contacts": {2001: true}},
		blocked:   map[string]bool{},
		subdomain: "fake",
	}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// AddCustomField makes a custom field id known for entity ("leads" or "contacts").
func (s *Server) AddCustomField(entity string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fields[entity][id] = true
}

// Block makes the fake answer 403 to token, as amoCRM does for a blocked account or IP.
func (s *Server) Block(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[token] = true
}

// FailNext makes the next n requests whose path starts with path fail with status
// (problem+json, or the non-JSON body of a 429).
func (s *Server) FailNext(path string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{path, status})
	}
}

// DropAfterWrite makes the next n writes (POSTs) take effect and then close the
// connection without an answer, as when a network fails mid-response.
func (s *Server) DropAfterWrite(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops += n
}

// AddContact stores a contact with a phone and an email (either may be "") and returns it.
func (s *Server) AddContact(name, phone, email string) Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Contact{ID: s.id(), Name: name, CreatedAt: s.now().Unix()}
	c.UpdatedAt = c.CreatedAt
	c.CustomFields = multiFields(phone, email)
	s.contacts = append(s.contacts, c)
	return *c
}

// AddLead stores a lead created at createdAt (unix seconds) and returns it.
func (s *Server) AddLead(name string, createdAt int64) Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &Lead{ID: s.id(), Name: name, CreatedAt: createdAt, UpdatedAt: createdAt}
	s.leads = append(s.leads, l)
	return *l
}

// Leads returns the stored leads, oldest first.
func (s *Server) Leads() []Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Lead, len(s.leads))
	for i, l := range s.leads {
		out[i] = *l
		out[i].Tags = append([]string(nil), l.Tags...)
		out[i].ContactIDs = append([]int64(nil), l.ContactIDs...)
	}
	return out
}

// Contacts returns the stored contacts, oldest first.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, len(s.contacts))
	for i, c := range s.contacts {
		out[i] = *c
	}
	return out
}

// Notes returns the stored notes with their text.
func (s *Server) Notes() []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Note, len(s.notes))
	for i, n := range s.notes {
		out[i] = *n
	}
	return out
}

// Requests returns the requests the fake has seen, rate-limited ones included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RateLimited counts the requests answered 429 because of the rate limit.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// PhoneOf and EmailOf read a contact's first PHONE or EMAIL value.
func PhoneOf(c Contact) string { return multiValue(c.CustomFields, "PHONE") }

// EmailOf reads a contact's first EMAIL value.
func EmailOf(c Contact) string { return multiValue(c.CustomFields, "EMAIL") }

// FieldValue returns the first value of a lead's custom field by code ("UTM_SOURCE") or
// id ("1001").
func FieldValue(l Lead, codeOrID string) string { return multiValue(l.CustomFields, codeOrID) }

func multiValue(fields []map[string]any, key string) string {
	for _, f := range fields {
		if fmt.Sprint(f["field_code"]) == key || fmt.Sprint(f["field_id"]) == key {
			if vals, ok := f["values"].([]any); ok && len(vals) > 0 {
				if v, ok := vals[0].(map[string]any); ok {
					return fmt.Sprint(v["value"])
				}
			}
		}
	}
	return ""
}

func multiFields(phone, email string) []map[string]any {
	var out []map[string]any
	if phone != "" {
		out = append(out, map[string]any{"field_code": "PHONE", "values": []any{map[string]any{"value": phone, "enum_code": "WORK"}}})
	}
	if email != "" {
		out = append(out, map[string]any{"field_code": "EMAIL", "values": []any{map[string]any{"value": email, "enum_code": "WORK"}}})
	}
	return out
}

// id returns a fresh entity id; s.mu is held.
func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	if s.rateLimit > 0 && !s.allow() {
		s.limited++
		s.mu.Unlock()
		tooMany(w)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || token != s.Token:
		s.mu.Unlock()
		problem(w, http.StatusUnauthorized, "Unauthorized", "Невозможно авторизоваться: токен недействителен или истёк")
		return
	case s.blocked[token]:
		s.mu.Unlock()
		problem(w, http.StatusForbidden, "Forbidden", "Аккаунт заблокирован")
		return
	}
	for i, f := range s.failures {
		if strings.HasPrefix(r.URL.Path, f.path) {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
			s.mu.Unlock()
			if f.status == http.StatusTooManyRequests {
				tooMany(w)
			} else {
				problem(w, f.status, http.StatusText(f.status), "Scripted failure")
			}
			return
		}
	}
	drop := false
	if r.Method == http.MethodPost && s.drops > 0 {
		s.drops--
		drop = true
	}
	status, answer := s.route(r, body)
	s.mu.Unlock()
	if drop && status < 300 {
		// The write took effect; the client never learns it.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	writeAnswer(w, status, answer)
}

// allow applies the per-second limit over a sliding one-second window; s.mu is held.
func (s *Server) allow() bool {
	now := s.now()
	keep := s.recent[:0]
	for _, t := range s.recent {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	s.recent = keep
	if len(s.recent) >= s.rateLimit {
		return false
	}
	s.recent = append(s.recent, now)
	return true
}

// route answers an authenticated request; s.mu is held. A nil answer with 204 is an
// empty list.
func (s *Server) route(r *http.Request, body []byte) (int, any) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	parts := strings.Split(strings.TrimPrefix(path, "/api/v4/"), "/")
	if !strings.HasPrefix(path, "/api/v4/") {
		return notFound()
	}
	switch {
	case r.Method == http.MethodGet && path == "/api/v4/account":
		return http.StatusOK, map[string]any{"id": 29000000, "name": "Fake account", "subdomain": s.subdomain, "country": "RU"}
	case r.Method == http.MethodGet && path == "/api/v4/leads":
		return s.listLeads(r)
	case r.Method == http.MethodPost && path == "/api/v4/leads":
		return s.addLeads(body)
	case r.Method == http.MethodPost && path == "/api/v4/leads/complex":
		return s.addComplex(body)
	case r.Method == http.MethodGet && path == "/api/v4/contacts":
		return s.searchContacts(r)
	case r.Method == http.MethodGet && len(parts) == 2 && (parts[0] == "leads" || parts[0] == "contacts"):
		id, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return notFound()
		}
		return s.getOne(parts[0], id)
	case r.Method == http.MethodPost && len(parts) == 2 && parts[1] == "notes" && (parts[0] == "leads" || parts[0] == "contacts"):
		return s.addNotes(parts[0], body)
	}
	return notFound()
}

func notFound() (int, any) {
	return http.StatusNotFound, problemBody(http.StatusNotFound, "Not Found", "Страница не найдена")
}

func (s *Server) getOne(entity string, id int64) (int, any) {
	if entity == "leads" {
		for _, l := range s.leads {
			if l.ID == id {
				return http.StatusOK, s.leadJSON(l, true)
			}
		}
	} else {
		for _, c := range s.contacts {
			if c.ID == id {
				return http.StatusOK, s.contactJSON(c)
			}
		}
	}
	return http.StatusNoContent, nil
}

func (s *Server) leadJSON(l *Lead, withContacts bool) map[string]any {
	tags := make([]any, 0, len(l.Tags))
	for i, t := range l.Tags {
		tags = append(tags, map[string]any{"id": int64(i + 1), "name": t, "color": nil})
	}
	var cf any
	if len(l.CustomFields) > 0 {
		cf = l.CustomFields
	}
	embedded := map[string]any{"tags": tags, "companies": []any{}}
	if withContacts {
		cs := []any{}
		for i, id := range l.ContactIDs {
			cs = append(cs, map[string]any{"id": id, "is_main": i == 0})
		}
		embedded["contacts"] = cs
	}
	return map[string]any{
		"id": l.ID, "name": l.Name, "price": l.Price, "responsible_user_id": 504141, "group_id": 0,
		"status_id": l.StatusID, "pipeline_id": l.PipelineID, "loss_reason_id": nil, "created_by": 0, "updated_by": 0,
		"created_at": l.CreatedAt, "updated_at": l.UpdatedAt, "closed_at": nil, "closest_task_at": nil,
		"is_deleted": false, "custom_fields_values": cf, "score": nil, "account_id": 29000000,
		"_links":    map[string]any{"self": map[string]any{"href": fmt.Sprintf("%s/api/v4/leads/%d", s.URL, l.ID)}},
		"_embedded": embedded,
	}
}

func (s *Server) contactJSON(c *Contact) map[string]any {
	var cf any
	if len(c.CustomFields) > 0 {
		cf = c.CustomFields
	}
	return map[string]any{
		"id": c.ID, "name": c.Name, "first_name": c.FirstName, "last_name": c.LastName,
		"responsible_user_id": 504141, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
		"custom_fields_values": cf, "account_id": 29000000,
		"_links": map[string]any{"self": map[string]any{"href": fmt.Sprintf("%s/api/v4/contacts/%d", s.URL, c.ID)}},
	}
}

// listLeads answers GET /api/v4/leads: filter[created_at][from|to], filter[id][],
// order[created_at|id]=asc|desc, page, limit (capped at 250), with=contacts.
func (s *Server) listLeads(r *http.Request) (int, any) {
	q := r.URL.Query()
	var from, to int64 = 0, 1 << 62
	if v := q.Get("filter[created_at][from]"); v != "" {
		from, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := q.Get("filter[created_at][to]"); v != "" {
		to, _ = strconv.ParseInt(v, 10, 64)
	}
	ids := map[int64]bool{}
	for _, v := range append(q["filter[id][]"], q["filter[id]"]...) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids[n] = true
		}
	}
	var list []*Lead
	for _, l := range s.leads {
		if l.CreatedAt >= from && l.CreatedAt <= to && (len(ids) == 0 || ids[l.ID]) {
			list = append(list, l)
		}
	}
	desc := q.Get("order[created_at]") == "desc" || q.Get("order[id]") == "desc"
	byCreated := q.Get("order[created_at]") != ""
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if byCreated && a.CreatedAt != b.CreatedAt {
			return (a.CreatedAt < b.CreatedAt) != desc
		}
		return (a.ID < b.ID) != desc
	})
	page, limit := pageParams(q)
	start := (page - 1) * limit
	if start >= len(list) {
		return http.StatusNoContent, nil
	}
	end := min(start+limit, len(list))
	withContacts := strings.Contains(q.Get("with"), "contacts")
	items := make([]any, 0, end-start)
	for _, l := range list[start:end] {
		items = append(items, s.leadJSON(l, withContacts))
	}
	return http.StatusOK, s.page("leads", r, page, end < len(list), items)
}

func pageParams(q map[string][]string) (page, limit int) {
	page, limit = 1, 50
	if v := first(q, "page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			page = n
		}
	}
	if v := first(q, "limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			limit = min(n, MaxLimit)
		}
	}
	return page, limit
}

func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// page builds a HAL list answer; next is linked only when there is a next page.
func (s *Server) page(entity string, r *http.Request, page int, more bool, items []any) map[string]any {
	link := func(p int) map[string]any {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return map[string]any{"href": s.URL + r.URL.Path + "?" + q.Encode()}
	}
	links := map[string]any{"self": link(page)}
	if more {
		links["next"] = link(page + 1)
	}
	if page > 1 {
		links["prev"] = link(page - 1)
	}
	return map[string]any{"_page": page, "_links": links, "_embedded": map[string]any{entity: items}}
}

// searchContacts answers GET /api/v4/contacts?query=: a case-blind substring match on the
// name and every field value, and a digits-only match for phones, as amoCRM's search
// finds +7 999 123-45-67 for 79991234567.
func (s *Server) searchContacts(r *http.Request) (int, any) {
	q := r.URL.Query()
	query := strings.ToLower(strings.TrimSpace(q.Get("query")))
	var list []*Contact
	for _, c := range s.contacts {
		if query == "" || contactMatches(c, query) {
			list = append(list, c)
		}
	}
	page, limit := pageParams(q)
	start := (page - 1) * limit
	if start >= len(list) {
		return http.StatusNoContent, nil
	}
	end := min(start+limit, len(list))
	items := make([]any, 0, end-start)
	for _, c := range list[start:end] {
		items = append(items, s.contactJSON(c))
	}
	return http.StatusOK, s.page("contacts", r, page, end < len(list), items)
}

func contactMatches(c *Contact, query string) bool {
	if strings.Contains(strings.ToLower(c.Name), query) {
		return true
	}
	qd := digits(query)
	for _, f := range c.CustomFields {
		vals, _ := f["values"].([]any)
		for _, v := range vals {
			m, _ := v.(map[string]any)
			text := strings.ToLower(fmt.Sprint(m["value"]))
			if strings.Contains(text, query) {
				return true
			}
			if f["field_code"] == "PHONE" && len(qd) >= 7 && strings.Contains(digits(text), qd) {
				return true
			}
		}
	}
	return false
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// leadIn is one lead of a POST /leads or /leads/complex body.
type leadIn struct {
	Name         *string          `json:"name"`
	Price        *int64           `json:"price"`
	PipelineID   *int64           `json:"pipeline_id"`
	StatusID     *int64           `json:"status_id"`
	RequestID    string           `json:"request_id"`
	CustomFields []map[string]any `json:"custom_fields_values"`
	Embedded     struct {
		Tags     []map[string]any `json:"tags"`
		Contacts []contactIn      `json:"contacts"`
	} `json:"_embedded"`
}

type contactIn struct {
	ID           int64            `json:"id"`
	Name         string           `json:"name"`
	FirstName    string           `json:"first_name"`
	LastName     string           `json:"last_name"`
	CustomFields []map[string]any `json:"custom_fields_values"`
}

// validationError is one entry of validation-errors[].errors.
type validationError struct {
	Code   string `json:"code"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
}

func validation(requestID string, errs []validationError) (int, any) {
	body := problemBody(http.StatusBadRequest, "Bad Request", "Request validation failed")
	body["validation-errors"] = []any{map[string]any{"request_id": requestID, "errors": errs}}
	return http.StatusBadRequest, body
}

// decodeLeads reads a body that must be a JSON array of leads.
func decodeLeads(body []byte) ([]leadIn, int, any) {
	var in []leadIn
	if err := json.Unmarshal(body, &in); err != nil {
		st, b := validation("0", []validationError{{Code: "InvalidType", Path: "", Detail: "The body must be an array of leads: " + err.Error()}})
		return nil, st, b
	}
	if len(in) == 0 {
		st, b := validation("0", []validationError{{Code: "NotBlank", Path: "", Detail: "This value should not be blank."}})
		return nil, st, b
	}
	return in, 0, nil
}

// checkFields reports custom field values that name an unknown field id or code.
func (s *Server) checkFields(entity string, fields []map[string]any, prefix string) []validationError {
	var errs []validationError
	for i, f := range fields {
		switch {
		case f["field_id"] != nil:
			n, ok := f["field_id"].(float64)
			if !ok || !s.fields[entity][int64(n)] {
				errs = append(errs, validationError{Code: "NotSupportedChoice", Path: fmt.Sprintf("%scustom_fields_values.%d.field_id", prefix, i),
					Detail: "The value you selected is not a valid choice."})
			}
		case f["field_code"] != nil:
			code := fmt.Sprint(f["field_code"])
			if !knownCodes[entity][code] {
				errs = append(errs, validationError{Code: "NotSupportedChoice", Path: fmt.Sprintf("%scustom_fields_values.%d.field_code", prefix, i),
					Detail: "The value you selected is not a valid choice."})
			}
		default:
			errs = append(errs, validationError{Code: "NotBlank", Path: fmt.Sprintf("%scustom_fields_values.%d.field_id", prefix, i),
				Detail: "This value should not be blank."})
		}
	}
	return errs
}

// knownCodes are the field codes every account has: contacts' PHONE and EMAIL, and the
// tracking fields (UTM) of leads.
var knownCodes = map[string]map[string]bool{
	"contacts": {"PHONE": true, "EMAIL": true, "POSITION": true},
	"leads":    {"UTM_SOURCE": true, "UTM_MEDIUM": true, "UTM_CAMPAIGN": true, "UTM_TERM": true, "UTM_CONTENT": true, "UTM_REFERRER": true},
}

func (s *Server) newLead(in leadIn, index int) *Lead {
	now := s.now().Unix()
	l := &Lead{ID: s.id(), CreatedAt: now, UpdatedAt: now, CustomFields: in.CustomFields, RequestID: in.RequestID}
	if in.Name != nil {
		l.Name = *in.Name
	} else {
		l.Name = fmt.Sprintf("Сделка #%d", l.ID)
	}
	if in.Price != nil {
		l.Price = *in.Price
	}
	if in.PipelineID != nil {
		l.PipelineID = *in.PipelineID
	} else {
		l.PipelineID = 3177727
	}
	if in.StatusID != nil {
		l.StatusID = *in.StatusID
	} else {
		l.StatusID = 32392156
	}
	if l.RequestID == "" {
		l.RequestID = strconv.Itoa(index)
	}
	for _, t := range in.Embedded.Tags {
		if name, ok := t["name"].(string); ok && name != "" {
			l.Tags = append(l.Tags, name)
		}
	}
	return l
}

// addLeads answers POST /api/v4/leads: leads linked to existing contacts by id.
func (s *Server) addLeads(body []byte) (int, any) {
	in, st, b := decodeLeads(body)
	if in == nil {
		return st, b
	}
	for i, l := range in {
		if errs := s.checkFields("leads", l.CustomFields, ""); len(errs) > 0 {
			return validation(requestID(l, i), errs)
		}
		for j, c := range l.Embedded.Contacts {
			if s.contact(c.ID) == nil {
				return validation(requestID(l, i), []validationError{{Code: "NotFound", Path: fmt.Sprintf("_embedded.contacts.%d.id", j), Detail: "Contact not found"}})
			}
		}
	}
	out := make([]any, 0, len(in))
	for i, li := range in {
		l := s.newLead(li, i)
		for _, c := range li.Embedded.Contacts {
			l.ContactIDs = append(l.ContactIDs, c.ID)
		}
		s.leads = append(s.leads, l)
		out = append(out, map[string]any{"id": l.ID, "request_id": l.RequestID,
			"_links": map[string]any{"self": map[string]any{"href": fmt.Sprintf("%s/api/v4/leads/%d", s.URL, l.ID)}}})
	}
	return http.StatusOK, map[string]any{"_links": map[string]any{"self": map[string]any{"href": s.URL + "/api/v4/leads"}},
		"_embedded": map[string]any{"leads": out}}
}

func requestID(l leadIn, i int) string {
	if l.RequestID != "" {
		return l.RequestID
	}
	return strconv.Itoa(i)
}

func (s *Server) contact(id int64) *Contact {
	for _, c := range s.contacts {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// addComplex answers POST /api/v4/leads/complex: each lead with at most one new contact.
func (s *Server) addComplex(body []byte) (int, any) {
	in, st, b := decodeLeads(body)
	if in == nil {
		return st, b
	}
	if len(in) > MaxComplexLeads {
		return validation("0", []validationError{{Code: "TooMany", Path: "", Detail: fmt.Sprintf("This collection should contain %d elements or less.", MaxComplexLeads)}})
	}
	for i, l := range in {
		errs := s.checkFields("leads", l.CustomFields, "")
		if len(l.Embedded.Contacts) > 1 {
			errs = append(errs, validationError{Code: "TooMany", Path: "_embedded.contacts", Detail: "This collection should contain 1 element or less."})
		}
		for j, c := range l.Embedded.Contacts {
			errs = append(errs, s.checkFields("contacts", c.CustomFields, fmt.Sprintf("_embedded.contacts.%d.", j))...)
		}
		if len(errs) > 0 {
			return validation(requestID(l, i), errs)
		}
	}
	out := make([]any, 0, len(in))
	for i, li := range in {
		var contactID any
		merged := false
		var existing *Contact
		if len(li.Embedded.Contacts) == 1 && s.dupControl {
			existing = s.duplicateOf(li.Embedded.Contacts[0])
		}
		if existing != nil {
			if old := s.newestLeadOf(existing.ID); old != nil {
				out = append(out, map[string]any{"id": old.ID, "contact_id": existing.ID, "company_id": nil,
					"request_id": []string{requestID(li, i)}, "merged": true})
				continue
			}
		}
		l := s.newLead(li, i)
		if len(li.Embedded.Contacts) == 1 {
			ci := li.Embedded.Contacts[0]
			c := existing
			if c == nil {
				c = &Contact{ID: s.id(), Name: ci.Name, FirstName: ci.FirstName, LastName: ci.LastName,
					CreatedAt: l.CreatedAt, UpdatedAt: l.CreatedAt, CustomFields: ci.CustomFields}
				if c.Name == "" {
					c.Name = strings.TrimSpace(c.FirstName + " " + c.LastName)
				}
				s.contacts = append(s.contacts, c)
			} else {
				merged = true
			}
			l.ContactIDs = []int64{c.ID}
			contactID = c.ID
		}
		s.leads = append(s.leads, l)
		out = append(out, map[string]any{"id": l.ID, "contact_id": contactID, "company_id": nil,
			"request_id": []string{l.RequestID}, "merged": merged})
	}
	return http.StatusOK, out
}

// duplicateOf finds an existing contact with the phone or email of c.
func (s *Server) duplicateOf(c contactIn) *Contact {
	phone, email := digits(multiValue(c.CustomFields, "PHONE")), strings.ToLower(multiValue(c.CustomFields, "EMAIL"))
	for _, e := range s.contacts {
		if (phone != "" && digits(PhoneOf(*e)) == phone) || (email != "" && strings.ToLower(EmailOf(*e)) == email) {
			return e
		}
	}
	return nil
}

func (s *Server) newestLeadOf(contactID int64) *Lead {
	for i := len(s.leads) - 1; i >= 0; i-- {
		for _, id := range s.leads[i].ContactIDs {
			if id == contactID {
				return s.leads[i]
			}
		}
	}
	return nil
}

// addNotes answers POST /api/v4/{leads|contacts}/notes.
func (s *Server) addNotes(entity string, body []byte) (int, any) {
	var in []struct {
		EntityID  int64  `json:"entity_id"`
		NoteType  string `json:"note_type"`
		RequestID string `json:"request_id"`
		Params    struct {
			Text string `json:"text"`
		} `json:"params"`
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in) == 0 {
		return validation("0", []validationError{{Code: "InvalidType", Path: "", Detail: "The body must be an array of notes."}})
	}
	for i, n := range in {
		found := false
		if entity == "leads" {
			for _, l := range s.leads {
				found = found || l.ID == n.EntityID
			}
		} else {
			found = s.contact(n.EntityID) != nil
		}
		if !found {
			return validation(strconv.Itoa(i), []validationError{{Code: "NotFound", Path: "entity_id", Detail: "Entity not found"}})
		}
		if n.NoteType != "common" || strings.TrimSpace(n.Params.Text) == "" {
			return validation(strconv.Itoa(i), []validationError{{Code: "NotBlank", Path: "params.text", Detail: "This value should not be blank."}})
		}
	}
	out := make([]any, 0, len(in))
	for i, n := range in {
		note := &Note{ID: s.id(), EntityType: entity, EntityID: n.EntityID, NoteType: n.NoteType, Text: n.Params.Text, CreatedAt: s.now().Unix()}
		s.notes = append(s.notes, note)
		rid := n.RequestID
		if rid == "" {
			rid = strconv.Itoa(i)
		}
		out = append(out, map[string]any{"id": note.ID, "entity_id": note.EntityID, "request_id": rid})
	}
	return http.StatusOK, map[string]any{"_links": map[string]any{"self": map[string]any{"href": s.URL + "/api/v4/" + entity + "/notes"}},
		"_embedded": map[string]any{"notes": out}}
}

func problemBody(status int, title, detail string) map[string]any {
	return map[string]any{"title": title, "type": "https://httpstatus.es/" + strconv.Itoa(status), "status": status, "detail": detail}
}

func problem(w http.ResponseWriter, status int, title, detail string) {
	writeAnswer(w, status, problemBody(status, title, detail))
}

// tooMany answers 429 the way amoCRM does: not JSON, no Retry-After.
func tooMany(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte("<html><body><h1>429 Too Many Requests</h1></body></html>\n"))
}

func writeAnswer(w http.ResponseWriter, status int, answer any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	ct := "application/hal+json"
	if status >= 400 {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

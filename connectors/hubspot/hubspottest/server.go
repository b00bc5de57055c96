// Package hubspottest is a fake HubSpot CRM v3 API for tests. It runs on a loopback
// httptest server and reproduces the behaviours of the real API that connectors must
// handle (docs: §4 and the "HubSpot fake" checklist of the service contracts):
//
//   - Bearer private-app tokens: a missing or wrong one is 401 INVALID_AUTHENTICATION;
//   - the X-HubSpot-RateLimit-* headers on every normal answer, and 429 RATE_LIMIT with
//     policyName TEN_SECONDLY_ROLLING past the interval limit;
//   - the search endpoints' own limit (5 requests a second, SECONDLY), whose answers
//     carry no rate headers;
//   - POST contacts: 201 with a string id and properties.createdate; the same email again
//     409 CONFLICT "Contact already exists. Existing ID: <id>"; an invalid email 400
//     VALIDATION_ERROR with errors[];
//   - PATCH contacts/{id}, GET contacts (list) and contacts/{id}, 404 OBJECT_NOT_FOUND;
//   - POST deals: 201, with associations to contacts recorded;
//   - POST {contacts,deals}/search: filter groups (OR of ANDs) with EQ, NEQ, GT, GTE, LT,
//     LTE, HAS_PROPERTY; sorts; limit ≤ 200; the after cursor; paging absent at the end;
//     total; at most 10,000 results per query;
//   - scripted failures (FailNext) and dropped connections that apply the write first and
//     then close the connection without an answer (DropNext), the duplicate-risk case;
//   - the webhook emitter: SendEvents posts a JSON array of events signed with v3
//     (X-HubSpot-Signature-v3, X-HubSpot-Request-Timestamp in milliseconds).
//
// Everything the fake receives is recorded for assertions (Requests, Contacts, Deals).
//
// Differences from the real service, on purpose: every property name is accepted (HubSpot
// refuses properties the portal does not define), the search index has no delay, and
// ids come from small counters.
//
// The package is for tests only: production code must not import it.
package hubspottest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultToken is the private-app token a Server accepts unless WithToken sets another.
const DefaultToken = "pat-eu1-0f1e2d3c-hookflow-fake-hubspot-token"

// Limits the fake applies unless options change them.
const (
	// IntervalMaxDefault requests per IntervalDefault: a Free/Starter private app.
	IntervalMaxDefault = 100
	IntervalDefault    = 10 * time.Second
	// SearchPerSecondDefault is the search API's own limit.
	SearchPerSecondDefault = 5
	// DailyMax is reported in X-HubSpot-RateLimit-Daily.
	DailyMax = 250000
	// SearchLimitMax is the largest limit a search takes.
	SearchLimitMax = 200
	// SearchResultsMax is how deep one search query can page.
	SearchResultsMax = 10000
)

// Operations, to script failures and drops with.
const (
	OpCreateContact = "create_contact"
	OpUpdateContact = "update_contact"
	OpGetContact    = "get_contact"
	OpListContacts  = "list_contacts"
	OpCreateDeal    = "create_deal"
	OpSearch        = "search" // both objects
)

// Option configures a Server.
type Option func(*Server)

// WithToken makes the server accept token instead of DefaultToken.
func WithToken(token string) Option { return func(s *Server) { s.Token = token } }

// WithClock makes the server read the time from now: createdate of new objects and the
// rate-limit windows.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRateLimit sets the interval limit of normal endpoints: max requests per interval.
func WithRateLimit(max int, interval time.Duration) Option {
	return func(s *Server) { s.intervalMax, s.interval = max, interval }
}

// WithSearchLimit sets the search endpoints' limit in requests per second (0: none).
func WithSearchLimit(perSecond int) Option { return func(s *Server) { s.searchPerSecond = perSecond } }

// Object is a stored contact or deal.
type Object struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Contacts lists the contact ids a deal is associated with.
	Contacts []string
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Op     string
	// Body is the decoded JSON body, nil without one.
	Body map[string]any
	// Status is the answer's status; 0 for a dropped connection.
	Status int
}

type script struct {
	op       string
	count    int
	status   int
	category string
	message  string
	drop     bool
}

// Server is a running fake HubSpot API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to configure as the connection's base_url.
	URL string
	// Token is the private-app token the server accepts.
	Token string

	srv             *httptest.Server
	now             func() time.Time
	intervalMax     int
	interval        time.Duration
	searchPerSecond int

	mu          sync.Mutex
	nextContact int64
	nextDeal    int64
	contacts    []*Object
	deals       []*Object
	requests    []Request
	scripts     []script
	hits        []time.Time // normal requests in the current window
	searchHits  []time.Time
	daily       int
	eventSeq    int64 // webhook event ids
}

// NewServer starts a fake HubSpot API on loopback and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		Token: DefaultToken, now: time.Now,
		intervalMax: IntervalMaxDefault, interval: IntervalDefault, searchPerSecond: SearchPerSecondDefault,
		nextContact: 100, nextDeal: 9000,
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Close shuts the server down, simulating an unreachable API.
func (s *Server) Close() { s.srv.Close() }

// FailNext makes the next count requests of op ("" for any) answer status with HubSpot's
// error body of category and message. A 429 gets errorType RATE_LIMIT and policyName
// taken from category ("SECONDLY", "DAILY", "TEN_SECONDLY_ROLLING").
func (s *Server) FailNext(op string, count, status int, category, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, script{op: op, count: count, status: status, category: category, message: message})
}

// DropNext makes the next count requests of op do their work (create, update) and then
// close the connection without answering: the client cannot know the outcome.
func (s *Server) DropNext(op string, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, script{op: op, count: count, drop: true})
}

// AddContact stores a contact created at createdAt, as if made in HubSpot's UI, and
// returns its id.
func (s *Server) AddContact(props map[string]string, createdAt time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store(&s.contacts, &s.nextContact, props, createdAt).ID
}

// Contacts returns copies of the stored contacts, oldest first.
func (s *Server) Contacts() []Object { return s.copies(&s.contacts) }

// Deals returns copies of the stored deals, oldest first.
func (s *Server) Deals() []Object { return s.copies(&s.deals) }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsOf returns the requests of one operation.
func (s *Server) RequestsOf(op string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) copies(list *[]*Object) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Object, len(*list))
	for i, o := range *list {
		out[i] = *o
		out[i].Properties = map[string]string{}
		for k, v := range o.Properties {
			out[i].Properties[k] = v
		}
		out[i].Contacts = append([]string(nil), o.Contacts...)
	}
	return out
}

// timeFormat is how HubSpot writes dates in properties and createdAt.
const timeFormat = "2006-01-02T15:04:05.000Z"

func (s *Server) store(list *[]*Object, next *int64, props map[string]string, at time.Time) *Object {
	*next++
	id := strconv.FormatInt(*next, 10)
	o := &Object{ID: id, Properties: map[string]string{}, CreatedAt: at.UTC(), UpdatedAt: at.UTC()}
	for k, v := range props {
		o.Properties[k] = v
	}
	o.Properties["createdate"] = o.CreatedAt.Format(timeFormat)
	o.Properties["lastmodifieddate"] = o.UpdatedAt.Format(timeFormat)
	o.Properties["hs_object_id"] = id
	*list = append(*list, o)
	return o
}

var (
	objectPath = regexp.MustCompile(`^/crm/v3/objects/(contacts|deals)(?:/([^/]+))?$`)
	emailShape = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// answer is what a handler decided: a status and a JSON body, or a dropped connection.
type answer struct {
	status int
	body   any
	drop   bool
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			body = nil
		}
	}
	op := operation(r)
	s.mu.Lock()
	a, search := s.handle(r, op, raw, body)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Op: op, Body: body, Status: a.status})
	headers := !search && a.status != http.StatusUnauthorized
	remaining := s.intervalMax - len(s.hits)
	daily := s.daily
	s.mu.Unlock()

	if a.drop {
		// The work is done; the client gets no answer.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	if headers {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(DailyMax))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(DailyMax-daily, 0)))
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.interval.Milliseconds(), 10))
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.intervalMax))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	}
	if a.status == http.StatusNoContent {
		w.WriteHeader(a.status)
		return
	}
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

// operation names what a request asks for, "" when the fake does not know it.
func operation(r *http.Request) string {
	m := objectPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return ""
	}
	switch {
	case m[2] == "search" && r.Method == http.MethodPost:
		return OpSearch
	case m[1] == "contacts" && m[2] == "" && r.Method == http.MethodPost:
		return OpCreateContact
	case m[1] == "contacts" && m[2] == "" && r.Method == http.MethodGet:
		return OpListContacts
	case m[1] == "contacts" && r.Method == http.MethodPatch:
		return OpUpdateContact
	case m[1] == "contacts" && r.Method == http.MethodGet:
		return OpGetContact
	case m[1] == "deals" && m[2] == "" && r.Method == http.MethodPost:
		return OpCreateDeal
	}
	return ""
}

// handle answers one request; s.mu is held. search reports a search request, whose
// answers carry no rate headers.
func (s *Server) handle(r *http.Request, op string, raw []byte, body map[string]any) (answer, bool) {
	search := op == OpSearch
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		return errorAnswer(http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"), search
	}
	now := s.now()
	if search {
		if a, limited := s.searchLimited(now); limited {
			return a, true
		}
	} else if a, limited := s.intervalLimited(now); limited {
		return a, false
	}
	s.daily++
	drop := false
	for i := range s.scripts {
		sc := &s.scripts[i]
		if sc.count == 0 || (sc.op != "" && sc.op != op) {
			continue
		}
		sc.count--
		if !sc.drop {
			if sc.status == http.StatusTooManyRequests {
				return rateLimited(sc.category, sc.message), search
			}
			return errorAnswer(sc.status, sc.category, sc.message), search
		}
		drop = true
		break
	}
	if op == "" {
		return errorAnswer(http.StatusNotFound, "OBJECT_NOT_FOUND", "Unable to route "+r.Method+" "+r.URL.Path), search
	}
	if len(raw) > 0 && body == nil {
		return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1"), search
	}
	var a answer
	switch op {
	case OpCreateContact:
		a = s.createContact(body, now)
	case OpUpdateContact:
		a = s.updateContact(objectPath.FindStringSubmatch(r.URL.Path)[2], body, now)
	case OpGetContact:
		a = s.getContact(objectPath.FindStringSubmatch(r.URL.Path)[2])
	case OpListContacts:
		a = s.listContacts(r)
	case OpCreateDeal:
		a = s.createDeal(body, now)
	case OpSearch:
		list := s.contacts
		if objectPath.FindStringSubmatch(r.URL.Path)[1] == "deals" {
			list = s.deals
		}
		a = s.search(r, list, body)
	}
	a.drop = drop && a.status < 300
	return a, search
}

func (s *Server) intervalLimited(now time.Time) (answer, bool) {
	s.hits = window(s.hits, now, s.interval)
	if s.intervalMax > 0 && len(s.hits) >= s.intervalMax {
		return rateLimited("TEN_SECONDLY_ROLLING", ""), true
	}
	s.hits = append(s.hits, now)
	return answer{}, false
}

func (s *Server) searchLimited(now time.Time) (answer, bool) {
	s.searchHits = window(s.searchHits, now, time.Second)
	if s.searchPerSecond > 0 && len(s.searchHits) >= s.searchPerSecond {
		return rateLimited("SECONDLY", ""), true
	}
	s.searchHits = append(s.searchHits, now)
	return answer{}, false
}

// window drops the hits older than d.
func window(hits []time.Time, now time.Time, d time.Duration) []time.Time {
	i := 0
	for i < len(hits) && now.Sub(hits[i]) >= d {
		i++
	}
	return hits[i:]
}

func rateLimited(policy, message string) answer {
	if policy == "" {
		policy = "TEN_SECONDLY_ROLLING"
	}
	if message == "" {
		message = map[string]string{
			"SECONDLY":             "You have reached your secondly limit.",
			"DAILY":                "You have reached your daily limit.",
			"TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
		}[policy]
	}
	return answer{status: http.StatusTooManyRequests, body: map[string]any{
		"status": "error", "message": message, "errorType": "RATE_LIMIT",
		"correlationId": correlationID(), "policyName": policy, "requestId": correlationID(),
	}}
}

func errorAnswer(status int, category, message string) answer {
	if status == http.StatusTooManyRequests {
		return rateLimited(category, message)
	}
	return answer{status: status, body: map[string]any{
		"status": "error", "message": message, "correlationId": correlationID(), "category": category,
	}}
}

// correlationSeq numbers correlation ids across every server of the test binary.
var correlationSeq atomic.Int64

func correlationID() string {
	return fmt.Sprintf("0b8f2c6e-5d1a-4f7e-9c3b-%012d", correlationSeq.Add(1))
}

// properties reads a body's properties: HubSpot takes strings, and numbers and booleans
// as their text.
func properties(body map[string]any) (map[string]string, *answer) {
	raw, _ := body["properties"].(map[string]any)
	props := map[string]string{}
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			props[k] = v
		case float64:
			props[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			props[k] = strconv.FormatBool(v)
		case nil:
			props[k] = ""
		default:
			a := errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR",
				fmt.Sprintf("Invalid input JSON: property %q must be a string", k))
			return nil, &a
		}
	}
	return props, nil
}

// validate checks the property values HubSpot validates: the email.
func validate(props map[string]string) *answer {
	email, ok := props["email"]
	if !ok || email == "" || emailShape.MatchString(email) {
		return nil
	}
	msg := fmt.Sprintf("Email address %s is invalid", email)
	return &answer{status: http.StatusBadRequest, body: map[string]any{
		"status": "error", "message": "Property values were not valid: " + msg, "correlationId": correlationID(),
		"category": "VALIDATION_ERROR",
		"errors": []any{map[string]any{"isValid": false, "message": msg, "error": "INVALID_EMAIL",
			"code": "INVALID_EMAIL", "name": "email", "context": map[string]any{"propertyName": []any{"email"}}}},
	}}
}

func (s *Server) contactByEmail(email string) *Object {
	for _, c := range s.contacts {
		if email != "" && strings.EqualFold(c.Properties["email"], email) {
			return c
		}
	}
	return nil
}

func (s *Server) createContact(body map[string]any, now time.Time) answer {
	props, bad := properties(body)
	if bad != nil {
		return *bad
	}
	if bad := validate(props); bad != nil {
		return *bad
	}
	if props["email"] != "" {
		props["email"] = strings.ToLower(props["email"])
		if c := s.contactByEmail(props["email"]); c != nil {
			return errorAnswer(http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: "+c.ID)
		}
	}
	return answer{status: http.StatusCreated, body: objectJSON(s.store(&s.contacts, &s.nextContact, props, now), nil)}
}

func (s *Server) find(list []*Object, id string) *Object {
	for _, o := range list {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func (s *Server) updateContact(id string, body map[string]any, now time.Time) answer {
	c := s.find(s.contacts, id)
	if c == nil {
		return errorAnswer(http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
	}
	props, bad := properties(body)
	if bad != nil {
		return *bad
	}
	if bad := validate(props); bad != nil {
		return *bad
	}
	if e := props["email"]; e != "" {
		props["email"] = strings.ToLower(e)
		if other := s.contactByEmail(e); other != nil && other.ID != id {
			return errorAnswer(http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: "+other.ID)
		}
	}
	for k, v := range props {
		c.Properties[k] = v
	}
	c.UpdatedAt = now.UTC()
	c.Properties["lastmodifieddate"] = c.UpdatedAt.Format(timeFormat)
	return answer{status: http.StatusOK, body: objectJSON(c, nil)}
}

func (s *Server) getContact(id string) answer {
	c := s.find(s.contacts, id)
	if c == nil {
		return errorAnswer(http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
	}
	return answer{status: http.StatusOK, body: objectJSON(c, []string{"email", "firstname", "lastname"})}
}

func (s *Server) listContacts(r *http.Request) answer {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	results := []any{}
	for i, c := range s.contacts {
		if i == limit {
			break
		}
		results = append(results, objectJSON(c, []string{"email", "firstname", "lastname"}))
	}
	return answer{status: http.StatusOK, body: map[string]any{"results": results}}
}

func (s *Server) createDeal(body map[string]any, now time.Time) answer {
	props, bad := properties(body)
	if bad != nil {
		return *bad
	}
	var contacts []string
	assocs, _ := body["associations"].([]any)
	for i, a := range assocs {
		m, _ := a.(map[string]any)
		to, _ := m["to"].(map[string]any)
		id := fmt.Sprint(to["id"])
		types, _ := m["types"].([]any)
		ok := len(types) > 0
		for _, t := range types {
			tm, _ := t.(map[string]any)
			if tm["associationCategory"] != "HUBSPOT_DEFINED" || fmt.Sprint(tm["associationTypeId"]) != "3" {
				ok = false
			}
		}
		if !ok {
			return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR",
				fmt.Sprintf("associations[%d]: the fake knows only HUBSPOT_DEFINED type 3 (deal to contact)", i))
		}
		if s.find(s.contacts, id) == nil {
			return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR",
				fmt.Sprintf("One or more associations are invalid: contact %s does not exist", id))
		}
		contacts = append(contacts, id)
	}
	if props["pipeline"] == "" {
		props["pipeline"] = "default"
	}
	d := s.store(&s.deals, &s.nextDeal, props, now)
	d.Contacts = contacts
	return answer{status: http.StatusCreated, body: objectJSON(d, nil)}
}

// objectJSON is an object as HubSpot answers it. only limits the properties (search and
// reads return the asked ones plus the defaults); nil returns all.
func objectJSON(o *Object, only []string) map[string]any {
	props := map[string]any{}
	for k, v := range o.Properties {
		props[k] = v
	}
	if only != nil {
		props = map[string]any{}
		for _, k := range append(only, "createdate", "lastmodifieddate", "hs_object_id") {
			if v, ok := o.Properties[k]; ok {
				props[k] = v
			} else {
				props[k] = nil
			}
		}
	}
	return map[string]any{
		"id": o.ID, "properties": props, "archived": false,
		"createdAt": o.CreatedAt.Format(timeFormat), "updatedAt": o.UpdatedAt.Format(timeFormat),
	}
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []struct {
			PropertyName string `json:"propertyName"`
			Operator     string `json:"operator"`
			Value        any    `json:"value"`
		} `json:"filters"`
	} `json:"filterGroups"`
	Sorts []struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	} `json:"sorts"`
	Properties []string `json:"properties"`
	Limit      *int     `json:"limit"`
	After      any      `json:"after"`
}

func (s *Server) search(r *http.Request, list []*Object, body map[string]any) answer {
	data, _ := json.Marshal(body)
	var req searchRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON: "+err.Error())
	}
	limit := 10
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit < 0 || limit > SearchLimitMax {
		return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("There was a problem with the request. limit: must be less than or equal to %d", SearchLimitMax))
	}
	after := 0
	if req.After != nil {
		n, err := strconv.Atoi(fmt.Sprint(req.After))
		if err != nil || n < 0 {
			return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("after: %v is not a valid cursor", req.After))
		}
		after = n
	}
	if after+limit > SearchResultsMax {
		return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("There was a problem with the request. The search API returns at most %d results per query", SearchResultsMax))
	}
	if len(req.Sorts) > 1 {
		return errorAnswer(http.StatusBadRequest, "VALIDATION_ERROR", "There was a problem with the request. Only one sort is allowed")
	}
	var matched []*Object
	for _, o := range list {
		ok := len(req.FilterGroups) == 0
		for _, g := range req.FilterGroups {
			all := true
			for _, f := range g.Filters {
				if !matches(o.Properties[f.PropertyName], f.Operator, fmt.Sprint(f.Value), f.PropertyName) {
					all = false
					break
				}
			}
			if all {
				ok = true
				break
			}
		}
		if ok {
			matched = append(matched, o)
		}
	}
	if len(req.Sorts) == 1 {
		prop, desc := req.Sorts[0].PropertyName, req.Sorts[0].Direction == "DESCENDING"
		sort.SliceStable(matched, func(i, j int) bool {
			c := compare(matched[i].Properties[prop], matched[j].Properties[prop], prop)
			if desc {
				return c > 0
			}
			return c < 0
		})
	}
	props := req.Properties
	if len(props) == 0 {
		props = []string{"email", "firstname", "lastname", "dealname", "amount"}
	}
	results := []any{}
	for i := after; i < len(matched) && i < after+limit; i++ {
		results = append(results, objectJSON(matched[i], props))
	}
	out := map[string]any{"total": len(matched), "results": results}
	if next := after + limit; next < len(matched) && limit > 0 {
		out["paging"] = map[string]any{"next": map[string]any{
			"after": strconv.Itoa(next),
			"link":  "https://api.hubapi.com" + r.URL.Path + "?after=" + strconv.Itoa(next),
		}}
	}
	return answer{status: http.StatusOK, body: out}
}

// isDate reports the properties the fake compares as dates.
func isDate(prop string) bool {
	return prop == "createdate" || prop == "lastmodifieddate" || prop == "closedate" || prop == "hs_lastmodifieddate"
}

// millis reads a date as HubSpot's filters take it: epoch milliseconds or ISO 8601.
func millis(v string) (int64, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UnixMilli(), true
	}
	return 0, false
}

// compare orders two property values: dates by time, numbers by value, the rest as
// case-blind text.
func compare(a, b, prop string) int {
	if isDate(prop) {
		x, okx := millis(a)
		y, oky := millis(b)
		if okx && oky {
			return cmpInt(x, y)
		}
	}
	if x, err := strconv.ParseFloat(a, 64); err == nil {
		if y, err := strconv.ParseFloat(b, 64); err == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func matches(have, op, want, prop string) bool {
	switch op {
	case "HAS_PROPERTY":
		return have != ""
	case "NOT_HAS_PROPERTY":
		return have == ""
	}
	if have == "" {
		return op == "NEQ"
	}
	c := compare(have, want, prop)
	switch op {
	case "EQ":
		return c == 0
	case "NEQ":
		return c != 0
	case "GT":
		return c > 0
	case "GTE":
		return c >= 0
	case "LT":
		return c < 0
	case "LTE":
		return c <= 0
	}
	return false
}

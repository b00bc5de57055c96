// Package moyskladtest is a fake MoySklad JSON API 1.2 for tests. It runs on a loopback
// httptest server and reproduces what connectors must handle (the "Fake server
// checklist" of the MoySklad contract):
//
//   - routes under /api/remap/1.2/; a request without Accept-Encoding: gzip is answered
//     415 with an empty body, and every other answer is gzipped;
//   - Bearer and Basic auth (401 with code 1056 otherwise); POST /security/token issues a
//     new token and revokes the previous one;
//   - a 3-second window of 45 requests by default (WithRateLimit), with X-RateLimit-Limit,
//     X-RateLimit-Remaining, X-Lognex-Retry-TimeInterval, X-Lognex-Reset and
//     X-Lognex-Retry-After (ms) on every answer; past it 429 with code 1049, and more than
//     5 requests in flight 429 with code 1073;
//   - lists with limit (at most 1000) and offset, meta.size as the total, nextHref only
//     when more items exist, expand dropped when limit > 100, filter (= != > < >= <= ~
//     ~= =~ and ;), search and order;
//   - counterparty (412 code 3000 without name, 200 with a generated externalCode, a
//     repeated syncId answering the counterparty already created), customer order
//     (organization and agent required, 413 above 1000 positions, code 11001 for an
//     unknown state, prices in kopecks), customerorder/metadata states (expand=state
//     gives an order's), organizations and products;
//   - webhook CRUD with errors 30003, 30007, 30009 and 30010, and an emitter that POSTs
//     {auditContext, events[]} to url?requestId=… with MoySklad's User-Agent and no
//     signature, counts only 200 or 204 within 1500 ms as delivered, retries 3 times at
//     once with the same requestId and then drops the event, and skips writes whose
//     X-Lognex-WebHook-DisableByPrefix matches the url;
//   - errors always as {"errors":[…]} JSON.
//
// Scripts make it misbehave on demand: FailNext answers with an error, DropNext performs
// a request and then cuts the connection in the middle of the answer, Block holds
// requests in flight.
//
// Differences from the real service, on purpose: timestamps come from a fake clock that
// starts at the wall clock's time in Moscow (as MoySklad writes them) and moves one second
// per write, so each write has its own time whatever the machine's speed; entities have
// only the fields the connectors use; every request weighs 1.
//
// The package is for tests only: production code must not import it.
package moyskladtest

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
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

// BasePath is where the API lives on the fake's host.
const BasePath = "/api/remap/1.2"

// Defaults of the fake's limits, as the contract states them.
const (
	RateLimitDefault  = 45
	RateWindowDefault = 3 * time.Second
	ParallelMax       = 5
	// WebhookTimeout is how long a receiver has to answer a delivery.
	WebhookTimeout = 1500 * time.Millisecond
	// WebhookRetries is how many more attempts follow a failed delivery, back to back.
	WebhookRetries = 3
	// UserAgent is what MoySklad's webhook deliveries send.
	UserAgent = "MoySklad webhook touch agent 2.0 (/https://www.moysklad.ru)"
	// AccountID is the fake account's id.
	AccountID = "1f1c4a3e-0000-4000-8000-0000000000aa"
)

// DefaultToken is the bearer token the fake accepts unless WithToken sets another;
// DefaultLogin and DefaultPassword are the Basic credentials.
const (
	DefaultToken    = "ms-fake-token-5b1e0c9a7d3f"
	DefaultLogin    = "admin@hookflow"
	DefaultPassword = "ms-fake-password-4411"
)

// Option configures a Server.
type Option func(*Server)

// WithToken makes the server accept token instead of DefaultToken.
func WithToken(token string) Option {
	return func(s *Server) { s.tokens = map[string]bool{token: true}; s.Token = token }
}

// WithRateLimit sets the window: limit requests per window.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(s *Server) { s.rateLimit, s.rateWindow = limit, window }
}

// Request is what the fake saw of one request.
type Request struct {
	Method string
	Path   string // under BasePath, without it: "entity/counterparty"
	Query  string
	Header http.Header
	Body   []byte
	// Status is the status the fake answered.
	Status int
}

// Server is a running fake.
type Server struct {
	// URL is the API's base URL, the connection's base_url: http://127.0.0.1:port/api/remap/1.2.
	URL string
	// Token is a bearer token the fake accepts.
	Token string

	srv        *httptest.Server
	rateLimit  int
	rateWindow time.Duration

	mu          sync.Mutex
	tokens      map[string]bool
	windowStart time.Time
	windowCount int
	inFlight    int
	maxInFlight int
	requests    []Request
	scripts     []script
	block       chan struct{}
	clock       time.Time
	start       time.Time // where clock started, for tests that filter by time
	seq         int
	entities    map[string][]map[string]any // by type, in creation order
	positions   map[string][]map[string]any // by order id
	states      []map[string]any
	deliveries  []*Delivery
	pending     sync.WaitGroup
	hookClient  *http.Client
}

// script is one scripted misbehaviour.
type script struct {
	method, path string // path prefix under BasePath; "" matches any
	count        int
	drop         bool
	status, code int
	message      string
}

// StartedAt is the fake clock's first time, in Moscow time as MoySklad writes it: the
// n-th write is stamped StartedAt + n seconds.
func (s *Server) StartedAt() time.Time { return s.start }

// NewServer starts a fake with one organization, two products and the default order
// states. It is closed when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	// Moscow time (UTC+3, no summer time), as MoySklad writes its dates.
	start := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second)
	s := &Server{
		start: start,
		Token: DefaultToken, tokens: map[string]bool{DefaultToken: true},
		rateLimit: RateLimitDefault, rateWindow: RateWindowDefault,
		clock:      start,
		entities:   map[string][]map[string]any{},
		positions:  map[string][]map[string]any{},
		hookClient: &http.Client{Timeout: WebhookTimeout},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL + BasePath
	s.seed()
	t.Cleanup(s.Close)
	return s
}

// Close waits for pending webhook deliveries and stops the server.
func (s *Server) Close() {
	s.pending.Wait()
	s.srv.Close()
}

func (s *Server) seed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insertLocked("organization", map[string]any{"name": "ООО Ромашка", "companyType": "legal"})
	s.insertLocked("product", map[string]any{"name": "Чайник", "salePrices": []any{map[string]any{"value": 199000}}})
	s.insertLocked("product", map[string]any{"name": "Кружка", "salePrices": []any{map[string]any{"value": 49000}}})
	for _, name := range []string{"Новый", "Подтвержден", "Отгружен"} {
		id := s.newIDLocked()
		s.states = append(s.states, map[string]any{
			"meta": s.metaLocked("entity/customerorder/metadata/states/"+id, "state"),
			"id":   id, "accountId": AccountID, "name": name, "color": 15106678, "stateType": "Regular", "entityType": "customerorder",
		})
	}
}

// FailNext makes the next count requests whose method and path (a prefix under the base
// path, such as "entity/customerorder"; "" for any) match answer status with MoySklad's
// error envelope carrying code and message.
func (s *Server) FailNext(method, path string, count, status, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, script{method: method, path: path, count: count, status: status, code: code, message: message})
}

// DropNext makes the next count matching requests take effect and then cuts the
// connection in the middle of the answer, as a network failure after the write would.
func (s *Server) DropNext(method, path string, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, script{method: method, path: path, count: count, drop: true})
}

// Block holds every request that passes the auth and limit checks until the returned
// function is called, to fill the parallel limit.
func (s *Server) Block() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.block = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.block = nil
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Requests returns what the fake received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// MaxInFlight is the most requests the fake has held at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Entities returns copies of the entities of a type ("counterparty", "customerorder",
// "webhook"), oldest first.
func (s *Server) Entities(typ string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.entities[typ]))
	for _, e := range s.entities[typ] {
		out = append(out, clone(e))
	}
	return out
}

// Positions returns the positions of an order.
func (s *Server) Positions(orderID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.positions[orderID]...)
}

// Href is the href of an entity of the fake: Href("product", id).
func (s *Server) Href(typ, id string) string { return s.URL + "/entity/" + typ + "/" + id }

// AddCounterparty stores a counterparty as if made in MoySklad's UI (no webhook) and
// returns it.
func (s *Server) AddCounterparty(fields map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := fields["companyType"]; !ok {
		fields["companyType"] = "legal"
	}
	return clone(s.insertLocked("counterparty", fields))
}

// ---- request handling ----

// exchange is one request being answered. Handlers set status and body; serveHTTP
// writes them.
type exchange struct {
	r      *http.Request
	path   string
	body   []byte
	status int
	out    any // JSON body; nil with status 200 writes nothing
	// disable holds the X-Lognex-WebHook-DisableByPrefix values of the request.
	disable []string
	events  []pendingEvent
}

type pendingEvent struct {
	typ, action, href string
	fields            []string
}

func (ex *exchange) ok(v any) { ex.status, ex.out = http.StatusOK, v }

func (ex *exchange) fail(status, code int, parameter, message string) {
	e := map[string]any{"error": message}
	if code != 0 {
		e["code"] = code
		e["moreInfo"] = fmt.Sprintf("https://dev.moysklad.ru/doc/api/remap/1.2/#error_%d", code)
	}
	if parameter != "" {
		e["parameter"] = parameter
	}
	ex.status, ex.out = status, map[string]any{"errors": []any{e}}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 21<<20))
	ex := &exchange{r: r, body: body, status: http.StatusOK, disable: r.Header.Values("X-Lognex-WebHook-DisableByPrefix")}
	idx := s.record(Request{Method: r.Method, Path: strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, BasePath), "/"),
		Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	status := s.answer(w, r, ex)
	s.mu.Lock()
	s.requests[idx].Status = status
	s.mu.Unlock()
}

func (s *Server) record(r Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	return len(s.requests) - 1
}

// answer runs the checks in the real service's order and writes the answer; it returns
// the status sent (0 for a dropped connection).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ex *exchange) int {
	if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		// The documented answer: 415 and nothing else.
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return http.StatusUnsupportedMediaType
	}
	if r.URL.Path != BasePath && !strings.HasPrefix(r.URL.Path, BasePath+"/") {
		ex.fail(http.StatusNotFound, 1002, "", "Неизвестный тип сущности или путь: "+r.URL.Path)
		return s.write(w, ex, false)
	}
	ex.path = strings.Trim(strings.TrimPrefix(r.URL.Path, BasePath), "/")
	login, isToken := s.authenticate(r)
	if login == "" {
		w.Header().Set("X-Lognex-Auth", "-1")
		w.Header().Set("X-Lognex-Auth-Message", "Authentication failed")
		ex.fail(http.StatusUnauthorized, 1056, "", "Ошибка аутентификации: Неправильный пароль или имя пользователя или ключ авторизации")
		return s.write(w, ex, false)
	}
	s.mu.Lock()
	s.inFlight++
	if s.inFlight > s.maxInFlight {
		s.maxInFlight = s.inFlight
	}
	inFlight := s.inFlight
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if inFlight > ParallelMax {
		s.rateHeaders(w, false)
		ex.fail(http.StatusTooManyRequests, 1073, "", "Превышено ограничение на количество параллельных запросов")
		return s.write(w, ex, false)
	}
	if !s.rateHeaders(w, true) {
		ex.fail(http.StatusTooManyRequests, 1049, "", "Превышено ограничение на количество запросов в единицу времени")
		return s.write(w, ex, false)
	}
	s.mu.Lock()
	block := s.block
	sc, scripted := s.takeScriptLocked(r.Method, ex.path)
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return 0
		}
	}
	if scripted && !sc.drop {
		ex.fail(sc.status, sc.code, "", sc.message)
		return s.write(w, ex, false)
	}
	if ex.path == "security/token" {
		s.issueToken(ex, isToken)
	} else {
		s.route(ex)
	}
	s.emit(ex)
	return s.write(w, ex, scripted && sc.drop)
}

func acceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return true
		}
	}
	return false
}

// authenticate returns who is calling ("" when nobody) and whether with a token.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok && s.tokens[tok] {
		return DefaultLogin, true
	}
	if raw, ok := strings.CutPrefix(h, "Basic "); ok {
		dec, err := base64.StdEncoding.DecodeString(raw)
		if err == nil && string(dec) == DefaultLogin+":"+DefaultPassword {
			return DefaultLogin, false
		}
	}
	return "", false
}

// issueToken is POST /security/token: a new token that revokes the older ones.
func (s *Server) issueToken(ex *exchange, withToken bool) {
	if ex.r.Method != http.MethodPost {
		ex.fail(http.StatusMethodNotAllowed, 1004, "", "Метод не поддерживается")
		return
	}
	if withToken {
		ex.fail(http.StatusUnauthorized, 1056, "", "Токен выдаётся только по логину и паролю")
		return
	}
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	tok := fmt.Sprintf("%x", b)
	s.mu.Lock()
	s.tokens = map[string]bool{tok: true}
	s.Token = tok
	s.mu.Unlock()
	ex.ok(map[string]any{"access_token": tok})
}

// rateHeaders counts the request in the window when count is set and reports whether it
// fits; it sets the rate headers either way.
func (s *Server) rateHeaders(w http.ResponseWriter, count bool) bool {
	s.mu.Lock()
	now := time.Now()
	if s.windowStart.IsZero() || now.Sub(s.windowStart) >= s.rateWindow {
		s.windowStart, s.windowCount = now, 0
	}
	fits := s.windowCount < s.rateLimit
	if count && fits {
		s.windowCount++
	}
	remaining := s.rateLimit - s.windowCount
	reset := s.rateWindow - now.Sub(s.windowStart)
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Lognex-Retry-TimeInterval", strconv.FormatInt(s.rateWindow.Milliseconds(), 10))
	resetMS := "0"
	if remaining == 0 {
		resetMS = strconv.FormatInt(max(reset.Milliseconds(), 1), 10)
	}
	h.Set("X-Lognex-Reset", resetMS)
	h.Set("X-Lognex-Retry-After", resetMS)
	return fits || !count
}

func (s *Server) takeScriptLocked(method, path string) (script, bool) {
	for i := range s.scripts {
		sc := &s.scripts[i]
		if sc.count > 0 && (sc.method == "" || sc.method == method) && strings.HasPrefix(path, sc.path) {
			sc.count--
			return *sc, true
		}
	}
	return script{}, false
}

// write sends the answer gzipped; with drop it sends the headers and half the body and
// closes the connection.
func (s *Server) write(w http.ResponseWriter, ex *exchange, drop bool) int {
	var payload []byte
	if ex.out != nil {
		data, _ := json.Marshal(ex.out)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(data)
		_ = zw.Close()
		payload = buf.Bytes()
	}
	h := w.Header()
	if ex.out != nil {
		h.Set("Content-Type", "application/json;charset=utf-8")
		h.Set("Content-Encoding", "gzip")
	}
	if drop {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("moyskladtest: the server cannot hijack connections")
		}
		conn, rw, err := hj.Hijack()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\nContent-Type: application/json;charset=utf-8\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n",
			ex.status, http.StatusText(ex.status), len(payload))
		_, _ = rw.Write(payload[:len(payload)/2])
		_ = rw.Flush()
		_ = conn.Close()
		return 0
	}
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	w.WriteHeader(ex.status)
	_, _ = w.Write(payload)
	return ex.status
}

// ---- helpers ----

// nowLocked advances the fake clock by one second and returns it in MoySklad's format.
func (s *Server) nowLocked() string {
	s.clock = s.clock.Add(time.Second)
	return s.clock.Format("2006-01-02 15:04:05.000")
}

func (s *Server) newIDLocked() string {
	s.seq++
	return fmt.Sprintf("%08x-%04x-11ee-8000-%012x", s.seq, s.seq%0xffff, s.seq)
}

func (s *Server) metaLocked(path, typ string) map[string]any {
	return map[string]any{"href": s.URL + "/" + path, "type": typ, "mediaType": "application/json"}
}

// insertLocked stores a new entity of typ with the common fields and returns it.
func (s *Server) insertLocked(typ string, fields map[string]any) map[string]any {
	id := s.newIDLocked()
	now := s.nowLocked()
	e := map[string]any{}
	for k, v := range fields {
		e[k] = v
	}
	e["id"] = id
	e["accountId"] = AccountID
	e["meta"] = s.metaLocked("entity/"+typ+"/"+id, typ)
	e["created"] = now
	e["updated"] = now
	if typ != "webhook" {
		e["owner"] = map[string]any{"meta": s.metaLocked("entity/employee/00000000-0000-4000-8000-000000000001", "employee")}
		e["shared"] = false
		e["archived"] = false
		if _, ok := e["externalCode"]; !ok {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			e["externalCode"] = base64.RawURLEncoding.EncodeToString(b)
		}
	}
	s.entities[typ] = append(s.entities[typ], e)
	return e
}

func (s *Server) findLocked(typ, id string) map[string]any {
	for _, e := range s.entities[typ] {
		if e["id"] == id {
			return e
		}
	}
	return nil
}

// byHrefLocked finds the entity an href points to on this server.
func (s *Server) byHrefLocked(href string) (string, map[string]any) {
	rest, ok := strings.CutPrefix(href, s.URL+"/entity/")
	if !ok {
		return "", nil
	}
	typ, id, ok := strings.Cut(rest, "/")
	if !ok {
		return "", nil
	}
	return typ, s.findLocked(typ, id)
}

// stateLocked finds a customer order state by its href, nil when none has it.
func (s *Server) stateLocked(href string) map[string]any {
	for _, st := range s.states {
		if m, _ := st["meta"].(map[string]any); m != nil && str(m["href"]) == href {
			return st
		}
	}
	return nil
}

func clone(m map[string]any) map[string]any {
	data, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// CreateOrder creates a customer order for a new counterparty named agentName with one
// position of the first product, as a manager would in MoySklad's UI: the CREATE event
// goes to the matching webhooks. It returns the order.
func (s *Server) CreateOrder(agentName string, quantity int) map[string]any {
	s.mu.Lock()
	agent := s.insertLocked("counterparty", map[string]any{"name": agentName, "companyType": "individual"})
	org := s.entities["organization"][0]
	product := s.entities["product"][0]
	s.mu.Unlock()
	ex := &exchange{status: http.StatusOK}
	s.createOrder(ex, map[string]any{
		"organization": map[string]any{"meta": org["meta"]},
		"agent":        map[string]any{"meta": agent["meta"]},
		"positions":    []any{map[string]any{"assortment": map[string]any{"meta": product["meta"]}, "quantity": float64(quantity), "price": 199000.0}},
	})
	s.emit(ex)
	out, _ := ex.out.(map[string]any)
	return out
}

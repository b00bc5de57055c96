// Package telegramtest is a fake Telegram Bot API server for tests. It runs on a loopback
// httptest server and reproduces the behaviours of the real API that connectors must
// handle (docs: the "Telegram fake" checklist of the service contracts):
//
//   - /bot<token>/<method> with case-insensitive method names, over GET or POST, with
//     parameters in the query string, a form, a multipart form or a JSON body;
//   - the JSON envelope: {"ok":true,"result":…} or {"ok":false,"error_code":N,
//     "description":"…","parameters":{…}} with the HTTP status equal to error_code;
//   - a wrong token (401 Unauthorized), a malformed path (404 Not Found) and an unknown
//     method (404 Not Found: method not found);
//   - sendMessage against a set of known chats: unknown chats, blocked users, groups
//     upgraded to supergroups (migrate_to_chat_id), empty text, broken HTML or Markdown,
//     scripted floods (429 with Retry-After and retry_after) and scripted failures;
//   - getUpdates over an update queue: offset confirms, negative offsets, limit, long
//     polling, and 409 while a webhook is set or when a newer getUpdates takes over;
//   - setWebhook, deleteWebhook and getWebhookInfo, and a pusher that POSTs queued
//     updates to the webhook with X-Telegram-Bot-Api-Secret-Token, retrying failures
//     with a bounded backoff and honouring Retry-After;
//   - getMe.
//
// Everything the fake receives is recorded for assertions (Requests, Calls, Messages).
//
// Differences from the real service, on purpose: the fake accepts http:// webhook URLs on
// any port, so tests can use loopback receivers (Telegram requires HTTPS on ports 443, 80,
// 88 or 8443); its webhook pusher gives up after a bounded number of attempts (Telegram
// keeps retrying for a day); message ids come from one counter for all chats; and
// entity parsing is a simplified check (balanced HTML tags, escaped MarkdownV2
// characters), not Telegram's parser.
//
// The package is for tests only: production code must not import it.
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the bot token a Server accepts unless WithToken sets another. It has
// the real format, <bot id>:<35 characters>.
const DefaultToken = "123456789:AAHookflowFakeTelegramToken-0123456"

// Chat types, as Telegram names them in Chat.type.
const (
	ChatPrivate    = "private"
	ChatGroup      = "group"
	ChatSupergroup = "supergroup"
	ChatChannel    = "channel"
)

// Defaults of the webhook pusher. They are small so tests stay fast; WithWebhookRetry
// changes them.
const (
	// WebhookMaxAttemptsDefault is how many times the pusher tries one update before it
	// drops it.
	WebhookMaxAttemptsDefault = 5
	// WebhookBackoffDefault is the wait after the first failed attempt; it doubles after
	// each further one.
	WebhookBackoffDefault = 50 * time.Millisecond
	// WebhookMaxWaitDefault caps a wait between attempts, Retry-After included.
	WebhookMaxWaitDefault = 2 * time.Second
	// WebhookTimeoutDefault bounds one delivery request.
	WebhookTimeoutDefault = 5 * time.Second
)

// tokenPattern is the shape of a bot token: a path that does not match is "Not Found",
// a well-formed but wrong token is "Unauthorized", as with the real server.
var tokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// Option configures a Server.
type Option func(*config)

type config struct {
	token           string
	webhookAttempts int
	webhookBackoff  time.Duration
	webhookMaxWait  time.Duration
	webhookTimeout  time.Duration
}

// WithToken makes the server accept token instead of DefaultToken. It must look like a
// bot token (<digits>:<letters, digits, _ or ->).
func WithToken(token string) Option {
	return func(c *config) { c.token = token }
}

// WithWebhookRetry sets how the webhook pusher retries a failed delivery: at most
// maxAttempts attempts per update, waiting backoff after the first failure and twice as
// long after each next one, each wait (a receiver's Retry-After included) capped at
// maxWait. Zero values keep the defaults.
func WithWebhookRetry(maxAttempts int, backoff, maxWait time.Duration) Option {
	return func(c *config) {
		if maxAttempts > 0 {
			c.webhookAttempts = maxAttempts
		}
		if backoff > 0 {
			c.webhookBackoff = backoff
		}
		if maxWait > 0 {
			c.webhookMaxWait = maxWait
		}
	}
}

// Chat is a chat the fake knows. sendMessage answers "chat not found" for any other.
type Chat struct {
	// ID is the chat id: positive for users, negative for groups, -100… for supergroups
	// and channels.
	ID int64
	// Type is ChatPrivate, ChatGroup, ChatSupergroup or ChatChannel. Default: private for
	// a positive id, group otherwise.
	Type string
	// Title names a group or channel; Username lets "@username" address the chat;
	// FirstName names a user.
	Title     string
	Username  string
	FirstName string
	// Blocked makes sendMessage answer 403 "Forbidden: bot was blocked by the user".
	Blocked bool
	// MigrateToChatID marks a group upgraded to a supergroup: sendMessage answers 400
	// with parameters.migrate_to_chat_id set to it.
	MigrateToChatID int64
}

// Message is a message the fake accepted through sendMessage.
type Message struct {
	MessageID int64
	// ChatID is the resolved chat id, also when the request named "@username".
	ChatID int64
	Date   int64
	// Text is the text as sent, markup included; Plain is it with the markup removed.
	Text  string
	Plain string
	// The options as received; nil or zero when absent.
	ParseMode             string
	LinkPreviewOptions    map[string]any
	DisableWebPagePreview *bool
	DisableNotification   bool
	ProtectContent        bool
	MessageThreadID       int64
	ReplyParameters       map[string]any
	ReplyMarkup           map[string]any
	// Params holds every parameter of the request, JSON-typed form values decoded.
	Params map[string]any
}

// Request is one request the fake received.
type Request struct {
	// Method is the Bot API method in its documented spelling ("sendMessage"), or as
	// the path spelled it when the fake does not know it.
	Method string
	// HTTPMethod and ContentType describe the transport.
	HTTPMethod  string
	ContentType string
	// Params holds the parameters from the query string and the body. Values from JSON
	// bodies keep their types (numbers as json.Number); form values are strings.
	Params map[string]any
	// Status is the HTTP status of the answer (0 while a long poll is still running);
	// Description is the error description of a failed call.
	Status      int
	Description string
}

// WebhookInfo is the webhook state, as getWebhookInfo reports it plus the secret.
type WebhookInfo struct {
	URL                string
	SecretToken        string
	MaxConnections     int
	AllowedUpdates     []string
	PendingUpdateCount int
	LastErrorDate      int64
	LastErrorMessage   string
}

// script is a scripted failure: the next count calls of method answer with it.
type script struct {
	method      string // lower case; "" for any method
	count       int
	status      int
	description string
	retryAfter  int
}

// webhook is the registered webhook. The pusher compares pointers to notice a change.
type webhook struct {
	url            string
	secret         string
	maxConnections int
}

// longPoll is a getUpdates request waiting for updates; a newer getUpdates closes
// terminated to make it answer 409.
type longPoll struct {
	terminated chan struct{}
}

// storedUpdate is a queued update with its id and type.
type storedUpdate struct {
	id   int64
	kind string
	body map[string]any
}

// Server is a running fake Bot API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to configure as the connection's base_url
	// ("http://127.0.0.1:port"); requests go to URL + "/bot" + Token + "/<method>".
	URL string
	// Token is the bot token the server accepts, and BotID the number before its colon.
	Token string
	BotID int64

	t      testing.TB
	cfg    config
	srv    *httptest.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	push   *http.Client

	mu sync.Mutex
	// changed is closed and replaced whenever the queue, the webhook or the deliveries
	// change, waking long polls, the pusher and PushUpdate.
	changed        chan struct{}
	chats          map[int64]*Chat
	nextMessageID  int64
	messages       []Message
	requests       []Request
	scripts        []script
	updates        []storedUpdate
	lastUpdateID   int64
	allowedUpdates []string // nil: Telegram's default set
	hook           *webhook
	lastErrorDate  int64
	lastErrorMsg   string
	deliveries     []Delivery
	poll           *longPoll
}

// NewServer starts a fake Bot API on loopback and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{
		token:           DefaultToken,
		webhookAttempts: WebhookMaxAttemptsDefault,
		webhookBackoff:  WebhookBackoffDefault,
		webhookMaxWait:  WebhookMaxWaitDefault,
		webhookTimeout:  WebhookTimeoutDefault,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if !tokenPattern.MatchString(cfg.token) {
		t.Fatalf("telegramtest: token %q does not look like a bot token", cfg.token)
	}
	botID, _ := strconv.ParseInt(cfg.token[:strings.IndexByte(cfg.token, ':')], 10, 64)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Token:  cfg.token,
		BotID:  botID,
		t:      t,
		cfg:    cfg,
		ctx:    ctx,
		cancel: cancel,
		push: &http.Client{
			Timeout: cfg.webhookTimeout,
			// A redirect is a failed delivery, as for the engine's own webhooks.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		changed:      make(chan struct{}),
		chats:        map[int64]*Chat{},
		lastUpdateID: 846_381_000, // real ids are large; tests use the ids AddUpdate returns
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	s.wg.Add(1)
	go s.pushLoop()
	t.Cleanup(s.Close)
	return s
}

// Close stops the pusher, ends waiting long polls and shuts the server down. It is
// called when the test ends; calling it earlier simulates an unreachable API.
func (s *Server) Close() {
	s.once.Do(func() {
		// Cancel first: httptest.Server.Close waits for handlers, and long polls wait on ctx.
		s.cancel()
		s.wg.Wait()
		s.srv.Close()
	})
}

// BotURL returns the URL of a method for the server's token.
func (s *Server) BotURL(method string) string {
	return s.URL + "/bot" + s.Token + "/" + method
}

// AddChat makes the fake know a chat, replacing one with the same id.
func (s *Server) AddChat(c Chat) {
	if c.Type == "" {
		c.Type = ChatPrivate
		if c.ID < 0 {
			c.Type = ChatGroup
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[c.ID] = &c
}

// Flood makes the next count calls of method (case-insensitive; "" for any method)
// answer 429 "Too Many Requests: retry after N" with the Retry-After header and
// parameters.retry_after set to retryAfterSeconds.
func (s *Server) Flood(method string, count, retryAfterSeconds int) {
	s.script(script{method: strings.ToLower(method), count: count, status: http.StatusTooManyRequests,
		description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfterSeconds), retryAfter: retryAfterSeconds})
}

// FailNext makes the next count calls of method (case-insensitive; "" for any method)
// answer status with description, such as 500 "Internal Server Error" or 502 "Bad
// Gateway".
func (s *Server) FailNext(method string, count, status int, description string) {
	s.script(script{method: strings.ToLower(method), count: count, status: status, description: description})
}

func (s *Server) script(sc script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, sc)
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// Calls counts the requests for method (case-insensitive), whatever their answer.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.EqualFold(r.Method, method) {
			n++
		}
	}
	return n
}

// Webhook returns the webhook state; URL is "" when none is set.
func (s *Server) Webhook() WebhookInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := WebhookInfo{
		PendingUpdateCount: len(s.updates),
		LastErrorDate:      s.lastErrorDate,
		LastErrorMessage:   s.lastErrorMsg,
		AllowedUpdates:     append([]string(nil), s.allowedUpdates...),
	}
	if s.hook != nil {
		info.URL, info.SecretToken, info.MaxConnections = s.hook.url, s.hook.secret, s.hook.maxConnections
	}
	return info
}

// SetWebhook sets a webhook as setWebhook would, without the checks, so a test can start
// from a bot that has one. An empty url removes it.
func (s *Server) SetWebhook(url, secretToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if url == "" {
		s.hook = nil
	} else {
		s.hook = &webhook{url: url, secret: secretToken, maxConnections: 40}
	}
	s.broadcastLocked()
}

// broadcastLocked wakes everything waiting for a change. s.mu must be held.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// serveHTTP routes /bot<token>/<method>.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, name, hasMethod := strings.Cut(rest, "/")
	if !ok || !hasMethod || name == "" || strings.Contains(name, "/") || !tokenPattern.MatchString(token) {
		writeJSON(w, http.StatusNotFound, errorBody(http.StatusNotFound, "Not Found", nil))
		return
	}
	m, known := methods[strings.ToLower(name)]
	canonical := name
	if known {
		canonical = m.name
	}
	ex := &exchange{s: s, w: w, r: r}
	params, perr := readParams(r)
	ex.index = s.record(Request{Method: canonical, HTTPMethod: r.Method, ContentType: r.Header.Get("Content-Type"), Params: params})
	switch {
	case token != s.Token:
		ex.fail(http.StatusUnauthorized, "Unauthorized", nil)
	case !known:
		ex.fail(http.StatusNotFound, "Not Found: method not found", nil)
	case perr != nil:
		ex.fail(http.StatusBadRequest, "Bad Request: "+perr.Error(), nil)
	default:
		if sc, scripted := s.takeScript(m.name); scripted {
			var p map[string]any
			if sc.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(sc.retryAfter))
				p = map[string]any{"retry_after": sc.retryAfter}
			}
			ex.fail(sc.status, sc.description, p)
			return
		}
		m.handle(ex, params)
	}
}

func (s *Server) record(r Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	return len(s.requests) - 1
}

func (s *Server) takeScript(method string) (script, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.scripts {
		sc := &s.scripts[i]
		if sc.count > 0 && (sc.method == "" || sc.method == strings.ToLower(method)) {
			sc.count--
			return *sc, true
		}
	}
	return script{}, false
}

// exchange is one request being answered.
type exchange struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	index int
}

func (ex *exchange) ok(result any, description string) {
	body := map[string]any{"ok": true, "result": result}
	if description != "" {
		body["description"] = description
	}
	ex.finish(http.StatusOK, "")
	writeJSON(ex.w, http.StatusOK, body)
}

func (ex *exchange) fail(code int, description string, parameters map[string]any) {
	ex.finish(code, description)
	writeJSON(ex.w, code, errorBody(code, description, parameters))
}

func (ex *exchange) finish(status int, description string) {
	ex.s.mu.Lock()
	defer ex.s.mu.Unlock()
	ex.s.requests[ex.index].Status = status
	ex.s.requests[ex.index].Description = description
}

func errorBody(code int, description string, parameters map[string]any) map[string]any {
	body := map[string]any{"ok": false, "error_code": code, "description": description}
	if len(parameters) > 0 {
		body["parameters"] = parameters
	}
	return body
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// maxBodyBytes bounds request bodies; Bot API requests without files are small.
const maxBodyBytes = 1 << 20

// readParams merges the query string with the body's parameters, as the Bot API does.
func readParams(r *http.Request) (map[string]any, error) {
	out := map[string]any{}
	for k, vs := range r.URL.Query() {
		out[k] = vs[0]
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return out, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBodyBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		var body map[string]any
		if err := dec.Decode(&body); err != nil {
			return out, fmt.Errorf("can't parse JSON object: %v", err)
		}
		for k, v := range body {
			out[k] = v
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return out, fmt.Errorf("can't parse form: %v", err)
		}
		for k, vs := range r.PostForm {
			out[k] = vs[0]
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBodyBytes); err != nil {
			return out, fmt.Errorf("can't parse multipart form: %v", err)
		}
		for k, vs := range r.MultipartForm.Value {
			out[k] = vs[0]
		}
	}
	return out, nil
}

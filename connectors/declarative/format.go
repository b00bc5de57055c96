package declarative

// The types below are the connector file format, version 1 (hookflow_connector: 1). A file
// is YAML or JSON; both decode into File. schema.json is the same format as a JSON
// Schema; TestSchemaMatchesFormat keeps the two in step.
//
// Every string that reaches a request or an output is a template of the workflow language
// ({{ expr }} with expr-lang, engine/expr): a value that is exactly one {{ }} keeps its
// type, mixed text is a string. A part that renders nil is an error naming the
// expression, unless the expression gives its own default (?? or default(...)). Fields
// documented as "expression" are bare expressions without braces (items, item_key, next,
// message, success_when...).

// FormatVersion is the only value of hookflow_connector this build reads.
const FormatVersion = 1

// File is one connector file.
type File struct {
	HookflowConnector int `json:"hookflow_connector"`
	// Name is the connector's namespace in workflows ("github" → "github.create_issue").
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Version is the integrator's own version of the file (free text, semver advised),
	// shown in the connector list.
	Version string `json:"version,omitempty"`
	// BaseURL is the template every request path is joined to. It may read connection
	// settings ({{ conn.base_url }}), for self-hosted services.
	BaseURL    string             `json:"base_url"`
	Connection ConnectionSpec     `json:"connection"`
	Defaults   Defaults           `json:"defaults,omitempty"`
	Actions    map[string]Action  `json:"actions,omitempty"`
	Triggers   map[string]Trigger `json:"triggers,omitempty"`
}

// Field is a connection setting, an action input, a trigger input or an item field.
type Field struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // string, integer, number, boolean, object, array, any
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Default     any      `json:"default,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	Format      string   `json:"format,omitempty"` // email, uri, date-time: checked on input
	// Secret (connection fields): encrypted at rest, masked everywhere, and refused in a
	// URL (path or query) unless AllowInURL is set.
	Secret     bool `json:"secret,omitempty"`
	AllowInURL bool `json:"allow_in_url,omitempty"`
	// Endpoint (connection fields) marks a setting that decides where secrets go (a base
	// URL): changing it without sending the secrets again is refused.
	Endpoint bool    `json:"endpoint,omitempty"`
	Examples []any   `json:"examples,omitempty"`
	Send     *Send   `json:"send,omitempty"` // action inputs only
	Items    *Field  `json:"items,omitempty"`
	Fields   []Field `json:"fields,omitempty"`
	Value    string  `json:"value,omitempty"` // outputs only: template over the response
}

// Send places an action input's value in the request, so that most actions need no body
// template. Exactly one of its members is set. Body and Query take a dotted path
// ("contact.email" builds {"contact": {"email": v}}). An input that is absent (nil) is
// not sent; with the request's omit_empty, an empty string is not sent either.
type Send struct {
	Body   string `json:"body,omitempty"`
	Query  string `json:"query,omitempty"`
	Header string `json:"header,omitempty"`
}

// ConnectionSpec is what a connection of the connector holds and how it authenticates.
type ConnectionSpec struct {
	Fields []Field `json:"fields,omitempty"`
	Auth   Auth    `json:"auth"`
	// Test is the request "Test connection" sends; any status outside Expect fails it.
	Test *TestRequest `json:"test,omitempty"`
}

// Auth is how every request of the connector is authenticated. Templates see conn.
type Auth struct {
	// Kind: none, header, query, basic, bearer, oauth2_client_credentials,
	// oauth2_refresh_token.
	Kind string `json:"kind"`
	// header: Name and Value. query: Param and Value.
	Name  string `json:"name,omitempty"`
	Param string `json:"param,omitempty"`
	Value string `json:"value,omitempty"`
	// basic
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// bearer
	Token string `json:"token,omitempty"`
	// oauth2_*: the token endpoint (absolute, or a path joined to base_url), the client's
	// credentials, scopes, and whether the client authenticates with HTTP basic
	// ("header", the default) or form fields ("body").
	TokenURL     string   `json:"token_url,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Style        string   `json:"style,omitempty"`
	// oauth2_refresh_token: the connection field holding the refresh token. When the token
	// endpoint answers with a new refresh token (rotation), it is written back to that
	// field atomically (compare-and-swap on the old value) before the access token is used.
	RefreshTokenField string `json:"refresh_token_field,omitempty"`
	// ExtraParams are sent with every token request (audience, resource...).
	ExtraParams map[string]string `json:"extra_params,omitempty"`
}

// TestRequest is a connection test.
type TestRequest struct {
	Method string            `json:"method,omitempty"` // default GET
	Path   string            `json:"path"`
	Query  map[string]any    `json:"query,omitempty"`
	Header map[string]string `json:"headers,omitempty"`
	Expect []int             `json:"expect,omitempty"` // default any 2xx
}

// Defaults apply to every request of the connector.
type Defaults struct {
	Headers map[string]string `json:"headers,omitempty"`
	Timeout Duration          `json:"timeout,omitempty"` // default 30s
	Limits  Limits            `json:"limits,omitempty"`
	Errors  Errors            `json:"errors,omitempty"`
}

// Limits are shared by every action and trigger of one connection in one process.
type Limits struct {
	// Rate is "N/duration" ("15/3s", "5000/1h"): at most N requests per duration.
	Rate string `json:"rate,omitempty"`
	// Concurrency is the most requests in flight at once.
	Concurrency int `json:"concurrency,omitempty"`
}

// Errors decides what a response means.
type Errors struct {
	// RetryOn lists the statuses worth retrying. Default 408, 429, 500–599.
	RetryOn []int `json:"retry_on,omitempty"`
	// FailOn lists statuses that fail permanently even though RetryOn would retry them.
	FailOn []int `json:"fail_on,omitempty"`
	// RefreshAuthOn (oauth2 kinds only): refresh the access token once and retry once.
	// Default [401] for oauth2 kinds.
	RefreshAuthOn []int `json:"refresh_auth_on,omitempty"`
	// WaitFrom lists headers that say how long to wait before retrying, first match wins.
	// Default Retry-After in seconds (or an HTTP date).
	WaitFrom []WaitHeader `json:"wait_from,omitempty"`
	// Backoff applies to the retries a poll or a connection test makes by itself. Actions
	// are retried by their step's retry policy, which waits at least what WaitFrom says.
	Backoff Backoff `json:"backoff,omitempty"`
	// Message is an expression over the response (body, headers, status) giving the
	// service's own error text, shown in the run.
	Message string `json:"message,omitempty"`
	// SuccessWhen is an expression over a 2xx response that must be true, for services
	// that answer 200 with an error inside ("body.ok == true"). False: a permanent error
	// with Message.
	SuccessWhen string `json:"success_when,omitempty"`
	// RetryWhen is an expression over a non-2xx response that makes it retryable when
	// true, whatever retry_on says (fail_on still wins): GitHub answers an exhausted rate
	// limit with 403 and x-ratelimit-remaining 0, while other 403s are permanent.
	RetryWhen string `json:"retry_when,omitempty"`
}

// WaitHeader is one header carrying a wait.
type WaitHeader struct {
	Header string `json:"header"`
	// Unit: s (seconds, or an HTTP date as Retry-After allows), ms, or epoch (a Unix
	// time in seconds at which to retry, as X-RateLimit-Reset).
	Unit string `json:"unit,omitempty"`
	// Statuses are the retried statuses the header is read on; default 429 and 503.
	// GitHub sends X-RateLimit-Reset on every response: read on a 500 it would hold the
	// retry until the end of the rate window.
	Statuses []int `json:"statuses,omitempty"`
}

// Backoff is an exponential backoff.
type Backoff struct {
	Initial     Duration `json:"initial,omitempty"`      // default 1s
	Max         Duration `json:"max,omitempty"`          // default 60s
	MaxAttempts int      `json:"max_attempts,omitempty"` // default 5, the first included
}

// Request is an HTTP request template.
type Request struct {
	Method string `json:"method,omitempty"` // default GET
	// Path is joined to base_url. Each {{ }} in it renders one path segment's text and is
	// escaped as one ("a/b" → "a%2Fb"). An absolute URL is allowed only where documented.
	Path    string            `json:"path"`
	Query   map[string]any    `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// BodyKind: json (default when there is a body or an input with send.body), form,
	// or none.
	BodyKind string `json:"body_kind,omitempty"`
	// Body is a template tree (objects, lists, strings with {{ }}); inputs with send.body
	// are merged into it.
	Body any `json:"body,omitempty"`
	// OmitEmpty drops nil and "" values from the query and the body.
	OmitEmpty bool `json:"omit_empty,omitempty"`
}

// Action is one action of the connector.
type Action struct {
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Input       []Field `json:"input,omitempty"`
	Request     Request `json:"request"`
	// Output maps output names to templates over the response: body, headers, status,
	// and input. Without outputs the action returns {status, body}.
	Output []Field `json:"output,omitempty"`
	// Errors overrides the connector's defaults for this action (retry_on, fail_on,
	// message, success_when; the lists replace, they do not add).
	Errors *Errors `json:"errors,omitempty"`
	// Idempotency sends the step's idempotency key, the same on every retry of a step.
	Idempotency *Idempotency `json:"idempotency,omitempty"`
}

// Idempotency places the step's idempotency key: in a header or in a body field.
type Idempotency struct {
	Header    string `json:"header,omitempty"`
	BodyField string `json:"body_field,omitempty"`
}

// Trigger is a poll trigger.
type Trigger struct {
	Kind        string  `json:"kind"` // poll
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Input       []Field `json:"input,omitempty"`
	// Request templates see conn, input, cursor (the saved cursor minus the overlap,
	// formatted), page (number, offset, limit, token), and now.
	Request Request `json:"request"`
	// Items is an expression over one page's response (body, headers, status) giving
	// the list of items.
	Items string `json:"items"`
	// ItemKey is an expression over item identifying it ("item.id"); the engine keeps the
	// keys it has seen, so overlapping pages never start a run twice.
	ItemKey string `json:"item_key"`
	// Item describes an item's fields for the builder and the docs.
	Item []Field `json:"item,omitempty"`
	// Order says how the API lists items: "asc" (oldest first, the default) or "desc";
	// runs always start oldest first.
	Order      string      `json:"order,omitempty"`
	Cursor     *Cursor     `json:"cursor,omitempty"`
	Pagination *Pagination `json:"pagination,omitempty"`
	Errors     *Errors     `json:"errors,omitempty"`
}

// Cursor is what a poll remembers between polls.
type Cursor struct {
	// Type: datetime, number or token.
	Type string `json:"type"`
	// Value: for datetime and number, an expression over item; the new cursor is the
	// largest value seen. For token, an expression over the last page's response.
	Value string `json:"value"`
	// Overlap is subtracted before the cursor is used (a duration for datetime, a number
	// for number), so that items written late are still found; the seen keys stop
	// duplicates.
	Overlap string `json:"overlap,omitempty"`
	// Initial is the cursor of the first poll: "now" (the default for datetime: no
	// backfill) or a literal value.
	Initial any `json:"initial,omitempty"`
	// Format is the Go time layout the cursor is written in ({{ cursor }}); default
	// RFC 3339. "unix" and "unix_ms" give numbers.
	Format string `json:"format,omitempty"`
	// Location is the time zone the cursor is formatted in; default UTC.
	Location string `json:"location,omitempty"`
}

// Pagination is how a poll fetches further pages.
type Pagination struct {
	// Kind: page_number, offset, cursor_token, link_header or next_url.
	Kind string `json:"kind"`
	// page_number: Param (default "page") starting at Start (default 1); SizeParam and
	// Size set the page size. offset: Param (default "offset"), SizeParam (default
	// "limit") and Size.
	Param     string `json:"param,omitempty"`
	Start     *int   `json:"start,omitempty"`
	SizeParam string `json:"size_param,omitempty"`
	Size      int    `json:"size,omitempty"`
	// cursor_token: Next is an expression over the response giving the next token; In
	// says where it goes (query, the default; body; header) under Param.
	// next_url: Next is an expression giving the next page's absolute URL.
	Next string `json:"next,omitempty"`
	In   string `json:"in,omitempty"`
	// link_header: Rel (default "next") of the Link header.
	Rel string `json:"rel,omitempty"`
	// Stop: no_next (default for token and URL kinds), empty_page (default for
	// page_number and offset), has_more (HasMore is false), total (Total items reached),
	// or short_page (a page with fewer than Size items; only when asked: it loses
	// records on APIs that cut pages short).
	Stop    string `json:"stop,omitempty"`
	HasMore string `json:"has_more,omitempty"` // expression over the response
	Total   string `json:"total,omitempty"`    // expression over the response
	// MaxPages bounds one poll (default 20). The next poll goes on from the cursor.
	MaxPages int `json:"max_pages,omitempty"`
}

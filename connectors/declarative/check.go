package declarative

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"go.yaml.in/yaml/v3"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/expr"
)

// The scopes of a file's templates and expressions: the names each place sees besides
// the workflow language's own. The runtime may offer more names; compiling with only
// these catches a variable used where it holds nothing (cursor in an action).
var (
	scopeConn     = expr.NewScope("conn")                                   // base_url, auth, connection test, default headers
	scopeAction   = expr.NewScope("conn", "input")                          // an action's request
	scopeResponse = expr.NewScope("body", "headers", "status", "input")     // outputs, errors.message, errors.success_when
	scopePoll     = expr.NewScope("conn", "input", "cursor", "page", "now") // a trigger's request
	scopePage     = expr.NewScope("body", "headers", "status")              // items, has_more, total, next, a token cursor
	scopeItem     = expr.NewScope("item")                                   // item_key, a datetime or number cursor
)

// checker runs the checks the schema cannot express on a decoded file. Problems stop
// loading; warnings (Lint) do not.
type checker struct {
	doc      *document
	f        *File
	conn     map[string]*Field // connection fields by name
	problems []Problem
	warnings []Problem
}

func newChecker(doc *document, f *File) *checker {
	c := &checker{doc: doc, f: f, conn: map[string]*Field{}}
	for i := range f.Connection.Fields {
		fd := &f.Connection.Fields[i]
		if _, dup := c.conn[fd.Name]; !dup {
			c.conn[fd.Name] = fd
		}
	}
	return c
}

// at builds a path's tokens from keys and list indexes.
func at(parts ...any) []string {
	tokens := make([]string, 0, len(parts))
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			tokens = append(tokens, v)
		case int:
			tokens = append(tokens, strconv.Itoa(v))
		case []string:
			tokens = append(tokens, v...)
		}
	}
	return tokens
}

func (c *checker) report(list *[]Problem, tokens []string, atKey bool, format string, args ...any) {
	line, col := c.doc.position(tokens, atKey)
	*list = append(*list, Problem{Path: c.doc.path(tokens), Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// problem reports a problem about the value at tokens.
func (c *checker) problem(tokens []string, format string, args ...any) {
	c.report(&c.problems, tokens, false, format, args...)
}

// problemAtKey reports a problem about a key itself (a member that should not be there).
func (c *checker) problemAtKey(tokens []string, format string, args ...any) {
	c.report(&c.problems, tokens, true, format, args...)
}

func (c *checker) warn(tokens []string, format string, args ...any) {
	c.report(&c.warnings, tokens, false, format, args...)
}

func (c *checker) run() {
	f := c.f
	c.checkBaseURL()
	c.fields(at("connection", "fields"), f.Connection.Fields, fieldConnection)
	c.auth()
	c.connectionTest()
	c.defaults()
	if len(f.Actions) == 0 && len(f.Triggers) == 0 {
		c.warn(nil, "the connector has no actions and no triggers")
	}
	for _, name := range slices.Sorted(maps.Keys(f.Actions)) {
		a := f.Actions[name]
		c.action(at("actions", name), &a)
	}
	for _, name := range slices.Sorted(maps.Keys(f.Triggers)) {
		t := f.Triggers[name]
		c.trigger(at("triggers", name), &t)
	}
}

func (c *checker) checkBaseURL() {
	tokens := at("base_url")
	s := c.f.BaseURL
	if strings.Contains(s, "{{") {
		c.template(tokens, s, tmplCtx{scope: scopeConn, url: true})
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.problem(tokens, "%q is not an absolute http(s) URL, nor a template", s)
		return
	}
	if u.RawQuery != "" || u.Fragment != "" {
		c.problem(tokens, "a base URL has no query or fragment; put parameters in each request's query")
	}
}

type fieldKind int

const (
	fieldConnection fieldKind = iota
	fieldActionInput
	fieldActionOutput
	fieldTriggerInput
	fieldItem
	fieldNested // items and fields of another field
)

func (k fieldKind) String() string {
	switch k {
	case fieldConnection:
		return "connection fields"
	case fieldActionInput:
		return "action inputs"
	case fieldActionOutput:
		return "action outputs"
	case fieldTriggerInput:
		return "trigger inputs"
	case fieldItem:
		return "item fields"
	}
	return "nested fields"
}

// fields checks a field list: unique names, values that fit their type, and members
// used only where they mean something.
func (c *checker) fields(tokens []string, fields []Field, kind fieldKind) {
	seen := map[string]int{}
	for i := range fields {
		fd := &fields[i]
		ft := at(tokens, i)
		if first, dup := seen[fd.Name]; dup {
			c.problem(at(ft, "name"), "field %q is declared twice (first at index %d)", fd.Name, first)
		} else {
			seen[fd.Name] = i
		}
		c.field(ft, fd, kind)
	}
}

func (c *checker) field(tokens []string, fd *Field, kind fieldKind) {
	sdk := connectors.Field{Name: fd.Name, Type: connectors.FieldType(fd.Type), Enum: fd.Enum}
	if len(fd.Enum) > 0 && fd.Type != string(connectors.TypeString) {
		c.problemAtKey(at(tokens, "enum"), "an enum needs type string, not %s", fd.Type)
		sdk.Enum = nil
	}
	if fd.Default != nil {
		if err := sdk.CheckValue(fd.Default); err != nil {
			c.problem(at(tokens, "default"), "the default does not fit the field: %v", err)
		}
	}
	for i, e := range fd.Examples {
		if err := sdk.CheckValue(e); err != nil {
			c.problem(at(tokens, "examples", i), "the example does not fit the field: %v", err)
		}
	}
	if fd.Format != "" && fd.Type != string(connectors.TypeString) {
		c.problemAtKey(at(tokens, "format"), "a format needs type string, not %s", fd.Type)
	}
	if fd.Items != nil && fd.Type != string(connectors.TypeArray) {
		c.problemAtKey(at(tokens, "items"), "items describe an array field, not %s", fd.Type)
	}
	if len(fd.Fields) > 0 && fd.Type != string(connectors.TypeObject) {
		c.problemAtKey(at(tokens, "fields"), "fields describe an object field, not %s", fd.Type)
	}
	if kind == fieldConnection {
		if fd.Secret && fd.Endpoint {
			c.problemAtKey(at(tokens, "endpoint"), "a field is either an endpoint or a secret, not both")
		}
		if fd.AllowInURL && !fd.Secret {
			c.problemAtKey(at(tokens, "allow_in_url"), "allow_in_url is for secret fields")
		}
		if fd.Secret && fd.Default != nil {
			c.problemAtKey(at(tokens, "default"), "a secret field has no default: the file is not secret")
		}
	} else {
		for _, m := range []struct {
			set  bool
			name string
		}{{fd.Secret, "secret"}, {fd.AllowInURL, "allow_in_url"}, {fd.Endpoint, "endpoint"}} {
			if m.set {
				c.problemAtKey(at(tokens, m.name), "%s is for connection fields, not %s", m.name, kind)
			}
		}
	}
	if fd.Send != nil {
		if kind != fieldActionInput {
			c.problemAtKey(at(tokens, "send"), "send is for action inputs, not %s", kind)
		} else if n := countSet(fd.Send.Body, fd.Send.Query, fd.Send.Header); n != 1 {
			c.problem(at(tokens, "send"), "send takes exactly one of body, query and header, not %d", n)
		}
	}
	if fd.Value != "" {
		if kind != fieldActionOutput {
			c.problemAtKey(at(tokens, "value"), "value is for action outputs, not %s", kind)
		} else {
			c.template(at(tokens, "value"), fd.Value, tmplCtx{scope: scopeResponse})
		}
	}
	if fd.Items != nil {
		c.field(at(tokens, "items"), fd.Items, fieldNested)
	}
	c.fields(at(tokens, "fields"), fd.Fields, fieldNested)
}

func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

// authMembers lists, by kind, the members each auth kind requires and those it accepts.
var authMembers = map[string]struct{ required, optional []string }{
	"none":                      {},
	"header":                    {required: []string{"name", "value"}},
	"query":                     {required: []string{"param", "value"}},
	"basic":                     {required: []string{"username"}, optional: []string{"password"}},
	"bearer":                    {required: []string{"token"}},
	"oauth2_client_credentials": {required: []string{"token_url", "client_id", "client_secret"}, optional: []string{"scopes", "style", "extra_params"}},
	"oauth2_refresh_token":      {required: []string{"token_url", "client_id", "refresh_token_field"}, optional: []string{"client_secret", "scopes", "style", "extra_params"}},
}

func (c *checker) auth() {
	a := &c.f.Connection.Auth
	tokens := at("connection", "auth")
	members := map[string]bool{
		"name": a.Name != "", "param": a.Param != "", "value": a.Value != "",
		"username": a.Username != "", "password": a.Password != "", "token": a.Token != "",
		"token_url": a.TokenURL != "", "client_id": a.ClientID != "", "client_secret": a.ClientSecret != "",
		"scopes": len(a.Scopes) > 0, "style": a.Style != "", "refresh_token_field": a.RefreshTokenField != "",
		"extra_params": len(a.ExtraParams) > 0,
	}
	spec, ok := authMembers[a.Kind]
	if !ok {
		return // the schema's enum reported it
	}
	for _, m := range spec.required {
		if !members[m] {
			c.problem(tokens, "auth kind %s needs %s", a.Kind, m)
		}
	}
	for _, m := range slices.Sorted(maps.Keys(members)) {
		if members[m] && !slices.Contains(spec.required, m) && !slices.Contains(spec.optional, m) {
			c.problemAtKey(at(tokens, m), "auth kind %s does not use %s", a.Kind, m)
		}
	}
	ctx := tmplCtx{scope: scopeConn}
	for _, t := range []struct{ name, value string }{
		{"username", a.Username}, {"password", a.Password}, {"token", a.Token},
		{"client_id", a.ClientID}, {"client_secret", a.ClientSecret},
	} {
		if t.value != "" {
			c.template(at(tokens, t.name), t.value, ctx)
		}
	}
	if a.Value != "" {
		// A query auth puts its value in every URL.
		c.template(at(tokens, "value"), a.Value, tmplCtx{scope: scopeConn, url: a.Kind == "query"})
	}
	if a.TokenURL != "" {
		c.urlTemplate(at(tokens, "token_url"), a.TokenURL, tmplCtx{scope: scopeConn, url: true}, true)
	}
	for _, k := range slices.Sorted(maps.Keys(a.ExtraParams)) {
		c.template(at(tokens, "extra_params", k), a.ExtraParams[k], ctx)
	}
	if a.RefreshTokenField != "" {
		fd := c.conn[a.RefreshTokenField]
		switch {
		case fd == nil:
			c.problem(at(tokens, "refresh_token_field"), "no connection field is named %q", a.RefreshTokenField)
		case !fd.Secret:
			c.problem(at(tokens, "refresh_token_field"), "connection field %q holds a refresh token: mark it secret", a.RefreshTokenField)
		case fd.Type != string(connectors.TypeString):
			c.problem(at(tokens, "refresh_token_field"), "connection field %q holds a refresh token: its type is string", a.RefreshTokenField)
		}
	}
}

func (c *checker) isOAuth2() bool { return strings.HasPrefix(c.f.Connection.Auth.Kind, "oauth2_") }

func (c *checker) connectionTest() {
	t := c.f.Connection.Test
	tokens := at("connection", "test")
	if t == nil {
		c.warn(at("connection"), "no connection test: add connection.test so that \"Test connection\" checks the settings with the service")
		return
	}
	ctx := tmplCtx{scope: scopeConn}
	c.urlTemplate(at(tokens, "path"), t.Path, tmplCtx{scope: scopeConn, url: true}, false)
	c.tree(at(tokens, "query"), t.Query, tmplCtx{scope: scopeConn, url: true})
	c.headers(at(tokens, "headers"), t.Header, ctx)
}

func (c *checker) headers(tokens []string, h map[string]string, ctx tmplCtx) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		c.template(at(tokens, k), h[k], ctx)
	}
}

func (c *checker) defaults() {
	d := &c.f.Defaults
	c.headers(at("defaults", "headers"), d.Headers, tmplCtx{scope: scopeConn})
	if d.Limits.Rate != "" {
		if _, _, err := rateOf(d.Limits.Rate); err != nil {
			c.problem(at("defaults", "limits", "rate"), "%v", err)
		}
	}
	c.errors(at("defaults", "errors"), &d.Errors)
}

// rateOf reads a rate "N/duration" ("15/3s"): at most n requests per period.
func rateOf(s string) (n int, period time.Duration, err error) {
	count, dur, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("rate %q: want \"N/duration\" such as \"15/3s\"", s)
	}
	n, err = strconv.Atoi(count)
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("rate %q: the count is a positive integer", s)
	}
	period, err = time.ParseDuration(dur)
	if err != nil || period <= 0 {
		return 0, 0, fmt.Errorf("rate %q: the period is a positive duration such as \"3s\"", s)
	}
	return n, period, nil
}

func (c *checker) errors(tokens []string, e *Errors) {
	if e == nil {
		return
	}
	ctx := tmplCtx{scope: scopeResponse}
	if e.Message != "" {
		c.expression(at(tokens, "message"), e.Message, ctx)
	}
	if e.SuccessWhen != "" {
		c.expression(at(tokens, "success_when"), e.SuccessWhen, ctx)
	}
	if e.RetryWhen != "" {
		c.expression(at(tokens, "retry_when"), e.RetryWhen, ctx)
	}
	if len(e.RefreshAuthOn) > 0 && !c.isOAuth2() {
		c.problemAtKey(at(tokens, "refresh_auth_on"), "refresh_auth_on is for oauth2 auth kinds, not %s", c.f.Connection.Auth.Kind)
	}
	if b := e.Backoff; b.Initial > 0 && b.Max > 0 && b.Initial > b.Max {
		c.problem(at(tokens, "backoff", "max"), "the backoff's max (%v) is below its initial wait (%v)", time.Duration(b.Max), time.Duration(b.Initial))
	}
}

func (c *checker) action(tokens []string, a *Action) {
	c.fields(at(tokens, "input"), a.Input, fieldActionInput)
	c.fields(at(tokens, "output"), a.Output, fieldActionOutput)
	inputs := fieldNames(a.Input)
	c.request(at(tokens, "request"), &a.Request, tmplCtx{scope: scopeAction, inputs: inputs})
	c.errors(at(tokens, "errors"), a.Errors)
	r := &a.Request
	sendsBody := false
	for i, in := range a.Input {
		if in.Send != nil && in.Send.Body != "" {
			sendsBody = true
			if r.BodyKind == "none" {
				c.problem(at(tokens, "input", i, "send", "body"), "the request's body_kind is none")
			}
		}
	}
	if sendsBody && r.Body != nil {
		if _, ok := r.Body.(map[string]any); !ok {
			c.problem(at(tokens, "request", "body"), "inputs with send.body are merged into the body, which must then be an object")
		}
	}
	if id := a.Idempotency; id != nil {
		if n := countSet(id.Header, id.BodyField); n != 1 {
			c.problem(at(tokens, "idempotency"), "idempotency takes exactly one of header and body_field, not %d", n)
		} else if id.BodyField != "" && r.BodyKind == "none" {
			c.problem(at(tokens, "idempotency", "body_field"), "the request's body_kind is none")
		}
	} else if m := r.Method; m == "POST" || m == "PUT" || m == "PATCH" {
		c.warn(at(tokens, "request", "method"), "%s without idempotency: retries may act twice; add idempotency if the service supports it", m)
	}
	if a.Description == "" {
		c.warn(tokens, "the action has no description")
	}
}

func fieldNames(fields []Field) map[string]bool {
	names := make(map[string]bool, len(fields))
	for _, f := range fields {
		names[f.Name] = true
	}
	return names
}

func (c *checker) request(tokens []string, r *Request, ctx tmplCtx) {
	urlCtx := ctx
	urlCtx.url = true
	c.urlTemplate(at(tokens, "path"), r.Path, urlCtx, false)
	c.tree(at(tokens, "query"), r.Query, urlCtx)
	c.headers(at(tokens, "headers"), r.Headers, ctx)
	c.tree(at(tokens, "body"), r.Body, ctx)
	if r.Body != nil {
		switch r.BodyKind {
		case "none":
			c.problemAtKey(at(tokens, "body"), "the request's body_kind is none")
		case "form":
			if _, ok := r.Body.(map[string]any); !ok {
				c.problem(at(tokens, "body"), "a form body is an object of fields")
			}
		}
	}
}

// urlTemplate checks a path (or, with absoluteOK, a URL) template: a static path starts
// with "/" and is not an absolute URL, since it is joined to base_url.
func (c *checker) urlTemplate(tokens []string, s string, ctx tmplCtx, absoluteOK bool) {
	c.template(tokens, s, ctx)
	if strings.HasPrefix(s, "{{") {
		return
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		if !absoluteOK {
			c.problem(tokens, "a path is joined to base_url; it is not an absolute URL")
		}
		return
	}
	// "" and "?..." call base_url itself, for services with one endpoint.
	if s != "" && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "?") {
		c.problem(tokens, "a path starts with \"/\"")
	}
}

func (c *checker) trigger(tokens []string, t *Trigger) {
	c.fields(at(tokens, "input"), t.Input, fieldTriggerInput)
	c.fields(at(tokens, "item"), t.Item, fieldItem)
	c.request(at(tokens, "request"), &t.Request, tmplCtx{scope: scopePoll, inputs: fieldNames(t.Input)})
	c.expression(at(tokens, "items"), t.Items, tmplCtx{scope: scopePage})
	c.expression(at(tokens, "item_key"), t.ItemKey, tmplCtx{scope: scopeItem, item: true})
	c.errors(at(tokens, "errors"), t.Errors)
	if t.Cursor != nil {
		c.cursor(at(tokens, "cursor"), t.Cursor)
	}
	if t.Pagination != nil {
		c.pagination(at(tokens, "pagination"), t.Pagination)
	}
	if t.Cursor == nil && t.Pagination == nil {
		c.warn(tokens, "the trigger has neither a cursor nor pagination: each poll reads one page, so items past the first page are missed")
	}
	if t.Description == "" {
		c.warn(tokens, "the trigger has no description")
	}
}

func (c *checker) cursor(tokens []string, cur *Cursor) {
	switch cur.Type {
	case "token":
		c.expression(at(tokens, "value"), cur.Value, tmplCtx{scope: scopePage})
		for _, m := range []struct {
			set  bool
			name string
		}{{cur.Overlap != "", "overlap"}, {cur.Format != "", "format"}, {cur.Location != "", "location"}} {
			if m.set {
				c.problemAtKey(at(tokens, m.name), "a token cursor has no %s", m.name)
			}
		}
		if cur.Initial != nil {
			if _, ok := cur.Initial.(string); !ok {
				c.problem(at(tokens, "initial"), "a token cursor starts from a string")
			}
		}
	case "number":
		c.expression(at(tokens, "value"), cur.Value, tmplCtx{scope: scopeItem, item: true})
		if cur.Overlap != "" {
			if f, err := strconv.ParseFloat(cur.Overlap, 64); err != nil || f < 0 {
				c.problem(at(tokens, "overlap"), "the overlap of a number cursor is a non-negative number, not %q", cur.Overlap)
			}
		}
		switch cur.Initial.(type) {
		case nil, int64, float64:
		case string:
			if cur.Initial == "now" {
				c.problem(at(tokens, "initial"), "initial \"now\" is for datetime cursors")
			} else {
				c.problem(at(tokens, "initial"), "a number cursor starts from a number")
			}
		default:
			c.problem(at(tokens, "initial"), "a number cursor starts from a number")
		}
		for _, m := range []struct {
			set  bool
			name string
		}{{cur.Format != "", "format"}, {cur.Location != "", "location"}} {
			if m.set {
				c.problemAtKey(at(tokens, m.name), "a number cursor has no %s", m.name)
			}
		}
	case "datetime":
		c.expression(at(tokens, "value"), cur.Value, tmplCtx{scope: scopeItem, item: true})
		if cur.Overlap != "" {
			if d, err := time.ParseDuration(cur.Overlap); err != nil || d < 0 {
				c.problem(at(tokens, "overlap"), "the overlap of a datetime cursor is a duration such as \"2s\", not %q", cur.Overlap)
			}
		}
		if cur.Initial != nil && cur.Initial != "now" && !isTime(cur.Initial, cur.Format) {
			c.problem(at(tokens, "initial"), "a datetime cursor starts from \"now\", a time (RFC 3339 such as \"2024-01-02T15:04:05Z\", or in the cursor's format) or a Unix time")
		}
		if cur.Location != "" {
			if _, err := time.LoadLocation(cur.Location); err != nil {
				c.problem(at(tokens, "location"), "unknown time zone %q", cur.Location)
			}
		}
	}
}

// isTime reports whether v reads as a time the way the runtime reads a datetime cursor: a
// Unix time, RFC 3339, the cursor's own layout, or a few common layouts.
func isTime(v any, format string) bool {
	switch x := v.(type) {
	case int64, float64:
		return true
	case string:
		layouts := []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}
		if format != "" && format != "unix" && format != "unix_ms" {
			layouts = append(layouts, format)
		}
		for _, l := range layouts {
			if _, err := time.Parse(l, x); err == nil {
				return true
			}
		}
	}
	return false
}

// paginationMembers lists the members each pagination kind accepts besides kind, stop,
// has_more, total and max_pages.
var paginationMembers = map[string][]string{
	"page_number":  {"param", "start", "size_param", "size"},
	"offset":       {"param", "size_param", "size"},
	"cursor_token": {"param", "next", "in"},
	"link_header":  {"rel"},
	"next_url":     {"next"},
}

func (c *checker) pagination(tokens []string, p *Pagination) {
	allowed, ok := paginationMembers[p.Kind]
	if !ok {
		return // the schema's enum reported it
	}
	members := map[string]bool{
		"param": p.Param != "", "start": p.Start != nil, "size_param": p.SizeParam != "", "size": p.Size != 0,
		"next": p.Next != "", "in": p.In != "", "rel": p.Rel != "",
	}
	for _, m := range slices.Sorted(maps.Keys(members)) {
		if members[m] && !slices.Contains(allowed, m) {
			c.problemAtKey(at(tokens, m), "pagination kind %s does not use %s", p.Kind, m)
		}
	}
	switch p.Kind {
	case "cursor_token", "next_url":
		if p.Next == "" {
			c.problem(tokens, "pagination kind %s needs next", p.Kind)
		}
	}
	if p.Kind == "cursor_token" && p.Param == "" {
		c.problem(tokens, "pagination kind cursor_token needs param, the parameter the token goes in")
	}
	if p.SizeParam != "" && p.Size == 0 && slices.Contains(allowed, "size") {
		c.problem(tokens, "size_param needs size, the page size to send")
	}
	if p.Next != "" {
		c.expression(at(tokens, "next"), p.Next, tmplCtx{scope: scopePage})
	}
	if p.HasMore != "" {
		c.expression(at(tokens, "has_more"), p.HasMore, tmplCtx{scope: scopePage})
	}
	if p.Total != "" {
		c.expression(at(tokens, "total"), p.Total, tmplCtx{scope: scopePage})
	}
	numbered := p.Kind == "page_number" || p.Kind == "offset"
	switch p.Stop {
	case "empty_page":
		if !numbered {
			c.problem(at(tokens, "stop"), "stop empty_page is for page_number and offset pagination; %s stops when there is no next page", p.Kind)
		}
	case "short_page":
		if !numbered {
			c.problem(at(tokens, "stop"), "stop short_page is for page_number and offset pagination")
		} else if p.Size == 0 {
			c.problem(at(tokens, "stop"), "stop short_page needs size, to know what a short page is")
		}
		c.warn(at(tokens, "stop"), "short_page loses records when the service returns a page shorter than size before the end; prefer empty_page, has_more or total")
	case "no_next":
		if numbered {
			c.problem(at(tokens, "stop"), "stop no_next is for cursor_token, link_header and next_url pagination")
		}
	case "has_more":
		if p.HasMore == "" {
			c.problem(at(tokens, "stop"), "stop has_more needs has_more, an expression over the response")
		}
	case "total":
		if p.Total == "" {
			c.problem(at(tokens, "stop"), "stop total needs total, an expression over the response")
		}
	}
	if p.HasMore != "" && p.Stop != "has_more" {
		c.problemAtKey(at(tokens, "has_more"), "has_more is read only with stop: has_more")
	}
	if p.Total != "" && p.Stop != "total" {
		c.problemAtKey(at(tokens, "total"), "total is read only with stop: total")
	}
	if p.MaxPages > 100 {
		c.warn(at(tokens, "max_pages"), "max_pages %d: one poll reading more than 100 pages holds a worker long; the next poll goes on from the cursor", p.MaxPages)
	}
}

// tmplCtx is where a template or expression sits: its scope, whether it ends up in a
// URL (where secrets are refused), and the inputs it may read (nil: input is not in
// scope).
type tmplCtx struct {
	scope  expr.Scope
	url    bool
	inputs map[string]bool
	item   bool // item is in scope
}

// template checks a {{ }} template: it compiles, and what it reads is allowed there.
func (c *checker) template(tokens []string, s string, ctx tmplCtx) {
	if _, err := ctx.scope.CompileTemplate(s); err != nil {
		c.compileError(tokens, "template", err)
		return
	}
	for _, src := range templateExprs(s) {
		c.reads(tokens, src, ctx)
	}
}

// expression checks a bare expression.
func (c *checker) expression(tokens []string, s string, ctx tmplCtx) {
	if strings.HasPrefix(strings.TrimSpace(s), "{{") {
		c.problem(tokens, "an expression is written without {{ }}: %s", strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{{"), "}}")))
		return
	}
	if _, err := ctx.scope.Compile(s); err != nil {
		c.compileError(tokens, "expression", err)
		return
	}
	c.reads(tokens, s, ctx)
}

// tree checks the templates of a query or body tree.
func (c *checker) tree(tokens []string, v any, ctx tmplCtx) {
	switch x := v.(type) {
	case string:
		c.template(tokens, x, ctx)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			c.tree(at(tokens, k), x[k], ctx)
		}
	case []any:
		for i, e := range x {
			c.tree(at(tokens, i), e, ctx)
		}
	}
}

func (c *checker) compileError(tokens []string, what string, err error) {
	line, col := c.doc.position(tokens, false)
	msg := err.Error()
	var e *expr.Error
	if errors.As(err, &e) {
		msg = e.Msg
		line, col = c.doc.refine(tokens, line, col, e.Line, e.Column)
	}
	c.problems = append(c.problems, Problem{Path: c.doc.path(tokens), Line: line, Column: col, Message: fmt.Sprintf("bad %s: %s", what, msg)})
}

// reads checks what an expression reads of conn and input: a secret connection field in
// a URL is a problem (URLs end up in logs, proxies and browser history), and so is a name
// that is not declared, which would hold nothing at run time.
func (c *checker) reads(tokens []string, src string, ctx tmplCtx) {
	reads := variableReads(src)
	// The workflow language's own names compile everywhere but hold nothing in a
	// connector: a connector runs outside any workflow.
	for _, name := range workflowNames {
		if name == "item" && ctx.item {
			continue
		}
		if rs := reads[name]; rs.whole || len(rs.names) > 0 {
			if name == "item" {
				c.problem(tokens, "item is defined only in item_key and in datetime and number cursor values")
			} else {
				c.problem(tokens, "%s is a workflow's variable; a connector does not see the workflow", name)
			}
		}
	}
	conn := reads["conn"]
	for _, name := range conn.names {
		fd := c.conn[name]
		if fd == nil {
			c.problem(tokens, "conn.%s is not a connection field", name)
			continue
		}
		if ctx.url && fd.Secret && !fd.AllowInURL {
			c.problem(tokens, "secret connection field %q in a URL: URLs end up in logs; send it in a header, or set allow_in_url on the field if the service wants it there", name)
		}
	}
	if conn.whole && ctx.url {
		for _, name := range slices.Sorted(maps.Keys(c.conn)) {
			if fd := c.conn[name]; fd.Secret && !fd.AllowInURL {
				c.problem(tokens, "the whole conn, secret field %q included, in a URL: read the fields one by one", name)
			}
		}
	}
	if ctx.inputs != nil {
		for _, name := range reads["input"].names {
			if !ctx.inputs[name] {
				c.problem(tokens, "input.%s is not an input", name)
			}
		}
	}
}

// workflowNames are the names engine/expr gives every expression (expr.Variables).
var workflowNames = []string{"trigger", "steps", "run", "workflow", "item", "index"}

// readSet is what an expression reads of one variable.
type readSet struct {
	names []string // members read by name: conn.token, conn["token"]
	whole bool     // the variable used otherwise: toJSON(conn), conn[k]
}

// variableReads parses src (already compiled, so valid) and lists what it reads of each
// top-level name.
func variableReads(src string) map[string]readSet {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	v := &readVisitor{idents: map[string]int{}, members: map[string][]string{}}
	ast.Walk(&tree.Node, v)
	out := make(map[string]readSet, len(v.idents))
	for name, n := range v.idents {
		names := v.members[name]
		slices.Sort(names)
		out[name] = readSet{names: slices.Compact(names), whole: n > len(names)}
	}
	return out
}

type readVisitor struct {
	idents  map[string]int      // uses of each identifier
	members map[string][]string // the members read by name of each identifier
}

func (v *readVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		v.idents[x.Value]++
	case *ast.MemberNode:
		id, ok := x.Node.(*ast.IdentifierNode)
		if !ok {
			return
		}
		if s, ok := x.Property.(*ast.StringNode); ok {
			v.members[id.Value] = append(v.members[id.Value], s.Value)
		}
	}
}

// templateExprs returns the sources of a compiled template's {{ }} parts, scanning as
// engine/expr does (string literals and nested braces do not close a part).
func templateExprs(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			break
		}
		open := i + j
		end := scanExprEnd(s, open)
		if end < 0 {
			break
		}
		out = append(out, s[open+2:end])
		i = end + 2
	}
	return out
}

func scanExprEnd(s string, open int) int {
	depth := 0
	for i := open + 2; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '"', '\'', '`':
			j := i + 1
			for ; j < len(s) && s[j] != ch; j++ {
				if s[j] == '\\' && ch != '`' {
					j++
				}
			}
			if j >= len(s) {
				return -1
			}
			i = j
		case '{':
			depth++
		case '}':
			if depth == 0 && i+1 < len(s) && s[i+1] == '}' {
				return i
			}
			if depth > 0 {
				depth--
			}
		}
	}
	return -1
}

// refine moves a position inside a string value (line and column from 1 within the
// text) to the file, when the value is written so that the text maps to the file: a
// one-line scalar (plain or quoted without escapes), or a literal block (|). Otherwise
// the value's own position stays.
func (d *document) refine(tokens []string, line, col, inLine, inCol int) (int, int) {
	n := d.node(tokens)
	if n == nil || n.Kind != yaml.ScalarNode || inLine < 1 || inCol < 1 {
		return line, col
	}
	lines := d.lines()
	switch n.Style {
	case 0, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if strings.Contains(n.Value, "\n") || inLine != 1 || n.Line < 1 || n.Line > len(lines) {
			return line, col
		}
		src := []rune(lines[n.Line-1])
		start := n.Column - 1
		prefix := ""
		switch n.Style {
		case yaml.DoubleQuotedStyle:
			prefix = `"`
		case yaml.SingleQuotedStyle:
			prefix = "'"
		}
		if start < 0 || start > len(src) || !strings.HasPrefix(string(src[start:]), prefix+n.Value) {
			return line, col
		}
		return n.Line, n.Column + len([]rune(prefix)) + inCol - 1
	case yaml.LiteralStyle:
		fileLine := n.Line + inLine
		textLines := strings.Split(n.Value, "\n")
		if fileLine > len(lines) || inLine > len(textLines) {
			return line, col
		}
		raw := strings.TrimRight(lines[fileLine-1], "\r")
		text := textLines[inLine-1]
		if text == "" || !strings.HasSuffix(raw, text) {
			return line, col
		}
		indent := len([]rune(raw)) - len([]rune(text))
		return fileLine, indent + inCol
	}
	return line, col
}

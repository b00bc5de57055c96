package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Input field names of http.poll besides url, headers, query and timeout, which it shares
// with http.request.
const (
	inItems    = "items"
	inNext     = "next"
	inMaxPages = "max_pages"
	inOrder    = "order"
	inCursor   = "cursor"
)

// Variables the expressions of http.poll see.
const (
	envBody    = "body"
	envHeaders = "headers"
	envStatus  = "status"
	envPage    = "page"
	envItems   = "items"
	envCursor  = "cursor"
)

// Values of the order input.
const (
	orderOldestFirst = "oldest_first"
	orderNewestFirst = "newest_first"
)

const (
	// maxPagesDefault is how many pages a poll follows when the input sets no max_pages.
	maxPagesDefault = 5
	// maxPagesMax caps the max_pages input: a poll holds the trigger until it ends.
	maxPagesMax = 100
	// pollItemsMax caps the items one poll returns, and so the runs it starts. A source
	// with more new items than that is caught up over the following polls when the cursor
	// advances with the items taken.
	pollItemsMax = 1000
)

var pollDef = &connectors.PollerDef{
	PollerSpec: connectors.PollerSpec{
		Name:  "poll",
		Title: "Poll a JSON API",
		Description: "Sends GET to a URL on the trigger's schedule and starts one run per new item of the JSON list it answers with. " +
			"The items expression picks the list out of the response, next follows further pages, and cursor saves a value, " +
			"such as the newest id, that the next poll's templates see as cursor so that they can ask only for newer items. " +
			"Items are told apart by the trigger's key (item.id by default); items seen before start no run, so overlapping " +
			"pages are harmless. A poll returns at most 1000 items (the first ones fetched); a cursor built from the items " +
			"taken picks up the rest on the next polls. " +
			"The connection works as for http.request: relative URLs are joined to its base_url and its credentials are " +
			"sent with every page, only to the host of the first page. " +
			"A failed poll saves nothing and starts no run: 408, 429, 5xx, timeouts and connection errors are temporary; " +
			"other statuses, a response that is not JSON and a failing expression need a fix.",
		Inputs: []connectors.Field{
			{Name: inURL, Type: connectors.TypeString, Title: "URL", Required: true,
				Description: "Absolute http(s) URL of the first page, or a path joined to the connection's base_url. " +
					"Templates in it see the saved cursor as cursor (null before the first poll).",
				Examples: []any{"https://api.example.com/v1/orders", "/v1/orders?updated_since={{ cursor ?? \"2026-01-01T00:00:00Z\" }}"}},
			{Name: inHeaders, Type: connectors.TypeObject, Title: "Headers",
				Description: "Request headers sent with every page, name to value (a list of values sends the header once per value). " +
					"Accept is application/json unless set here. Connection credentials override headers of the same name.",
				Examples: []any{map[string]any{"Accept": "application/vnd.github+json"}}},
			{Name: inQuery, Type: connectors.TypeObject, Title: "Query parameters",
				Description: "Query parameters added to the first page's URL. Values are strings, numbers or booleans; " +
					"a list repeats the parameter and null leaves it out. Templates see the saved cursor as cursor.",
				Examples: []any{map[string]any{"since_id": "{{ cursor ?? 0 }}", "per_page": 100}}},
			{Name: inItems, Type: connectors.TypeString, Title: "Items", Expression: true,
				Variables: []string{envBody, envHeaders, envStatus, envPage, envCursor},
				Description: "Expression that picks the list of items out of each page. It sees body (the parsed JSON response), " +
					"headers (lower-case names), status, page (1 for the first page) and cursor (the saved cursor). " +
					"It must give a list: write body.data ?? [] for a source that leaves the list out or sends null when it has " +
					"nothing. Default: the body itself, which must then be a list.",
				Examples: []any{"body.data", "body.result.items ?? []", "filter(body.orders, #.status == \"paid\")"}},
			{Name: inNext, Type: connectors.TypeString, Title: "Next page", Expression: true,
				Variables: []string{envBody, envHeaders, envStatus, envPage, envCursor, envItems},
				Description: "Expression evaluated after each page to find the next one. It sees what items sees, plus items " +
					"(that page's items). It gives a URL, absolute or relative to the page just fetched (\"?page=3\"), " +
					"used as it is; or an object of query parameters to set on the current page's URL (null removes one); " +
					"or null, \"\" or false to stop. Paging also stops on a page without items, at a URL already fetched, " +
					"after max_pages pages and at 1000 items. Empty: only the first page is fetched.",
				Examples: []any{"body.links.next", "body.has_more ? {starting_after: last(items).id} : nil",
					"len(items) == 100 ? {page: page + 1} : nil"}},
			{Name: inMaxPages, Type: connectors.TypeInteger, Title: "Maximum pages",
				Description: "Most pages fetched per poll, from 1. Values above 100 are reduced to 100. " +
					"When next still gives a page at the limit, a warning is logged and the rest waits for the next poll.",
				Default: maxPagesDefault, Examples: []any{20}},
			{Name: inOrder, Type: connectors.TypeString, Title: "Order",
				Description: "The order in which the source lists items, across pages too: oldest_first, or newest_first " +
					"(as most feeds do), in which case the items collected are reversed so that runs start oldest first.",
				Default: orderOldestFirst, Enum: []string{orderOldestFirst, orderNewestFirst}},
			{Name: inCursor, Type: connectors.TypeString, Title: "Cursor", Expression: true,
				Variables: []string{envBody, envHeaders, envStatus, envPage, envCursor, envItems},
				Description: "Expression whose value is saved when the poll succeeds, and seen as cursor by the next poll's " +
					"templates and expressions. It is evaluated once per poll and sees body, headers and status of the last page " +
					"fetched, page, items (every item of the poll, oldest first) and cursor (the saved value, null before the first " +
					"poll). null keeps the saved value, so max(map(items, #.id)) keeps it when nothing new came. " +
					"Empty: no cursor is saved.",
				Examples: []any{"max(map(items, #.id))", "body.next_since", "len(items) > 0 ? last(items).updated_at : cursor"}},
			{Name: inTimeout, Type: connectors.TypeString, Title: "Timeout",
				Description: "Time allowed for each page's request, as a Go duration. Values above 5m are reduced to 5m.",
				Default:     timeoutDefault.String(), Examples: []any{"10s", "1m"}},
		},
		DefaultKey: "item.id",
	},
	New: func() connectors.Poller { return &poller{client: client} },
}

var (
	_ connectors.Poller    = (*poller)(nil)
	_ connectors.Validator = (*poller)(nil)
)

// poller is one poll of http.poll.
type poller struct {
	client *httpclient.Client
}

// pollInput is the checked form of the poll's inputs.
type pollInput struct {
	req         *requestInput
	items       string
	next        string
	cursor      string
	maxPages    int
	newestFirst bool
}

// Validate checks the inputs offline, as http.request's Validate does, plus the paging
// inputs. Expressions are only checked to be strings: the engine compiles them.
func (p *poller) Validate(input map[string]any) error {
	if _, err := parsePollInput(input); err != nil {
		return connectors.Permanent(err)
	}
	return nil
}

// Poll fetches the pages and returns their items, oldest first, and the new cursor.
func (p *poller) Poll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	in, err := parsePollInput(call.Input)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid input for http.poll of workflow %s: %w", call.WorkflowID, err))
	}
	if call.Eval == nil && (in.items != "" || in.next != "" || in.cursor != "") {
		return nil, connectors.Permanent(fmt.Errorf("http.poll of workflow %s: no expression evaluator", call.WorkflowID))
	}
	conn := call.Connection
	if conn != nil {
		if err := validateConnection(conn.Config); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("connection %s for http.poll of workflow %s: %w", conn.Name, call.WorkflowID, err))
		}
	}
	auth := conn.String(connAuth)
	credentials := auth != "" && auth != authNone
	allowed, _ := allowedHosts(setting(conn, connAllowedHosts)) // checked by validateConnection
	first, err := resolveURL(in.req.rawURL, conn.String(connBaseURL), allowed, credentials)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid url for http.poll of workflow %s: %w", call.WorkflowID, err))
	}
	first = withQuery(first, in.req.query)
	firstURL, err := parseURL(first)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid url for http.poll of workflow %s: %w", call.WorkflowID, err))
	}

	secrets := credentialSecrets(conn)
	r := &pollRun{
		call:        call,
		in:          in,
		conn:        conn,
		credentials: credentials,
		allowed:     allowed,
		origin:      origin(firstURL),
		hc:          p.client.WithLogger(call.Logger).WithSecrets(secrets...).WithTimeout(in.req.timeout),
		redact:      httpclient.SecretRedactor(secrets...),
		log:         pollLogger(call),
		cursor:      plainJSON(call.Cursor),
	}
	res, err := r.run(ctx, first)
	if err != nil {
		// Expression errors may quote a response that echoes a credential.
		return nil, redactError(err, r.redact)
	}
	return res, nil
}

// pollRun is the state of one poll across its pages.
type pollRun struct {
	call        *connectors.PollCall
	in          *pollInput
	conn        *connectors.Connection
	credentials bool
	// origin is the first page's; with credentials every page must be on it or on one of
	// the connection's allowed hosts.
	origin  string
	allowed []string
	hc      *httpclient.Client
	redact  func(string) string
	log     *slog.Logger
	// cursor is the saved cursor with plain JSON numbers, as expressions see it.
	cursor any
}

// page is one fetched and parsed response.
type page struct {
	status  int
	headers map[string]any
	body    any
	// empty says the response had no body (204 No Content): no items, no next page.
	empty bool
}

func (r *pollRun) run(ctx context.Context, target string) (*connectors.PollResult, error) {
	wf := r.call.WorkflowID
	var collected []any
	fetched := map[string]bool{}
	var lastEnv map[string]any
	for n := 1; ; n++ {
		fetched[target] = true
		pg, err := r.fetch(ctx, target)
		if err != nil {
			return nil, fmt.Errorf("poll page %d for workflow %s: %w", n, wf, err)
		}
		env := r.env(pg, n)
		lastEnv = env
		items, err := r.pageItems(pg, env)
		if err != nil {
			return nil, fmt.Errorf("poll page %d for workflow %s: %w", n, wf, err)
		}
		if room := pollItemsMax - len(collected); len(items) > room {
			collected = append(collected, items[:room]...)
			r.warnItemLimit(ctx, n)
			break
		}
		collected = append(collected, items...)
		if r.in.next == "" || pg.empty || len(items) == 0 {
			break
		}
		env[envItems] = items
		next, more, err := r.nextPage(target, env)
		if err != nil {
			return nil, fmt.Errorf("poll page %d for workflow %s: %w", n, wf, err)
		}
		if !more {
			break
		}
		if len(collected) >= pollItemsMax {
			r.warnItemLimit(ctx, n)
			break
		}
		if n >= r.in.maxPages {
			r.log.LogAttrs(ctx, slog.LevelWarn, "HTTP poll stopped at max_pages with pages left",
				slog.Int("max_pages", r.in.maxPages))
			break
		}
		if fetched[next] {
			r.log.LogAttrs(ctx, slog.LevelDebug, "HTTP poll next page already fetched",
				slog.String("url", r.redact(httpclient.RedactURL(next))))
			break
		}
		target = next
	}
	if r.in.newestFirst {
		slices.Reverse(collected)
	}
	if collected == nil {
		collected = []any{}
	}
	res := &connectors.PollResult{Items: collected}
	if r.in.cursor != "" {
		env := maps.Clone(lastEnv)
		env[envItems] = collected
		v, err := r.call.Eval(r.in.cursor, env)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("evaluate cursor expression %q for workflow %s: %w", r.in.cursor, wf, err))
		}
		if res.Cursor, err = connectors.RoundTrip(v); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("cursor expression %q for workflow %s gave a value that is not JSON: %w", r.in.cursor, wf, err))
		}
		res.Cursor = redactValue(connectors.NormalizeNumbers(res.Cursor), r.redact)
	}
	// Items are stored and shown in runs; a service echoing a credential must not leak it.
	res.Items = redactValue(res.Items, r.redact).([]any)
	return res, nil
}

// warnItemLimit logs that the poll stopped at pollItemsMax items, on page n.
func (r *pollRun) warnItemLimit(ctx context.Context, n int) {
	r.log.LogAttrs(ctx, slog.LevelWarn, "HTTP poll item limit reached",
		slog.Int("items", pollItemsMax), slog.Int("page", n))
}

// fetch sends GET to target with the input's headers and the connection's credentials and
// parses the JSON answer.
func (r *pollRun) fetch(ctx context.Context, target string) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("build http request: %w", err))
	}
	for name, values := range r.in.req.headers {
		if strings.EqualFold(name, "Host") {
			req.Host = values[0] // net/http ignores a Host entry in the header map
			continue
		}
		req.Header[name] = values
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", contentTypeJSON)
	}
	setCredentials(req, r.conn)

	resp, err := r.hc.Do(ctx, req)
	if err != nil {
		return nil, err // retryable; the text holds the method and the redacted URL
	}
	if err := httpclient.Classify(resp); err != nil {
		return nil, err
	}
	pg := &page{status: resp.Status, headers: responseHeaders(resp.Header)}
	if resp.Truncated {
		return nil, connectors.Permanent(fmt.Errorf("%s %s: response body is larger than %d bytes", resp.Method, resp.URL, len(resp.Body)))
	}
	if len(bytes.TrimSpace(resp.Body)) == 0 {
		pg.empty = true
		return pg, nil
	}
	if pg.body, err = connectors.DecodeJSON(resp.Body); err != nil {
		return nil, connectors.Permanent(fmt.Errorf("%s %s: response is not JSON (Content-Type %q: %v): %s", resp.Method, resp.URL,
			resp.Header.Get("Content-Type"), err, r.redact(httpclient.Snippet(resp.Body, httpclient.SnippetBytes))))
	}
	return pg, nil
}

// env is what the expressions see for one page.
func (r *pollRun) env(pg *page, n int) map[string]any {
	return map[string]any{
		envBody:    pg.body,
		envHeaders: pg.headers,
		envStatus:  pg.status,
		envPage:    n,
		envCursor:  r.cursor,
	}
}

// pageItems picks the page's items with the items expression, or takes the body when
// it is a list.
func (r *pollRun) pageItems(pg *page, env map[string]any) ([]any, error) {
	if pg.empty {
		return nil, nil
	}
	if r.in.items == "" {
		list, ok := pg.body.([]any)
		if !ok {
			return nil, connectors.Permanent(fmt.Errorf("the response body is %s, not a list: set the items input to the expression "+
				"that picks the list out of it, such as \"body.data\"%s", describeJSON(pg.body), listFieldsHint(pg.body)))
		}
		return list, nil
	}
	v, err := r.call.Eval(r.in.items, env)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("evaluate items expression %q: %w", r.in.items, err))
	}
	if v == nil {
		return nil, connectors.Permanent(fmt.Errorf("items expression %q gave null, not a list; write %q if the source "+
			"sends no list when it has nothing new", r.in.items, r.in.items+" ?? []"))
	}
	norm, err := connectors.RoundTrip(v)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("items expression %q gave a value that is not JSON: %w", r.in.items, err))
	}
	list, ok := norm.([]any)
	if !ok {
		return nil, connectors.Permanent(fmt.Errorf("items expression %q gave %s, not a list", r.in.items, describeJSON(norm)))
	}
	return connectors.NormalizeNumbers(list).([]any), nil
}

// nextPage evaluates the next expression and returns the URL of the next page, or false
// when paging stops.
func (r *pollRun) nextPage(current string, env map[string]any) (string, bool, error) {
	v, err := r.call.Eval(r.in.next, env)
	if err != nil {
		return "", false, connectors.Permanent(fmt.Errorf("evaluate next expression %q: %w", r.in.next, err))
	}
	cur, err := parseURL(current)
	if err != nil {
		return "", false, connectors.Permanent(err)
	}
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case bool:
		if !x {
			return "", false, nil
		}
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return "", false, nil
		}
		ref, err := parseURL(s)
		if err != nil {
			return "", false, connectors.Permanent(fmt.Errorf("next expression %q: %w", r.in.next, err))
		}
		u := cur.ResolveReference(ref)
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", false, connectors.Permanent(fmt.Errorf("next expression %q gave url %q, which is not an http or https URL",
				r.in.next, httpclient.RedactURL(s)))
		}
		if r.credentials && origin(u) != r.origin && !hostAllowed(u, r.allowed) {
			return "", false, connectors.Permanent(fmt.Errorf("next expression %q gave url %q on another host than the first page; "+
				"the connection's credentials are only sent to %s", r.in.next, httpclient.RedactURL(u.String()), r.origin))
		}
		return u.String(), true, nil
	case map[string]any:
		params, err := connectors.RoundTrip(x)
		if err != nil {
			return "", false, connectors.Permanent(fmt.Errorf("next expression %q: encode query: %w", r.in.next, err))
		}
		q := cur.Query()
		for k, pv := range params.(map[string]any) {
			if err := setParam(q, k, pv); err != nil {
				return "", false, connectors.Permanent(fmt.Errorf("next expression %q: %w", r.in.next, err))
			}
		}
		cur.RawQuery = q.Encode()
		return cur.String(), true, nil
	}
	return "", false, connectors.Permanent(fmt.Errorf("next expression %q gave %s; want a URL, an object of query parameters, "+
		"or null to stop", r.in.next, describeJSON(v)))
}

// setParam sets one query parameter from a decoded JSON value: a scalar replaces it, a
// list repeats it, null removes it.
func setParam(q url.Values, key string, v any) error {
	switch x := v.(type) {
	case nil:
		q.Del(key)
	case []any:
		q.Del(key)
		for i, e := range x {
			s, ok := connectors.ScalarText(e)
			if !ok {
				return fmt.Errorf("query parameter %q element %d: expected a string, number or boolean, got %s", key, i, connectors.JSONTypeOf(e))
			}
			q.Add(key, s)
		}
	default:
		s, ok := connectors.ScalarText(x)
		if !ok {
			return fmt.Errorf("query parameter %q: expected a string, number, boolean or a list of them, got %s", key, connectors.JSONTypeOf(x))
		}
		q.Set(key, s)
	}
	return nil
}

// parsePollInput checks every input. Errors are plain; callers mark them permanent.
func parsePollInput(raw map[string]any) (*pollInput, error) {
	norm, err := connectors.RoundTrip(raw)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	input, _ := norm.(map[string]any)
	in := &pollInput{maxPages: maxPagesDefault}
	var errs []error

	// The inputs shared with http.request are checked by the same code.
	shared := map[string]any{}
	for _, k := range []string{inURL, inHeaders, inQuery, inTimeout} {
		if v, ok := input[k]; ok {
			shared[k] = v
		}
	}
	if in.req, err = parseInput(shared); err != nil {
		errs = append(errs, err)
	}

	expression := func(name string) string {
		switch v := input[name].(type) {
		case nil:
			return ""
		case string:
			return strings.TrimSpace(v)
		default:
			errs = append(errs, fmt.Errorf("%s: expected an expression string, got %s", name, connectors.JSONTypeOf(v)))
			return ""
		}
	}
	in.items, in.next, in.cursor = expression(inItems), expression(inNext), expression(inCursor)

	switch v := input[inMaxPages].(type) {
	case nil:
	case json.Number:
		n, err := v.Int64()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("max_pages: expected an integer, got %s", v))
		case n < 1:
			errs = append(errs, fmt.Errorf("max_pages %d must be at least 1", n))
		default:
			in.maxPages = int(min(n, maxPagesMax))
		}
	default:
		errs = append(errs, fmt.Errorf("max_pages: expected an integer, got %s", connectors.JSONTypeOf(v)))
	}

	switch v := input[inOrder].(type) {
	case nil:
	case string:
		switch v {
		case "", orderOldestFirst:
		case orderNewestFirst:
			in.newestFirst = true
		default:
			errs = append(errs, fmt.Errorf("order %q is not one of %s, %s", v, orderOldestFirst, orderNewestFirst))
		}
	default:
		errs = append(errs, fmt.Errorf("order: expected a string, got %s", connectors.JSONTypeOf(v)))
	}

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

// plainJSON returns v with numbers as int64 or float64, as expressions compare them,
// without changing the caller's value; v itself when it does not encode.
func plainJSON(v any) any {
	norm, err := connectors.RoundTrip(v)
	if err != nil {
		return v
	}
	return connectors.NormalizeNumbers(norm)
}

// describeJSON names a value's JSON type with its article, for error messages.
func describeJSON(v any) string {
	t := connectors.JSONTypeOf(v)
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

// listFieldsHint names the fields of an object that hold lists, the likely items.
func listFieldsHint(v any) string {
	obj, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	var names []string
	for _, k := range sortedKeys(obj) {
		if _, isList := obj[k].([]any); isList {
			names = append(names, "body."+k)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (its lists: " + strings.Join(names, ", ") + ")"
}

// redactedError shows an error's text with secrets masked. It unwraps to the original,
// so the SDK's error kinds and errors.Is still read through it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError masks secrets in err's text; err comes back as is when it holds none.
func redactError(err error, redact func(string) string) error {
	msg := err.Error()
	if masked := redact(msg); masked != msg {
		return &redactedError{msg: masked, err: err}
	}
	return err
}

func pollLogger(call *connectors.PollCall) *slog.Logger {
	if call.Logger != nil {
		return call.Logger
	}
	return slog.New(slog.DiscardHandler)
}

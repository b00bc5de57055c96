package kit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/hookflow/hookflow/engine/expr"
)

// replayer is the connector's HTTP transport in a case: it answers each request with the
// next recorded exchange when the request matches it, and records what it saw.
type replayer struct {
	mu        sync.Mutex
	exchanges []Exchange
	next      int
	sent      []sentRequest
	// mismatch is the first request that matched nothing, with its diff.
	mismatch string
}

// sentRequest is a request the connector sent.
type sentRequest struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

var errUnexpected = errors.New("the fixture has no such exchange (see the case's diff)")

func (r *replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the request body: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	got := sentRequest{method: req.Method, url: req.URL, header: req.Header.Clone(), body: body}
	r.sent = append(r.sent, got)
	n := len(r.sent)
	if r.next >= len(r.exchanges) {
		if r.mismatch == "" {
			r.mismatch = fmt.Sprintf("request %d was not expected: all %d exchange(s) were used\n  got: %s %s",
				n, len(r.exchanges), req.Method, req.URL)
		}
		return nil, errUnexpected
	}
	ex := r.exchanges[r.next]
	if diff := compareRequest(ex.Request, got); diff != "" {
		if r.mismatch == "" {
			r.mismatch = fmt.Sprintf("request %d does not match exchange %d:\n%s", n, r.next+1, diff)
		}
		return nil, errUnexpected
	}
	r.next++
	return response(req, ex.Response)
}

// unused describes the exchanges left unconsumed, or "".
func (r *replayer) unused() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next >= len(r.exchanges) {
		return ""
	}
	left := r.exchanges[r.next:]
	return fmt.Sprintf("%d exchange(s) were never requested, the first: %s %s", len(left), left[0].Request.Method, left[0].Request.URL)
}

func (r *replayer) requests() []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentRequest(nil), r.sent...)
}

func response(req *http.Request, rec RecordedResponse) (*http.Response, error) {
	h := http.Header{}
	for k, v := range rec.Headers {
		h.Set(k, v)
	}
	var body []byte
	switch {
	case rec.BodyText != "":
		body = []byte(rec.BodyText)
	case rec.Body != nil:
		var err error
		if body, err = json.Marshal(rec.Body); err != nil {
			return nil, fmt.Errorf("encode the recorded body: %w", err)
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
	}
	status := rec.Status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// compareRequest returns a readable diff of what differs, or "".
func compareRequest(want ExpectedRequest, got sentRequest) string {
	var d []string
	add := func(format string, args ...any) { d = append(d, "  "+fmt.Sprintf(format, args...)) }
	if !strings.EqualFold(want.Method, got.method) {
		add("method: want %s, got %s", want.Method, got.method)
	}
	if w, g := normalURL(want.URL), normalURL(withoutQuery(got.url)); w != g {
		add("url:    want %s\n          got  %s", w, g)
	}
	if want.Query != nil {
		wq := queryValues(want.Query)
		gq := got.url.Query()
		if len(gq) == 0 {
			gq = url.Values{}
		}
		if !reflect.DeepEqual(wq, gq) {
			add("query:  want %s\n          got  %s", showQuery(wq), showQuery(gq))
		}
	}
	for _, name := range sortedKeys(want.Headers) {
		wv := want.Headers[name]
		gv, present := got.header[http.CanonicalHeaderKey(name)]
		switch {
		case !present:
			add("header %s: want %q, got none", name, wv)
		case wv != "*" && gv[0] != wv:
			add("header %s: want %q, got %q", name, wv, gv[0])
		}
	}
	if want.Body != nil {
		var gb any
		if err := json.Unmarshal(got.body, &gb); err != nil {
			add("body:   want JSON %s\n          got  %q (not JSON)", showJSON(want.Body), string(got.body))
		} else if wb := normalJSON(want.Body); !reflect.DeepEqual(wb, gb) {
			add("body:   want %s\n          got  %s", showJSON(wb), showJSON(gb))
		}
	}
	if want.Form != nil {
		gf, err := url.ParseQuery(string(got.body))
		wf := url.Values{}
		for k, v := range want.Form {
			wf.Set(k, v)
		}
		if err != nil || !reflect.DeepEqual(wf, gf) {
			add("form:   want %s\n          got  %s", showQuery(wf), showQuery(gf))
		}
	}
	return strings.Join(d, "\n")
}

func withoutQuery(u *url.URL) string {
	c := *u
	c.RawQuery, c.ForceQuery, c.Fragment = "", false, ""
	return c.String()
}

// normalURL spells a URL one way: its path escaped as url.URL does, no trailing "?".
func normalURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return withoutQuery(u)
}

// queryValues turns a fixture's query (scalars or lists) into url.Values.
func queryValues(q map[string]any) url.Values {
	out := url.Values{}
	for k, v := range q {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		for _, e := range list {
			s, err := expr.Text(e)
			if err != nil {
				s = fmt.Sprint(e)
			}
			out.Add(k, s)
		}
	}
	return out
}

func showQuery(q url.Values) string {
	if len(q) == 0 {
		return "(none)"
	}
	parts := make([]string, 0, len(q))
	for _, k := range sortedKeys(q) {
		for _, v := range q[k] {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalJSON passes a value through JSON, so that fixtures' numbers and the connector's
// compare alike.
func normalJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

func showJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

package declarative

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
	"github.com/hookflow/hookflow/engine/expr"
)

// The pagination kinds and stop rules.
const (
	PageNumber  = "page_number"
	PageOffset  = "offset"
	CursorToken = "cursor_token"
	LinkHeader  = "link_header"
	NextURL     = "next_url"

	StopNoNext    = "no_next"
	StopEmptyPage = "empty_page"
	StopHasMore   = "has_more"
	StopTotal     = "total"
	StopShortPage = "short_page"
)

// pagination is a compiled Pagination.
type pagination struct {
	kind      string
	param     string
	sizeParam string
	start     int
	size      int
	next      *expression
	in        string // cursor_token: query, body or header
	rel       string
	stop      string
	hasMore   *expression
	total     *expression
	maxPages  int
}

func compilePagination(where string, p Pagination) (*pagination, error) {
	s := &pagination{kind: p.Kind, param: p.Param, sizeParam: p.SizeParam, size: p.Size, in: p.In,
		rel: p.Rel, stop: p.Stop, maxPages: p.MaxPages}
	if s.maxPages <= 0 {
		s.maxPages = MaxPagesDefault
	}
	var err error
	if s.next, err = compileExpr(where+".next", p.Next); err != nil {
		return nil, err
	}
	if s.hasMore, err = compileExpr(where+".has_more", p.HasMore); err != nil {
		return nil, err
	}
	if s.total, err = compileExpr(where+".total", p.Total); err != nil {
		return nil, err
	}
	switch s.kind {
	case PageNumber:
		s.param = or(s.param, "page")
		s.start = 1
		if p.Start != nil {
			s.start = *p.Start
		}
		s.stop = or(s.stop, StopEmptyPage)
	case PageOffset:
		s.param = or(s.param, "offset")
		s.sizeParam = or(s.sizeParam, "limit")
		if p.Start != nil {
			s.start = *p.Start
		}
		s.stop = or(s.stop, StopEmptyPage)
	case CursorToken, NextURL:
		if s.next == nil {
			return nil, fmt.Errorf("%s.next: kind %s needs an expression giving the next %s", where, s.kind,
				map[string]string{CursorToken: "token", NextURL: "URL"}[s.kind])
		}
		s.param = or(s.param, "cursor")
		s.in = or(s.in, "query")
		s.stop = or(s.stop, StopNoNext)
	case LinkHeader:
		s.rel = or(s.rel, "next")
		s.stop = or(s.stop, StopNoNext)
	default:
		return nil, fmt.Errorf("%s.kind: unknown kind %q", where, s.kind)
	}
	switch s.stop {
	case StopNoNext, StopEmptyPage:
	case StopHasMore:
		if s.hasMore == nil {
			return nil, fmt.Errorf("%s.has_more: stop has_more needs the expression", where)
		}
	case StopTotal:
		if s.total == nil {
			return nil, fmt.Errorf("%s.total: stop total needs the expression", where)
		}
	case StopShortPage:
		if s.size <= 0 {
			return nil, fmt.Errorf("%s.size: stop short_page needs the page size", where)
		}
	default:
		return nil, fmt.Errorf("%s.stop: unknown stop rule %q", where, s.stop)
	}
	switch s.in {
	case "", "query", "body", "header":
	default:
		return nil, fmt.Errorf("%s.in: %q is not query, body or header", where, s.in)
	}
	return s, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pager walks one poll's pages.
type pager struct {
	p      *pagination // nil: one page
	number int
	offset int
	token  any
	url    string          // the next page's URL (URL kinds)
	seen   map[string]bool // every token and URL of this poll
}

func newPager(p *pagination) *pager {
	g := &pager{p: p, seen: map[string]bool{}}
	if p != nil {
		switch p.kind {
		case PageNumber:
			g.number = p.start
		case PageOffset:
			g.number, g.offset = 1, p.start
		default:
			g.number = 1
		}
	}
	return g
}

func (g *pager) maxPages() int {
	if g.p == nil {
		return 1
	}
	return g.p.maxPages
}

// vars are the page variables templates see.
func (g *pager) vars() map[string]any {
	out := map[string]any{"number": g.number, "offset": g.offset, "limit": nil, "token": g.token}
	if g.p != nil && g.p.size > 0 {
		out["limit"] = g.p.size
		if g.p.kind == PageNumber {
			out["offset"] = (g.number - g.p.start) * g.p.size
		}
	}
	return out
}

// place puts the page's position into the request built for page n.
func (g *pager) place(o *outgoing, n int) error {
	if g.p == nil {
		return nil
	}
	switch g.p.kind {
	case PageNumber, PageOffset:
		u, err := url.Parse(o.url)
		if err != nil {
			return fmt.Errorf("request URL: %w", err)
		}
		q := u.Query()
		if g.p.kind == PageNumber {
			q.Set(g.p.param, strconv.Itoa(g.number))
		} else {
			q.Set(g.p.param, strconv.Itoa(g.offset))
		}
		if g.p.size > 0 && g.p.sizeParam != "" {
			q.Set(g.p.sizeParam, strconv.Itoa(g.p.size))
		}
		u.RawQuery = q.Encode()
		o.url = u.String()
	case CursorToken:
		if g.token == nil {
			return nil
		}
		return g.placeToken(o)
	case LinkHeader, NextURL:
		if n == 1 {
			g.seen[o.url] = true
		} else {
			o.url = g.url
		}
	}
	return nil
}

func (g *pager) placeToken(o *outgoing) error {
	tok, err := expr.Text(g.token)
	if err != nil {
		return fmt.Errorf("page token: %w", err)
	}
	switch g.p.in {
	case "header":
		o.header.Set(g.p.param, tok)
	case "body":
		var body any
		if len(o.body) > 0 {
			if body, err = connectors.DecodeJSON(o.body); err != nil {
				return fmt.Errorf("page token in the body: the body is not JSON: %w", err)
			}
		}
		if body, err = setPath(body, strings.Split(g.p.param, "."), g.token); err != nil {
			return fmt.Errorf("page token: %w", err)
		}
		b, err := encodeJSON(body)
		if err != nil {
			return err
		}
		o.body = b
		if o.header.Get("Content-Type") == "" {
			o.header.Set("Content-Type", "application/json")
		}
	default:
		u, err := url.Parse(o.url)
		if err != nil {
			return fmt.Errorf("request URL: %w", err)
		}
		q := u.Query()
		q.Set(g.p.param, tok)
		u.RawQuery = q.Encode()
		o.url = u.String()
	}
	return nil
}

// advance decides whether there is a next page after one that gave items (count items
// so far in this poll) and moves to it. A token or URL seen before in this poll is an
// error: the API is looping, and following it would never end.
func (g *pager) advance(ctx context.Context, c *call, env map[string]any, resp *httpclient.Response, reqURL string, items []any, count int) (bool, error) {
	p := g.p
	if p == nil {
		return false, nil
	}
	switch p.stop {
	case StopEmptyPage:
		if len(items) == 0 {
			return false, nil
		}
	case StopShortPage:
		if len(items) < p.size {
			return false, nil
		}
	case StopHasMore:
		v, err := p.hasMore.eval(ctx, env)
		if err != nil {
			return false, fmt.Errorf("has_more: %w", err)
		}
		if !truthy(v) {
			return false, nil
		}
	case StopTotal:
		v, err := p.total.eval(ctx, env)
		if err != nil {
			return false, fmt.Errorf("total: %w", err)
		}
		total, ok := toFloat(v)
		if !ok {
			return false, fmt.Errorf("total: %q gave %s, not a number", p.total.src, connectors.JSONTypeOf(v))
		}
		if float64(count) >= total {
			return false, nil
		}
	}
	switch p.kind {
	case PageNumber, PageOffset:
		if len(items) == 0 {
			return false, nil // a page past the end can only be followed by more of them
		}
		g.number++
		g.offset += len(items)
		return true, nil
	case CursorToken:
		v, err := p.next.eval(ctx, env)
		if err != nil {
			return false, fmt.Errorf("next: %w", err)
		}
		tok, err := expr.Text(v)
		if err != nil {
			return false, fmt.Errorf("next: %w", err)
		}
		if tok == "" {
			return false, nil
		}
		if g.seen[tok] {
			return false, fmt.Errorf("the API repeated the page token %q already seen in this poll; stopped to avoid a loop", tok)
		}
		g.seen[tok] = true
		g.number++
		g.token = v
		return true, nil
	}
	var next string
	if p.kind == LinkHeader {
		next = linkRel(resp.Header, p.rel)
	} else {
		v, err := p.next.eval(ctx, env)
		if err != nil {
			return false, fmt.Errorf("next: %w", err)
		}
		if next, err = expr.Text(v); err != nil {
			return false, fmt.Errorf("next: %w", err)
		}
	}
	if strings.TrimSpace(next) == "" {
		return false, nil
	}
	u, err := resolveNext(reqURL, next)
	if err != nil {
		return false, err
	}
	base, err := c.rt.baseURL.renderString(ctx, c.env)
	if err != nil {
		return false, fmt.Errorf("base_url: %w", err)
	}
	if !sameOrigin(base, u) {
		return false, fmt.Errorf("the next page %s is not on the origin of base_url %s; refused so that the connection's credentials stay with the service",
			httpclient.RedactURL(u), httpclient.RedactURL(base))
	}
	if g.seen[u] {
		return false, fmt.Errorf("the API repeated the page URL %s already seen in this poll; stopped to avoid a loop", httpclient.RedactURL(u))
	}
	g.seen[u] = true
	g.number++
	g.url = u
	return true, nil
}

// resolveNext makes a next-page reference absolute against the request's URL.
func resolveNext(reqURL, next string) (string, error) {
	base, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("request URL: %w", err)
	}
	ref, err := url.Parse(strings.TrimSpace(next))
	if err != nil {
		return "", fmt.Errorf("next page URL %q does not parse", httpclient.RedactURL(next))
	}
	return base.ResolveReference(ref).String(), nil
}

// sameOrigin reports whether u has base's scheme, host and port.
func sameOrigin(base, u string) bool {
	a, err1 := url.Parse(base)
	b, err2 := url.Parse(u)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return u.Hostname() + ":" + port
}

// linkRel returns the target of the first link with the relation rel in the Link headers
// (RFC 8288), or "".
func linkRel(h http.Header, rel string) string {
	for _, v := range h.Values("Link") {
		for _, l := range parseLinks(v) {
			for _, r := range strings.Fields(l.rel) {
				if strings.EqualFold(r, rel) {
					return l.target
				}
			}
		}
	}
	return ""
}

type link struct{ target, rel string }

// parseLinks reads one Link header value: comma-separated "<target>; param=value"
// entries, values optionally quoted (commas may appear inside <> and quotes).
func parseLinks(v string) []link {
	var out []link
	for i := 0; i < len(v); {
		start := strings.IndexByte(v[i:], '<')
		if start < 0 {
			break
		}
		start += i
		end := strings.IndexByte(v[start:], '>')
		if end < 0 {
			break
		}
		end += start
		l := link{target: v[start+1 : end]}
		i = end + 1
		// Parameters run to the next comma outside quotes.
		for i < len(v) {
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			if i >= len(v) || v[i] == ',' {
				i++
				break
			}
			if v[i] != ';' {
				i++
				continue
			}
			i++
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			nameEnd := i
			for nameEnd < len(v) && v[nameEnd] != '=' && v[nameEnd] != ';' && v[nameEnd] != ',' {
				nameEnd++
			}
			name := strings.ToLower(strings.TrimSpace(v[i:nameEnd]))
			i = nameEnd
			val := ""
			if i < len(v) && v[i] == '=' {
				i++
				for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
					i++
				}
				if i < len(v) && v[i] == '"' {
					j := i + 1
					var b strings.Builder
					for j < len(v) && v[j] != '"' {
						if v[j] == '\\' && j+1 < len(v) {
							j++
						}
						b.WriteByte(v[j])
						j++
					}
					val = b.String()
					i = j + 1
				} else {
					j := i
					for j < len(v) && v[j] != ';' && v[j] != ',' {
						j++
					}
					val = strings.TrimSpace(v[i:j])
					i = j
				}
			}
			if name == "rel" && l.rel == "" {
				l.rel = val // RFC 8288: only the first rel counts
			}
		}
		out = append(out, l)
	}
	return out
}

package declarative

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

// pollFile is a connector with one trigger; trigger is the YAML of its body.
func pollFile(trigger string) string {
	return `
hookflow_connector: 1
name: feed
title: Feed
base_url: "{{ conn.base_url }}/api"
connection:
  fields:
    - {name: base_url, type: string}
    - {name: key, type: string, secret: true}
  auth: {kind: bearer, token: "{{ conn.key }}"}
triggers:
  items:
    kind: poll
    title: Items
    item_key: item.id
` + trigger
}

func feedConn(url string) *connectors.Connection {
	return conn(map[string]any{"base_url": url, "key": "feed-secret-0001"}, "key")
}

func ids(items []any) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)["id"]
	}
	return out
}

func itemList(from, to int) []any {
	var out []any
	for i := from; i <= to; i++ {
		out = append(out, map[string]any{"id": int64(i)})
	}
	return out
}

func TestPollPageNumber(t *testing.T) {
	t.Parallel()
	srv := newServer(t,
		reply(200, map[string]any{"data": itemList(1, 2)}),
		reply(200, map[string]any{"data": itemList(3, 4)}),
		reply(200, map[string]any{"data": []any{}}))
	c, _ := build(t, pollFile(`
    items: body.data
    request: {path: /items, query: {per: "{{ page.limit }}", at: "{{ page.offset }}"}}
    pagination: {kind: page_number, size: 2, size_param: per_page}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Equal(t, []any{int64(1), int64(2), int64(3), int64(4)}, ids(res.Items))
	reqs := srv.requests()
	require.Len(t, reqs, 3, "three pages, then the empty page stops")
	for i, r := range reqs {
		require.Equal(t, "/api/items", r.Path)
		require.Equal(t, []string{fmt.Sprint(i + 1)}, r.Query["page"])
		require.Equal(t, []string{"2"}, r.Query["per_page"])
		require.Equal(t, []string{fmt.Sprint(2 * i)}, r.Query["at"], "page variables reach the templates")
		require.Equal(t, "Bearer feed-secret-0001", r.Header.Get("Authorization"))
	}
}

func TestPollOffsetWithTotal(t *testing.T) {
	t.Parallel()
	srv := newServer(t,
		reply(200, map[string]any{"rows": itemList(1, 2), "meta": map[string]any{"size": 5}}),
		reply(200, map[string]any{"rows": itemList(3, 4), "meta": map[string]any{"size": 5}}),
		reply(200, map[string]any{"rows": itemList(5, 5), "meta": map[string]any{"size": 5}}))
	c, _ := build(t, pollFile(`
    items: body.rows
    request: {path: /rows}
    pagination: {kind: offset, size: 2, stop: total, total: body.meta.size}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Len(t, res.Items, 5)
	reqs := srv.requests()
	require.Len(t, reqs, 3, "the total is reached on the third page")
	for i, r := range reqs {
		require.Equal(t, []string{fmt.Sprint(2 * i)}, r.Query["offset"])
		require.Equal(t, []string{"2"}, r.Query["limit"])
	}
}

func TestPollShortPageOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	pages := []http.HandlerFunc{
		reply(200, map[string]any{"rows": itemList(1, 3)}),
		reply(200, map[string]any{"rows": itemList(4, 5)}), // cut short by the API, more follow
		reply(200, map[string]any{"rows": itemList(6, 6)}),
		reply(200, map[string]any{"rows": []any{}}),
	}
	srv := newServer(t, pages...)
	c, _ := build(t, pollFile(`
    items: body.rows
    request: {path: /rows}
    pagination: {kind: page_number, size: 3}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Len(t, res.Items, 6, "a short page does not end the poll by default")

	srv = newServer(t, pages...)
	c, _ = build(t, pollFile(`
    items: body.rows
    request: {path: /rows}
    pagination: {kind: page_number, size: 3, stop: short_page}
`))
	res, err = runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Len(t, res.Items, 5, "short_page stops at the first short page")
}

func TestPollCursorToken(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"query", "body", "header"} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t,
				reply(200, map[string]any{"items": itemList(1, 1), "next": "tok-b", "more": true}),
				reply(200, map[string]any{"items": itemList(2, 2), "next": "tok-c", "more": true}),
				reply(200, map[string]any{"items": itemList(3, 3), "next": "tok-d", "more": false}))
			method := "GET"
			if in == "body" {
				method = "POST"
			}
			c, _ := build(t, pollFile(fmt.Sprintf(`
    items: body.items
    request: {method: %s, path: /search, body_kind: %s}
    pagination: {kind: cursor_token, next: body.next, in: %s, param: after, stop: has_more, has_more: body.more}
`, method, map[bool]string{true: "json", false: "none"}[in == "body"], in)))
			res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
			require.NoError(t, err)
			require.Equal(t, []any{int64(1), int64(2), int64(3)}, ids(res.Items))
			reqs := srv.requests()
			require.Len(t, reqs, 3, "has_more false stops although a next token is given")
			for i, want := range []string{"", "tok-b", "tok-c"} {
				got := ""
				switch in {
				case "query":
					got = strings.Join(reqs[i].Query["after"], ",")
				case "header":
					got = reqs[i].Header.Get("after")
				case "body":
					if want != "" {
						require.JSONEq(t, fmt.Sprintf(`{"after": %q}`, want), reqs[i].Body)
						continue
					}
					require.JSONEq(t, `{}`, reqs[i].Body)
					continue
				}
				require.Equal(t, want, got, "page %d", i+1)
			}
		})
	}
}

func TestPollRepeatedToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t,
		reply(200, map[string]any{"items": itemList(1, 1), "next": "A"}),
		reply(200, map[string]any{"items": itemList(2, 2), "next": "B"}),
		reply(200, map[string]any{"items": itemList(3, 3), "next": "A"}))
	c, _ := build(t, pollFile(`
    items: body.items
    request: {path: /x}
    pagination: {kind: cursor_token, next: body.next, param: cursor}
`))
	_, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.ErrorContains(t, err, `repeated the page token "A"`)
	require.Len(t, srv.requests(), 3, "A→B→A is caught, not only A→A")
}

func TestPollLinkHeader(t *testing.T) {
	t.Parallel()
	var srv *fakeServer
	srv = newServer(t,
		func(w http.ResponseWriter, r *http.Request) {
			reply(200, []any{map[string]any{"id": 4}, map[string]any{"id": 3}}, "Link", `</api/issues?page=2>; rel="next", </api/issues?page=3>; rel="last"`)(w, r)
		},
		func(w http.ResponseWriter, r *http.Request) {
			reply(200, []any{map[string]any{"id": 2}, map[string]any{"id": 1}}, "Link", fmt.Sprintf(`<%s/api/issues?page=3&per_page=2>; rel="next"`, srv.URL))(w, r)
		},
		reply(200, []any{}, "Link", `</api/issues?page=1>; rel="first"`))
	c, _ := build(t, pollFile(`
    items: body
    order: desc
    request: {path: /issues, query: {per_page: 2, state: all}}
    pagination: {kind: link_header}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Equal(t, []any{int64(1), int64(2), int64(3), int64(4)}, ids(res.Items), "desc pages become oldest first")
	reqs := srv.requests()
	require.Len(t, reqs, 3)
	require.Equal(t, map[string][]string{"per_page": {"2"}, "state": {"all"}}, reqs[0].Query)
	require.Equal(t, map[string][]string{"page": {"2"}}, reqs[1].Query, "the link is followed as given")
	require.Equal(t, "Bearer feed-secret-0001", reqs[2].Header.Get("Authorization"))
}

func TestPollNextURL(t *testing.T) {
	t.Parallel()
	var srv *fakeServer
	srv = newServer(t,
		func(w http.ResponseWriter, r *http.Request) {
			reply(200, map[string]any{"rows": itemList(1, 1), "meta": map[string]any{"nextHref": srv.URL + "/api/rows?offset=1"}})(w, r)
		},
		func(w http.ResponseWriter, r *http.Request) {
			reply(200, map[string]any{"rows": itemList(2, 2), "meta": map[string]any{"nextHref": srv.URL + "/api/rows?offset=2"}})(w, r)
		},
		reply(200, map[string]any{"rows": itemList(3, 3), "meta": map[string]any{}}))
	c, _ := build(t, pollFile(`
    items: body.rows
    request: {path: /rows}
    pagination: {kind: next_url, next: body.meta.nextHref}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Len(t, res.Items, 3)
	require.Len(t, srv.requests(), 3)
	require.Equal(t, []string{"2"}, srv.requests()[2].Query["offset"])
}

func TestPollNextURLRepeated(t *testing.T) {
	t.Parallel()
	var srv *fakeServer
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		// Page 2 links back to the first page's URL.
		next := srv.URL + "/api/rows?p=2"
		if r.URL.Query().Get("p") == "2" {
			next = srv.URL + "/api/rows"
		}
		reply(200, map[string]any{"rows": itemList(1, 1), "next": next})(w, r)
	})
	c, _ := build(t, pollFile(`
    items: body.rows
    request: {path: /rows}
    pagination: {kind: next_url, next: body.next}
`))
	_, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.ErrorContains(t, err, "repeated the page URL")
	require.Len(t, srv.requests(), 2)
}

func TestPollNextURLOtherOrigin(t *testing.T) {
	t.Parallel()
	elsewhere := newServer(t, reply(200, map[string]any{"rows": []any{}}))
	srv := newServer(t, reply(200, map[string]any{"rows": itemList(1, 1), "next": elsewhere.URL + "/steal"}))
	c, _ := build(t, pollFile(`
    items: body.rows
    request: {path: /rows}
    pagination: {kind: next_url, next: body.next}
`))
	_, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.ErrorContains(t, err, "not on the origin of base_url")
	require.Empty(t, elsewhere.requests(), "the credentials never leave for another origin")
}

func TestPollMaxPages(t *testing.T) {
	t.Parallel()
	n := 0
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		reply(200, map[string]any{"items": itemList(n, n), "next": fmt.Sprint("t", n)})(w, r)
	})
	c, _ := build(t, pollFile(`
    items: body.items
    request: {path: /x}
    pagination: {kind: cursor_token, next: body.next, param: cursor, max_pages: 4}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err, "reaching max_pages ends the poll with what it read")
	require.Len(t, res.Items, 4)
	require.Len(t, srv.requests(), 4)
}

func TestPollRetriesAPage(t *testing.T) {
	t.Parallel()
	srv := newServer(t,
		reply(200, map[string]any{"data": itemList(1, 1)}),
		reply(503, nil),
		reply(429, nil, "Retry-After", "3"),
		reply(200, map[string]any{"data": []any{}}))
	c, clock := build(t, pollFile(`
    items: body.data
    request: {path: /items}
    pagination: {kind: page_number}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Len(t, res.Items, 1)
	require.Equal(t, 4*time.Second, clock.Slept(), "1s of backoff after the 503, then the 3s the 429 asked for")
	reqs := srv.requests()
	require.Equal(t, []string{"2"}, reqs[3].Query["page"], "the same page is asked again")

	failing := newServer(t, reply(500, map[string]any{"error": "down"}))
	c, clock = build(t, pollFile(`
    items: body.data
    request: {path: /items}
`))
	_, err = runPoll(t, c, "items", feedConn(failing.URL), nil, nil)
	require.ErrorContains(t, err, "500 Internal Server Error")
	require.Len(t, failing.requests(), BackoffMaxAttemptsDefault)
	require.Equal(t, (1+2+4+8)*time.Second, clock.Slept())
}

func TestPollDatetimeCursor(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{"rows": []any{
		map[string]any{"id": 1, "updated": "2001-03-01 10:00:00"},
		map[string]any{"id": 2, "updated": "2001-03-01 12:30:00"},
		map[string]any{"id": 3, "updated": "garbage"},
	}}))
	c, clock := build(t, pollFile(`
    items: body.rows
    request: {path: /orders, query: {filter: "updated>={{ cursor }}"}}
    cursor: {type: datetime, value: item.updated, overlap: 2s, format: "2006-01-02 15:04:05", location: Europe/Moscow}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	moscow, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	first := clock.Now().Add(-2 * time.Second).In(moscow).Format("2006-01-02 15:04:05")
	require.Equal(t, []string{"updated>=" + first}, srv.requests()[0].Query["filter"], "the first poll starts now, minus the overlap")
	// Items older than now (a test clock of today) do not move the cursor back.
	require.Equal(t, clock.Now().UTC().Format(time.RFC3339Nano), res.Cursor)

	saved := "2001-03-01T06:00:00Z"
	res, err = runPoll(t, c, "items", feedConn(srv.URL), nil, saved)
	require.NoError(t, err)
	require.Equal(t, []string{"updated>=2001-03-01 08:59:58"}, srv.requests()[1].Query["filter"])
	require.Equal(t, "2001-03-01T09:30:00Z", res.Cursor, "the newest item's time, 12:30 in Moscow")
}

func TestPollNumberAndTokenCursors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{"result": []any{
		map[string]any{"update_id": 41}, map[string]any{"update_id": 43}, map[string]any{"update_id": 42},
	}, "sync": "s-9"}))
	c, _ := build(t, pollFile(`
    items: body.result
    request: {path: /updates, query: {offset: "{{ cursor }}"}}
    cursor: {type: number, value: item.update_id, overlap: "1", initial: 40}
`))
	res, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Equal(t, int64(43), res.Cursor)
	require.Equal(t, []string{"39"}, srv.requests()[0].Query["offset"])
	res, err = runPoll(t, c, "items", feedConn(srv.URL), nil, int64(50))
	require.NoError(t, err)
	require.Equal(t, int64(50), res.Cursor, "never lower than the saved cursor")

	c, _ = build(t, pollFile(`
    items: body.result
    request: {path: /changes, query: {sync: "{{ cursor ?? '' }}"}, omit_empty: true}
    cursor: {type: token, value: body.sync}
`))
	res, err = runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.NoError(t, err)
	require.Equal(t, "s-9", res.Cursor)
	require.NotContains(t, srv.requests()[2].Query, "sync", "no token before the first poll")
	_, err = runPoll(t, c, "items", feedConn(srv.URL), nil, "s-8")
	require.NoError(t, err)
	require.Equal(t, []string{"s-8"}, srv.requests()[3].Query["sync"])
}

func TestPollItemsMustBeAList(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{"data": map[string]any{"id": 1}}))
	c, _ := build(t, pollFile(`
    items: body.data
    request: {path: /x}
`))
	_, err := runPoll(t, c, "items", feedConn(srv.URL), nil, nil)
	require.ErrorContains(t, err, "not a list")
}

func TestParseLinks(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Add("Link", `<https://x.test/a?page=2&b=1,2>; rel="next prev"; title="a, b", <https://x.test/last>; rel=last`)
	h.Add("Link", `<https://x.test/other>; rel="other"`)
	require.Equal(t, "https://x.test/a?page=2&b=1,2", linkRel(h, "next"))
	require.Equal(t, "https://x.test/a?page=2&b=1,2", linkRel(h, "PREV"))
	require.Equal(t, "https://x.test/last", linkRel(h, "last"))
	require.Equal(t, "https://x.test/other", linkRel(h, "other"))
	require.Empty(t, linkRel(h, "first"))
	require.Empty(t, linkRel(http.Header{"Link": {"garbage"}}, "next"))
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	require.True(t, sameOrigin("https://api.x.test/v1", "https://API.x.test:443/v2?a=1"))
	require.False(t, sameOrigin("https://api.x.test/v1", "http://api.x.test/v1"))
	require.False(t, sameOrigin("https://api.x.test", "https://evil.test"))
	require.False(t, sameOrigin("http://127.0.0.1:8080", "http://127.0.0.1:8081"))
}

package moyskladtest_test

import (
	"bytes"
	"compress/gzip"
	stdbase64 "encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/moysklad/moyskladtest"
)

type answer struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// plain neither adds Accept-Encoding nor decodes gzip by itself, so tests see what was sent.
var plain = &http.Transport{DisableCompression: true}

// do sends a request as a MoySklad client does (gzip, bearer token) and decodes the answer.
func do(t *testing.T, s *moyskladtest.Server, method, path string, body any, headers map[string]string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+"/"+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := plain.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(plain, &a.JSON), string(plain))
	}
	return a
}

func code(a answer) float64 {
	errs, _ := a.JSON["errors"].([]any)
	if len(errs) == 0 {
		return 0
	}
	c, _ := errs[0].(map[string]any)["code"].(float64)
	return c
}

func TestTransport(t *testing.T) {
	t.Parallel()
	s := moyskladtest.NewServer(t)

	// gzip is mandatory: 415 with an empty body.
	for _, enc := range []string{"", "deflate", "br"} {
		a := do(t, s, http.MethodGet, "entity/organization", nil, map[string]string{"Accept-Encoding": enc})
		require.Equal(t, http.StatusUnsupportedMediaType, a.Status)
		require.Empty(t, a.Raw)
	}
	a := do(t, s, http.MethodGet, "entity/organization", nil, nil)
	require.Equal(t, http.StatusOK, a.Status)
	require.Equal(t, "gzip", a.Header.Get("Content-Encoding"))
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Lognex-Retry-TimeInterval", "X-Lognex-Reset", "X-Lognex-Retry-After"} {
		require.NotEmpty(t, a.Header.Get(h), h)
	}
	require.Equal(t, "45", a.Header.Get("X-RateLimit-Limit"))
	require.Equal(t, "3000", a.Header.Get("X-Lognex-Retry-TimeInterval"))

	// Auth: bad bearer is 401 code 1056 in the envelope; Basic works; a new token revokes the old one.
	a = do(t, s, http.MethodGet, "entity/organization", nil, map[string]string{"Authorization": "Bearer nope"})
	require.Equal(t, http.StatusUnauthorized, a.Status)
	require.EqualValues(t, 1056, code(a))
	old := s.Token
	basic := "Basic " + b64(moyskladtest.DefaultLogin+":"+moyskladtest.DefaultPassword)
	a = do(t, s, http.MethodPost, "security/token", nil, map[string]string{"Authorization": basic})
	require.Equal(t, http.StatusOK, a.Status)
	require.NotEqual(t, old, a.JSON["access_token"])
	a = do(t, s, http.MethodGet, "entity/organization", nil, map[string]string{"Authorization": "Bearer " + old})
	require.Equal(t, http.StatusUnauthorized, a.Status)
	a = do(t, s, http.MethodGet, "entity/organization", nil, map[string]string{"Authorization": basic})
	require.Equal(t, http.StatusOK, a.Status)

	// Unknown paths answer JSON errors, never HTML.
	a = do(t, s, http.MethodGet, "entity/nothing", nil, nil)
	require.Equal(t, http.StatusNotFound, a.Status)
	require.EqualValues(t, 1002, code(a))
}

func TestLimits(t *testing.T) {
	t.Parallel()

	t.Run("window", func(t *testing.T) {
		t.Parallel()
		s := moyskladtest.NewServer(t, moyskladtest.WithRateLimit(2, time.Second))
		require.Equal(t, "1", do(t, s, http.MethodGet, "entity/organization", nil, nil).Header.Get("X-RateLimit-Remaining"))
		a := do(t, s, http.MethodGet, "entity/organization", nil, nil)
		require.Equal(t, "0", a.Header.Get("X-RateLimit-Remaining"))
		require.NotEqual(t, "0", a.Header.Get("X-Lognex-Reset"))
		a = do(t, s, http.MethodGet, "entity/organization", nil, nil)
		require.Equal(t, http.StatusTooManyRequests, a.Status)
		require.EqualValues(t, 1049, code(a))
		require.NotEqual(t, "0", a.Header.Get("X-Lognex-Retry-After"))
	})

	t.Run("parallel", func(t *testing.T) {
		t.Parallel()
		s := moyskladtest.NewServer(t)
		release := s.Block()
		var wg sync.WaitGroup
		var rejected atomic.Int32
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if a := do(t, s, http.MethodGet, "entity/organization", nil, nil); a.Status == http.StatusTooManyRequests && code(a) == 1073 {
					rejected.Add(1)
				}
			}()
		}
		require.Eventually(t, func() bool { return rejected.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
		release()
		wg.Wait()
	})
}

func TestLists(t *testing.T) {
	t.Parallel()
	s := moyskladtest.NewServer(t)
	for _, c := range []map[string]any{
		{"name": "Анна", "email": "ann@example.com", "phone": "+79991234567"},
		{"name": "Борис", "email": "boris@example.com", "phone": "8 999 000-11-22"},
		{"name": "Вера; и Ко", "email": "vera@example.com"},
	} {
		require.Equal(t, http.StatusOK, do(t, s, http.MethodPost, "entity/counterparty", c, nil).Status)
	}
	list := func(q url.Values) map[string]any {
		a := do(t, s, http.MethodGet, "entity/counterparty?"+q.Encode(), nil, nil)
		require.Equal(t, http.StatusOK, a.Status, a.JSON)
		return a.JSON
	}
	rows := func(m map[string]any) []string {
		var names []string
		for _, r := range m["rows"].([]any) {
			names = append(names, r.(map[string]any)["name"].(string))
		}
		return names
	}
	page := list(url.Values{"limit": {"2"}})
	meta := page["meta"].(map[string]any)
	require.EqualValues(t, 3, meta["size"])
	require.Len(t, page["rows"], 2)
	require.Contains(t, meta["nextHref"], "offset=2")
	page = list(url.Values{"limit": {"2"}, "offset": {"2"}})
	require.NotContains(t, page["meta"], "nextHref")
	require.Equal(t, []string{"Вера; и Ко"}, rows(page))

	require.Equal(t, []string{"Анна"}, rows(list(url.Values{"filter": {"email=ann@example.com"}})))
	require.Equal(t, []string{"Анна", "Борис"}, rows(list(url.Values{"filter": {"email=ann@example.com;email=boris@example.com"}})), "= on one field is OR")
	require.Empty(t, rows(list(url.Values{"filter": {"email=ann@example.com;name=Борис"}})), "fields are ANDed")
	require.Equal(t, []string{"Борис"}, rows(list(url.Values{"filter": {"phone~000-11"}})))
	require.Equal(t, []string{"Вера; и Ко"}, rows(list(url.Values{"filter": {`name=Вера\; и Ко`}})))
	at5 := s.StartedAt().Add(5 * time.Second).Format("2006-01-02 15:04:05")
	require.Equal(t, []string{"Борис", "Вера; и Ко"}, rows(list(url.Values{"filter": {"updated>=" + at5}})))
	require.Equal(t, []string{"Анна"}, rows(list(url.Values{"filter": {"updated<=" + at5}})))
	require.Equal(t, []string{"Борис"}, rows(list(url.Values{"search": {"BORIS"}})))
	require.Equal(t, []string{"Вера; и Ко", "Борис", "Анна"}, rows(list(url.Values{"order": {"updated,desc"}})))
	a := do(t, s, http.MethodGet, "entity/counterparty?limit=1001", nil, nil)
	require.Equal(t, http.StatusBadRequest, a.Status)

	// expand is dropped above limit 100.
	org := do(t, s, http.MethodGet, "entity/organization", nil, nil).JSON["rows"].([]any)[0].(map[string]any)
	agent := do(t, s, http.MethodGet, "entity/counterparty?limit=1", nil, nil).JSON["rows"].([]any)[0].(map[string]any)
	order := do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": map[string]any{"meta": org["meta"]}, "agent": map[string]any{"meta": agent["meta"]}}, nil)
	require.Equal(t, http.StatusOK, order.Status, order.JSON)
	small := do(t, s, http.MethodGet, "entity/customerorder?limit=100&expand=agent", nil, nil).JSON["rows"].([]any)[0].(map[string]any)
	require.Equal(t, "Анна", small["agent"].(map[string]any)["name"])
	withState := do(t, s, http.MethodGet, "entity/customerorder/"+order.JSON["id"].(string)+"?expand=agent,state", nil, nil).JSON
	require.Equal(t, "Анна", withState["agent"].(map[string]any)["name"])
	require.Equal(t, "Новый", withState["state"].(map[string]any)["name"], "expand=state gives the order's state")
	big := do(t, s, http.MethodGet, "entity/customerorder?limit=101&expand=agent", nil, nil).JSON["rows"].([]any)[0].(map[string]any)
	require.NotContains(t, big["agent"], "name")
}

func TestEntities(t *testing.T) {
	t.Parallel()
	s := moyskladtest.NewServer(t)

	a := do(t, s, http.MethodPost, "entity/counterparty", map[string]any{"email": "x@y.ru"}, nil)
	require.Equal(t, http.StatusPreconditionFailed, a.Status)
	require.EqualValues(t, 3000, code(a))
	require.Equal(t, "name", a.JSON["errors"].([]any)[0].(map[string]any)["parameter"])

	a = do(t, s, http.MethodPost, "entity/counterparty", map[string]any{"name": "Ann", "syncId": "0f8fad5b-d9cb-469f-a165-70867728950e"}, nil)
	require.Equal(t, http.StatusOK, a.Status)
	require.NotEmpty(t, a.JSON["externalCode"])
	require.Equal(t, "legal", a.JSON["companyType"])
	again := do(t, s, http.MethodPost, "entity/counterparty", map[string]any{"name": "Other", "syncId": "0f8fad5b-d9cb-469f-a165-70867728950e"}, nil)
	require.Equal(t, a.JSON["id"], again.JSON["id"], "a repeated syncId returns the object already created")
	require.Len(t, s.Entities("counterparty"), 1)
	a = do(t, s, http.MethodPut, "entity/counterparty/"+a.JSON["id"].(string), map[string]any{"syncId": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}, nil)
	require.EqualValues(t, 1047, code(a))

	agent := map[string]any{"meta": s.Entities("counterparty")[0]["meta"]}
	org := map[string]any{"meta": s.Entities("organization")[0]["meta"]}
	product := map[string]any{"meta": s.Entities("product")[0]["meta"]}
	a = do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"agent": agent}, nil)
	require.EqualValues(t, 3000, code(a))
	a = do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": org}, nil)
	require.EqualValues(t, 3000, code(a))
	a = do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": org, "agent": agent,
		"state": map[string]any{"meta": map[string]any{"href": s.URL + "/entity/customerorder/metadata/states/nope"}}}, nil)
	require.EqualValues(t, 11001, code(a))
	many := make([]any, 1001)
	for i := range many {
		many[i] = map[string]any{"assortment": product, "quantity": 1}
	}
	a = do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": org, "agent": agent, "positions": many}, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.Status)
	a = do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": org, "agent": agent,
		"positions": []any{map[string]any{"assortment": product, "quantity": 3, "price": 1050}}}, nil)
	require.Equal(t, http.StatusOK, a.Status, a.JSON)
	require.EqualValues(t, 3150, a.JSON["sum"], "kopecks")
	require.EqualValues(t, 1, a.JSON["positions"].(map[string]any)["meta"].(map[string]any)["size"])
	md := do(t, s, http.MethodGet, "entity/customerorder/metadata", nil, nil)
	require.Len(t, md.JSON["states"], 3)
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	s := moyskladtest.NewServer(t)
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	fail := atomic.Int32{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, body)
		mu.Unlock()
		if fail.Add(-1) >= 0 {
			w.WriteHeader(http.StatusAccepted) // not 200 or 204: a failure for MoySklad
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	hook := func(body map[string]any) answer { return do(t, s, http.MethodPost, "entity/webhook", body, nil) }

	a := hook(map[string]any{"url": recv.URL + "/hooks/a?key=k", "action": "CREATE", "entityType": "customerorder"})
	require.Equal(t, http.StatusOK, a.Status, a.JSON)
	require.Equal(t, true, a.JSON["enabled"])
	require.Equal(t, "POST", a.JSON["method"])
	require.EqualValues(t, 30003, code(hook(map[string]any{"url": recv.URL + "/hooks/a?key=k", "action": "CREATE", "entityType": "customerorder"})))
	require.EqualValues(t, 30009, code(hook(map[string]any{"url": recv.URL + "/x", "action": "CREATE", "entityType": "customerorder", "diffType": "FIELDS"})))
	require.EqualValues(t, 30010, code(hook(map[string]any{"url": recv.URL + "/" + strings.Repeat("x", 256), "action": "CREATE", "entityType": "customerorder"})))
	for i := range 4 {
		require.Equal(t, http.StatusOK, hook(map[string]any{"url": recv.URL + "/more/" + string(rune('a'+i)), "action": "DELETE", "entityType": "customerorder"}).Status)
	}
	require.Equal(t, http.StatusOK, hook(map[string]any{"url": recv.URL + "/more/e", "action": "DELETE", "entityType": "customerorder"}).Status)
	require.EqualValues(t, 30007, code(hook(map[string]any{"url": recv.URL + "/more/f", "action": "DELETE", "entityType": "customerorder"})))

	agent := map[string]any{"meta": s.AddCounterparty(map[string]any{"name": "A"})["meta"]}
	org := map[string]any{"meta": s.Entities("organization")[0]["meta"]}
	// The first attempt fails: three more follow at once with the same requestId.
	fail.Store(1)
	order := do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": org, "agent": agent}, nil)
	require.Equal(t, http.StatusOK, order.Status)
	ds, err := s.WaitDeliveries(t.Context(), 1)
	require.NoError(t, err)
	require.True(t, ds[0].Delivered)
	require.Len(t, ds[0].Attempts, 2)
	mu.Lock()
	require.Len(t, got, 2)
	require.Equal(t, got[0].URL.Query().Get("requestId"), got[1].URL.Query().Get("requestId"))
	require.Equal(t, "k", got[0].URL.Query().Get("key"))
	require.Equal(t, moyskladtest.UserAgent, got[0].Header.Get("User-Agent"))
	var p moyskladtest.Payload
	require.NoError(t, json.Unmarshal(bodies[0], &p))
	mu.Unlock()
	require.Equal(t, "audit", p.AuditContext["meta"].(map[string]any)["type"])
	require.Len(t, p.Events, 1)
	require.Equal(t, order.JSON["meta"].(map[string]any)["href"], p.Events[0].Meta["href"])

	// Four failures drop the event.
	fail.Store(4)
	s.Touch("customerorder", "CREATE", s.Href("customerorder", "1"), s.Href("customerorder", "2"))
	ds, err = s.WaitDeliveries(t.Context(), 2)
	require.NoError(t, err)
	require.False(t, ds[1].Delivered)
	require.Len(t, ds[1].Attempts, 4)
	require.NoError(t, json.Unmarshal(ds[1].Body, &p))
	require.Len(t, p.Events, 2, "one body carries several events")

	// A write whose DisableByPrefix matches the url emits nothing; a comma list is not understood.
	do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": org, "agent": agent},
		map[string]string{"X-Lognex-WebHook-DisableByPrefix": recv.URL})
	do(t, s, http.MethodPost, "entity/customerorder", map[string]any{"organization": org, "agent": agent},
		map[string]string{"X-Lognex-WebHook-DisableByPrefix": "https://a.example," + recv.URL})
	_, err = s.WaitDeliveries(t.Context(), 3)
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	require.Len(t, s.Deliveries(), 3, "only the write with the comma list was delivered")

	// Delete and disable.
	id := a.JSON["id"].(string)
	require.Equal(t, false, do(t, s, http.MethodPut, "entity/webhook/"+id, map[string]any{"enabled": false}, nil).JSON["enabled"])
	require.Equal(t, http.StatusOK, do(t, s, http.MethodDelete, "entity/webhook/"+id, nil, nil).Status)
	require.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, "entity/webhook/"+id, nil, nil).Status)
}

func b64(s string) string {
	return stdbase64.StdEncoding.EncodeToString([]byte(s))
}

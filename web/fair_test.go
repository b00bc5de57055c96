package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// fairApp is a server wired as `hookflow serve` wires it (the same http.Server settings),
// so the read timeouts and header limits under test are the real ones.
type fairApp struct {
	eng *enginetest.Engine
	srv *httptest.Server
}

func newFairApp(t *testing.T, cfg web.Config) *fairApp {
	t.Helper()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	cfg.Logger = enginetest.Logger(t)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = web.NewServer(web.New(eng.Engine, cfg), cfg.Logger)
	srv.Start()
	t.Cleanup(srv.Close)
	return &fairApp{eng: eng, srv: srv}
}

// hook creates a webhook workflow without steps and returns its path.
func (a *fairApp) hook(t *testing.T, name string) string {
	t.Helper()
	wf, err := a.eng.CreateWorkflow(context.Background(), []byte(`{"name":"`+name+`","trigger":{"type":"webhook"},"steps":[]}`))
	require.NoError(t, err)
	return "/hooks/" + wf.HookToken
}

func (a *fairApp) post(t *testing.T, path, body string) int {
	t.Helper()
	res, err := http.Post(a.srv.URL+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// stall opens a raw connection that sends a webhook's headers, promising a body of
// size bytes, and then only the first byte of it. The caller closes the connection.
func (a *fairApp) stall(t *testing.T, path string, size int) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", a.srv.Listener.Addr().String(), 2*time.Second)
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", path, size)
	require.NoError(t, err)
	return conn
}

// TestSlowBodiesStarveNoOtherWorkflow performs the starvation attack of issue 11: one
// webhook URL is sent more stalled bodies than the server's in-flight cap, and another
// workflow's webhooks must still get 202. Once the body read timeout passes, the stalled
// requests get 408 and are recorded, and the attacked URL takes webhooks again.
func TestSlowBodiesStarveNoOtherWorkflow(t *testing.T) {
	t.Parallel()
	const slots = 16
	// Long enough that the victim's posts below finish first even on a loaded machine;
	// the check that they did is a state (no stalled body answered yet), not a clock.
	const timeout = 4 * time.Second
	app := newFairApp(t, web.Config{MaxInFlight: slots, WebhookReadTimeout: timeout})
	victim, attacked := app.hook(t, "victim"), app.hook(t, "attacked")
	require.Equal(t, http.StatusAccepted, app.post(t, victim, `{"before":true}`))

	start := time.Now()
	conns := make([]net.Conn, 0, slots+4)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range slots + 4 {
		conns = append(conns, app.stall(t, attacked, 1000))
	}
	// Give the server time to take each stalled request into its handler.
	time.Sleep(300 * time.Millisecond)

	for i := range 5 {
		require.Equal(t, http.StatusAccepted, app.post(t, victim, fmt.Sprintf(`{"i":%d}`, i)),
			"another workflow's webhook %d while one URL holds %d stalled bodies", i, len(conns))
	}
	// The victim was served while the attacked workflow still held its slots: beyond the
	// 4 refused at once (503), no stalled request has been answered yet.
	answered := 0
	readers := make([]*bufio.Reader, len(conns))
	for i, c := range conns {
		readers[i] = bufio.NewReader(c)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
		if _, err := readers[i].Peek(1); err == nil {
			answered++
		}
	}
	require.Equal(t, len(conns)-(slots-slots/4), answered,
		"the victim was served before any stalled body timed out (took %s)", time.Since(start))

	// Each stalled request ends: 503 at once beyond its workflow's share, 408 once the
	// body read timeout passes, and its connection is closed.
	statuses := map[int]int{}
	for i, c := range conns {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		res, err := http.ReadResponse(readers[i], nil)
		require.NoError(t, err)
		res.Body.Close()
		statuses[res.StatusCode]++
	}
	require.Equal(t, slots-slots/4, statuses[http.StatusRequestTimeout], "the attacked workflow held 3/4 of the slots: %v", statuses)
	require.Equal(t, len(conns)-(slots-slots/4), statuses[http.StatusServiceUnavailable], "%v", statuses)
	require.Less(t, time.Since(start), 30*time.Second, "stalled bodies time out after the webhook read timeout, not the server's 60 s")

	require.Equal(t, http.StatusAccepted, app.post(t, attacked, `{"after":true}`), "the attacked URL takes webhooks again")
	c, err := app.eng.Count(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 7, c.Events["accepted"], "every webhook answered 202 is stored")
	require.Positive(t, c.Events["rejected"], "timed-out bodies are recorded for the inspector")
}

// TestBodyBytesBudget: the in-flight budget is counted in bytes too. Large declared
// bodies on one URL fill its share of the bytes, and another workflow still gets 202.
func TestBodyBytesBudget(t *testing.T) {
	t.Parallel()
	app := newFairApp(t, web.Config{MaxInFlightBytes: 64 << 10, WebhookReadTimeout: 5 * time.Second})
	victim, attacked := app.hook(t, "victim"), app.hook(t, "attacked")
	first := app.stall(t, attacked, 40<<10)
	defer first.Close()
	time.Sleep(200 * time.Millisecond)
	second := app.stall(t, attacked, 20<<10)
	defer second.Close()
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	res, err := http.ReadResponse(bufio.NewReader(second), nil)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "40 KiB + 20 KiB is over 3/4 of a 64 KiB budget")
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	require.Equal(t, http.StatusAccepted, app.post(t, victim, `{"small":true}`))
	// A body of unknown length is counted as it arrives.
	req, err := http.NewRequest(http.MethodPost, app.srv.URL+victim, strings.NewReader(strings.Repeat("x", 32<<10)))
	require.NoError(t, err)
	req.ContentLength = -1
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "a chunked 32 KiB body does not fit in the 24 KiB left")
}

// rawStatus sends a raw request on a new connection and returns the answer's status.
func (a *fairApp) rawStatus(t *testing.T, req string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", a.srv.Listener.Addr().String(), 2*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	// The server may answer and close before it has read the whole request.
	go func() { _, _ = conn.Write([]byte(req)) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// TestOversizedHeadersRefused performs the header attacks of issue 11: a 1 MiB header and
// 20,000 headers were accepted and stored. Both are refused now, and so is a request
// with more headers than the count limit though small enough in bytes; the accepted
// event sent before stays.
func TestOversizedHeadersRefused(t *testing.T) {
	t.Parallel()
	app := newFairApp(t, web.Config{})
	path := app.hook(t, "headers")
	require.Equal(t, http.StatusAccepted, app.post(t, path, `{"before":true}`))
	request := func(headers string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + headers +
			"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
	}

	big := "X-Big: " + strings.Repeat("a", 1<<20) + "\r\n"
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, app.rawStatus(t, request(big)), "a 1 MiB header")

	var many strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&many, "X-H%d: v\r\n", i)
	}
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, app.rawStatus(t, request(many.String())), "20,000 headers")

	// Small enough in bytes for the server, but more lines than any sender needs: 431
	// from the ingress, which records it for the inspector.
	var lines strings.Builder
	for i := range web.MaxHeadersDefault + 1 {
		fmt.Fprintf(&lines, "X-H%d: v\r\n", i)
	}
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, app.rawStatus(t, request(lines.String())), "too many header lines")
	require.Equal(t, http.StatusAccepted, app.post(t, path, `{"after":true}`))

	c, err := app.eng.Count(context.Background())
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"accepted": 2, "rejected": 1}, nonZeroCounts(c.Events),
		"the header-count refusal is recorded; nothing refused is stored as accepted; nothing accepted is lost")
}

func nonZeroCounts(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

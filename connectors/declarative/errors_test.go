package declarative

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

const errorsFile = `
hookflow_connector: 1
name: err
title: Errors
base_url: "{{ conn.base_url }}"
connection:
  fields:
    - {name: base_url, type: string}
    - {name: key, type: string, secret: true}
  auth: {kind: header, name: X-Key, value: "{{ conn.key }}"}
defaults:
  errors:
    fail_on: [503]
    wait_from: [{header: X-Wait-Ms, unit: ms}, {header: X-RateLimit-Reset, unit: epoch}, {header: Retry-After}]
    message: body.error ?? body.description
    success_when: body.ok != false
actions:
  call: {title: Call, request: {path: /call}}
  lenient:
    title: Lenient
    request: {path: /lenient}
    errors: {retry_on: [409], fail_on: [], success_when: "true"}
`

func TestResponseClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		action    string
		handler   http.HandlerFunc
		permanent bool
		wait      time.Duration // 0: none reported
		contains  string
	}{
		{"ok", "call", reply(200, map[string]any{"ok": true}), false, 0, ""},
		{"200 with an error inside", "call", reply(200, map[string]any{"ok": false, "description": "chat not found"}), true, 0,
			"GET %s/call: 200 OK: chat not found"},
		{"429 with Retry-After", "call", reply(429, map[string]any{"error": "slow down"}, "Retry-After", "3"), false, 3 * time.Second,
			"GET %s/call: 429 Too Many Requests: slow down"},
		{"429 in milliseconds", "call", reply(429, nil, "X-Wait-Ms", "1500", "Retry-After", "9"), false, 1500 * time.Millisecond, "429"},
		{"429 without a wait", "call", reply(429, nil), false, 0, "429 Too Many Requests"},
		{"500", "call", reply(500, map[string]any{"error": "boom"}), false, 0, "500 Internal Server Error: boom"},
		{"503 in fail_on", "call", reply(503, nil), true, 0, "503"},
		{"404 with a snippet", "call", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(404)
			fmt.Fprint(w, "no such\n page")
		}, true, 0, "404 Not Found: no such page"},
		{"secret echoed", "call", func(w http.ResponseWriter, r *http.Request) {
			reply(400, map[string]any{"error": "bad key " + r.Header.Get("X-Key")})(w, r)
		}, true, 0, "400 Bad Request: bad key ******"},
		{"per-action retry_on", "lenient", reply(409, nil), false, 0, "409 Conflict"},
		{"per-action retry_on replaces the default", "lenient", reply(500, nil), true, 0, "500"},
		{"per-action success_when", "lenient", reply(200, map[string]any{"ok": false}), false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.handler)
			c, _ := build(t, errorsFile)
			_, err := runAction(t, c, tt.action, conn(map[string]any{"base_url": srv.URL, "key": "key-secret-0001"}, "key"), nil)
			if tt.contains == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, strings.ReplaceAll(tt.contains, "%s", srv.URL))
			require.NotContains(t, err.Error(), "key-secret-0001")
			require.Equal(t, tt.permanent, connectors.IsPermanent(err), "%v", err)
			d, ok := connectors.RetryDelay(err)
			require.Equal(t, tt.wait > 0, ok)
			require.Equal(t, tt.wait, d)
			var se *httpclient.StatusError
			require.True(t, errors.As(err, &se), "Go code reads the status as from any connector")
		})
	}
}

func TestEpochWaitHeader(t *testing.T) {
	t.Parallel()
	c, clock := build(t, errorsFile)
	reset := clock.Now().Add(7 * time.Second).Unix()
	srv := newServer(t, reply(429, nil, "X-RateLimit-Reset", fmt.Sprint(reset)))
	_, err := runAction(t, c, "call", conn(map[string]any{"base_url": srv.URL, "key": "key-secret-0001"}, "key"), nil)
	d, ok := connectors.RetryDelay(err)
	require.True(t, ok)
	// The header has whole seconds: the wait is 6 to 7 seconds from the clock's now.
	require.Greater(t, d, 6*time.Second)
	require.LessOrEqual(t, d, 7*time.Second)
}

func TestParseWait(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		v, unit string
		want    time.Duration
		ok      bool
	}{
		{"3", "s", 3 * time.Second, true},
		{"1.5", "", 1500 * time.Millisecond, true},
		{now.Add(10 * time.Second).UTC().Format(http.TimeFormat), "s", 10 * time.Second, true},
		{"250", "ms", 250 * time.Millisecond, true},
		{fmt.Sprint(now.Add(-time.Minute).Unix()), "epoch", 0, true},
		{"999999999999", "s", httpclient.RetryAfterMax, true},
		{"99999999999999", "epoch", httpclient.RetryAfterMax, true},
		{"soon", "s", 0, false},
		{"-1", "ms", 0, false},
		{"3", "minutes", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseWait(tt.v, tt.unit, now)
		require.Equal(t, tt.ok, ok, "%s %s", tt.v, tt.unit)
		require.InDelta(t, float64(tt.want), float64(got), float64(time.Second), "%s %s", tt.v, tt.unit)
	}
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := backoff{initial: time.Second, max: 5 * time.Second, maxAttempts: 5}
	var got []time.Duration
	for attempt := 1; attempt <= 5; attempt++ {
		got = append(got, b.delay(attempt))
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, got)
}

// TestWaitHeaderOnlyOnItsStatuses: a reset time sent on every response (GitHub's
// X-RateLimit-Reset) is read on a 429, not on a 500, whose retry keeps the runner's
// backoff instead of waiting for the end of the rate window.
func TestWaitHeaderOnlyOnItsStatuses(t *testing.T) {
	t.Parallel()
	c, clock := build(t, errorsFile)
	reset := fmt.Sprint(clock.Now().Add(40 * time.Minute).Unix())
	cn := func(url string) *connectors.Connection {
		return conn(map[string]any{"base_url": url, "key": "key-secret-0001"}, "key")
	}

	srv := newServer(t, reply(500, nil, "X-RateLimit-Reset", reset))
	_, err := runAction(t, c, "call", cn(srv.URL), nil)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	_, waits := connectors.RetryDelay(err)
	require.False(t, waits, "a 500 does not wait for the rate window: %v", err)

	srv = newServer(t, reply(429, nil, "X-RateLimit-Reset", reset))
	_, err = runAction(t, c, "call", cn(srv.URL), nil)
	d, waits := connectors.RetryDelay(err)
	require.True(t, waits)
	require.Greater(t, d, 39*time.Minute)
}

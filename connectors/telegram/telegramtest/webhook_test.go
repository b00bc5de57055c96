package telegramtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// receiver is a webhook endpoint that answers with the next scripted status (200 once
// they run out) and records what it got at Hook, its URL with a path of its own. Other
// requests are ignored: a pusher in another test (or test binary) may still be retrying a
// closed receiver whose port this one was given.
type receiver struct {
	*httptest.Server
	Hook     string
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	bodies   []map[string]any
	times    []time.Time
}

func newReceiver(t *testing.T, retryAfter string, statuses ...int) *receiver {
	t.Helper()
	rc := &receiver{statuses: statuses}
	path := fmt.Sprintf("/hooks/%d", time.Now().UnixNano())
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(data, &body)
		rc.mu.Lock()
		rc.headers = append(rc.headers, r.Header.Clone())
		rc.bodies = append(rc.bodies, body)
		rc.times = append(rc.times, time.Now())
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		if status != http.StatusOK && retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
	}))
	rc.Hook = rc.URL + path
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

func TestPushUpdate(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	rc := newReceiver(t, "")
	_, err := s.PushUpdate(t.Context(), map[string]any{"message": map[string]any{"text": "x"}})
	require.ErrorContains(t, err, "no webhook is set")

	a := postJSON(t, s, "setWebhook", map[string]any{"url": rc.Hook, "secret_token": "tg_Secret-Token_42"})
	require.Equal(t, 200, a.Status, a.description())
	d, err := s.PushUpdate(t.Context(), map[string]any{"message": map[string]any{"text": "hello"}})
	require.NoError(t, err)
	require.True(t, d.Delivered)
	require.Len(t, d.Attempts, 1)
	require.Equal(t, 200, d.Attempts[0].Status)

	require.Equal(t, 1, rc.count())
	require.Equal(t, "tg_Secret-Token_42", rc.headers[0].Get(SecretTokenHeader))
	require.Equal(t, "application/json", rc.headers[0].Get("Content-Type"))
	require.Equal(t, float64(d.UpdateID), rc.bodies[0]["update_id"])
	require.Equal(t, "hello", rc.bodies[0]["message"].(map[string]any)["text"])
	require.Empty(t, s.Updates(), "a delivered update leaves the queue")
	require.Equal(t, []Delivery{d}, s.Deliveries())
}

func TestWebhookDeliversQueuedUpdatesInOrder(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	rc := newReceiver(t, "")
	first := s.AddMessageUpdate(1001, "one")
	second := s.AddMessageUpdate(1001, "two")
	s.SetWebhook(rc.Hook, "") // automatic delivery of what was pending
	d, err := s.WaitDelivery(t.Context(), second)
	require.NoError(t, err)
	require.True(t, d.Delivered)
	require.Equal(t, first, s.Deliveries()[0].UpdateID)
	require.Empty(t, rc.headers[0].Get(SecretTokenHeader), "no secret, no header")
}

func TestWebhookBasicAuthFromURL(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	rc := newReceiver(t, "")
	s.SetWebhook(strings.Replace(rc.Hook, "http://", "http://user:pa55@", 1), "")
	_, err := s.PushUpdate(t.Context(), map[string]any{"message": map[string]any{}})
	require.NoError(t, err)
	req := &http.Request{Header: rc.headers[0]}
	user, pass, ok := req.BasicAuth()
	require.True(t, ok)
	require.Equal(t, "user", user)
	require.Equal(t, "pa55", pass)
}

func TestWebhookRetries(t *testing.T) {
	t.Parallel()

	t.Run("non-2xx is retried with backoff", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t, WithWebhookRetry(5, 20*time.Millisecond, time.Second))
		rc := newReceiver(t, "", 500, 302, 200)
		s.SetWebhook(rc.Hook, "s3cret")
		d, err := s.PushUpdate(t.Context(), map[string]any{"message": map[string]any{}})
		require.NoError(t, err)
		require.True(t, d.Delivered)
		require.Len(t, d.Attempts, 3)
		require.Equal(t, []int{500, 302, 200}, []int{d.Attempts[0].Status, d.Attempts[1].Status, d.Attempts[2].Status})
		require.Equal(t, 20*time.Millisecond, d.Attempts[0].Wait)
		require.Equal(t, 40*time.Millisecond, d.Attempts[1].Wait, "the backoff doubles")
		require.GreaterOrEqual(t, rc.times[2].Sub(rc.times[0]), 60*time.Millisecond)
		info := s.Webhook()
		require.Equal(t, "Wrong response from the webhook: 302 Found", info.LastErrorMessage)
		require.NotZero(t, info.LastErrorDate)
	})

	t.Run("retry-after is honoured", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t, WithWebhookRetry(3, 10*time.Millisecond, 5*time.Second))
		rc := newReceiver(t, "1", 429, 200)
		s.SetWebhook(rc.Hook, "")
		d, err := s.PushUpdate(t.Context(), map[string]any{"message": map[string]any{}})
		require.NoError(t, err)
		require.True(t, d.Delivered)
		require.Equal(t, time.Second, d.Attempts[0].RetryAfter)
		require.Equal(t, time.Second, d.Attempts[0].Wait)
		require.GreaterOrEqual(t, rc.times[1].Sub(rc.times[0]), time.Second)
	})

	t.Run("retry-after is capped", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t, WithWebhookRetry(3, 10*time.Millisecond, 50*time.Millisecond))
		rc := newReceiver(t, "3600", 503, 200)
		s.SetWebhook(rc.Hook, "")
		d, err := s.PushUpdate(t.Context(), map[string]any{"message": map[string]any{}})
		require.NoError(t, err)
		require.True(t, d.Delivered)
		require.Equal(t, time.Hour, d.Attempts[0].RetryAfter)
		require.Equal(t, 50*time.Millisecond, d.Attempts[0].Wait)
	})

	t.Run("gives up after the last attempt", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t, WithWebhookRetry(3, 5*time.Millisecond, 20*time.Millisecond))
		rc := newReceiver(t, "", 500, 500, 500, 500)
		s.SetWebhook(rc.Hook, "")
		id := s.AddMessageUpdate(1001, "lost")
		next := s.AddMessageUpdate(1001, "next")
		d, err := s.WaitDelivery(t.Context(), id)
		require.NoError(t, err)
		require.False(t, d.Delivered)
		require.Len(t, d.Attempts, 3)
		require.Zero(t, d.Attempts[2].Wait)
		d, err = s.WaitDelivery(t.Context(), next)
		require.NoError(t, err)
		require.True(t, d.Delivered, "the pusher goes on with the next update")
		require.Equal(t, 5, rc.count())
	})

	t.Run("unreachable receiver", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t, WithWebhookRetry(2, 5*time.Millisecond, 10*time.Millisecond))
		rc := newReceiver(t, "")
		rc.Close()
		s.SetWebhook(rc.Hook, "")
		d, err := s.PushUpdate(t.Context(), map[string]any{"message": map[string]any{}})
		require.NoError(t, err)
		require.False(t, d.Delivered)
		require.Zero(t, d.Attempts[0].Status)
		require.Contains(t, d.Attempts[0].Err, "Connection failed")
	})
}

func TestWebhookDeletedStopsDelivery(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.SetWebhook("", "")
	id := s.AddMessageUpdate(1001, "kept")
	require.Equal(t, id, s.Updates()[0]["update_id"].(int64))
	require.Empty(t, s.Deliveries())
	// Without a webhook the update waits for getUpdates.
	require.Equal(t, []int64{id}, updateIDs(t, postJSON(t, s, "getUpdates", nil)))
}

func TestCloseIsIdempotentAndEndsLongPolls(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(s.BotURL("getUpdates") + "?timeout=30")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.poll != nil
	}, 5*time.Second, 5*time.Millisecond)
	start := time.Now()
	s.Close()
	s.Close()
	require.Less(t, time.Since(start), 5*time.Second)
	select {
	case status := <-done:
		require.NotEqual(t, 200, status)
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll did not end")
	}
}

package hubspottest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSignV3Vector checks the signature against the contract's vector 13.
func TestSignV3Vector(t *testing.T) {
	t.Parallel()
	got := SignV3("hubspot-client-secret", http.MethodPost, "https://example.com/webhooks/hubspot?portal=1",
		[]byte(`[{"eventId":1,"subscriptionType":"contact.creation","objectId":123}]`), 1700000000000)
	require.Equal(t, "Kfbtr0h1ZQLItVxjOfdycFKEy1Kijx9EbrULSsSRmII=", got)
	require.Equal(t, SignV3("s", "POST", "https://h/p?a=b:c", nil, 1), SignV3("s", "POST", "https://h/p?a=b%3Ac", nil, 1),
		"the encodings HubSpot decodes before signing")
}

// Checklist: the webhook emitter posts a JSON array of events with a v3 signature and a
// millisecond timestamp.
func TestSendEvents(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	var got *http.Request
	var body []byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	ev, err := s.ContactCreated("51")
	require.NoError(t, err)
	status, err := s.SendEvents(context.Background(), receiver.URL+"/hooks/abc", "client-secret", []Event{ev})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, status)
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))
	ts, err := strconv.ParseInt(got.Header.Get(HeaderTimestamp), 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().UnixMilli(), ts, float64(time.Minute.Milliseconds()), "milliseconds, not seconds")
	require.Equal(t, SignV3("client-secret", "POST", receiver.URL+"/hooks/abc", body, ts), got.Header.Get(HeaderSignatureV3))
	require.JSONEq(t, `[{"eventId":1,"subscriptionId":1001,"portalId":62515,"appId":1002,"occurredAt":`+
		strconv.FormatInt(ev.OccurredAt, 10)+`,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":51,"changeSource":"CRM_UI"}]`, string(body))
}

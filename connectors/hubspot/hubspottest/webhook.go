package hubspottest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Event is one webhook event of a HubSpot app subscription. HubSpot posts them as a JSON
// array, several events a request.
type Event struct {
	EventID          int64  `json:"eventId"`
	SubscriptionID   int64  `json:"subscriptionId"`
	PortalID         int64  `json:"portalId"`
	AppID            int64  `json:"appId"`
	OccurredAt       int64  `json:"occurredAt"`
	SubscriptionType string `json:"subscriptionType"`
	AttemptNumber    int    `json:"attemptNumber"`
	ObjectID         int64  `json:"objectId"`
	ChangeSource     string `json:"changeSource,omitempty"`
	PropertyName     string `json:"propertyName,omitempty"`
	PropertyValue    string `json:"propertyValue,omitempty"`
}

// Webhook headers of HubSpot's v3 request signature.
const (
	HeaderSignatureV3 = "X-HubSpot-Signature-v3"
	HeaderTimestamp   = "X-HubSpot-Request-Timestamp"
)

// signedDecodings are the percent-encodings HubSpot decodes in the URI before signing it;
// every other encoding is signed as sent.
var signedDecodings = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$", "%27", "'",
	"%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";")

// SignV3 returns the X-HubSpot-Signature-v3 value of a request: the base64 HMAC-SHA256,
// keyed with the app's client secret, of method + URI + body + timestamp (Unix
// milliseconds, as sent in X-HubSpot-Request-Timestamp).
func SignV3(clientSecret, method, uri string, body []byte, timestampMS int64) string {
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(method + signedDecodings.Replace(uri)))
	mac.Write(body)
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ContactCreated returns the contact.creation event of a contact the fake holds, as a
// subscription to contact creations delivers it.
func (s *Server) ContactCreated(contactID string) (Event, error) {
	id, err := strconv.ParseInt(contactID, 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("contact id %q: %w", contactID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventSeq++
	return Event{EventID: s.eventSeq, SubscriptionID: 1001, PortalID: 62515, AppID: 1002,
		OccurredAt: time.Now().UnixMilli(), SubscriptionType: "contact.creation", AttemptNumber: 0,
		ObjectID: id, ChangeSource: "CRM_UI"}, nil
}

// SendEvents delivers events to a webhook URL as HubSpot does: one POST of a JSON array,
// signed with v3 and stamped with the time in milliseconds. It returns the answer's
// status. HubSpot retries failed deliveries up to 10 times; tests call SendEvents again
// to play a retry.
func (s *Server) SendEvents(ctx context.Context, url, clientSecret string, events []Event) (int, error) {
	body, err := json.Marshal(events)
	if err != nil {
		return 0, fmt.Errorf("encode events: %w", err)
	}
	ts := time.Now().UnixMilli()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build delivery to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "HubSpot Webhooks")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignatureV3, SignV3(clientSecret, http.MethodPost, url, body, ts))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver events to %s: %w", url, err)
	}
	defer res.Body.Close()
	return res.StatusCode, nil
}

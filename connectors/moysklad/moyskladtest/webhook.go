package moyskladtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// webhookActions are the actions a webhook subscribes to.
var webhookActions = map[string]bool{"CREATE": true, "UPDATE": true, "DELETE": true, "PROCESSED": true}

// webhookURLMax is the longest url MoySklad stores (30010).
const webhookURLMax = 255

// webhooksPerAction is how many urls a user may subscribe to one (entityType, action) (30007).
const webhooksPerAction = 5

func (s *Server) createWebhook(ex *exchange, in map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, action, typ, diff := str(in["url"]), str(in["action"]), str(in["entityType"]), str(in["diffType"])
	switch {
	case u == "":
		ex.fail(http.StatusPreconditionFailed, 3000, "url", "Ошибка сохранения объекта: поле 'url' не может быть пустым")
		return
	case len(u) > webhookURLMax:
		ex.fail(http.StatusPreconditionFailed, 30010, "url", fmt.Sprintf("Длина url вебхука превышает %d символов", webhookURLMax))
		return
	case !validURL(u):
		ex.fail(http.StatusPreconditionFailed, 30001, "url", "Некорректный url вебхука")
		return
	case !webhookActions[action]:
		ex.fail(http.StatusPreconditionFailed, 30002, "action", "Некорректное действие вебхука: "+action)
		return
	case typ == "" || typ == "webhook" || typ == "discount" || typ == "notes":
		ex.fail(http.StatusPreconditionFailed, 30005, "entityType", "Некорректный тип сущности вебхука: "+typ)
		return
	case diff != "" && action != "UPDATE":
		ex.fail(http.StatusPreconditionFailed, 30009, "diffType", "Параметр diffType допустим только для действия UPDATE")
		return
	}
	same := 0
	for _, h := range s.entities["webhook"] {
		if h["entityType"] == typ && h["action"] == action {
			if h["url"] == u {
				ex.fail(http.StatusPreconditionFailed, 30003, "url", "Вебхук с такими entityType, action и url уже существует")
				return
			}
			same++
		}
	}
	if same >= webhooksPerAction {
		ex.fail(http.StatusPreconditionFailed, 30007, "", fmt.Sprintf("Превышено количество вебхуков (%d) на одно действие одной сущности", webhooksPerAction))
		return
	}
	fields := map[string]any{"url": u, "action": action, "entityType": typ, "method": "POST", "enabled": true}
	if diff != "" {
		fields["diffType"] = diff
	}
	ex.ok(clone(s.insertLocked("webhook", fields)))
}

func (s *Server) updateWebhookLocked(ex *exchange, h map[string]any, in map[string]any) {
	if v, ok := in["enabled"].(bool); ok {
		h["enabled"] = v
	}
	if d, ok := in["diffType"]; ok {
		if h["action"] != "UPDATE" {
			ex.fail(http.StatusPreconditionFailed, 30009, "diffType", "Параметр diffType допустим только для действия UPDATE")
			return
		}
		h["diffType"] = d
	}
	if u, ok := in["url"].(string); ok {
		if len(u) > webhookURLMax {
			ex.fail(http.StatusPreconditionFailed, 30010, "url", fmt.Sprintf("Длина url вебхука превышает %d символов", webhookURLMax))
			return
		}
		h["url"] = u
	}
	ex.ok(clone(h))
}

// Event is one event of a delivery body.
type Event struct {
	Meta          map[string]any `json:"meta"`
	Action        string         `json:"action"`
	AccountID     string         `json:"accountId"`
	UpdatedFields []string       `json:"updatedFields,omitempty"`
}

// Payload is a delivery body.
type Payload struct {
	AuditContext map[string]any `json:"auditContext"`
	Events       []Event        `json:"events"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	Status int
	Err    string
	Took   time.Duration
}

// Delivery is one webhook request with its attempts.
type Delivery struct {
	URL       string // the subscription's url
	RequestID string
	Body      []byte
	Attempts  []Attempt
	// Delivered says an attempt got 200 or 204 within WebhookTimeout.
	Delivered bool
	done      chan struct{}
}

// Deliveries returns the deliveries made or in progress, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, 0, len(s.deliveries))
	for _, d := range s.deliveries {
		c := *d
		c.Attempts = append([]Attempt(nil), d.Attempts...)
		out = append(out, c)
	}
	return out
}

// WaitDeliveries waits until n deliveries have finished (delivered or dropped).
func (s *Server) WaitDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	for {
		s.mu.Lock()
		var waiting []chan struct{}
		for _, d := range s.deliveries {
			waiting = append(waiting, d.done)
		}
		s.mu.Unlock()
		if len(waiting) >= n {
			for _, ch := range waiting[:n] {
				select {
				case <-ch:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return s.Deliveries()[:n], nil
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// emit sends the events a request caused to the matching enabled webhooks, one body per
// webhook with every event of the request, unless the request's
// X-Lognex-WebHook-DisableByPrefix matches the webhook's url.
func (s *Server) emit(ex *exchange) {
	if len(ex.events) == 0 {
		return
	}
	s.mu.Lock()
	type target struct {
		url    string
		events []Event
	}
	var targets []*target
	byURL := map[string]*target{}
	for _, h := range s.entities["webhook"] {
		u := str(h["url"])
		if h["enabled"] != true || disabledBy(ex.disable, u) {
			continue
		}
		for _, ev := range ex.events {
			if h["entityType"] != ev.typ || h["action"] != ev.action {
				continue
			}
			t, ok := byURL[u]
			if !ok {
				t = &target{url: u}
				byURL[u] = t
				targets = append(targets, t)
			}
			e := Event{Meta: map[string]any{"type": ev.typ, "href": ev.href}, Action: ev.action, AccountID: AccountID}
			if ev.action == "UPDATE" && h["diffType"] == "FIELDS" {
				e.UpdatedFields = ev.fields
			}
			t.events = append(t.events, e)
		}
	}
	s.mu.Unlock()
	for _, t := range targets {
		s.deliverAsync(t.url, newUUID(), t.events)
	}
}

// disabledBy reports whether one of the prefixes (scheme and host included) starts u.
func disabledBy(prefixes []string, u string) bool {
	for _, p := range prefixes {
		// One prefix per header: a comma-separated list is not understood.
		if p != "" && !strings.Contains(p, ",") && strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// Touch sends one delivery with an event per href to every enabled webhook of typ and
// action, as a change in MoySklad's UI would: several hrefs make a batched body.
func (s *Server) Touch(typ, action string, hrefs ...string) {
	ex := &exchange{}
	for _, h := range hrefs {
		ex.events = append(ex.events, pendingEvent{typ: typ, action: action, href: h})
	}
	s.emit(ex)
}

// Redeliver sends a delivery's body again with the same requestId, as MoySklad's retries
// do, and waits for it.
func (s *Server) Redeliver(ctx context.Context, d Delivery) Delivery {
	var p Payload
	_ = json.Unmarshal(d.Body, &p)
	nd := s.deliverAsync(d.URL, d.RequestID, p.Events)
	select {
	case <-nd.done:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *nd
	c.Attempts = append([]Attempt(nil), nd.Attempts...)
	return c
}

func (s *Server) deliverAsync(hookURL, requestID string, events []Event) *Delivery {
	s.mu.Lock()
	body, _ := json.Marshal(Payload{
		AuditContext: map[string]any{
			"meta":   map[string]any{"type": "audit", "href": s.URL + "/audit/" + newUUID()},
			"uid":    DefaultLogin,
			"moment": s.clock.Format("2006-01-02 15:04:05"),
		},
		Events: events,
	})
	d := &Delivery{URL: hookURL, RequestID: requestID, Body: body, done: make(chan struct{})}
	s.deliveries = append(s.deliveries, d)
	s.pending.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.pending.Done()
		defer close(d.done)
		target := withRequestID(hookURL, requestID)
		for i := 0; i <= WebhookRetries; i++ {
			a := s.post(target, body)
			s.mu.Lock()
			d.Attempts = append(d.Attempts, a)
			ok := a.Err == "" && (a.Status == http.StatusOK || a.Status == http.StatusNoContent) && a.Took <= WebhookTimeout
			d.Delivered = ok
			s.mu.Unlock()
			if ok {
				return
			}
			// No delay between attempts: that is how MoySklad retries.
		}
	}()
	return d
}

func (s *Server) post(target string, body []byte) Attempt {
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Attempt{Err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	resp, err := s.hookClient.Do(req)
	if err != nil {
		return Attempt{Err: err.Error(), Took: time.Since(start)}
	}
	_ = resp.Body.Close()
	return Attempt{Status: resp.StatusCode, Took: time.Since(start)}
}

// withRequestID adds requestId to the url's query.
func withRequestID(raw, id string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("requestId", id)
	u.RawQuery = q.Encode()
	return u.String()
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

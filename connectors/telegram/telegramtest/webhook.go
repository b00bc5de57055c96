package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SecretTokenHeader carries the webhook's secret_token on every delivery.
const SecretTokenHeader = "X-Telegram-Bot-Api-Secret-Token"

// Delivery is the outcome of pushing one update to the webhook.
type Delivery struct {
	UpdateID int64
	// URL is the webhook the update was pushed to.
	URL string
	// Delivered says a receiver answered 2xx; false means the pusher gave up after its
	// last attempt and dropped the update.
	Delivered bool
	Attempts  []Attempt
}

// Attempt is one POST of an update to the webhook.
type Attempt struct {
	// Status is the receiver's HTTP status, 0 when no response came (Err says why).
	Status int
	Err    string
	// RetryAfter is what the receiver's Retry-After header asked for, if anything.
	RetryAfter time.Duration
	// Wait is how long the pusher waited after this attempt (0 after the last one).
	Wait time.Duration
}

// Deliveries returns the finished deliveries, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// PushUpdate queues update (see AddUpdate) and waits until the pusher has delivered it to
// the webhook or given up. It fails when no webhook is set, when allowed_updates
// excludes the update, or when ctx ends first.
func (s *Server) PushUpdate(ctx context.Context, update map[string]any) (Delivery, error) {
	s.mu.Lock()
	if s.hook == nil {
		s.mu.Unlock()
		return Delivery{}, errors.New("telegramtest: no webhook is set")
	}
	id, err := s.addUpdateLocked(update)
	s.mu.Unlock()
	switch {
	case err != nil:
		return Delivery{}, fmt.Errorf("telegramtest: push update: %w", err)
	case id == 0:
		return Delivery{}, errors.New("telegramtest: allowed_updates excludes the update")
	}
	return s.WaitDelivery(ctx, id)
}

// WaitDelivery waits until the update with the given id has been delivered or given up.
func (s *Server) WaitDelivery(ctx context.Context, updateID int64) (Delivery, error) {
	for {
		s.mu.Lock()
		for _, d := range s.deliveries {
			if d.UpdateID == updateID {
				s.mu.Unlock()
				return d, nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Delivery{}, fmt.Errorf("telegramtest: wait for delivery of update %d: %w", updateID, ctx.Err())
		case <-s.ctx.Done():
			return Delivery{}, errors.New("telegramtest: server closed")
		}
	}
}

// pushLoop delivers queued updates to the webhook, one at a time and in order, while one
// is set.
func (s *Server) pushLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		hook := s.hook
		var next *storedUpdate
		if hook != nil && len(s.updates) > 0 {
			u := s.updates[0]
			next = &u
		}
		changed := s.changed
		s.mu.Unlock()

		if next == nil {
			select {
			case <-changed:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		d, finished := s.deliver(hook, next)
		if !finished {
			if s.ctx.Err() != nil {
				return
			}
			continue // the webhook changed or was deleted: start over with the new state
		}
		s.mu.Lock()
		if len(s.updates) > 0 && s.updates[0].id == next.id {
			s.updates = s.updates[1:]
		}
		s.deliveries = append(s.deliveries, d)
		s.broadcastLocked()
		s.mu.Unlock()
	}
}

// deliver pushes one update with bounded retries. finished is false when the webhook
// changed or the server closed before the update was delivered or given up.
func (s *Server) deliver(hook *webhook, u *storedUpdate) (d Delivery, finished bool) {
	d = Delivery{UpdateID: u.id, URL: hook.url}
	body, err := json.Marshal(u.body)
	if err != nil {
		s.t.Errorf("telegramtest: encode update %d: %v", u.id, err)
		return d, true
	}
	for attempt := 1; ; attempt++ {
		if !s.current(hook) {
			return d, false
		}
		a := s.post(hook, body)
		if a.Status >= 200 && a.Status <= 299 {
			d.Delivered = true
			d.Attempts = append(d.Attempts, a)
			return d, true
		}
		s.mu.Lock()
		s.lastErrorDate = time.Now().Unix()
		s.lastErrorMsg = a.Err
		if a.Status != 0 {
			s.lastErrorMsg = fmt.Sprintf("Wrong response from the webhook: %d %s", a.Status, http.StatusText(a.Status))
		}
		s.mu.Unlock()
		if attempt >= s.cfg.webhookAttempts {
			d.Attempts = append(d.Attempts, a)
			return d, true
		}
		a.Wait = min(s.cfg.webhookBackoff<<(attempt-1), s.cfg.webhookMaxWait)
		if a.RetryAfter > 0 {
			a.Wait = min(a.RetryAfter, s.cfg.webhookMaxWait)
		}
		d.Attempts = append(d.Attempts, a)
		timer := time.NewTimer(a.Wait)
		select {
		case <-timer.C:
		case <-s.ctx.Done():
			timer.Stop()
			return d, false
		}
	}
}

func (s *Server) current(hook *webhook) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hook == hook && s.ctx.Err() == nil
}

// post makes one delivery attempt. A URL with userinfo is sent as basic auth, as
// Telegram does.
func (s *Server) post(hook *webhook, body []byte) Attempt {
	target, err := url.Parse(hook.url)
	if err != nil {
		return Attempt{Err: "Bad webhook URL"}
	}
	user := target.User
	target.User = nil
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return Attempt{Err: "Bad webhook URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	if hook.secret != "" {
		req.Header.Set(SecretTokenHeader, hook.secret)
	}
	if user != nil {
		pass, _ := user.Password()
		req.SetBasicAuth(user.Username(), pass)
	}
	resp, err := s.push.Do(req)
	if err != nil {
		return Attempt{Err: "Connection failed: " + err.Error()}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	a := Attempt{Status: resp.StatusCode}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		a.RetryAfter = time.Duration(min(secs, 3600)) * time.Second // Telegram clamps at an hour
	}
	return a
}

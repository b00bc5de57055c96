package bitrix24test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Event is one outgoing event of a Bitrix24 event handler (an "outgoing webhook").
type Event struct {
	// Name is the event, such as ONCRMLEADADD.
	Name string
	// ID is the id of the record the event is about, data[FIELDS][ID].
	ID int64
	// HandlerID is event_handler_id.
	HandlerID int
	// ApplicationToken is auth[application_token], the token Bitrix24 showed when the
	// handler was made.
	ApplicationToken string
	// Domain is auth[domain]; default the portal's host.
	Domain string
	// TS is the unix time of the event; default now.
	TS int64
}

// EventBody is the form body Bitrix24 posts for e.
func (s *Server) EventBody(e Event) string {
	domain := e.Domain
	if domain == "" {
		domain = strings.TrimPrefix(s.URL, "http://")
	}
	ts := e.TS
	if ts == 0 {
		ts = s.opts.Now().Unix()
	}
	// Bitrix24's own order of the parameters.
	pairs := [][2]string{
		{"event", e.Name},
		{"event_handler_id", strconv.Itoa(e.HandlerID)},
		{"data[FIELDS][ID]", strconv.FormatInt(e.ID, 10)},
		{"ts", strconv.FormatInt(ts, 10)},
		{"auth[domain]", domain},
		{"auth[client_endpoint]", "https://" + domain + "/rest/"},
		{"auth[server_endpoint]", "https://oauth.bitrix.info/rest/"},
		{"auth[member_id]", "a223c6b3710f85df22e9377d6c4f7553"},
		{"auth[application_token]", e.ApplicationToken},
	}
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
	}
	return b.String()
}

// PostEvent delivers e to target as Bitrix24 does (a form POST) and returns the status.
func (s *Server) PostEvent(ctx context.Context, target string, e Event) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(s.EventBody(e)))
	if err != nil {
		return 0, fmt.Errorf("build bitrix24 event: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post bitrix24 event: %w", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

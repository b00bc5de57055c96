package httpclient

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookflow/hookflow/connectors"
)

const (
	// RetryAfterMax caps the wait a server may ask for, as Telegram caps retry_after: a
	// longer wait is better left to the runner's own schedule.
	RetryAfterMax = time.Hour
	// SnippetBytes is how much of an error response's body goes into StatusError.
	SnippetBytes = 200
)

// StatusError is a response whose status is not 2xx. Classify returns it, wrapped in
// connectors.Permanent or connectors.RetryAfter when that applies; get it back with
// errors.As.
type StatusError struct {
	// Status is the HTTP status code.
	Status int
	// Body is the start of the response body (at most SnippetBytes bytes), redacted.
	Body string
	// Method and URL describe the request; URL is redacted.
	Method string
	URL    string
	// Location is the redacted Location header of a 3xx, since redirects are not followed.
	Location string
}

// Error says the request, the status and the start of the body.
func (e *StatusError) Error() string {
	var b strings.Builder
	if e.Method != "" || e.URL != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	}
	fmt.Fprintf(&b, "unexpected status %d", e.Status)
	if text := http.StatusText(e.Status); text != "" {
		b.WriteString(" " + text)
	}
	if e.Location != "" {
		fmt.Fprintf(&b, " (redirect to %s not followed)", e.Location)
	}
	if e.Body != "" {
		b.WriteString(": " + e.Body)
	}
	return b.String()
}

// Retryable reports whether the status is worth retrying: 408, 429 and 5xx.
func (e *StatusError) Retryable() bool { return RetryableStatus(e.Status) }

// RetryableStatus reports whether a non-2xx status is worth retrying: 408 Request Timeout,
// 429 Too Many Requests and every 5xx.
func RetryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		(status >= 500 && status <= 599)
}

// Classify turns a response into the SDK's error kinds: nil for 2xx; for 408, 429 and 5xx
// a retryable *StatusError, wrapped in connectors.RetryAfter when the response carries a
// valid Retry-After (capped at RetryAfterMax); for 3xx and every other status a
// *StatusError wrapped in connectors.Permanent. The error holds a redacted snippet of the
// body, redacted with the secrets of the Client that produced resp.
func Classify(resp *Response) error {
	if resp == nil {
		return errors.New("no http response to classify")
	}
	if resp.Status >= 200 && resp.Status <= 299 {
		return nil
	}
	redact := resp.redact
	if redact == nil {
		redact = identity
	}
	err := &StatusError{
		Status: resp.Status,
		Body:   redact(Snippet(resp.Body, SnippetBytes)),
		Method: resp.Method,
		URL:    resp.URL,
	}
	if resp.Status >= 300 && resp.Status <= 399 {
		if loc := resp.Header.Get("Location"); loc != "" {
			err.Location = redact(RedactURL(loc))
		}
	}
	if !err.Retryable() {
		return connectors.Permanent(err)
	}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return connectors.RetryAfter(err, d)
	}
	return err
}

// Snippet returns the start of body as a single line of valid UTF-8, at most n bytes,
// with "…" appended when it was cut.
func Snippet(body []byte, n int) string {
	cut := false
	if len(body) > n {
		body = body[:n]
		cut = true
		// Do not end in the middle of a UTF-8 sequence.
		for i := 0; i < utf8.UTFMax && len(body) > 0 && !utf8.Valid(body); i++ {
			body = body[:len(body)-1]
		}
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if cut {
		s += "…"
	}
	return s
}

// ParseRetryAfter reads a Retry-After header value: delay-seconds or an HTTP-date, the
// latter measured from now. A date in the past gives 0. The result is capped at
// RetryAfterMax. ok is false for an empty or malformed value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
				return RetryAfterMax, true
			}
			return 0, false
		}
		if secs >= uint64(RetryAfterMax/time.Second) {
			return RetryAfterMax, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > RetryAfterMax:
		return RetryAfterMax, true
	}
	// HTTP-dates have whole seconds; round up so the wait is never shorter than asked.
	return d.Truncate(time.Second) + ceilSecond(d), true
}

func ceilSecond(d time.Duration) time.Duration {
	if d%time.Second != 0 {
		return time.Second
	}
	return 0
}

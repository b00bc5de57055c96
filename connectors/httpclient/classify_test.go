package httpclient

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()

	// Dates are written relative to now, as a server would send them.
	now := time.Now().UTC().Truncate(time.Second)
	httpDate := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{name: "empty", value: "", wantOK: false},
		{name: "blank", value: "   ", wantOK: false},
		{name: "seconds", value: "2", want: 2 * time.Second, wantOK: true},
		{name: "zero seconds", value: "0", want: 0, wantOK: true},
		{name: "seconds with spaces", value: " 120 ", want: 2 * time.Minute, wantOK: true},
		{name: "seconds capped", value: "86400", want: RetryAfterMax, wantOK: true},
		{name: "seconds exactly the cap", value: "3600", want: RetryAfterMax, wantOK: true},
		{name: "seconds overflow capped", value: "99999999999999999999999", want: RetryAfterMax, wantOK: true},
		{name: "negative", value: "-5", wantOK: false},
		{name: "fraction", value: "1.5", wantOK: false},
		{name: "garbage", value: "soon", wantOK: false},
		{name: "seconds with suffix", value: "10s", wantOK: false},
		{name: "http date", value: httpDate(30 * time.Second), want: 30 * time.Second, wantOK: true},
		{name: "rfc850 date", value: strings.Replace(now.Add(time.Minute).Format(time.RFC850), "UTC", "GMT", 1), want: time.Minute, wantOK: true},
		{name: "asctime date", value: now.Add(5 * time.Second).Format(time.ANSIC), want: 5 * time.Second, wantOK: true},
		{name: "date in the past", value: httpDate(-time.Hour), want: 0, wantOK: true},
		{name: "date far ahead capped", value: httpDate(24 * time.Hour), want: RetryAfterMax, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseRetryAfter(tt.value, now)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseRetryAfterRoundsDatesUp(t *testing.T) {
	t.Parallel()

	whole := time.Now().UTC().Truncate(time.Second)
	now := whole.Add(400 * time.Millisecond)
	got, ok := ParseRetryAfter(whole.Add(10*time.Second).Format(http.TimeFormat), now)
	require.True(t, ok)
	require.Equal(t, 10*time.Second, got, "a wait of 9.6s must not be shortened to 9s")
}

func TestClassify(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantNil    bool
		permanent  bool
		wantDelay  time.Duration
		hasDelay   bool
		wantInText []string
	}{
		{name: "200", status: 200, wantNil: true},
		{name: "201", status: 201, wantNil: true},
		{name: "204", status: 204, wantNil: true},
		{name: "299", status: 299, wantNil: true},
		{name: "301 permanent", status: 301, header: http.Header{"Location": {"https://example.com/new?token=abc"}}, permanent: true,
			wantInText: []string{"301", "https://example.com/new?token=******", "not followed"}},
		{name: "304 permanent", status: 304, permanent: true},
		{name: "400 permanent", status: 400, body: `{"error":"bad field"}`, permanent: true, wantInText: []string{"400", "Bad Request", `{"error":"bad field"}`}},
		{name: "401 permanent", status: 401, permanent: true},
		{name: "404 permanent", status: 404, permanent: true},
		{name: "409 permanent", status: 409, permanent: true},
		{name: "410 permanent", status: 410, permanent: true},
		{name: "422 permanent", status: 422, permanent: true},
		{name: "408 retryable", status: 408},
		{name: "429 retryable", status: 429, wantInText: []string{"429"}},
		{name: "429 retry-after seconds", status: 429, header: http.Header{"Retry-After": {"2"}}, wantDelay: 2 * time.Second, hasDelay: true},
		{name: "503 retry-after capped", status: 503, header: http.Header{"Retry-After": {"7200"}}, wantDelay: RetryAfterMax, hasDelay: true},
		{name: "503 retry-after date far ahead", status: 503, header: http.Header{"Retry-After": {"Fri, 01 Jan 2100 00:00:00 GMT"}}, wantDelay: RetryAfterMax, hasDelay: true},
		{name: "503 malformed retry-after", status: 503, header: http.Header{"Retry-After": {"later"}}},
		{name: "500 retryable", status: 500, body: "oops", wantInText: []string{"500", "oops"}},
		{name: "502 retryable", status: 502},
		{name: "599 retryable", status: 599},
		{name: "400 with retry-after stays permanent", status: 400, header: http.Header{"Retry-After": {"5"}}, permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := tt.header
			if header == nil {
				header = http.Header{}
			}
			err := Classify(&Response{Status: tt.status, Header: header, Body: []byte(tt.body), Method: "POST", URL: "https://example.com/hook"})
			if tt.wantNil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var se *StatusError
			require.True(t, errors.As(err, &se), "want a *StatusError, got %T", err)
			require.Equal(t, tt.status, se.Status)
			require.Equal(t, tt.permanent, connectors.IsPermanent(err))
			require.Equal(t, !tt.permanent, se.Retryable())
			d, ok := connectors.RetryDelay(err)
			require.Equal(t, tt.hasDelay, ok)
			require.Equal(t, tt.wantDelay, d)
			require.Contains(t, err.Error(), "POST https://example.com/hook")
			for _, s := range tt.wantInText {
				require.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestClassifyNil(t *testing.T) {
	t.Parallel()

	err := Classify(nil)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
}

func TestClassifySnippet(t *testing.T) {
	t.Parallel()

	body := strings.Repeat("é", 150) // 300 bytes of two-byte runes
	err := Classify(&Response{Status: 500, Header: http.Header{}, Body: []byte(body)})
	var se *StatusError
	require.ErrorAs(t, err, &se)
	require.LessOrEqual(t, len(se.Body), SnippetBytes+len("…"))
	require.True(t, strings.HasSuffix(se.Body, "…"))
	require.NotContains(t, se.Body, "\uFFFD", "the cut must not split a rune")
}

func TestSnippet(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body string
		n    int
		want string
	}{
		{name: "empty", body: "", n: 10, want: ""},
		{name: "short", body: "hello", n: 10, want: "hello"},
		{name: "exact", body: "hello", n: 5, want: "hello"},
		{name: "cut", body: "hello world", n: 5, want: "hello…"},
		{name: "whitespace collapsed", body: "{\n  \"a\": 1\n}\n", n: 100, want: `{ "a": 1 }`},
		{name: "invalid utf8 replaced", body: "a\xffb", n: 10, want: "a\uFFFDb"},
		{name: "rune not split", body: "aé", n: 2, want: "a…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Snippet([]byte(tt.body), tt.n))
		})
	}
}

package signature

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the -- want -- section of testdata/*.txt with the actual verdicts")

// goldenCase is one testdata/*.txt file:
//
//	# comments
//	type: github          config lines: type, secret (repeatable), header, query, algorithm,
//	secret: ...           encoding, prefix, tolerance, username, password, and now (unix
//	now: 1700000000       seconds or RFC 3339)
//	-- request --
//	POST https://host/path?query
//	Header-Name: value    one per line, then an empty line
//
//	body                  up to the next section, without the final newline
//	-- want --
//	ok                    or: reject <code>: <reason>
//
// Files named vector-*.txt hold the vectors of services.md §7 and must verify.
type goldenCase struct {
	cfg  Config
	now  time.Time
	req  *Request
	want string
}

const (
	sectionRequest = "-- request --\n"
	sectionWant    = "-- want --\n"
)

func parseGolden(t *testing.T, data string) goldenCase {
	t.Helper()
	head, rest, ok := strings.Cut(data, sectionRequest)
	require.True(t, ok, "no %q section", strings.TrimSpace(sectionRequest))
	reqText, want, ok := strings.Cut(rest, sectionWant)
	require.True(t, ok, "no %q section", strings.TrimSpace(sectionWant))

	var gc goldenCase
	for line := range strings.SplitSeq(head, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		require.True(t, ok, "config line %q is not key: value", line)
		switch k {
		case "type":
			gc.cfg.Type = v
		case "secret":
			gc.cfg.Secrets = append(gc.cfg.Secrets, v)
		case "header":
			gc.cfg.Header = v
		case "query":
			gc.cfg.Query = v
		case "algorithm":
			gc.cfg.Algorithm = v
		case "encoding":
			gc.cfg.Encoding = v
		case "prefix":
			gc.cfg.Prefix = v
		case "username":
			gc.cfg.Username = v
		case "password":
			gc.cfg.Password = v
		case "tolerance":
			d, err := time.ParseDuration(v)
			require.NoError(t, err)
			gc.cfg.Tolerance = d
		case "now":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				gc.now = time.Unix(n, 0)
			} else {
				gc.now, err = time.Parse(time.RFC3339Nano, v)
				require.NoError(t, err)
			}
		default:
			t.Fatalf("unknown config key %q", k)
		}
	}
	require.False(t, gc.now.IsZero(), "no now: line")

	headText, body, ok := strings.Cut(reqText, "\n\n")
	require.True(t, ok, "no empty line between the request's headers and its body")
	lines := strings.Split(headText, "\n")
	method, target, ok := strings.Cut(lines[0], " ")
	require.True(t, ok, "request line %q is not METHOD URL", lines[0])
	gc.req = &Request{Method: method, URL: target, Header: http.Header{}, Body: []byte(strings.TrimSuffix(body, "\n"))}
	for _, line := range lines[1:] {
		k, v, ok := strings.Cut(line, ":")
		require.True(t, ok, "header line %q has no colon", line)
		gc.req.Header.Add(k, strings.TrimSpace(v))
	}
	if strings.HasPrefix(gc.req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(gc.req.Body))
		require.NoError(t, err)
		gc.req.Form = form
	}
	gc.want = strings.TrimSpace(want)
	return gc
}

// verdict renders Verify's result as the -- want -- section does.
func verdict(err error) string {
	if err == nil {
		return "ok"
	}
	var e *Error
	if !errors.As(err, &e) {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("reject %s: %s", e.Code, e.Reason)
}

// TestGolden runs every testdata/*.txt case, among them all the vectors of services.md §7.
func TestGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)

	vectors := 0
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		if strings.HasPrefix(name, "vector-") {
			vectors++
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			gc := parseGolden(t, string(raw))

			err = Verify(gc.cfg, gc.req, gc.now)
			got := verdict(err)
			if *update && got != gc.want {
				i := strings.Index(string(raw), sectionWant)
				require.NoError(t, os.WriteFile(file, []byte(string(raw)[:i]+sectionWant+got+"\n"), 0o644))
				gc.want = got
			}
			require.Equal(t, gc.want, got)
			if strings.HasPrefix(name, "vector-") {
				require.Equal(t, "ok", got, "a vector from services.md §7 must verify")
			}
			if err != nil {
				require.Equal(t, !strings.HasPrefix(got, "reject "+CodeBadConfig), IsRejection(err))
				for _, s := range append(gc.cfg.Secrets, gc.cfg.Password) {
					if s != "" {
						require.NotContains(t, err.Error(), s, "a reason must never contain a secret")
					}
				}
			}
		})
	}
	require.Equal(t, 13, vectors, "vectors 1-13 of services.md §7 each have a vector-*.txt file")
}

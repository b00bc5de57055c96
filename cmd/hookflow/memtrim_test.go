package main_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var releasedLog = regexp.MustCompile(`msg="Released start-up pages" bytes=(\d+)`)

// TestReleaseStartupPages: serve with HOOKFLOW_RELEASE_STARTUP_PAGES off and on starts,
// and after the release (on) still runs a webhook through a workflow to a real sink: the
// code and data it needs come back from the executable file.
func TestReleaseStartupPages(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		t.Run("on="+strconv.FormatBool(on), func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 1)
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				select {
				case got <- string(b):
				default:
				}
			}))
			defer sink.Close()
			dir := t.TempDir()
			env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "data"), "HOOKFLOW_DATABASE_URL=",
				"HOOKFLOW_LOG_LEVEL=debug", "HOOKFLOW_RELEASE_STARTUP_PAGES=" + strconv.FormatBool(on)}
			srv, a := setupAPI(t, dir, env)
			if on && runtime.GOOS == "linux" {
				var logged []string
				require.True(t, waitFor(30*time.Second, func() bool {
					logged = releasedLog.FindStringSubmatch(srv.log())
					return logged != nil
				}), "no release logged; logs:\n%s", srv.log())
				n, err := strconv.ParseInt(logged[1], 10, 64)
				require.NoError(t, err)
				require.Positive(t, n, "the executable had resident pages to release")
			}
			hook := createWorkflow(t, a, map[string]any{
				"name": "after release", "trigger": map[string]any{"type": "webhook"},
				"steps": []any{map[string]any{"id": "send", "uses": "http.request",
					"with": map[string]any{"method": "POST", "url": sink.URL + "/crm", "body": map[string]any{"n": "{{ trigger.body.n }}"}}}},
			})
			runHook(t, a, hook, `{"n": 7}`)
			select {
			case body := <-got:
				require.JSONEq(t, `{"n": 7}`, body)
			case <-time.After(30 * time.Second):
				t.Fatal("the sink got nothing")
			}
			srv.stop(t)
			if !on {
				require.NotContains(t, srv.log(), "Released start-up pages")
			}
			require.False(t, strings.Contains(srv.log(), "Release start-up pages failed"), srv.log())
		})
	}
}

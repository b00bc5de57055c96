package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProbeRunStaysBounded replays the probe of issue 11 against the real binary: a
// webhook that accepts a large body, and a for_each over 8 items of 16 MB, once from a
// 16 MB body and once built by an expression from a small one. It used to make a
// 256 MB step record and a 2.4 GB peak RSS; now each run fails on a limit, the records
// stay small, and the server's peak RSS stays under 300 MB.
func TestProbeRunStaysBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"HOOKFLOW_DATA_DIR=" + filepath.Join(dir, "data"), "HOOKFLOW_DATABASE_URL=",
		"HOOKFLOW_SECRET_KEY=" + testSecretKey, "HOOKFLOW_WORKERS=2"}
	srv, a := setupAPI(t, dir, env)

	for _, tc := range []struct {
		name, forEach, body, wantErr string
	}{
		{"16 MB body", "map(1..8, trigger.body.s)", `{"s": "` + strings.Repeat("p", 16<<20) + `"}`,
			"over limits.run_data (16MiB)"},
		{"built from a small body", "map(1..8, repeat(trigger.body.c, 1000000))", `{"c": "` + strings.Repeat("p", 16) + `"}`,
			"over limits.expression_memory (64MiB)"},
	} {
		var wf struct {
			WebhookURL string `json:"webhook_url"`
		}
		require.Equal(t, http.StatusCreated, a.do(t, http.MethodPost, "/api/v1/workflows", map[string]any{
			"name": "probe " + tc.name, "trigger": map[string]any{"type": "webhook", "webhook": map[string]any{"max_body_bytes": 64 << 20}},
			"steps": []any{map[string]any{"id": "each", "uses": "core.set", "for_each": tc.forEach,
				"with": map[string]any{"data": "{{ item }}"}}},
		}, &wf))
		res, err := http.Post(wf.WebhookURL, "application/json", strings.NewReader(tc.body))
		require.NoError(t, err)
		var accepted struct {
			RunID string `json:"run_id"`
		}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&accepted))
		res.Body.Close()
		require.Equal(t, http.StatusAccepted, res.StatusCode)

		var run struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		var size int
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			req, _ := http.NewRequest(http.MethodGet, a.base+"/api/v1/runs/"+accepted.RunID, nil)
			req.Header.Set("Authorization", "Bearer "+a.token)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			var buf bytes.Buffer
			_, err = buf.ReadFrom(res.Body)
			res.Body.Close()
			require.NoError(t, err)
			size = buf.Len()
			require.NoError(t, json.Unmarshal(buf.Bytes(), &run))
			if run.Status == "failed" || run.Status == "succeeded" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		require.Equal(t, "failed", run.Status, "%s: %s; logs:\n%s", tc.name, run.Error, srv.log())
		require.Contains(t, run.Error, tc.wantErr, tc.name)
		require.Less(t, size, 3<<20, "%s: GET /runs/{id} serves at most the records' cut data", tc.name)
	}

	hwm := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("peak RSS of the server: %d MB", hwm>>20)
	require.Less(t, hwm, int64(300<<20), "peak RSS")
	srv.stop(t)
}

// peakRSS reads VmHWM, the process's peak resident set size, from /proc.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

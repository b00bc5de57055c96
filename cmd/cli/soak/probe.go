package soak

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// scrape is what the soak reads from a server's /metrics.
type scrape struct {
	goroutines float64
	queue      float64
	retries    float64 // hookflow_step_retries_total, all actions
	rss        float64 // process_resident_memory_bytes
	fds        float64 // process_open_fds
}

// wanted are the metric names scrape reads; retries sums over labels.
var wanted = map[string]func(*scrape, float64){
	"go_goroutines":                 func(s *scrape, v float64) { s.goroutines = v },
	"hookflow_queue_depth":          func(s *scrape, v float64) { s.queue = v },
	"hookflow_step_retries_total":   func(s *scrape, v float64) { s.retries += v },
	"process_resident_memory_bytes": func(s *scrape, v float64) { s.rss = v },
	"process_open_fds":              func(s *scrape, v float64) { s.fds = v },
}

// readMetrics fetches and parses base/metrics (Prometheus text format). Only the few
// unlabelled or summed samples above are read, so a line parser is enough.
func readMetrics(ctx context.Context, client *http.Client, base, token string) (scrape, error) {
	var s scrape
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return s, fmt.Errorf("scrape /metrics: %w", err)
	}
	req.Header.Set("Accept", "text/plain")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return s, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return s, fmt.Errorf("scrape /metrics: answered %s", resp.Status)
	}
	s, err = parseMetrics(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return s, fmt.Errorf("scrape /metrics: %w", err)
	}
	return s, nil
}

func parseMetrics(r io.Reader) (scrape, error) {
	var s scrape
	found := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			// Labels may hold spaces: the value follows the closing brace.
			name = line[:i]
			end := strings.LastIndexByte(line, '}')
			if end < 0 {
				continue
			}
			rest, ok = strings.TrimSpace(line[end+1:]), true
		}
		set := wanted[name]
		if !ok || set == nil {
			continue
		}
		if f := strings.Fields(rest); len(f) > 0 {
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return s, fmt.Errorf("parse %q: %w", line, err)
			}
			set(&s, v)
			if name == "go_goroutines" {
				found = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	if !found {
		return s, fmt.Errorf("no go_goroutines in the answer")
	}
	return s, nil
}

// procRSS returns pid's resident set size from /proc/<pid>/status, in bytes.
func procRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS of process %d: %w", pid, err)
			}
			return float64(kb << 10), nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// procFDs counts pid's open file descriptors in /proc/<pid>/fd.
func procFDs(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("open files of process %d: %w", pid, err)
	}
	defer f.Close()
	n := 0
	for {
		names, err := f.Readdirnames(256)
		n += len(names)
		if err == io.EOF {
			return float64(n), nil
		}
		if err != nil {
			return 0, fmt.Errorf("open files of process %d: %w", pid, err)
		}
	}
}

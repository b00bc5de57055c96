package benchmark

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Metrics are the samples of a Prometheus text exposition, summed over their labels by
// metric name.
type Metrics map[string]float64

// ReadMetrics fetches base/metrics with token (none when empty) and parses it, for the
// bench and the soak.
func ReadMetrics(ctx context.Context, client *http.Client, base, token string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	req.Header.Set("Accept", "text/plain")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("scrape /metrics: answered %s", resp.Status)
	}
	m, err := ParseMetrics(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	return m, nil
}

// ParseMetrics reads a Prometheus text exposition. Only plain samples are needed, so a
// line parser is enough: comments are skipped, and a sample's labels (which may hold
// spaces) end at the closing brace.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = line[:i]
			end := strings.LastIndexByte(line, '}')
			if end < 0 {
				continue
			}
			rest, ok = strings.TrimSpace(line[end+1:]), true
		}
		f := strings.Fields(rest)
		if !ok || len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return m, fmt.Errorf("parse %q: %w", line, err)
		}
		m[name] += v
	}
	return m, sc.Err()
}

package soak

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/cmd/cli/benchmark"
)

// scrape is what the soak reads from a server's /metrics.
type scrape struct {
	goroutines float64
	queue      float64
	retries    float64 // hookflow_step_retries_total, all actions
	rss        float64 // process_resident_memory_bytes
	fds        float64 // process_open_fds
}

// readMetrics fetches base/metrics and keeps what the soak watches.
func readMetrics(ctx context.Context, client *http.Client, base, token string) (scrape, error) {
	m, err := benchmark.ReadMetrics(ctx, client, base, token)
	if err != nil {
		return scrape{}, err
	}
	return scrapeOf(m)
}

func parseMetrics(r io.Reader) (scrape, error) {
	m, err := benchmark.ParseMetrics(r)
	if err != nil {
		return scrape{}, err
	}
	return scrapeOf(m)
}

// scrapeOf keeps the samples the soak watches; retries sum over their labels.
func scrapeOf(m benchmark.Metrics) (scrape, error) {
	if _, ok := m["go_goroutines"]; !ok {
		return scrape{}, fmt.Errorf("scrape /metrics: no go_goroutines in the answer")
	}
	return scrape{goroutines: m["go_goroutines"], queue: m["hookflow_queue_depth"], retries: m["hookflow_step_retries_total"],
		rss: m["process_resident_memory_bytes"], fds: m["process_open_fds"]}, nil
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

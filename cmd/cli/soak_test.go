package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/cmd/cli/clitest"
)

func TestSoakUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"soak", "--rate", "0"},
		{"soak", "--duration", "0s"},
		{"soak", "--token", "t"},
		{"soak", "--target", "http://192.0.2.1:8080", "--token", "t"},
		{"soak", "--warmup", "2h"},
		{"soak", "extra"},
	} {
		code, _, errOut := runCLI(t, args...)
		require.Equal(t, ExitUsage, code, "%v: %s", args, errOut)
	}
}

// TestSoakInterrupt runs the soak as a process, interrupts it with SIGINT after a few
// windows and checks that it still reports what it measured, writes the chart, exits 1
// (the run did not complete), stops its server and removes its temporary dir.
func TestSoakInterrupt(t *testing.T) {
	t.Parallel()
	bin := clitest.Binary(t)
	tmp := t.TempDir()
	svg := filepath.Join(t.TempDir(), "soak.svg")
	cmd := exec.Command(bin, "soak", "--duration", "2m", "--rate", "10", "--interval", "1s", "--json", "--svg", svg)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	var log bytes.Buffer
	windows := make(chan struct{}, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "soak: t=") {
				windows <- struct{}{}
			}
		}
		exited <- cmd.Wait()
	}()
	defer func() { _ = cmd.Process.Kill() }()

	// Wait, bounded, for three windows, then interrupt.
	deadline := time.After(90 * time.Second)
	for range 3 {
		select {
		case <-windows:
		case err := <-exited:
			t.Fatalf("the soak exited early: %v", err)
		case <-deadline:
			t.Fatal("no three windows within 90 s")
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err = <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the soak did not stop within 60 s of SIGINT")
	}
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	require.Equal(t, ExitFailure, exit.ExitCode(), log.String())

	var rep struct {
		Completed   bool   `json:"completed"`
		Interrupted string `json:"interrupted"`
		PID         int    `json:"pid"`
		Pass        bool   `json:"pass"`
		Windows     []struct {
			RSSMB      float64 `json:"rss_mb"`
			Goroutines float64 `json:"goroutines"`
		} `json:"windows"`
		Totals struct {
			Sent int `json:"sent"`
		} `json:"totals"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), stdout.String())
	require.False(t, rep.Completed)
	require.False(t, rep.Pass)
	require.Contains(t, rep.Interrupted, "interrupt")
	require.GreaterOrEqual(t, len(rep.Windows), 3)
	require.Positive(t, rep.Windows[0].RSSMB)
	require.Positive(t, rep.Windows[0].Goroutines)
	require.Positive(t, rep.Totals.Sent)

	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
	}
	require.Equal(t, 4, strings.Count(string(b), `class="panel"`))

	_, err = os.Stat(filepath.Join("/proc", itoa(rep.PID)))
	require.True(t, os.IsNotExist(err), "the server process %d is gone", rep.PID)
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the temporary data dir is removed")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

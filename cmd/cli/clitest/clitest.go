// Package clitest builds the hookflow binary for tests that run it as a process: the
// real command line, signals and crashes included.
package clitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
)

// Binary builds cmd/hookflow once per test process, with CGO_ENABLED=0 (which proves the
// pure-Go build works), and returns its path. Call Cleanup from TestMain.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, derr := os.MkdirTemp("", "hookflow-bin")
		if derr != nil {
			err = derr
			return
		}
		path = filepath.Join(dir, "hookflow")
		cmd := exec.Command("go", "build", "-o", path, "github.com/hookflow/hookflow/cmd/hookflow")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build: %w\n%s", berr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Cleanup removes the built binary.
func Cleanup() {
	if path != "" {
		os.RemoveAll(filepath.Dir(path))
	}
}

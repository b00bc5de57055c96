//go:build !linux

package benchmark

import (
	"errors"
	"syscall"
	"time"
)

// procSupported reports whether memory and CPU figures can be read.
const procSupported = false

var errNoProc = errors.New("memory and CPU figures need Linux's /proc")

func sysProcAttr() *syscall.SysProcAttr { return nil }

func readMemory(int) (rss, peak int64, err error) { return 0, 0, errNoProc }

func readRSSSplit(int) (anon, file int64, err error) { return 0, 0, errNoProc }

func readCPU(int) (time.Duration, error) { return 0, errNoProc }

//go:build unix

package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// sqliteShmDMS is the offset of the DMS ("dead man switch") lock byte in a WAL database's
// -shm file on unix: 120 + SQLITE_SHM_NLOCK (8), as in SQLite's os_unix.c.
const sqliteShmDMS = 128

func sqliteInUse(path string) (bool, error) {
	f, err := os.OpenFile(path+"-shm", os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// No -shm file: no connection has the database open in WAL mode.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open %s-shm: %w", path, err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart, Start: sqliteShmDMS, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
			return true, nil
		}
		return false, fmt.Errorf("lock %s-shm: %w", path, err)
	}
	lk.Type = syscall.F_UNLCK
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		return false, fmt.Errorf("unlock %s-shm: %w", path, err)
	}
	return false, nil
}

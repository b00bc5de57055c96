//go:build linux

package memtrim

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// Release unmaps the resident pages of the executable's read-only mappings from this
// process with madvise(MADV_DONTNEED) and returns the bytes that were resident in them.
// MADV_DONTNEED on a private file mapping without private copies only drops the page table
// entries: the pages stay in the page cache, shared with any other process, and the next
// touch maps them again. (MADV_PAGEOUT would also evict them from the page cache, so their
// next touch reads the disk, and it acts only for a user who may write the file; MADV_COLD leaves them
// mapped and resident.) Errors are returned for a debug log: nothing depends on it.
func Release(ctx context.Context, log *slog.Logger) (released int64, err error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("find executable: %w", err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("open smaps: %w", err)
	}
	regions, err := ParseSmaps(f, exe)
	_ = f.Close()
	if err != nil {
		return 0, err
	}
	for _, r := range regions {
		if ctx.Err() != nil {
			return released, ctx.Err()
		}
		// A raw syscall: the mapping is not Go memory, and a []byte over it would need
		// an integer-to-pointer conversion.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(r.Start), uintptr(r.Size()), uintptr(unix.MADV_DONTNEED)); errno != 0 {
			return released, fmt.Errorf("madvise %x-%x %s: %w", r.Start, r.End, r.Perms, errno)
		}
		released += r.RssKB << 10
		log.Debug("Released a start-up mapping", slog.String("perms", r.Perms), slog.Int64("resident_kb", r.RssKB))
	}
	return released, nil
}

// Package memtrim drops the executable's start-up pages from the process's resident set.
//
// Package inits and start-up touch code and read-only data all over the executable; the
// kernel maps those pages (and up to 64 KB around each fault) into the process and counts
// them in its resident set for as long as it runs, though most are never used again. They
// are clean pages of the file: unmapping them loses nothing, as the kernel keeps them in
// its page cache, and a page still in use is mapped again on its next touch (a minor fault).
package memtrim

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Region is one mapping of the executable that may be released.
type Region struct {
	Start, End uint64
	Perms      string
	RssKB      int64 // resident when it was read, from smaps
}

// Size is the region's length in bytes.
func (r Region) Size() uint64 { return r.End - r.Start }

// ParseSmaps reads /proc/<pid>/smaps from r and returns the mappings of the file exe that
// are safe to release: private, readable and never writable (text and read-only data),
// and holding no anonymous page. An anonymous page in a file mapping is a private copy
// (written by a relocation or a debugger): releasing it would lose the write, so such a
// mapping is left alone, and so is anything writable, shared, or not of exe.
func ParseSmaps(r io.Reader, exe string) ([]Region, error) {
	var (
		out  []Region
		cur  *Region // candidate mapping whose fields are being read
		anon int64
	)
	flush := func() {
		if cur != nil && anon == 0 {
			out = append(out, *cur)
		}
		cur, anon = nil, 0
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if start, end, perms, path, ok := mappingHeader(line); ok {
			flush()
			if path == exe && len(perms) == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' {
				cur = &Region{Start: start, End: end, Perms: perms}
			}
			continue
		}
		if cur == nil {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "Rss" && name != "Anonymous") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("smaps field %q: %w", line, err)
		}
		if name == "Rss" {
			cur.RssKB = kb
		} else {
			anon = kb
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read smaps: %w", err)
	}
	flush()
	return out, nil
}

// mappingHeader parses a mapping's first line in smaps, for example
// "00400000-017ab000 r-xp 00000000 fd:01 1234   /usr/bin/hookflow". Field lines
// ("Rss:   12 kB") are not headers: their first field has no '-' between two hex numbers.
func mappingHeader(line string) (start, end uint64, perms, path string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return 0, 0, "", "", false
	}
	lo, hi, found := strings.Cut(f[0], "-")
	if !found {
		return 0, 0, "", "", false
	}
	var err error
	if start, err = strconv.ParseUint(lo, 16, 64); err != nil {
		return 0, 0, "", "", false
	}
	if end, err = strconv.ParseUint(hi, 16, 64); err != nil || end <= start {
		return 0, 0, "", "", false
	}
	if len(f) >= 6 {
		// The path is the rest of the line after the inode; it may hold spaces, and
		// the kernel appends " (deleted)" when the file was removed: such a path never
		// equals the executable's, so the mapping is left alone.
		i := strings.Index(line, f[5])
		path = line[i:]
	}
	return start, end, f[1], path, true
}

package memtrim

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// smapsEntry writes one mapping as the kernel does in /proc/<pid>/smaps.
func smapsEntry(header string, rssKB, anonKB int) string {
	return header + "\n" +
		"Size:               1024 kB\n" +
		"KernelPageSize:        4 kB\n" +
		"Rss:                " + strconv.Itoa(rssKB) + " kB\n" +
		"Pss:                " + strconv.Itoa(rssKB) + " kB\n" +
		"Anonymous:          " + strconv.Itoa(anonKB) + " kB\n" +
		"VmFlags: rd ex mr mw me\n"
}

func TestParseSmapsPicksReadOnlyMappingsOfTheExecutable(t *testing.T) {
	t.Parallel()
	const exe = "/opt/hook flow/bin/hookflow" // a path with a space
	smaps := smapsEntry("00400000-017ab000 r-xp 00000000 fd:01 1234                       "+exe, 15128, 0) +
		smapsEntry("017ab000-02c27000 r--p 013ab000 fd:01 1234                       "+exe, 17520, 0) +
		// data and bss: writable, never released
		smapsEntry("02c27000-02d0d000 rw-p 02827000 fd:01 1234                       "+exe, 784, 280) +
		// a read-only mapping with private copies (a relocation, a breakpoint): left alone
		smapsEntry("02d0d000-02d0e000 r--p 02900000 fd:01 1234                       "+exe, 4, 4) +
		// another file, a shared mapping of the executable, a removed one, anonymous memory
		smapsEntry("7fe1b1797000-7fe1b18ed000 r-xp 00028000 fd:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6", 868, 0) +
		smapsEntry("7fe1b1800000-7fe1b1801000 r--s 00000000 fd:01 1234                       "+exe, 4, 0) +
		smapsEntry("7fe1b1900000-7fe1b1901000 r--p 00000000 fd:01 1235                       "+exe+" (deleted)", 4, 0) +
		smapsEntry("d163e400000-d163f400000 rw-p 00000000 00:00 0 ", 6360, 6360) +
		smapsEntry("7ffc4915d000-7ffc4917e000 rw-p 00000000 00:00 0                          [stack]", 16, 16) +
		// a mapping of a file whose name only starts like the executable's
		smapsEntry("7fe1b1a00000-7fe1b1a01000 r--p 00000000 fd:01 77                         "+exe+".old", 4, 0)
	got, err := ParseSmaps(strings.NewReader(smaps), exe)
	require.NoError(t, err)
	require.Equal(t, []Region{
		{Start: 0x400000, End: 0x17ab000, Perms: "r-xp", RssKB: 15128},
		{Start: 0x17ab000, End: 0x2c27000, Perms: "r--p", RssKB: 17520},
	}, got)
	require.Equal(t, uint64(0x17ab000-0x400000), got[0].Size())
}

func TestParseSmapsEmptyAndBroken(t *testing.T) {
	t.Parallel()
	got, err := ParseSmaps(strings.NewReader(""), "/bin/hookflow")
	require.NoError(t, err)
	require.Empty(t, got)

	broken := "00400000-017ab000 r-xp 00000000 fd:01 1234 /bin/hookflow\nRss: lots kB\n"
	_, err = ParseSmaps(strings.NewReader(broken), "/bin/hookflow")
	require.ErrorContains(t, err, "smaps field")
}

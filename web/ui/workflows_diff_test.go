package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// render draws diff rows as text: "-n text | +n text", " n text |  n text" for an
// unchanged line, "~k" for k folded lines, "." for an empty side.
func render(rows []diffRow) []string {
	side := func(c diffCell) string {
		if c.N == 0 {
			return "."
		}
		mark := " "
		switch c.Kind {
		case "del":
			mark = "-"
		case "add":
			mark = "+"
		}
		return fmt.Sprintf("%s%d %s", mark, c.N, c.Text)
	}
	var out []string
	for _, r := range rows {
		if r.Folded > 0 {
			out = append(out, fmt.Sprintf("~%d", r.Folded))
			continue
		}
		out = append(out, side(r.Left)+" | "+side(r.Right))
	}
	return out
}

func lines(n int, prefix string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s%d", prefix, i)
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a, b string
		want []string
	}{
		{"equal", "a\nb", "a\nb", nil},
		{"changed line", "a\nb\nc", "a\nB\nc", []string{" 1 a |  1 a", "-2 b | +2 B", " 3 c |  3 c"}},
		{"added at end", "a", "a\nb", []string{" 1 a |  1 a", ". | +2 b"}},
		{"removed at start", "x\na", "a", []string{"-1 x | .", " 2 a |  1 a"}},
		{"more removed than added", "a\nb\nc\nd", "a\nX\nd",
			[]string{" 1 a |  1 a", "-2 b | +2 X", "-3 c | .", " 4 d |  3 d"}},
		{"moved block keeps the longest common part", "p\nq\nr\ns", "q\nr\ns\np",
			[]string{"-1 p | .", " 2 q |  1 q", " 3 r |  2 r", " 4 s |  3 s", ". | +4 p"}},
		{"from empty", "", "a", []string{"-1  | +1 a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, render(lineDiff(tc.a, tc.b)))
		})
	}
}

// TestLineDiffFolds: unchanged stretches keep diffContext lines next to each change and
// fold the rest; a single line is never folded.
func TestLineDiffFolds(t *testing.T) {
	t.Parallel()
	a := lines(20, "l")
	b := strings.Replace(a, "l10\n", "L10\n", 1)
	got := render(lineDiff(a, b))
	require.Equal(t, []string{"~6", " 7 l7 |  7 l7", " 8 l8 |  8 l8", " 9 l9 |  9 l9", "-10 l10 | +10 L10",
		" 11 l11 |  11 l11", " 12 l12 |  12 l12", " 13 l13 |  13 l13", "~7"}, got)

	// Four lines before the first change: all shown (folding one would save nothing);
	// seven between two changes: 3 + 3 kept, the one left shown too; after the last,
	// three kept and the rest folded.
	b = strings.Replace(a, "l5\n", "L5\n", 1)
	b = strings.Replace(b, "l13\n", "L13\n", 1)
	got = render(lineDiff(a, b))
	require.Len(t, got, 4+1+7+1+3+1, "%q", got)
	require.Equal(t, " 1 l1 |  1 l1", got[0])
	require.Equal(t, "-5 l5 | +5 L5", got[4])
	require.Equal(t, " 12 l12 |  12 l12", got[11])
	require.Equal(t, "-13 l13 | +13 L13", got[12])
	require.Equal(t, "~4", got[16])
}

// TestLineDiffTooLarge: past diffMaxCells the changed middle shows whole, removed beside
// added, without building the table.
func TestLineDiffTooLarge(t *testing.T) {
	t.Parallel()
	a := "head\n" + lines(1100, "a") + "\ntail"
	b := "head\n" + lines(1100, "b") + "\ntail"
	got := render(lineDiff(a, b))
	require.Len(t, got, 1+1100+1)
	require.Equal(t, " 1 head |  1 head", got[0])
	require.Equal(t, "-2 a1 | +2 b1", got[1])
	require.Equal(t, "-1101 a1100 | +1101 b1100", got[1100])
	require.Equal(t, " 1102 tail |  1102 tail", got[1101])
}

package ui

import "strings"

// A side-by-side line diff of two texts (two versions of a workflow, indented), for the
// versions tab: the lines of the longest common subsequence are unchanged, the others
// removed (left, class del) or added (right, class add), with a removed block and the
// added block that replaces it side by side. Long unchanged stretches are folded to
// diffContext lines around each change.

// diffContext is how many unchanged lines are shown around a change.
const diffContext = 3

// diffMaxCells bounds the LCS table (lines × lines of the changed middle, 4 bytes each);
// past it the whole middle shows as removed and added, which is still correct, only
// coarser.
const diffMaxCells = 1 << 20

// diffCell is one side of a row: a line number (0 for no line) and its text, with the
// kind "del", "add" or "" (unchanged).
type diffCell struct {
	N    int
	Text string
	Kind string
}

// diffRow is a row of the side-by-side diff; Folded > 0 is a row standing for that many
// unchanged lines.
type diffRow struct {
	Left, Right diffCell
	Folded      int
}

// diffOp is one step of the edit script: an unchanged line (both indexes), a removed
// one (b = -1) or an added one (a = -1).
type diffOp struct{ a, b int }

// lineDiff compares a and b line by line; it returns nil when they are equal.
func lineDiff(a, b string) []diffRow {
	if a == b {
		return nil
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	return diffRows(al, bl, editScript(al, bl))
}

// editScript is the edit script turning a into b: the common prefix and suffix, and a
// longest common subsequence of the middle.
func editScript(a, b []string) []diffOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []diffOp
	for i := range pre {
		ops = append(ops, diffOp{i, i})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(ma), len(mb)
	if n*m > diffMaxCells {
		for i := range n {
			ops = append(ops, diffOp{pre + i, -1})
		}
		for j := range m {
			ops = append(ops, diffOp{-1, pre + j})
		}
	} else {
		// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i] == mb[j]:
				ops = append(ops, diffOp{pre + i, pre + j})
				i, j = i+1, j+1
			case j == m || (i < n && lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, diffOp{pre + i, -1})
				i++
			default:
				ops = append(ops, diffOp{-1, pre + j})
				j++
			}
		}
	}
	for k := range suf {
		ops = append(ops, diffOp{len(a) - suf + k, len(b) - suf + k})
	}
	return ops
}

// diffRows lays an edit script out in rows: each block of removed and added lines side
// by side, unchanged stretches folded.
func diffRows(a, b []string, ops []diffOp) []diffRow {
	var rows []diffRow
	for k := 0; k < len(ops); {
		if ops[k].a >= 0 && ops[k].b >= 0 {
			// An unchanged stretch: keep the lines next to a change, fold the rest.
			end := k
			for end < len(ops) && ops[end].a >= 0 && ops[end].b >= 0 {
				end++
			}
			keepHead, keepTail := diffContext, diffContext
			if k == 0 {
				keepHead = 0
			}
			if end == len(ops) {
				keepTail = 0
			}
			if end-k <= keepHead+keepTail+1 { // folding one line saves nothing
				keepHead, keepTail = end-k, 0
			}
			for _, op := range ops[k : k+keepHead] {
				rows = append(rows, sameRow(a, op))
			}
			if folded := end - k - keepHead - keepTail; folded > 0 {
				rows = append(rows, diffRow{Folded: folded})
			}
			for _, op := range ops[end-keepTail : end] {
				rows = append(rows, sameRow(a, op))
			}
			k = end
			continue
		}
		var dels, adds []int
		for k < len(ops) && (ops[k].a < 0 || ops[k].b < 0) {
			if ops[k].b < 0 {
				dels = append(dels, ops[k].a)
			} else {
				adds = append(adds, ops[k].b)
			}
			k++
		}
		for i := range max(len(dels), len(adds)) {
			var r diffRow
			if i < len(dels) {
				r.Left = diffCell{N: dels[i] + 1, Text: a[dels[i]], Kind: "del"}
			}
			if i < len(adds) {
				r.Right = diffCell{N: adds[i] + 1, Text: b[adds[i]], Kind: "add"}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func sameRow(a []string, op diffOp) diffRow {
	return diffRow{Left: diffCell{N: op.a + 1, Text: a[op.a]}, Right: diffCell{N: op.b + 1, Text: a[op.a]}}
}

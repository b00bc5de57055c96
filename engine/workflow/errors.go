package workflow

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem of a workflow, located by a JSON path such as
// "steps[1].uses" ("" is the document itself).
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e FieldError) String() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// ValidationError lists every problem found in a workflow, in document order.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.String()
	}
	return "validation failed: " + strings.Join(lines, "; ")
}

type errorList struct {
	errs []FieldError
}

func (l *errorList) add(path, format string, args ...any) {
	l.errs = append(l.errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: l.errs}
}

func joinPath(base, key string) string {
	if !isIdent(key) {
		key = fmt.Sprintf("[%q]", key)
		return base + key
	}
	if base == "" {
		return key
	}
	return base + "." + key
}

func indexPath(base string, i int) string { return fmt.Sprintf("%s[%d]", base, i) }

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// suggest returns the candidate closest to s when it is close enough to be a likely typo,
// for "did you mean" hints.
func suggest(s string, candidates []string) string {
	best, bestDist := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := levenshtein(ls, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(len(s)/3, 2)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

func didYouMean(s string, candidates []string) string {
	if m := suggest(s, candidates); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortByDocumentOrder orders errors the way their fields appear in a workflow: top-level
// fields in declaration order, list elements by index, so a user reads them top down.
func sortByDocumentOrder(errs []FieldError) {
	rank := map[string]int{}
	for i, f := range structFields(workflowType) {
		rank[f.name] = i
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := pathSegments(errs[i].Path), pathSegments(errs[j].Path)
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] == b[k] {
				continue
			}
			if k == 0 {
				// Unknown top-level fields sort after the known ones.
				ra, oka := rank[a[k]]
				rb, okb := rank[b[k]]
				if !oka {
					ra = len(rank)
				}
				if !okb {
					rb = len(rank)
				}
				if ra != rb {
					return ra < rb
				}
				return false
			}
			na, errA := strconv.Atoi(a[k])
			nb, errB := strconv.Atoi(b[k])
			if errA == nil && errB == nil {
				return na < nb
			}
			return false // same parent, different keys: keep the order they were found in
		}
		return len(a) < len(b)
	})
}

// pathSegments splits "steps[1].with.url" into ["steps", "1", "with", "url"].
func pathSegments(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '.' || r == '[' || r == ']' })
}

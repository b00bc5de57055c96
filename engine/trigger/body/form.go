package body

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ParseForm turns url-encoded form data into nested values, PHP style:
// leads[add][0][id]=1&account[subdomain]=y gives
// {"leads":{"add":[{"id":"1"}]},"account":{"subdomain":"y"}}. Values stay
// strings, as forms carry text. The second result says pairs beyond
// opts.MaxFields were dropped. Malformed percent-encoding is an error. The
// package documentation lists the rules for repeated names, sparse indexes,
// names used as both value and container, and malformed names.
func ParseForm(raw string, opts Options) (map[string]any, bool, error) {
	opts = opts.WithDefaults()
	var (
		root      node
		fields    int
		truncated bool
		path      []string // reused for every name
	)
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		if fields == opts.MaxFields {
			truncated = true
			break
		}
		fields++
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, false, fmt.Errorf("decode name of form field %d: %w", fields, err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, false, fmt.Errorf("decode value of form field %q: %w", name, err)
		}
		name, _ = validText(name)
		value, _ = validText(value)
		path = splitName(path[:0], name, opts.MaxDepth)
		root.insert(path, value)
	}
	return root.object(), truncated, nil
}

// splitName appends a PHP-style name's base and bracketed keys to path:
// "a[b][]" gives ["a", "b", ""]. A name that is not exactly base[k1][k2]...
// with a non-empty base and keys free of brackets, or one with more than
// maxDepth keys, is a single literal key.
func splitName(path []string, name string, maxDepth int) []string {
	open := strings.IndexByte(name, '[')
	if open <= 0 {
		return append(path, name)
	}
	depth := 0
	for rest := name[open:]; rest != ""; {
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 || strings.IndexByte(rest[1:end], '[') >= 0 {
			return append(path, name)
		}
		depth++
		rest = rest[end+1:]
	}
	if depth > maxDepth {
		return append(path, name)
	}
	path = append(path, name[:open])
	for rest := name[open:]; rest != ""; {
		end := strings.IndexByte(rest, ']')
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	return path
}

// node is one name level while a form is built: the values given to the name
// itself and the keys nested under it.
type node struct {
	values []any
	kids   map[string]*node
	next   int64 // the index "[]" appends at: one past the largest numeric key
}

// insert stores v under path. An empty key after the first appends.
func (n *node) insert(path []string, v any) {
	cur := n
	for i, key := range path {
		if i > 0 && key == "" {
			key = strconv.FormatInt(cur.next, 10)
			for cur.kids[key] != nil { // only after an index too long to count as numeric
				cur.next++
				key = strconv.FormatInt(cur.next, 10)
			}
		}
		if idx, ok := index(key); ok && idx >= cur.next {
			cur.next = idx + 1
		}
		kid := cur.kids[key]
		if kid == nil {
			if cur.kids == nil {
				cur.kids = map[string]*node{}
			}
			kid = &node{}
			cur.kids[key] = kid
		}
		cur = kid
	}
	cur.values = append(cur.values, v)
}

// maxIndexDigits keeps numeric keys, and the index after them, within int64.
const maxIndexDigits = 18

// index reports whether key is a canonical non-negative decimal ("0", "17",
// not "01" or "-1") and its value.
func index(key string) (int64, bool) {
	if key == "" || len(key) > maxIndexDigits || (key[0] == '0' && len(key) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// value is what the node stands for: its single value, a list of its values, a
// list or object of its keys, or, when it has both, an object with the values
// under "".
func (n *node) value() any {
	if len(n.kids) == 0 {
		return collect(n.values)
	}
	if len(n.values) == 0 {
		if list, ok := n.list(); ok {
			return list
		}
	}
	obj := n.object()
	if len(n.values) > 0 {
		obj[""] = collect(n.values)
	}
	return obj
}

// object returns the node's keys as an object.
func (n *node) object() map[string]any {
	obj := make(map[string]any, len(n.kids)+1)
	for k, kid := range n.kids {
		obj[k] = kid.value()
	}
	return obj
}

// list returns the node's keys as a list when they are exactly 0..n-1, in any
// order: n distinct keys all below n.
func (n *node) list() ([]any, bool) {
	for k := range n.kids {
		if i, ok := index(k); !ok || i >= int64(len(n.kids)) {
			return nil, false
		}
	}
	list := make([]any, len(n.kids))
	for k, kid := range n.kids {
		i, _ := index(k)
		list[i] = kid.value()
	}
	return list, true
}

// collect returns one value as itself and several as a list.
func collect(values []any) any {
	if len(values) == 1 {
		return values[0]
	}
	return values
}

package declarative

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a connector file. Real files are a few kilobytes; the bound keeps an
// upload from making the parser build a huge tree.
const MaxFileSize = 1 << 20

// maxNodes bounds the values a file expands to, aliases included, so that a few nested
// YAML aliases ("billion laughs") cannot make a tree of millions of nodes.
const maxNodes = 200_000

// maxDepth bounds nesting; the converter recurses.
const maxDepth = 200

// Parse reads a YAML or JSON connector file (JSON is YAML), validates it against the JSON
// Schema and the rules the schema cannot say (templates compile, names are unique,
// secrets stay out of URLs...), and returns its definition or a *LoadError listing every
// problem, sorted by line.
//
// The checks run in stages, and a stage's problems stop the later ones: YAML syntax; the
// document's structure (duplicate keys, the format version, the JSON Schema); then the
// semantic checks on the decoded File. A file with an unknown key and a bad template thus
// reports the unknown key first, as compilers report syntax before types.
func Parse(src Source) (*Definition, error) {
	p, problems := parse(src)
	if len(problems) > 0 {
		return nil, newLoadError(src.Path, problems)
	}
	return &Definition{File: p.file, Source: src}, nil
}

// parsed is a file that passed every check, with the warnings Lint shows.
type parsed struct {
	file     File
	warnings []Problem // sorted
}

func parse(src Source) (*parsed, []Problem) {
	if len(src.Data) > MaxFileSize {
		return nil, []Problem{{Message: fmt.Sprintf("file too large: %d bytes, at most %d", len(src.Data), MaxFileSize)}}
	}
	doc, problems := readDocument(src.Data)
	if len(problems) > 0 {
		return nil, problems
	}
	if p, stop := checkVersion(doc); stop {
		return nil, []Problem{p}
	}
	if problems := validateSchema(doc); len(problems) > 0 {
		return nil, problems
	}
	f, problems := decodeFile(doc)
	if len(problems) > 0 {
		return nil, problems
	}
	c := newChecker(doc, f)
	c.run()
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	return &parsed{file: *f, warnings: sortProblems(c.warnings)}, nil
}

// maxProblems bounds the problems listed: past a few hundred, more lines help no one and
// a hostile file could make the error huge.
const maxProblems = 200

func newLoadError(file string, problems []Problem) *LoadError {
	problems = sortProblems(problems)
	if n := len(problems); n > maxProblems {
		last := problems[maxProblems-1]
		problems = append(problems[:maxProblems:maxProblems], Problem{Line: last.Line, Column: last.Column,
			Message: fmt.Sprintf("%d more problems not listed", n-maxProblems)})
	}
	return &LoadError{File: file, Problems: problems}
}

// sortProblems orders problems by position, then path and message, and drops repeats.
func sortProblems(problems []Problem) []Problem {
	slices.SortStableFunc(problems, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return slices.Compact(problems)
}

// document is a file's YAML tree and the plain JSON value it stands for.
type document struct {
	data  []byte
	root  *yaml.Node // the document's content node
	value any        // map[string]any, []any, string, json.Number, bool or nil
	// index locates every value by path (pathKey), so that reporting many problems
	// stays linear.
	index     map[string]nodeLoc
	lineCache []string
}

// nodeLoc is where a value is written: its key (nil in a list) and its value node.
type nodeLoc struct {
	key, value *yaml.Node
	inSeq      bool // the value is a list element
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readDocument parses the YAML and converts it to a JSON value, reporting syntax errors,
// duplicate keys and YAML-only constructs (tags, non-string keys, infinities).
func readDocument(data []byte) (*document, []Problem) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, []Problem{{Message: "empty file"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var top yaml.Node
	if err := dec.Decode(&top); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []Problem{{Message: "empty file: no YAML or JSON document"}}
		}
		return nil, []Problem{yamlProblem(err, data)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, []Problem{yamlProblem(err, data)}
		}
		return nil, []Problem{{Line: extra.Line, Column: extra.Column, Message: "a connector file holds one YAML document; remove the second one"}}
	}
	root := &top
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, []Problem{{Message: "empty file"}}
		}
		root = root.Content[0]
	}
	cv := &converter{index: map[string]nodeLoc{}}
	value := cv.convert(root, nil, 0)
	if len(cv.problems) > 0 {
		return nil, cv.problems
	}
	return &document{data: data, root: root, value: value, index: cv.index}, nil
}

// yamlParserErrors are the messages of the YAML parser (as opposed to its scanner). The
// library reports their line counting from 0 (the scanner's from 1), pointing at the
// start of the construct left open.
var yamlParserErrors = []string{
	"did not find expected key", "did not find expected node content", "did not find expected ','",
	"did not find expected '-'", "did not find expected <",
}

func yamlProblem(err error, data []byte) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		for _, p := range yamlParserErrors {
			if strings.HasPrefix(m[2], p) {
				line++
				break
			}
		}
		// At the end of a file without a final newline the count runs one past it.
		line = min(line, bytes.Count(data, []byte("\n"))+1)
		return Problem{Line: line, Message: "YAML: " + m[2]}
	}
	return Problem{Message: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// converter turns a YAML tree into a JSON value.
type converter struct {
	index    map[string]nodeLoc
	nodes    int
	stack    []*yaml.Node // aliases being expanded, to refuse cycles
	problems []Problem
	tooBig   bool
}

func (cv *converter) fail(n *yaml.Node, tokens []string, format string, args ...any) {
	cv.problems = append(cv.problems, Problem{Path: displayPath(tokens), Line: n.Line, Column: n.Column, Message: fmt.Sprintf(format, args...)})
}

func (cv *converter) convert(n *yaml.Node, tokens []string, depth int) any {
	if cv.tooBig {
		return nil
	}
	cv.nodes++
	if cv.nodes > maxNodes || depth > maxDepth {
		cv.tooBig = true
		cv.fail(n, tokens, "the document is too large or too deeply nested (aliases included)")
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil || slices.Contains(cv.stack, n.Alias) {
			cv.fail(n, tokens, "alias *%s refers to a value that contains it", n.Value)
			return nil
		}
		cv.stack = append(cv.stack, n.Alias)
		v := cv.convert(n.Alias, tokens, depth+1)
		cv.stack = cv.stack[:len(cv.stack)-1]
		return v
	case yaml.MappingNode:
		return cv.mapping(n, tokens, depth)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			et := appendToken(tokens, strconv.Itoa(i))
			cv.record(et, nil, e, true)
			out = append(out, cv.convert(e, et, depth+1))
		}
		return out
	case yaml.ScalarNode:
		return cv.scalar(n, tokens)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return cv.convert(n.Content[0], tokens, depth+1)
	}
	cv.fail(n, tokens, "unsupported YAML node")
	return nil
}

// record indexes where the value at tokens is written. The first record wins: a
// mapping's own keys are recorded before those merge keys bring in.
func (cv *converter) record(tokens []string, key, value *yaml.Node, inSeq bool) {
	k := pathKey(tokens)
	if _, ok := cv.index[k]; !ok {
		cv.index[k] = nodeLoc{key: key, value: value, inSeq: inSeq}
	}
}

func appendToken(tokens []string, t string) []string {
	return append(slices.Clip(tokens), t)
}

func (cv *converter) mapping(n *yaml.Node, tokens []string, depth int) map[string]any {
	out := make(map[string]any, len(n.Content)/2)
	first := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			cv.fail(k, tokens, "a key must be a string")
			continue
		}
		key := k.Value
		if prev, dup := first[key]; dup {
			cv.fail(k, appendToken(tokens, key), "duplicate key %q (first at line %d)", key, prev.Line)
			continue
		}
		first[key] = k
		kt := appendToken(tokens, key)
		cv.record(kt, k, v, false)
		out[key] = cv.convert(v, kt, depth+1)
	}
	// YAML merge keys (<<: *defaults) add the keys the mapping does not set itself.
	for _, m := range merges {
		sources := []*yaml.Node{m}
		if resolveAlias(m).Kind == yaml.SequenceNode {
			sources = resolveAlias(m).Content
		}
		for _, s := range sources {
			merged, ok := cv.convert(s, tokens, depth+1).(map[string]any)
			if !ok {
				cv.fail(s, tokens, "a merge key (<<) takes a mapping or a list of mappings")
				continue
			}
			for k, v := range merged {
				if _, set := out[k]; !set {
					out[k] = v
				}
			}
		}
	}
	return out
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	// Bounded: an alias cannot point at an alias node (anchors are set on values).
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func (cv *converter) scalar(n *yaml.Node, tokens []string) any {
	switch tag := n.ShortTag(); tag {
	case "!!str", "!!timestamp", "!!binary":
		// Timestamps stay text: JSON has no dates, and the runtime parses cursors itself.
		return n.Value
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			cv.fail(n, tokens, "bad boolean %q", n.Value)
		}
		return b
	case "!!int":
		if jsonNumber.MatchString(n.Value) {
			return json.Number(n.Value)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			cv.fail(n, tokens, "bad integer %q", n.Value)
			return nil
		}
		switch x := v.(type) {
		case int:
			return json.Number(strconv.Itoa(x))
		case int64:
			return json.Number(strconv.FormatInt(x, 10))
		case uint64:
			return json.Number(strconv.FormatUint(x, 10))
		}
		cv.fail(n, tokens, "bad integer %q", n.Value)
		return nil
	case "!!float":
		// The text is kept when it is already JSON, so 1.50 and 1e3 read as written.
		if jsonNumber.MatchString(n.Value) {
			return json.Number(n.Value)
		}
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			cv.fail(n, tokens, "%q is not a number JSON can hold", n.Value)
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	default:
		cv.fail(n, tokens, "unsupported YAML tag %s", tag)
		return nil
	}
}

// checkVersion looks at hookflow_connector before the schema does: a file of a later
// format would otherwise get a list of unknown keys instead of the one thing to do.
func checkVersion(doc *document) (Problem, bool) {
	m, ok := doc.value.(map[string]any)
	if !ok {
		return Problem{}, false
	}
	n, ok := m["hookflow_connector"].(json.Number)
	if !ok {
		return Problem{}, false
	}
	v, err := n.Int64()
	if err != nil || v <= FormatVersion {
		return Problem{}, false
	}
	line, col := doc.position([]string{"hookflow_connector"}, false)
	return Problem{Path: "hookflow_connector", Line: line, Column: col,
		Message: fmt.Sprintf("format %d: this build reads format %d; upgrade hookflow", v, FormatVersion)}, true
}

// decodeFile decodes the validated value into File. Numbers stay json.Number through
// decoding, then become int64 or float64 in the untyped places (defaults, examples,
// initial cursors, query and body trees), so an integer stays an integer and a quoted
// "478" stays a string.
func decodeFile(doc *document) (*File, []Problem) {
	if problems := checkGoTypes(doc, doc.value, reflect.TypeFor[File](), nil); len(problems) > 0 {
		return nil, problems
	}
	raw, err := json.Marshal(doc.value)
	if err != nil {
		return nil, []Problem{{Message: fmt.Sprintf("internal error: encode the document: %v", err)}}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var f File
	if err := dec.Decode(&f); err != nil {
		// The schema and checkGoTypes accept only what File holds: a schema that fell
		// behind the types.
		return nil, []Problem{{Message: fmt.Sprintf("internal error: decode: %v", err)}}
	}
	normalize(&f)
	return &f, nil
}

var durationType = reflect.TypeFor[Duration]()

// checkGoTypes finds the values the schema allows but Go's types cannot hold, with their
// paths: integers written with a fraction or an exponent (1.0, 1e3) or out of range, and
// durations out of range. It walks the value along the type as encoding/json would.
func checkGoTypes(doc *document, v any, t reflect.Type, tokens []string) []Problem {
	report := func(format string, args ...any) []Problem {
		line, col := doc.position(tokens, false)
		return []Problem{{Path: doc.path(tokens), Line: line, Column: col, Message: fmt.Sprintf(format, args...)}}
	}
	if t == durationType {
		if s, ok := v.(string); ok {
			if _, err := time.ParseDuration(s); err != nil {
				return report("%q is not a duration this build can hold: %v", s, err)
			}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkGoTypes(doc, v, t.Elem(), tokens)
	case reflect.Int, reflect.Int64:
		if n, ok := v.(json.Number); ok {
			if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
				return report("%s is not an integer this build can hold: write a whole number, without a fraction or an exponent", n)
			}
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		var out []Problem
		for i := range t.NumField() {
			sf := t.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if e, ok := m[name]; ok && name != "" && name != "-" {
				out = append(out, checkGoTypes(doc, e, sf.Type, appendToken(tokens, name))...)
			}
		}
		return out
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		var out []Problem
		for k, e := range m {
			out = append(out, checkGoTypes(doc, e, t.Elem(), appendToken(tokens, k))...)
		}
		return out
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return nil
		}
		var out []Problem
		for i, e := range l {
			out = append(out, checkGoTypes(doc, e, t.Elem(), appendToken(tokens, strconv.Itoa(i)))...)
		}
		return out
	}
	return nil
}

func normalize(f *File) {
	normalizeFields(f.Connection.Fields)
	if t := f.Connection.Test; t != nil {
		t.Query = normalizeMap(t.Query)
	}
	for name, a := range f.Actions {
		normalizeFields(a.Input)
		normalizeFields(a.Output)
		normalizeRequest(&a.Request)
		f.Actions[name] = a
	}
	for name, t := range f.Triggers {
		normalizeFields(t.Input)
		normalizeFields(t.Item)
		normalizeRequest(&t.Request)
		if t.Cursor != nil {
			t.Cursor.Initial = connectors.NormalizeNumbers(t.Cursor.Initial)
		}
		f.Triggers[name] = t
	}
}

func normalizeRequest(r *Request) {
	r.Query = normalizeMap(r.Query)
	r.Body = connectors.NormalizeNumbers(r.Body)
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return connectors.NormalizeNumbers(m).(map[string]any)
}

func normalizeFields(fields []Field) {
	for i := range fields {
		f := &fields[i]
		f.Default = connectors.NormalizeNumbers(f.Default)
		for j, e := range f.Examples {
			f.Examples[j] = connectors.NormalizeNumbers(e)
		}
		if f.Items != nil {
			items := []Field{*f.Items}
			normalizeFields(items)
			*f.Items = items[0]
		}
		normalizeFields(f.Fields)
	}
}

// displayPath writes tokens as a dotted path, list indexes in brackets:
// "actions.create_issue.input[0].name".
func displayPath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if isIndex(t) {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

func isIndex(t string) bool {
	if t == "" || len(t) > 9 {
		return false
	}
	for _, c := range t {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// pathKey is the index key of a path.
func pathKey(tokens []string) string { return strings.Join(tokens, "\x00") }

// path is displayPath, except that a numeric key of a mapping (a header named "1") is
// written as a key rather than an index.
func (d *document) path(tokens []string) string {
	var b strings.Builder
	for i, t := range tokens {
		seq := isIndex(t)
		if loc, ok := d.index[pathKey(tokens[:i+1])]; ok {
			seq = loc.inSeq
		}
		if seq {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// position returns where the value at tokens is written (its key when atKey), or where
// its nearest existing parent is when it is missing.
func (d *document) position(tokens []string, atKey bool) (line, col int) {
	for n := len(tokens); n > 0; n-- {
		loc, ok := d.index[pathKey(tokens[:n])]
		if !ok {
			continue
		}
		if atKey && n == len(tokens) && loc.key != nil {
			return loc.key.Line, loc.key.Column
		}
		return loc.value.Line, loc.value.Column
	}
	return d.root.Line, d.root.Column
}

// node returns the YAML node of the value at tokens, or nil.
func (d *document) node(tokens []string) *yaml.Node {
	if len(tokens) == 0 {
		return d.root
	}
	loc, ok := d.index[pathKey(tokens)]
	if !ok {
		return nil
	}
	return resolveAlias(loc.value)
}

// lines returns the file's lines, split once.
func (d *document) lines() []string {
	if d.lineCache == nil {
		d.lineCache = strings.Split(string(d.data), "\n")
	}
	return d.lineCache
}

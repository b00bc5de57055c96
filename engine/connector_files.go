package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/engine/store"
)

// Declarative connector files come from three places: the binary (built-ins, registered
// into connectors.Default like Go connectors), the connectors folder of the data
// directory, and the connector_files table (API uploads, so every process of a cluster
// has them). The loader polls the last two, parses what changed, and puts or removes
// connectors in the engine's own registry.
//
// A file that stops loading keeps the connector its last good version provided: a typo
// saved in an editor must not break every workflow using the connector until it is
// fixed. Deleting the file (or the upload) removes the connector.

const (
	// ConnectorsReloadDefault is how often connector files are looked at again.
	ConnectorsReloadDefault = 2 * time.Second
	// ConnectorFileLimit is the largest connector file read or accepted.
	ConnectorFileLimit = 1 << 20
	// connectorsDirName is the folder of the data directory holding connector files.
	connectorsDirName = "connectors"
)

// connectorFileExts are the extensions of connector files in the folder.
var connectorFileExts = []string{".yaml", ".yml", ".json"}

// FileProblem is one problem of a connector file, for the API and the logs.
type FileProblem struct {
	// File names the file: its path in the folder, or "api:<name>" for an upload.
	File string `json:"file"`
	// Connector is the connector the file provides, or would: its name, or the file's
	// name without its extension when the file cannot be read that far.
	Connector string `json:"connector"`
	Path      string `json:"path"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	Message   string `json:"message"`
}

func (p FileProblem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	}
	if p.Path != "" {
		return loc + ": " + p.Path + ": " + p.Message
	}
	return loc + ": " + p.Message
}

// loadConnector turns a connector file into a connector that a registry accepts: parsed,
// built and checked like a Go connector's registration. Every failure is a
// *declarative.LoadError.
func loadConnector(src declarative.Source) (*connectors.Connector, error) {
	def, err := declarative.Parse(src)
	if err != nil {
		var le *declarative.LoadError
		if errors.As(err, &le) {
			return nil, le
		}
		return nil, loadError(src.Path, err)
	}
	c, err := def.Connector(declarative.Options{})
	if err != nil {
		return nil, loadError(src.Path, err)
	}
	if c.Origin == "" {
		c.Origin = string(src.Origin)
	}
	if c.Source == "" {
		c.Source = src.Path
	}
	if err := connectors.NewRegistry().Register(c); err != nil {
		return nil, loadError(src.Path, err)
	}
	return c, nil
}

func loadError(file string, err error) *declarative.LoadError {
	return &declarative.LoadError{File: file, Problems: []declarative.Problem{{Message: err.Error()}}}
}

// fileState is what the loader knows of one source.
type fileState struct {
	key    string // the file's path, or "api:<name>"
	origin declarative.Origin
	// stem is the connector name the source is known by before it parses: the upload's
	// name, or the file name without its extension.
	stem string
	// tag identifies the content seen last: a hash of a file, id and revision of a row.
	tag      string
	revision int
	source   []byte
	// good is the connector the last version that loaded provides, with its text.
	good       *connectors.Connector
	goodSource []byte
	// problems are those of the current content; conflict says why good is not
	// installed (its name is taken).
	problems []declarative.Problem
	conflict string
}

func (s *fileState) name() string {
	if s.good != nil {
		return s.good.Name
	}
	return s.stem
}

// fileView is a source as the API shows it.
type fileView struct {
	File      string
	Origin    declarative.Origin
	Connector string
	// Installed says the connector of this file is the one in the registry.
	Installed bool
	Revision  int
	// Source is the text of the installed version (which may be older than the file's
	// current, broken, text).
	Source   []byte
	Problems []FileProblem
}

// connectorFiles loads connector files into an engine's registry.
type connectorFiles struct {
	reg   *connectors.Registry
	store *store.Store
	log   *slog.Logger
	dir   string
	// fixed are the connectors compiled in (Go and built-in files) by name, with their
	// origin: no file may take their names.
	fixed map[string]string
	load  func(declarative.Source) (*connectors.Connector, error)
	// changed is called after a pass that changed the registry.
	changed func()

	// mu serialises passes: the loop's and those after an API write.
	mu      sync.Mutex
	sources map[string]*fileState
	// installed are the connectors this loader put into the registry, by name.
	installed map[string]*connectors.Connector
	// view is what the last pass left, for readers that must not wait for a pass.
	view atomic.Pointer[[]fileView]
}

func newConnectorFiles(reg *connectors.Registry, st *store.Store, log *slog.Logger, dir string) *connectorFiles {
	fixed := map[string]string{}
	for _, c := range reg.Connectors() {
		fixed[c.Name] = originOf(c)
	}
	f := &connectorFiles{reg: reg, store: st, log: log, dir: dir, fixed: fixed, load: loadConnector,
		changed: func() {}, sources: map[string]*fileState{}, installed: map[string]*connectors.Connector{}}
	f.view.Store(&[]fileView{})
	return f
}

// originOf names where a connector comes from: "go" for a Go package, else the origin of
// its declarative file.
func originOf(c *connectors.Connector) string {
	if c.Origin == "" {
		return "go"
	}
	return c.Origin
}

// reload looks at every source once: new and changed ones are parsed, removed ones
// dropped, and the registry is brought in line. A source that cannot be listed (the
// database is down) keeps what it provided.
func (f *connectorFiles) reload(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	var errs []error
	if err := f.scanUploads(ctx, seen); err != nil {
		errs = append(errs, err)
	}
	if err := f.scanDir(seen); err != nil {
		errs = append(errs, err)
	}
	for key := range f.sources {
		if !seen[key] {
			f.log.Info("Connector file removed", slog.String("file", key))
			delete(f.sources, key)
		}
	}
	f.resolve()
	return errors.Join(errs...)
}

// scanUploads reads the uploads whose id or revision changed. On a database error every
// upload known so far counts as seen, so nothing is removed for want of an answer.
func (f *connectorFiles) scanUploads(ctx context.Context, seen map[string]bool) error {
	markAll := func() {
		for key, s := range f.sources {
			if s.origin == declarative.OriginAPI {
				seen[key] = true
			}
		}
	}
	heads, err := f.store.ConnectorFileHeads(ctx)
	if err != nil {
		markAll()
		return fmt.Errorf("list uploaded connector files: %w", err)
	}
	for _, h := range heads {
		key := "api:" + h.Name
		tag := fmt.Sprintf("%s:%d", h.ID, h.Revision)
		seen[key] = true
		s := f.sources[key]
		if s != nil && s.tag == tag {
			continue
		}
		row, err := f.store.ConnectorFileByName(ctx, h.Name)
		if errors.Is(err, store.ErrNotFound) {
			delete(seen, key) // deleted since the listing
			continue
		}
		if err != nil {
			markAll()
			return fmt.Errorf("read uploaded connector file %s: %w", h.Name, err)
		}
		if s == nil {
			s = &fileState{key: key, origin: declarative.OriginAPI, stem: h.Name}
			f.sources[key] = s
		}
		s.revision = row.Revision
		f.parse(s, fmt.Sprintf("%s:%d", row.ID, row.Revision), []byte(row.Source))
	}
	return nil
}

// scanDir reads the folder's connector files. A folder that does not exist holds no
// files; one that cannot be read keeps what its files provided.
func (f *connectorFiles) scanDir(seen map[string]bool) error {
	if f.dir == "" {
		return nil
	}
	entries, err := os.ReadDir(f.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		for key, s := range f.sources {
			if s.origin == declarative.OriginDir {
				seen[key] = true
			}
		}
		return fmt.Errorf("read connector folder %s: %w", f.dir, err)
	}
	for _, ent := range entries {
		name := ent.Name()
		if !isConnectorFile(name) {
			continue
		}
		path := filepath.Join(f.dir, name)
		info, err := os.Stat(path) // follows links, as a mounted secret or config map uses them
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		seen[path] = true
		s := f.sources[path]
		if s == nil {
			s = &fileState{key: path, origin: declarative.OriginDir, stem: strings.TrimSuffix(name, filepath.Ext(name))}
			f.sources[path] = s
		}
		data, err := readLimited(path, ConnectorFileLimit)
		if err != nil {
			tag := "error:" + err.Error()
			if s.tag != tag {
				s.tag, s.problems = tag, []declarative.Problem{{Message: err.Error()}}
				f.logProblems(s)
			}
			continue
		}
		sum := sha256.Sum256(data)
		if tag := hex.EncodeToString(sum[:]); s.tag != tag {
			f.parse(s, tag, data)
		}
	}
	return nil
}

// isConnectorFile says whether a folder entry is one the loader reads: a YAML or JSON
// file that is not hidden (hidden files are editors' and sync tools' temporary copies).
func isConnectorFile(name string) bool {
	return !strings.HasPrefix(name, ".") && slices.Contains(connectorFileExts, strings.ToLower(filepath.Ext(name)))
}

// LoadConnectorFolder reads the connector files of dir the way a server's loader reads
// its folder, for offline checks (hookflow validate --connectors). It returns the
// connectors of the files that load, and an error joining one *declarative.LoadError per
// file that does not.
func LoadConnectorFolder(dir string) ([]*connectors.Connector, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read connector folder: %w", err)
	}
	var out []*connectors.Connector
	var errs []error
	for _, ent := range entries {
		if !isConnectorFile(ent.Name()) || ent.IsDir() {
			continue
		}
		path := filepath.Join(dir, ent.Name())
		data, err := readLimited(path, ConnectorFileLimit)
		if err != nil {
			errs = append(errs, loadError(path, err))
			continue
		}
		c, err := loadConnector(declarative.Source{Path: path, Origin: declarative.OriginDir, Data: data})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read connector file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read connector file: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the file is larger than %d bytes", limit)
	}
	return data, nil
}

// parse loads a source's new content. Problems are logged here, once per content.
func (f *connectorFiles) parse(s *fileState, tag string, data []byte) {
	s.tag, s.source = tag, data
	c, err := f.load(declarative.Source{Path: s.key, Origin: s.origin, Data: data})
	if err == nil && s.origin == declarative.OriginAPI && c.Name != s.stem {
		// Writes check it; a row edited by hand may still disagree.
		err = &declarative.LoadError{File: s.key, Problems: []declarative.Problem{{Path: "name",
			Message: fmt.Sprintf("is %q, but the upload is stored as %q", c.Name, s.stem)}}}
	}
	if err != nil {
		var le *declarative.LoadError
		if !errors.As(err, &le) {
			le = loadError(s.key, err)
		}
		s.problems = le.Problems
		f.logProblems(s)
		return
	}
	s.good, s.goodSource, s.problems = c, data, nil
	f.log.Info("Connector file loaded", slog.String("file", s.key), slog.String("connector", c.Name),
		slog.String("version", c.Version))
}

func (f *connectorFiles) logProblems(s *fileState) {
	kept := ""
	if s.good != nil {
		kept = "the last version that loaded stays in use"
	}
	for _, p := range s.problems {
		attrs := []any{slog.String("file", s.key), slog.String("connector", s.name()), slog.String("path", p.Path),
			slog.Int("line", p.Line), slog.Int("column", p.Column), slog.String("err", p.Message)}
		if kept != "" {
			attrs = append(attrs, slog.String("kept", kept))
		}
		f.log.Error("Connector file not loaded", attrs...)
	}
}

// resolve decides which source provides each name and brings the registry in line.
// Uploads come first, then folder files by path; a name compiled in is never taken.
func (f *connectorFiles) resolve() {
	order := make([]*fileState, 0, len(f.sources))
	for _, s := range f.sources {
		order = append(order, s)
	}
	slices.SortFunc(order, func(a, b *fileState) int {
		if (a.origin == declarative.OriginAPI) != (b.origin == declarative.OriginAPI) {
			if a.origin == declarative.OriginAPI {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	want := map[string]*fileState{}
	for _, s := range order {
		conflict := ""
		if s.good != nil {
			name := s.good.Name
			if origin, ok := f.fixed[name]; ok {
				conflict = fmt.Sprintf("connector %s is compiled into this binary (%s) and cannot be replaced by a file; give this one another name", name, origin)
			} else if other, ok := want[name]; ok {
				conflict = fmt.Sprintf("connector %s is already provided by %s, which wins; remove or rename one of them", name, other.key)
			} else {
				want[name] = s
			}
		}
		if conflict != s.conflict {
			s.conflict = conflict
			if conflict != "" {
				f.log.Error("Connector file not loaded", slog.String("file", s.key), slog.String("connector", s.name()),
					slog.String("err", conflict))
			}
		}
	}
	moved := false
	for name, s := range want {
		if f.installed[name] == s.good {
			continue
		}
		if err := f.reg.Put(s.good); err != nil { // load checked it; kept for safety
			s.conflict = err.Error()
			f.log.Error("Connector file not loaded", slog.String("file", s.key), slog.Any("err", err))
			continue
		}
		f.installed[name] = s.good
		moved = true
	}
	for name := range f.installed {
		if _, ok := want[name]; !ok {
			f.reg.Remove(name)
			delete(f.installed, name)
			moved = true
			f.log.Info("Connector removed", slog.String("connector", name))
		}
	}
	f.publish()
	if moved {
		f.changed()
	}
}

// publish stores the view of the sources for readers.
func (f *connectorFiles) publish() {
	views := make([]fileView, 0, len(f.sources))
	for _, s := range f.sources {
		v := fileView{File: s.key, Origin: s.origin, Connector: s.name(), Revision: s.revision}
		if s.good != nil && f.installed[s.good.Name] == s.good {
			v.Installed, v.Source = true, s.goodSource
		}
		for _, p := range s.problems {
			v.Problems = append(v.Problems, FileProblem{File: s.key, Connector: v.Connector, Path: p.Path,
				Line: p.Line, Column: p.Column, Message: p.Message})
		}
		if s.conflict != "" {
			v.Problems = append(v.Problems, FileProblem{File: s.key, Connector: v.Connector, Path: "name", Message: s.conflict})
		}
		views = append(views, v)
	}
	slices.SortFunc(views, func(a, b fileView) int { return strings.Compare(a.File, b.File) })
	f.view.Store(&views)
}

// files returns the sources as the last pass left them, by file.
func (f *connectorFiles) files() []fileView { return *f.view.Load() }

// problems returns every problem of every source, by file.
func (f *connectorFiles) problems() []FileProblem {
	out := []FileProblem{}
	for _, v := range f.files() {
		out = append(out, v.Problems...)
	}
	return out
}

// note explains why a connector that is not installed is missing, when a file of that
// name failed to load: "" otherwise.
func (f *connectorFiles) note(name string) string {
	for _, v := range f.files() {
		if v.Connector != name || v.Installed || len(v.Problems) == 0 {
			continue
		}
		msg := fmt.Sprintf("its file %s did not load: %s", v.File, v.Problems[0].String())
		if n := len(v.Problems) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more problem(s))", n)
		}
		return msg
	}
	return ""
}

// loop reloads every interval until ctx ends.
func (f *connectorFiles) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := f.reload(ctx)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		// A failing source is reported when it starts failing, not at every pass.
		if msg != lastErr && ctx.Err() == nil {
			if err != nil {
				f.log.Warn("Reload connector files failed; connectors stay as they were", slog.Any("err", err))
			} else {
				f.log.Info("Reload connector files works again")
			}
		}
		lastErr = msg
	}
}

// Package builtin registers the declarative connectors that ship inside the binary: one
// connector file per service (github.yaml, xero.yaml, notion.yaml), each tested by the
// recorded fixtures in the directory of the same name. CONTRACTS.md lists the facts about
// each service the files rely on, with their sources.
//
// It registers them into connectors.Default from init, like a Go connector package; binaries
// pick it up by importing connectors/all. Workflows cannot tell these connectors from Go
// ones.
package builtin

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"sync"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
)

// files are the connector files, embedded at build time.
//
//go:embed *.yaml
var files embed.FS

// loadErrors holds what went wrong registering the files at init; see Errors.
var (
	loadMu     sync.Mutex
	loadErrors []error
)

// A broken embedded file is a build mistake that TestBuiltinsLoad catches, so it cannot
// reach a release. Should one slip through anyway, init logs it and registers the other
// files rather than panicking: the binary still starts, without that one connector.
func init() {
	cs, errs := build()
	for _, c := range cs {
		if err := connectors.Register(c); err != nil {
			errs = append(errs, fmt.Errorf("register built-in connector file %s: %w", c.Source, err))
		}
	}
	for _, err := range errs {
		slog.Error("Built-in connector not loaded", "err", err)
	}
	loadMu.Lock()
	loadErrors = errs
	loadMu.Unlock()
}

// Errors returns the problems init met parsing or registering the embedded files; nil when
// every built-in connector is registered.
func Errors() []error {
	loadMu.Lock()
	defer loadMu.Unlock()
	return append([]error(nil), loadErrors...)
}

// Sources returns the embedded connector files, sorted by name.
func Sources() ([]declarative.Source, error) {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list built-in connector files: %w", err)
	}
	sort.Strings(names)
	out := make([]declarative.Source, 0, len(names))
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read built-in connector file %s: %w", name, err)
		}
		out = append(out, declarative.Source{Path: path.Join("connectors/builtin", name), Origin: declarative.OriginBuiltin, Data: data})
	}
	return out, nil
}

// Definitions parses every embedded file. It returns the definitions that parsed and one
// error per file that did not (a *declarative.LoadError with lines and columns).
func Definitions() ([]*declarative.Definition, []error) {
	srcs, err := Sources()
	if err != nil {
		return nil, []error{err}
	}
	var defs []*declarative.Definition
	var errs []error
	for _, src := range srcs {
		d, err := declarative.Parse(src)
		if err != nil {
			errs = append(errs, fmt.Errorf("parse built-in connector file: %w", err))
			continue
		}
		defs = append(defs, d)
	}
	return defs, errs
}

// Connectors builds a fresh connector from every embedded file, for tests and sandboxes
// that want their own copies (connectors.NewRegistry().With(...)). The error joins one
// error per file that failed; the connectors of the other files are returned with it.
func Connectors() ([]*connectors.Connector, error) {
	cs, errs := build()
	return cs, errors.Join(errs...)
}

func build() ([]*connectors.Connector, []error) {
	defs, errs := Definitions()
	var out []*connectors.Connector
	for _, d := range defs {
		c, err := d.Connector(declarative.Options{})
		if err != nil {
			errs = append(errs, fmt.Errorf("build built-in connector file %s: %w", d.Source.Path, err))
			continue
		}
		out = append(out, c)
	}
	return out, errs
}

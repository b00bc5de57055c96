// Package declarative runs connectors described as data: one YAML or JSON file per
// connector (format.go, schema.json), turned into a *connectors.Connector that workflows,
// the API, the JSON Schema, the docs and the UI cannot tell from a Go connector.
//
// Parse reads and validates a file, reporting problems by path, line and column;
// Definition.Connector builds the runtime connector. Requests go through the shared
// httpclient (outbound policy, redaction, error kinds). Templates are the workflow
// language's (engine/expr), so integrators learn one language.
package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Origin says where a connector file came from.
type Origin string

// The origins, in the order they win a name conflict (a Go connector always wins).
const (
	OriginBuiltin Origin = "builtin" // embedded in the binary
	OriginAPI     Origin = "api"     // uploaded through /api/v1/connectors, kept in the database
	OriginDir     Origin = "dir"     // a file in HOOKFLOW_DATA_DIR/connectors
)

// Source is one connector file's text and where it came from.
type Source struct {
	// Path names the file in messages: a file path, or "api:<name>" for uploads.
	Path   string
	Origin Origin
	Data   []byte
}

// Problem is one thing wrong with a file.
type Problem struct {
	// Path is where in the document, dotted ("actions.create_issue.request.path"), or ""
	// for the whole file.
	Path string `json:"path"`
	// Line and Column locate it in the file's text, from 1; 0 when unknown.
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// LoadError lists a file's problems. Its text has one "file:line:col: path: message" per
// problem, the way compilers report.
type LoadError struct {
	File     string
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		loc := e.File
		switch {
		case p.Line > 0 && p.Column > 0:
			loc = fmt.Sprintf("%s:%d:%d", e.File, p.Line, p.Column)
		case p.Line > 0:
			loc = fmt.Sprintf("%s:%d", e.File, p.Line)
		}
		if p.Path != "" {
			lines = append(lines, fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Message))
		} else {
			lines = append(lines, fmt.Sprintf("%s: %s", loc, p.Message))
		}
	}
	return strings.Join(lines, "\n")
}

// Clock is the time a connector sees: Now for cursors and wait headers, Sleep for the
// waits a poll makes between its own retries. Tests use a fake that starts at time.Now().
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, whichever comes first.
	Sleep(ctx context.Context, d time.Duration) error
}

// Options are what Definition.Connector needs from its host.
type Options struct {
	// Client sends every request. Default: a new httpclient with the file's timeout.
	Client *httpclient.Client
	// Clock. Default: the wall clock.
	Clock Clock
}

// Duration is a time.Duration written as "30s", "1m30s" in files.
type Duration time.Duration

// Definition is a parsed and valid connector file. It is immutable and safe to share.
type Definition struct {
	File   File
	Source Source
}

// UnmarshalJSON reads "30s", "1m30s" (Go duration syntax).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q: %w", s, err)
	}
	if v < 0 {
		return fmt.Errorf("bad duration %q: negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as Go prints it.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/engine/store"
)

// ConnectorInfo is a connector as the API lists it: its spec, and where it comes from.
// Go and declarative connectors differ only in these last fields.
type ConnectorInfo struct {
	connectors.Spec
	// Origin: "go" (compiled in), "builtin" (a declarative file embedded in the binary),
	// "api" (uploaded) or "dir" (a file in the connectors folder).
	Origin string `json:"origin"`
	// Version is a declarative file's own version.
	Version string `json:"version,omitempty"`
	// Revision counts the uploads of an "api" connector's file.
	Revision int `json:"revision,omitempty"`
	// File names a declarative connector's file.
	File string `json:"file,omitempty"`
}

// ConnectorList is every installed connector, and every problem of the connector files.
type ConnectorList struct {
	Items    []ConnectorInfo `json:"items"`
	Problems []FileProblem   `json:"problems"`
}

// ConnectorDetail is one connector: its info, the text of its file (declarative
// connectors, for editors and admins), and the problems of the files that provide, or
// would provide, it.
type ConnectorDetail struct {
	ConnectorInfo
	// Installed is false for a name known only from a file that does not load.
	Installed bool          `json:"installed"`
	Source    string        `json:"source,omitempty"`
	Problems  []FileProblem `json:"problems"`
}

// ConnectorFileError is a connector file that does not load: the API answers 422 with
// its problems, and nothing is stored.
type ConnectorFileError struct {
	Problems []FileProblem
}

func (e *ConnectorFileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid connector file: " + strings.Join(lines, "; ")
}

// ListConnectors returns every installed connector, by name, and the problems of every
// connector file.
func (e *Engine) ListConnectors(ctx context.Context) (*ConnectorList, error) {
	if err := allow(ctx, RoleViewer, "read connectors"); err != nil {
		return nil, err
	}
	views := e.files.files()
	all := e.reg.Connectors()
	out := &ConnectorList{Items: make([]ConnectorInfo, 0, len(all)), Problems: e.files.problems()}
	for _, c := range all {
		out.Items = append(out.Items, connectorInfo(c, views))
	}
	return out, nil
}

func connectorInfo(c *connectors.Connector, views []fileView) ConnectorInfo {
	info := ConnectorInfo{Spec: c.Spec(), Origin: originOf(c), Version: c.Version, File: c.Source}
	for _, v := range views {
		if v.Installed && v.Connector == c.Name {
			info.Revision, info.File = v.Revision, v.File
		}
	}
	return info
}

// GetConnector returns one connector. A name that no installed connector has, but that a
// broken file would provide, is found too (Installed false), with that file's problems.
// The file's text is shown to editors and admins only: an integrator may have written a
// credential into it.
func (e *Engine) GetConnector(ctx context.Context, name string) (*ConnectorDetail, error) {
	if err := allow(ctx, RoleViewer, "read connectors"); err != nil {
		return nil, err
	}
	views := e.files.files()
	out := &ConnectorDetail{Problems: []FileProblem{}}
	c, installed := e.reg.Connector(name)
	if installed {
		out.ConnectorInfo, out.Installed = connectorInfo(c, views), true
	}
	known := installed
	for _, v := range views {
		if v.Connector != name {
			continue
		}
		known = true
		out.Problems = append(out.Problems, v.Problems...)
		if v.Installed && CanSeeSecrets(ctx) {
			out.Source = string(v.Source)
		}
		if !installed && out.File == "" {
			out.ConnectorInfo = ConnectorInfo{Spec: connectors.Spec{Name: name, Actions: []connectors.ActionSpec{}},
				Origin: string(v.Origin), File: v.File, Revision: v.Revision}
		}
	}
	if !known {
		return nil, fmt.Errorf("%w: connector %s", ErrNotFound, name)
	}
	return out, nil
}

// ConnectorProblems returns the problems of every connector file, by file.
func (e *Engine) ConnectorProblems() []FileProblem { return e.files.problems() }

// ReloadConnectors looks at the connector files now rather than at the next reload.
func (e *Engine) ReloadConnectors(ctx context.Context) error { return e.files.reload(ctx) }

// checkConnectorFile loads an uploaded file as the loader will: a *ConnectorFileError
// when it does not load, ErrConflict when its name belongs to a compiled-in connector.
// name, when set, is the name the URL gives.
func (e *Engine) checkConnectorFile(name string, data []byte) (*connectors.Connector, error) {
	file := "api:" + name
	if name == "" {
		file = "api"
	}
	if len(data) > ConnectorFileLimit {
		return nil, &ConnectorFileError{Problems: []FileProblem{{File: file, Connector: name,
			Message: fmt.Sprintf("the file is larger than %d bytes", ConnectorFileLimit)}}}
	}
	c, err := e.files.load(declarative.Source{Path: file, Origin: declarative.OriginAPI, Data: data})
	if err != nil {
		var le *declarative.LoadError
		if !errors.As(err, &le) {
			return nil, err
		}
		out := &ConnectorFileError{}
		for _, p := range le.Problems {
			out.Problems = append(out.Problems, FileProblem{File: file, Connector: name, Path: p.Path,
				Line: p.Line, Column: p.Column, Message: p.Message})
		}
		return nil, out
	}
	if name != "" && c.Name != name {
		return nil, &ConnectorFileError{Problems: []FileProblem{{File: file, Connector: name, Path: "name",
			Message: fmt.Sprintf("is %q, but the URL names %q: they must be the same", c.Name, name)}}}
	}
	if origin, ok := e.files.fixed[c.Name]; ok {
		return nil, fmt.Errorf("%w: connector %s is compiled into this binary (%s) and cannot be replaced; give the file another name",
			ErrConflict, c.Name, origin)
	}
	return c, nil
}

// CreateConnectorFile uploads a new connector file (YAML or JSON), named by its own
// name field, and installs it in this process at once; the others load it within their
// reload interval. A name already uploaded is ErrConflict: PutConnectorFile replaces.
func (e *Engine) CreateConnectorFile(ctx context.Context, data []byte) (*ConnectorDetail, error) {
	if err := allow(ctx, RoleAdmin, "upload connector files"); err != nil {
		return nil, err
	}
	c, err := e.checkConnectorFile("", data)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	row := &store.ConnectorFile{ID: newID(), Name: c.Name, Source: string(data), CreatedAt: now, UpdatedAt: now, UpdatedBy: actorEmail(ctx)}
	if err := e.store.CreateConnectorFile(ctx, row); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("%w: connector file %s is already uploaded; PUT /api/v1/connectors/%s replaces it", ErrConflict, c.Name, c.Name)
		}
		return nil, err
	}
	e.connectorWritten(ctx, AuditConnectorCreate, row, nil, c)
	return e.GetConnector(ctx, c.Name)
}

// PutConnectorFile uploads a connector file under name, creating or replacing it, and
// installs it in this process at once. The file's name field must be name.
func (e *Engine) PutConnectorFile(ctx context.Context, name string, data []byte) (created bool, err error) {
	if err := allow(ctx, RoleAdmin, "upload connector files"); err != nil {
		return false, err
	}
	c, err := e.checkConnectorFile(name, data)
	if err != nil {
		return false, err
	}
	var from map[string]any
	if prev, err := e.store.ConnectorFileByName(ctx, name); err == nil {
		before, _ := e.reg.Connector(name)
		if before != nil && before.Origin != string(declarative.OriginAPI) {
			before = nil // a folder file's connector is not what this upload replaces
		}
		from = connectorAuditFields(prev, before)
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	now := e.cfg.Now()
	row := &store.ConnectorFile{ID: newID(), Name: name, Source: string(data), CreatedAt: now, UpdatedAt: now, UpdatedBy: actorEmail(ctx)}
	created, err = e.store.SaveConnectorFile(ctx, row)
	if err != nil {
		return false, err
	}
	action := AuditConnectorUpdate
	if created {
		action, from = AuditConnectorCreate, nil
	}
	e.connectorWritten(ctx, action, row, from, c)
	return created, nil
}

// DeleteConnectorFile deletes an uploaded connector file and removes its connector from
// this process at once (from the others within their reload interval). Compiled-in
// connectors and folder files cannot be deleted through the API: ErrConflict says why.
// Workflows using the connector then fail validation, and their runs' steps fail
// (retryably) until it is back.
func (e *Engine) DeleteConnectorFile(ctx context.Context, name string) error {
	if err := allow(ctx, RoleAdmin, "delete connector files"); err != nil {
		return err
	}
	if origin, ok := e.files.fixed[name]; ok {
		return fmt.Errorf("%w: connector %s is compiled into this binary (%s) and cannot be deleted", ErrConflict, name, origin)
	}
	before, _ := e.reg.Connector(name)
	row, err := e.store.DeleteConnectorFile(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		for _, v := range e.files.files() {
			if v.Connector == name && v.Origin == declarative.OriginDir {
				return fmt.Errorf("%w: connector %s comes from %s in the connectors folder; delete that file (on every process)", ErrConflict, name, v.File)
			}
		}
	}
	if err != nil {
		return translate(err)
	}
	if err := e.files.reload(ctx); err != nil {
		e.log.Warn("Reload connector files failed", slog.Any("err", err))
	}
	e.log.Info("Connector file deleted", slog.String("connector", name))
	if before != nil && before.Origin != string(declarative.OriginAPI) {
		before = nil
	}
	e.audit(ctx, AuditConnectorDelete, AuditKindConnector, row.ID, name, changedFields(connectorAuditFields(row, before), nil))
	return nil
}

// connectorWritten applies a stored upload in this process and records it.
func (e *Engine) connectorWritten(ctx context.Context, action string, row *store.ConnectorFile, from map[string]any, after *connectors.Connector) {
	if err := e.files.reload(ctx); err != nil {
		e.log.Warn("Reload connector files failed", slog.Any("err", err))
	}
	e.log.Info("Connector file uploaded", slog.String("connector", row.Name), slog.Int("revision", row.Revision),
		slog.String("version", after.Version))
	e.audit(ctx, action, AuditKindConnector, row.ID, row.Name, changedFields(from, connectorAuditFields(row, after)))
}

// connectorAuditFields are what the audit log shows of a connector file: no text, which
// may be long, but its version, revision, actions and triggers, and its hash.
func connectorAuditFields(row *store.ConnectorFile, c *connectors.Connector) map[string]any {
	sum := sha256.Sum256([]byte(row.Source))
	out := map[string]any{"revision": row.Revision, "sha256": hex.EncodeToString(sum[:])}
	if c != nil {
		actions := make([]string, 0, len(c.Actions))
		for _, a := range c.Actions {
			actions = append(actions, a.Name)
		}
		pollers := make([]string, 0, len(c.Pollers))
		for _, p := range c.Pollers {
			pollers = append(pollers, p.Name)
		}
		out["version"], out["title"], out["actions"], out["pollers"] = c.Version, c.Title, actions, pollers
	}
	return out
}

func actorEmail(ctx context.Context) string {
	if a := ActorFrom(ctx); a != nil {
		return a.Email
	}
	return ""
}

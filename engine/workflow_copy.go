package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// SetWorkflowEnabled switches a workflow's triggers on or off. "enabled" lives in the
// definition, so this saves the current definition with it set as the next version,
// through UpdateWorkflow (same checks, same audit); the other fields keep their order
// and values. A workflow already in that state is returned unchanged, with no new
// version.
func (e *Engine) SetWorkflowEnabled(ctx context.Context, id string, enabled bool) (*Workflow, error) {
	if err := allow(ctx, RoleEditor, "change workflows"); err != nil {
		return nil, err
	}
	w, err := e.GetWorkflow(ctx, id)
	if err != nil {
		return nil, err
	}
	if w.Enabled == enabled {
		return w, nil
	}
	def, err := setTopLevel(w.Definition, "enabled", enabled, "name")
	if err != nil {
		return nil, fmt.Errorf("set enabled of workflow %s: %w", id, err)
	}
	e.log.Info("Workflow switched", slog.String("workflow_id", id), slog.Bool("enabled", enabled))
	return e.UpdateWorkflow(ctx, id, def)
}

// DuplicateWorkflow creates a new workflow from another's current definition, named
// name, with a webhook URL of its own. The copy is created switched off (enabled:
// false), so a copied schedule or poll does not start firing alongside its original
// before someone has looked at it.
func (e *Engine) DuplicateWorkflow(ctx context.Context, id, name string) (*Workflow, error) {
	if err := allow(ctx, RoleEditor, "create workflows"); err != nil {
		return nil, err
	}
	w, err := e.GetWorkflow(ctx, id)
	if err != nil {
		return nil, err
	}
	def, err := setTopLevel(w.Definition, "name", name, "")
	if err == nil {
		def, err = setTopLevel(def, "enabled", false, "name")
	}
	if err != nil {
		return nil, fmt.Errorf("copy workflow %s: %w", id, err)
	}
	return e.CreateWorkflow(ctx, def)
}

// setTopLevel sets key to value in a JSON object, keeping its other members in their
// order and as they were written. A new key goes right after the member named after,
// or first when there is none.
func setTopLevel(doc []byte, key string, value any, after string) ([]byte, error) {
	type member struct {
		key string
		raw json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("the definition is not a JSON object")
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read the definition: %w", err)
		}
		k, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("read the definition's %q: %w", k, err)
		}
		members = append(members, member{k, raw})
	}
	val, err := marshalPlain(value)
	if err != nil {
		return nil, fmt.Errorf("encode %q: %w", key, err)
	}
	found, at := false, 0
	for i := range members {
		if members[i].key == key {
			members[i].raw, found = val, true
		}
		if members[i].key == after {
			at = i + 1
		}
	}
	if !found {
		members = append(members[:at], append([]member{{key, val}}, members[at:]...)...)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := marshalPlain(m.key)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(m.raw)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshalPlain encodes v as JSON without escaping <, > and & (a name "Leads & deals"
// stays readable in the JSON tab).
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/hookflow/hookflow/engine/workflow"
)

// WorkflowRef names a workflow.
type WorkflowRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ConnectionUsage maps each connection name that a workflow's current version uses (its
// webhook's auth, its poll trigger, its steps) to those workflows, by name. Anyone may
// read it: a viewer reads the workflows themselves. A connection no workflow uses is
// not in the map.
func (e *Engine) ConnectionUsage(ctx context.Context) (map[string][]WorkflowRef, error) {
	defs, err := e.store.CurrentDefinitions(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]WorkflowRef{}
	for id, raw := range defs {
		def, err := workflow.Parse([]byte(raw))
		if err != nil {
			continue
		}
		for _, name := range connectionsUsedBy(def) {
			out[name] = append(out[name], WorkflowRef{ID: id, Name: def.Name})
		}
	}
	for _, refs := range out {
		slices.SortFunc(refs, func(a, b WorkflowRef) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
	}
	return out, nil
}

// connectionsUsedBy returns the names of the connections a definition refers to, each
// once, sorted.
func connectionsUsedBy(def *workflow.Workflow) []string {
	var names []string
	if wh := def.Trigger.Webhook; wh != nil && wh.Auth != nil && wh.Auth.Connection != "" {
		names = append(names, wh.Auth.Connection)
	}
	if p := def.Trigger.Poll; p != nil && p.Connection != "" {
		names = append(names, p.Connection)
	}
	for _, st := range def.Steps {
		if st.Connection != "" {
			names = append(names, st.Connection)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

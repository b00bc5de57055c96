package engine

import (
	"context"

	"github.com/hookflow/hookflow/connectors"
)

// coreConnector holds the built-in actions that need no service. It is added to every
// engine's registry rather than registered globally, because core actions that come later
// (delay, respond) need the engine's state.
func coreConnector() *connectors.Connector {
	return &connectors.Connector{
		Name:        "core",
		Title:       "Core",
		Description: "Built-in actions that need no outside service.",
		Actions:     []*connectors.ActionDef{coreSetAction},
	}
}

var coreSetAction = &connectors.ActionDef{
	ActionSpec: connectors.ActionSpec{
		Name:  "set",
		Title: "Set values",
		Description: "Computes values for later steps: every input, templates rendered, becomes " +
			"the step's output (steps.<id>.output.<name>).",
		FreeInputs: true,
	},
	New: func() connectors.Action { return coreSet{} },
}

type coreSet struct{}

var _ connectors.Action = coreSet{}

// Run returns the rendered inputs as the output.
func (coreSet) Run(_ context.Context, call *connectors.Call) (any, error) {
	return call.Input, nil
}

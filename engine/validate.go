package engine

import (
	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/workflow"
)

// ValidateDefinition checks a workflow offline, without a database: structure, actions
// and expressions, against reg plus the built-in core actions. Connections are not
// checked, since they live in a server's database. YAML is accepted when yaml is true.
func ValidateDefinition(data []byte, yaml bool, reg *connectors.Registry) (*workflow.Workflow, error) {
	parse := workflow.Parse
	if yaml {
		parse = workflow.ParseYAML
	}
	def, err := parse(data)
	if err != nil {
		return nil, err
	}
	if _, err := workflow.Compile(def, WithCore(reg)); err != nil {
		return def, err
	}
	return def, nil
}

// WithCore returns reg with the built-in core actions added, the registry workflows are
// validated and run against.
func WithCore(reg *connectors.Registry) *connectors.Registry {
	return reg.With(coreConnector())
}

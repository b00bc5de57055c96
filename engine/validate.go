package engine

import (
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine/trigger/signature"
	"github.com/hookflow/hookflow/engine/workflow"
)

// ValidateDefinition checks a workflow offline, without a database: structure, actions
// and expressions, against reg plus the built-in core actions. Connections are not
// checked, since they live in a server's database. YAML is accepted when yaml is true.
func ValidateDefinition(data []byte, yaml bool, reg *connectors.Registry) (*workflow.Workflow, error) {
	if yaml {
		js, err := workflow.YAMLToJSON(data)
		if err != nil {
			return nil, err
		}
		data = js
	}
	def, _, err := workflow.Load(data, WithCore(reg))
	if err != nil {
		return def, err
	}
	if wh := def.Trigger.Webhook; wh != nil && wh.Auth != nil {
		cfg := authConfig(wh.Auth, &connectors.Connection{})
		if err := signature.ValidateSettings(cfg); err != nil {
			return def, &workflow.ValidationError{Errors: []workflow.FieldError{{Path: "trigger.webhook.auth", Message: err.Error()}}}
		}
	}
	return def, nil
}

// WithCore returns reg with the built-in core actions added, the registry workflows are
// validated and run against.
func WithCore(reg *connectors.Registry) *connectors.Registry {
	return reg.With(coreConnector(time.Now))
}

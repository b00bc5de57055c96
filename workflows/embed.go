// Package workflows holds the example workflows and the generated workflow JSON Schema,
// embedded so the server can offer them.
package workflows

import "embed"

// FS holds examples/*.json and workflow.schema.json.
//
//go:embed examples/*.json workflow.schema.json
var FS embed.FS

// SchemaFile is the generated JSON Schema's name in FS and in this directory.
const SchemaFile = "workflow.schema.json"

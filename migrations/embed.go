// Package migrations holds Hookflow's versioned SQL schema, one folder per dialect with
// the same numbering, embedded into the binary and applied with goose.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS

// Dialects lists the folders of FS, one per supported database.
var Dialects = []string{"sqlite", "postgres"}

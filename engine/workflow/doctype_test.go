package workflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsDocumentType(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"":                         false,
		"text/plain":               false,
		"application/json":         false,
		"text/csv; charset=utf-8":  false,
		"application/octet-stream": false,
		"text/html":                true,
		"TEXT/HTML; charset=utf-8": true,
		"application/xhtml+xml":    true,
		"image/svg+xml":            true,
		"text/xml":                 true,
		"application/xml":          true,
		"application/atom+xml":     true,
		"text/xsl":                 true,
		"text/html;;":              true, // does not parse: browsers may still render it
		"text/html; charset=\"utf": true,
	} {
		require.Equal(t, want, IsDocumentType(ct), ct)
	}
}

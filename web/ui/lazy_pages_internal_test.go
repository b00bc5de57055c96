package ui

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPagesParsedOnFirstRender: New checks every page but keeps none parsed (an idle
// server holds no parse trees); the first use parses a page once and later uses share it.
func TestPagesParsedOnFirstRender(t *testing.T) {
	t.Parallel()
	h := New(nil, Config{})
	require.Empty(t, h.pages)
	require.Contains(t, h.pageFiles, builderToolsPage)
	require.Greater(t, len(h.pageFiles), 5)
	for name, files := range h.pageFiles {
		require.Equal(t, "templates/layout.html", files[0], name)
		require.Equal(t, "templates/"+name+".html", files[len(files)-1])
	}

	first, err := h.pageTemplate(builderToolsPage)
	require.NoError(t, err)
	require.NotNil(t, first.Lookup("layout"))
	again, err := h.pageTemplate(builderToolsPage)
	require.NoError(t, err)
	require.Same(t, first, again)
	require.Len(t, h.pages, 1)

	_, err = h.pageTemplate("no-such-page")
	require.Error(t, err)
	require.Len(t, h.pages, 1)
}

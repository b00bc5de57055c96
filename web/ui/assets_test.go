package ui_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
	"github.com/hookflow/hookflow/web/ui"
)

// htmxSHA256 is the checksum of dist/htmx.min.js in the npm package htmx.org at
// ui.HTMXVersion (the tarball's own npm shasum is in docs/ui.md). Upgrading htmx means
// copying the new file and changing both.
const htmxSHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"

func TestVendoredHTMXIsUnchanged(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("assets/htmx.min.js")
	require.NoError(t, err)
	sum := sha256.Sum256(raw)
	require.Equal(t, htmxSHA256, hex.EncodeToString(sum[:]), "assets/htmx.min.js is not htmx.org %s as published", ui.HTMXVersion)
	require.Contains(t, string(raw), `version:"`+ui.HTMXVersion+`"`)
}

// TestAssetsAreHashedAndCached: pages link assets under content-hashed names, served
// with a year of caching; an old or unknown name is 404.
func TestAssetsAreHashedAndCached(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{})
	login := b.browser(t).get("/login")
	links := regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`).FindAllStringSubmatch(login.body, -1)
	require.Len(t, links, 3, "the stylesheet, htmx and app.js")
	for _, l := range links {
		require.Regexp(t, `^/assets/[a-z.]+\.[0-9a-f]{12}\.(css|js)$`, l[1])
		res, err := http.Get(b.srv.URL + l[1])
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode, l[1])
		require.NotEmpty(t, body)
		require.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	}
	for _, p := range []string{"/assets/app.css", "/assets/app.000000000000.css", "/assets/..%2fui.go"} {
		res, err := http.Get(b.srv.URL + p)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusNotFound, res.StatusCode, p)
	}
}

package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// HTMXVersion is the vendored htmx, copied unchanged from the npm package htmx.org
// (dist/htmx.min.js). assets_test.go pins its checksum, so an edit or a botched upgrade
// fails the tests; docs/ui.md says how to upgrade.
const HTMXVersion = "2.0.11"

//go:embed assets
var assetFS embed.FS

// asset is one embedded file served under a content-hashed name, so browsers may keep it
// for a year: a new build with a changed file gets a new name.
type asset struct {
	body        []byte
	contentType string
}

// assets maps hashed paths ("/assets/app.3f2a9c1d.css") to files, and names to paths.
type assets struct {
	byPath map[string]asset
	paths  map[string]string
}

func loadAssets() (*assets, error) {
	a := &assets{byPath: map[string]asset{}, paths: map[string]string{}}
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("read embedded assets: %w", err)
	}
	for _, e := range entries {
		body, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		hashed := "/assets/" + strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ct := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
			".svg": "image/svg+xml"}[ext]
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		a.byPath[hashed] = asset{body: body, contentType: ct}
		a.paths[e.Name()] = hashed
	}
	return a, nil
}

// path returns the hashed path of an asset by its file name; templates call it as
// {{asset "app.css"}}. An unknown name is a template mistake that tests catch.
func (a *assets) path(name string) (string, error) {
	p, ok := a.paths[name]
	if !ok {
		return "", fmt.Errorf("no asset named %q", name)
	}
	return p, nil
}

// Asset serves an embedded file by its hashed path, cacheable for a year.
func (h *Handler) Asset(c *gin.Context) {
	f, ok := h.assets.byPath["/assets/"+c.Param("file")]
	if !ok {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, f.contentType, f.body)
}

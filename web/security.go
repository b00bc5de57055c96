package web

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// securityHeaders is on every response. The API answers JSON and the webhooks answer
// what their workflows say, so a browser must never guess another type (nosniff), frame
// a response (clickjacking), or send our URLs, which may hold webhook tokens, as a
// Referer.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		// API answers carry workflow definitions, run data and webhook URLs: keep them
		// out of browser and proxy caches, unknown paths and errors included.
		h.Set("Cache-Control", "no-store")
	}
	c.Next()
}

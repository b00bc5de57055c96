package workflow

import (
	"mime"
	"strings"
)

// IsDocumentType reports whether a Content-Type makes browsers render the body as a page
// of the origin that served it (HTML, XHTML, SVG, XML and its stylesheets), where a
// script in it could act for the origin's users. A value that does not parse counts as
// one: browsers are more lenient than mime.ParseMediaType.
func IsDocumentType(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return true
	}
	switch mt {
	case "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/xsl":
		return true
	}
	return strings.HasSuffix(mt, "+xml")
}

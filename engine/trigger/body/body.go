package body

import (
	"errors"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/hookflow/hookflow/connectors"
)

// Formats a body is decoded as, recorded in Result.Format.
const (
	// FormatNone is an empty body; its value is nil.
	FormatNone = "none"
	// FormatJSON is application/json or a */*+json type.
	FormatJSON = "json"
	// FormatForm is application/x-www-form-urlencoded.
	FormatForm = "form"
	// FormatMultipart is multipart/form-data.
	FormatMultipart = "multipart"
	// FormatXML is application/xml, text/xml or a */*+xml type, kept as text.
	FormatXML = "xml"
	// FormatText is any other body, kept as text.
	FormatText = "text"
)

// Defaults for the zero fields of Options.
const (
	// MaxFileBytesDefault is the largest multipart file whose content is kept.
	MaxFileBytesDefault int64 = 64 << 10
	// MaxFieldsDefault is the most form or multipart fields read.
	MaxFieldsDefault = 1000
	// MaxDepthDefault is the most bracket groups a form name may nest.
	MaxDepthDefault = 32
)

// Options bound the work Decode and ParseForm do. A zero or negative field takes
// its …Default value.
type Options struct {
	// MaxFileBytes is the largest multipart file whose content is kept, base64
	// encoded; larger files are described without their content and the result
	// is marked Truncated.
	MaxFileBytes int64
	// MaxFields is the most form pairs or multipart parts read; the rest are
	// dropped and the result is marked Truncated.
	MaxFields int
	// MaxDepth is the most bracket groups a form name may have; a deeper name is
	// kept as a literal key.
	MaxDepth int
}

// WithDefaults returns a copy of o with zero or negative fields set to their
// defaults.
func (o Options) WithDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = MaxFileBytesDefault
	}
	if o.MaxFields <= 0 {
		o.MaxFields = MaxFieldsDefault
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = MaxDepthDefault
	}
	return o
}

// Result is a decoded body.
type Result struct {
	// Format is one of the Format constants, chosen from the Content-Type (and
	// FormatNone for an empty body). It stays the declared format when the body
	// is Malformed.
	Format string `json:"format"`
	// Value is what expressions see as trigger.body: a JSON value, nested maps
	// for forms and multipart, a string for text and XML, nil for none.
	Value any `json:"value"`
	// Malformed says the body did not parse as its declared type and Value is
	// its text, or that a text body was not valid UTF-8.
	Malformed bool `json:"malformed"`
	// Truncated says fields or file contents were cut by Options.
	Truncated bool `json:"truncated"`
}

// Decode turns a body into the value expressions see, by its Content-Type. It
// never fails and never panics; see the package documentation for the rules.
func Decode(contentType string, raw []byte, opts Options) Result {
	opts = opts.WithDefaults()
	if len(raw) == 0 {
		return Result{Format: FormatNone}
	}
	mediaType, params := parseContentType(contentType)
	switch format := formatOf(mediaType); format {
	case FormatJSON:
		v, err := connectors.DecodeJSON(raw)
		if err != nil {
			return malformed(format, raw)
		}
		return Result{Format: format, Value: v}
	case FormatForm:
		v, truncated, err := ParseForm(string(raw), opts)
		if err != nil {
			return malformed(format, raw)
		}
		return Result{Format: format, Value: v, Truncated: truncated}
	case FormatMultipart:
		v, truncated, err := parseMultipart(raw, params["boundary"], opts)
		if err != nil {
			return malformed(format, raw)
		}
		return Result{Format: format, Value: v, Truncated: truncated}
	default:
		s, replaced := validText(string(raw))
		return Result{Format: format, Value: s, Malformed: replaced}
	}
}

// parseContentType returns the lower-case media type and its parameters. A type
// whose parameters do not parse keeps its media type with no parameters; an
// unparseable type is "".
func parseContentType(contentType string) (string, map[string]string) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return "", nil
	}
	return mediaType, params
}

// formatOf maps a lower-case media type to its format.
func formatOf(mediaType string) string {
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return FormatJSON
	case mediaType == "application/x-www-form-urlencoded":
		return FormatForm
	case mediaType == "multipart/form-data":
		return FormatMultipart
	case mediaType == "application/xml" || mediaType == "text/xml" || strings.HasSuffix(mediaType, "+xml"):
		return FormatXML
	}
	return FormatText
}

// malformed keeps a body that did not parse as its declared format as text.
func malformed(format string, raw []byte) Result {
	s, _ := validText(string(raw))
	return Result{Format: format, Value: s, Malformed: true}
}

// validText returns s with invalid UTF-8 replaced by U+FFFD, and whether any
// replacement was made.
func validText(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError)), true
}

// Package body turns a received webhook body into the value expressions see as
// trigger.body.
//
// Decode picks a format from the Content-Type and never fails: a body that does
// not parse as its declared type is kept as text and flagged Malformed, so a
// webhook is never lost for its format. The raw bytes are stored with the event
// anyway; the decoded value is a view of them.
//
//   - Empty body, whatever the type: FormatNone, Value nil.
//   - application/json and */*+json (parameters such as charset allowed): the
//     JSON value, decoded by connectors.DecodeJSON so numbers stay exact (int64
//     when integral and in range, float64 otherwise, the decimal string for
//     integers beyond int64). MaxDepth does not apply; encoding/json bounds
//     nesting itself.
//   - application/x-www-form-urlencoded: nested values built from PHP-style
//     names by ParseForm (see below). Values are always strings.
//   - multipart/form-data: fields as in forms (the same nested names, the same
//     rules), files as objects {"filename","content_type","size",
//     "content_base64"} under their field name. A part is a file when its
//     Content-Disposition has a filename parameter, even an empty one; the
//     filename loses any directories (cut at '/' and '\' on every platform),
//     content_type is the part's header as sent ("" when absent), size is an
//     int64, and content_base64 is left out, setting Truncated, when the file
//     is larger than Options.MaxFileBytes. A part that is not form-data is a
//     field named "". Parts beyond Options.MaxFields are not read, so a defect
//     after them goes unnoticed. A missing boundary, a bad part header or a
//     body without its closing boundary is Malformed.
//   - application/xml, text/xml and */*+xml: FormatXML, Value is the text.
//   - Anything else, including a missing or unparseable Content-Type: FormatText,
//     Value is the text.
//
// When Malformed is set, Format is still the declared format and Value is the
// body as a string. Every string in Value is valid UTF-8: invalid bytes are
// replaced with U+FFFD (encoding/json does the same inside JSON strings). For a
// text or XML body this replacement sets Malformed, because Value is then not
// the body byte for byte; inside form and multipart fields it does not, since
// the structure itself parsed.
//
// # Form names
//
// ParseForm follows PHP's rules for names, with these choices where PHP loses
// data or the rules are ambiguous:
//
//   - a[b][c]=1 gives {"a":{"b":{"c":"1"}}}; a[]=1&a[]=2 gives {"a":["1","2"]}.
//     An empty bracket appends: it takes the next index after the largest
//     numeric index seen at that level, as PHP does, so a[][x]=1&a[][x]=2 gives
//     two elements.
//   - A container becomes a list only when its keys are exactly 0..n-1, in any
//     order (a[1]=y&a[0]=x gives ["x","y"]). Sparse or non-canonical indexes
//     make an object with string keys: a[5]=x gives {"a":{"5":"x"}}, a[01]=x
//     gives {"a":{"01":"x"}}.
//   - A name given more than once collects its values in order: x=1&x=2 gives
//     {"x":["1","2"]} (PHP would keep only the last).
//   - A name used both as a value and as a container keeps both, whatever the
//     order: the container wins and the value moves under the key "", so
//     a=1&a[b]=2 and a[b]=2&a=1 both give {"a":{"":"1","b":"2"}}. Such a
//     container is always an object, even if its other keys are 0..n-1.
//   - A name that is not exactly base[k1][k2]... with a non-empty base and no
//     brackets inside the keys is a literal key, nothing dropped: a[b=1 gives
//     {"a[b":"1"}, a[b]c=1 gives {"a[b]c":"1"}, [a]=1 gives {"[a]":"1"}. So is a
//     name with more than Options.MaxDepth bracket groups. Names are not
//     otherwise mangled (PHP turns spaces and dots into underscores; we do not).
//   - Pairs are separated by '&' only; ';' is literal. Empty pairs are skipped;
//     a pair without '=' has the value "". '+' decodes to a space.
//   - Malformed percent-encoding is an error (Decode keeps the body as text).
//   - Only the first Options.MaxFields pairs are read; if more follow, the
//     truncated result is returned.
package body

package email

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// reservedHeaderNames are the headers the headers input may not set: the other inputs,
// the connection or the MIME structure set them, and a second copy would contradict or
// break the message (a Bcc header would reveal the blind copies).
var reservedHeaderNames = []string{
	"From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Return-Path",
}

var reservedHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, h := range reservedHeaderNames {
		m[strings.ToLower(h)] = true
	}
	return m
}()

// header is one extra header from the headers input.
type header struct {
	name, value string
}

// parseAddresses reads an address input: a string of comma-separated addresses or a list
// of such strings. Empty strings add nothing, so a template rendering to "" is harmless.
func parseAddresses(field string, v any) ([]*mail.Address, error) {
	var items []string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		items = []string{x}
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: expected an address string, got %s", field, i, connectors.JSONTypeOf(e))
			}
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("%s: expected a string or a list of strings, got %s", field, connectors.JSONTypeOf(v))
	}
	var out []*mail.Address
	for _, item := range items {
		// Lists joined by templates often end with a separator.
		s := strings.Trim(item, " \t\r\n,")
		if s == "" {
			continue
		}
		list, err := mail.ParseAddressList(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a valid email address or comma-separated list of addresses: %w",
				field, clip(s, 200), err)
		}
		out = append(out, list...)
	}
	return out, nil
}

// parseHeaders reads the headers input, refusing names that are not header names, the
// reserved headers, duplicates that differ only in case, and values with line breaks or
// other control characters (which would let a value start a header of its own).
func parseHeaders(v any) ([]header, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("headers: expected an object, got %s", connectors.JSONTypeOf(v))
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []header
	var errs []error
	seen := map[string]string{}
	for _, name := range names {
		lower := strings.ToLower(name)
		switch {
		case !validHeaderName(name):
			errs = append(errs, fmt.Errorf("headers: %q is not a valid header name", name))
			continue
		case reservedHeaders[lower]:
			errs = append(errs, fmt.Errorf("headers: %s is set by the email connector; use the inputs or the connection instead", name))
			continue
		case seen[lower] != "":
			errs = append(errs, fmt.Errorf("headers: %s and %s are the same header", seen[lower], name))
			continue
		}
		seen[lower] = name
		if obj[name] == nil {
			continue
		}
		value, ok := connectors.ScalarText(obj[name])
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("headers: %s: expected a string, got %s", name, connectors.JSONTypeOf(obj[name])))
		case hasControl(value):
			errs = append(errs, fmt.Errorf("headers: %s: the value contains a line break or another control character", name))
		default:
			out = append(out, header{name: name, value: value})
		}
	}
	return out, errors.Join(errs...)
}

// validHeaderName accepts RFC 5322 field names: printable ASCII except the colon.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// hasControl reports control characters other than tab.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

// buildMessage assembles the MIME message. go-mail encodes non-ASCII headers (RFC 2047),
// encodes the bodies as quoted-printable, omits Bcc and writes multipart/alternative
// parts in the order they were added, so text comes before html.
func buildMessage(in *sendInput, from *mail.Address, msgID string, date time.Time) *gomail.Msg {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(from)
	if len(in.to) > 0 {
		m.ToMailAddress(in.to...)
	}
	if len(in.cc) > 0 {
		m.CcMailAddress(in.cc...)
	}
	if len(in.replyTo) > 0 {
		m.ReplyToMailAddress(in.replyTo...)
	}
	if in.subject != "" {
		m.Subject(in.subject)
	}
	m.SetGenHeader(gomail.HeaderMessageID, msgID)
	m.SetDateWithValue(date)
	m.SetUserAgent(httpclient.UserAgentDefault) // names Hookflow, as HTTP calls do
	for _, h := range in.headers {
		m.SetGenHeader(gomail.Header(h.name), h.value) // after the User-Agent, which it may replace
	}
	switch {
	case in.text != "" && in.html != "":
		m.SetBodyString(gomail.TypeTextPlain, in.text)
		m.AddAlternativeString(gomail.TypeTextHTML, in.html)
	case in.text != "":
		m.SetBodyString(gomail.TypeTextPlain, in.text)
	default:
		m.SetBodyString(gomail.TypeTextHTML, in.html)
	}
	return m
}

// messageID returns the Message-ID, angle brackets included, for a step's idempotency
// key: <readable key.hash@from domain>. The key's letters, digits, "-" and "_" keep it
// readable in mail headers ("run_1:send" gives "run_1.send"), other characters become
// dots, and a hash of the whole key keeps distinct keys distinct. The same key gives the
// same ID on every attempt, which is what lets receivers drop a duplicate. Without a key
// the ID is random.
func messageID(key, fromAddress string) string {
	domain := fromAddress[strings.LastIndexByte(fromAddress, '@')+1:]
	if key == "" {
		return "<" + strings.ToLower(rand.Text()) + "@" + domain + ">"
	}
	var b strings.Builder
	for _, r := range key {
		switch {
		case r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'):
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "."):
			b.WriteByte('.')
		}
		if b.Len() >= 128 {
			break
		}
	}
	readable := strings.TrimSuffix(b.String(), ".")
	sum := sha256.Sum256([]byte(key))
	hash := hex.EncodeToString(sum[:8])
	if readable == "" {
		return "<" + hash + "@" + domain + ">"
	}
	return "<" + readable + "." + hash + "@" + domain + ">"
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

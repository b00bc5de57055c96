package signature

import (
	"net/url"
	"time"
)

// TypeBitrix24 is the preset for Bitrix24's outgoing event handlers (ONCRMLEADADD…).
const TypeBitrix24 = "bitrix24"

// bitrix24TokenField is the form field carrying the handler's application token.
const bitrix24TokenField = "auth[application_token]"

// verifyBitrix24 checks the application token of a Bitrix24 event. Bitrix24 signs
// nothing: it posts a form whose auth[application_token] is the token shown when the
// handler was made, so that value must equal a secret (compared in constant time).
func verifyBitrix24(c *Config, r *Request, _ time.Time) *Error {
	form := r.Form
	if form == nil {
		// The caller parses bodies sent as forms. Bitrix24 always sends one, so a body
		// labelled otherwise is read as a form too: the token must match all the same.
		parsed, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return reject(CodeMalformed, "malformed form body")
		}
		form = parsed
	}
	v := form.Get(bitrix24TokenField)
	if v == "" {
		return reject(CodeMissingHeader, "missing form field %s", bitrix24TokenField)
	}
	ok := false
	for _, s := range c.Secrets {
		if s != "" && equalSecret(v, s) {
			ok = true
		}
	}
	if !ok {
		return reject(CodeMismatch, "application token mismatch")
	}
	return nil
}

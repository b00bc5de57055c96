package signature

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TypeTilda is the preset for Tilda site forms (tilda.cc). Tilda signs nothing; it can
// send an API key of the user's choice in a header or a form field ("Header name" or
// "Field name" in its webhook settings), compared with the connection's secret. Without a
// connection nothing is checked. Tilda checks a new URL by posting test=test and wants
// 200 (IsProbe), wants 200 for submissions too (AcceptedStatus), and retries a
// submission unanswered within 5 s with the same tranid (DefaultDedupe).
const TypeTilda = "tilda"

var tildaScheme = scheme{name: TypeTilda, verify: verifyTilda, optionalConnection: true,
	dedupe: "trigger.body.tranid", acceptedStatus: http.StatusOK, probe: isTildaProbe}

// verifyTilda compares the API key, taken from c.Header or the form field c.Field, with
// the secrets in constant time. With neither configured the workflow names no
// connection and every request passes.
func verifyTilda(c *Config, r *Request, _ time.Time) *Error {
	if c.Header == "" && c.Field == "" {
		return nil
	}
	if !hasSecret(c.Secrets) {
		return reject(CodeBadConfig, "no secret configured for tilda")
	}
	var got string
	if c.Header != "" {
		if got = header(r, c.Header); got == "" {
			return missingHeader(c.Header)
		}
	} else {
		form, ok := formOf(r)
		if !ok {
			return reject(CodeMissingHeader, "missing field %s: the body is not a form", c.Field)
		}
		if got = strings.TrimSpace(form.Get(c.Field)); got == "" {
			return reject(CodeMissingHeader, "missing field %s", c.Field)
		}
	}
	// Every secret is compared, so the time taken does not say which one matched.
	ok := false
	for _, s := range c.Secrets {
		if s != "" && equalSecret(got, s) {
			ok = true
		}
	}
	if !ok {
		return reject(CodeMismatch, "api key mismatch")
	}
	return nil
}

// isTildaProbe recognises Tilda's check of a new webhook URL: a form with test=test.
// A real submission always carries a tranid, so a form field that happens to be named
// "test" does not make one a probe.
func isTildaProbe(r *Request) bool {
	form, ok := formOf(r)
	return ok && form.Get("test") == "test" && !form.Has("tranid")
}

// formOf returns the request's form parameters: r.Form when the caller parsed them,
// otherwise the body parsed when it is declared as a form.
func formOf(r *Request) (url.Values, bool) {
	if r.Form != nil {
		return r.Form, true
	}
	if !isFormBody(r) {
		return nil, false
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, false
	}
	return form, true
}

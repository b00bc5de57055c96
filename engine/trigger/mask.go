package trigger

import (
	"mime"
	"net/url"
	"slices"
	"strings"
)

// Masked replaces the values the inspector and the run records must not keep.
const Masked = "******"

// sensitiveHeaders are masked in every stored request: credentials and the signature
// headers of the verification presets (a signature is not a secret, but together with
// the body it lets anyone replay the request elsewhere).
var sensitiveHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-api-key": true, "x-api-token": true, "x-auth-token": true,
	"x-hub-signature": true, "x-hub-signature-256": true, "stripe-signature": true,
	"x-slack-signature": true, "x-shopify-hmac-sha256": true, "webhook-signature": true,
	"x-telegram-bot-api-secret-token": true, "x-hubspot-signature": true, "x-hubspot-signature-v3": true,
	"x-twilio-signature": true, "svix-signature": true,
}

// MaskHeaders returns headers (lower-case names) with credentials and signatures masked,
// and also the headers named in extra (a workflow's own token or signature header).
func MaskHeaders(h map[string]string, extra ...string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
		if sensitiveHeaders[k] {
			out[k] = Masked
		}
	}
	for _, name := range extra {
		if name = strings.ToLower(name); name != "" {
			if _, ok := out[name]; ok {
				out[name] = Masked
			}
		}
	}
	return out
}

// MaskQuery masks the values of the named query parameters (a token sent in the URL).
func MaskQuery(raw string, params ...string) string {
	if raw == "" || len(params) == 0 {
		return raw
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	changed := false
	for _, p := range params {
		if vs, ok := vals[p]; ok && p != "" {
			for i := range vs {
				vs[i] = Masked
			}
			changed = true
		}
	}
	if !changed {
		return raw
	}
	return vals.Encode()
}

// MaskFormField masks the values of the named fields of an
// application/x-www-form-urlencoded body (an API key sent as a form field). Every other
// byte stays as received; a body of another type is returned unchanged.
func MaskFormField(contentType string, body []byte, names ...string) []byte {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-www-form-urlencoded" || len(body) == 0 {
		return body
	}
	pairs := strings.Split(string(body), "&")
	changed := false
	for i, pair := range pairs {
		k, _, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if slices.Contains(names, name) && name != "" {
			pairs[i] = k + "=" + Masked
			changed = true
		}
	}
	if !changed {
		return body
	}
	return []byte(strings.Join(pairs, "&"))
}

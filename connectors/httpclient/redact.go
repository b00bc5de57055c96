package httpclient

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/hookflow/hookflow/connectors"
)

// Names (lower-cased, with "-" and "_" removed) that are secret wherever they appear as a
// query key or header name. Substrings catch the many spellings: access_token,
// refresh_token, client_secret, x-api-key, X-Auth-Token, webhook-signature ...
var (
	secretNames      = map[string]bool{"key": true, "auth": true, "sig": true, "cookie": true, "setcookie": true}
	secretSubstrings = []string{"token", "secret", "password", "passwd", "apikey", "signature", "authorization", "accesskey", "privatekey", "session"}
)

// IsSensitiveName reports whether a query key or header name looks like it carries a
// credential, so its value must not be logged. Over-matching is harmless: it only hides
// a value from logs.
func IsSensitiveName(name string) bool {
	n := strings.ToLower(name)
	n = strings.NewReplacer("-", "", "_", "", ".", "").Replace(n)
	if secretNames[n] {
		return true
	}
	for _, s := range secretSubstrings {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// RedactURL returns raw with the userinfo password and the values of secret-looking
// query keys (see IsSensitiveName) replaced with connectors.RedactedValue. The rest of the
// URL keeps its original spelling. A URL that does not parse comes back as "<invalid url>",
// since it cannot be redacted reliably.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	hasPassword := false
	if u.User != nil {
		if _, hasPassword = u.User.Password(); hasPassword {
			// url.URL would escape the mask's asterisks; put a plain placeholder in and
			// swap it afterwards.
			u.User = url.UserPassword(u.User.Username(), passwordPlaceholder)
		}
	}
	if u.RawQuery != "" {
		u.RawQuery = redactRawQuery(u.RawQuery)
	}
	s := u.String()
	if hasPassword {
		s = strings.Replace(s, ":"+passwordPlaceholder+"@", ":"+connectors.RedactedValue+"@", 1)
	}
	return s
}

const passwordPlaceholder = "HOOKFLOWREDACTEDPASSWORD"

// redactRawQuery masks secret values pair by pair, so the order and the escaping of the
// other pairs stay as the caller wrote them.
func redactRawQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		if hasValue && IsSensitiveName(key) {
			parts[i] = k + "=" + connectors.RedactedValue
		}
	}
	return strings.Join(parts, "&")
}

// sensitiveHeaders are masked whatever IsSensitiveName says about them.
var sensitiveHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"X-Api-Key":           true,
	"X-Api-Token":         true,
}

// IsSensitiveHeader reports whether a header's value must be masked in logs and stored
// records: Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, X-Api-Token,
// and any name IsSensitiveName flags.
func IsSensitiveHeader(name string) bool {
	return sensitiveHeaders[http.CanonicalHeaderKey(name)] || IsSensitiveName(name)
}

// RedactHeaders returns a copy of h with the values of sensitive headers masked. For
// Authorization-style values the scheme is kept ("Bearer ******"), since it helps
// debugging and is not secret.
func RedactHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		cp := append([]string(nil), vs...)
		if IsSensitiveHeader(k) {
			for i, v := range cp {
				cp[i] = maskCredential(v)
			}
		}
		out[k] = cp
	}
	return out
}

func maskCredential(v string) string {
	scheme, _, ok := strings.Cut(v, " ")
	if ok && isAuthScheme(scheme) {
		return scheme + " " + connectors.RedactedValue
	}
	return connectors.RedactedValue
}

func isAuthScheme(s string) bool {
	switch strings.ToLower(s) {
	case "basic", "bearer", "digest", "token", "bot", "hmac", "negotiate", "aws4-hmac-sha256":
		return true
	}
	return false
}

// SecretRedactor returns a function that replaces every given secret found in a string,
// in its literal, query-escaped and path-escaped spellings, with connectors.RedactedValue.
// Empty secrets are ignored. Longer secrets are replaced first, so a secret that contains
// another is masked whole.
func SecretRedactor(secrets ...string) func(string) string {
	seen := map[string]bool{}
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, f := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	if len(forms) == 0 {
		return identity
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, connectors.RedactedValue)
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

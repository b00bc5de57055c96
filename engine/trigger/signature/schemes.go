package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Header names of the presets.
const (
	hdrAuthorization  = "Authorization"
	hdrHubSignature   = "X-Hub-Signature-256"
	hdrHubSignature1  = "X-Hub-Signature"
	hdrStripe         = "Stripe-Signature"
	hdrSlackSignature = "X-Slack-Signature"
	hdrSlackTimestamp = "X-Slack-Request-Timestamp"
	hdrShopify        = "X-Shopify-Hmac-Sha256"
	hdrTelegram       = "X-Telegram-Bot-Api-Secret-Token"
	hdrHubSpot        = "X-HubSpot-Signature-v3"
	hdrHubSpotTime    = "X-HubSpot-Request-Timestamp"
	hdrTwilio         = "X-Twilio-Signature"
)

func verifyNone(*Config, *Request, time.Time) *Error { return nil }

// verifyToken compares a header or query value with the secrets. The header wins when
// both are configured and present.
func verifyToken(c *Config, r *Request, _ time.Time) *Error {
	var got, where string
	if c.Header != "" {
		got, where = header(r, c.Header), "header "+c.Header
	}
	if got == "" && c.Query != "" {
		u, err := url.Parse(r.URL)
		if err != nil {
			return reject(CodeMalformed, "malformed request URL")
		}
		got, where = strings.TrimSpace(u.Query().Get(c.Query)), "query parameter "+c.Query
	}
	switch {
	case c.Header == "" && c.Query == "":
		return reject(CodeBadConfig, "no header or query configured for token")
	case got != "":
	case c.Header != "" && c.Query != "":
		return reject(CodeMissingHeader, "missing header %s or query parameter %s", c.Header, c.Query)
	case c.Header != "":
		return missingHeader(c.Header)
	default:
		return reject(CodeMissingHeader, "missing query parameter %s", c.Query)
	}
	if p := c.Prefix; p != "" {
		if len(got) < len(p) || !strings.EqualFold(got[:len(p)], p) {
			return reject(CodeMalformed, "malformed %s: want prefix %q", where, p)
		}
		got = strings.TrimSpace(got[len(p):])
	}
	for _, s := range c.Secrets {
		if s != "" && equalSecret(got, s) {
			return nil
		}
	}
	return reject(CodeMismatch, "token mismatch")
}

// verifyBasic checks HTTP Basic credentials.
func verifyBasic(c *Config, r *Request, _ time.Time) *Error {
	if c.Username == "" || c.Password == "" {
		return reject(CodeBadConfig, "no username and password configured for basic")
	}
	v := header(r, hdrAuthorization)
	if v == "" {
		return missingHeader(hdrAuthorization)
	}
	typ, cred, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(typ, "Basic") {
		return malformed(hdrAuthorization, "not Basic credentials")
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return malformed(hdrAuthorization, "credentials are not base64")
	}
	user, pass, ok := strings.Cut(string(dec), ":")
	if !ok {
		return malformed(hdrAuthorization, "credentials lack a colon")
	}
	// Both compares always run, so the time taken does not tell which one failed.
	userOK := equalSecret(user, c.Username)
	passOK := equalSecret(pass, c.Password)
	if !userOK || !passOK {
		return reject(CodeMismatch, "credentials mismatch")
	}
	return nil
}

// verifyHMAC checks the generic scheme: HMAC(algorithm, secret, body) in Header. The
// config has had WithDefaults applied.
func verifyHMAC(c *Config, r *Request, _ time.Time) *Error {
	if c.Header == "" {
		return reject(CodeBadConfig, "no header configured for hmac")
	}
	newHash, ok := algorithms[c.Algorithm]
	if !ok {
		return reject(CodeBadConfig, "unsupported algorithm %q", c.Algorithm)
	}
	enc := c.Encoding
	if enc != "hex" && enc != "base64" {
		return reject(CodeBadConfig, "unsupported encoding %q", enc)
	}
	v := header(r, c.Header)
	if v == "" {
		return missingHeader(c.Header)
	}
	if c.Prefix != "" {
		rest, ok := strings.CutPrefix(v, c.Prefix)
		if !ok {
			return malformed(c.Header, "want prefix "+c.Prefix)
		}
		v = rest
	}
	return verifyOne(c.Header, v, enc, newHash, c.Secrets, r.Body)
}

// verifyHubSignature checks GitHub's and Meta's X-Hub-Signature-256 ("sha256=<hex>"),
// falling back to the legacy X-Hub-Signature ("sha1=<hex>") only when the first is absent.
func verifyHubSignature(c *Config, r *Request, _ time.Time) *Error {
	name, prefix, newHash := hdrHubSignature, "sha256=", sha256.New
	v := header(r, name)
	if v == "" {
		if legacy := header(r, hdrHubSignature1); legacy != "" {
			name, prefix, newHash, v = hdrHubSignature1, "sha1=", sha1.New, legacy
		} else {
			return missingHeader(hdrHubSignature)
		}
	}
	hexSig, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return malformed(name, "want prefix "+prefix)
	}
	return verifyOne(name, hexSig, "hex", newHash, c.Secrets, r.Body)
}

// stripeHeader is a parsed Stripe-Signature header.
type stripeHeader struct {
	timestamp string   // as received, for the signed payload
	v1        [][]byte // decoded v1 signatures; v0 and unknown schemes are ignored
}

// parseStripeHeader parses "t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]". A v1 value that is
// not 32 bytes of hex is skipped, as Stripe's libraries do; none left is malformed.
func parseStripeHeader(v string) (stripeHeader, *Error) {
	var h stripeHeader
	sawV1 := false
	for item := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return h, malformed(hdrStripe, "item without =")
		}
		switch k {
		case "t":
			if h.timestamp != "" {
				return h, malformed(hdrStripe, "more than one timestamp")
			}
			if val == "" {
				return h, malformed(hdrStripe, "empty timestamp")
			}
			h.timestamp = val
		case "v1":
			sawV1 = true
			if sig, err := decodeHex(val); err == nil && len(sig) == sha256.Size {
				h.v1 = append(h.v1, sig)
			}
		}
	}
	switch {
	case h.timestamp == "":
		return h, malformed(hdrStripe, "no timestamp")
	case len(h.v1) == 0 && sawV1:
		return h, malformed(hdrStripe, "no v1 signature is 32 bytes of hex")
	case len(h.v1) == 0:
		return h, malformed(hdrStripe, "no v1 signature")
	}
	return h, nil
}

// verifyStripe checks Stripe-Signature: HMAC-SHA256 of "<t>.<body>" keyed with the whole
// whsec_ string, any v1 matching, then the timestamp.
func verifyStripe(c *Config, r *Request, now time.Time) *Error {
	v := header(r, hdrStripe)
	if v == "" {
		return missingHeader(hdrStripe)
	}
	h, e := parseStripeHeader(v)
	if e != nil {
		return e
	}
	ts, e := parseUnix(hdrStripe, h.timestamp, false)
	if e != nil {
		return e
	}
	if !matchAny(sha256.New, secretKeys(c.Secrets), h.v1, []byte(h.timestamp), []byte("."), r.Body) {
		return mismatch()
	}
	return checkFresh(ts, now, c.Tolerance)
}

// verifySlack checks X-Slack-Signature ("v0=<hex>") over "v0:<ts>:<body>", then the
// timestamp.
func verifySlack(c *Config, r *Request, now time.Time) *Error {
	sig := header(r, hdrSlackSignature)
	if sig == "" {
		return missingHeader(hdrSlackSignature)
	}
	tsv := header(r, hdrSlackTimestamp)
	if tsv == "" {
		return missingHeader(hdrSlackTimestamp)
	}
	ts, e := parseUnix(hdrSlackTimestamp, tsv, false)
	if e != nil {
		return e
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return malformed(hdrSlackSignature, "want prefix v0=")
	}
	if e := verifyOne(hdrSlackSignature, hexSig, "hex", sha256.New, c.Secrets,
		[]byte("v0:"+tsv+":"), r.Body); e != nil {
		return e
	}
	return checkFresh(ts, now, c.Tolerance)
}

// verifyShopify checks X-Shopify-Hmac-Sha256, the base64 HMAC-SHA256 of the body.
func verifyShopify(c *Config, r *Request, _ time.Time) *Error {
	v := header(r, hdrShopify)
	if v == "" {
		return missingHeader(hdrShopify)
	}
	return verifyOne(hdrShopify, v, "base64", sha256.New, c.Secrets, r.Body)
}

// verifyTelegram compares X-Telegram-Bot-Api-Secret-Token with the secrets.
func verifyTelegram(c *Config, r *Request, _ time.Time) *Error {
	v := r.Header.Get(hdrTelegram) // exact: no trimming of the secret token
	if v == "" {
		return missingHeader(hdrTelegram)
	}
	for _, s := range c.Secrets {
		if s != "" && equalSecret(v, s) {
			return nil
		}
	}
	return reject(CodeMismatch, "secret token mismatch")
}

// Standard Webhooks header names, and the svix-* names Svix sends instead.
var (
	standardNames = [3]string{"webhook-id", "webhook-timestamp", "webhook-signature"}
	svixNames     = [3]string{"svix-id", "svix-timestamp", "svix-signature"}
)

// standardWebhooksKey decodes a Standard Webhooks secret: base64 after an optional whsec_
// prefix.
func standardWebhooksKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil, err
	}
	if len(key) == 0 {
		return nil, errors.New("empty key")
	}
	return key, nil
}

// parseStandardSignatures decodes the v1 entries of a space-separated webhook-signature
// list ("v1,<base64> v1a,<base64> …"). Other versions and undecodable entries are skipped;
// none left is malformed.
func parseStandardSignatures(name, v string) ([][]byte, *Error) {
	var sigs [][]byte
	sawV1 := false
	for _, entry := range strings.Fields(v) {
		version, val, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		sawV1 = true
		if sig, err := base64.StdEncoding.DecodeString(val); err == nil && len(sig) == sha256.Size {
			sigs = append(sigs, sig)
		}
	}
	switch {
	case len(sigs) == 0 && sawV1:
		return nil, malformed(name, "no v1 signature is 32 bytes of base64")
	case len(sigs) == 0:
		return nil, malformed(name, "no v1 signature")
	}
	return sigs, nil
}

// verifyStandardWebhooks checks webhook-signature over "<id>.<timestamp>.<body>", any v1
// signature under any secret, then the timestamp. The svix-* names are used when none of
// the webhook-* headers is present.
func verifyStandardWebhooks(c *Config, r *Request, now time.Time) *Error {
	keys := make([][]byte, 0, len(c.Secrets))
	for i, s := range c.Secrets {
		if s == "" {
			continue
		}
		key, err := standardWebhooksKey(s)
		if err != nil {
			return reject(CodeBadConfig, "secrets[%d] is not a standard-webhooks key (whsec_ followed by base64)", i)
		}
		keys = append(keys, key)
	}
	names := standardNames
	if header(r, names[0]) == "" && header(r, names[1]) == "" && header(r, names[2]) == "" &&
		header(r, svixNames[0]) != "" {
		names = svixNames
	}
	var vals [3]string
	for i, n := range names {
		if vals[i] = header(r, n); vals[i] == "" {
			return missingHeader(n)
		}
	}
	id, tsv, sigv := vals[0], vals[1], vals[2]
	ts, e := parseUnix(names[1], tsv, false)
	if e != nil {
		return e
	}
	sigs, e := parseStandardSignatures(names[2], sigv)
	if e != nil {
		return e
	}
	if !matchAny(sha256.New, keys, sigs, []byte(id+"."+tsv+"."), r.Body) {
		return mismatch()
	}
	return checkFresh(ts, now, c.Tolerance)
}

// hubspotDecoded are the characters HubSpot decodes in the URI before signing, by the
// upper-case hex digits of their percent-encoding.
var hubspotDecoded = map[string]byte{
	"3A": ':', "2F": '/', "3F": '?', "40": '@', "21": '!', "24": '$',
	"27": '\'', "28": '(', "29": ')', "2A": '*', "2C": ',', "3B": ';',
}

// hubspotURI decodes only the percent-encodings HubSpot decodes (%3A %2F %3F %40 %21
// %24 %27 %28 %29 %2A %2C %3B, hex digits in either case) and keeps every other byte.
func hubspotURI(raw string) string {
	if !strings.Contains(raw, "%") {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) {
			if c, ok := hubspotDecoded[strings.ToUpper(raw[i+1:i+3])]; ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// verifyHubSpotV3 checks X-HubSpot-Signature-v3: base64 HMAC-SHA256 of
// method + uri + body + timestamp, the timestamp in milliseconds.
func verifyHubSpotV3(c *Config, r *Request, now time.Time) *Error {
	if r.URL == "" {
		return reject(CodeBadConfig, "no request URL to verify hubspot-v3")
	}
	sig := header(r, hdrHubSpot)
	if sig == "" {
		return missingHeader(hdrHubSpot)
	}
	tsv := header(r, hdrHubSpotTime)
	if tsv == "" {
		return missingHeader(hdrHubSpotTime)
	}
	ts, e := parseUnix(hdrHubSpotTime, tsv, true)
	if e != nil {
		return e
	}
	if e := verifyOne(hdrHubSpot, sig, "base64", sha256.New, c.Secrets,
		[]byte(r.Method+hubspotURI(r.URL)), r.Body, []byte(tsv)); e != nil {
		return e
	}
	return checkFresh(ts, now, c.Tolerance)
}

// verifyTwilio checks X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by the
// form parameters sorted by key, each as key+value. When the URL carries bodySHA256 (a
// JSON or other non-form body), only the URL is signed and the body must hash to it.
// The URL is also tried with its default port added or removed, as Twilio's libraries do.
func verifyTwilio(c *Config, r *Request, _ time.Time) *Error {
	if r.URL == "" {
		return reject(CodeBadConfig, "no request URL to verify twilio")
	}
	v := header(r, hdrTwilio)
	if v == "" {
		return missingHeader(hdrTwilio)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return reject(CodeMalformed, "malformed request URL")
	}
	sig, e := decodeSignature(hdrTwilio, v, "base64", sha1.Size)
	if e != nil {
		return e
	}
	query := u.Query()
	bodyHash, bound := query["bodySHA256"]
	var params string
	if !bound {
		params = twilioParams(r)
	}
	keys := secretKeys(c.Secrets)
	ok := false
	for _, candidate := range twilioURLs(r.URL, u) {
		if matchAny(sha1.New, keys, [][]byte{sig}, []byte(candidate), []byte(params)) {
			ok = true
			break
		}
	}
	if !ok {
		return mismatch()
	}
	if bound {
		want, err := decodeHex(bodyHash[0])
		if err != nil || len(want) != sha256.Size {
			return reject(CodeMalformed, "malformed bodySHA256 query parameter")
		}
		sum := sha256.Sum256(r.Body)
		if !hmac.Equal(sum[:], want) {
			return reject(CodeMismatch, "body does not match bodySHA256")
		}
	}
	return nil
}

// twilioParams concatenates the form parameters sorted by key, each value as key+value
// (a repeated key's values sorted too). Without r.Form, a form-encoded body is parsed.
func twilioParams(r *Request) string {
	form := r.Form
	if form == nil && isFormBody(r) {
		form, _ = url.ParseQuery(string(r.Body)) // keeps what parsed; the MAC decides
	}
	if len(form) == 0 {
		return ""
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		vals := append([]string(nil), form[k]...)
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}

// twilioURLs returns the URL as received, then the same URL with the scheme's default
// port added when it has none or removed when it has it.
func twilioURLs(raw string, u *url.URL) []string {
	out := []string{raw}
	def := map[string]string{"https": "443", "http": "80"}[strings.ToLower(u.Scheme)]
	if def == "" || u.Host == "" {
		return out
	}
	host, port := u.Hostname(), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	alt := *u
	switch port {
	case "":
		alt.Host = host + ":" + def
	case def:
		alt.Host = host
	default:
		return out
	}
	return append(out, alt.String())
}

// isFormBody reports whether the body is application/x-www-form-urlencoded.
func isFormBody(r *Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

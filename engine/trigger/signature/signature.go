package signature

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Scheme names, the values of Config.Type.
const (
	TypeNone             = "none"
	TypeToken            = "token"
	TypeBasic            = "basic"
	TypeHMAC             = "hmac"
	TypeGitHub           = "github"
	TypeStripe           = "stripe"
	TypeSlack            = "slack"
	TypeShopify          = "shopify"
	TypeStandardWebhooks = "standard-webhooks"
	TypeTelegram         = "telegram"
	TypeHubSpotV3        = "hubspot-v3"
	TypeMeta             = "meta"
	TypeTwilio           = "twilio"
)

// Defaults applied when a Config field is empty.
const (
	// ToleranceDefault is how far a signed timestamp may be from now, in either direction.
	ToleranceDefault = 5 * time.Minute
	// AlgorithmDefault is the hash of the hmac scheme.
	AlgorithmDefault = "sha256"
	// EncodingDefault is the signature encoding of the hmac scheme.
	EncodingDefault = "hex"
)

// Request is what verification sees: the raw bytes exactly as received (never
// re-serialized JSON).
type Request struct {
	// Method is the HTTP method, such as POST.
	Method string
	// URL is the full public URL the sender signed (scheme://host/path?query), needed by
	// twilio and hubspot-v3 and read by token for its query parameter.
	URL string
	// Header holds the request headers.
	Header http.Header
	// Body is the raw body.
	Body []byte
	// Form holds the parsed application/x-www-form-urlencoded body parameters (twilio
	// signs them); nil otherwise. When nil, twilio parses a form body itself.
	Form url.Values
}

// Config is a workflow's trigger.webhook.auth plus the secrets from its connection.
type Config struct {
	// Type is the scheme: none | token | basic | hmac | github | stripe | slack | shopify |
	// standard-webhooks | telegram | hubspot-v3 | meta | twilio | bitrix24. Empty means none, the
	// workflow format's default.
	Type string
	// Header is, for token, the header carrying the token (or use Query); for hmac, the
	// header carrying the signature.
	Header string
	// Query is, for token, the query parameter carrying the token.
	Query string
	// Field is, for tilda, the form field carrying the API key (or use Header).
	Field string
	// Algorithm is the hmac hash: sha1 | sha256 (default) | sha512.
	Algorithm string
	// Encoding is the hmac signature encoding: hex (default) | base64.
	Encoding string
	// Prefix is the text before the signature (hmac, e.g. "sha256=") or before the token
	// (token, e.g. "Bearer ").
	Prefix string
	// Tolerance is how far the signed timestamp of stripe, slack, standard-webhooks and
	// hubspot-v3 may be from now, in the past or the future; ToleranceDefault when zero.
	Tolerance time.Duration
	// Secrets holds one or more secrets; with several (key rotation) any may match.
	Secrets []string
	// Username is the basic scheme's user name.
	Username string
	// Password is the basic scheme's password.
	Password string
}

// Error codes, the values of Error.Code.
const (
	// CodeMissingHeader: a header (or the token's query parameter) the scheme needs is absent.
	CodeMissingHeader = "missing_header"
	// CodeMalformed: a header is present but cannot be parsed or decoded.
	CodeMalformed = "malformed"
	// CodeMismatch: the signature, token or credentials do not match any secret.
	CodeMismatch = "mismatch"
	// CodeStaleTimestamp: the signed timestamp is outside the tolerance.
	CodeStaleTimestamp = "stale_timestamp"
	// CodeBadConfig: the configuration cannot verify anything (unknown type, no secret...).
	// It is the operator's fault, not the sender's; IsRejection reports false for it.
	CodeBadConfig = "bad_config"
)

// Error is the typed verdict of a failed verification. Reason is precise for the
// inspector (e.g. "missing header X-Hub-Signature-256", "signature mismatch",
// "timestamp too old (12m0s > 5m0s)") and never contains a secret, a received credential
// or an expected signature.
type Error struct {
	// Code classifies the failure: one of the Code* constants.
	Code string
	// Reason says what exactly failed, for people.
	Reason string
}

// Error returns the reason with the operation in front.
func (e *Error) Error() string {
	return "verify webhook request: " + e.Reason
}

// IsRejection reports whether err is a verification failure caused by the request
// (missing header, malformed value, mismatch, stale timestamp). It is false for nil, for
// a bad configuration (CodeBadConfig) and for other errors.
func IsRejection(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code != CodeBadConfig
}

func reject(code, format string, args ...any) *Error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

func missingHeader(name string) *Error {
	return reject(CodeMissingHeader, "missing header %s", name)
}

func malformed(header, detail string) *Error {
	return reject(CodeMalformed, "malformed %s header: %s", header, detail)
}

func mismatch() *Error {
	return &Error{Code: CodeMismatch, Reason: "signature mismatch"}
}

// scheme describes one Config.Type.
type scheme struct {
	name        string
	verify      func(c *Config, r *Request, now time.Time) *Error
	needsSecret bool   // verification needs Config.Secrets
	timestamped bool   // the scheme signs a timestamp checked against Tolerance
	dedupe      string // expression giving the delivery id, "" when there is none
	// optionalConnection: the workflow may name no connection, and then nothing is checked.
	optionalConnection bool
	// acceptedStatus is the status of the default answer to a stored request when the
	// sender wants another than 202.
	acceptedStatus int
	// probe recognises the sender's check of a new URL, answered 200 without a run.
	probe func(r *Request) bool
}

// schemes lists every scheme in the order Presets returns them.
var schemes = []scheme{
	{name: TypeNone, verify: verifyNone},
	{name: TypeToken, verify: verifyToken, needsSecret: true},
	{name: TypeBasic, verify: verifyBasic},
	{name: TypeHMAC, verify: verifyHMAC, needsSecret: true},
	{name: TypeGitHub, verify: verifyHubSignature, needsSecret: true, dedupe: "trigger.headers['x-github-delivery']"},
	{name: TypeStripe, verify: verifyStripe, needsSecret: true, timestamped: true},
	{name: TypeSlack, verify: verifySlack, needsSecret: true, timestamped: true},
	{name: TypeShopify, verify: verifyShopify, needsSecret: true,
		dedupe: "trigger.headers['x-shopify-event-id'] ?? trigger.headers['x-shopify-webhook-id']"},
	{name: TypeStandardWebhooks, verify: verifyStandardWebhooks, needsSecret: true, timestamped: true,
		dedupe: "trigger.headers['webhook-id'] ?? trigger.headers['svix-id']"},
	{name: TypeTelegram, verify: verifyTelegram, needsSecret: true, dedupe: "trigger.body.update_id"},
	{name: TypeHubSpotV3, verify: verifyHubSpotV3, needsSecret: true, timestamped: true},
	{name: TypeMeta, verify: verifyHubSignature, needsSecret: true},
	{name: TypeTwilio, verify: verifyTwilio, needsSecret: true},
	tildaScheme,
	{name: TypeBitrix24, verify: verifyBitrix24, needsSecret: true},
}

func lookup(typ string) (*scheme, bool) {
	if typ == "" {
		typ = TypeNone
	}
	for i := range schemes {
		if schemes[i].name == typ {
			return &schemes[i], true
		}
	}
	return nil, false
}

// Presets returns every type name, none, token, basic and hmac included, for validation
// and docs. The caller owns the returned slice.
func Presets() []string {
	out := make([]string, len(schemes))
	for i, s := range schemes {
		out[i] = s.name
	}
	return out
}

// DefaultDedupe returns the dedupe expression a type implies, so that workflows
// de-duplicate redeliveries by default: the delivery id header for github
// (X-GitHub-Delivery), standard-webhooks (webhook-id, or svix-id) and shopify
// (X-Shopify-Event-Id, or X-Shopify-Webhook-Id), the update_id for telegram, and "" for
// types without a delivery id.
func DefaultDedupe(typ string) string {
	if s, ok := lookup(typ); ok {
		return s.dedupe
	}
	return ""
}

// NeedsSecret reports whether a type verifies with Config.Secrets, that is whether the
// workflow must name a connection holding a secret. Basic needs Username and Password
// instead; use NeedsCredentials for both.
func NeedsSecret(typ string) bool {
	s, ok := lookup(typ)
	return ok && s.needsSecret
}

// NeedsCredentials reports whether a type needs anything from a connection: a secret, or
// for basic a user name and password.
func NeedsCredentials(typ string) bool {
	return typ == TypeBasic || NeedsSecret(typ)
}

// Timestamped reports whether a type signs a timestamp, so that Config.Tolerance applies.
func Timestamped(typ string) bool {
	s, ok := lookup(typ)
	return ok && s.timestamped
}

// ConnectionOptional reports whether a verifying type may go without a connection, in
// which case it checks nothing (tilda without an API key).
func ConnectionOptional(typ string) bool {
	s, ok := lookup(typ)
	return ok && s.optionalConnection
}

// AcceptedStatus returns the status a type's sender expects for a stored request (200 for
// tilda), or 0 for the default, 202.
func AcceptedStatus(typ string) int {
	if s, ok := lookup(typ); ok {
		return s.acceptedStatus
	}
	return 0
}

// IsProbe reports whether r is the sender's check of a new webhook URL (Tilda's
// test=test), which is answered 200 and starts no run. It is checked before Verify:
// senders send no credentials with it.
func IsProbe(typ string, r *Request) bool {
	s, ok := lookup(typ)
	return ok && s.probe != nil && r != nil && s.probe(r)
}

// Verify checks r against cfg at time now. It returns nil when the request is verified
// and an *Error otherwise.
func Verify(cfg Config, r *Request, now time.Time) error {
	s, ok := lookup(cfg.Type)
	if !ok {
		return reject(CodeBadConfig, "unknown type %q", cfg.Type)
	}
	if r == nil {
		return reject(CodeBadConfig, "no request to verify")
	}
	if s.needsSecret && !hasSecret(cfg.Secrets) {
		return reject(CodeBadConfig, "no secret configured for %s", s.name)
	}
	if cfg.Tolerance < 0 {
		return reject(CodeBadConfig, "negative tolerance")
	}
	cfg = cfg.WithDefaults()
	if e := s.verify(&cfg, r, now); e != nil {
		return e
	}
	return nil
}

// WithDefaults returns the config with its empty fields filled for its type: Algorithm
// (AlgorithmDefault) and Encoding (EncodingDefault) for hmac, Tolerance
// (ToleranceDefault) for the types that sign a timestamp. The result still passes
// ValidateSettings when the config did.
func (c Config) WithDefaults() Config {
	if c.Type == TypeHMAC {
		if c.Algorithm == "" {
			c.Algorithm = AlgorithmDefault
		}
		if c.Encoding == "" {
			c.Encoding = EncodingDefault
		}
	}
	if c.Tolerance == 0 && Timestamped(c.Type) {
		c.Tolerance = ToleranceDefault
	}
	return c
}

func hasSecret(secrets []string) bool {
	return slices.ContainsFunc(secrets, func(s string) bool { return s != "" })
}

// ValidateSettings checks everything in a config that a workflow holds, leaving out what
// comes from the connection (Secrets, Username, Password): the type, the fields the type
// needs, and that no field is set that the type ignores. `hookflow validate` can run it
// without resolving connections. The error names the fields.
func ValidateSettings(cfg Config) error {
	s, ok := lookup(cfg.Type)
	if !ok {
		return fmt.Errorf("type %q is not one of %s", cfg.Type, strings.Join(Presets(), ", "))
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch s.name {
	case TypeToken:
		if cfg.Header == "" && cfg.Query == "" {
			add("header or query is required for token")
		}
	case TypeHMAC:
		if cfg.Header == "" {
			add("header is required for hmac")
		}
		if _, ok := algorithms[cfg.Algorithm]; !ok && cfg.Algorithm != "" {
			add("algorithm %q is not one of sha1, sha256, sha512", cfg.Algorithm)
		}
		if cfg.Encoding != "" && cfg.Encoding != "hex" && cfg.Encoding != "base64" {
			add("encoding %q is not one of hex, base64", cfg.Encoding)
		}
	}
	if s.name == TypeTilda && cfg.Header != "" && cfg.Field != "" {
		add("tilda takes the api key from header or field, not both")
	}
	if cfg.Field != "" && s.name != TypeTilda {
		add("field is only used by tilda, not %s", s.name)
	}
	if s.name != TypeToken && s.name != TypeHMAC {
		if cfg.Header != "" && s.name != TypeTilda {
			add("header is only used by token, hmac and tilda, not %s", s.name)
		}
		if cfg.Prefix != "" {
			add("prefix is only used by token and hmac, not %s", s.name)
		}
	}
	if cfg.Header != "" && !validHeaderName(cfg.Header) {
		add("header %q is not a valid header name", cfg.Header)
	}
	if cfg.Query != "" && s.name != TypeToken {
		add("query is only used by token, not %s", s.name)
	}
	if s.name != TypeHMAC {
		if cfg.Algorithm != "" {
			add("algorithm is only used by hmac, not %s", s.name)
		}
		if cfg.Encoding != "" {
			add("encoding is only used by hmac, not %s", s.name)
		}
	}
	switch {
	case cfg.Tolerance < 0:
		add("tolerance must not be negative")
	case cfg.Tolerance > 0 && !s.timestamped:
		add("tolerance is only used by stripe, slack, standard-webhooks and hubspot-v3, not %s", s.name)
	}
	return errors.Join(errs...)
}

// ValidateConfig checks a config offline, as ValidateSettings does, and also the
// credentials: a secret for the types that need one (each secret non-empty, a valid
// whsec_ key for standard-webhooks, a valid secret_token for telegram), a user name and
// password for basic. It runs when a workflow is saved with its connection resolved. The
// error names the fields and never contains a secret.
func ValidateConfig(cfg Config) error {
	errs := []error{ValidateSettings(cfg)}
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s, ok := lookup(cfg.Type)
	if !ok {
		return errors.Join(errs...)
	}
	if s.name == TypeBasic {
		if cfg.Username == "" {
			add("username is required for basic")
		}
		if cfg.Password == "" {
			add("password is required for basic")
		}
	}
	if s.needsSecret || s.name == TypeTilda && (cfg.Header != "" || cfg.Field != "") {
		if len(cfg.Secrets) == 0 {
			add("secret is required for %s", s.name)
		}
		for i, sec := range cfg.Secrets {
			switch {
			case sec == "":
				add("secrets[%d] is empty", i)
			case s.name == TypeStandardWebhooks:
				if _, err := standardWebhooksKey(sec); err != nil {
					add("secrets[%d] is not a standard-webhooks key (whsec_ followed by base64)", i)
				}
			case s.name == TypeTelegram && !validTelegramToken(sec):
				add("secrets[%d] is not a telegram secret_token (1-256 characters of A-Z, a-z, 0-9, _ and -)", i)
			}
		}
	}
	return errors.Join(errs...)
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return name != ""
}

func validTelegramToken(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

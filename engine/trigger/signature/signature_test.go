package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testNow is the clock of the table tests.
var testNow = time.Unix(1700000000, 0)

// The helpers below sign requests the way each sender does, written independently of the
// package's code so that the tests cross-check it.

func testMAC(newHash func() hash.Hash, key, msg string) []byte {
	m := hmac.New(newHash, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hexMAC(newHash func() hash.Hash, key, msg string) string {
	return hex.EncodeToString(testMAC(newHash, key, msg))
}

func b64MAC(newHash func() hash.Hash, key, msg string) string {
	return base64.StdEncoding.EncodeToString(testMAC(newHash, key, msg))
}

func unix(ts time.Time) string { return strconv.FormatInt(ts.Unix(), 10) }

func newRequest(url, body string, kv ...string) *Request {
	r := &Request{Method: http.MethodPost, URL: url, Header: http.Header{}, Body: []byte(body)}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	return r
}

func stdKey(s string) string { return "whsec_" + base64.StdEncoding.EncodeToString([]byte(s)) }

// preset describes how a sender signs for one type, for the generic rejection tests.
type preset struct {
	cfg     Config    // without secrets
	secrets [3]string // the right secret, a wrong one, an older one for rotation
	sign    func(secret, body string, ts time.Time) *Request
	// required lists the headers whose absence is missing_header.
	required []string
	// malform spoils the request's signature header so that it no longer parses.
	malform func(r *Request)
	// signsBody and timestamped say which of the body and time tests apply.
	signsBody, timestamped bool
}

const hookURL = "https://hooks.example.com/hooks/7f3a9c?src=test"

var plainSecrets = [3]string{"right-secret-1234", "wrong-secret-5678", "older-secret-9012"}

func presets() map[string]preset {
	return map[string]preset{
		"none": {cfg: Config{Type: TypeNone}, sign: func(_, body string, _ time.Time) *Request {
			return newRequest(hookURL, body)
		}},
		"token-header": {
			cfg: Config{Type: TypeToken, Header: "X-Hook-Token"}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Hook-Token", secret)
			},
			required: []string{"X-Hook-Token"},
		},
		"token-prefix": {
			cfg: Config{Type: TypeToken, Header: "Authorization", Prefix: "Bearer "}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "Authorization", "Bearer "+secret)
			},
			required: []string{"Authorization"},
			malform:  func(r *Request) { r.Header.Set("Authorization", "Token abc") },
		},
		"tilda-header": {
			cfg: Config{Type: TypeTilda, Header: "X-Tilda-Api-Key"}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Tilda-Api-Key", secret)
			},
			required: []string{"X-Tilda-Api-Key"},
		},
		"token-query": {
			cfg: Config{Type: TypeToken, Query: "key"}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL+"&key="+url.QueryEscape(secret), body)
			},
		},
		"basic": {
			cfg: Config{Type: TypeBasic, Username: "hook-user"}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				cred := base64.StdEncoding.EncodeToString([]byte("hook-user:" + secret))
				return newRequest(hookURL, body, "Authorization", "Basic "+cred)
			},
			required: []string{"Authorization"},
			malform:  func(r *Request) { r.Header.Set("Authorization", "Basic !!!") },
		},
		"hmac": {
			cfg: Config{Type: TypeHMAC, Header: "X-Signature", Prefix: "sha256="}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Signature", "sha256="+hexMAC(sha256.New, secret, body))
			},
			required: []string{"X-Signature"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Signature", "sha256=zz") },
		},
		"hmac-sha1-base64": {
			cfg: Config{Type: TypeHMAC, Header: "X-Signature", Algorithm: "sha1", Encoding: "base64"}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Signature", b64MAC(sha1.New, secret, body))
			},
			required: []string{"X-Signature"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Signature", "***") },
		},
		"hmac-sha512": {
			cfg: Config{Type: TypeHMAC, Header: "X-Signature", Algorithm: "sha512"}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Signature", hexMAC(sha512.New, secret, body))
			},
			required: []string{"X-Signature"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Signature", hexMAC(sha256.New, "k", "m")) },
		},
		"github": {
			cfg: Config{Type: TypeGitHub}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body,
					"X-Hub-Signature-256", "sha256="+hexMAC(sha256.New, secret, body),
					"X-Hub-Signature", "sha1="+hexMAC(sha1.New, secret, body))
			},
			required: []string{"X-Hub-Signature-256"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Hub-Signature-256", "sha256=not-hex") },
		},
		"github-legacy-only": {
			cfg: Config{Type: TypeGitHub}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Hub-Signature", "sha1="+hexMAC(sha1.New, secret, body))
			},
			required: []string{"X-Hub-Signature"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Hub-Signature", "md5=abc") },
		},
		"meta": {
			cfg: Config{Type: TypeMeta}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Hub-Signature-256", "sha256="+hexMAC(sha256.New, secret, body))
			},
			required: []string{"X-Hub-Signature-256"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Hub-Signature-256", "757107ea") },
		},
		"stripe": {
			cfg: Config{Type: TypeStripe}, secrets: [3]string{"whsec_right", "whsec_wrong", "whsec_older"},
			sign: func(secret, body string, ts time.Time) *Request {
				return newRequest(hookURL, body, "Stripe-Signature",
					"t="+unix(ts)+",v1="+hexMAC(sha256.New, secret, unix(ts)+"."+body)+",v0="+strings.Repeat("0", 64))
			},
			required: []string{"Stripe-Signature"}, signsBody: true, timestamped: true,
			malform: func(r *Request) { r.Header.Set("Stripe-Signature", "garbage") },
		},
		"slack": {
			cfg: Config{Type: TypeSlack}, secrets: plainSecrets,
			sign: func(secret, body string, ts time.Time) *Request {
				return newRequest(hookURL, body, "X-Slack-Request-Timestamp", unix(ts),
					"X-Slack-Signature", "v0="+hexMAC(sha256.New, secret, "v0:"+unix(ts)+":"+body))
			},
			required: []string{"X-Slack-Signature", "X-Slack-Request-Timestamp"}, signsBody: true, timestamped: true,
			malform: func(r *Request) { r.Header.Set("X-Slack-Signature", "v1=abc") },
		},
		"shopify": {
			cfg: Config{Type: TypeShopify}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Shopify-Hmac-Sha256", b64MAC(sha256.New, secret, body))
			},
			required: []string{"X-Shopify-Hmac-Sha256"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Shopify-Hmac-Sha256", "@@@") },
		},
		"standard-webhooks": {
			cfg:     Config{Type: TypeStandardWebhooks},
			secrets: [3]string{stdKey("right-key-0123456789abcdef"), stdKey("wrong-key-0123456789abcdef"), stdKey("older-key-0123456789abcdef")},
			sign: func(secret, body string, ts time.Time) *Request {
				key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
				sig := b64MAC(sha256.New, string(key), "msg_2x."+unix(ts)+"."+body)
				return newRequest(hookURL, body, "webhook-id", "msg_2x", "webhook-timestamp", unix(ts), "webhook-signature", "v1,"+sig)
			},
			required: []string{"webhook-id", "webhook-timestamp", "webhook-signature"}, signsBody: true, timestamped: true,
			malform: func(r *Request) { r.Header.Set("webhook-signature", "v1,%%%") },
		},
		"telegram": {
			cfg: Config{Type: TypeTelegram}, secrets: [3]string{"Right_token-1", "Wrong_token-2", "Older_token-3"},
			sign: func(secret, body string, _ time.Time) *Request {
				return newRequest(hookURL, body, "X-Telegram-Bot-Api-Secret-Token", secret)
			},
			required: []string{"X-Telegram-Bot-Api-Secret-Token"},
		},
		"bitrix24": {
			cfg: Config{Type: TypeBitrix24}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				form := "event=ONCRMLEADADD&data%5BFIELDS%5D%5BID%5D=7&" + body + "&auth%5Bapplication_token%5D=" + url.QueryEscape(secret)
				return newRequest(hookURL, form, "Content-Type", "application/x-www-form-urlencoded")
			},
			malform: func(r *Request) { r.Body = append(r.Body, "&%zz"...) },
		},
		"hubspot-v3": {
			cfg: Config{Type: TypeHubSpotV3}, secrets: plainSecrets,
			sign: func(secret, body string, ts time.Time) *Request {
				ms := strconv.FormatInt(ts.UnixMilli(), 10)
				return newRequest(hookURL, body, "X-HubSpot-Request-Timestamp", ms,
					"X-HubSpot-Signature-v3", b64MAC(sha256.New, secret, "POST"+hookURL+body+ms))
			},
			required: []string{"X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp"}, signsBody: true, timestamped: true,
			malform: func(r *Request) { r.Header.Set("X-HubSpot-Request-Timestamp", "1.7e12") },
		},
		"twilio-form": {
			cfg: Config{Type: TypeTwilio}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				// The body is a form here: its parameters are signed, read from the body
				// since Request.Form is left nil.
				form, _ := url.ParseQuery(body)
				keys := make([]string, 0, len(form))
				for k := range form {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				s := hookURL
				for _, k := range keys {
					s += k + form.Get(k)
				}
				return newRequest(hookURL, body, "Content-Type", "application/x-www-form-urlencoded",
					"X-Twilio-Signature", b64MAC(sha1.New, secret, s))
			},
			required: []string{"X-Twilio-Signature"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Twilio-Signature", "c2hvcnQ=") },
		},
		"twilio-json": {
			cfg: Config{Type: TypeTwilio}, secrets: plainSecrets,
			sign: func(secret, body string, _ time.Time) *Request {
				sum := sha256.Sum256([]byte(body))
				u := hookURL + "&bodySHA256=" + hex.EncodeToString(sum[:])
				r := newRequest(u, body, "Content-Type", "application/json",
					"X-Twilio-Signature", b64MAC(sha1.New, secret, u))
				return r
			},
			required: []string{"X-Twilio-Signature"}, signsBody: true,
			malform: func(r *Request) { r.Header.Set("X-Twilio-Signature", "not base64!") },
		},
	}
}

// testBody is a form so that twilio-form signs its parameters; other presets sign it raw.
const testBody = "CallSid=CA1&From=%2B14158675310&Body=Hello+world"

func withSecrets(cfg Config, secrets ...string) Config {
	cfg.Secrets = secrets
	if cfg.Type == TypeBasic {
		cfg.Password = secrets[0]
		cfg.Secrets = nil
	}
	return cfg
}

// requireCode checks that err is an *Error with the code, whose text holds no secret.
func requireCode(t *testing.T, err error, code string, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	var e *Error
	require.True(t, errors.As(err, &e), "%T is not *Error", err)
	require.Equal(t, code, e.Code, e.Reason)
	require.NotEmpty(t, e.Reason)
	for _, s := range secrets {
		require.NotContains(t, e.Reason, s, "reasons never contain a secret")
	}
}

// TestPresetRejections runs the same attacks against every type: each is refused with
// the right code, and a signature by any configured secret passes.
func TestPresetRejections(t *testing.T) {
	t.Parallel()
	for name, p := range presets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			right, wrong, older := p.secrets[0], p.secrets[1], p.secrets[2]
			cfg := withSecrets(p.cfg, right)
			secrets := []string{right, wrong, older}
			if p.cfg.Type == TypeNone {
				require.NoError(t, Verify(cfg, p.sign("", testBody, testNow), testNow))
				require.NoError(t, Verify(cfg, newRequest("", ""), testNow))
				return
			}

			t.Run("valid", func(t *testing.T) {
				t.Parallel()
				require.NoError(t, Verify(cfg, p.sign(right, testBody, testNow), testNow))
			})
			t.Run("wrong secret", func(t *testing.T) {
				t.Parallel()
				requireCode(t, Verify(cfg, p.sign(wrong, testBody, testNow), testNow), CodeMismatch, secrets...)
			})
			t.Run("tampered body", func(t *testing.T) {
				t.Parallel()
				r := p.sign(right, testBody, testNow)
				r.Body = []byte(strings.Replace(testBody, "Hello", "Hallo", 1))
				if p.cfg.Type == TypeBitrix24 {
					// The token travels in the body, next to the fields it does not sign.
					r.Body = []byte(strings.Replace(string(p.sign(right, testBody, testNow).Body), "Hello", "Hallo", 1))
				}
				err := Verify(cfg, r, testNow)
				if !p.signsBody {
					require.NoError(t, err, "this scheme does not sign the body")
					return
				}
				requireCode(t, err, CodeMismatch, secrets...)
			})
			t.Run("rotation", func(t *testing.T) {
				t.Parallel()
				if p.cfg.Type == TypeBasic {
					t.Skip("basic has one user name and password")
				}
				both := withSecrets(p.cfg, older, right)
				require.NoError(t, Verify(both, p.sign(right, testBody, testNow), testNow), "the second secret matches")
				require.NoError(t, Verify(both, p.sign(older, testBody, testNow), testNow), "the first secret matches")
				requireCode(t, Verify(both, p.sign(wrong, testBody, testNow), testNow), CodeMismatch, secrets...)
				withEmpty := withSecrets(p.cfg, "", right)
				require.NoError(t, Verify(withEmpty, p.sign(right, testBody, testNow), testNow), "empty secrets are skipped")
			})
			t.Run("timestamps", func(t *testing.T) {
				t.Parallel()
				for _, d := range []time.Duration{-4 * time.Minute, 4 * time.Minute, -10 * time.Minute, 10 * time.Minute, -48 * time.Hour, 365 * 24 * time.Hour} {
					err := Verify(cfg, p.sign(right, testBody, testNow.Add(d)), testNow)
					if !p.timestamped || d.Abs() < ToleranceDefault {
						require.NoError(t, err, "signed %s from now", d)
						continue
					}
					requireCode(t, err, CodeStaleTimestamp, secrets...)
					if d < 0 {
						require.Contains(t, err.Error(), "timestamp too old ("+(-d).String()+" > 5m0s)")
					} else {
						require.Contains(t, err.Error(), "timestamp too far in the future ("+d.String()+" > 5m0s)")
					}
				}
				if p.timestamped {
					long := cfg
					long.Tolerance = time.Hour
					require.NoError(t, Verify(long, p.sign(right, testBody, testNow.Add(-50*time.Minute)), testNow))
				}
			})
			t.Run("missing header", func(t *testing.T) {
				t.Parallel()
				for _, h := range p.required {
					r := p.sign(right, testBody, testNow)
					r.Header.Del(h)
					if name == "github" && h == "X-Hub-Signature-256" {
						require.NoError(t, Verify(cfg, r, testNow), "the legacy header is checked when the new one is absent")
						r.Header.Del("X-Hub-Signature")
						h = "X-Hub-Signature-256"
					}
					if name == "github-legacy-only" {
						h = "X-Hub-Signature-256" // the reason names the current header
					}
					err := Verify(cfg, r, testNow)
					requireCode(t, err, CodeMissingHeader, secrets...)
					require.Contains(t, err.Error(), "missing header "+h)
				}
				r := p.sign(right, testBody, testNow)
				r.Header = nil
				err := Verify(cfg, r, testNow)
				if p.cfg.Type == TypeToken && p.cfg.Query != "" {
					require.NoError(t, err, "the token is in the query")
					return
				}
				if p.cfg.Type == TypeBitrix24 {
					require.NoError(t, err, "the token is in the body")
					return
				}
				requireCode(t, err, CodeMissingHeader, secrets...)
			})
			t.Run("malformed header", func(t *testing.T) {
				t.Parallel()
				if p.malform == nil {
					t.Skip("any value of this scheme's header is well-formed")
				}
				r := p.sign(right, testBody, testNow)
				p.malform(r)
				requireCode(t, Verify(cfg, r, testNow), CodeMalformed, secrets...)
			})
			t.Run("no secret", func(t *testing.T) {
				t.Parallel()
				err := Verify(withSecrets(p.cfg, ""), p.sign(right, testBody, testNow), testNow)
				requireCode(t, err, CodeBadConfig)
				require.False(t, IsRejection(err))
			})
		})
	}
}

// TestVectors repeats the services.md §7 vectors as a plain table, next to the golden
// files, with literal expected values.
func TestVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		req  *Request
		now  time.Time
	}{
		{"1 github sha256", Config{Type: TypeGitHub, Secrets: []string{"It's a Secret to Everybody"}},
			newRequest(hookURL, "Hello, World!", "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"), testNow},
		{"2 github sha1", Config{Type: TypeGitHub, Secrets: []string{"It's a Secret to Everybody"}},
			newRequest(hookURL, "Hello, World!", "X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"), testNow},
		{"3 stripe", Config{Type: TypeStripe, Secrets: []string{"whsec_test_secret"}},
			newRequest(hookURL, `{"id":"evt_test","object":"event"}`, "Stripe-Signature", "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"), time.Unix(1700000000, 0)},
		{"4 slack docs", Config{Type: TypeSlack, Secrets: []string{"8f742231b10e8888abcd99yyyzzz85a5"}},
			newRequest(hookURL, "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"+
				"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="+
				"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"+
				"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
				"X-Slack-Request-Timestamp", "1531420618", "X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
			time.Unix(1531420618, 0)},
		{"5 slack short", Config{Type: TypeSlack, Secrets: []string{"slack_secret"}},
			newRequest(hookURL, `{"ok":true}`, "X-Slack-Request-Timestamp", "1700000000", "X-Slack-Signature", "v0=2b7d09f48ac2b4cecfd8e85fd997d500fd34112bc02ba7d701c8199a1a89cb88"), testNow},
		{"6 shopify", Config{Type: TypeShopify, Secrets: []string{"shpss_test_secret"}},
			newRequest(hookURL, `{"id":820982911946154508,"email":"jon@example.com"}`, "X-Shopify-Hmac-Sha256", "LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc="), testNow},
		{"7 standard webhooks spec", Config{Type: TypeStandardWebhooks, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
			newRequest(hookURL, `{"test": 2432232314}`, "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), time.Unix(1614265330, 0)},
		{"8 standard webhooks ours", Config{Type: TypeStandardWebhooks, Secrets: []string{"whsec_ZW5naW5lLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmNkZWY="}},
			newRequest(hookURL, `{"type":"lead.created","data":{"id":42}}`, "webhook-id", "msg_01", "webhook-timestamp", "1700000000",
				"webhook-signature", "v1,hATiaChNAuYO12R+tqYf+/Isiyj0aoTaZlLV9HLnlOE="), testNow},
		{"9 meta", Config{Type: TypeMeta, Secrets: []string{"meta_app_secret"}},
			newRequest(hookURL, `{"object":"page","entry":[]}`, "X-Hub-Signature-256", "sha256=7737c8c2c205014576d41d33bf51e33b58a44d48700b5820ea9397d612e36dd1"), testNow},
		{"10 twilio form", Config{Type: TypeTwilio, Secrets: []string{"12345"}},
			&Request{Method: "POST", URL: "https://mycompany.com/myapp.php?foo=1&bar=2",
				Header: http.Header{"X-Twilio-Signature": {"GvWf1cFY/Q7PnoempGyD5oXAezc="}},
				Form: url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
					"From": {"+14158675310"}, "To": {"+18005551212"}}}, testNow},
		{"11 twilio json", Config{Type: TypeTwilio, Secrets: []string{"12345"}},
			newRequest("https://example.com/hook?bodySHA256=015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862", `{"a":1}`,
				"Content-Type", "application/json", "X-Twilio-Signature", "2e7mH/NA6FwzvUqLZxhsETU/4bw="), testNow},
		{"12 telegram", Config{Type: TypeTelegram, Secrets: []string{"tg_Secret-123"}},
			newRequest(hookURL, `{"update_id":1}`, "X-Telegram-Bot-Api-Secret-Token", "tg_Secret-123"), testNow},
		{"13 hubspot v3", Config{Type: TypeHubSpotV3, Secrets: []string{"hubspot-client-secret"}},
			newRequest("https://example.com/webhooks/hubspot?portal=1", `[{"eventId":1,"subscriptionType":"contact.creation","objectId":123}]`,
				"X-HubSpot-Request-Timestamp", "1700000000000", "X-HubSpot-Signature-v3", "Kfbtr0h1ZQLItVxjOfdycFKEy1Kijx9EbrULSsSRmII="), testNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, ValidateConfig(tt.cfg))
			require.NoError(t, Verify(tt.cfg, tt.req, tt.now))
			// The same request under another secret is a mismatch whose reason holds
			// neither secret.
			other := tt.cfg
			other.Secrets = []string{"whsec_b3RoZXIta2V5"}
			requireCode(t, Verify(other, tt.req, tt.now), CodeMismatch, tt.cfg.Secrets[0], other.Secrets[0])
		})
	}
}

func TestStandardWebhooksSeveralSignatures(t *testing.T) {
	t.Parallel()
	p := presets()["standard-webhooks"]
	right, wrong := p.secrets[0], p.secrets[1]
	good := p.sign(right, testBody, testNow).Header.Get("webhook-signature")
	bad := p.sign(wrong, testBody, testNow).Header.Get("webhook-signature")
	cfg := withSecrets(p.cfg, right)
	for _, list := range []string{
		bad + " " + good,
		good + " " + bad,
		"v1a,bm90LWNoZWNrZWQ= " + bad + " " + good + " v2,whatever",
		"  " + good + "  ",
		"v1,not*base64 " + good,
	} {
		r := p.sign(right, testBody, testNow)
		r.Header.Set("webhook-signature", list)
		require.NoError(t, Verify(cfg, r, testNow), list)
	}
	r := p.sign(right, testBody, testNow)
	r.Header.Set("webhook-signature", bad+" "+bad)
	requireCode(t, Verify(cfg, r, testNow), CodeMismatch)
	r.Header.Set("webhook-signature", "v1a,bm90LWNoZWNrZWQ=")
	requireCode(t, Verify(cfg, r, testNow), CodeMalformed)
	r.Header.Set("webhook-signature", "v1,c2hvcnQ=")
	requireCode(t, Verify(cfg, r, testNow), CodeMalformed)
}

func TestStripeSeveralSignatures(t *testing.T) {
	t.Parallel()
	p := presets()["stripe"]
	right := p.secrets[0]
	cfg := withSecrets(p.cfg, right)
	ts := unix(testNow)
	good := hexMAC(sha256.New, right, ts+"."+testBody)
	for _, h := range []string{
		"t=" + ts + ",v1=" + strings.Repeat("ab", 32) + ",v1=" + good,
		"v1=" + good + ",t=" + ts,
		"t=" + ts + ", v1=" + good + ", v0=" + good,
		"t=" + ts + ",v1=nothex,v1=" + good,
		"t=" + ts + ",v1=" + strings.ToUpper(good),
	} {
		r := newRequest(hookURL, testBody, "Stripe-Signature", h)
		require.NoError(t, Verify(cfg, r, testNow), h)
	}
	for h, reason := range map[string]string{
		"t=" + ts + ",t=" + ts + ",v1=" + good:   "more than one timestamp",
		"t=,v1=" + good:                          "empty timestamp",
		"t=" + ts + ",v1=abc":                    "no v1 signature is 32 bytes of hex",
		"t=" + ts + ",v0=" + good:                "no v1 signature",
		"t=" + ts + ",v1=" + good + ",":          "item without =",
		"t=x" + ts + ",v1=" + good:               "timestamp is not a decimal unix time",
		"t=-1,v1=" + good:                        "timestamp out of range",
		"t=99999999999999,v1=" + good:            "timestamp out of range",
		"t=9999999999999999999999,v1=" + good:    "timestamp is not a decimal unix time",
		"t=" + ts + ",v1=" + good + ",v1" + good: "item without =",
	} {
		r := newRequest(hookURL, testBody, "Stripe-Signature", h)
		err := Verify(cfg, r, testNow)
		requireCode(t, err, CodeMalformed)
		require.Equal(t, "malformed Stripe-Signature header: "+reason, err.(*Error).Reason, h)
	}
}

func TestTwilio(t *testing.T) {
	t.Parallel()
	const token = "12345"
	cfg := Config{Type: TypeTwilio, Secrets: []string{token}}
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
		"From": {"+14158675310"}, "To": {"+18005551212"}}
	const sig = "GvWf1cFY/Q7PnoempGyD5oXAezc="

	t.Run("form from Request.Form", func(t *testing.T) {
		t.Parallel()
		r := &Request{Method: "POST", URL: u, Header: http.Header{"X-Twilio-Signature": {sig}}, Form: form}
		require.NoError(t, Verify(cfg, r, testNow))
	})
	t.Run("form parsed from the body", func(t *testing.T) {
		t.Parallel()
		r := newRequest(u, form.Encode(), "Content-Type", "application/x-www-form-urlencoded; charset=utf-8", "X-Twilio-Signature", sig)
		require.NoError(t, Verify(cfg, r, testNow))
	})
	t.Run("Request.Form wins over the body", func(t *testing.T) {
		t.Parallel()
		r := newRequest(u, "Digits=0000", "Content-Type", "application/x-www-form-urlencoded", "X-Twilio-Signature", sig)
		r.Form = form
		require.NoError(t, Verify(cfg, r, testNow))
	})
	t.Run("form body not declared as a form is not signed", func(t *testing.T) {
		t.Parallel()
		r := newRequest(u, form.Encode(), "Content-Type", "text/plain", "X-Twilio-Signature", sig)
		requireCode(t, Verify(cfg, r, testNow), CodeMismatch)
	})
	t.Run("GET signs the URL only", func(t *testing.T) {
		t.Parallel()
		get := "https://example.com/voice?CallSid=CA1&From=%2B1555"
		r := newRequest(get, "", "X-Twilio-Signature", b64MAC(sha1.New, token, get))
		r.Method = http.MethodGet
		require.NoError(t, Verify(cfg, r, testNow))
	})
	t.Run("repeated keys sorted by value", func(t *testing.T) {
		t.Parallel()
		f := url.Values{"b": {"2", "1"}, "a": {"x"}}
		r := &Request{Method: "POST", URL: u, Header: http.Header{
			"X-Twilio-Signature": {b64MAC(sha1.New, token, u+"ax"+"b1"+"b2")}}, Form: f}
		require.NoError(t, Verify(cfg, r, testNow))
	})
	t.Run("default port", func(t *testing.T) {
		t.Parallel()
		for signed, received := range map[string]string{
			"https://example.com/h":         "https://example.com:443/h",
			"https://example.com:443/h":     "https://example.com/h",
			"http://example.com/h?x=1":      "http://example.com:80/h?x=1",
			"https://[2001:db8::1]:443/h":   "https://[2001:db8::1]/h",
			"https://[2001:db8::1]/h?q=%2F": "https://[2001:db8::1]:443/h?q=%2F",
		} {
			r := newRequest(received, "", "X-Twilio-Signature", b64MAC(sha1.New, token, signed))
			require.NoError(t, Verify(cfg, r, testNow), "signed %s, received %s", signed, received)
		}
		r := newRequest("https://example.com:8443/h", "", "X-Twilio-Signature", b64MAC(sha1.New, token, "https://example.com/h"))
		requireCode(t, Verify(cfg, r, testNow), CodeMismatch)
	})
	t.Run("bodySHA256", func(t *testing.T) {
		t.Parallel()
		body := `{"a":1}`
		sum := sha256.Sum256([]byte(body))
		signed := "https://example.com/hook?bodySHA256=" + hex.EncodeToString(sum[:])
		r := newRequest(signed, body, "X-Twilio-Signature", b64MAC(sha1.New, token, signed))
		require.NoError(t, Verify(cfg, r, testNow))

		r.Body = []byte(`{"a":1} `)
		err := Verify(cfg, r, testNow)
		requireCode(t, err, CodeMismatch)
		require.Equal(t, "body does not match bodySHA256", err.(*Error).Reason)

		bad := "https://example.com/hook?bodySHA256=xyz"
		r = newRequest(bad, body, "X-Twilio-Signature", b64MAC(sha1.New, token, bad))
		requireCode(t, Verify(cfg, r, testNow), CodeMalformed)
	})
	t.Run("no URL", func(t *testing.T) {
		t.Parallel()
		r := newRequest("", "", "X-Twilio-Signature", sig)
		requireCode(t, Verify(cfg, r, testNow), CodeBadConfig)
	})
	t.Run("unparsable URL", func(t *testing.T) {
		t.Parallel()
		r := newRequest("https://exa mple.com/%zz", "", "X-Twilio-Signature", sig)
		requireCode(t, Verify(cfg, r, testNow), CodeMalformed)
	})
}

func TestHubSpotURI(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://example.com/a?b=1":                       "https://example.com/a?b=1",
		"https://example.com/a%3Ab%2fc%3F%40%21%24%27%28": "https://example.com/a:b/c?@!$'(",
		"https://example.com/%29%2A%2C%3B%2c%3b":          "https://example.com/)*,;,;",
		"https://example.com/%20%C3%B6%25%3D%26":          "https://example.com/%20%C3%B6%25%3D%26",
		"https://example.com/%3":                          "https://example.com/%3",
		"https://example.com/%":                           "https://example.com/%",
		"%3A%2F":                                          ":/",
		"%%3A":                                            "%:",
	} {
		require.Equal(t, want, hubspotURI(raw), raw)
	}
}

func TestHubSpotNoURL(t *testing.T) {
	t.Parallel()
	r := newRequest("", "{}", "X-HubSpot-Signature-v3", "abc", "X-HubSpot-Request-Timestamp", "1700000000000")
	requireCode(t, Verify(Config{Type: TypeHubSpotV3, Secrets: []string{"s"}}, r, testNow), CodeBadConfig)
}

func TestToken(t *testing.T) {
	t.Parallel()
	cfg := Config{Type: TypeToken, Header: "X-Token", Query: "token", Secrets: []string{"tok-a", "tok-b"}}
	for _, r := range []*Request{
		newRequest(hookURL, "", "X-Token", "tok-a"),
		newRequest(hookURL, "", "X-Token", " tok-b "),
		newRequest(hookURL+"&token=tok-b", ""),
		newRequest(hookURL+"&token=tok-a", "", "X-Token", ""),
	} {
		require.NoError(t, Verify(cfg, r, testNow), "%s %v", r.URL, r.Header)
	}
	// The header wins: a valid query token does not rescue a wrong header token.
	requireCode(t, Verify(cfg, newRequest(hookURL+"&token=tok-a", "", "X-Token", "nope"), testNow), CodeMismatch, "tok-a", "tok-b")
	requireCode(t, Verify(cfg, newRequest(hookURL, "", "X-Token", "tok-"), testNow), CodeMismatch, "tok-a", "tok-b")
	requireCode(t, Verify(cfg, newRequest(hookURL, "", "X-Token", "tok-a-and-more"), testNow), CodeMismatch)
	requireCode(t, Verify(Config{Type: TypeToken, Query: "k", Secrets: []string{"s"}}, newRequest("http://[::1", ""), testNow), CodeMalformed)
	requireCode(t, Verify(Config{Type: TypeToken, Secrets: []string{"s"}}, newRequest(hookURL, ""), testNow), CodeBadConfig)
	err := Verify(Config{Type: TypeToken, Query: "k", Secrets: []string{"s"}}, newRequest(hookURL, ""), testNow)
	requireCode(t, err, CodeMissingHeader)
	require.Equal(t, "missing query parameter k", err.(*Error).Reason)
}

func TestBasic(t *testing.T) {
	t.Parallel()
	cfg := Config{Type: TypeBasic, Username: "user", Password: "p:a:ss"}
	basic := func(s string) *Request {
		return newRequest(hookURL, "", "Authorization", s)
	}
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	require.NoError(t, Verify(cfg, basic("Basic "+enc("user:p:a:ss")), testNow))
	require.NoError(t, Verify(cfg, basic("basic  "+enc("user:p:a:ss")), testNow))
	requireCode(t, Verify(cfg, basic("Basic "+enc("User:p:a:ss")), testNow), CodeMismatch, "p:a:ss")
	requireCode(t, Verify(cfg, basic("Basic "+enc("user:p:a:s")), testNow), CodeMismatch, "p:a:ss")
	requireCode(t, Verify(cfg, basic("Basic "+enc("user")), testNow), CodeMalformed)
	requireCode(t, Verify(cfg, basic("Basic"), testNow), CodeMalformed)
	requireCode(t, Verify(Config{Type: TypeBasic, Username: "user"}, basic("Basic "+enc("user:")), testNow), CodeBadConfig)
}

func TestVerifyConfigErrors(t *testing.T) {
	t.Parallel()
	r := newRequest(hookURL, "{}", "X-Signature", "00")
	for _, tt := range []struct {
		cfg    Config
		reason string
	}{
		{Config{Type: "GitHub", Secrets: []string{"s"}}, `unknown type "GitHub"`},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}}, "no header configured for hmac"},
		{Config{Type: TypeHMAC, Header: "X-Signature", Algorithm: "md5", Secrets: []string{"s"}}, `unsupported algorithm "md5"`},
		{Config{Type: TypeHMAC, Header: "X-Signature", Encoding: "base32", Secrets: []string{"s"}}, `unsupported encoding "base32"`},
		{Config{Type: TypeStripe, Secrets: []string{"", ""}}, "no secret configured for stripe"},
		{Config{Type: TypeSlack, Secrets: []string{"s"}, Tolerance: -time.Second}, "negative tolerance"},
	} {
		err := Verify(tt.cfg, r, testNow)
		requireCode(t, err, CodeBadConfig)
		require.Equal(t, tt.reason, err.(*Error).Reason)
		require.False(t, IsRejection(err))
	}
	requireCode(t, Verify(Config{Type: TypeNone}, nil, testNow), CodeBadConfig)
	require.NoError(t, Verify(Config{}, newRequest("", ""), testNow), "an empty type is none")
}

func TestErrorAndIsRejection(t *testing.T) {
	t.Parallel()
	err := Verify(Config{Type: TypeGitHub, Secrets: []string{"s"}}, newRequest(hookURL, "{}"), testNow)
	require.EqualError(t, err, "verify webhook request: missing header X-Hub-Signature-256")
	require.True(t, IsRejection(err))
	require.True(t, IsRejection(fmt.Errorf("ingest: %w", err)))
	require.False(t, IsRejection(nil))
	require.False(t, IsRejection(errors.New("verify webhook request: signature mismatch")))
	require.False(t, IsRejection(&Error{Code: CodeBadConfig, Reason: "x"}))
	for _, code := range []string{CodeMissingHeader, CodeMalformed, CodeMismatch, CodeStaleTimestamp} {
		require.True(t, IsRejection(&Error{Code: code}))
	}
}

func TestRoundAge(t *testing.T) {
	t.Parallel()
	tol := 5 * time.Minute
	require.Equal(t, 12*time.Minute, roundAge(12*time.Minute+400*time.Millisecond, tol))
	require.Equal(t, tol+time.Millisecond, roundAge(tol+time.Millisecond+200*time.Microsecond, tol))
	err := checkFresh(testNow.Add(-tol-300*time.Millisecond), testNow, tol)
	require.Equal(t, "timestamp too old (5m0.3s > 5m0s)", err.Reason)
	require.Nil(t, checkFresh(testNow.Add(-tol), testNow, tol), "exactly the tolerance is accepted")
	require.Nil(t, checkFresh(testNow.Add(tol), testNow, tol))
}

func TestPresets(t *testing.T) {
	t.Parallel()
	want := []string{"none", "token", "basic", "hmac", "github", "stripe", "slack", "shopify",
		"standard-webhooks", "telegram", "hubspot-v3", "meta", "twilio", "tilda", "bitrix24"}
	require.Equal(t, want, Presets())
	p := Presets()
	p[0] = "changed"
	require.Equal(t, "none", Presets()[0], "callers get a copy")

	tested := presets()
	for _, typ := range want {
		found := false
		for name := range tested {
			found = found || name == typ || strings.HasPrefix(name, typ+"-")
		}
		require.True(t, found, "TestPresetRejections covers %s", typ)
	}
}

func TestDefaultDedupe(t *testing.T) {
	t.Parallel()
	require.Equal(t, "trigger.headers['x-github-delivery']", DefaultDedupe("github"))
	require.Equal(t, "trigger.headers['webhook-id'] ?? trigger.headers['svix-id']", DefaultDedupe("standard-webhooks"))
	require.Equal(t, "trigger.headers['x-shopify-event-id'] ?? trigger.headers['x-shopify-webhook-id']", DefaultDedupe("shopify"))
	require.Equal(t, "trigger.body.update_id", DefaultDedupe("telegram"))
	require.Equal(t, "trigger.body.tranid", DefaultDedupe("tilda"))
	for _, typ := range []string{"", "none", "token", "basic", "hmac", "stripe", "slack", "hubspot-v3", "meta", "twilio", "bitrix24", "unknown"} {
		require.Empty(t, DefaultDedupe(typ), typ)
	}
}

func TestNeedsSecret(t *testing.T) {
	t.Parallel()
	for _, typ := range Presets() {
		switch typ {
		case TypeNone, TypeTilda:
			require.False(t, NeedsSecret(typ))
			require.False(t, NeedsCredentials(typ))
		case TypeBasic:
			require.False(t, NeedsSecret(typ))
			require.True(t, NeedsCredentials(typ))
		default:
			require.True(t, NeedsSecret(typ), typ)
			require.True(t, NeedsCredentials(typ), typ)
		}
		want := typ == TypeStripe || typ == TypeSlack || typ == TypeStandardWebhooks || typ == TypeHubSpotV3
		require.Equal(t, want, Timestamped(typ), typ)
	}
	require.False(t, NeedsSecret("unknown"))
	require.False(t, Timestamped("unknown"))
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	sec := []string{"a-secret"}
	for _, cfg := range []Config{
		{},
		{Type: TypeNone},
		{Type: TypeToken, Header: "X-Token", Secrets: sec},
		{Type: TypeToken, Query: "key", Secrets: sec},
		{Type: TypeToken, Header: "Authorization", Prefix: "Bearer ", Secrets: sec},
		{Type: TypeBasic, Username: "u", Password: "p"},
		{Type: TypeHMAC, Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Prefix: "sha512=", Secrets: sec},
		{Type: TypeGitHub, Secrets: []string{"a", "b"}},
		{Type: TypeStripe, Tolerance: 10 * time.Minute, Secrets: sec},
		{Type: TypeStandardWebhooks, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		{Type: TypeTelegram, Secrets: []string{"tg_Secret-123"}},
		{Type: TypeHubSpotV3, Secrets: sec},
		{Type: TypeTwilio, Secrets: sec, Username: "ignored", Password: "ignored"},
		{Type: TypeBitrix24, Secrets: []string{"51856fefc120afa4b628cc82d3935cce"}},
	} {
		require.NoError(t, ValidateConfig(cfg), "%+v", cfg)
	}

	for _, tt := range []struct {
		cfg  Config
		want []string
	}{
		{Config{Type: "gitlab"}, []string{`type "gitlab" is not one of none, token, basic, hmac, github, stripe, slack, shopify, standard-webhooks, telegram, hubspot-v3, meta, twilio, tilda, bitrix24`}},
		{Config{Type: TypeHMAC, Secrets: sec}, []string{"header is required for hmac"}},
		{Config{Type: TypeHMAC, Header: "X-Sig", Algorithm: "md5", Encoding: "base32", Secrets: sec},
			[]string{`algorithm "md5" is not one of sha1, sha256, sha512`, `encoding "base32" is not one of hex, base64`}},
		{Config{Type: TypeToken, Secrets: sec}, []string{"header or query is required for token"}},
		{Config{Type: TypeToken, Header: "X Token", Secrets: sec}, []string{`header "X Token" is not a valid header name`}},
		{Config{Type: TypeGitHub}, []string{"secret is required for github"}},
		{Config{Type: TypeGitHub, Secrets: []string{"a", ""}}, []string{"secrets[1] is empty"}},
		{Config{Type: TypeGitHub, Header: "X-Sig", Prefix: "sha256=", Algorithm: "sha1", Encoding: "hex", Query: "q", Secrets: sec},
			[]string{"header is only used by token, hmac and tilda, not github", "prefix is only used by token and hmac, not github",
				"algorithm is only used by hmac, not github", "encoding is only used by hmac, not github", "query is only used by token, not github"}},
		{Config{Type: TypeGitHub, Tolerance: time.Minute, Secrets: sec}, []string{"tolerance is only used by stripe, slack, standard-webhooks and hubspot-v3, not github"}},
		{Config{Type: TypeSlack, Tolerance: -time.Minute, Secrets: sec}, []string{"tolerance must not be negative"}},
		{Config{Type: TypeBasic}, []string{"username is required for basic", "password is required for basic"}},
		{Config{Type: TypeStandardWebhooks, Secrets: []string{"whsec_not base64!"}}, []string{"secrets[0] is not a standard-webhooks key (whsec_ followed by base64)"}},
		{Config{Type: TypeStandardWebhooks, Secrets: []string{"whsec_"}}, []string{"secrets[0] is not a standard-webhooks key"}},
		{Config{Type: TypeTelegram, Secrets: []string{"has space"}}, []string{"secrets[0] is not a telegram secret_token"}},
		{Config{Type: TypeTelegram, Secrets: []string{strings.Repeat("a", 257)}}, []string{"secrets[0] is not a telegram secret_token"}},
	} {
		err := ValidateConfig(tt.cfg)
		require.Error(t, err, "%+v", tt.cfg)
		for _, w := range tt.want {
			require.Contains(t, err.Error(), w)
		}
		for _, s := range tt.cfg.Secrets {
			if len(s) > len("whsec_") {
				require.NotContains(t, err.Error(), s, "validation errors never contain a secret")
			}
		}
		require.Equal(t, strings.ToLower(err.Error()[:1]), err.Error()[:1], "errors are lowercase")
	}
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, Config{Type: TypeHMAC, Header: "X-S", Algorithm: "sha256", Encoding: "hex"},
		Config{Type: TypeHMAC, Header: "X-S"}.WithDefaults())
	require.Equal(t, Config{Type: TypeHMAC, Header: "X-S", Algorithm: "sha1", Encoding: "base64"},
		Config{Type: TypeHMAC, Header: "X-S", Algorithm: "sha1", Encoding: "base64"}.WithDefaults())
	require.Equal(t, Config{Type: TypeStripe, Tolerance: ToleranceDefault}, Config{Type: TypeStripe}.WithDefaults())
	require.Equal(t, Config{Type: TypeSlack, Tolerance: time.Minute}, Config{Type: TypeSlack, Tolerance: time.Minute}.WithDefaults())
	require.Equal(t, Config{Type: TypeGitHub}, Config{Type: TypeGitHub}.WithDefaults())
	for _, typ := range Presets() {
		cfg := Config{Type: typ, Header: "X-H"}
		if typ != TypeToken && typ != TypeHMAC && typ != TypeTilda {
			cfg.Header = ""
		}
		require.NoError(t, ValidateSettings(cfg.WithDefaults()), typ)
	}
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	// Credentials come from the connection later: their absence is no error here.
	for _, cfg := range []Config{
		{Type: TypeGitHub},
		{Type: TypeBasic},
		{Type: TypeStandardWebhooks},
		{Type: TypeHMAC, Header: "X-Signature"},
	} {
		require.NoError(t, ValidateSettings(cfg), "%+v", cfg)
		require.Error(t, ValidateConfig(cfg), "%+v", cfg)
	}
	require.EqualError(t, ValidateSettings(Config{Type: TypeHMAC}), "header is required for hmac")
}

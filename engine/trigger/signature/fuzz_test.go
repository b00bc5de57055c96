package signature

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkVerdict fails unless err is nil or an *Error with a known code and a reason that
// holds none of the secrets.
func checkVerdict(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify returned %T, not *Error: %v", err, err)
	}
	switch e.Code {
	case CodeMissingHeader, CodeMalformed, CodeMismatch, CodeStaleTimestamp, CodeBadConfig:
	default:
		t.Fatalf("unknown code %q", e.Code)
	}
	if e.Reason == "" {
		t.Fatal("empty reason")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(e.Reason, s) {
			t.Fatalf("reason %q contains a secret", e.Reason)
		}
	}
}

// FuzzStripeHeader verifies arbitrary Stripe-Signature headers. Beyond never panicking,
// an accepted header must hold a t= within the tolerance and a v1= equal to the
// signature an independent computation gives.
func FuzzStripeHeader(f *testing.F) {
	const secret = "whsec_test_secret"
	body := []byte(`{"id":"evt_test","object":"event"}`)
	v1 := "8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
	for _, h := range []string{
		"t=1700000000,v1=" + v1,
		"t=1700000000,v1=" + v1 + ",v0=" + v1,
		"v1=" + strings.Repeat("0", 64) + ",t=1700000000,v1=" + v1,
		"t=1700000000,v1=" + strings.ToUpper(v1),
		"t=1700000000,v1=zz,v1=",
		"t=,v1=",
		"t=-1700000000,v1=" + v1,
		"t=1700000000",
		",,,==,",
		"",
	} {
		f.Add(h, body)
	}
	f.Add("t=1700000000,v1="+v1, []byte(`{"id":"evt_test","object":"event"} `))
	now := time.Unix(1700000100, 0)
	f.Fuzz(func(t *testing.T, h string, body []byte) {
		r := &Request{Method: "POST", URL: hookURL, Header: http.Header{"Stripe-Signature": {h}}, Body: body}
		err := Verify(Config{Type: TypeStripe, Secrets: []string{secret}}, r, now)
		checkVerdict(t, err, secret)
		if err != nil {
			return
		}
		var ts string
		var sigs []string
		for item := range strings.SplitSeq(strings.TrimSpace(h), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
			switch k {
			case "t":
				ts = v
			case "v1":
				sigs = append(sigs, strings.ToLower(v))
			}
		}
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || time.Unix(n, 0).Sub(now).Abs() > ToleranceDefault {
			t.Fatalf("accepted timestamp %q", ts)
		}
		want := hexMAC(sha256.New, secret, ts+"."+string(body))
		for _, s := range sigs {
			if s == want {
				return
			}
		}
		t.Fatalf("accepted %q without a valid v1", h)
	})
}

// FuzzStandardWebhooksHeader verifies arbitrary webhook-id, webhook-timestamp and
// webhook-signature values under two keys (the vectors 7 and 8). An accepted request must
// carry a v1 signature that an independent computation reproduces.
func FuzzStandardWebhooksHeader(f *testing.F) {
	keys := []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_ZW5naW5lLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmNkZWY="}
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`), int64(1614265330))
	f.Add("msg_01", "1700000000", "v1,hATiaChNAuYO12R+tqYf+/Isiyj0aoTaZlLV9HLnlOE=", []byte(`{"type":"lead.created","data":{"id":42}}`), int64(1700000000))
	f.Add("msg_01", "1700000000", "v1a,Zm9v v1,%%% v1,hATiaChNAuYO12R+tqYf+/Isiyj0aoTaZlLV9HLnlOE=", []byte(`{"type":"lead.created","data":{"id":42}}`), int64(1700000299))
	f.Add("msg_01", "1700000000", "v1,hATiaChNAuYO12R+tqYf+/Isiyj0aoTaZlLV9HLnlOE=", []byte(`{"type":"lead.created","data":{"id":42}}`), int64(1800000000))
	f.Add("", "", "", []byte{}, int64(0))
	f.Add("a.b", "1e9", "v1, v1,,", []byte("x"), int64(-1))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, nowUnix int64) {
		r := &Request{Method: "POST", URL: hookURL, Body: body, Header: http.Header{
			"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}}
		now := time.Unix(nowUnix%(1<<40), 0)
		err := Verify(Config{Type: TypeStandardWebhooks, Secrets: keys}, r, now)
		checkVerdict(t, err, keys...)
		if err != nil {
			return
		}
		id, ts = strings.TrimSpace(id), strings.TrimSpace(ts)
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || time.Unix(n, 0).Sub(now).Abs() > ToleranceDefault {
			t.Fatalf("accepted timestamp %q at %d", ts, nowUnix)
		}
		for _, k := range keys {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(k, "whsec_"))
			want := testMAC(sha256.New, string(raw), id+"."+ts+"."+string(body))
			for _, s := range strings.Fields(sig) {
				v, ok := strings.CutPrefix(s, "v1,")
				got, derr := base64.StdEncoding.DecodeString(v)
				if ok && derr == nil && bytes.Equal(got, want) {
					return
				}
			}
		}
		t.Fatalf("accepted %q without a valid v1", sig)
	})
}

// fuzzTargets gives, per type, a config with secrets and the headers FuzzVerify fills.
var fuzzTargets = []struct {
	cfg     Config
	headers []string
}{
	{Config{Type: TypeNone}, []string{"X-Anything"}},
	{Config{Type: TypeToken, Header: "X-Token", Query: "key", Prefix: "Bearer ", Secrets: []string{"tok-1", "tok-2"}}, []string{"X-Token"}},
	{Config{Type: TypeBasic, Username: "user", Password: "pass"}, []string{"Authorization"}},
	{Config{Type: TypeHMAC, Header: "X-Signature", Prefix: "sha256=", Secrets: []string{"site-secret"}}, []string{"X-Signature"}},
	{Config{Type: TypeHMAC, Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Secrets: []string{"site-secret"}}, []string{"X-Signature"}},
	{Config{Type: TypeGitHub, Secrets: []string{"It's a Secret to Everybody"}}, []string{"X-Hub-Signature-256", "X-Hub-Signature"}},
	{Config{Type: TypeStripe, Secrets: []string{"whsec_test_secret"}}, []string{"Stripe-Signature"}},
	{Config{Type: TypeSlack, Secrets: []string{"slack_secret"}}, []string{"X-Slack-Signature", "X-Slack-Request-Timestamp"}},
	{Config{Type: TypeShopify, Secrets: []string{"shpss_test_secret"}}, []string{"X-Shopify-Hmac-Sha256"}},
	{Config{Type: TypeStandardWebhooks, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, []string{"webhook-id", "webhook-timestamp", "webhook-signature"}},
	{Config{Type: TypeStandardWebhooks, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, []string{"svix-id", "svix-timestamp", "svix-signature"}},
	{Config{Type: TypeTelegram, Secrets: []string{"tg_Secret-123"}}, []string{"X-Telegram-Bot-Api-Secret-Token"}},
	{Config{Type: TypeHubSpotV3, Secrets: []string{"hubspot-client-secret"}}, []string{"X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp"}},
	{Config{Type: TypeMeta, Secrets: []string{"meta_app_secret"}}, []string{"X-Hub-Signature-256", "X-Hub-Signature"}},
	{Config{Type: TypeTwilio, Secrets: []string{"12345"}}, []string{"X-Twilio-Signature", "Content-Type"}},
}

// FuzzVerify sends random headers, bodies, URLs and clocks to every type. Verify must
// never panic, always answer nil or an *Error with a known code, and never put a secret in
// a reason; none must accept everything.
func FuzzVerify(f *testing.F) {
	seed := func(typ string, h1, h2, h3, body, url string, now int64) {
		for i, target := range fuzzTargets {
			if target.cfg.Type == typ {
				f.Add(uint8(i), h1, h2, h3, []byte(body), url, now)
				return
			}
		}
		f.Fatalf("no fuzz target for %s", typ)
	}
	seed(TypeNone, "", "", "", "", "", 0)
	seed(TypeToken, "Bearer tok-2", "", "", "{}", hookURL+"&key=tok-1", 1700000000)
	seed(TypeBasic, "Basic dXNlcjpwYXNz", "", "", "{}", hookURL, 1700000000)
	seed(TypeHMAC, "sha256=0000", "", "", "{}", hookURL, 1700000000)
	seed(TypeGitHub, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59", "", "Hello, World!", hookURL, 1700000000)
	seed(TypeGitHub, "", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59", "", "Hello, World!", hookURL, 1700000000)
	seed(TypeStripe, "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724", "", "",
		`{"id":"evt_test","object":"event"}`, hookURL, 1700000000)
	seed(TypeSlack, "v0=2b7d09f48ac2b4cecfd8e85fd997d500fd34112bc02ba7d701c8199a1a89cb88", "1700000000", "",
		`{"ok":true}`, hookURL, 1700000000)
	seed(TypeShopify, "LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc=", "", "",
		`{"id":820982911946154508,"email":"jon@example.com"}`, hookURL, 1700000000)
	seed(TypeStandardWebhooks, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		`{"test": 2432232314}`, hookURL, 1614265330)
	seed(TypeTelegram, "tg_Secret-123", "", "", `{"update_id":1}`, hookURL, 1700000000)
	seed(TypeHubSpotV3, "Kfbtr0h1ZQLItVxjOfdycFKEy1Kijx9EbrULSsSRmII=", "1700000000000", "",
		`[{"eventId":1,"subscriptionType":"contact.creation","objectId":123}]`, "https://example.com/webhooks/hubspot?portal=1", 1700000000)
	seed(TypeMeta, "sha256=7737c8c2c205014576d41d33bf51e33b58a44d48700b5820ea9397d612e36dd1", "", "",
		`{"object":"page","entry":[]}`, hookURL, 1700000000)
	seed(TypeTwilio, "GvWf1cFY/Q7PnoempGyD5oXAezc=", "application/x-www-form-urlencoded", "",
		"CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212",
		"https://mycompany.com/myapp.php?foo=1&bar=2", 1700000000)
	seed(TypeTwilio, "2e7mH/NA6FwzvUqLZxhsETU/4bw=", "application/json", "", `{"a":1}`,
		"https://example.com/hook?bodySHA256=015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862", 1700000000)
	seed(TypeTwilio, "x", "application/x-www-form-urlencoded", "", "%zz&a=;b", "https://[::1]:443/%2F?q", 1700000000)

	f.Fuzz(func(t *testing.T, typ uint8, h1, h2, h3 string, body []byte, url string, nowUnix int64) {
		target := fuzzTargets[int(typ)%len(fuzzTargets)]
		r := &Request{Method: "POST", URL: url, Header: http.Header{}, Body: body}
		for i, v := range []string{h1, h2, h3}[:len(target.headers)] {
			r.Header.Set(target.headers[i], v)
		}
		now := time.Unix(nowUnix%(1<<40), 0)
		err := Verify(target.cfg, r, now)
		checkVerdict(t, err, append(target.cfg.Secrets, target.cfg.Password)...)
		if target.cfg.Type == TypeNone && err != nil {
			t.Fatalf("none rejected a request: %v", err)
		}
		needsURL := target.cfg.Type == TypeTwilio || target.cfg.Type == TypeHubSpotV3
		if err != nil && !IsRejection(err) && !(needsURL && url == "") {
			t.Fatalf("a valid config gave %v", err)
		}
	})
}

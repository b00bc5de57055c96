package http

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/engine/trigger/signature"
)

// Distinctive signing secrets: the Standard Webhooks spec's test key, and a plain one
// for GitHub-style signing.
const (
	fakeSigningSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	fakeGitHubSecret  = "gh-sign-5d2c7e1a-secret"
	// fakePreviousSecret is the secret being rotated out.
	fakePreviousSecret = "whsec_cHJldmlvdXMtc2lnbmluZy1rZXktOWYzYTdiMmM="
)

// fakeClock is a settable clock starting from the real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// signedAction is http.request with its signing clock replaced.
func signedAction(clock *fakeClock) *connectors.ActionDef {
	def := *requestAction
	def.New = func() connectors.Action { return &request{client: client, now: clock.Now} }
	return &def
}

// verifyStandardWebhooks checks a request by the Standard Webhooks reference rules,
// written here independently of the code under test: the three headers, a timestamp
// within 5 minutes of now, the key the base64 after whsec_, and any space-separated
// "v1,<base64>" entry equal to the HMAC-SHA256 of "id.timestamp.body".
func verifyStandardWebhooks(secret string, h http.Header, body []byte, now time.Time) error {
	id, tsv, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsv == "" || sigs == "" {
		return fmt.Errorf("missing headers: id %q, timestamp %q, signature %q", id, tsv, sigs)
	}
	ts, err := strconv.ParseInt(tsv, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", tsv, err)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d is %s away from now", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + tsv + "." + string(body)))
	want := mac.Sum(nil)
	for _, entry := range strings.Fields(sigs) {
		version, sig, _ := strings.Cut(entry, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature in %q matches", sigs)
}

// verifyGitHub checks X-Hub-Signature-256 as GitHub's receivers do.
func verifyGitHub(secret string, h http.Header, body []byte) error {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := h.Get("X-Hub-Signature-256"); !hmac.Equal([]byte(got), []byte(want)) {
		return fmt.Errorf("X-Hub-Signature-256 %q does not match", got)
	}
	return nil
}

// The contracts' vectors 7 and 8 (Standard Webhooks) and 1 (GitHub), with their fixed
// timestamps: the signing functions themselves.
func TestSignatureVectors(t *testing.T) {
	t.Parallel()

	standard := []struct {
		secret, id string
		ts         int64
		body, want string
	}{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
			`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"whsec_ZW5naW5lLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmNkZWY=", "msg_01", 1700000000,
			`{"type":"lead.created","data":{"id":42}}`, "v1,hATiaChNAuYO12R+tqYf+/Isiyj0aoTaZlLV9HLnlOE="},
		// Without the prefix the secret is the same key.
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
			`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	for _, v := range standard {
		s, err := newSigner(signStandard, v.secret, "")
		require.NoError(t, err)
		require.Equal(t, v.want, standardSignature(s.key, v.id, v.ts, []byte(v.body)))

		h := http.Header{}
		s.sign(h, v.id, time.Unix(v.ts, 0), []byte(v.body))
		require.Equal(t, v.want, h.Get("webhook-signature"))
		require.Equal(t, strconv.FormatInt(v.ts, 10), h.Get("webhook-timestamp"))
		require.Equal(t, v.id, h.Get("webhook-id"))
		require.Empty(t, h.Get("X-Hub-Signature-256"), "standard-webhooks alone adds no GitHub header")
	}

	require.Equal(t, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		githubSignature("It's a Secret to Everybody", []byte("Hello, World!")))
	s, err := newSigner(signGitHub, "It's a Secret to Everybody", "")
	require.NoError(t, err, "github signing takes any secret")
	h := http.Header{}
	s.sign(h, "id", time.Unix(1700000000, 0), []byte("Hello, World!"))
	require.Equal(t, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", h.Get("X-Hub-Signature-256"))
	require.Empty(t, h.Get("webhook-signature"), "github alone adds no Standard Webhooks headers")
}

func TestNewSigner(t *testing.T) {
	t.Parallel()

	tests := []struct {
		scheme, secret, previous string
		err                      string
		nilSigner                bool
	}{
		{scheme: "", secret: fakeSigningSecret},
		{scheme: signBoth, secret: fakeSigningSecret},
		{scheme: signGitHub, secret: "any text at all"},
		{scheme: signStandard, secret: "", nilSigner: true},
		{scheme: signGitHub, secret: "", nilSigner: true},
		{scheme: signStandard, secret: "whsec_not base64!", err: "whsec_ followed by base64"},
		{scheme: signBoth, secret: "plain-text-secret", err: "whsec_ followed by base64"},
		{scheme: signStandard, secret: "whsec_", err: "the key is empty"},
		{scheme: "hmac", secret: fakeSigningSecret, err: `signature "hmac" is not one of`},
		{scheme: "hmac", secret: "", err: `signature "hmac" is not one of`},
		{scheme: signStandard, secret: fakeSigningSecret, previous: fakePreviousSecret},
		{scheme: signBoth, secret: fakeSigningSecret, previous: fakePreviousSecret},
		{scheme: signGitHub, secret: fakeGitHubSecret, previous: "old plain text"},
		{scheme: signStandard, secret: fakeSigningSecret, previous: "whsec_old not base64!", err: "previous_signing_secret for standard-webhooks must be whsec_ followed by base64"},
		{scheme: signStandard, secret: "", previous: fakePreviousSecret, err: "previous_signing_secret needs a signing_secret"},
	}
	for _, tt := range tests {
		s, err := newSigner(tt.scheme, tt.secret, tt.previous)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, "%s %q", tt.scheme, tt.secret)
			require.NotContains(t, err.Error(), tt.secret+"!", "the error must not quote the secret")
			if tt.previous != "" {
				require.NotContains(t, err.Error(), tt.previous)
			}
			continue
		}
		require.NoError(t, err, "%s %q", tt.scheme, tt.secret)
		require.Equal(t, tt.nilSigner, s == nil, "%s %q", tt.scheme, tt.secret)
	}
}

func TestSigningConnectionValidation(t *testing.T) {
	t.Parallel()

	err := validateConnection(map[string]any{connSigning: fakeSigningSecret})
	require.ErrorContains(t, err, "signing_secret needs a base_url or allowed_hosts")
	require.NoError(t, validateConnection(map[string]any{connSigning: fakeSigningSecret, connBaseURL: "https://hooks.example.test"}))
	require.NoError(t, validateConnection(map[string]any{connSigning: fakeSigningSecret, connAllowedHosts: []any{"hooks.example.test"}}))
	err = validateConnection(map[string]any{connSigning: "not-base64!", connBaseURL: "https://hooks.example.test"})
	require.ErrorContains(t, err, "signing_secret for standard-webhooks must be whsec_ followed by base64")
	require.NotContains(t, err.Error(), "not-base64!")
	err = validateConnection(map[string]any{connSignature: "jwt"})
	require.ErrorContains(t, err, `signature "jwt" is not one of standard-webhooks, github, both`)
	// The scheme alone, without a secret, signs nothing and needs no host.
	require.NoError(t, validateConnection(map[string]any{connSignature: signBoth}))
}

// signedReceiver records requests and answers 200 with a JSON echo of the headers, like a
// careless receiver, or fail for the first failures requests.
type signedReceiver struct {
	*recorder
}

func newSignedReceiver(t *testing.T, failures int) *signedReceiver {
	t.Helper()
	var mu sync.Mutex
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := failures > 0
		failures--
		mu.Unlock()
		status := http.StatusOK
		if fail {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"headers": r.Header})
	})
	return &signedReceiver{rec}
}

func (rec *signedReceiver) all() []seenRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seenRequest(nil), rec.reqs...)
}

func TestRequestSignsStandardWebhooks(t *testing.T) {
	t.Parallel()

	bodies := []struct {
		name  string
		input map[string]any
		ctype string
	}{
		{"json", map[string]any{inMethod: "POST", inBody: map[string]any{"lead": map[string]any{"id": 42, "name": "Ann «Ü»"}, "tags": []any{"a", "b"}}}, "application/json"},
		{"form", map[string]any{inMethod: "POST", inBodyType: bodyForm, inBody: map[string]any{"leads": []any{map[string]any{"id": 7}}, "q": "a b&c"}}, "application/x-www-form-urlencoded"},
		{"raw", map[string]any{inMethod: "PUT", inBody: "line 1\nline 2 "}, "text/plain; charset=utf-8"},
		{"no body", map[string]any{inMethod: "GET"}, ""},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			rec := newSignedReceiver(t, 0)
			b.input[inURL] = "/hooks/orders"
			b.input[inHeaders] = map[string]any{"webhook-signature": "v1,forged", "webhook-id": "user-id"}
			call := connectortest.NewCall(t, b.input, connectortest.NewConnection(httpConnector(t),
				map[string]any{connBaseURL: rec.URL, connSigning: fakeSigningSecret}))
			_, err := connectortest.Invoke(t.Context(), signedAction(clock), call)
			require.NoError(t, err)

			got := rec.last(t)
			if b.ctype != "" {
				require.Equal(t, b.ctype, got.Header.Get("Content-Type"))
				require.NotEmpty(t, got.Body)
			}
			// The receiver verifies over the bytes it received: the body signed is the body sent.
			require.NoError(t, verifyStandardWebhooks(fakeSigningSecret, got.Header, got.Body, clock.Now()))
			require.Equal(t, []string{call.IdempotencyKey}, got.Header.Values("webhook-id"), "the user's header is replaced")
			require.Len(t, got.Header.Values("webhook-signature"), 1)
			require.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), got.Header.Get("webhook-timestamp"))
			require.Empty(t, got.Header.Get("X-Hub-Signature-256"))
			require.True(t, strings.HasPrefix(got.Header.Get("User-Agent"), "Hookflow/"), got.Header.Get("User-Agent"))

			// Hookflow's own webhook verifier, as a Hookflow receiver would run it, agrees.
			require.NoError(t, signature.Verify(signature.Config{Type: signature.TypeStandardWebhooks,
				Secrets: []string{fakeSigningSecret}}, &signature.Request{Method: got.Method, Header: got.Header,
				Body: got.Body}, clock.Now()))
			// A changed body no longer verifies.
			require.Error(t, verifyStandardWebhooks(fakeSigningSecret, got.Header, append(got.Body, ' '), clock.Now()))
		})
	}
}

// Each retry is signed anew: the same webhook-id, a fresh timestamp.
func TestRequestSignatureRetries(t *testing.T) {
	t.Parallel()

	clock := newFakeClock()
	rec := newSignedReceiver(t, 2)
	call := connectortest.NewCall(t, map[string]any{inMethod: "POST", inURL: "/hook", inBody: map[string]any{"n": 1}},
		connectortest.NewConnection(httpConnector(t), map[string]any{connBaseURL: rec.URL, connSigning: fakeSigningSecret}))
	action := signedAction(clock)
	for attempt := 1; attempt <= 3; attempt++ {
		call.Attempt = attempt
		_, err := connectortest.Invoke(t.Context(), action, call)
		if attempt < 3 {
			require.Error(t, err, "attempt %d answered 503", attempt)
			require.False(t, connectors.IsPermanent(err), "a 503 is retried")
			clock.Advance(7 * time.Second)
			continue
		}
		require.NoError(t, err)
	}

	reqs := rec.all()
	require.Len(t, reqs, 3)
	start := clock.Now().Add(-14 * time.Second).Unix()
	for i, r := range reqs {
		require.Equal(t, call.IdempotencyKey, r.Header.Get("webhook-id"), "attempt %d", i+1)
		require.Equal(t, call.IdempotencyKey, r.Header.Get("Idempotency-Key"), "attempt %d", i+1)
		require.Equal(t, strconv.FormatInt(start+int64(7*i), 10), r.Header.Get("webhook-timestamp"), "attempt %d", i+1)
		require.NoError(t, verifyStandardWebhooks(fakeSigningSecret, r.Header, r.Body, clock.Now()), "attempt %d", i+1)
	}
	require.NotEqual(t, reqs[0].Header.Get("webhook-signature"), reqs[1].Header.Get("webhook-signature"),
		"a new timestamp makes a new signature")
}

func TestRequestSignsGitHubAndBoth(t *testing.T) {
	t.Parallel()

	tests := []struct {
		scheme, secret    string
		standard, withHub bool
	}{
		{signGitHub, fakeGitHubSecret, false, true},
		{signBoth, fakeSigningSecret, true, true},
		{signStandard, fakeSigningSecret, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			rec := newSignedReceiver(t, 0)
			call := connectortest.NewCall(t, map[string]any{inMethod: "POST", inURL: rec.URL + "/gh", inBody: map[string]any{"zen": "ok"}},
				connectortest.NewConnection(httpConnector(t), map[string]any{connAllowedHosts: []any{strings.TrimPrefix(rec.URL, "http://")},
					connSigning: tt.secret, connSignature: tt.scheme}))
			_, err := connectortest.Invoke(t.Context(), signedAction(clock), call)
			require.NoError(t, err)
			got := rec.last(t)

			if tt.withHub {
				require.NoError(t, verifyGitHub(tt.secret, got.Header, got.Body))
				require.NoError(t, signature.Verify(signature.Config{Type: signature.TypeGitHub, Secrets: []string{tt.secret}},
					&signature.Request{Method: got.Method, Header: got.Header, Body: got.Body}, clock.Now()))
			} else {
				require.Empty(t, got.Header.Get("X-Hub-Signature-256"))
			}
			if tt.standard {
				require.NoError(t, verifyStandardWebhooks(tt.secret, got.Header, got.Body, clock.Now()))
			} else {
				for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
					require.Empty(t, got.Header.Get(h))
				}
			}
		})
	}
}

// The secret, in either of its forms, stays out of outputs, errors and logs even when the
// receiver echoes it, and is not in the step's input; a signed request never goes to a
// host the connection does not name.
func TestRequestSigningSecretDoesNotLeak(t *testing.T) {
	t.Parallel()

	bare := strings.TrimPrefix(fakeSigningSecret, "whsec_")
	for _, status := range []int{http.StatusOK, http.StatusBadRequest, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Echo", fakeSigningSecret)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_ = json.NewEncoder(w).Encode(map[string]any{"secret": fakeSigningSecret, "key": bare, "headers": r.Header})
			})
			logger, logs := connectortest.NewCaptureLogger(t)
			call := connectortest.NewCall(t, map[string]any{inMethod: "POST", inURL: "/x", inBody: map[string]any{"a": 1}},
				connectortest.NewConnection(httpConnector(t), map[string]any{connBaseURL: rec.URL, connSigning: fakeSigningSecret, connSignature: signBoth}))
			call.Logger = logger
			out, err := connectortest.Invoke(t.Context(), signedAction(newFakeClock()), call)
			require.Equal(t, status == http.StatusOK, err == nil, "err: %v", err)
			connectortest.AssertNoSecrets(t, []string{fakeSigningSecret, bare}, out, err, logs.String())
			in, merr := json.Marshal(call.Input)
			require.NoError(t, merr)
			require.NotContains(t, string(in), bare)
			require.NotContains(t, logs.String(), rec.last(t).Header.Get("webhook-signature"), "signatures are masked in logs")
		})
	}

	other := newRecorder(t, nil)
	_, err := invoke(t, map[string]any{inURL: other.URL + "/collect"},
		map[string]any{connBaseURL: "https://hooks.example.test", connSigning: fakeSigningSecret})
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.Zero(t, other.count(), "no signed request may reach another host")
}

// During a rotation, Standard Webhooks requests carry one v1 entry per secret in
// webhook-signature; receivers holding either secret verify them by the reference rules
// and by Hookflow's own verifier, a third secret does not, and a changed body fails for
// both. GitHub's header is made with the current secret only.
func TestRequestSigningSecretRotation(t *testing.T) {
	t.Parallel()

	// The signing function itself, on the spec's vector: the first entry is the
	// current secret's, exactly as without a rotation.
	s, err := newSigner(signStandard, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", fakePreviousSecret)
	require.NoError(t, err)
	h := http.Header{}
	s.sign(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	entries := strings.Fields(h.Get("webhook-signature"))
	require.Len(t, entries, 2)
	require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", entries[0])

	for _, scheme := range []string{signStandard, signBoth, signGitHub} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			rec := newSignedReceiver(t, 0)
			current := fakeSigningSecret
			if scheme == signGitHub {
				current = fakeGitHubSecret
			}
			call := connectortest.NewCall(t, map[string]any{inMethod: "POST", inURL: "/hook", inBody: map[string]any{"n": 1}},
				connectortest.NewConnection(httpConnector(t), map[string]any{connBaseURL: rec.URL, connSigning: current,
					connPrevSigning: fakePreviousSecret, connSignature: scheme}))
			_, err := connectortest.Invoke(t.Context(), signedAction(clock), call)
			require.NoError(t, err)
			got := rec.last(t)
			req := &signature.Request{Method: got.Method, Header: got.Header, Body: got.Body}

			if scheme == signGitHub {
				require.NoError(t, verifyGitHub(current, got.Header, got.Body))
				require.Error(t, verifyGitHub(fakePreviousSecret, got.Header, got.Body), "GitHub style signs with the current secret only")
				require.Empty(t, got.Header.Get("webhook-signature"))
				return
			}
			require.Len(t, got.Header.Values("webhook-signature"), 1, "one header, entries separated by a space")
			require.Len(t, strings.Fields(got.Header.Get("webhook-signature")), 2)
			for _, secret := range []string{fakeSigningSecret, fakePreviousSecret} {
				require.NoError(t, verifyStandardWebhooks(secret, got.Header, got.Body, clock.Now()))
				require.NoError(t, signature.Verify(signature.Config{Type: signature.TypeStandardWebhooks, Secrets: []string{secret}},
					req, clock.Now()))
				require.Error(t, verifyStandardWebhooks(secret, got.Header, append(got.Body, ' '), clock.Now()))
			}
			require.Error(t, verifyStandardWebhooks("whsec_"+base64.StdEncoding.EncodeToString([]byte("a third key")),
				got.Header, got.Body, clock.Now()))
			if scheme == signBoth {
				require.NoError(t, verifyGitHub(current, got.Header, got.Body))
				require.Error(t, verifyGitHub(fakePreviousSecret, got.Header, got.Body))
			}
		})
	}
}

// The previous secret is a secret like the current one: in both its forms it stays out
// of outputs, errors and logs when a receiver echoes it.
func TestPreviousSigningSecretDoesNotLeak(t *testing.T) {
	t.Parallel()

	field := false
	for _, f := range httpConnector(t).Connection {
		if f.Name == connPrevSigning {
			field = f.Secret
		}
	}
	require.True(t, field, "previous_signing_secret is a secret field: encrypted at rest, masked by the API")

	bare := strings.TrimPrefix(fakePreviousSecret, "whsec_")
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", fakePreviousSecret)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"old": fakePreviousSecret, "key": bare})
	})
	logger, logs := connectortest.NewCaptureLogger(t)
	call := connectortest.NewCall(t, map[string]any{inMethod: "POST", inURL: "/x", inBody: map[string]any{"a": 1}},
		connectortest.NewConnection(httpConnector(t), map[string]any{connBaseURL: rec.URL, connSigning: fakeSigningSecret,
			connPrevSigning: fakePreviousSecret}))
	call.Logger = logger
	out, err := connectortest.Invoke(t.Context(), signedAction(newFakeClock()), call)
	require.Error(t, err)
	connectortest.AssertNoSecrets(t, []string{fakePreviousSecret, bare}, out, err, logs.String())
}

package http

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Values of the signature connection field.
const (
	signStandard = "standard-webhooks"
	signGitHub   = "github"
	signBoth     = "both"
)

// Headers of the signing schemes. Standard Webhooks writes its names in lower case;
// HTTP header names are case-insensitive, so net/http's canonical form reaches receivers
// as the same headers.
const (
	headerWebhookID        = "webhook-id"
	headerWebhookTimestamp = "webhook-timestamp"
	headerWebhookSignature = "webhook-signature"
	headerHubSignature256  = "X-Hub-Signature-256"
)

// standardSecretPrefix starts the Standard Webhooks form of a secret: whsec_<base64 key>.
const standardSecretPrefix = "whsec_"

// signer signs outgoing requests with a connection's signing secret.
type signer struct {
	scheme string
	// key is the Standard Webhooks HMAC key (the base64-decoded secret); nil for github.
	key []byte
	// raw is the secret as written, GitHub's HMAC key.
	raw string
	// previous is the Standard Webhooks key of previous_signing_secret during a
	// rotation, nil otherwise: requests carry a second v1 signature made with it, so
	// receivers still holding the old secret keep verifying until they switch.
	previous []byte
}

// newSigner checks a signing secret (and the previous one, during a rotation) against
// the scheme and returns its signer; a nil signer and no error when secret is empty. An
// empty scheme is standard-webhooks.
func newSigner(scheme, secret, previous string) (*signer, error) {
	if scheme == "" {
		scheme = signStandard
	}
	switch scheme {
	case signStandard, signGitHub, signBoth:
	default:
		return nil, fmt.Errorf("signature %q is not one of %s, %s, %s", scheme, signStandard, signGitHub, signBoth)
	}
	if secret == "" {
		if previous != "" {
			return nil, errors.New("previous_signing_secret needs a signing_secret: during a rotation requests are signed " +
				"with the new secret and the previous one")
		}
		return nil, nil
	}
	s := &signer{scheme: scheme, raw: secret}
	if scheme != signGitHub {
		key, err := standardWebhooksKey(secret)
		if err != nil {
			return nil, fmt.Errorf("signing_secret for %s must be whsec_ followed by base64 (for example whsec_ and "+
				"the output of openssl rand -base64 32): %w", scheme, err)
		}
		s.key = key
		if previous != "" {
			if s.previous, err = standardWebhooksKey(previous); err != nil {
				return nil, fmt.Errorf("previous_signing_secret for %s must be whsec_ followed by base64: %w", scheme, err)
			}
		}
	}
	// GitHub's header holds one signature: it is made with the current secret only, and
	// the previous one is not used (nor checked) for github alone.
	return s, nil
}

// standardWebhooksKey decodes a Standard Webhooks secret: the base64 after an optional
// whsec_ prefix, as the reference libraries and Hookflow's own webhook verifier read it,
// so one secret string configures both ends.
func standardWebhooksKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, standardSecretPrefix))
	if err != nil {
		return nil, errors.New("the part after whsec_ is not standard base64")
	}
	if len(key) == 0 {
		return nil, errors.New("the key is empty")
	}
	return key, nil
}

// sign sets the signature headers on req for body, the exact bytes sent. id identifies
// the message across retries; now is the send time, refreshed on every attempt.
func (s *signer) sign(h http.Header, id string, now time.Time, body []byte) {
	if s.scheme != signGitHub {
		ts := now.Unix()
		h.Set(headerWebhookID, id)
		h.Set(headerWebhookTimestamp, strconv.FormatInt(ts, 10))
		sig := standardSignature(s.key, id, ts, body)
		if s.previous != nil {
			// The spec's list form: space-separated entries, any one of which verifies.
			sig += " " + standardSignature(s.previous, id, ts, body)
		}
		h.Set(headerWebhookSignature, sig)
	}
	if s.scheme != signStandard {
		h.Set(headerHubSignature256, githubSignature(s.raw, body))
	}
}

// standardSignature is the Standard Webhooks v1 signature:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func standardSignature(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// githubSignature is GitHub's X-Hub-Signature-256: "sha256=" + hex(HMAC-SHA256(secret, body)).
func githubSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// messageID is the webhook-id of a call: its idempotency key, the same on every retry.
// Calls without one (previews) get a random id, so receivers still see a unique message.
func messageID(idempotencyKey string) string {
	if idempotencyKey != "" {
		return idempotencyKey
	}
	return "msg_" + rand.Text()
}

// signingSecrets are the forms of a signing secret a receiver might echo: the secret as
// written and, for whsec_ secrets, its base64 part alone.
func signingSecrets(secret string) []string {
	if secret == "" {
		return nil
	}
	if bare, ok := strings.CutPrefix(secret, standardSecretPrefix); ok && bare != "" {
		return []string{secret, bare}
	}
	return []string{secret}
}

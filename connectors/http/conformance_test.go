package http

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hookflow/hookflow/connectors/connectortest"
)

// Distinctive credentials, so the suite can look for them in outputs, errors and logs.
const (
	fakeUser        = "hook-user"
	fakePassword    = "pw-7c1e5b9d-secret"
	fakeToken       = "tok-3f9a1c44-secret"
	fakeHeaderName  = "X-Api-Key"
	fakeHeaderValue = "hdr-0b8e2f6a-secret"
)

// webhookReceiver is a generic webhook receiver: it checks the credential of the auth
// mode and, like httpbin and many careless services, echoes the request's headers in its
// answer, so the action's redaction of outputs and error snippets is really exercised.
func webhookReceiver(auth string) func(w http.ResponseWriter, r *http.Request, status int) {
	return func(w http.ResponseWriter, r *http.Request, status int) {
		if !authorized(auth, r) {
			status = http.StatusUnauthorized
		}
		echo := map[string]any{}
		for k, vs := range r.Header {
			echo[k] = vs
		}
		body := map[string]any{"ok": status < 300, "headers": echo}
		if status >= 300 {
			body["error"] = http.StatusText(status)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

// authSigned is the conformance case of a connection that signs instead of authenticating.
const authSigned = "signed"

func authorized(auth string, r *http.Request) bool {
	switch auth {
	case authSigned:
		body, err := io.ReadAll(r.Body)
		return err == nil && verifyStandardWebhooks(fakeSigningSecret, r.Header, body, time.Now()) == nil
	case authBasic:
		u, p, ok := r.BasicAuth()
		return ok && u == fakeUser && p == fakePassword
	case authBearer:
		return r.Header.Get("Authorization") == "Bearer "+fakeToken
	case authHeader:
		return r.Header.Get(fakeHeaderName) == fakeHeaderValue
	}
	return true
}

func TestConformance(t *testing.T) {
	t.Parallel()

	configs := map[string]func(baseURL string) map[string]any{
		authBearer: func(baseURL string) map[string]any {
			return map[string]any{connBaseURL: baseURL, connAuth: authBearer, connToken: fakeToken}
		},
		authBasic: func(baseURL string) map[string]any {
			return map[string]any{connBaseURL: baseURL, connAuth: authBasic, connUsername: fakeUser, connPassword: fakePassword}
		},
		authHeader: func(baseURL string) map[string]any {
			return map[string]any{connBaseURL: baseURL, connAuth: authHeader, connHeaderName: fakeHeaderName, connHeaderValue: fakeHeaderValue}
		},
		authSigned: func(baseURL string) map[string]any {
			return map[string]any{connBaseURL: baseURL, connSigning: fakeSigningSecret, connSignature: signBoth}
		},
	}
	for auth, config := range configs {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, connectortest.Case{
				Action:     "http.request",
				Connection: config,
				Input: func(string) map[string]any {
					return map[string]any{
						inMethod: http.MethodPost,
						inURL:    "/hooks/orders",
						inBody:   map[string]any{"order_id": 42, "total": "19.90"},
					}
				},
				Respond:           webhookReceiver(auth),
				IdempotencyHeader: "Idempotency-Key",
			})
		})
	}
}

package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func benchBody(n int) string {
	return `{"data":"` + strings.Repeat("x", n-len(`{"data":""}`)) + `"}`
}

// BenchmarkVerifyGitHub verifies a valid X-Hub-Signature-256 request.
func BenchmarkVerifyGitHub(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			const secret = "It's a Secret to Everybody"
			body := benchBody(size)
			r := newRequest(hookURL, body, "X-Hub-Signature-256", "sha256="+hexMAC(sha256.New, secret, body))
			cfg := Config{Type: TypeGitHub, Secrets: []string{secret}}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := Verify(cfg, r, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyStandardWebhooks verifies a valid request under two keys (rotation), the
// matching one last, with two signatures in the header.
func BenchmarkVerifyStandardWebhooks(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			old, cur := stdKey("older-key-0123456789abcdef"), stdKey("right-key-0123456789abcdef")
			body := benchBody(size)
			key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(cur, "whsec_"))
			ts := unix(testNow)
			sig := "v1," + b64MAC(sha256.New, string(key), "msg_1."+ts+"."+body)
			r := newRequest(hookURL, body, "webhook-id", "msg_1", "webhook-timestamp", ts,
				"webhook-signature", "v1a,bm90LWNoZWNrZWQ= "+sig)
			cfg := Config{Type: TypeStandardWebhooks, Secrets: []string{old, cur}}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := Verify(cfg, r, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package http

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkSign measures signing a 1 KiB body with one secret and during a rotation
// (two Standard Webhooks signatures).
func BenchmarkSign(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	now := time.Now()
	for _, bc := range []struct{ name, previous string }{{"one-secret", ""}, {"rotation", fakePreviousSecret}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := newSigner(signStandard, fakeSigningSecret, bc.previous)
			if err != nil {
				b.Fatal(err)
			}
			h := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				s.sign(h, "run:step", now, body)
			}
		})
	}
}

package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewRefusesIncompleteSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{CertFile: "c.pem"}, "set both HOOKFLOW_TLS_CERT and HOOKFLOW_TLS_KEY"},
		{Config{CertFile: "c.pem", KeyFile: "k.pem", Hosts: []string{"a.example"}}, "not both"},
		{Config{CertFile: filepath.Join(dir, "none.pem"), KeyFile: filepath.Join(dir, "none.key")}, "load TLS certificate"},
		{Config{Hosts: []string{"localhost"}, CacheDir: dir}, `"localhost" is not a DNS name ACME can issue for`},
		{Config{Hosts: []string{"192.0.2.1"}, CacheDir: dir}, "is not a DNS name"},
		{Config{}, "no certificate source"},
	} {
		_, err := New(tt.c)
		require.ErrorContains(t, err, tt.want)
	}
	s, err := New(Config{Hosts: []string{"hooks.example.com"}, CacheDir: dir})
	require.NoError(t, err)
	require.Equal(t, uint16(tls.VersionTLS12), s.TLS.MinVersion)
	require.Contains(t, s.TLS.NextProtos, "acme-tls/1", "TLS-ALPN-01 is answered on the HTTPS listener")
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ base, port, host, want string }{
		{"", "443", "hooks.example.com", "https://hooks.example.com/hooks/a?b=1"},
		{"", "443", "hooks.example.com:80", "https://hooks.example.com/hooks/a?b=1"},
		{"", "8443", "hooks.example.com:8080", "https://hooks.example.com:8443/hooks/a?b=1"},
		{"", "443", "[2001:db8::1]:80", "https://[2001:db8::1]/hooks/a?b=1"},
		{"https://hooks.example.com/", "8443", "10.0.0.5:8080", "https://hooks.example.com/hooks/a?b=1"},
		{"http://plain.example", "8443", "h.example", "https://h.example:8443/hooks/a?b=1"}, // a plain base URL is no target
	} {
		r := httptest.NewRequest(http.MethodPut, "http://x/hooks/a?b=1", nil)
		r.Host = tt.host
		w := httptest.NewRecorder()
		Redirect(tt.base, tt.port).ServeHTTP(w, r)
		require.Equal(t, http.StatusPermanentRedirect, w.Code, tt.host)
		require.Equal(t, tt.want, w.Header().Get("Location"), tt.host)
	}
}

func TestHSTS(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	get := func(h http.Handler, overTLS bool) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Header().Get("Strict-Transport-Security")
	}
	require.Equal(t, "max-age=86400", get(HSTS(ok, 24*time.Hour), true))
	require.Empty(t, get(HSTS(ok, 24*time.Hour), false), "never over plain HTTP")
	require.Empty(t, get(HSTS(ok, 0), true), "0 disables")
}

// TestCertFilesKeepLastGoodPair: a certificate replaced without its key (a copy caught
// halfway) leaves the previous pair in service instead of failing handshakes.
func TestCertFilesKeepLastGoodPair(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	testCert, testKey := selfSigned(t)
	require.NoError(t, os.WriteFile(certFile, testCert, 0o600))
	require.NoError(t, os.WriteFile(keyFile, testKey, 0o600))
	s, err := New(Config{CertFile: certFile, KeyFile: keyFile})
	require.NoError(t, err)
	first, err := s.TLS.GetCertificate(nil)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\nnot yet\n"), 0o600))
	got, err := s.TLS.GetCertificate(nil)
	require.NoError(t, err)
	require.Same(t, first, got)

	require.NoError(t, os.WriteFile(certFile, append(testCert, '\n'), 0o600)) // back, changed in size
	got, err = s.TLS.GetCertificate(nil)
	require.NoError(t, err)
	require.NotSame(t, first, got, "loaded again once the files are whole")
	require.Equal(t, first.Certificate, got.Certificate)
}

// selfSigned returns a PEM certificate and key; nothing verifies it, only loads it.
func selfSigned(t *testing.T) (cert, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hookflow.test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"hookflow.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web/tlsconf/acmetest"
)

// lockedBuffer is a log sink the serve goroutine writes while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	httpsLine = regexp.MustCompile(`msg="Hookflow listening" addr=(\S+) url=(\S+)`)
	plainLine = regexp.MustCompile(`msg="Redirecting HTTP to HTTPS" addr=(\S+)`)
)

// tlsServer is `hookflow serve` running in this test process, through the same command
// line code as the binary.
type tlsServer struct {
	https, plain string // listen addresses
	token        string // an admin's API token
	logs         *lockedBuffer
}

// startTLSServe creates an admin and a token in dataDir, runs serve with args on loopback
// and waits until both listeners are up; the cleanup stops it as SIGTERM would.
func startTLSServe(t *testing.T, dataDir string, args ...string) tlsServer {
	t.Helper()
	token := adminToken(t, dataDir, args...)
	s := runTLSServe(t, dataDir, args...)
	s.token = token
	return s
}

// adminToken creates an admin and an API token through the CLI; args carry the database
// settings serve was given (--database-url, --secret-key), if any.
func adminToken(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	base := []string{"--data-dir", dataDir, "--log-level", "warn"}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--database-url" || args[i] == "--secret-key" {
			base = append(base, args[i], args[i+1])
		}
	}
	code, _, errOut := runCLI(t, append(base, "user", "create", "--email", "ops@example.com", "--password", "long enough")...)
	require.Equal(t, ExitOK, code, errOut)
	code, tok, errOut := runCLI(t, append(base, "token", "create", "--email", "ops@example.com", "--name", "tls")...)
	require.Equal(t, ExitOK, code, errOut)
	return strings.TrimSpace(tok)
}

// runTLSServe runs serve with args on loopback and waits until both listeners are up;
// the cleanup stops it as SIGTERM would.
func runTLSServe(t *testing.T, dataDir string, args ...string) tlsServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	done := make(chan int, 1)
	serveArgs := append([]string{"--data-dir", dataDir, "serve", "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--workers", "0"}, args...)
	go func() { done <- run(ctx, serveArgs, &bytes.Buffer{}, logs) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var s tlsServer
	require.Eventually(t, func() bool {
		h, p := httpsLine.FindStringSubmatch(logs.String()), plainLine.FindStringSubmatch(logs.String())
		if h == nil || p == nil {
			select {
			case c := <-done:
				done <- c
				t.Fatalf("serve exited with %d:\n%s", c, logs.String())
			default:
			}
			return false
		}
		require.True(t, strings.HasPrefix(h[2], "https://"), "the banner shows an https URL: %s", h[2])
		s.https, s.plain = h[1], p[1]
		return true
	}, 30*time.Second, 10*time.Millisecond, "serve did not start:\n%s", logs.String())
	s.logs = logs
	return s
}

// createHook creates a webhook workflow through the API at base and returns its URL.
func createHook(t *testing.T, c *http.Client, base, token string) string {
	t.Helper()
	def := `{"name":"tls","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"core.set","with":{"x":1}}]}`
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/workflows", strings.NewReader(def))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var wf struct {
		WebhookURL string `json:"webhook_url"`
	}
	require.Equal(t, http.StatusCreated, res.StatusCode)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&wf))
	return wf.WebhookURL
}

// postHook sends a webhook and returns the answer, its body read and closed.
func postHook(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	res, err := c.Post(url, "application/json", strings.NewReader(`{"n":1}`))
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	return res
}

// testCA is a certificate authority made in the test, for certificate files.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Hookflow test root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// writeLeaf issues a certificate for 127.0.0.1 with serial and writes it and its key to
// certFile and keyFile, each through a rename as a certificate tool would.
func (ca *testCA) writeLeaf(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		require.NoError(t, os.WriteFile(file+".new", pem.EncodeToMemory(block), 0o600))
		require.NoError(t, os.Rename(file+".new", file))
	}
}

// trustingClient verifies servers against roots and opens a new connection per request,
// so each request is a new handshake. It follows no redirect.
func trustingClient(roots *x509.CertPool, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true, DialContext: dial},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestServeHTTPSCertificateFiles: serve with certificate files answers a webhook over
// HTTPS with HSTS, shows https webhook URLs, takes a replaced certificate at the next
// handshake without a restart, refuses TLS 1.1, and redirects plain HTTP to https.
func TestServeHTTPSCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.writeLeaf(t, 100, certFile, keyFile)
	s := startTLSServe(t, filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	c := trustingClient(ca.pool, nil)
	base := "https://" + s.https

	hook := createHook(t, c, base, s.token)
	require.True(t, strings.HasPrefix(hook, base+"/hooks/"), "with no base URL set, webhook URLs follow the scheme: %s", hook)
	res := postHook(t, c, hook)
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	require.Equal(t, "max-age=31536000", res.Header.Get("Strict-Transport-Security"))
	require.Equal(t, int64(100), res.TLS.PeerCertificates[0].SerialNumber.Int64())

	ca.writeLeaf(t, 200, certFile, keyFile)
	res = postHook(t, c, hook)
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	require.Equal(t, int64(200), res.TLS.PeerCertificates[0].SerialNumber.Int64(), "the new certificate, without a restart")

	t.Run("TLS 1.1 refused", func(t *testing.T) {
		old := &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
		_, err := tls.Dial("tcp", s.https, old)
		require.ErrorContains(t, err, "protocol version not supported", "the server's alert, not a client-side refusal")
		conn, err := tls.Dial("tcp", s.https, &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
		require.NoError(t, err, "TLS 1.2 is accepted")
		require.NoError(t, conn.Close())
	})

	t.Run("plain HTTP redirects", func(t *testing.T) {
		_, httpsPort, err := net.SplitHostPort(s.https)
		require.NoError(t, err)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, err := http.NewRequest(method, "http://"+s.plain+"/hooks/abc?x=1&y=%20z", strings.NewReader("{}"))
			require.NoError(t, err)
			res, err := c.Do(req)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, http.StatusPermanentRedirect, res.StatusCode, method)
			require.Equal(t, "https://127.0.0.1:"+httpsPort+"/hooks/abc?x=1&y=%20z", res.Header.Get("Location"), method)
			require.Empty(t, res.Header.Get("Strict-Transport-Security"), "HSTS is for HTTPS answers only")
		}
	})
}

// TestServeHTTPSACME: with HOOKFLOW_TLS_HOSTS, serve gets its certificate from a local
// ACME authority, through HTTP-01 on the plain listener or TLS-ALPN-01 on the HTTPS one;
// a client that trusts only that authority's root completes the handshake for the host
// name and its webhook is acknowledged.
func TestServeHTTPSACME(t *testing.T) {
	const host = "hooks.example.test"
	for _, challenge := range []string{"http-01", "tls-alpn-01"} {
		t.Run(challenge, func(t *testing.T) {
			ca := acmetest.NewCAServer(t).ChallengeTypes(challenge).Start()
			dataDir := t.TempDir()
			s := startTLSServe(t, dataDir, "--tls-hosts", host, "--acme-directory", ca.URL(), "--acme-email", "ops@example.com")
			if challenge == "http-01" {
				ca.Resolve(host, s.plain)
			} else {
				ca.Resolve(host, s.https)
			}
			// The host name resolves to the loopback listener, in the client only.
			dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, s.https)
			}
			c := trustingClient(ca.Roots(), dial)
			_, port, err := net.SplitHostPort(s.https)
			require.NoError(t, err)
			base := "https://" + net.JoinHostPort(host, port)

			hook := createHook(t, c, base, s.token)
			require.True(t, strings.HasPrefix(hook, base+"/hooks/"), hook)
			res := postHook(t, c, hook)
			require.Equal(t, http.StatusAccepted, res.StatusCode)
			require.NoError(t, res.TLS.PeerCertificates[0].VerifyHostname(host))
			require.NotEmpty(t, res.Header.Get("Strict-Transport-Security"))

			entries, err := os.ReadDir(filepath.Join(dataDir, "acme"))
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			require.Contains(t, names, host, "the certificate is cached in DATA_DIR/acme")
		})
	}
}

// TestServeHTTPSACMECluster: two serve processes on one PostgreSQL share the ACME cache
// in the database (the default there). Handshakes reach both at once, yet only one
// certificate order reaches the CA, both serve that same certificate, and the CA's
// HTTP-01 check is answered by the process that did not order, from the shared cache,
// as behind a load balancer. The cached rows are sealed: no PEM in the table.
func TestServeHTTPSACMECluster(t *testing.T) {
	const host = "cluster.example.test"
	ca := acmetest.NewCAServer(t).ChallengeTypes("http-01").Start()
	dbArgs := []string{"--database-url", storetest.URL(t, store.Postgres), "--secret-key", enginetest.SecretKey}
	args := append([]string{"--tls-hosts", host, "--acme-directory", ca.URL(), "--acme-email", "ops@example.com"}, dbArgs...)
	token := adminToken(t, t.TempDir(), dbArgs...)
	servers := []tlsServer{runTLSServe(t, t.TempDir(), args...), runTLSServe(t, t.TempDir(), args...)}
	// Every HTTP-01 check goes to the second process, so an order by the first is
	// validated through the token it put in the database.
	ca.Resolve(host, servers[1].plain)

	type answer struct {
		server int
		serial string
		err    error
	}
	answers := make(chan answer, 2*len(servers))
	for i, s := range servers {
		for range 2 {
			go func() {
				dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, s.https)
				}
				c := trustingClient(ca.Roots(), dial)
				_, port, _ := net.SplitHostPort(s.https)
				res, err := c.Get("https://" + net.JoinHostPort(host, port) + "/healthz")
				if err != nil {
					answers <- answer{server: i, err: err}
					return
				}
				_ = res.Body.Close()
				answers <- answer{server: i, serial: res.TLS.PeerCertificates[0].SerialNumber.String()}
			}()
		}
	}
	serials := map[string]bool{}
	for range 2 * len(servers) {
		a := <-answers
		require.NoError(t, a.err, "server %d", a.server)
		serials[a.serial] = true
	}
	require.Len(t, serials, 1, "both processes serve the same certificate")
	require.Equal(t, 1, ca.Orders(), "one certificate order for the cluster")

	var path string
	for i, s := range servers {
		dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.https)
		}
		c := trustingClient(ca.Roots(), dial)
		_, port, err := net.SplitHostPort(s.https)
		require.NoError(t, err)
		base := "https://" + net.JoinHostPort(host, port)
		if path == "" {
			path = strings.TrimPrefix(createHook(t, c, base, token), base)
		}
		res := postHook(t, c, base+path)
		require.Equal(t, http.StatusAccepted, res.StatusCode, "server %d", i)
		require.NoError(t, res.TLS.PeerCertificates[0].VerifyHostname(host))
		require.True(t, serials[res.TLS.PeerCertificates[0].SerialNumber.String()])
		require.Contains(t, s.logs.String(), "cache=db", "PostgreSQL's default is the database cache")
	}
	require.Equal(t, 1, ca.Orders())
}

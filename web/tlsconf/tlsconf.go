// Package tlsconf serves Hookflow over HTTPS with no proxy in front: certificate files
// that are reloaded when they change, or certificates obtained and renewed through ACME
// (Let's Encrypt by default). It also holds the plain-HTTP side: ACME HTTP-01 answers,
// the redirect to https, and the HSTS header.
package tlsconf

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// LetsEncrypt is the default ACME directory: Let's Encrypt's production service.
const LetsEncrypt = autocert.DefaultACMEDirectory

// HSTSMaxAgeDefault is how long browsers keep to https once they saw the header.
const HSTSMaxAgeDefault = 365 * 24 * time.Hour

// Config selects the certificate source: CertFile and KeyFile, or Hosts through ACME.
type Config struct {
	CertFile, KeyFile string
	// Hosts are the names certificates are obtained for; any other name is refused at
	// the handshake, so nobody can make the server order certificates for names it
	// does not serve.
	Hosts         []string
	ACMEDirectory string // default LetsEncrypt
	ACMEEmail     string // optional contact for expiry notices
	CacheDir      string // account key and certificates (autocert.DirCache)
	// Cache, when set, replaces CacheDir: the database cache a cluster shares.
	Cache autocert.Cache
	// Lock, when set, serializes the first certificate order of a host across the
	// processes sharing Cache: the first process orders, the others wait and then find
	// the certificate in the cache instead of ordering their own.
	Lock   func(ctx context.Context, host string) (unlock func(), err error)
	Logger *slog.Logger
}

// Enabled reports whether c asks for HTTPS at all.
func (c Config) Enabled() bool { return c.CertFile != "" || c.KeyFile != "" || len(c.Hosts) > 0 }

// Setup is the TLS side of a server.
type Setup struct {
	// TLS is the listener's configuration: TLS 1.2 at least, certificates from the
	// files or from ACME (with acme-tls/1 in NextProtos for TLS-ALPN-01).
	TLS     *tls.Config
	manager *autocert.Manager
}

// New checks c and prepares its certificates; certificate files are loaded once now so
// that a wrong path or a key that does not match fails at start, not at the first client.
func New(c Config) (*Setup, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	files := c.CertFile != "" || c.KeyFile != ""
	switch {
	case files && len(c.Hosts) > 0:
		return nil, errors.New("set either HOOKFLOW_TLS_CERT and HOOKFLOW_TLS_KEY or HOOKFLOW_TLS_HOSTS, not both")
	case files && (c.CertFile == "" || c.KeyFile == ""):
		return nil, errors.New("set both HOOKFLOW_TLS_CERT and HOOKFLOW_TLS_KEY")
	case files:
		r := &certFiles{cert: c.CertFile, key: c.KeyFile, log: log}
		if _, err := r.get(nil); err != nil {
			return nil, err
		}
		return &Setup{TLS: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}}, nil
	case len(c.Hosts) > 0:
		for _, h := range c.Hosts {
			if !strings.Contains(strings.Trim(h, "."), ".") || net.ParseIP(h) != nil {
				return nil, fmt.Errorf("HOOKFLOW_TLS_HOSTS: %q is not a DNS name ACME can issue for", h)
			}
		}
		cache := c.Cache
		if cache == nil {
			if c.CacheDir == "" {
				return nil, errors.New("ACME needs a cache directory")
			}
			cache = autocert.DirCache(c.CacheDir)
		}
		dir := c.ACMEDirectory
		if dir == "" {
			dir = LetsEncrypt
		}
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      cache,
			HostPolicy: autocert.HostWhitelist(c.Hosts...),
			Email:      c.ACMEEmail,
			Client:     &acme.Client{DirectoryURL: dir, UserAgent: "hookflow"},
		}
		cfg := m.TLSConfig() // GetCertificate, and acme-tls/1 among NextProtos
		cfg.MinVersion = tls.VersionTLS12
		if c.Lock != nil {
			g := &orderGate{m: m, lock: c.Lock, hosts: map[string]bool{}, ready: map[string]bool{}}
			for _, h := range c.Hosts {
				g.hosts[strings.ToLower(h)] = true
			}
			cfg.GetCertificate = g.getCertificate
		}
		return &Setup{TLS: cfg, manager: m}, nil
	}
	return nil, errors.New("no certificate source: set HOOKFLOW_TLS_CERT and HOOKFLOW_TLS_KEY, or HOOKFLOW_TLS_HOSTS")
}

// orderGate puts a shared lock around a host's first certificate: autocert checks its
// cache before ordering, but two processes that both miss would both order (and soon
// meet the CA's rate limits). Under the lock, the second one finds the first one's
// certificate in the cache. Once a host has a certificate in this process, handshakes
// go straight to autocert, which keeps it in memory: no lock per handshake.
type orderGate struct {
	m     *autocert.Manager
	lock  func(ctx context.Context, host string) (func(), error)
	hosts map[string]bool // read only

	mu    sync.Mutex
	ready map[string]bool
}

// orderTimeout bounds a first handshake that waits for another process's order; it is
// autocert's own bound on an order.
const orderTimeout = 5 * time.Minute

func (g *orderGate) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	// TLS-ALPN-01 answers come from the cache and must never wait: the CA may be
	// validating the very order that holds the lock.
	if slices.Contains(hello.SupportedProtos, acme.ALPNProto) || !g.hosts[name] {
		return g.m.GetCertificate(hello)
	}
	g.mu.Lock()
	ready := g.ready[name]
	g.mu.Unlock()
	if ready {
		return g.m.GetCertificate(hello)
	}
	ctx, cancel := context.WithTimeout(hello.Context(), orderTimeout)
	defer cancel()
	unlock, err := g.lock(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("wait for the certificate order of %s: %w", name, err)
	}
	defer unlock()
	crt, err := g.m.GetCertificate(hello)
	if err == nil {
		g.mu.Lock()
		g.ready[name] = true
		g.mu.Unlock()
	}
	return crt, err
}

// HTTPHandler is the plain listener's handler: ACME HTTP-01 challenges when certificates
// come from ACME, and a redirect to https for everything else (see Redirect).
func (s *Setup) HTTPHandler(base, httpsPort string) http.Handler {
	if s.manager != nil {
		return s.manager.HTTPHandler(Redirect(base, httpsPort))
	}
	return Redirect(base, httpsPort)
}

// Redirect sends every request to the same path and query over https: on base when it
// is an https URL (the public address, right even when a port redirect sits between the
// clients and the listener), else on the request's host at httpsPort. It answers 308,
// which keeps the method and body: a webhook POSTed to http:// is re-sent by a client
// that follows redirects, not turned into a GET.
func Redirect(base, httpsPort string) http.Handler {
	base = strings.TrimRight(base, "/")
	if !strings.HasPrefix(strings.ToLower(base), "https://") {
		base = ""
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if base != "" {
			http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusPermanentRedirect)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if host == "" {
			http.Error(w, "Host header required", http.StatusBadRequest)
			return
		}
		if httpsPort != "443" && httpsPort != "" {
			host = net.JoinHostPort(host, httpsPort)
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 literal
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// HSTS adds Strict-Transport-Security to the answers of requests that came over TLS;
// maxAge <= 0 leaves h as it is. Sub-domains are not included: they may be other
// services this operator does not run over https.
func HSTS(h http.Handler, maxAge time.Duration) http.Handler {
	if maxAge <= 0 {
		return h
	}
	value := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", value)
		}
		h.ServeHTTP(w, r)
	})
}

// certFiles serves a certificate and key from files, loaded again when either file
// changes. Two stat calls per handshake cost far less than the handshake itself, and
// unlike a timer they make a replaced certificate visible to the very next client.
type certFiles struct {
	cert, key string
	log       *slog.Logger

	mu      sync.Mutex
	stamp   string // size and modification time of both files at the last load
	failed  string // the stamp whose load failed, so the warning is logged once
	current *tls.Certificate
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stamp, err := stampOf(c.cert, c.key)
	if err == nil && stamp == c.stamp && c.current != nil {
		return c.current, nil
	}
	var crt tls.Certificate
	if err == nil {
		crt, err = tls.LoadX509KeyPair(c.cert, c.key)
	}
	if err != nil {
		err = fmt.Errorf("load TLS certificate %s and key %s: %w", c.cert, c.key, err)
		if c.current == nil {
			return nil, err
		}
		// Files caught half replaced (a new certificate beside the old key) or
		// briefly missing: keep serving the last good pair until they settle.
		if stamp != c.failed {
			c.failed = stamp
			c.log.Warn("Keeping the previous TLS certificate", slog.Any("err", err))
		}
		return c.current, nil
	}
	if c.current != nil {
		c.log.Info("TLS certificate reloaded", slog.String("cert", c.cert))
	}
	c.stamp, c.failed, c.current = stamp, "", &crt
	return c.current, nil
}

// stampOf identifies the files' current versions.
func stampOf(paths ...string) (string, error) {
	var b bytes.Buffer
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("stat TLS file: %w", err)
		}
		fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), nil
}

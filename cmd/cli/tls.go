package cli

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/web/tlsconf"
)

// Listen addresses of serve when it speaks HTTPS itself.
const (
	ServeTLSAddrDefault = ":443"
	HTTPAddrDefault     = ":80" // ACME HTTP-01 and the redirect to https
)

// tlsOptions are serve's HTTPS settings (docs/https.md).
type tlsOptions struct {
	CertFile, KeyFile string
	Hosts             string // comma-separated
	ACMEDirectory     string
	ACMEEmail         string
	HTTPAddr          string // "" means HTTPAddrDefault; "off" means no plain listener
	HSTSMaxAge        time.Duration
	Cache             string // "dir", "db", or "" for db on PostgreSQL and dir on SQLite
}

// TLS cache settings (HOOKFLOW_TLS_CACHE).
const (
	TLSCacheDir = "dir"
	TLSCacheDB  = "db"
)

// addTLSFlags adds serve's HTTPS flags.
func (o *Options) addTLSFlags(cmd *cobra.Command) {
	t := &o.TLS
	f := cmd.Flags()
	f.StringVar(&t.CertFile, "tls-cert", env("HOOKFLOW_TLS_CERT", ""), "PEM certificate chain file; serve HTTPS with it and the key, reloaded when the files change [HOOKFLOW_TLS_CERT]")
	f.StringVar(&t.KeyFile, "tls-key", env("HOOKFLOW_TLS_KEY", ""), "PEM private key file of --tls-cert [HOOKFLOW_TLS_KEY]")
	f.StringVar(&t.Hosts, "tls-hosts", env("HOOKFLOW_TLS_HOSTS", ""), "comma-separated host names to get certificates for through ACME (Let's Encrypt by default) [HOOKFLOW_TLS_HOSTS]")
	f.StringVar(&t.Cache, "tls-cache", env("HOOKFLOW_TLS_CACHE", ""), "where ACME keeps its account key and certificates: db (in the database, sealed with the secret key, shared by a cluster) or dir (DATA_DIR/acme); default db on PostgreSQL, dir on SQLite [HOOKFLOW_TLS_CACHE]")
	f.StringVar(&t.ACMEDirectory, "acme-directory", env("HOOKFLOW_ACME_DIRECTORY", tlsconf.LetsEncrypt), "ACME directory URL of the certificate authority [HOOKFLOW_ACME_DIRECTORY]")
	f.StringVar(&t.ACMEEmail, "acme-email", env("HOOKFLOW_ACME_EMAIL", ""), "contact address given to the ACME authority, for expiry notices; optional [HOOKFLOW_ACME_EMAIL]")
	f.StringVar(&t.HTTPAddr, "http-addr", env("HOOKFLOW_HTTP_ADDR", ""), "with HTTPS: plain HTTP listen address that answers ACME HTTP-01 and redirects the rest to https; default :80, off for none [HOOKFLOW_HTTP_ADDR]")
	t.HSTSMaxAge = o.envAge("HOOKFLOW_HSTS_MAX_AGE", tlsconf.HSTSMaxAgeDefault)
	f.Var(ageValue{&t.HSTSMaxAge}, "hsts-max-age", "with HTTPS: Strict-Transport-Security max-age; 0 sends no header [HOOKFLOW_HSTS_MAX_AGE]")
}

// tlsConfig reads serve's HTTPS settings and checks them, before the database is open;
// it returns nil when no HTTPS setting is given. tlsSetup completes it once the engine
// is open.
func (o *Options) tlsConfig(log *slog.Logger) (*tlsconf.Config, error) {
	t := o.TLS
	c := tlsconf.Config{CertFile: t.CertFile, KeyFile: t.KeyFile, ACMEDirectory: t.ACMEDirectory,
		ACMEEmail: t.ACMEEmail, CacheDir: filepath.Join(o.DataDir, "acme"), Logger: log}
	for _, h := range strings.Split(t.Hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.Hosts = append(c.Hosts, strings.ToLower(h))
		}
	}
	if !c.Enabled() {
		if t.HTTPAddr != "" {
			log.Warn("HOOKFLOW_HTTP_ADDR is ignored without HTTPS (HOOKFLOW_TLS_CERT or HOOKFLOW_TLS_HOSTS)")
		}
		return nil, nil
	}
	switch t.Cache {
	case "", TLSCacheDir, TLSCacheDB:
	default:
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("HOOKFLOW_TLS_CACHE=%q: use db or dir", t.Cache)}
	}
	// Built once here so that a wrong setting or certificate file fails before the
	// database is opened.
	if _, err := tlsconf.New(c); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return &c, nil
}

// tlsSetup builds the HTTPS side of serve from c (see tlsConfig). ACME certificates go
// to the database when HOOKFLOW_TLS_CACHE says db, or by default on PostgreSQL: the
// processes of a cluster then share one certificate, ordered by one of them.
func (o *Options) tlsSetup(c tlsconf.Config, eng *engine.Engine, log *slog.Logger) (*tlsconf.Setup, error) {
	if len(c.Hosts) > 0 {
		mode := o.TLS.Cache
		if mode == "" {
			mode = TLSCacheDir
			if eng.Dialect() == "postgres" {
				mode = TLSCacheDB
			}
		}
		if mode == TLSCacheDB {
			c.Cache, c.Lock = eng.ACMECache(), eng.LockACME
		}
		log.Info("ACME certificates", slog.Any("hosts", c.Hosts), slog.String("cache", mode))
	}
	s, err := tlsconf.New(c)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return s, nil
}

// httpAddr is the plain listener's address with HTTPS on, "" for none.
func (t tlsOptions) httpAddr() string {
	switch t.HTTPAddr {
	case "":
		return HTTPAddrDefault
	case "off":
		return ""
	}
	return t.HTTPAddr
}

// listenHint explains a refused low port.
func listenHint(addr string, err error) error {
	if _, port, perr := net.SplitHostPort(addr); perr == nil && (port == "80" || port == "443") {
		return fmt.Errorf("listen on %s: %w (ports below 1024 need CAP_NET_BIND_SERVICE, see docs/https.md)", addr, err)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}

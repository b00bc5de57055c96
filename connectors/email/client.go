package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// mailer opens SMTP sessions. It drives go-mail's SMTP client (go-mail/smtp) step by
// step rather than calling mail.Client.DialAndSendWithContext: that call's context bounds
// only the dialing, it reports a server without STARTTLS only as text, and its SendError
// hides the server's reply from errors.As. Here every step keeps the reply
// (*textproto.Error), so that classify can read its code.
type mailer struct {
	opts Options
	// helo is the name given in EHLO: this machine's host name, as go-mail does.
	helo string
}

func newMailer(opts Options) *mailer {
	helo, err := os.Hostname()
	if err != nil || helo == "" {
		helo = "localhost"
	}
	return &mailer{opts: opts, helo: helo}
}

func (m *mailer) tlsConfig(host string) *tls.Config {
	return &tls.Config{ServerName: host, RootCAs: m.opts.RootCAs, MinVersion: tls.VersionTLS12}
}

// session connects to the server of cfg, secures the connection as cfg.security says,
// authenticates when cfg has a username, runs fn (when not nil) and says QUIT. Errors
// are not yet classified: pass them through classify.
func (m *mailer) session(ctx context.Context, cfg *connConfig, fn func(*smtp.Client) error) error {
	addr := cfg.addr()
	// The outbound policy's dialer, as for HTTP: it refuses link-local and metadata
	// addresses, the server's own listeners and whatever the settings deny.
	dctx, cancelDial := context.WithTimeout(ctx, m.opts.DialTimeout)
	raw, err := httpclient.DialerFor(ctx).DialContext(dctx, "tcp", addr)
	cancelDial()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = raw.Close() }()
	// Past dialing, nothing in go-mail's client watches ctx: closing the socket when ctx
	// ends is what interrupts a command waiting for its reply.
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	deadline := time.Now().Add(m.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := raw.SetDeadline(deadline); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}

	conn := raw
	if cfg.security == securityTLS {
		tc := tls.Client(raw, m.tlsConfig(cfg.host))
		hctx, cancel := context.WithTimeout(ctx, m.opts.DialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, cfg.host) // reads the 220 greeting
	if err != nil {
		if _, isReply := replyCode(err); !isReply && cfg.security != securityTLS && cfg.port == defaultPorts[securityTLS] {
			// An SMTPS server waits for a TLS handshake and never greets in plain text.
			return fmt.Errorf("read greeting: %w (port 465 usually needs security tls)", err)
		}
		return fmt.Errorf("read greeting: %w", reply(err))
	}
	if err := c.Hello(m.helo); err != nil {
		return fmt.Errorf("EHLO: %w", reply(err))
	}
	if cfg.security == securitySTARTTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return connectors.Permanent(errors.New("the server does not offer STARTTLS, and security starttls forbids " +
				"going on unencrypted: check host and port (something on the network path may also strip STARTTLS)"))
		}
		if err := c.StartTLS(m.tlsConfig(cfg.host)); err != nil {
			return fmt.Errorf("STARTTLS: %w", reply(err))
		}
	}
	if cfg.username != "" {
		if err := authenticate(c, cfg); err != nil {
			return err
		}
	}
	if fn != nil {
		if err := fn(c); err != nil {
			return err
		}
	}
	// The work is done: a failing QUIT changes nothing, as the message was accepted.
	_ = c.Quit()
	return nil
}

// testConnection checks a connection's settings and credentials: it connects, secures
// the connection, authenticates and says QUIT, sending no message.
func (m *mailer) testConnection(ctx context.Context, conn *connectors.Connection) error {
	cfg, err := parseConnection(conn.Config)
	if err != nil {
		return connectors.Permanent(fmt.Errorf("test connection %s: %w", conn.Name, err))
	}
	if err := m.session(ctx, cfg, nil); err != nil {
		return fail(ctx, fmt.Sprintf("test connection %s to %s", conn.Name, cfg.addr()), err)
	}
	return nil
}

// authenticate logs in with AUTH PLAIN, or AUTH LOGIN when the server offers only that,
// exactly once: a rejected password is never tried again.
func authenticate(c *smtp.Client, cfg *connConfig) error {
	ok, offered := c.Extension("AUTH")
	if !ok {
		return connectors.Permanent(errors.New("the server does not offer authentication (AUTH): remove the username " +
			"for a relay that needs none, or check host, port and security"))
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	var auth smtp.Auth
	var mech string
	switch {
	case slices.Contains(mechs, "PLAIN"):
		mech, auth = "PLAIN", smtp.PlainAuth("", cfg.username, cfg.password, cfg.host, false)
	case slices.Contains(mechs, "LOGIN"):
		mech, auth = "LOGIN", smtp.LoginAuth(cfg.username, cfg.password, cfg.host, false)
	default:
		return connectors.Permanent(fmt.Errorf("the server offers AUTH %s, but only PLAIN and LOGIN are supported", offered))
	}
	// With allowUnencrypted false, go-mail refuses to send credentials over a connection
	// without TLS unless the host is localhost; parseConnection already says so.
	if err := c.Auth(auth); err != nil {
		if code, _ := replyCode(err); code == 535 {
			return fmt.Errorf("AUTH %s as %q: %w (check the username and password; a rejected password is not "+
				"retried, so that the account is not locked)", mech, cfg.username, reply(err))
		}
		return fmt.Errorf("AUTH %s as %q: %w", mech, cfg.username, reply(err))
	}
	return nil
}

// fail wraps err from a session with op and classifies it: the context's error when ctx
// ended, a permanent error when a retry cannot help, else a retryable one.
func fail(ctx context.Context, op string, err error) error {
	if ctxErr := context.Cause(ctx); ctxErr != nil {
		// Whatever the socket said after we closed it is noise.
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		// The socket's deadline, set to ctx's, fired a moment before ctx's own timer.
		return fmt.Errorf("%s: %w", op, context.DeadlineExceeded)
	}
	return fmt.Errorf("%s: %w", op, classify(err))
}

// classify marks err permanent when retrying cannot help, following the SMTP reply
// classes: 4xx replies are transient (greylisting, 421 closing, 450/451/452, 454), every
// 5xx is permanent (535 bad credentials above all, so that the account is not locked out
// by retries; 530 authentication or TLS required; 550-554 rejected addresses or message).
// Failures to verify the server's certificate, or to speak TLS with it, are
// configuration errors and permanent too. Other errors (network errors, timeouts, a
// connection dropped) stay retryable.
func classify(err error) error {
	if err == nil || connectors.IsPermanent(err) {
		return err
	}
	if code, ok := replyCode(err); ok {
		if code/100 == 4 {
			return err
		}
		return connectors.Permanent(err) // 5xx, or a reply that makes no sense here
	}
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &certErr):
		return connectors.Permanent(fmt.Errorf("%w (the server's certificate is not trusted for this host)", err))
	case errors.As(err, &recordErr):
		return connectors.Permanent(fmt.Errorf("%w (the server does not speak TLS on this port: check port and security)", err))
	case errors.Is(err, smtp.ErrUnencrypted), errors.Is(err, smtp.ErrWrongHostname):
		return connectors.Permanent(err)
	}
	return err
}

// replyError is a server's reply written as the server sent it ("550 5.1.1 No such
// user"), where textproto.Error quotes the text.
type replyError struct {
	reply *textproto.Error
}

func (e *replyError) Error() string {
	return fmt.Sprintf("%03d %s", e.reply.Code, strings.ReplaceAll(e.reply.Msg, "\n", " "))
}

func (e *replyError) Unwrap() error { return e.reply }

// reply rewrites err as a replyError when it is a server's reply itself.
func reply(err error) error {
	if tp, ok := err.(*textproto.Error); ok {
		return &replyError{reply: tp}
	}
	return err
}

// replyCode returns the SMTP reply code err carries, if it is a server reply.
func replyCode(err error) (int, bool) {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return reply.Code, true
	}
	return 0, false
}

// deliver runs one mail transaction on a ready client and returns the server's reply to
// the message. Every recipient is tried, so that the error names all rejected ones; if
// any is rejected the transaction is reset and nothing is sent, which keeps a retry from
// sending the message twice to the recipients that were accepted.
func deliver(c *smtp.Client, from string, rcpts []string, msg io.WriterTo) (string, error) {
	if err := c.Mail("<" + from + ">"); err != nil {
		return "", fmt.Errorf("MAIL FROM:<%s>: %w", from, reply(err))
	}
	var rejected rejectedError
	for _, rcpt := range rcpts {
		err := c.Rcpt("<" + rcpt + ">")
		if _, isReply := replyCode(err); err != nil && !isReply {
			return "", fmt.Errorf("RCPT TO:<%s>: %w", rcpt, err) // the connection is gone
		}
		if err != nil {
			rejected.errs = append(rejected.errs, fmt.Errorf("RCPT TO:<%s>: %w", rcpt, reply(err)))
		}
	}
	if len(rejected.errs) > 0 {
		_ = c.Reset()
		rejected.total = len(rcpts)
		if rejected.permanent() {
			return "", connectors.Permanent(&rejected)
		}
		return "", &rejected
	}
	w, err := c.Data()
	if err != nil {
		return "", fmt.Errorf("DATA: %w", reply(err))
	}
	if _, err := msg.WriteTo(w); err != nil {
		return "", fmt.Errorf("write message: %w", err)
	}
	// Close sends the final dot and reads the verdict. Without a reply, the outcome is
	// unknown: the server may have queued the message.
	if err := w.Close(); err != nil {
		if _, isReply := replyCode(err); !isReply {
			return "", fmt.Errorf("end of message: %w (the server may have accepted the message before the connection "+
				"failed; a retry sends it again with the same Message-ID)", err)
		}
		return "", fmt.Errorf("end of message: %w", reply(err))
	}
	response := ""
	if dc, ok := w.(*smtp.DataCloser); ok {
		response = dc.ServerResponse()
	}
	return response, nil
}

// rejectedError reports the recipients the server refused.
type rejectedError struct {
	errs  []error
	total int
}

func (e *rejectedError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("the server refused %d of %d recipients, so the message was not sent: %s",
		len(e.errs), e.total, strings.Join(msgs, "; "))
}

func (e *rejectedError) Unwrap() []error { return e.errs }

// permanent reports whether a retry cannot help: some recipient got a reply other than
// 4xx.
func (e *rejectedError) permanent() bool {
	for _, err := range e.errs {
		if code, _ := replyCode(err); code/100 != 4 {
			return true
		}
	}
	return false
}

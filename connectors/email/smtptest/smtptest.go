// Package smtptest is an in-process SMTP server for tests of SMTP clients, built on
// emersion/go-smtp. It listens on 127.0.0.1, behaves like a mail submission server in one
// of three modes (STARTTLS, implicit TLS, no TLS), records every message it accepts and
// every AUTH attempt, and fails on command: a reply code for the next MAIL, RCPT or DATA,
// a dropped connection or a server that stops answering.
//
//	srv := smtptest.NewServer(t, smtptest.Options{Username: "ann", Password: "s3cret-pass"})
//	srv.Fail(smtptest.Failure{Command: smtptest.Rcpt, Code: 451, Message: "Greylisted"})
//	// ... send with a client that trusts smtptest.RootCAs() ...
//	msgs := srv.Messages()
//
// Only tests may import it.
package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how a Server secures its connections.
type Mode int

const (
	// STARTTLS listens in plain text and offers STARTTLS, as submission servers on port 587
	// do. AUTH is offered only once TLS is up, and MAIL before STARTTLS is refused with 530.
	STARTTLS Mode = iota
	// ImplicitTLS speaks TLS from the first byte, as on port 465.
	ImplicitTLS
	// Plain offers no TLS at all, and offers AUTH in clear text when a username is set, so
	// a test can show that a client refuses to send credentials there.
	Plain
)

// Host is the address every Server listens on.
const Host = "127.0.0.1"

// Domain is the name a Server gives itself in its greeting.
const Domain = "smtptest.invalid"

// Mechanisms the server offers when Options.Mechanisms is empty.
var defaultMechanisms = []string{"PLAIN", "LOGIN"}

// Options configures a Server.
type Options struct {
	// Mode is how connections are secured. Default STARTTLS.
	Mode Mode
	// Username and Password are the only credentials accepted. When Username is set, AUTH
	// is offered and required: MAIL before it gets "530 5.7.0", a wrong password gets
	// "535 5.7.8". When it is empty, AUTH is not offered.
	Username string
	Password string
	// Mechanisms lists the AUTH mechanisms offered, from PLAIN and LOGIN. Default both;
	// []string{"LOGIN"} imitates servers that offer only LOGIN.
	Mechanisms []string
}

// Command names what a Failure applies to.
type Command string

// The commands a Failure can apply to.
const (
	// Connect fails a connection before the greeting, such as "421 4.3.2 Too busy".
	Connect Command = "CONNECT"
	// Mail fails the MAIL FROM command.
	Mail Command = "MAIL"
	// Rcpt fails RCPT TO commands, optionally for one recipient only.
	Rcpt Command = "RCPT"
	// Data fails the message: the reply after the final dot, once the message was read.
	Data Command = "DATA"
)

// Failure scripts how a server misbehaves for the next matching commands. Exactly one of
// Code, Drop and Hang says what happens.
type Failure struct {
	// Command is the command that fails.
	Command Command
	// Recipient limits a Rcpt failure to this address (compared without case); empty
	// fails any recipient.
	Recipient string
	// Times is how many matching commands fail: 0 means once, a negative value means
	// every one. Failures are consumed in the order they were added.
	Times int
	// Code is the reply code, such as 421, 451 or 550. Enhanced status codes are added
	// from its class (4.0.0, 5.0.0) unless EnhancedCode is set.
	Code         int
	EnhancedCode [3]int
	// Message is the reply text. Default: a generic text for the code's class.
	Message string
	// Drop closes the connection instead of replying. For Data the message is read and
	// recorded first, as when a server accepts a message but the connection breaks before
	// its "250": the client cannot know whether the message went through.
	Drop bool
	// Hang stops answering until the client disconnects or the server closes, for timeout
	// and cancellation tests.
	Hang bool
}

// Message is a message the server accepted.
type Message struct {
	// From is the envelope sender (MAIL FROM), To the envelope recipients (RCPT TO).
	From string
	To   []string
	// Data is the message as received, with CRLF line endings and dots unstuffed.
	Data []byte
	// TLS reports whether the connection was encrypted, and User who authenticated ("" when
	// nobody did).
	TLS  bool
	User string
}

// AuthAttempt is one AUTH command the server received.
type AuthAttempt struct {
	// Mechanism is the mechanism the client asked for, upper case.
	Mechanism string
	// Username is the user name the client gave ("" when it gave up before sending one).
	Username string
	// TLS reports whether the connection was encrypted.
	TLS bool
	// OK reports whether the credentials were accepted.
	OK bool
}

// Server is a running fake SMTP server. Its methods are safe for concurrent use.
type Server struct {
	opts    Options
	srv     *smtp.Server
	ln      net.Listener
	port    int
	served  chan struct{}
	closing chan struct{}
	conns   sync.WaitGroup
	log     *testLog

	closeOnce sync.Once
	mu        sync.Mutex
	failures  []*Failure
	messages  []Message
	auths     []AuthAttempt
	accepted  int
}

// NewServer starts a server on 127.0.0.1 with a free port and stops it when the test
// ends. The TLS modes use a certificate signed by the CA in RootCAs.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	mechs := opts.Mechanisms
	if len(mechs) == 0 {
		mechs = defaultMechanisms
	}
	opts.Mechanisms = make([]string, len(mechs))
	for i, m := range mechs {
		opts.Mechanisms[i] = strings.ToUpper(m)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{
		opts:    opts,
		ln:      ln,
		port:    ln.Addr().(*net.TCPAddr).Port,
		served:  make(chan struct{}),
		closing: make(chan struct{}),
		log:     newTestLog(t),
	}

	srv := smtp.NewServer(s)
	srv.Domain = Domain
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	// Bounds a client that stops talking, so a broken test fails instead of hanging.
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = s.log

	// Connections are tracked below TLS: go-smtp needs to see the *tls.Conn itself.
	var l net.Listener = &trackingListener{Listener: ln, s: s}
	switch opts.Mode {
	case STARTTLS:
		srv.TLSConfig = serverTLSConfig()
	case ImplicitTLS:
		srv.TLSConfig = serverTLSConfig()
		l = tls.NewListener(l, srv.TLSConfig)
	case Plain:
		// A server without TLS that still offers AUTH: clients must refuse it themselves.
		srv.AllowInsecureAuth = true
	default:
		_ = ln.Close()
		t.Fatalf("smtptest: unknown mode %d", opts.Mode)
	}
	s.srv = srv

	go func() {
		defer close(s.served)
		_ = srv.Serve(&connectListener{Listener: l, s: s})
	}()
	t.Cleanup(s.Close)
	return s
}

// Host returns the address the server listens on, 127.0.0.1.
func (s *Server) Host() string { return Host }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.port }

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(Host, fmt.Sprint(s.port)) }

// Fail adds a scripted failure for the next matching commands.
func (s *Server) Fail(f Failure) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &f)
}

// Messages returns the messages accepted so far, and those read before a Drop, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// AuthAttempts returns every AUTH command received so far, in order.
func (s *Server) AuthAttempts() []AuthAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auths)
}

// Connections returns how many connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Close stops the server, ends every connection and releases hanging commands. NewServer
// registers it with t.Cleanup; calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		_ = s.srv.Close()
		// go-smtp closes only the listeners Serve has registered, which it may not have
		// done yet when a test closes the server at once.
		_ = s.ln.Close()
		<-s.served // no connection is accepted after this, so conns cannot grow
		done := make(chan struct{})
		go func() {
			s.conns.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.log.Printf("connections still open 5s after Close")
		}
		s.log.stop()
	})
}

// take consumes the first failure scripted for cmd (and rcpt, for Rcpt).
func (s *Server) take(cmd Command, rcpt string) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.failures {
		if f.Command != cmd || (cmd == Rcpt && f.Recipient != "" && !strings.EqualFold(f.Recipient, rcpt)) {
			continue
		}
		out := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.failures = slices.Delete(s.failures, i, i+1)
			}
		}
		return out, true
	}
	return Failure{}, false
}

// script applies the failure scripted for cmd, if any, on conn: it returns the reply to
// send, or nil to go on normally.
func (s *Server) script(conn net.Conn, cmd Command, rcpt string) error {
	f, ok := s.take(cmd, rcpt)
	if !ok {
		return nil
	}
	switch {
	case f.Hang:
		s.hang(conn)
		return errHung
	case f.Drop:
		_ = conn.Close()
		return errDropped
	}
	return f.reply()
}

// hang blocks until the client goes away or the server closes. It reads the connection
// meanwhile, which is how a client's disconnection shows; what it reads is lost, which
// does not matter on a connection that is never answered again.
func (s *Server) hang(conn net.Conn) {
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		buf := make([]byte, 512)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	select {
	case <-gone:
	case <-s.closing:
	}
}

func (f Failure) reply() error {
	msg := f.Message
	if msg == "" {
		msg = "Requested action not taken"
		if f.Code/100 == 4 {
			msg = "Temporary failure, try again later"
		}
	}
	return &smtp.SMTPError{Code: f.Code, EnhancedCode: smtp.EnhancedCode(f.EnhancedCode), Message: msg}
}

var (
	errMustStartTLS = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	// errHung and errDropped go to connections that are closed or closing: no client sees them.
	errHung    = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Hung up"}
	errDropped = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Connection dropped"}
)

// NewSession implements smtp.Backend. go-smtp calls it at each EHLO, so again after
// STARTTLS.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: s, conn: c, tls: isTLS}, nil
}

// session is one SMTP session: from EHLO to QUIT, or to STARTTLS.
type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return ss.s.opts.Mechanisms
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	opts := ss.s.opts
	mech = strings.ToUpper(mech)
	ss.s.mu.Lock()
	ss.s.auths = append(ss.s.auths, AuthAttempt{Mechanism: mech, TLS: ss.tls})
	idx := len(ss.s.auths) - 1
	ss.s.mu.Unlock()
	if opts.Username == "" || !slices.Contains(opts.Mechanisms, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}

	check := func(username, password string) error {
		ok := username == opts.Username && password == opts.Password
		ss.s.mu.Lock()
		ss.s.auths[idx].Username, ss.s.auths[idx].OK = username, ok
		ss.s.mu.Unlock()
		if !ok {
			return smtp.ErrAuthFailed // 535 5.7.8
		}
		ss.user = username
		return nil
	}
	if mech == "LOGIN" {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		return check(username, password)
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Mode == STARTTLS && !ss.tls {
		return errMustStartTLS
	}
	if ss.s.opts.Username != "" && ss.user == "" {
		return errAuthRequired
	}
	if err := ss.s.script(ss.conn.Conn(), Mail, ""); err != nil {
		return err
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.s.script(ss.conn.Conn(), Rcpt, to); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	msg := Message{From: ss.from, To: slices.Clone(ss.to), Data: data, TLS: ss.tls, User: ss.user}
	if f, scripted := ss.s.take(Data, ""); scripted {
		switch {
		case f.Drop:
			// The duplicate-risk case: the message is in, but the client never hears so.
			ss.s.record(msg)
			_ = ss.conn.Conn().Close()
			return errDropped
		case f.Hang:
			ss.s.hang(ss.conn.Conn())
			return errHung
		default:
			return f.reply()
		}
	}
	ss.s.record(msg)
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
}

// loginServer is the server side of AUTH LOGIN, which go-sasl does not provide: it asks
// for the user name and then the password, each base64-encoded by the transport.
type loginServer struct {
	step     int
	username string
	check    func(username, password string) error
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(response) == 0 { // no initial response: ask for the user name
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.step = 2
		l.username = string(response)
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.username, string(response))
	}
	return nil, false, errors.New("unexpected AUTH LOGIN response")
}

// trackingListener counts accepted connections and lets Close wait until they are closed.
type trackingListener struct {
	net.Listener
	s *Server
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.conns.Add(1)
	l.s.mu.Lock()
	l.s.accepted++
	l.s.mu.Unlock()
	return &trackedConn{Conn: c, done: l.s.conns.Done}, nil
}

type trackedConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}

// connectListener applies Connect failures: it answers or holds such connections itself
// and hands go-smtp only the others.
type connectListener struct {
	net.Listener
	s *Server
}

func (l *connectListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		f, ok := l.s.take(Connect, "")
		if !ok {
			return c, nil
		}
		go func() {
			defer func() { _ = c.Close() }()
			switch {
			case f.Hang:
				l.s.hang(c)
			case f.Drop:
			default:
				code := f.EnhancedCode
				if code == [3]int{} {
					code = [3]int{f.Code / 100, 0, 0}
				}
				msg := f.Message
				if msg == "" {
					msg = "Service not available, closing transmission channel"
				}
				_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				_, _ = fmt.Fprintf(c, "%d %d.%d.%d %s\r\n", f.Code, code[0], code[1], code[2], msg)
			}
		}()
	}
}

// testLog is go-smtp's error log, written to the test's log while the test runs and
// dropped after, when a late connection goroutine would otherwise make testing panic.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func newTestLog(t testing.TB) *testLog { return &testLog{t: t} }

func (l *testLog) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("smtptest: "+format, v...)
	}
}

func (l *testLog) Println(v ...any) { l.Printf("%s", fmt.Sprintln(v...)) }

func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
}

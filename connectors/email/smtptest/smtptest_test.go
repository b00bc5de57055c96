package smtptest_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/textproto"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail/smtp"

	"github.com/hookflow/hookflow/connectors/email/smtptest"
)

const (
	user     = "ann"
	password = "s3cret-pass"
)

// dial connects a go-mail SMTP client to srv, over TLS for ImplicitTLS.
func dial(t *testing.T, srv *smtptest.Server, mode smtptest.Mode) *smtp.Client {
	t.Helper()
	var conn net.Conn
	var err error
	if mode == smtptest.ImplicitTLS {
		conn, err = tls.Dial("tcp", srv.Addr(), clientTLS())
	} else {
		conn, err = net.DialTimeout("tcp", srv.Addr(), 2*time.Second)
	}
	require.NoError(t, err)
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	c, err := smtp.NewClient(conn, smtptest.Host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Hello("client.test"))
	return c
}

func clientTLS() *tls.Config {
	return &tls.Config{ServerName: smtptest.Host, RootCAs: smtptest.RootCAs(), MinVersion: tls.VersionTLS12}
}

// requireCode fails unless err is a server reply with code.
func requireCode(t *testing.T, err error, code int, text string) {
	t.Helper()
	var reply *textproto.Error
	require.ErrorAs(t, err, &reply)
	require.Equal(t, code, reply.Code)
	require.Contains(t, reply.Msg, text)
}

func sendOne(c *smtp.Client, from string, to []string, data string) error {
	if err := c.Mail("<" + from + ">"); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt("<" + r + ">"); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, data); err != nil {
		return err
	}
	return w.Close()
}

func TestSTARTTLSGatesAuthAndMail(t *testing.T) {
	t.Parallel()
	srv := smtptest.NewServer(t, smtptest.Options{Username: user, Password: password})
	c := dial(t, srv, smtptest.STARTTLS)

	ok, _ := c.Extension("STARTTLS")
	require.True(t, ok)
	ok, _ = c.Extension("AUTH")
	require.False(t, ok, "AUTH must wait for TLS")
	requireCode(t, c.Mail("<a@example.com>"), 530, "5.7.0 Must issue a STARTTLS command first")

	require.NoError(t, c.StartTLS(clientTLS()))
	ok, mechs := c.Extension("AUTH")
	require.True(t, ok)
	require.Equal(t, "PLAIN LOGIN", mechs)
	requireCode(t, c.Mail("<a@example.com>"), 530, "5.7.0 Authentication required")

	requireCode(t, c.Auth(smtp.PlainAuth("", user, "wrong", smtptest.Host, false)), 535, "5.7.8")
	require.Equal(t, []smtptest.AuthAttempt{{Mechanism: "PLAIN", Username: user, TLS: true}}, srv.AuthAttempts())
}

func TestAuthMechanisms(t *testing.T) {
	t.Parallel()

	for _, mode := range []smtptest.Mode{smtptest.STARTTLS, smtptest.ImplicitTLS, smtptest.Plain} {
		srv := smtptest.NewServer(t, smtptest.Options{Mode: mode, Username: user, Password: password, Mechanisms: []string{"login"}})
		connect := func() *smtp.Client {
			c := dial(t, srv, mode)
			if mode == smtptest.STARTTLS {
				require.NoError(t, c.StartTLS(clientTLS()))
			}
			return c
		}
		c := connect()
		_, mechs := c.Extension("AUTH")
		require.Equal(t, "LOGIN", mechs)
		requireCode(t, c.Auth(smtp.PlainAuth("", user, password, smtptest.Host, false)), 504, "Unsupported")
		c = connect() // go-mail hangs up after a failed AUTH
		require.NoError(t, c.Auth(smtp.LoginAuth(user, password, smtptest.Host, false)))
		require.NoError(t, sendOne(c, "a@example.com", []string{"b@example.com"}, "Subject: hi\r\n\r\nhello\r\n"))

		msgs := srv.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, user, msgs[0].User)
		require.Equal(t, mode != smtptest.Plain, msgs[0].TLS)
		encrypted := mode != smtptest.Plain
		require.Equal(t, []smtptest.AuthAttempt{
			{Mechanism: "PLAIN", TLS: encrypted},
			{Mechanism: "LOGIN", Username: user, TLS: encrypted, OK: true},
		}, srv.AuthAttempts())
	}
}

func TestRecordsMessagesDotUnstuffed(t *testing.T) {
	t.Parallel()
	srv := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain})
	c := dial(t, srv, smtptest.Plain)
	ok, _ := c.Extension("AUTH")
	require.False(t, ok, "no AUTH without a username")

	data := "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n"
	require.NoError(t, sendOne(c, "a@example.com", []string{"b@example.com", "c@example.com"}, data))
	require.Equal(t, []smtptest.Message{{
		From: "a@example.com", To: []string{"b@example.com", "c@example.com"}, Data: []byte(data),
	}}, srv.Messages())
}

func TestScriptedFailures(t *testing.T) {
	t.Parallel()
	srv := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain})
	srv.Fail(smtptest.Failure{Command: smtptest.Rcpt, Recipient: "GREY@example.com", Code: 450, Message: "Greylisted"})
	srv.Fail(smtptest.Failure{Command: smtptest.Rcpt, Recipient: "gone@example.com", Code: 550, Times: -1})
	srv.Fail(smtptest.Failure{Command: smtptest.Mail, Code: 451, Times: 2})
	c := dial(t, srv, smtptest.Plain)

	requireCode(t, c.Mail("<a@example.com>"), 451, "4.0.0 Temporary failure")
	requireCode(t, c.Mail("<a@example.com>"), 451, "4.0.0")
	require.NoError(t, c.Mail("<a@example.com>"))
	require.NoError(t, c.Rcpt("<ok@example.com>"))
	requireCode(t, c.Rcpt("<grey@example.com>"), 450, "4.0.0 Greylisted")
	require.NoError(t, c.Rcpt("<grey@example.com>"), "greylisting is once")
	requireCode(t, c.Rcpt("<gone@example.com>"), 550, "5.0.0")
	requireCode(t, c.Rcpt("<gone@example.com>"), 550, "5.0.0")
	require.NoError(t, c.Reset())
}

func TestDataFailures(t *testing.T) {
	t.Parallel()

	t.Run("reply", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain})
		srv.Fail(smtptest.Failure{Command: smtptest.Data, Code: 554, EnhancedCode: [3]int{5, 7, 1}, Message: "Spam"})
		c := dial(t, srv, smtptest.Plain)
		requireCode(t, sendOne(c, "a@example.com", []string{"b@example.com"}, "x\r\n"), 554, "5.7.1 Spam")
		require.Empty(t, srv.Messages(), "a rejected message is not recorded")
	})
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain})
		srv.Fail(smtptest.Failure{Command: smtptest.Data, Drop: true})
		c := dial(t, srv, smtptest.Plain)
		err := sendOne(c, "a@example.com", []string{"b@example.com"}, "x\r\n")
		require.Error(t, err)
		var reply *textproto.Error
		require.False(t, errors.As(err, &reply), "no reply may arrive: %v", err)
		require.Len(t, srv.Messages(), 1, "the message got in before the drop")
	})
	t.Run("hang until the client leaves", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain})
		srv.Fail(smtptest.Failure{Command: smtptest.Mail, Hang: true})
		conn, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		require.NoError(t, conn.SetDeadline(time.Now().Add(300*time.Millisecond)))
		c, err := smtp.NewClient(conn, smtptest.Host)
		require.NoError(t, err)
		err = c.Mail("<a@example.com>")
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		require.True(t, ne.Timeout())
		require.NoError(t, conn.Close())
	})
}

func TestConnectFailure(t *testing.T) {
	t.Parallel()
	srv := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.ImplicitTLS})
	srv.Fail(smtptest.Failure{Command: smtptest.Connect, Code: 421, EnhancedCode: [3]int{4, 3, 2}, Message: "Too busy"})

	conn, err := tls.Dial("tcp", srv.Addr(), clientTLS())
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = smtp.NewClient(conn, smtptest.Host)
	requireCode(t, err, 421, "4.3.2 Too busy")

	// The next connection is served.
	_ = dial(t, srv, smtptest.ImplicitTLS)
	require.Equal(t, 2, srv.Connections())
}

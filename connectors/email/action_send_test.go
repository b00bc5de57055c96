package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/email/smtptest"
)

func TestSendSecurityModes(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		opts       smtptest.Options
		wantMech   string
		wantTLS    bool
		clearLogin bool
	}{
		{name: "starttls plain auth", opts: smtptest.Options{Mode: smtptest.STARTTLS}, wantMech: "PLAIN", wantTLS: true},
		{name: "starttls login only", opts: smtptest.Options{Mode: smtptest.STARTTLS, Mechanisms: []string{"LOGIN"}},
			wantMech: "LOGIN", wantTLS: true},
		{name: "implicit tls", opts: smtptest.Options{Mode: smtptest.ImplicitTLS}, wantMech: "PLAIN", wantTLS: true},
		{name: "implicit tls login only", opts: smtptest.Options{Mode: smtptest.ImplicitTLS, Mechanisms: []string{"LOGIN"}},
			wantMech: "LOGIN", wantTLS: true},
		// Credentials in clear text are allowed to localhost only, for local relays.
		{name: "none on localhost", opts: smtptest.Options{Mode: smtptest.Plain}, wantMech: "PLAIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opts)

			r := b.send(t, basicInput())
			require.NoError(t, r.err)
			require.Equal(t, []any{"ann@example.com"}, r.out[outAccepted])
			require.Equal(t, messageID(r.call.IdempotencyKey, fromAddress), r.out[outMessageID])
			require.Contains(t, r.out[outResponse], "queued")

			auths := b.srv.AuthAttempts()
			require.Len(t, auths, 1)
			require.Equal(t, smtptest.AuthAttempt{Mechanism: tt.wantMech, Username: fakeUser, TLS: tt.wantTLS, OK: true}, auths[0])

			msgs := b.srv.Messages()
			require.Len(t, msgs, 1)
			require.Equal(t, fromAddress, msgs[0].From)
			require.Equal(t, []string{"ann@example.com"}, msgs[0].To)
			require.Equal(t, tt.wantTLS, msgs[0].TLS)
			require.Equal(t, fakeUser, msgs[0].User)
			require.Contains(t, r.logs, "Email sent")
		})
	}
}

func TestSendWithoutAuthentication(t *testing.T) {
	t.Parallel()

	for _, mode := range []smtptest.Mode{smtptest.STARTTLS, smtptest.ImplicitTLS, smtptest.Plain} {
		b := setupOpen(t, mode)
		r := b.send(t, basicInput())
		require.NoError(t, r.err, "mode %d", mode)
		require.Len(t, b.srv.Messages(), 1)
		require.Empty(t, b.srv.AuthAttempts())
	}
}

// receivedMessage is a message as the server got it, parsed.
type receivedMessage struct {
	smtptest.Message
	header mail.Header
	parts  []receivedPart
}

type receivedPart struct {
	contentType string
	body        string
}

func parseReceived(t *testing.T, m smtptest.Message) receivedMessage {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	require.NoError(t, err)
	out := receivedMessage{Message: m, header: msg.Header}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	if !strings.HasPrefix(mediaType, "multipart/") {
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		require.NoError(t, err)
		body = bytes.TrimSuffix(body, []byte("\r\n")) // the line end after the body
		out.parts = []receivedPart{{contentType: msg.Header.Get("Content-Type"), body: string(body)}}
		return out
	}
	require.Equal(t, "multipart/alternative", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(p)
		require.NoError(t, err)
		out.parts = append(out.parts, receivedPart{contentType: p.Header.Get("Content-Type"), body: string(body)})
	}
	return out
}

func TestMessageAsReceived(t *testing.T) {
	t.Parallel()
	b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})

	subject := "Заказ №1042 отправлен: ваш заказ уже в пути к вам, ждите курьера завтра 🚚"
	text := "Hello Ann,\n.a line starting with a dot\nÜbermorgen kommt es an.\n"
	html := "<p>Hello Ann,</p><p>Übermorgen kommt es an.</p>"
	r := b.send(t, map[string]any{
		inTo:      "Ann Lee <ann@example.com>, bob@example.com",
		inCc:      []any{"Chloé Martin <chloe@example.com>"},
		inBcc:     "archive@acme.example",
		inReplyTo: "Support <support@acme.example>",
		inSubject: subject,
		inText:    text,
		inHTML:    html,
		inHeaders: map[string]any{"X-Campaign": "spring-sale", "List-Unsubscribe": "<mailto:unsub@acme.example>", "X-Retry": 3},
	})
	require.NoError(t, r.err)
	require.Equal(t, []any{"ann@example.com", "bob@example.com", "chloe@example.com", "archive@acme.example"}, r.out[outAccepted])

	msgs := b.srv.Messages()
	require.Len(t, msgs, 1)
	got := parseReceived(t, msgs[0])
	h := got.header

	// Envelope: every recipient, the blind copy included.
	require.Equal(t, fromAddress, got.From)
	require.Equal(t, []string{"ann@example.com", "bob@example.com", "chloe@example.com", "archive@acme.example"}, got.To)

	// Address headers, and no trace of the blind copy.
	from, err := h.AddressList("From")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Name: "Acme Alerts", Address: fromAddress}}, from)
	to, err := h.AddressList("To")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Name: "Ann Lee", Address: "ann@example.com"}, {Address: "bob@example.com"}}, to)
	cc, err := h.AddressList("Cc")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Name: "Chloé Martin", Address: "chloe@example.com"}}, cc)
	replyTo, err := h.AddressList("Reply-To")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Name: "Support", Address: "support@acme.example"}}, replyTo)
	require.Empty(t, h.Get("Bcc"))
	require.NotContains(t, string(got.Data), "archive@acme.example")

	// The subject is RFC 2047-encoded and decodes back.
	rawSubject := h.Get("Subject")
	require.NotContains(t, rawSubject, "Заказ", "non-ASCII must be encoded")
	require.Contains(t, strings.ToLower(rawSubject), "=?utf-8?q?")
	decoded, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	require.NoError(t, err)
	require.Equal(t, subject, decoded)

	require.Equal(t, r.out[outMessageID], h.Get("Message-ID"))
	date, err := h.Date()
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), date, time.Minute)
	require.Equal(t, "1.0", h.Get("MIME-Version"))
	require.Equal(t, "spring-sale", h.Get("X-Campaign"))
	require.Equal(t, "<mailto:unsub@acme.example>", h.Get("List-Unsubscribe"))
	require.Equal(t, "3", h.Get("X-Retry"))
	require.Contains(t, h.Get("User-Agent"), "Hookflow/")

	// multipart/alternative: text first, html last, both decoded back exactly.
	require.Len(t, got.parts, 2)
	require.Equal(t, "text/plain; charset=UTF-8", got.parts[0].contentType)
	require.Equal(t, strings.ReplaceAll(text, "\n", "\r\n"), got.parts[0].body)
	require.Equal(t, "text/html; charset=UTF-8", got.parts[1].contentType)
	require.Equal(t, html, got.parts[1].body)

	// Mail's line limit holds even with the long encoded subject.
	for _, line := range strings.Split(string(got.Data), "\r\n") {
		require.LessOrEqual(t, len(line), 998)
	}
}

func TestMessageSingleBody(t *testing.T) {
	t.Parallel()
	b := setupOpen(t, smtptest.Plain)

	for _, tc := range []struct {
		input map[string]any
		want  receivedPart
	}{
		{map[string]any{inTo: "ann@example.com", inText: "just text"}, receivedPart{"text/plain; charset=UTF-8", "just text"}},
		{map[string]any{inTo: "ann@example.com", inHTML: "<b>just html</b>"}, receivedPart{"text/html; charset=UTF-8", "<b>just html</b>"}},
	} {
		r := b.send(t, tc.input)
		require.NoError(t, r.err)
		msgs := b.srv.Messages()
		got := parseReceived(t, msgs[len(msgs)-1])
		require.Equal(t, []receivedPart{tc.want}, got.parts)
		require.Empty(t, got.header.Get("Subject"))
		require.Empty(t, got.header.Get("Cc"))
	}
}

func TestRecipientForms(t *testing.T) {
	t.Parallel()
	b := setupOpen(t, smtptest.Plain)

	tests := []struct {
		name string
		in   map[string]any
		want []string
	}{
		{"one address", map[string]any{inTo: "ann@example.com"}, []string{"ann@example.com"}},
		{"comma-separated with names", map[string]any{inTo: `Ann <ann@example.com>, "Stone, Bob" <bob@example.com>,`},
			[]string{"ann@example.com", "bob@example.com"}},
		{"list", map[string]any{inTo: []any{"ann@example.com", "Bob <bob@example.com>"}}, []string{"ann@example.com", "bob@example.com"}},
		{"list of lists in strings", map[string]any{inTo: []string{"ann@example.com, bob@example.com", "carl@example.com"}},
			[]string{"ann@example.com", "bob@example.com", "carl@example.com"}},
		{"bcc only", map[string]any{inBcc: "ann@example.com"}, []string{"ann@example.com"}},
		{"duplicates once", map[string]any{inTo: "ann@example.com", inCc: "ANN@example.com", inBcc: []any{"ann@example.com", ""}},
			[]string{"ann@example.com"}},
	}
	for _, tt := range tests {
		tt.in[inText] = "hi"
		r := b.send(t, tt.in)
		require.NoError(t, r.err, tt.name)
		msgs := b.srv.Messages()
		require.Equal(t, tt.want, msgs[len(msgs)-1].To, tt.name)
		want := make([]any, len(tt.want))
		for i, w := range tt.want {
			want[i] = w
		}
		require.Equal(t, want, r.out[outAccepted], tt.name)
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      map[string]any
		wantErr []string
	}{
		{"bad to", map[string]any{inTo: "ann@", inText: "x"}, []string{`to: "ann@" is not a valid email address`}},
		{"bad cc in list", map[string]any{inTo: "ann@example.com", inCc: []any{"ok@example.com", "not an address"}, inText: "x"},
			[]string{`cc: "not an address" is not a valid email address`}},
		{"bad bcc", map[string]any{inBcc: "a@b.example; c@d.example", inText: "x"}, []string{"bcc: "}},
		{"bad reply_to", map[string]any{inTo: "ann@example.com", inReplyTo: "support", inText: "x"}, []string{"reply_to: "}},
		{"to not a string", map[string]any{inTo: 42, inText: "x"}, []string{"to: expected a string or a list of strings, got integer"}},
		{"to list of objects", map[string]any{inTo: []any{map[string]any{"a": 1}}, inText: "x"}, []string{"to[0]: expected an address string, got object"}},
		{"no recipient", map[string]any{inTo: "", inText: "x"}, []string{"no recipient: set to, cc or bcc"}},
		{"no body", map[string]any{inTo: "ann@example.com", inSubject: "hi"}, []string{"no body: set text, html or both"}},
		{"text not a string", map[string]any{inTo: "ann@example.com", inText: []any{"x"}}, []string{"text: expected a string, got array"}},
		{"reserved header", map[string]any{inTo: "ann@example.com", inText: "x", inHeaders: map[string]any{"bcc": "spy@example.com"}},
			[]string{"headers: bcc is set by the email connector"}},
		{"content-type header", map[string]any{inTo: "ann@example.com", inText: "x", inHeaders: map[string]any{"Content-Type": "text/html"}},
			[]string{"headers: Content-Type is set by the email connector"}},
		{"header name", map[string]any{inTo: "ann@example.com", inText: "x", inHeaders: map[string]any{"X Bad": "v"}},
			[]string{`headers: "X Bad" is not a valid header name`}},
		{"header injection", map[string]any{inTo: "ann@example.com", inText: "x", inHeaders: map[string]any{"X-Note": "a\r\nBcc: spy@example.com"}},
			[]string{"headers: X-Note: the value contains a line break"}},
		{"header duplicate", map[string]any{inTo: "ann@example.com", inText: "x", inHeaders: map[string]any{"X-A": "1", "x-a": "2"}},
			[]string{"X-A and x-a are the same header"}},
		{"headers not an object", map[string]any{inTo: "ann@example.com", inText: "x", inHeaders: "X-A: 1"},
			[]string{"headers: expected an object, got string"}},
		{"several problems at once", map[string]any{inTo: "ann@", inCc: "bob@"}, []string{"to: ", "cc: ", "no body"}},
	}
	def := sendAction(newMailer(testOptions()))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			verr := def.New().(connectors.Validator).Validate(tt.in)
			requirePermanent(t, verr)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, verr, want)
			}

			// Run checks too, and fails before connecting anywhere.
			b := &testBundle{connector: New(testOptions()), config: map[string]any{
				connHost: "127.0.0.1", connPort: 1, connSecurity: securityNone, connFrom: fakeFrom,
			}}
			call := b.newCall(t, tt.in)
			out, err := def.New().Run(t.Context(), call)
			require.Nil(t, out)
			requirePermanent(t, err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestScriptedReplies(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		failure   smtptest.Failure
		permanent bool
		wantErr   string
	}{
		{"421 on connect", smtptest.Failure{Command: smtptest.Connect, Code: 421, Message: "Too busy"}, false, "421"},
		{"451 on MAIL", smtptest.Failure{Command: smtptest.Mail, Code: 451}, false, "MAIL FROM:<alerts@acme.example>: 451"},
		{"553 on MAIL", smtptest.Failure{Command: smtptest.Mail, Code: 553, Message: "Sender not allowed"}, true, "553"},
		{"450 greylisted recipient", smtptest.Failure{Command: smtptest.Rcpt, Code: 450, Message: "Greylisted"}, false,
			"RCPT TO:<ann@example.com>: 450"},
		{"550 unknown recipient", smtptest.Failure{Command: smtptest.Rcpt, Code: 550, Message: "No such user"}, true,
			"the server refused 1 of 1 recipients, so the message was not sent: RCPT TO:<ann@example.com>: 550"},
		{"452 on DATA", smtptest.Failure{Command: smtptest.Data, Code: 452, Message: "Insufficient storage"}, false, "452"},
		{"554 on DATA", smtptest.Failure{Command: smtptest.Data, Code: 554, Message: "Spam"}, true, "554 5.0.0 Spam"},
		{"dropped at MAIL", smtptest.Failure{Command: smtptest.Mail, Drop: true}, false, "MAIL FROM"},
		{"dropped at RCPT", smtptest.Failure{Command: smtptest.Rcpt, Drop: true}, false, "RCPT TO:<ann@example.com>: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})
			b.srv.Fail(tt.failure)

			r := b.send(t, basicInput())
			if tt.permanent {
				requirePermanent(t, r.err)
			} else {
				requireRetryable(t, r.err)
			}
			require.ErrorContains(t, r.err, tt.wantErr)
			require.ErrorContains(t, r.err, "for step "+r.call.StepID)
			require.Empty(t, b.srv.Messages())
		})
	}
}

func TestGreylistedThenAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})
	b.srv.Fail(smtptest.Failure{Command: smtptest.Rcpt, Code: 451, Message: "Greylisted, try again later"})

	call := b.newCall(t, basicInput())
	first := b.sendCall(t.Context(), t, call)
	requireRetryable(t, first.err)
	require.ErrorContains(t, first.err, "451 4.0.0 Greylisted")
	require.Empty(t, b.srv.Messages())

	// The runner's retry: the same call, next attempt.
	call.Attempt = 2
	second := b.sendCall(t.Context(), t, call)
	require.NoError(t, second.err)
	msgs := b.srv.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, second.out[outMessageID], parseReceived(t, msgs[0]).header.Get("Message-ID"))
	require.Equal(t, messageID(call.IdempotencyKey, fromAddress), second.out[outMessageID])
}

func TestOneRecipientRejectedSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})
	b.srv.Fail(smtptest.Failure{Command: smtptest.Rcpt, Recipient: "gone@example.com", Code: 550, Message: "Mailbox unavailable"})
	b.srv.Fail(smtptest.Failure{Command: smtptest.Rcpt, Recipient: "busy@example.com", Code: 450, Message: "Mailbox busy"})

	input := basicInput()
	input[inTo] = "ann@example.com, gone@example.com, busy@example.com"
	r := b.send(t, input)
	requirePermanent(t, r.err) // the 550 decides: a retry cannot reach gone@
	require.ErrorContains(t, r.err, "refused 2 of 3 recipients")
	require.ErrorContains(t, r.err, "RCPT TO:<gone@example.com>: 550 5.0.0 Mailbox unavailable")
	require.ErrorContains(t, r.err, "RCPT TO:<busy@example.com>: 450 4.0.0 Mailbox busy")
	require.Empty(t, b.srv.Messages(), "ann@ must not get the message alone")
}

func TestWrongPasswordIsPermanentAndTriedOnce(t *testing.T) {
	t.Parallel()

	for _, mechs := range [][]string{{"PLAIN", "LOGIN"}, {"LOGIN"}} {
		b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS, Mechanisms: mechs})
		b.config[connPassword] = "pw-wrong-0b7f2e"

		r := b.send(t, basicInput())
		requirePermanent(t, r.err)
		require.ErrorContains(t, r.err, "535 5.7.8")
		require.ErrorContains(t, r.err, `as "`+fakeUser+`"`)
		require.ErrorContains(t, r.err, "check the username and password")
		connectortest.AssertNoSecrets(t, []string{"pw-wrong-0b7f2e"}, nil, r.err, r.logs)
		require.Len(t, b.srv.AuthAttempts(), 1, "a rejected password must not be tried again")
		require.Empty(t, b.srv.Messages())
	}
}

func TestSTARTTLSRequired(t *testing.T) {
	t.Parallel()
	// A server that offers AUTH but no STARTTLS, as a downgrade attack would show it.
	b := setup(t, smtptest.Options{Mode: smtptest.Plain})
	b.config[connSecurity] = securitySTARTTLS

	r := b.send(t, basicInput())
	requirePermanent(t, r.err)
	require.ErrorContains(t, r.err, "does not offer STARTTLS")
	require.Empty(t, b.srv.AuthAttempts(), "credentials went out unencrypted")
	require.Empty(t, b.srv.Messages())
}

func TestTLSErrorsArePermanent(t *testing.T) {
	t.Parallel()

	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		for _, mode := range []smtptest.Mode{smtptest.STARTTLS, smtptest.ImplicitTLS} {
			b := setup(t, smtptest.Options{Mode: mode})
			b.connector = New(Options{DialTimeout: 2 * time.Second, Timeout: 5 * time.Second}) // system roots only
			r := b.send(t, basicInput())
			requirePermanent(t, r.err)
			require.ErrorContains(t, r.err, "certificate")
			require.Empty(t, b.srv.AuthAttempts())
		}
	})
	t.Run("tls against a plain port", func(t *testing.T) {
		t.Parallel()
		b := setup(t, smtptest.Options{Mode: smtptest.Plain})
		b.config[connSecurity] = securityTLS
		r := b.send(t, basicInput())
		requirePermanent(t, r.err)
		require.ErrorContains(t, r.err, "does not speak TLS on this port")
	})
}

func TestDroppedAfterData(t *testing.T) {
	t.Parallel()
	b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})
	b.srv.Fail(smtptest.Failure{Command: smtptest.Data, Drop: true})

	call := b.newCall(t, basicInput())
	r := b.sendCall(t.Context(), t, call)
	requireRetryable(t, r.err)
	require.ErrorContains(t, r.err, "the server may have accepted the message")

	// The server did get it: the retry sends a copy with the same Message-ID.
	call.Attempt = 2
	retry := b.sendCall(t.Context(), t, call)
	require.NoError(t, retry.err)
	msgs := b.srv.Messages()
	require.Len(t, msgs, 2)
	first, second := parseReceived(t, msgs[0]), parseReceived(t, msgs[1])
	require.Equal(t, first.header.Get("Message-ID"), second.header.Get("Message-ID"))
}

func TestContextCancelReturnsPromptly(t *testing.T) {
	t.Parallel()

	for _, cmd := range []smtptest.Command{smtptest.Connect, smtptest.Mail, smtptest.Data} {
		t.Run(string(cmd), func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})
			b.connector = New(Options{RootCAs: smtptest.RootCAs(), Timeout: time.Minute}) // only ctx can stop it
			b.srv.Fail(smtptest.Failure{Command: cmd, Hang: true})

			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(200*time.Millisecond, cancel)
			start := time.Now()
			r := b.sendCall(ctx, t, b.newCall(t, basicInput()))
			require.Less(t, time.Since(start), 2*time.Second)
			requireRetryable(t, r.err)
			require.ErrorIs(t, r.err, context.Canceled)
		})
	}
}

func TestStepDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})
	b.connector = New(Options{RootCAs: smtptest.RootCAs(), Timeout: time.Minute})
	b.srv.Fail(smtptest.Failure{Command: smtptest.Rcpt, Hang: true})

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := b.sendCall(ctx, t, b.newCall(t, basicInput()))
	require.Less(t, time.Since(start), 2*time.Second)
	requireRetryable(t, r.err)
	require.ErrorIs(t, r.err, context.DeadlineExceeded)
}

func TestSlowServerTimesOut(t *testing.T) {
	t.Parallel()
	b := setup(t, smtptest.Options{Mode: smtptest.ImplicitTLS})
	b.connector = New(Options{RootCAs: smtptest.RootCAs(), Timeout: 300 * time.Millisecond})
	b.srv.Fail(smtptest.Failure{Command: smtptest.Data, Hang: true})

	start := time.Now()
	r := b.send(t, basicInput())
	require.Less(t, time.Since(start), 2*time.Second)
	requireRetryable(t, r.err)
	require.ErrorContains(t, r.err, "timeout")
}

func TestUnreachableServerIsRetryable(t *testing.T) {
	t.Parallel()
	b := setupOpen(t, smtptest.Plain)
	b.srv.Close()

	r := b.send(t, basicInput())
	requireRetryable(t, r.err)
	require.ErrorContains(t, r.err, "connect")
}

func TestMessageIDFromIdempotencyKey(t *testing.T) {
	t.Parallel()

	require.Equal(t, messageID("run_1:send", "a@acme.example"), messageID("run_1:send", "a@acme.example"))
	require.NotEqual(t, messageID("run_1:send", "a@acme.example"), messageID("run_1:send:0", "a@acme.example"))
	require.NotEqual(t, messageID("a:b", "a@acme.example"), messageID("a/b", "a@acme.example"), "the hash keeps keys apart")
	require.NotEqual(t, messageID("", "a@acme.example"), messageID("", "a@acme.example"), "no key: random")

	for _, key := range []string{"run_01J9:send_mail", "run_1:step:17", "", "::", strings.Repeat("k", 500), "ключ:шаг"} {
		id := messageID(key, "alerts@Acme.example")
		require.True(t, strings.HasPrefix(id, "<") && strings.HasSuffix(id, "@Acme.example>"), id)
		require.LessOrEqual(t, len(id), 200, id)
		// A valid msg-id: dot-atom-text left of the @.
		left := strings.TrimPrefix(id[:strings.LastIndexByte(id, '@')], "<")
		require.NotEmpty(t, left)
		require.False(t, strings.HasPrefix(left, ".") || strings.HasSuffix(left, ".") || strings.Contains(left, ".."), id)
		for _, r := range left {
			require.True(t, r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z', id)
		}
	}
	require.True(t, strings.HasPrefix(messageID("run_01J9:send_mail", "a@x.example"), "<run_01J9.send_mail."))
}

package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/hookflow/hookflow/connectors"
)

// Input field names.
const (
	inTo      = "to"
	inCc      = "cc"
	inBcc     = "bcc"
	inReplyTo = "reply_to"
	inSubject = "subject"
	inText    = "text"
	inHTML    = "html"
	inHeaders = "headers"
)

// Output field names.
const (
	outMessageID = "message_id"
	outAccepted  = "accepted"
	outResponse  = "response"
)

// addressForms is the shared description of the address inputs.
const addressForms = "a string of one or more comma-separated addresses, or a list of strings. An address is " +
	"`ann@example.com` or `Ann Lee <ann@example.com>`"

var sendSpec = connectors.ActionSpec{
	Name:  "send",
	Title: "Send email",
	Description: "Sends one email through the connection's SMTP server. With both text and html the message is " +
		"multipart/alternative with the text part first and the HTML part last, the one mail clients show when they can. " +
		"Every recipient must be accepted or nothing is sent. Replies 5xx (an unknown recipient, a refused sender, " +
		"bad credentials) fail the step at once; 4xx replies (greylisting, a busy server), timeouts and broken " +
		"connections are retried. " +
		"SMTP has no idempotency key: if the connection breaks after the message was sent but before the server " +
		"confirmed it, the retry sends it again. The Message-ID is therefore derived from the step's idempotency key " +
		"and the same on every attempt, so receivers and mail clients can recognise the copy as a duplicate.",
	Inputs: []connectors.Field{
		{Name: inTo, Type: connectors.TypeAny, Title: "To",
			Description: "Recipients shown in the To header: " + addressForms + ". At least one recipient in to, cc " +
				"or bcc is required.",
			Examples: []any{"ann@example.com, Bob Stone <bob@example.com>", []any{"ann@example.com", "bob@example.com"}}},
		{Name: inCc, Type: connectors.TypeAny, Title: "Cc",
			Description: "Copy recipients, shown in the Cc header: " + addressForms + ".",
			Examples:    []any{"sales@example.com"}},
		{Name: inBcc, Type: connectors.TypeAny, Title: "Bcc",
			Description: "Blind copy recipients: " + addressForms + ". They receive the message but appear in no " +
				"header, so other recipients do not see them.",
			Examples: []any{[]any{"archive@example.com"}}},
		{Name: inReplyTo, Type: connectors.TypeAny, Title: "Reply-To",
			Description: "Where replies go when they should not go to the connection's from address: " + addressForms + ".",
			Examples:    []any{"Support <support@example.com>"}},
		{Name: inSubject, Type: connectors.TypeString, Title: "Subject",
			Description: "Subject line. Any language works: non-ASCII text is encoded as RFC 2047 requires. Line " +
				"breaks are replaced by spaces.",
			Examples: []any{"Order 1042 has shipped"}},
		{Name: inText, Type: connectors.TypeString, Title: "Text body",
			Description: "Plain-text body. At least one of text and html is required; sending both lets every mail " +
				"client show something readable.",
			Examples: []any{"Hello Ann,\n\nyour order 1042 is on its way.\n"}},
		{Name: inHTML, Type: connectors.TypeString, Title: "HTML body",
			Description: "HTML body, sent as is. At least one of text and html is required.",
			Examples:    []any{"<p>Hello Ann,</p><p>your order <b>1042</b> is on its way.</p>"}},
		{Name: inHeaders, Type: connectors.TypeObject, Title: "Extra headers",
			Description: "More message headers, name to value (a string, number or boolean), such as List-Unsubscribe, " +
				"In-Reply-To or X- headers. Non-ASCII values are encoded; line breaks are refused. Headers that the " +
				"other inputs, the connection or the message's structure set are refused too: " +
				strings.Join(reservedHeaderNames, ", ") + ".",
			Examples: []any{map[string]any{"List-Unsubscribe": "<mailto:unsubscribe@example.com>", "X-Campaign": "spring-sale"}}},
	},
	Outputs: []connectors.Field{
		{Name: outMessageID, Type: connectors.TypeString, Title: "Message-ID",
			Description: "The Message-ID header, with its angle brackets: give it to In-Reply-To and References headers " +
				"to thread replies. It is the same on every attempt of the step.",
			Examples: []any{"<run_01.send_mail.2c26b46b68ffc68f@acme.example>"}},
		{Name: outAccepted, Type: connectors.TypeArray, Title: "Accepted recipients",
			Description: "The addresses the server accepted the message for: to, cc and bcc, without names and " +
				"without duplicates.",
			Items: &connectors.Field{Name: "address", Type: connectors.TypeString, Title: "Address",
				Description: "An email address."}},
		{Name: outResponse, Type: connectors.TypeString, Title: "Server response",
			Description: "The server's reply to the message, which often names its queue id.",
			Examples:    []any{"2.0.0 OK: queued as 4Bx7Lq1Zz9"}},
	},
}

// sendAction returns email.send delivering through m.
func sendAction(m *mailer) *connectors.ActionDef {
	return &connectors.ActionDef{
		ActionSpec: sendSpec,
		New:        func() connectors.Action { return &send{mailer: m} },
	}
}

var (
	_ connectors.Action    = (*send)(nil)
	_ connectors.Validator = (*send)(nil)
)

// send is one call of email.send.
type send struct {
	mailer *mailer
}

// Validate checks the inputs offline: addresses, a recipient, a body and the headers.
func (a *send) Validate(input map[string]any) error {
	if _, err := parseInput(input); err != nil {
		return connectors.Permanent(err)
	}
	return nil
}

// Run builds the message and delivers it in one SMTP session.
func (a *send) Run(ctx context.Context, call *connectors.Call) (any, error) {
	in, err := parseInput(call.Input)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("invalid input for step %s: %w", call.StepID, err))
	}
	conn := call.Connection
	if conn == nil {
		return nil, connectors.Permanent(fmt.Errorf("email.send for step %s needs a connection", call.StepID))
	}
	// Saved connections were validated, but settings can predate a rule.
	cfg, err := parseConnection(conn.Config)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("connection %s for step %s: %w", conn.Name, call.StepID, err))
	}

	msgID := messageID(call.IdempotencyKey, cfg.from.Address)
	msg := buildMessage(in, cfg.from, msgID, time.Now())
	rcpts := in.recipients()
	var response string
	err = a.mailer.session(ctx, cfg, func(c *smtp.Client) error {
		var err error
		response, err = deliver(c, cfg.from.Address, rcpts, msg)
		return err
	})
	if err != nil {
		return nil, fail(ctx, fmt.Sprintf("send email %s via %s for step %s", msgID, cfg.addr(), call.StepID), err)
	}
	logger(call).LogAttrs(ctx, slog.LevelDebug, "Email sent",
		slog.String("step_id", call.StepID),
		slog.String("server", cfg.addr()),
		slog.String("message_id", msgID),
		slog.Int("recipients", len(rcpts)),
		slog.String("response", response))

	accepted := make([]any, len(rcpts))
	for i, r := range rcpts {
		accepted[i] = r
	}
	return map[string]any{
		outMessageID: msgID,
		outAccepted:  accepted,
		// A server echoing a credential is unheard of, but outputs are stored and shown.
		outResponse: conn.Redact(response),
	}, nil
}

func logger(call *connectors.Call) *slog.Logger {
	if call.Logger != nil {
		return call.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// sendInput is the checked form of the step's inputs.
type sendInput struct {
	to, cc, bcc, replyTo []*mail.Address
	subject, text, html  string
	headers              []header
}

// recipients returns the envelope recipients: to, cc and bcc, without names and without
// duplicates (compared without case).
func (in *sendInput) recipients() []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]*mail.Address{in.to, in.cc, in.bcc} {
		for _, a := range list {
			key := strings.ToLower(a.Address)
			if !seen[key] {
				seen[key] = true
				out = append(out, a.Address)
			}
		}
	}
	return out
}

// parseInput checks every input. Errors are plain and name their input; callers mark
// them permanent.
func parseInput(raw map[string]any) (*sendInput, error) {
	norm, err := connectors.RoundTrip(raw)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	input, _ := norm.(map[string]any)
	in := &sendInput{}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var e error
	in.to, e = parseAddresses(inTo, input[inTo])
	check(e)
	in.cc, e = parseAddresses(inCc, input[inCc])
	check(e)
	in.bcc, e = parseAddresses(inBcc, input[inBcc])
	check(e)
	in.replyTo, e = parseAddresses(inReplyTo, input[inReplyTo])
	check(e)
	if len(errs) == 0 && len(in.to)+len(in.cc)+len(in.bcc) == 0 {
		errs = append(errs, errors.New("no recipient: set to, cc or bcc"))
	}

	in.subject, e = text(inSubject, input[inSubject])
	check(e)
	in.subject = strings.TrimSpace(lineBreaks.Replace(in.subject))
	in.text, e = text(inText, input[inText])
	check(e)
	in.html, e = text(inHTML, input[inHTML])
	check(e)
	if in.text == "" && in.html == "" {
		errs = append(errs, errors.New("no body: set text, html or both"))
	}

	in.headers, e = parseHeaders(input[inHeaders])
	check(e)

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// text reads a text input: a string, or a number or boolean written as text.
func text(field string, v any) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := connectors.ScalarText(v)
	if !ok {
		return "", fmt.Errorf("%s: expected a string, got %s", field, connectors.JSONTypeOf(v))
	}
	return s, nil
}

package email

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/email/smtptest"
)

// Distinctive credentials, so that the tests can look for them in outputs, errors and logs.
const (
	fakeUser     = "mailer@acme.example"
	fakePassword = "pw-5d1c9e7a-secret"
	fakeFrom     = "Acme Alerts <alerts@acme.example>"
	fromAddress  = "alerts@acme.example"
)

// testOptions trusts the fake servers' CA and keeps timeouts short, so that a test that
// goes wrong fails fast.
func testOptions() Options {
	return Options{RootCAs: smtptest.RootCAs(), DialTimeout: 2 * time.Second, Timeout: 5 * time.Second}
}

// testBundle is one fake server and a connector that trusts it.
type testBundle struct {
	srv       *smtptest.Server
	connector *connectors.Connector
	// config is a working connection to srv; tests change it as they need.
	config map[string]any
}

// setup starts a fake server in opts.Mode that requires the test credentials, and returns
// a connection config with the matching security.
func setup(t *testing.T, opts smtptest.Options) *testBundle {
	t.Helper()
	opts.Username, opts.Password = fakeUser, fakePassword
	return newBundle(t, opts)
}

// setupOpen starts a fake server in mode that requires no authentication, and returns a
// connection config without credentials.
func setupOpen(t *testing.T, mode smtptest.Mode) *testBundle {
	t.Helper()
	b := newBundle(t, smtptest.Options{Mode: mode})
	delete(b.config, connUsername)
	delete(b.config, connPassword)
	return b
}

func newBundle(t *testing.T, opts smtptest.Options) *testBundle {
	t.Helper()
	srv := smtptest.NewServer(t, opts)
	security := map[smtptest.Mode]string{
		smtptest.STARTTLS: securitySTARTTLS, smtptest.ImplicitTLS: securityTLS, smtptest.Plain: securityNone,
	}[opts.Mode]
	return &testBundle{
		srv:       srv,
		connector: New(testOptions()),
		config: map[string]any{
			connHost: srv.Host(), connPort: srv.Port(), connSecurity: security,
			connUsername: fakeUser, connPassword: fakePassword, connFrom: fakeFrom,
		},
	}
}

// result is what one call returned and logged.
type result struct {
	call *connectors.Call
	out  map[string]any
	err  error
	logs string
}

// send runs email.send through the runner's lifecycle and checks that the password shows
// nowhere: not in the output, the error or the logs.
func (b *testBundle) send(t *testing.T, input map[string]any) result {
	t.Helper()
	return b.sendCall(t.Context(), t, b.newCall(t, input))
}

func (b *testBundle) newCall(t *testing.T, input map[string]any) *connectors.Call {
	t.Helper()
	return connectortest.NewCall(t, input, connectortest.NewConnection(b.connector, b.config))
}

func (b *testBundle) sendCall(ctx context.Context, t *testing.T, call *connectors.Call) result {
	t.Helper()
	logger, logs := connectortest.NewCaptureLogger(t)
	call.Logger = logger
	def, ok := b.connector.Action("send")
	require.True(t, ok)
	out, err := connectortest.Invoke(ctx, def, call)
	connectortest.AssertNoSecrets(t, []string{fakePassword}, out, err, logs.String())
	r := result{call: call, err: err, logs: logs.String()}
	if err == nil {
		m, ok := out.(map[string]any)
		require.True(t, ok, "output is %T, want an object", out)
		r.out = m
	}
	return r
}

// basicInput is a valid input with one recipient and both bodies.
func basicInput() map[string]any {
	return map[string]any{
		inTo:      "ann@example.com",
		inSubject: "Order 1042 has shipped",
		inText:    "Your order is on its way.",
		inHTML:    "<p>Your order is on its way.</p>",
	}
}

// requireRetryable fails unless err is an error the runner retries.
func requireRetryable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err), "want a retryable error, got a permanent one: %v", err)
}

// requirePermanent fails unless err is an error the runner does not retry.
func requirePermanent(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err), "want a permanent error, got a retryable one: %v", err)
}

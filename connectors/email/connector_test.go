package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail/smtp"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/email/smtptest"
)

func TestLint(t *testing.T) {
	t.Parallel()

	connectortest.LintAll(t, connectors.Default) // the one init registered
	reg := connectors.NewRegistry()
	reg.MustRegister(New(testOptions()))
	connectortest.LintAll(t, reg)

	c, def, ok := connectors.Default.Action("email.send")
	require.True(t, ok)
	require.True(t, c.ConnectionRequired)
	require.False(t, def.Idempotent, "SMTP cannot send an idempotency key")
	require.Equal(t, []string{connPassword}, func() []string { s := c.Spec(); return s.SecretFields() }())
	require.NotNil(t, c.TestConnection)
	require.NotNil(t, c.ValidateConnection)
}

func TestValidateConnection(t *testing.T) {
	t.Parallel()

	base := func(kv ...any) map[string]any {
		m := map[string]any{connHost: "smtp.example.com", connFrom: "Acme <alerts@acme.example>"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name     string
		config   map[string]any
		wantErr  []string
		wantPort int
	}{
		{name: "minimal", config: base(), wantPort: 587},
		{name: "tls default port", config: base(connSecurity, securityTLS), wantPort: 465},
		{name: "none default port", config: base(connSecurity, securityNone), wantPort: 25},
		{name: "explicit port", config: base(connPort, 2525), wantPort: 2525},
		{name: "port from json", config: base(connPort, json.Number("1025")), wantPort: 1025},
		{name: "port as float", config: base(connPort, float64(465), connSecurity, securityTLS), wantPort: 465},
		{name: "credentials", config: base(connUsername, "u", connPassword, "hunter2-secret"), wantPort: 587},
		{name: "none with credentials on localhost", config: base(connHost, "localhost", connSecurity, securityNone,
			connUsername, "u", connPassword, "hunter2-secret"), wantPort: 25},
		{name: "bracketed ipv6", config: base(connHost, "[::1]"), wantPort: 587},

		{name: "no host", config: base(connHost, nil), wantErr: []string{"host is required"}},
		{name: "url as host", config: base(connHost, "smtp://smtp.example.com"), wantErr: []string{"not a URL"}},
		{name: "host with port", config: base(connHost, "smtp.example.com:587"), wantErr: []string{"must not include a port: set port to 587"}},
		{name: "unknown security", config: base(connSecurity, "ssl"), wantErr: []string{`security "ssl" is not one of starttls, tls, none`}},
		{name: "port zero", config: base(connPort, 0), wantErr: []string{"port 0 is not between 1 and 65535"}},
		{name: "port too big", config: base(connPort, 70000), wantErr: []string{"port 70000 is not between 1 and 65535"}},
		{name: "port as string", config: base(connPort, "587"), wantErr: []string{"port must be an integer, got string"}},
		{name: "port fraction", config: base(connPort, 58.7), wantErr: []string{"port must be an integer, got number"}},
		{name: "no from", config: base(connFrom, nil), wantErr: []string{"from is required"}},
		{name: "bad from", config: base(connFrom, "alerts"), wantErr: []string{`from "alerts" is not an email address`}},
		{name: "two froms", config: base(connFrom, "a@x.example, b@x.example"), wantErr: []string{"is not an email address"}},
		{name: "password without user", config: base(connPassword, "hunter2-secret"), wantErr: []string{"password is set but username is empty"}},
		{name: "user without password", config: base(connUsername, "u"), wantErr: []string{"username is set but password is empty"}},
		{name: "clear-text credentials", config: base(connSecurity, securityNone, connUsername, "u", connPassword, "hunter2-secret"),
			wantErr: []string{"security none would send the password to smtp.example.com unencrypted"}},
		{name: "password not a string", config: base(connUsername, "u", connPassword, 12345678), wantErr: []string{"password must be a string, got integer"}},
		{name: "several", config: map[string]any{connPort: -1}, wantErr: []string{"host is required", "port -1", "from is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateConnection(tt.config)
			cfg, perr := parseConnection(tt.config)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				require.NoError(t, perr)
				require.Equal(t, tt.wantPort, cfg.port)
				return
			}
			require.Error(t, err)
			require.ErrorContains(t, err, "invalid email connection")
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
			require.NotContains(t, err.Error(), "hunter2")
			require.NotContains(t, err.Error(), "12345678")
		})
	}
}

func TestTestConnection(t *testing.T) {
	t.Parallel()

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})
		err := b.connector.TestConnection(t.Context(), connectortest.NewConnection(b.connector, b.config))
		require.NoError(t, err)
		require.Equal(t, []smtptest.AuthAttempt{{Mechanism: "PLAIN", Username: fakeUser, TLS: true, OK: true}}, b.srv.AuthAttempts())
		require.Empty(t, b.srv.Messages())
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		b := setup(t, smtptest.Options{Mode: smtptest.ImplicitTLS})
		b.config[connPassword] = "pw-wrong-77aa11"
		err := b.connector.TestConnection(t.Context(), connectortest.NewConnection(b.connector, b.config))
		requirePermanent(t, err)
		require.ErrorContains(t, err, "test connection test-email to "+b.srv.Addr())
		require.ErrorContains(t, err, "535")
		require.NotContains(t, err.Error(), "pw-wrong-77aa11")
		require.Len(t, b.srv.AuthAttempts(), 1)
	})
	t.Run("invalid settings", func(t *testing.T) {
		t.Parallel()
		c := New(testOptions())
		err := c.TestConnection(t.Context(), connectortest.NewConnection(c, map[string]any{connHost: "smtp.example.com"}))
		requirePermanent(t, err)
		require.ErrorContains(t, err, "from is required")
	})
}

func TestClassify(t *testing.T) {
	t.Parallel()

	reply := func(code int) error { return fmt.Errorf("RCPT: %w", &textproto.Error{Code: code, Msg: "x"}) }
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"421 closing", reply(421), false},
		{"450 busy", reply(450), false},
		{"451 local error", reply(451), false},
		{"452 storage", reply(452), false},
		{"454 temporary auth failure", reply(454), false},
		{"500 syntax", reply(500), true},
		{"530 auth required", reply(530), true},
		{"534 mechanism too weak", reply(534), true},
		{"535 bad credentials", reply(535), true},
		{"550 mailbox unavailable", reply(550), true},
		{"554 transaction failed", reply(554), true},
		{"unexpected 354", reply(354), true},
		{"eof", fmt.Errorf("end of message: %w", io.EOF), false},
		{"net error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, false},
		{"unencrypted auth", fmt.Errorf("AUTH: %w", smtp.ErrUnencrypted), true},
		{"already permanent", connectors.Permanent(errors.New("x")), true},
	}
	for _, tt := range tests {
		got := classify(tt.err)
		require.Equal(t, tt.permanent, connectors.IsPermanent(got), tt.name)
		require.ErrorIs(t, got, tt.err, tt.name)
	}
	require.NoError(t, classify(nil))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := fail(ctx, "send", reply(550))
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, connectors.IsPermanent(err), "a cancelled call says nothing about the server")
}

package bitrix24

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/bitrix24/bitrix24test"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// connection returns the connection a step gets for the fake.
func connection(srv *bitrix24test.Server) *connectors.Connection {
	return connectortest.NewConnection(connector, map[string]any{connWebhookURL: srv.WebhookURL(), "default_country": "+7"})
}

// run calls an action against srv through the runner's lifecycle and checks that the
// webhook leaked nowhere, whatever the outcome.
func run(t *testing.T, def *connectors.ActionDef, call *connectors.Call, logs *connectortest.LogBuffer) (map[string]any, error) {
	t.Helper()
	out, err := connectortest.Invoke(t.Context(), def, call)
	connectortest.AssertNoSecrets(t, append(call.Connection.SecretValues(), bitrix24test.DefaultCode), out, err, logs.String())
	if out == nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	require.True(t, ok, "output is %T", out)
	return m, err
}

// newCall builds a call against srv whose logs are captured.
func newCall(t *testing.T, srv *bitrix24test.Server, input map[string]any) (*connectors.Call, *connectortest.LogBuffer) {
	t.Helper()
	call := connectortest.NewCall(t, input, connection(srv))
	logger, logs := connectortest.NewCaptureLogger(t)
	call.Logger = logger
	return call, logs
}

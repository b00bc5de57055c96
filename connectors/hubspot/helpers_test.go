package hubspot

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/hubspot/hubspottest"
)

// wrongToken is a token the fake refuses.
const wrongToken = "pat-eu1-wrong-token-for-hookflow-tests"

// connection returns the connection a step gets for the fake, with extra settings.
func connection(srv *hubspottest.Server, token string, extra map[string]any) *connectors.Connection {
	config := map[string]any{connToken: token, connBaseURL: srv.URL, connDefaultCountry: "RU"}
	for k, v := range extra {
		config[k] = v
	}
	return connectortest.NewConnection(connector, config)
}

// run runs an action through the runner's lifecycle and checks that no secret leaked,
// whatever the outcome.
func run(t *testing.T, def *connectors.ActionDef, call *connectors.Call) (map[string]any, error) {
	t.Helper()
	logger, logs := connectortest.NewCaptureLogger(t)
	call.Logger = logger
	out, err := connectortest.Invoke(t.Context(), def, call)
	connectortest.AssertNoSecrets(t, []string{hubspottest.DefaultToken, wrongToken}, out, err, logs.String())
	if out == nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	require.True(t, ok, "output is %T, want an object", out)
	return m, err
}

// newCall builds a call of an action against srv.
func newCall(t *testing.T, srv *hubspottest.Server, input map[string]any, extra map[string]any) *connectors.Call {
	t.Helper()
	return connectortest.NewCall(t, input, connection(srv, srv.Token, extra))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

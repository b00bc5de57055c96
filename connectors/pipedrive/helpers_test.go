package pipedrive

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/pipedrive/pipedrivetest"
)

// wrongToken is a token the fake refuses; distinctive, so the secret checks can look for it.
const wrongToken = "pd-wrong-token-for-hookflow-tests"

// connection returns the connection a step gets for the fake, with token as its token.
func connection(srv *pipedrivetest.Server, token string) *connectors.Connection {
	return connectortest.NewConnection(connector, map[string]any{connAPIToken: token, connBaseURL: srv.URL})
}

// newCall builds a call of an action against srv whose logs are captured.
func newCall(t *testing.T, srv *pipedrivetest.Server, input map[string]any) (*connectors.Call, *connectortest.LogBuffer) {
	t.Helper()
	call := connectortest.NewCall(t, input, connection(srv, srv.Token))
	logger, logs := connectortest.NewCaptureLogger(t)
	call.Logger = logger
	return call, logs
}

// invoke runs def through the runner's lifecycle and checks that no token leaked,
// whatever the outcome.
func invoke(t *testing.T, def *connectors.ActionDef, call *connectors.Call, logs *connectortest.LogBuffer) (map[string]any, error) {
	t.Helper()
	out, err := connectortest.Invoke(t.Context(), def, call)
	connectortest.AssertNoSecrets(t, append(call.Connection.SecretValues(), pipedrivetest.DefaultToken, wrongToken), out, err, logs.String())
	if out == nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	require.True(t, ok, "output is %T, want an object", out)
	return m, err
}

// requestsTo returns the fake's requests with the given method and path.
func requestsTo(srv *pipedrivetest.Server, method, path string) []pipedrivetest.Request {
	var out []pipedrivetest.Request
	for _, r := range srv.Requests() {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

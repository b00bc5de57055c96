package amocrm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// connection returns the connection a step gets for the fake, with token as its token.
func connection(srv *amocrmtest.Server, token string) *connectors.Connection {
	return connectortest.NewConnection(connector, map[string]any{connToken: token, connBaseURL: srv.URL})
}

// newCall builds a call against srv whose logs are captured.
func newCall(t *testing.T, srv *amocrmtest.Server, input map[string]any) (*connectors.Call, *connectortest.LogBuffer) {
	t.Helper()
	call := connectortest.NewCall(t, input, connection(srv, srv.Token))
	logger, logs := connectortest.NewCaptureLogger(t)
	call.Logger = logger
	return call, logs
}

// invoke runs def through the runner's lifecycle and checks that no secret leaked,
// whatever the outcome.
func invoke(t *testing.T, def *connectors.ActionDef, call *connectors.Call, logs *connectortest.LogBuffer) (map[string]any, error) {
	t.Helper()
	out, err := connectortest.Invoke(t.Context(), def, call)
	connectortest.AssertNoSecrets(t, append(call.Connection.SecretValues(), amocrmtest.DefaultToken), out, err, logs.String())
	if out == nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	require.True(t, ok, "output is %T, want an object", out)
	return m, err
}

// formLead is the input a site form gives create_lead.
func formLead() map[string]any {
	return map[string]any{
		"name": "Ivan Petrov", "email": " Ivan@Example.RU ", "phone": "8 (999) 123-45-67",
		"utm_source": "yandex", "utm_campaign": "spring",
		"lead_name": "Site order", "price": int64(1500), "tags": []any{"site", "tilda"},
		"custom_fields": map[string]any{"1001": "From the form"},
	}
}

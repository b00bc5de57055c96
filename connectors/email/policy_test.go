package email

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/email/smtptest"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// TestSendObeysOutboundPolicy: SMTP dials through the context's outbound policy, like
// HTTP: a denied server fails the step permanently, naming the rule, and is never
// connected to.
func TestSendObeysOutboundPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t, smtptest.Options{Mode: smtptest.STARTTLS})

	deny, err := httpclient.NewPolicy(httpclient.PolicyConfig{DenyPrivate: true})
	require.NoError(t, err)
	r := b.sendCall(connectors.WithDialer(context.Background(), deny), t, b.newCall(t, basicInput()))
	requirePermanent(t, r.err)
	require.ErrorContains(t, r.err, "refused: private and loopback addresses are denied (HOOKFLOW_OUTBOUND_PRIVATE=deny)")

	own, err := httpclient.NewPolicy(httpclient.PolicyConfig{Listeners: []string{b.srv.Addr()}})
	require.NoError(t, err)
	r = b.sendCall(connectors.WithDialer(context.Background(), own), t, b.newCall(t, basicInput()))
	requirePermanent(t, r.err)
	require.ErrorContains(t, r.err, "the server's own listeners are never called")
	require.Zero(t, b.srv.Connections(), "the server saw no connection")

	allow, err := httpclient.NewPolicy(httpclient.PolicyConfig{DenyPrivate: true, Allow: []string{b.srv.Host()}})
	require.NoError(t, err)
	r = b.sendCall(connectors.WithDialer(context.Background(), allow), t, b.newCall(t, basicInput()))
	require.NoError(t, r.err)
	require.Len(t, b.srv.Messages(), 1)
}

package amocrm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/amocrm/amocrmtest"
)

// Checklist: more than 7 requests a second → 429. The built-in limiter keeps a burst of
// calls under it, so the fake never has to refuse one.
func TestLimiterKeepsUnderSevenPerSecond(t *testing.T) {
	t.Parallel()
	srv := amocrmtest.NewServer(t, amocrmtest.WithToken("amo-limiter-test-token-3a1"))
	for range 15 {
		call, logs := newCall(t, srv, map[string]any{"email": "nobody@example.com"})
		_, err := invoke(t, findContactAction, call, logs)
		require.NoError(t, err)
	}
	require.Len(t, srv.Requests(), 15)
	require.Zero(t, srv.RateLimited())
}

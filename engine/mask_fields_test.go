package engine_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// TestBitrix24TokensMasked: the tokens a Bitrix24 event carries in its form body are
// masked in what is stored, for an accepted event (its run reads the mask too) and a
// rejected one, whatever the body is labelled; neither looks cut for it.
func TestBitrix24TokensMasked(t *testing.T) {
	t.Parallel()
	const token, access = "51856fefc120afa4b628cc82d3935cce", "oauth-access-7731"
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		eng := enginetest.New(t, d, enginetest.Options{})
		ctx := context.Background()
		_, err := eng.CreateConnection(ctx, engine.ConnectionInput{Name: "b24", Connector: "webhook",
			Config: map[string]any{"secret": token}})
		require.NoError(t, err)
		wf, err := eng.CreateWorkflow(ctx, []byte(`{"name":"b24","trigger":{"type":"webhook","webhook":{
			"auth":{"type":"bitrix24","connection":"b24"}}},
			"steps":[{"id":"seen","uses":"core.set","with":{"auth":"{{ trigger.body.auth }}","id":"{{ trigger.body.data.FIELDS.ID }}"}}]}`))
		require.NoError(t, err)
		body := func(tok string) []byte {
			return []byte("event=ONCRMLEADADD&data%5BFIELDS%5D%5BID%5D=42&auth%5Bdomain%5D=x.bitrix24.ru" +
				"&auth%5Bapplication_token%5D=" + tok + "&auth%5Baccess_token%5D=" + access)
		}
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain"} {
			res, err := eng.Ingest(ctx, wf.HookToken, engine.IngestRequest{Method: http.MethodPost,
				Header: http.Header{"Content-Type": {ct}}, Body: body(token)})
			require.NoError(t, err, ct)
			if ct == "application/x-www-form-urlencoded" {
				run := enginetest.WaitRun(t, eng.Engine, res.RunID)
				require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
				out := string(run.Steps[0].Output)
				require.NotContains(t, out, token)
				require.NotContains(t, out, access)
				require.Contains(t, out, `"application_token":"******"`)
				require.Contains(t, out, `"id":"42"`)
			}
		}
		_, err = eng.Ingest(ctx, wf.HookToken, engine.IngestRequest{Method: http.MethodPost,
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: body("wrong-token")})
		require.ErrorIs(t, err, engine.ErrRejected)

		events, err := eng.ListEvents(ctx, wf.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, events.Items, 3)
		for _, ev := range events.Items {
			require.NotContains(t, ev.Body, token, ev.Verdict)
			require.NotContains(t, ev.Body, "wrong-token", ev.Verdict)
			require.NotContains(t, ev.Body, access, ev.Verdict)
			require.True(t, strings.Contains(ev.Body, "auth%5Bapplication_token%5D=******"), ev.Body)
			require.False(t, ev.Truncated, "a masked body is not a cut one: %s", ev.Verdict)
			require.Equal(t, int64(len(ev.Body)), ev.BodySize)
		}
		require.Equal(t, store.VerdictRejected, events.Items[0].Verdict)
	})
}

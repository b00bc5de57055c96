package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// TestViewerSeesMaskedWebhookURL: a viewer reading workflows got the full webhook URL,
// a credential that fires the workflow. It now sees the token masked but its last four
// characters; an admin still sees it whole, and the masked URL fires nothing.
func TestViewerSeesMaskedWebhookURL(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	wf := app.CreateWorkflow(t, `{"name":"secret url","trigger":{"type":"webhook"},"steps":[]}`)
	id, full := wf["id"].(string), wf["webhook_url"].(string)
	token := full[strings.LastIndex(full, "/")+1:]
	require.Equal(t, http.StatusAccepted, app.Do(t, http.MethodPost, hookPath(t, wf), `{}`, false, nil).Status)

	ctx := context.Background()
	_, err := app.Engine.CreateUser(ctx, "viewer@example.com", "viewer-password", engine.RoleViewer)
	require.NoError(t, err)
	viewer, err := app.Engine.CreateToken(ctx, "viewer@example.com", "read")
	require.NoError(t, err)
	asViewer := map[string]string{"Authorization": "Bearer " + viewer}

	masked := strings.TrimSuffix(full, token) + "••••" + token[len(token)-4:]
	for _, path := range []string{"/api/v1/workflows", "/api/v1/workflows/" + id} {
		res := app.Do(t, http.MethodGet, path, "", false, asViewer)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.NotContains(t, res.Body, token, path)
		require.Contains(t, res.Body, masked, path)

		res = app.Do(t, http.MethodGet, path, "", true, nil)
		require.Contains(t, res.Body, full, "an admin sees the whole URL")
	}
	require.Equal(t, http.StatusForbidden, app.Do(t, http.MethodPost, "/api/v1/workflows/"+id+"/rotate-token", "", false, asViewer).Status,
		"nor can a viewer get a new one")
	require.Equal(t, http.StatusNotFound, app.Do(t, http.MethodPost, masked, `{}`, false, nil).Status, "the masked URL fires nothing")
	c, err := app.Engine.Count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, c.Events["accepted"])
}

package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web/webtest"
)

// TestAuditAPI: a change made through the API is listed by GET /api/v1/audit with the
// token's user, "api" and the client's address, filtered and paged; a connection's
// secret shows by name only; editors and viewers get 403.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	const secret = "tg-AUDIT-API-secret-5d1e"
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		app := webtest.NewApp(t, d, enginetest.Options{Workers: -1})
		wf := app.CreateWorkflow(t, `{"name":"audited","trigger":{"type":"webhook"},"steps":[]}`)
		res := app.Do(t, http.MethodPost, "/api/v1/connections", `{"name":"bot","connector":"http",
			"config":{"base_url":"https://crm.example.com","auth":"bearer","token":"`+secret+`"}}`, true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		res = app.Do(t, http.MethodPut, "/api/v1/connections/bot", `{"config":{"base_url":"https://crm.example.com","auth":"bearer","token":"`+secret+`-2"}}`, true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)

		res = app.Do(t, http.MethodGet, "/api/v1/audit?limit=2", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.NotContains(t, res.Body, "AUDIT-API-secret")
		var page struct {
			Items      []engine.AuditEntry `json:"items"`
			NextCursor string              `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
		require.Len(t, page.Items, 2)
		require.Equal(t, engine.AuditConnectionUpdate, page.Items[0].Action)
		require.Equal(t, "admin@example.com", page.Items[0].ActorEmail)
		require.Equal(t, "api", page.Items[0].Via)
		require.Equal(t, "127.0.0.1", page.Items[0].ClientAddr)
		require.JSONEq(t, `{"secrets":{"token":"set"}}`, string(page.Items[0].Diff))
		require.NotEmpty(t, page.NextCursor)

		res = app.Do(t, http.MethodGet, "/api/v1/audit?kind=workflow&target="+wf["id"].(string)+"&actor=admin@example.com", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
		require.Len(t, page.Items, 1)
		require.Equal(t, engine.AuditWorkflowCreate, page.Items[0].Action)
		require.Equal(t, "audited", page.Items[0].TargetName)

		ctx := context.Background()
		for _, role := range []string{engine.RoleEditor, engine.RoleViewer} {
			email := role + "@example.com"
			_, err := app.Engine.CreateUser(ctx, email, "correct horse battery", role)
			require.NoError(t, err)
			tok, err := app.Engine.CreateToken(ctx, email, "t")
			require.NoError(t, err)
			res := app.Do(t, http.MethodGet, "/api/v1/audit", "", false, map[string]string{"Authorization": "Bearer " + tok})
			require.Equal(t, http.StatusForbidden, res.Status, role)
			require.Contains(t, res.Body, `"forbidden"`)
		}
	})
}

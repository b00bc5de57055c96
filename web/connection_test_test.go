package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// TestConnectionTestCall: POST /api/v1/connections/{name}/test runs the connector's own
// check. Working credentials answer ok; a wrong token answers ok false with the service's
// reason and never the token; a connector without a check, and an unknown name, are errors.
func TestConnectionTestCall(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	bot := newBot(t, app)

	res := app.Do(t, http.MethodPost, "/api/v1/connections/bot/test", "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Equal(t, true, res.JSON(t)["ok"])

	wrong := "987654321:AAWrongTokenOfTheTestConnectionCall-0"
	res = app.Do(t, http.MethodPost, "/api/v1/connections", fmt.Sprintf(
		`{"name": "old-bot", "connector": "telegram", "config": {"token": %q, "base_url": %q}}`, wrong, bot.URL), true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	res = app.Do(t, http.MethodPost, "/api/v1/connections/old-bot/test", "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	out := res.JSON(t)
	require.Equal(t, false, out["ok"])
	require.Contains(t, out["error"], "Unauthorized")
	require.NotContains(t, res.Body, wrong)
	require.NotContains(t, res.Body, "AAWrongToken")

	res = app.Do(t, http.MethodPost, "/api/v1/connections", `{"name": "site", "connector": "http", "config": {"base_url": "http://127.0.0.1:1"}}`, true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	res = app.Do(t, http.MethodPost, "/api/v1/connections/site/test", "", true, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
	require.Contains(t, res.Body, "has no connection test")

	res = app.Do(t, http.MethodPost, "/api/v1/connections/nope/test", "", true, nil)
	require.Equal(t, http.StatusNotFound, res.Status, res.Body)
}

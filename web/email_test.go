package web_test

import (
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/email/smtptest"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// TestEmailFromWorkflow sends a lead by email through a connection made with the API (the
// port a JSON number), against the in-process SMTP server; with a wrong password the run
// fails after one attempt, so the account is not locked out by retries.
func TestEmailFromWorkflow(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	smtp := smtptest.NewServer(t, smtptest.Options{Mode: smtptest.Plain, Username: "robot", Password: "mail-password-123"})
	for _, c := range []struct{ name, password string }{{"office", "mail-password-123"}, {"office-bad", "wrong-password-456"}} {
		res := app.Do(t, http.MethodPost, "/api/v1/connections", fmt.Sprintf(`{"name": %q, "connector": "email", "config":
		  {"host": %q, "port": %d, "security": "none", "username": "robot", "password": %q, "from": "Leads <leads@example.com>"}}`,
			c.name, smtp.Host(), smtp.Port(), c.password), true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
	}
	doc := `{"name": "Lead by email", "trigger": {"type": "webhook"},
	  "steps": [{"id": "mail", "uses": "email.send", "connection": %q, "retry": {"max_attempts": 3, "initial": "10ms"},
	    "with": {"to": "sales@example.com, boss@example.com", "bcc": ["audit@example.com"],
	      "subject": "Lead: {{ trigger.body.name }}", "text": "Amount {{ trigger.body.amount }}", "html": "<b>{{ trigger.body.amount }}</b>"}}]}`
	good := app.CreateWorkflow(t, fmt.Sprintf(doc, "office"))
	res := app.Do(t, http.MethodPost, hookPath(t, good), `{"name": "Ann", "amount": 150}`, false, nil)
	require.Equal(t, http.StatusAccepted, res.Status, res.Body)
	counts := app.Settle(t)
	require.Equal(t, int64(1), counts.Runs["succeeded"])

	msgs := smtp.Messages()
	require.Len(t, msgs, 1)
	require.ElementsMatch(t, []string{"sales@example.com", "boss@example.com", "audit@example.com"}, msgs[0].To)
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	require.NoError(t, err)
	require.Equal(t, "Lead: Ann", m.Header.Get("Subject"))
	require.Empty(t, m.Header.Get("Bcc"))
	require.NotEmpty(t, m.Header.Get("Message-Id"))
	require.Contains(t, m.Header.Get("Content-Type"), "multipart/alternative")

	bad := app.CreateWorkflow(t, fmt.Sprintf(doc, "office-bad"))
	res = app.Do(t, http.MethodPost, hookPath(t, bad), `{"name": "Bob", "amount": 1}`, false, nil)
	require.Equal(t, http.StatusAccepted, res.Status, res.Body)
	run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
	require.Equal(t, "failed", run.Status)
	require.Equal(t, 1, run.Steps[0].Attempts, "535 is never retried")
	require.Contains(t, run.Error, "535")
	require.NotContains(t, run.Error, "wrong-password-456")
	require.Len(t, smtp.Messages(), 1)
}

package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors/pipedrive/pipedrivetest"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// TestPipedriveFormLead: a site form (urlencoded, as Tilda sends) → pipedrive.create_person
// with dedupe → pipedrive.create_lead for that person. The same person twice makes one
// person with two leads; a lead whose answer is lost (the fake applies it, then drops the
// connection) is retried and found by its marker, so no second lead is made.
func TestPipedriveFormLead(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	crm := pipedrivetest.NewServer(t)
	res := app.Do(t, http.MethodPost, "/api/v1/connections", fmt.Sprintf(
		`{"name": "crm", "connector": "pipedrive", "config": {"api_token": %q, "base_url": %q, "default_country": "RU"}}`,
		crm.Token, crm.URL), true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	require.NotContains(t, res.Body, crm.Token)

	res = app.Do(t, http.MethodPost, "/api/v1/connections/crm/test", "", true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Equal(t, true, res.JSON(t)["ok"])

	wf := app.CreateWorkflow(t, `{"name": "Form to Pipedrive", "trigger": {"type": "webhook"},
	  "steps": [
	    {"id": "person", "uses": "pipedrive.create_person", "connection": "crm",
	      "with": {"name": "{{ trigger.body.Name }}", "email": "{{ trigger.body.Email }}", "phone": "{{ trigger.body.Phone }}"}},
	    {"id": "lead", "uses": "pipedrive.create_lead", "connection": "crm", "retry": {"max_attempts": 3, "initial": "10ms"},
	      "with": {"title": "Website: {{ trigger.body.Name }}", "person_id": "{{ steps.person.output.id }}"}}]}`)

	submit := func(name, email, phone string) string {
		t.Helper()
		form := url.Values{"Name": {name}, "Email": {email}, "Phone": {phone}, "formid": {"form1"}}.Encode()
		res := app.Do(t, http.MethodPost, hookPath(t, wf), form, false,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		return res.JSON(t)["run_id"].(string)
	}

	first := enginetest.WaitRun(t, app.Engine.Engine, submit("Ann Lee", "Ann@Example.com", "8 (999) 123-45-67"))
	require.Equal(t, "succeeded", first.Status, first.Error)
	second := enginetest.WaitRun(t, app.Engine.Engine, submit("Ann Lee", "ann@example.com", "+7 999 123-45-67"))
	require.Equal(t, "succeeded", second.Status, second.Error)
	persons := crm.Persons()
	require.Len(t, persons, 1, "the same person twice is one person")
	require.Equal(t, "+79991234567", persons[0].Phones[0].Value)
	leads := crm.Leads()
	require.Len(t, leads, 2)
	for _, l := range leads {
		require.Equal(t, persons[0].ID, l.PersonID)
		require.Equal(t, "Website: Ann Lee", l.Title)
	}

	crm.DropNext(http.MethodPost, "/v1/leads", 1)
	third := enginetest.WaitRun(t, app.Engine.Engine, submit("Bob Roe", "bob@example.com", ""))
	require.Equal(t, "succeeded", third.Status, third.Error)
	require.Equal(t, 2, third.Steps[1].Attempts, "the lost answer was retried")
	require.Len(t, crm.Persons(), 2)
	leads = crm.Leads()
	require.Len(t, leads, 3, "the retry found the lead instead of adding a second one")
	require.Equal(t, "Website: Bob Roe", leads[2].Title)
	posts := 0
	for _, r := range crm.Requests() {
		if r.Method == http.MethodPost && r.Path == "/v1/leads" {
			posts++
		}
	}
	require.Equal(t, 3, posts)
}

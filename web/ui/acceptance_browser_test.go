package ui_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web"
)

// siteFormYAML is the workflow the acceptance test imports: a site form, authenticated by a
// token header, posts each lead to a CRM through the connection "crm".
const siteFormYAML = `name: Site form to CRM
trigger:
  type: webhook
  webhook:
    auth: {type: token, connection: form-token, header: X-Token}
steps:
  - id: shape
    uses: core.set
    with:
      name: "{{ trim(trigger.body.name) }}"
      email: "{{ lower(trigger.body.email) }}"
  - id: send
    uses: http.request
    connection: crm
    retry: {max_attempts: 1}
    with:
      method: POST
      url: /leads
      body: {name: "{{ steps.shape.output.name }}", email: "{{ steps.shape.output.email }}"}
`

// TestBrowserAcceptance is issue 13's story, told through the browser only: an admin signs
// in, makes the CRM connection with a wrong API key and the form's token through the
// connection forms, imports the workflow from a YAML file, and a real webhook's run fails
// with the CRM's 401. After the key is fixed in the connection form, "replay from the
// failed step" succeeds and the run page shows each step's input and output. A request
// with a wrong token shows in the inspector as rejected, with its reason. The screenshots
// of the README come from here.
func TestBrowserAcceptance(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, web.Config{}, withWorkers(1))
	var leads atomic.Int64
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Api-Key") != "right-key" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid API key"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"lead_id": 1000 + leads.Add(1)})
	}))
	t.Cleanup(crm.Close)

	c := newChrome(t, b.srv.URL)
	c.signIn(adminEmail, adminPassword)

	// The connections, through their forms.
	c.open("/connections?add=http")
	c.do(chromedp.SendKeys(chromedp.CSS("#conn-name"), "crm"),
		chromedp.SendKeys(chromedp.CSS("#cfg-base_url"), crm.URL),
		chromedp.SetValue(chromedp.CSS("#cfg-auth"), "header"),
		chromedp.SendKeys(chromedp.CSS("#cfg-header_name"), "X-Api-Key"),
		chromedp.SendKeys(chromedp.CSS("#cfg-header_value"), "wrong-key"),
		chromedp.Submit(chromedp.CSS("#conn-name")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	require.Equal(t, "/connections/crm?flash=connection_created", c.location())
	c.open("/connections?add=webhook")
	c.do(chromedp.SendKeys(chromedp.CSS("#conn-name"), "form-token"),
		chromedp.SendKeys(chromedp.CSS("#cfg-secret"), "s3cret-form-token"),
		chromedp.Submit(chromedp.CSS("#conn-name")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))

	// Import the workflow from a file.
	file := filepath.Join(t.TempDir(), "site-form.yaml")
	require.NoError(t, os.WriteFile(file, []byte(siteFormYAML), 0o600))
	c.open("/workflows/new")
	c.do(chromedp.SetUploadFiles(chromedp.CSS("#wf-file"), []string{file}),
		chromedp.Submit(chromedp.CSS("#wf-file")),
		chromedp.WaitVisible(chromedp.CSS("#wf-hook")))
	hookURL := eval[string](c, `document.getElementById("wf-hook").value`)
	require.True(t, strings.HasPrefix(hookURL, b.srv.URL+"/hooks/"), hookURL)
	workflowPath, _, _ := strings.Cut(c.location(), "?")
	require.True(t, strings.HasPrefix(workflowPath, "/workflows/"), workflowPath)

	// A real webhook: the CRM refuses the key, the run fails.
	first := postLead(t, hookURL, "s3cret-form-token", `{"name":"  Ann Lee ","email":"Ann@Example.com"}`)
	require.Equal(t, http.StatusAccepted, first.status)
	require.Equal(t, engine.RunFailed, enginetest.WaitRun(t, b.eng.Engine, first.RunID).Status)
	c.open("/runs")
	c.do(chromedp.Click(chromedp.CSS(`table.runs a[href="/runs/`+first.RunID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#run-status")))
	require.Equal(t, "failed", c.text("#run-status"))
	require.Contains(t, c.text("#step-send"), "401")

	// Fix the key in the connection form, then replay from the failed step.
	c.open("/connections/crm")
	c.do(chromedp.SendKeys(chromedp.CSS("#cfg-header_value"), "right-key"),
		chromedp.Submit(chromedp.CSS("#cfg-header_value")),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	c.open("/runs/" + first.RunID)
	c.do(chromedp.Click(chromedp.CSS("#run-replay-failed")), chromedp.WaitVisible(chromedp.CSS("p.flash")),
		chromedp.WaitVisible(chromedp.CSS("#run-status.status-succeeded")))
	require.Contains(t, c.text("#step-shape"), `"email": "ann@example.com"`, "the step's output")
	require.Contains(t, c.text("#step-send"), `"name": "Ann Lee"`, "the step's input")
	require.Contains(t, c.text("#step-send"), `"lead_id": 1001`, "the CRM's answer")
	c.shot("run")

	// More traffic for the dashboard, and a request with a wrong token for the inspector.
	for _, name := range []string{"Boris", "Vera", "Gleb"} {
		res := postLead(t, hookURL, "s3cret-form-token", `{"name":"`+name+`","email":"`+strings.ToLower(name)+`@example.com"}`)
		require.Equal(t, engine.RunSucceeded, enginetest.WaitRun(t, b.eng.Engine, res.RunID).Status)
	}
	require.Equal(t, http.StatusUnauthorized, postLead(t, hookURL, "guessed", `{"name":"Eve"}`).status)
	c.open(workflowPath + "/inspector")
	require.Equal(t, "rejected", c.text(".events li:first-child .status"))
	require.Contains(t, c.text(".events li:first-child .reason"), "token")
	c.shot("inspector")

	c.open(workflowPath)
	c.shot("workflow")
	c.open("/")
	require.NotEmpty(t, eval[int](c, `document.querySelectorAll("svg g.bar").length`))
	c.shot("dashboard")
	c.noExternalRequests()
}

type leadPost struct {
	status int
	RunID  string `json:"run_id"`
}

// postLead sends a form's lead to a webhook URL as the site would.
func postLead(t *testing.T, url, token, body string) leadPost {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Token", token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var p leadPost
	if res.StatusCode == http.StatusAccepted {
		require.NoError(t, json.NewDecoder(res.Body).Decode(&p))
	}
	p.status = res.StatusCode
	return p
}

package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	_ "github.com/hookflow/hookflow/connectors/all"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web/webtest"
)

// waitingWorkflow's runs wait an hour in their first step.
const waitingWorkflow = `{"name":"wait","trigger":{"type":"webhook"},"steps":[
  {"id":"pause","uses":"core.delay","with":{"for":"1h"}}]}`

// leadWorkflow forwards leads above 100 to the sink, templating the body.
func leadWorkflow(sinkURL string) string {
	return fmt.Sprintf(`{
	  "name": "Lead to CRM",
	  "trigger": {"type": "webhook"},
	  "filter": "trigger.body.amount > 100",
	  "steps": [
	    {"id": "prep", "uses": "core.set", "with": {"email": "{{ lower(trigger.body.email) }}"}},
	    {"id": "send", "uses": "http.request", "with": {
	      "method": "POST", "url": %q,
	      "headers": {"X-Source": "hookflow"},
	      "body": {"name": "{{ trigger.body.name }}", "amount": "{{ trigger.body.amount }}",
	               "email": "{{ steps.prep.output.email }}", "note": "Lead #{{ trigger.body.amount }}"}}}
	  ]
	}`, sinkURL+"/leads")
}

func hookPath(t testing.TB, wf map[string]any) string {
	url, _ := wf["webhook_url"].(string)
	i := strings.Index(url, "/hooks/")
	require.GreaterOrEqual(t, i, 0, "webhook_url %q", url)
	return url[i:]
}

// TestEndToEnd is the walking skeleton: token, workflow through the API, an event to
// its webhook, the templated request at the sink, the run with every step recorded. An
// event the filter rejects ends filtered and reaches no sink.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		app := webtest.NewApp(t, d, enginetest.Options{})
		wf := app.CreateWorkflow(t, leadWorkflow(app.Sink.URL))
		require.EqualValues(t, 1, wf["version"])
		require.Equal(t, true, wf["enabled"])
		hook := hookPath(t, wf)

		res := app.Do(t, http.MethodPost, hook, `{"name":"Ann","amount":150,"email":"ANN@Example.com"}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		ids := res.JSON(t)
		require.NotEmpty(t, ids["event_id"])
		runID := ids["run_id"].(string)

		run := enginetest.WaitRun(t, app.Engine.Engine, runID)
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		require.Len(t, run.Steps, 2)
		for _, st := range run.Steps {
			require.Equal(t, "succeeded", st.Status)
			require.NotEmpty(t, st.Input)
			require.NotEmpty(t, st.Output)
		}
		require.JSONEq(t, `{"email":"ann@example.com"}`, string(run.Steps[0].Output))
		var out struct {
			Status int            `json:"status"`
			Body   map[string]any `json:"body"`
		}
		require.NoError(t, json.Unmarshal(run.Steps[1].Output, &out))
		require.Equal(t, 200, out.Status)
		require.Equal(t, true, out.Body["ok"])

		reqs := app.Sink.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "POST", reqs[0].Method)
		require.Equal(t, "/leads", reqs[0].Path)
		require.Equal(t, "hookflow", reqs[0].Header.Get("X-Source"))
		require.Equal(t, runID+":send", reqs[0].Header.Get("Idempotency-Key"))
		require.JSONEq(t, `{"name":"Ann","amount":150,"email":"ann@example.com","note":"Lead #150"}`, reqs[0].Body)

		// The API shows the same run with its steps.
		got := app.Do(t, http.MethodGet, "/api/v1/runs/"+runID, "", true, nil)
		require.Equal(t, http.StatusOK, got.Status)
		require.Contains(t, got.Body, `"status":"succeeded"`)
		require.Contains(t, got.Body, `"step_id":"send"`)

		// Filtered: recorded, cheap, no call.
		res = app.Do(t, http.MethodPost, hook, `{"name":"Bob","amount":50}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status)
		filtered := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, engine.RunFiltered, filtered.Status)
		require.Empty(t, filtered.Steps)
		require.Len(t, app.Sink.Requests(), 1, "a filtered event reaches no sink")

		list := app.Do(t, http.MethodGet, "/api/v1/runs?workflow_id="+wf["id"].(string)+"&status=filtered", "", true, nil)
		require.Equal(t, http.StatusOK, list.Status)
		var page struct {
			Items []engine.Run `json:"items"`
		}
		require.NoError(t, json.Unmarshal([]byte(list.Body), &page))
		require.Len(t, page.Items, 1)
		require.Equal(t, filtered.ID, page.Items[0].ID)
	})
}

func TestScenarios(t *testing.T) {
	t.Parallel()
	validWorkflow := `{"name":"w","trigger":{"type":"webhook"},"steps":[]}`
	// Scenarios and their dialects run in parallel, each on its own App: what a
	// BeforeTest stores for its URLFunc and AfterTest is kept per App.
	type vars struct {
		hook, runID string
		firstIDs    map[string]any
	}
	var mu sync.Mutex
	byApp := map[*webtest.App]*vars{}
	v := func(a *webtest.App) *vars {
		mu.Lock()
		defer mu.Unlock()
		if byApp[a] == nil {
			byApp[a] = &vars{}
		}
		return byApp[a]
	}
	createHook := func(doc string) func(t testing.TB, a *webtest.App) {
		return func(t testing.TB, a *webtest.App) {
			v(a).hook = hookPath(t, a.CreateWorkflow(t, doc))
		}
	}
	scenarios := []webtest.Scenario{
		{
			Name: "no token", Method: http.MethodGet, URL: "/api/v1/workflows", NoAuth: true,
			ExpectedStatus: 401, ExpectedContent: []string{`"code":"unauthorized"`},
		},
		{
			Name: "bad token", Method: http.MethodGet, URL: "/api/v1/workflows", NoAuth: true,
			Headers:        map[string]string{"Authorization": "Bearer hf_nope"},
			ExpectedStatus: 401, ExpectedContent: []string{`"code":"unauthorized"`, "invalid API token"},
		},
		{
			Name: "malformed json", Method: http.MethodPost, URL: "/api/v1/workflows", Body: `{"name": `,
			ExpectedStatus: 400, ExpectedContent: []string{`"code":"bad_request"`, "not valid JSON"},
			ExpectedEvents: map[string]int64{},
		},
		{
			Name: "invalid workflow lists every error by path", Method: http.MethodPost, URL: "/api/v1/workflows",
			Body: `{"name":"","trigger":{"type":"webhok"},"filtr":"x","steps":[
				{"id":"a","uses":"telegram.sendmessage"},
				{"id":"a","uses":"http.request","with":{"url":"http://x","methd":"GET","timeout":"soon"}},
				{"id":"c","uses":"http.request","if":"trigger.body.x >","with":{"url":"{{ trigger.body.url"}}]}`,
			ExpectedStatus: 422,
			ExpectedContent: []string{
				`"code":"validation_failed"`,
				`"path":"filtr","message":"unknown field (did you mean \"filter\"?)"`,
				`"path":"trigger.type"`, `(did you mean \"webhook\"?)`,
				`"path":"steps[0].uses","message":"unknown action \"telegram.sendmessage\"`,
				`"path":"steps[1].id","message":"\"a\" is already used by steps[0]"`,
				`"path":"steps[1].with.methd","message":"unknown input (did you mean \"method\"?)"`,
				`"path":"steps[2].if"`,
				`"path":"steps[2].with.url"`,
			},
		},
		{
			Name: "create", Method: http.MethodPost, URL: "/api/v1/workflows", Body: validWorkflow,
			ExpectedStatus: 201, ExpectedContent: []string{`"version":1`, `"enabled":true`, `"webhook_url":"http://127.0.0.1:`, `/hooks/`},
		},
		{
			Name: "unknown workflow", Method: http.MethodGet, URL: "/api/v1/workflows/01a2197d-0000-7000-8000-000000000000",
			ExpectedStatus: 404, ExpectedContent: []string{`"code":"not_found"`},
		},
		{
			Name: "unknown run", Method: http.MethodGet, URL: "/api/v1/runs/nope",
			ExpectedStatus: 404, ExpectedContent: []string{`"code":"not_found"`},
		},
		{
			Name: "bad run status filter", Method: http.MethodGet, URL: "/api/v1/runs?status=done",
			ExpectedStatus: 400, ExpectedContent: []string{"status must be one of"},
		},
		{
			Name: "unknown hook token", Method: http.MethodPost, URL: "/hooks/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Body: `{}`, NoAuth: true,
			ExpectedStatus: 404, ExpectedContent: []string{"unknown webhook"}, ExpectedEvents: map[string]int64{},
		},
		{
			Name: "webhook accepts a non-JSON body as text", Method: http.MethodPost, NoAuth: true,
			BeforeTest: createHook(`{"name":"w","trigger":{"type":"webhook"},"steps":[{"id":"s","uses":"core.set","with":{"got":"{{ trigger.body }}"}}]}`),
			URLFunc:    func(_ testing.TB, a *webtest.App) string { return v(a).hook },
			Headers:    map[string]string{"Content-Type": "application/json"}, Body: `{"broken": `,
			ExpectedStatus: 202, ExpectedContent: []string{`"event_id"`, `"run_id"`},
			ExpectedEvents: map[string]int64{"accepted": 1}, ExpectedRuns: map[string]int64{"succeeded": 1}, ExpectedSteps: webtest.Count(1),
		},
		{
			Name: "repeated delivery answers 200 with the first ids", Method: http.MethodPost, NoAuth: true, Body: `{}`,
			BeforeTest: func(t testing.TB, a *webtest.App) {
				v(a).hook = hookPath(t, a.CreateWorkflow(t, `{"name":"d","trigger":{"type":"webhook","webhook":{"dedupe":"trigger.headers['x-delivery']"}},"steps":[]}`))
				first := a.Do(t, http.MethodPost, v(a).hook, `{}`, false, map[string]string{"X-Delivery": "abc"})
				require.Equal(t, http.StatusAccepted, first.Status)
				v(a).firstIDs = first.JSON(t)
			},
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return v(a).hook },
			Headers:        map[string]string{"X-Delivery": "abc"},
			ExpectedStatus: 200, ExpectedContent: []string{`"duplicate":true`},
			ExpectedEvents: map[string]int64{"accepted": 1, "duplicate": 1}, ExpectedRuns: map[string]int64{"succeeded": 1},
			AfterTest: func(t testing.TB, a *webtest.App, res *webtest.Response) {
				ids := res.JSON(t)
				require.Equal(t, v(a).firstIDs["event_id"], ids["event_id"])
				require.Equal(t, v(a).firstIDs["run_id"], ids["run_id"])
			},
		},
		{
			Name: "replay a run", Method: http.MethodPost,
			BeforeTest: func(t testing.TB, a *webtest.App) {
				v(a).hook = hookPath(t, a.CreateWorkflow(t, validWorkflow))
				res := a.Do(t, http.MethodPost, v(a).hook, `{}`, false, nil)
				v(a).runID = res.JSON(t)["run_id"].(string)
				enginetest.WaitRun(t, a.Engine.Engine, v(a).runID)
			},
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return "/api/v1/runs/" + v(a).runID + "/replay" },
			ExpectedStatus: 201, ExpectedContent: []string{`"replay_of":"`, `"status":"queued"`},
			ExpectedEvents: map[string]int64{"accepted": 1}, ExpectedRuns: map[string]int64{"succeeded": 2},
		},
		{
			Name: "continue a run that did not fail", Method: http.MethodPost,
			BeforeTest: func(t testing.TB, a *webtest.App) {
				v(a).hook = hookPath(t, a.CreateWorkflow(t, validWorkflow))
				v(a).runID = a.Do(t, http.MethodPost, v(a).hook, `{}`, false, nil).JSON(t)["run_id"].(string)
				enginetest.WaitRun(t, a.Engine.Engine, v(a).runID)
			},
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return "/api/v1/runs/" + v(a).runID + "/replay?from=failed" },
			ExpectedStatus: 409, ExpectedContent: []string{"only a failed run continues"},
		},
		{
			Name: "cancel a finished run", Method: http.MethodPost,
			BeforeTest: func(t testing.TB, a *webtest.App) {
				v(a).hook = hookPath(t, a.CreateWorkflow(t, validWorkflow))
				v(a).runID = a.Do(t, http.MethodPost, v(a).hook, `{}`, false, nil).JSON(t)["run_id"].(string)
				enginetest.WaitRun(t, a.Engine.Engine, v(a).runID)
			},
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return "/api/v1/runs/" + v(a).runID + "/cancel" },
			ExpectedStatus: 409, ExpectedContent: []string{"already ended as succeeded"},
		},
		{
			Name: "cancel a waiting run", Method: http.MethodPost,
			BeforeTest: func(t testing.TB, a *webtest.App) {
				v(a).hook = hookPath(t, a.CreateWorkflow(t, waitingWorkflow))
				v(a).runID = a.Do(t, http.MethodPost, v(a).hook, `{}`, false, nil).JSON(t)["run_id"].(string)
				enginetest.WaitStatus(t, a.Engine.Engine, v(a).runID, engine.RunWaiting)
			},
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return "/api/v1/runs/" + v(a).runID + "/cancel" },
			ExpectedStatus: 200, ExpectedContent: []string{`"status":"cancelled"`},
			ExpectedRuns: map[string]int64{"cancelled": 1},
			AfterTest: func(t testing.TB, a *webtest.App, _ *webtest.Response) {
				run := a.Do(t, http.MethodGet, "/api/v1/runs/"+v(a).runID, "", true, nil).JSON(t)
				steps := run["steps"].([]any)
				require.Len(t, steps, 1)
				step := steps[0].(map[string]any)
				require.Equal(t, "cancelled", step["status"], "the step the run waited in ends with it")
				require.NotEmpty(t, step["finished_at"])
			},
		},
		{
			Name: "cancel a cancelled run", Method: http.MethodPost,
			BeforeTest: func(t testing.TB, a *webtest.App) {
				v(a).hook = hookPath(t, a.CreateWorkflow(t, waitingWorkflow))
				v(a).runID = a.Do(t, http.MethodPost, v(a).hook, `{}`, false, nil).JSON(t)["run_id"].(string)
				enginetest.WaitStatus(t, a.Engine.Engine, v(a).runID, engine.RunWaiting)
				res := a.Do(t, http.MethodPost, "/api/v1/runs/"+v(a).runID+"/cancel", "", true, nil)
				require.Equal(t, 200, res.Status, res.Body)
			},
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return "/api/v1/runs/" + v(a).runID + "/cancel" },
			ExpectedStatus: 409, ExpectedContent: []string{"already ended as cancelled"},
		},
		{
			// A form's values are strings: comparing one with a number fails the filter.
			Name: "an error is shown as written", Method: http.MethodGet,
			BeforeTest: func(t testing.TB, a *webtest.App) {
				v(a).hook = hookPath(t, a.CreateWorkflow(t, `{"name":"form","trigger":{"type":"webhook"},
				  "filter":"trigger.body.amount > 100","steps":[{"id":"x","uses":"core.set","with":{"a":1}}]}`))
				v(a).runID = a.Do(t, http.MethodPost, v(a).hook, "amount=150", false,
					map[string]string{"Content-Type": "application/x-www-form-urlencoded"}).JSON(t)["run_id"].(string)
				enginetest.WaitRun(t, a.Engine.Engine, v(a).runID)
			},
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return "/api/v1/runs/" + v(a).runID },
			ExpectedStatus: 200, ExpectedContent: []string{`trigger.body.amount > 100`, "string > int"},
			NotExpectedContent: []string{`\u003e`},
		},
		{
			Name: "metrics", Method: http.MethodGet, URL: "/metrics", NoAuth: true,
			ExpectedStatus: 200, ExpectedContent: []string{"hookflow_runs_in_flight", "go_goroutines"},
		},
		{
			Name: "method not configured", Method: http.MethodGet, NoAuth: true,
			BeforeTest:     createHook(validWorkflow),
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return v(a).hook },
			ExpectedStatus: 405, ExpectedEvents: map[string]int64{"rejected": 1},
			AfterTest: func(t testing.TB, a *webtest.App, res *webtest.Response) {
				require.Equal(t, "POST", res.Header.Get("Allow"))
			},
		},
		{
			Name: "disabled workflow's hook is unknown", Method: http.MethodPost, NoAuth: true, Body: `{}`,
			BeforeTest:     createHook(`{"name":"w","enabled":false,"trigger":{"type":"webhook"},"steps":[]}`),
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return v(a).hook },
			ExpectedStatus: 404, ExpectedEvents: map[string]int64{},
		},
		{
			Name: "webhook body too large", Method: http.MethodPost, NoAuth: true,
			BeforeTest:     createHook(validWorkflow),
			URLFunc:        func(_ testing.TB, a *webtest.App) string { return v(a).hook },
			Body:           `"` + strings.Repeat("x", 1<<20) + `"`,
			ExpectedStatus: 413, ExpectedEvents: map[string]int64{"too_large": 1},
		},
		{
			Name: "connection secrets are write-only", Method: http.MethodPost, URL: "/api/v1/connections",
			Body:           `{"name":"crm","connector":"http","config":{"base_url":"https://crm.example.com","auth":"bearer","token":"tok-SECRET-123"}}`,
			ExpectedStatus: 201, ExpectedContent: []string{`"secrets_set":["token"]`, `"base_url":"https://crm.example.com"`},
			NotExpectedContent: []string{"tok-SECRET-123"},
			AfterTest: func(t testing.TB, a *webtest.App, _ *webtest.Response) {
				for _, path := range []string{"/api/v1/connections", "/api/v1/connections/crm"} {
					res := a.Do(t, http.MethodGet, path, "", true, nil)
					require.Equal(t, http.StatusOK, res.Status)
					require.NotContains(t, res.Body, "tok-SECRET-123")
					require.Contains(t, res.Body, `"secrets_set":["token"]`)
				}
			},
		},
		{
			Name: "invalid connection", Method: http.MethodPost, URL: "/api/v1/connections",
			Body:           `{"name":"Bad Name","connector":"htp","config":{}}`,
			ExpectedStatus: 422, ExpectedContent: []string{`"path":"name"`, `"path":"connector"`},
		},
		{
			Name: "workflow naming a missing connection", Method: http.MethodPost, URL: "/api/v1/workflows",
			Body:           `{"name":"w","trigger":{"type":"webhook"},"steps":[{"id":"a","uses":"http.request","connection":"ghost","with":{"url":"/x"}}]}`,
			ExpectedStatus: 422, ExpectedContent: []string{`"path":"steps[0].connection","message":"connection \"ghost\" does not exist"`},
		},
		{
			Name: "connectors lists specs", Method: http.MethodGet, URL: "/api/v1/connectors",
			ExpectedStatus: 200, ExpectedContent: []string{`"name":"http"`, `"name":"request"`, `"name":"core"`, `"secret":true`},
		},
		{
			Name: "healthz", Method: http.MethodGet, URL: "/healthz", NoAuth: true,
			ExpectedStatus: 200, ExpectedContent: []string{`"status":"ok"`},
		},
		{
			Name: "readyz", Method: http.MethodGet, URL: "/readyz", NoAuth: true,
			ExpectedStatus: 200, ExpectedContent: []string{`"database":`},
		},
		{
			Name: "unknown endpoint", Method: http.MethodGet, URL: "/api/v2/nothing", NoAuth: true,
			ExpectedStatus: 404, ExpectedContent: []string{`"code":"not_found"`},
		},
	}
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
				s.Test(t, webtest.NewApp(t, d, enginetest.Options{}))
			})
		})
	}
}

// TestWorkflowLifecycle covers replace (new version), disable through PUT, versions and
// delete.
func TestWorkflowLifecycle(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		app := webtest.NewApp(t, d, enginetest.Options{})
		wf := app.CreateWorkflow(t, `{"name":"v1","trigger":{"type":"webhook"},"steps":[]}`)
		id := wf["id"].(string)
		hook := hookPath(t, wf)

		res := app.Do(t, http.MethodPut, "/api/v1/workflows/"+id, `{"name":"v2","enabled":false,"trigger":{"type":"webhook"},"steps":[]}`, true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		updated := res.JSON(t)
		require.EqualValues(t, 2, updated["version"])
		require.Equal(t, false, updated["enabled"])
		require.Equal(t, wf["webhook_url"], updated["webhook_url"], "the webhook address survives edits")

		require.Equal(t, http.StatusNotFound, app.Do(t, http.MethodPost, hook, `{}`, false, nil).Status, "disabled")

		res = app.Do(t, http.MethodPut, "/api/v1/workflows/"+id, `{"name":"","trigger":{"type":"webhook"},"steps":[]}`, true, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)

		res = app.Do(t, http.MethodGet, "/api/v1/workflows/"+id+"/versions", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status)
		var versions struct {
			Items []engine.WorkflowVersion `json:"items"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &versions))
		require.Len(t, versions.Items, 2, "a rejected save makes no version")
		require.JSONEq(t, `{"name":"v1","trigger":{"type":"webhook"},"steps":[]}`, string(versions.Items[1].Definition))

		res = app.Do(t, http.MethodGet, "/api/v1/workflows?limit=1", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Contains(t, res.Body, `"name":"v2"`)

		require.Equal(t, http.StatusNoContent, app.Do(t, http.MethodDelete, "/api/v1/workflows/"+id, "", true, nil).Status)
		require.Equal(t, http.StatusNotFound, app.Do(t, http.MethodGet, "/api/v1/workflows/"+id, "", true, nil).Status)
		require.Equal(t, http.StatusNotFound, app.Do(t, http.MethodDelete, "/api/v1/workflows/"+id, "", true, nil).Status)
	})
}

// TestConnectionUsedByWorkflow: a step authenticates with the connection's secret, and
// the connection cannot be deleted while a workflow uses it.
func TestConnectionUsedByWorkflow(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		app := webtest.NewApp(t, d, enginetest.Options{})
		res := app.Do(t, http.MethodPost, "/api/v1/connections",
			fmt.Sprintf(`{"name":"crm","connector":"http","config":{"base_url":%q,"auth":"bearer","token":"tok-SECRET-123"}}`, app.Sink.URL+"/api"), true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		wf := app.CreateWorkflow(t, `{"name":"w","trigger":{"type":"webhook"},"steps":[
			{"id":"call","uses":"http.request","connection":"crm","with":{"method":"POST","url":"/leads","body":{"a":1}}}]}`)
		res = app.Do(t, http.MethodPost, hookPath(t, wf), `{}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status)
		run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
		reqs := app.Sink.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "/api/leads", reqs[0].Path)
		require.Equal(t, "Bearer tok-SECRET-123", reqs[0].Header.Get("Authorization"))
		full := app.Do(t, http.MethodGet, "/api/v1/runs/"+run.ID, "", true, nil)
		require.NotContains(t, full.Body, "tok-SECRET-123", "a run record never shows a secret")

		res = app.Do(t, http.MethodDelete, "/api/v1/connections/crm", "", true, nil)
		require.Equal(t, http.StatusConflict, res.Status)
		require.Contains(t, res.Body, "used by workflow w")

		// An update that points the kept secret at another origin is refused.
		res = app.Do(t, http.MethodPut, "/api/v1/connections/crm", `{"config":{"base_url":"https://evil.example","auth":"bearer"}}`, true, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
		require.Contains(t, res.Body, "send token again")

		// Update keeps the secret when it is left out.
		res = app.Do(t, http.MethodPut, "/api/v1/connections/crm", fmt.Sprintf(`{"config":{"base_url":%q,"auth":"bearer"}}`, app.Sink.URL+"/v2"), true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.Contains(t, res.Body, `"secrets_set":["token"]`)
		conn, err := app.Engine.GetConnection(context.Background(), "crm")
		require.NoError(t, err)
		require.Equal(t, app.Sink.URL+"/v2", conn.Config["base_url"])
	})
}

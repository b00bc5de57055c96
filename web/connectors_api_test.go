package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/engine/workflow"
	"github.com/hookflow/hookflow/web/webtest"
)

// acmeFile is a declarative connector file: a contact is created with a POST of its
// email, bearer-authenticated, and the action's output is the new contact's id.
func acmeFile(version string) string {
	return `hookflow_connector: 1
name: acme
title: Acme CRM
version: "` + version + `"
base_url: "{{ conn.base_url }}"
connection:
  fields:
    - {name: base_url, type: string, title: API server, required: true, endpoint: true}
    - {name: token, type: string, title: Token, required: true, secret: true}
  auth: {kind: bearer, token: "{{ conn.token }}"}
actions:
  create_contact:
    title: Create a contact
    input:
      - {name: email, type: string, title: Email, required: true, send: {body: email}}
    request: {method: POST, path: /contacts}
    output:
      - {name: id, type: integer, title: Id, value: "{{ body.id }}"}
`
}

var yamlType = map[string]string{"Content-Type": "application/yaml"}

// TestConnectorsAPIErrors: what the API refuses before anything is stored, and the names
// it never lets a file take.
func TestConnectorsAPIErrors(t *testing.T) {
	t.Parallel()
	a := webtest.NewApp(t, store.SQLite, enginetest.Options{Workers: -1})
	for _, s := range []webtest.Scenario{
		{Name: "list", Method: http.MethodGet, URL: "/api/v1/connectors", ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{`"name":"http"`, `"origin":"go"`, `"problems":[]`}},
		{Name: "wrong type", Method: http.MethodPost, URL: "/api/v1/connectors", Body: acmeFile("1"),
			Headers: map[string]string{"Content-Type": "application/xml"}, ExpectedStatus: http.StatusUnsupportedMediaType,
			ExpectedContent: []string{`"code":"unsupported_media_type"`}},
		{Name: "empty", Method: http.MethodPost, URL: "/api/v1/connectors", Headers: yamlType,
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{"it is empty"}},
		{Name: "not text", Method: http.MethodPost, URL: "/api/v1/connectors", Body: "name: \xff\xfe", Headers: yamlType,
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{"not UTF-8"}},
		{Name: "too large", Method: http.MethodPost, URL: "/api/v1/connectors", Body: "#" + strings.Repeat("x", 1<<20), Headers: yamlType,
			ExpectedStatus: http.StatusRequestEntityTooLarge, ExpectedContent: []string{`"code":"payload_too_large"`}},
		{Name: "invalid", Method: http.MethodPost, URL: "/api/v1/connectors", Headers: yamlType,
			Body:           "hookflow_connector: 1\nname: acme\ntitle: Acme\nbase_url: https://acme.example\nconnection:\n  auth: {kind: sideways}\n",
			ExpectedStatus: http.StatusUnprocessableEntity, ExpectedContent: []string{`"code":"validation_failed"`, `"problems":[{"file":"api"`}},
		{Name: "name differs from the URL", Method: http.MethodPut, URL: "/api/v1/connectors/other", Body: acmeFile("1"), Headers: yamlType,
			ExpectedStatus: http.StatusUnprocessableEntity, ExpectedContent: []string{`"path":"name"`, `but the URL names \"other\"`}},
		{Name: "a Go connector's name", Method: http.MethodPut, URL: "/api/v1/connectors/http", Headers: yamlType,
			Body:           strings.Replace(acmeFile("1"), "name: acme", "name: http", 1),
			ExpectedStatus: http.StatusConflict, ExpectedContent: []string{"connector http is compiled into this binary (go) and cannot be replaced"}},
		{Name: "delete a Go connector", Method: http.MethodDelete, URL: "/api/v1/connectors/http",
			ExpectedStatus: http.StatusConflict, ExpectedContent: []string{"cannot be deleted"}},
		{Name: "delete unknown", Method: http.MethodDelete, URL: "/api/v1/connectors/nothing", ExpectedStatus: http.StatusNotFound},
		{Name: "get unknown", Method: http.MethodGet, URL: "/api/v1/connectors/nothing", ExpectedStatus: http.StatusNotFound},
		{Name: "get a Go connector", Method: http.MethodGet, URL: "/api/v1/connectors/http", ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{`"origin":"go"`, `"installed":true`}, NotExpectedContent: []string{`"source"`}},
	} {
		t.Run(s.Name, func(t *testing.T) { s.Test(t, a) })
	}
	// Nothing of the above was stored.
	res := a.Do(t, http.MethodGet, "/api/v1/connectors/acme", "", true, nil)
	require.Equal(t, http.StatusNotFound, res.Status, res.Body)
}

// TestConnectorsAPI: an admin uploads a connector file, a workflow uses it against a
// fake of the service, the file is replaced and deleted; every step answers with the
// documented status.
func TestConnectorsAPI(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		a := webtest.NewApp(t, d, enginetest.Options{})
		viewer, editor := roleHeader(t, a, engine.RoleViewer), roleHeader(t, a, engine.RoleEditor)
		fake := webtest.NewSink(t)
		fake.Body = `{"id": 478}`

		res := a.Do(t, http.MethodPost, "/api/v1/connectors", acmeFile("1.0.0"), true, yamlType)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		require.Equal(t, "/api/v1/connectors/acme", res.Header.Get("Location"))
		got := res.JSON(t)
		require.Equal(t, "api", got["origin"])
		require.Equal(t, "1.0.0", got["version"])
		require.EqualValues(t, 1, got["revision"])
		require.Equal(t, acmeFile("1.0.0"), got["source"])
		res = a.Do(t, http.MethodPost, "/api/v1/connectors", acmeFile("1.0.0"), true, yamlType)
		require.Equal(t, http.StatusConflict, res.Status, res.Body)

		res = a.Do(t, http.MethodPost, "/api/v1/connections", `{"name":"acme-main","connector":"acme","config":{"base_url":"`+fake.URL+`","token":"acme-secret-token-1"}}`, true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		wf := a.CreateWorkflow(t, `{"name":"contacts","trigger":{"type":"webhook"},"steps":[
		  {"id":"contact","uses":"acme.create_contact","connection":"acme-main","with":{"email":"{{ trigger.body.email }}"}}]}`)
		res = a.Do(t, http.MethodPost, wf["webhook_url"].(string), `{"email":"ann@example.com"}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		run := enginetest.WaitRun(t, a.Engine.Engine, res.JSON(t)["run_id"].(string))
		require.Equal(t, "succeeded", run.Status, run.Error)
		require.JSONEq(t, `{"id":478}`, string(run.Steps[0].Output))
		reqs := fake.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "/contacts", reqs[0].Path)
		require.Equal(t, "Bearer acme-secret-token-1", reqs[0].Header.Get("Authorization"))
		require.JSONEq(t, `{"email":"ann@example.com"}`, reqs[0].Body)

		// JSON is YAML: the same file as JSON replaces it.
		var doc map[string]any
		res = a.Do(t, http.MethodGet, "/api/v1/connectors/acme", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.NoError(t, json.Unmarshal([]byte(yamlToJSON(t, acmeFile("1.1.0"))), &doc))
		js, err := json.Marshal(doc)
		require.NoError(t, err)
		res = a.Do(t, http.MethodPut, "/api/v1/connectors/acme", string(js), true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		require.EqualValues(t, 2, res.JSON(t)["revision"])
		require.Equal(t, "1.1.0", res.JSON(t)["version"])

		res = a.Do(t, http.MethodGet, "/api/v1/connectors", "", false, viewer)
		require.Equal(t, http.StatusOK, res.Status)
		require.Contains(t, res.Body, `"name":"acme","title":"Acme CRM"`)
		require.Contains(t, res.Body, `"origin":"api","version":"1.1.0","revision":2,"file":"api:acme"`)
		res = a.Do(t, http.MethodGet, "/api/v1/connectors/acme", "", false, viewer)
		require.Equal(t, http.StatusOK, res.Status)
		require.NotContains(t, res.Body, `"source"`, "viewers read specs, not files")
		require.Equal(t, http.StatusForbidden, a.Do(t, http.MethodDelete, "/api/v1/connectors/acme", "", false, editor).Status)

		res = a.Do(t, http.MethodDelete, "/api/v1/connectors/acme", "", true, nil)
		require.Equal(t, http.StatusNoContent, res.Status, res.Body)
		require.Equal(t, http.StatusNotFound, a.Do(t, http.MethodGet, "/api/v1/connectors/acme", "", true, nil).Status)
		res = a.Do(t, http.MethodPost, "/api/v1/workflows", `{"name":"again","trigger":{"type":"webhook"},"steps":[
		  {"id":"contact","uses":"acme.create_contact","connection":"acme-main","with":{"email":"x"}}]}`, true, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Body)
		require.Contains(t, res.Body, `"path":"steps[0].uses","message":"connector acme is not installed"`)

		res = a.Do(t, http.MethodPut, "/api/v1/connectors/acme", acmeFile("2.0.0"), true, map[string]string{"Content-Type": "text/plain; charset=utf-8"})
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		require.Equal(t, "/api/v1/connectors/acme", res.Header.Get("Location"))
	})
}

// roleHeader makes a user of the role and returns an Authorization header with a token
// of theirs.
func roleHeader(t *testing.T, a *webtest.App, role string) map[string]string {
	t.Helper()
	ctx := context.Background()
	email := role + "@example.com"
	_, err := a.Engine.CreateUser(ctx, email, "long-enough-password", role)
	require.NoError(t, err)
	tok, err := a.Engine.CreateToken(ctx, email, "test")
	require.NoError(t, err)
	return map[string]string{"Authorization": "Bearer " + tok}
}

func yamlToJSON(t *testing.T, y string) string {
	t.Helper()
	js, err := workflow.YAMLToJSON([]byte(y))
	require.NoError(t, err)
	return string(js)
}

package web_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
	"github.com/hookflow/hookflow/workflows"
)

// TestTildaLead runs workflows/examples/tilda-lead.json as Tilda would drive it: the check
// of a new URL (test=test) gets 200 and starts nothing; a submission gets 200 and one run
// that sees the form, the UTM fields and the payment as an object; Tilda's retry of it
// (same tranid) gets 200 with the first ids and starts nothing; a wrong API key gets 401
// and is recorded as rejected, the key never stored.
func TestTildaLead(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	const key = "tilda-api-key-7Qp2vX9m"
	res := app.Do(t, http.MethodPost, "/api/v1/connections", `{"name":"tilda-key","connector":"webhook","config":{"secret":"`+key+`"}}`, true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	doc, err := fs.ReadFile(workflows.FS, "examples/tilda-lead.json")
	require.NoError(t, err)
	wf := app.CreateWorkflow(t, string(doc))
	hook := hookPath(t, wf)
	events := func() []map[string]any {
		res := app.Do(t, http.MethodGet, "/api/v1/workflows/"+wf["id"].(string)+"/events", "", true, nil)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		var page struct {
			Items []map[string]any `json:"items"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
		return page.Items
	}
	form := func(body string, headers map[string]string) *webtest.Response {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range headers {
			h[k] = v
		}
		return app.Do(t, http.MethodPost, hook, body, false, h)
	}

	// Tilda's check sends no key; it must pass all the same, or Tilda refuses the URL.
	check := form("test=test", nil)
	require.Equal(t, http.StatusOK, check.Status, check.Body)
	require.Equal(t, "ok", check.Body)
	c := app.Settle(t)
	require.Empty(t, c.Runs, "the check starts no run")
	require.Equal(t, int64(1), c.Events[store.VerdictCheck])
	ev := events()[0]
	require.Equal(t, "check", ev["verdict"])
	require.Equal(t, "tilda checked the webhook URL; answered 200, no run started", ev["reason"])

	payment := `{"orderid":"1807219350","amount":"2500","products":["Course x 1"]}`
	submission := url.Values{
		"Name": {"Ann Lee"}, "Email": {" Ann@Example.com"}, "Phone": {"+7 (999) 123-45-67"},
		"formid": {"form512883611"}, "tranid": {"5186541:4209364231"},
		"utm_source": {"yandex"}, "utm_campaign": {"spring"}, "payment": {payment},
	}.Encode()
	withKey := map[string]string{"X-Tilda-Api-Key": key}
	first := form(submission, withKey)
	require.Equal(t, http.StatusOK, first.Status, first.Body)
	ids := first.JSON(t)
	runID, _ := ids["run_id"].(string)
	require.NotEmpty(t, runID)
	require.NotEmpty(t, ids["event_id"])
	run := enginetest.WaitRun(t, app.Engine.Engine, runID)
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	require.Len(t, run.Steps, 1)
	require.JSONEq(t, `{"name":"Ann Lee","email":"ann@example.com","phone":"+7 (999) 123-45-67",
		"form":"form512883611","submission":"5186541:4209364231","utm_source":"yandex","utm_campaign":"spring",
		"order":"1807219350","amount":2500}`, string(run.Steps[0].Output))

	// Tilda retries after 5 s without an answer: the same tranid starts nothing.
	again := form(submission, withKey)
	require.Equal(t, http.StatusOK, again.Status, again.Body)
	dup := again.JSON(t)
	require.Equal(t, runID, dup["run_id"])
	require.Equal(t, ids["event_id"], dup["event_id"])
	require.Equal(t, true, dup["duplicate"])

	bad := form(submission, map[string]string{"X-Tilda-Api-Key": "not-the-key"})
	require.Equal(t, http.StatusUnauthorized, bad.Status, bad.Body)
	c = app.Settle(t)
	require.Equal(t, map[string]int64{engine.RunSucceeded: 1}, c.Runs)
	require.Equal(t, map[string]int64{"check": 1, "accepted": 1, "duplicate": 1, "rejected": 1}, c.Events)
	rejected := events()[0]
	require.Equal(t, "rejected", rejected["verdict"])
	require.Equal(t, "api key mismatch", rejected["reason"])
	for _, ev := range events() {
		if ev["verdict"] == "check" {
			continue // Tilda's check carries no key
		}
		require.Equal(t, "******", ev["headers"].(map[string]any)["x-tilda-api-key"], "the key header is masked")
	}
}

// TestTildaWithoutKey: a workflow with the bare preset checks no key, answers 200, and
// masks a key sent in a form field when the workflow names that field.
func TestTildaWithoutKey(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	wf := app.CreateWorkflow(t, `{"name":"tilda","trigger":{"type":"webhook","webhook":{"auth":{"type":"tilda"}}},
		"steps":[{"id":"keep","uses":"core.set","with":{"payment":"{{ trigger.body.payment }}"}}]}`)
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	res := app.Do(t, http.MethodPost, hookPath(t, wf), "Name=Bob&tranid=1%3A2&payment=%7B%22amount%22%3A%2210%22%7D", false, h)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	require.JSONEq(t, `{"payment":{"amount":"10"}}`, string(run.Steps[0].Output))

	res = app.Do(t, http.MethodPost, "/api/v1/connections", `{"name":"tk","connector":"webhook","config":{"secret":"field-key-123"}}`, true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	wf = app.CreateWorkflow(t, `{"name":"tilda field","trigger":{"type":"webhook","webhook":{"auth":{"type":"tilda","connection":"tk","field":"apikey"}}},
		"steps":[{"id":"keep","uses":"core.set","with":{"key":"{{ trigger.body.apikey }}"}}]}`)
	res = app.Do(t, http.MethodPost, hookPath(t, wf), "Name=Bob&tranid=3%3A4&apikey=field-key-123", false, h)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	run = enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
	require.JSONEq(t, `{"key":"******"}`, string(run.Steps[0].Output), "runs never see the key")
	res = app.Do(t, http.MethodPost, hookPath(t, wf), "Name=Bob&tranid=5%3A6", false, h)
	require.Equal(t, http.StatusUnauthorized, res.Status, res.Body)
}

package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
	"github.com/hookflow/hookflow/web"
	"github.com/hookflow/hookflow/web/webtest"
)

func mac(h func() hash.Hash, key, msg string) []byte {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

var (
	sha256New = sha256.New
	sha1New   = sha1.New
)

// signed is one request for the verification table: a builder of valid headers, and
// what breaking it looks like.
type signed struct {
	name   string
	auth   string // the workflow's trigger.webhook.auth
	secret map[string]any
	ctype  string
	body   string
	sign   func(secret, body, fullURL string, now time.Time) map[string]string
	// stale, when set, signs for a time outside the tolerance.
	stale bool
}

var now0 = enginetest.ClockStart().Truncate(time.Second)

func verificationCases() []signed {
	ts := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	return []signed{
		{name: "hmac", auth: `{"type":"hmac","connection":"hook","header":"X-Signature","algorithm":"sha256","encoding":"hex","prefix":"sha256="}`,
			body: `{"lead":1}`, sign: func(s, b, _ string, _ time.Time) map[string]string {
				return map[string]string{"X-Signature": "sha256=" + hex.EncodeToString(mac(sha256New, s, b))}
			}},
		{name: "github", auth: `{"type":"github","connection":"hook"}`, body: `{"action":"opened"}`,
			sign: func(s, b, _ string, _ time.Time) map[string]string {
				return map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac(sha256New, s, b)), "X-GitHub-Delivery": "d-1"}
			}},
		{name: "stripe", auth: `{"type":"stripe","connection":"hook"}`, body: `{"id":"evt_1"}`, stale: true,
			sign: func(s, b, _ string, t time.Time) map[string]string {
				return map[string]string{"Stripe-Signature": "t=" + ts(t) + ",v1=" + hex.EncodeToString(mac(sha256New, s, ts(t)+"."+b))}
			}},
		{name: "slack", auth: `{"type":"slack","connection":"hook"}`, ctype: "application/x-www-form-urlencoded", body: "token=x&text=hi", stale: true,
			sign: func(s, b, _ string, t time.Time) map[string]string {
				return map[string]string{"X-Slack-Request-Timestamp": ts(t), "X-Slack-Signature": "v0=" + hex.EncodeToString(mac(sha256New, s, "v0:"+ts(t)+":"+b))}
			}},
		{name: "shopify", auth: `{"type":"shopify","connection":"hook"}`, body: `{"id":820982911946154508}`,
			sign: func(s, b, _ string, _ time.Time) map[string]string {
				return map[string]string{"X-Shopify-Hmac-Sha256": base64.StdEncoding.EncodeToString(mac(sha256New, s, b))}
			}},
		{name: "standard-webhooks", auth: `{"type":"standard-webhooks","connection":"hook"}`, body: `{"type":"lead.created"}`, stale: true,
			secret: map[string]any{"secret": "whsec_" + base64.StdEncoding.EncodeToString([]byte("engine-test-key-0123456789abcdef"))},
			sign: func(s, b, _ string, t time.Time) map[string]string {
				key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
				sig := base64.StdEncoding.EncodeToString(mac(sha256New, string(key), "msg_1."+ts(t)+"."+b))
				return map[string]string{"webhook-id": "msg_1", "webhook-timestamp": ts(t), "webhook-signature": "v1,bm90IHRoaXMgb25l v1," + sig}
			}},
		{name: "telegram", auth: `{"type":"telegram","connection":"hook"}`, body: `{"update_id":1}`,
			secret: map[string]any{"secret": "tg_Secret-123"},
			sign: func(s, _, _ string, _ time.Time) map[string]string {
				return map[string]string{"X-Telegram-Bot-Api-Secret-Token": s}
			}},
		{name: "hubspot-v3", auth: `{"type":"hubspot-v3","connection":"hook"}`, body: `[{"eventId":1}]`, stale: true,
			sign: func(s, b, u string, t time.Time) map[string]string {
				ms := strconv.FormatInt(t.UnixMilli(), 10)
				return map[string]string{"X-HubSpot-Request-Timestamp": ms,
					"X-HubSpot-Signature-v3": base64.StdEncoding.EncodeToString(mac(sha256New, s, "POST"+u+b+ms))}
			}},
		{name: "meta", auth: `{"type":"meta","connection":"hook"}`, body: `{"object":"page","entry":[]}`,
			sign: func(s, b, _ string, _ time.Time) map[string]string {
				return map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac(sha256New, s, b))}
			}},
		{name: "twilio", auth: `{"type":"twilio","connection":"hook"}`, ctype: "application/x-www-form-urlencoded",
			body: "CallSid=CA1&From=%2B14158675310&Digits=1234", sign: func(s, b, u string, _ time.Time) map[string]string {
				form, _ := url.ParseQuery(b)
				keys := make([]string, 0, len(form))
				for k := range form {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				msg := u
				for _, k := range keys {
					msg += k + form.Get(k)
				}
				return map[string]string{"X-Twilio-Signature": base64.StdEncoding.EncodeToString(mac(sha1New, s, msg))}
			}},
		{name: "token header", auth: `{"type":"token","connection":"hook","header":"X-Token"}`, body: `{}`,
			sign: func(s, _, _ string, _ time.Time) map[string]string { return map[string]string{"X-Token": s} }},
		{name: "basic", auth: `{"type":"basic","connection":"hook"}`, body: `{}`,
			secret: map[string]any{"username": "site", "password": "p4ssword-long"},
			sign: func(_, _, _ string, _ time.Time) map[string]string {
				return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("site:p4ssword-long"))}
			}},
	}
}

// TestWebhookVerification: for every scheme a signed request is accepted; a wrong
// secret, a tampered body, a missing header and (where the scheme signs a time) a stale
// timestamp each get 401 and are recorded with their reason, signature headers masked.
func TestWebhookVerification(t *testing.T) {
	t.Parallel()
	for _, tc := range verificationCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := enginetest.NewClock(now0)
			app := webtest.NewApp(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) { c.Now = clock.Now }})
			secret := tc.secret
			if secret == nil {
				secret = map[string]any{"secret": "s3cret-" + strings.ReplaceAll(tc.name, " ", "-")}
			}
			cfg, _ := json.Marshal(map[string]any{"name": "hook", "connector": "webhook", "config": secret})
			res := app.Do(t, http.MethodPost, "/api/v1/connections", string(cfg), true, nil)
			require.Equal(t, http.StatusCreated, res.Status, res.Body)
			wf := app.CreateWorkflow(t, `{"name":"signed","trigger":{"type":"webhook","webhook":{"auth":`+tc.auth+`}},"steps":[
				{"id":"s","uses":"core.set","with":{"got":"{{ trigger.body }}"}}]}`)
			hook := hookPath(t, wf)
			fullURL := app.Server.URL + hook
			s, _ := secret["secret"].(string)
			ctype := tc.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			send := func(body string, headers map[string]string) *webtest.Response {
				h := map[string]string{"Content-Type": ctype}
				for k, v := range headers {
					h[k] = v
				}
				return app.Do(t, http.MethodPost, hook, body, false, h)
			}

			ok := send(tc.body, tc.sign(s, tc.body, fullURL, clock.Now()))
			require.Equal(t, http.StatusAccepted, ok.Status, ok.Body)

			wrong := tc.sign("wrong-"+s, tc.body, fullURL, clock.Now())
			if tc.name == "basic" {
				wrong = map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("site:guess"))}
			}
			bad := send(tc.body, wrong)
			require.Equal(t, http.StatusUnauthorized, bad.Status, "wrong secret")
			require.NotContains(t, bad.Body, "secret")
			if tc.name != "telegram" && tc.name != "token header" && tc.name != "basic" {
				tampered := send(tc.body+" ", tc.sign(s, tc.body, fullURL, clock.Now()))
				require.Equal(t, http.StatusUnauthorized, tampered.Status, "tampered body")
			}
			missing := send(tc.body, nil)
			require.Equal(t, http.StatusUnauthorized, missing.Status, "missing header")
			if tc.stale {
				old := send(tc.body, tc.sign(s, tc.body, fullURL, clock.Now().Add(-10*time.Minute)))
				require.Equal(t, http.StatusUnauthorized, old.Status, "stale timestamp")
			}

			events := app.Do(t, http.MethodGet, "/api/v1/workflows/"+wf["id"].(string)+"/events", "", true, nil)
			require.Equal(t, http.StatusOK, events.Status)
			var page struct {
				Items []engine.Event `json:"items"`
			}
			require.NoError(t, json.Unmarshal([]byte(events.Body), &page))
			var accepted, rejected int
			for _, ev := range page.Items {
				switch ev.Verdict {
				case "accepted":
					accepted++
					require.NotEmpty(t, ev.RunID)
				case "rejected":
					rejected++
					require.NotEmpty(t, ev.Reason)
				}
				for name, v := range ev.Headers {
					switch name {
					case "x-signature", "x-hub-signature-256", "stripe-signature", "x-slack-signature", "x-shopify-hmac-sha256",
						"webhook-signature", "x-telegram-bot-api-secret-token", "x-hubspot-signature-v3", "x-twilio-signature",
						"x-token", "authorization":
						require.Equal(t, "******", v, "header %s is masked", name)
					}
				}
			}
			require.Equal(t, 1, accepted)
			require.GreaterOrEqual(t, rejected, 2)
			for _, k := range []string{"secret", "password"} {
				if v, ok := secret[k].(string); ok {
					require.NotContains(t, events.Body, v, "no secret in the inspector")
				}
			}
		})
	}
}

// TestWebhookLimits: a body over the workflow's limit gets 413 and is recorded; with 5
// requests per second and a burst of 5 the sixth immediate request gets 429 with
// Retry-After; a flood beyond the recording budget is sampled.
func TestWebhookLimits(t *testing.T) {
	t.Parallel()
	clock := enginetest.NewClock(now0)
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{Configure: func(c *engine.Config) { c.Now = clock.Now }})
	wf := app.CreateWorkflow(t, `{"name":"limited","trigger":{"type":"webhook","webhook":{"max_body_bytes":1048576,"rate_limit":5,"rate_burst":5}},"steps":[]}`)
	hook := hookPath(t, wf)
	big := `"` + strings.Repeat("x", 2<<20) + `"`
	res := app.Do(t, http.MethodPost, hook, big, false, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
	for i := range 5 {
		res = app.Do(t, http.MethodPost, hook, `{}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status, "request %d", i+1)
	}
	res = app.Do(t, http.MethodPost, hook, `{}`, false, nil)
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	clock.Advance(time.Second)
	require.Equal(t, http.StatusAccepted, app.Do(t, http.MethodPost, hook, `{}`, false, nil).Status, "the bucket refills")

	var page struct {
		Items []engine.Event `json:"items"`
	}
	res = app.Do(t, http.MethodGet, "/api/v1/workflows/"+wf["id"].(string)+"/events?limit=500", "", true, nil)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
	verdicts := map[string]int{}
	for _, ev := range page.Items {
		verdicts[ev.Verdict]++
		if ev.Verdict == "too_large" {
			require.True(t, ev.Truncated)
			require.Greater(t, ev.BodySize, int64(1<<20))
			require.Len(t, ev.Body, 64<<10, "the inspector keeps the start of the body")
		}
	}
	require.Equal(t, map[string]int{"too_large": 1, "accepted": 6, "rate_limited": 1}, verdicts)

	// A flood of refusals: recorded up to the budget, counted in the metrics beyond.
	for range 60 {
		app.Do(t, http.MethodPost, hook, `{}`, false, nil)
	}
	c, err := app.Engine.Count(context.Background())
	require.NoError(t, err)
	require.Less(t, c.Events["rate_limited"], int64(40), "recording is sampled under a flood")
	metrics := app.Do(t, http.MethodGet, "/metrics", "", false, nil)
	require.Contains(t, metrics.Body, "hookflow_webhooks_unrecorded_total")
	require.Contains(t, metrics.Body, `hookflow_webhooks_total{verdict="rate_limited"}`)
}

// TestAnswerModes: custom answers with a rendered body; result waits for core.respond
// and falls back to 202 with the run's URL when the run is slower than the timeout.
func TestAnswerModes(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		app := webtest.NewApp(t, d, enginetest.Options{})
		custom := app.CreateWorkflow(t, `{"name":"custom","trigger":{"type":"webhook","webhook":{"response":{"mode":"custom","status":200,
			"headers":{"Content-Type":"text/plain","X-Handled-By":"hookflow"},"body":"OK {{ trigger.body.id }}"}}},"steps":[]}`)
		res := app.Do(t, http.MethodPost, hookPath(t, custom), `{"id":42}`, false, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "OK 42", res.Body)
		require.Equal(t, "hookflow", res.Header.Get("X-Handled-By"))

		result := app.CreateWorkflow(t, `{"name":"result","trigger":{"type":"webhook","webhook":{"response":{"mode":"result","timeout":"5s"}}},"steps":[
			{"id":"calc","uses":"core.set","with":{"total":"{{ trigger.body.a + trigger.body.b }}"}},
			{"id":"answer","uses":"core.respond","with":{"status":201,"headers":{"X-Total":"{{ steps.calc.output.total }}"},"body":{"total":"{{ steps.calc.output.total }}"}}},
			{"id":"after","uses":"core.set","with":{"x":1}}]}`)
		res = app.Do(t, http.MethodPost, hookPath(t, result), `{"a":2,"b":3}`, false, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
		require.JSONEq(t, `{"total":5}`, res.Body)
		require.Equal(t, "5", res.Header.Get("X-Total"))

		slowSink := webtest.NewSink(t)
		slowSink.Delay = 1500 * time.Millisecond
		slow := app.CreateWorkflow(t, fmt.Sprintf(`{"name":"slow","trigger":{"type":"webhook","webhook":{"response":{"mode":"result","timeout":"200ms"}}},"steps":[
			{"id":"call","uses":"http.request","with":{"url":%q}},
			{"id":"answer","uses":"core.respond","with":{"body":"late"}}]}`, slowSink.URL))
		res = app.Do(t, http.MethodPost, hookPath(t, slow), `{}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status)
		ids := res.JSON(t)
		require.Equal(t, "/api/v1/runs/"+ids["run_id"].(string), ids["status_url"])
		require.Equal(t, engine.RunSucceeded, enginetest.WaitRun(t, app.Engine.Engine, ids["run_id"].(string)).Status)
	})
}

// TestFormBodies: amoCRM's nested form arrives as nested objects in trigger.body.
func TestFormBodies(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	wf := app.CreateWorkflow(t, `{"name":"amo","trigger":{"type":"webhook"},"steps":[{"id":"s","uses":"core.set","with":{"body":"{{ trigger.body }}"}}]}`)
	res := app.Do(t, http.MethodPost, hookPath(t, wf), "leads[add][0][id]=1&leads[add][0][name]=x&account[subdomain]=y", false,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	require.Equal(t, http.StatusAccepted, res.Status)
	run := enginetest.WaitRun(t, app.Engine.Engine, res.JSON(t)["run_id"].(string))
	require.Equal(t, engine.RunSucceeded, run.Status, run.Error)
	require.JSONEq(t, `{"body":{"leads":{"add":[{"id":"1","name":"x"}]},"account":{"subdomain":"y"}}}`, string(run.Steps[0].Output))
}

// TestTestRunsAndTokenRotation: a dry run reports rendered inputs and verdicts without
// calling anything; a live test calls the sink; the last captured event is the default;
// a rotated token retires the old URL.
func TestTestRunsAndTokenRotation(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	wf := app.CreateWorkflow(t, fmt.Sprintf(`{"name":"t","trigger":{"type":"webhook"},"filter":"trigger.body.amount > 100","steps":[
		{"id":"prep","uses":"core.set","with":{"who":"{{ upper(trigger.body.name) }}"}},
		{"id":"vip","uses":"http.request","if":"trigger.body.amount > 1000","with":{"url":"%[1]s/vip"}},
		{"id":"send","uses":"http.request","with":{"method":"POST","url":"%[1]s/lead","body":{"who":"{{ steps.prep.output.who }}"}}}]}`, app.Sink.URL))
	id := wf["id"].(string)

	res := app.Do(t, http.MethodPost, "/api/v1/workflows/"+id+"/test", `{}`, true, nil)
	require.Equal(t, http.StatusConflict, res.Status, "no event captured yet")

	res = app.Do(t, http.MethodPost, "/api/v1/workflows/"+id+"/test", `{"event":{"body":{"name":"ann","amount":500}},"dry_run":true}`, true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var dry struct {
		Status string `json:"status"`
		Filter *bool  `json:"filter"`
		Steps  []struct {
			ID, Status string
			If         *bool
			Input      map[string]any
			Output     map[string]any
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &dry))
	require.True(t, *dry.Filter)
	require.Len(t, dry.Steps, 3)
	require.Equal(t, map[string]any{"who": "ANN"}, dry.Steps[0].Output, "core.set computes in a dry run")
	require.Equal(t, "skipped", dry.Steps[1].Status)
	require.False(t, *dry.Steps[1].If)
	require.Equal(t, "would_call", dry.Steps[2].Status)
	require.Equal(t, map[string]any{"who": "ANN"}, dry.Steps[2].Input["body"])
	require.Empty(t, app.Sink.Requests(), "a dry run calls nothing")

	res = app.Do(t, http.MethodPost, "/api/v1/workflows/"+id+"/test", `{"event":{"body":{"amount":5}},"dry_run":true}`, true, nil)
	require.Contains(t, res.Body, `"status":"filtered"`)

	// A captured event is the default; a live test calls the sink; nothing is stored.
	hook := hookPath(t, wf)
	require.Equal(t, http.StatusAccepted, app.Do(t, http.MethodPost, hook, `{"name":"bob","amount":200}`, false, nil).Status)
	app.Settle(t)
	before := len(app.Sink.Requests())
	res = app.Do(t, http.MethodPost, "/api/v1/workflows/"+id+"/test", ``, true, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, `"event_id"`)
	require.Contains(t, res.Body, `"status":"succeeded"`)
	require.Len(t, app.Sink.Requests(), before+1)
	c, err := app.Engine.Count(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, c.Runs[engine.RunSucceeded], "a test run stores nothing")

	res = app.Do(t, http.MethodPost, "/api/v1/workflows/"+id+"/rotate-token", "", true, nil)
	require.Equal(t, http.StatusOK, res.Status)
	newHook := hookPath(t, res.JSON(t))
	require.NotEqual(t, hook, newHook)
	require.Equal(t, http.StatusNotFound, app.Do(t, http.MethodPost, hook, `{}`, false, nil).Status)
	require.Equal(t, http.StatusAccepted, app.Do(t, http.MethodPost, newHook, `{}`, false, nil).Status)
}

// TestPresetDedupe: a GitHub redelivery (same X-GitHub-Delivery) starts nothing, without
// the workflow naming a dedupe expression.
func TestPresetDedupe(t *testing.T) {
	t.Parallel()
	app := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	res := app.Do(t, http.MethodPost, "/api/v1/connections", `{"name":"gh","connector":"webhook","config":{"secret":"gh-secret"}}`, true, nil)
	require.Equal(t, http.StatusCreated, res.Status, res.Body)
	wf := app.CreateWorkflow(t, `{"name":"gh","trigger":{"type":"webhook","webhook":{"auth":{"type":"github","connection":"gh"}}},"steps":[]}`)
	body := `{"action":"opened"}`
	headers := map[string]string{"X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac(sha256New, "gh-secret", body))}
	first := app.Do(t, http.MethodPost, hookPath(t, wf), body, false, headers)
	require.Equal(t, http.StatusAccepted, first.Status, first.Body)
	again := app.Do(t, http.MethodPost, hookPath(t, wf), body, false, headers)
	require.Equal(t, http.StatusOK, again.Status)
	require.Equal(t, first.JSON(t)["run_id"], again.JSON(t)["run_id"])
}

// TestInFlightCap: past the cap of webhooks handled at once, requests get 503 with
// Retry-After instead of piling up in memory.
func TestInFlightCap(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, store.SQLite, enginetest.Options{})
	srv := httptest.NewServer(web.New(eng.Engine, web.Config{MaxInFlight: 1, Logger: enginetest.Logger(t)}))
	t.Cleanup(srv.Close)
	sink := webtest.NewSink(t)
	sink.Delay = time.Second
	wf, err := eng.CreateWorkflow(context.Background(), []byte(fmt.Sprintf(`{"name":"hold","trigger":{"type":"webhook","webhook":{"response":{"mode":"result","timeout":"3s"}}},
		"steps":[{"id":"slow","uses":"http.request","with":{"url":%q}},{"id":"answer","uses":"core.respond","with":{"body":"done"}}]}`, sink.URL)))
	require.NoError(t, err)
	url := srv.URL + "/hooks/" + wf.HookToken
	held := make(chan int, 1)
	go func() {
		res, err := http.Post(url, "application/json", strings.NewReader(`{}`))
		if err != nil {
			held <- 0
			return
		}
		res.Body.Close()
		held <- res.StatusCode
	}()
	require.Eventually(t, func() bool { return len(sink.Requests()) == 1 }, 10*time.Second, 5*time.Millisecond,
		"the first request holds its slot while its run calls the slow sink")
	res, err := http.Post(url, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	require.Equal(t, http.StatusOK, <-held, "the first request got its run's answer")
}

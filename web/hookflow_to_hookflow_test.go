package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/web/webtest"
)

// relayed is one request that went through the relay, and the receiver's answer to it.
type relayed struct {
	header http.Header
	body   []byte
	status int
	answer string
}

// relay sits between the sending Hookflow and the receiving one: it passes each request
// on unchanged and records it with the answer. While lose is above zero it then drops
// the answer and tells the sender 503, as a connection lost after the receiver acted
// would: the sender retries the same message.
type relay struct {
	*httptest.Server
	mu   sync.Mutex
	seen []relayed
	lose int
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	r := &relay{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fwd, err := http.NewRequestWithContext(req.Context(), req.Method, target+req.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fwd.Header = req.Header.Clone()
		res, err := http.DefaultClient.Do(fwd)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		r.mu.Lock()
		r.seen = append(r.seen, relayed{header: req.Header.Clone(), body: body, status: res.StatusCode, answer: string(answer)})
		lost := r.lose > 0
		r.lose--
		r.mu.Unlock()
		if lost {
			http.Error(w, "lost on the way back", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(answer)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *relay) requests() []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayed(nil), r.seen...)
}

// TestHookflowToHookflow: one Hookflow's http.request, signed with Standard Webhooks,
// starts a run at another Hookflow whose webhook trigger verifies Standard Webhooks. The
// sender's first answer is lost, so it retries the same message (same webhook-id, new
// timestamp and signature): the receiver verifies it, de-duplicates it by webhook-id
// (200, "duplicate": true) and runs the workflow once. A tampered body or a wrong
// secret is refused with 401 and starts nothing; a replay of the very same request is a
// duplicate.
func TestHookflowToHookflow(t *testing.T) {
	t.Parallel()
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("hookflow-to-hookflow-key-0123456"))
	receiver := webtest.NewApp(t, store.SQLite, enginetest.Options{})
	sender := webtest.NewApp(t, store.SQLite, enginetest.Options{})

	connection := func(app *webtest.App, doc map[string]any) {
		body, err := json.Marshal(doc)
		require.NoError(t, err)
		res := app.Do(t, http.MethodPost, "/api/v1/connections", string(body), true, nil)
		require.Equal(t, http.StatusCreated, res.Status, res.Body)
	}
	connection(receiver, map[string]any{"name": "partner", "connector": "webhook", "config": map[string]any{"secret": secret}})
	inbound := receiver.CreateWorkflow(t, `{"name":"inbound","trigger":{"type":"webhook","webhook":{
		"auth":{"type":"standard-webhooks","connection":"partner"}}},
		"steps":[{"id":"keep","uses":"core.set","with":{"order":"{{ trigger.body.order }}"}}]}`)
	hook := hookPath(t, inbound)

	r := newRelay(t, receiver.Server.URL)
	r.lose = 1
	connection(sender, map[string]any{"name": "receiver", "connector": "http",
		"config": map[string]any{"base_url": r.URL, "signing_secret": secret}})
	connection(sender, map[string]any{"name": "wrong", "connector": "http",
		"config": map[string]any{"base_url": r.URL, "signing_secret": "whsec_" + base64.StdEncoding.EncodeToString([]byte("not the receiver's key"))}})
	outbound := func(name, conn string) string {
		wf := sender.CreateWorkflow(t, `{"name":"`+name+`","trigger":{"type":"webhook"},"steps":[{"id":"notify","uses":"http.request",
			"connection":"`+conn+`","retry":{"max_attempts":3,"initial":"10ms","max":"50ms"},
			"with":{"method":"POST","url":"`+hook+`","body":{"order":"{{ trigger.body.id }}"}}}]}`)
		return hookPath(t, wf)
	}
	start := func(hook, id string) *engine.Run {
		res := sender.Do(t, http.MethodPost, hook, `{"id":"`+id+`"}`, false, nil)
		require.Equal(t, http.StatusAccepted, res.Status, res.Body)
		return enginetest.WaitRun(t, sender.Engine.Engine, res.JSON(t)["run_id"].(string))
	}

	sent := start(outbound("outbound", "receiver"), "ord-1")
	require.Equal(t, engine.RunSucceeded, sent.Status, sent.Error)
	reqs := r.requests()
	require.Len(t, reqs, 2, "the first answer was lost, so the step sent again")
	require.Equal(t, sent.ID+":notify", reqs[0].header.Get("webhook-id"))
	require.Equal(t, reqs[0].header.Get("webhook-id"), reqs[1].header.Get("webhook-id"), "a retry is the same message")
	require.Equal(t, http.StatusAccepted, reqs[0].status, reqs[0].answer)
	require.Equal(t, http.StatusOK, reqs[1].status, reqs[1].answer)
	var first, dup map[string]any
	require.NoError(t, json.Unmarshal([]byte(reqs[0].answer), &first))
	require.NoError(t, json.Unmarshal([]byte(reqs[1].answer), &dup))
	require.Equal(t, true, dup["duplicate"])
	require.Equal(t, first["run_id"], dup["run_id"], "the duplicate names the first delivery's run")

	got := enginetest.WaitRun(t, receiver.Engine.Engine, first["run_id"].(string))
	require.Equal(t, engine.RunSucceeded, got.Status, got.Error)
	require.Len(t, got.Steps, 1)
	require.JSONEq(t, `{"order":"ord-1"}`, string(got.Steps[0].Output))

	send := func(h http.Header, body []byte) *webtest.Response {
		headers := map[string]string{}
		for k := range h {
			headers[k] = h.Get(k)
		}
		return receiver.Do(t, http.MethodPost, hook, string(body), false, headers)
	}
	// The very same request again: verified, and a duplicate of the first.
	replay := send(reqs[0].header, reqs[0].body)
	require.Equal(t, http.StatusOK, replay.Status, replay.Body)
	require.Equal(t, true, replay.JSON(t)["duplicate"])
	// The same signature over another body.
	tampered := send(reqs[0].header, bytes.Replace(reqs[0].body, []byte("ord-1"), []byte("ord-9"), 1))
	require.Equal(t, http.StatusUnauthorized, tampered.Status, tampered.Body)
	require.Contains(t, tampered.Body, `"unauthorized"`)

	// Signed with a secret the receiver does not hold: 401, which the sender does not
	// retry, so its step fails with the status.
	wrong := start(outbound("wrong secret", "wrong"), "ord-2")
	require.Equal(t, engine.RunFailed, wrong.Status)
	require.Contains(t, wrong.Error, "401")
	reqs = r.requests()
	require.Len(t, reqs, 3, "a 4xx is not retried")
	require.Equal(t, http.StatusUnauthorized, reqs[2].status)

	events := receiver.Do(t, http.MethodGet, "/api/v1/workflows/"+inbound["id"].(string)+"/events", "", true, nil)
	require.Equal(t, http.StatusOK, events.Status)
	var page struct {
		Items []engine.Event `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(events.Body), &page))
	verdicts := map[string]int{}
	for _, ev := range page.Items {
		verdicts[ev.Verdict]++
		require.Equal(t, "******", ev.Headers["webhook-signature"], "the signature is masked in the inspector")
	}
	require.Equal(t, map[string]int{"accepted": 1, "duplicate": 2, "rejected": 2}, verdicts)
	counts := receiver.Settle(t)
	require.EqualValues(t, 1, counts.Runs[engine.RunSucceeded], "one run for one message, however often it came")
	require.NotContains(t, strings.ToLower(events.Body), strings.ToLower(strings.TrimPrefix(secret, "whsec_")))
}

package declarative

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
)

// acmeFile is a small service's connector: a base URL and a token, one idempotent action
// and one poll trigger.
const acmeFile = `
hookflow_connector: 1
name: acme
title: Acme
description: Things at Acme.
version: 1.2.0
base_url: "{{ conn.base_url }}"
connection:
  fields:
    - {name: base_url, type: string, title: Base URL, required: true, endpoint: true, default: "https://api.acme.test"}
    - {name: token, type: string, title: Token, secret: true, required: true}
    - {name: region, type: string, enum: [eu, us], default: eu}
  auth: {kind: bearer, token: "{{ conn.token }}"}
  test: {path: /me}
defaults:
  headers: {X-Region: "{{ conn.region }}"}
  errors:
    message: body.error.message
actions:
  create_thing:
    title: Create a thing
    input:
      - {name: owner, type: string, required: true}
      - {name: name, type: string, required: true, send: {body: thing.name}}
      - {name: code, type: string, send: {body: thing.code}}
      - {name: tags, type: array, items: {name: tag, type: string}, send: {body: thing.tags}}
      - {name: email, type: string, format: email, send: {body: contact.email}}
      - {name: trace, type: string, send: {header: X-Trace}}
      - {name: notify, type: boolean, default: false, send: {query: notify}}
    request: {method: POST, path: "/owners/{{ input.owner }}/things", omit_empty: true}
    idempotency: {header: Idempotency-Key}
    output:
      - {name: id, type: integer, value: "{{ body.id }}"}
      - {name: url, type: string, value: "{{ headers.location ?? '' }}"}
  get_thing:
    title: Get a thing
    input:
      - {name: id, type: string, required: true}
    request: {path: "/things/{{ input.id }}"}
triggers:
  new_things:
    kind: poll
    title: New things
    items: body.things
    item_key: item.id
    item:
      - {name: id, type: integer}
      - {name: name, type: string}
    request: {path: /things, query: {since: "{{ cursor }}"}}
    cursor: {type: number, value: item.id, initial: 0}
`

func TestConnectorSpec(t *testing.T) {
	t.Parallel()
	c, _ := build(t, acmeFile)
	require.Equal(t, "acme", c.Name)
	require.Equal(t, "dir", c.Origin)
	require.Equal(t, "1.2.0", c.Version)
	require.Equal(t, "test.yaml", c.Source)
	require.True(t, c.ConnectionRequired)
	require.NotNil(t, c.TestConnection)
	spec := c.Spec()
	require.NoError(t, spec.Lint())
	require.Equal(t, []string{"token"}, spec.SecretFields())
	require.Equal(t, []string{"base_url"}, spec.EndpointFields())
	create, ok := spec.Action("create_thing")
	require.True(t, ok)
	require.True(t, create.Idempotent)
	require.Equal(t, connectors.TypeArray, create.Inputs[3].Type)
	require.Equal(t, "tag", create.Inputs[3].Items.Name)
	unnamed := sdkField(Field{Name: "xs", Type: "array", Items: &Field{Type: "string"}})
	require.Equal(t, "item", unnamed.Items.Name, "list elements get the name the SDK requires")
	get, _ := spec.Action("get_thing")
	require.False(t, get.Idempotent)
	require.Equal(t, []string{"status", "body"}, []string{get.Outputs[0].Name, get.Outputs[1].Name},
		"an action without outputs returns the status and the body")
	require.Len(t, spec.Pollers, 1)
	require.Equal(t, "item.id", spec.Pollers[0].DefaultKey)
	require.Len(t, spec.Pollers[0].Item, 2)
	require.NoError(t, connectors.NewRegistry().Register(c), "it registers like a Go connector")
}

func TestConnectorWithoutAuthNeedsNoConnection(t *testing.T) {
	t.Parallel()
	c, _ := build(t, `
hookflow_connector: 1
name: open
title: Open data
base_url: https://open.example.test
connection: {auth: {kind: none}}
actions:
  get: {title: Get, request: {path: /x}}
`)
	require.False(t, c.ConnectionRequired)
	spec := c.Spec()
	require.NoError(t, spec.Lint())
}

func TestConnectorRefusesBrokenDefinitions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ patch, want string }{
		"template":   {`actions: {a: {title: A, request: {path: "/{{ input. }}"}}}`, "actions.a.request.path"},
		"auth kind":  {`connection: {auth: {kind: magic}}`, `unknown kind "magic"`},
		"rate":       {`defaults: {limits: {rate: fast}}`, `rate "fast"`},
		"pagination": {`triggers: {t: {kind: poll, title: T, items: body, item_key: item.id, request: {path: /}, pagination: {kind: cursor_token}}}`, "needs an expression"},
		"body none":  {`actions: {a: {title: A, request: {path: /, body_kind: none, body: {a: 1}}}}`, "body_kind none"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Parse refuses all of these; the runtime must refuse them too when handed a
			// File that did not come through Parse.
			def := decodeUnchecked(t, "hookflow_connector: 1\nname: x\ntitle: X\nbase_url: https://x.test\n"+tc.patch+"\n")
			_, err := def.Connector(Options{})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestConformance runs the SDK's conformance suite on a declarative action, exactly as Go
// connectors run it.
func TestConformance(t *testing.T) {
	t.Parallel()
	c, _ := build(t, acmeFile)
	connectortest.Run(t, connectortest.Case{
		Registry: connectors.NewRegistry().With(c),
		Action:   "acme.create_thing",
		Connection: func(baseURL string) map[string]any {
			return map[string]any{"base_url": baseURL, "token": "acme-secret-token-1"}
		},
		Input: func(string) map[string]any { return map[string]any{"owner": "o1", "name": "n"} },
		Respond: func(w http.ResponseWriter, r *http.Request, status int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			if status == http.StatusOK {
				fmt.Fprint(w, `{"id": 12}`)
				return
			}
			// A careless service echoing the credential in its error.
			fmt.Fprintf(w, `{"error": {"message": "bad request with %s"}}`, r.Header.Get("Authorization"))
		},
		IdempotencyHeader: "Idempotency-Key",
	})
}

func TestActionRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(201, map[string]any{"id": 12}, "Location", "/things/12"))
	c, _ := build(t, acmeFile)
	cn := conn(map[string]any{"base_url": srv.URL + "/", "token": "acme-secret-token-1"}, "token")
	out, err := runAction(t, c, "create_thing", cn, map[string]any{
		"owner": "team/a b", "name": "478", "code": "", "tags": []any{"x", "y"}, "email": "a@example.test", "trace": "t-1",
	})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": int64(12), "url": "/things/12"}, out)
	r := srv.requests()[0]
	require.Equal(t, "/owners/team%2Fa%20b/things", r.Path, "each {{ }} of a path is one escaped segment")
	require.JSONEq(t, `{"thing": {"name": "478", "tags": ["x", "y"]}, "contact": {"email": "a@example.test"}}`, r.Body,
		`"478" stays a string; the empty code is left out (omit_empty)`)
	require.Equal(t, []string{"false"}, r.Query["notify"], "the input's default is sent")
	require.Equal(t, "t-1", r.Header.Get("X-Trace"))
	require.Equal(t, "eu", r.Header.Get("X-Region"), "the connection field's default")
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
}

func TestActionMissingVariable(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{}))
	c, _ := build(t, acmeFile)
	cn := conn(map[string]any{"base_url": srv.URL, "token": "acme-secret-token-1"}, "token")
	_, err := runAction(t, c, "create_thing", cn, map[string]any{"name": "n"})
	require.ErrorContains(t, err, "input.owner is missing")
	require.True(t, connectors.IsPermanent(err))
	require.Empty(t, srv.requests(), "nothing is sent")
}

func TestActionWithoutOutputs(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{"id": "x1", "echo": "acme-secret-token-1"}))
	c, _ := build(t, acmeFile)
	cn := conn(map[string]any{"base_url": srv.URL, "token": "acme-secret-token-1"}, "token")
	out, err := runAction(t, c, "get_thing", cn, map[string]any{"id": "x1"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"status": 200, "body": map[string]any{"id": "x1", "echo": "******"}}, out,
		"a secret echoed by the service is masked")
}

func TestIdempotencyStableAcrossAttempts(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(503, nil), reply(200, map[string]any{"id": 1}))
	c, _ := build(t, `
hookflow_connector: 1
name: pay
title: Pay
base_url: "{{ conn.base_url }}"
connection:
  fields: [{name: base_url, type: string}]
  auth: {kind: none}
actions:
  charge:
    title: Charge
    input: [{name: amount, type: integer, send: {body: amount}}]
    request: {method: POST, path: /charges}
    idempotency: {body_field: meta.sync_id}
  refund:
    title: Refund
    request: {method: POST, path: /refunds}
    idempotency: {header: Idempotency-Key}
`)
	def, _ := c.Action("charge")
	call := connectortest.NewCall(t, map[string]any{"amount": 5}, conn(map[string]any{"base_url": srv.URL}))
	_, err := connectortest.Invoke(t.Context(), def, call)
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err), "503 is retryable")
	call.Attempt = 2
	_, err = connectortest.Invoke(t.Context(), def, call)
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		require.JSONEq(t, fmt.Sprintf(`{"amount": 5, "meta": {"sync_id": %q}}`, call.IdempotencyKey), r.Body)
	}

	srv2 := newServer(t, reply(200, map[string]any{}))
	def, _ = c.Action("refund")
	call = connectortest.NewCall(t, nil, conn(map[string]any{"base_url": srv2.URL}))
	for attempt := 1; attempt <= 2; attempt++ {
		call.Attempt = attempt
		_, err = connectortest.Invoke(t.Context(), def, call)
		require.NoError(t, err)
	}
	for _, r := range srv2.requests() {
		require.Equal(t, call.IdempotencyKey, r.Header.Get("Idempotency-Key"))
	}
}

func TestFormBodyAndTypedTemplates(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{"ok": true}))
	c, _ := build(t, `
hookflow_connector: 1
name: crm
title: CRM
base_url: "{{ conn.base_url }}"
connection:
  fields: [{name: base_url, type: string}]
  auth: {kind: none}
actions:
  add:
    title: Add
    input:
      - {name: id, type: string}
      - {name: count, type: integer}
      - {name: note, type: string}
    request:
      method: POST
      path: /add
      body_kind: form
      body:
        fields: {ID: "{{ input.id }}", COUNT: "{{ input.count }}", NOTE: "{{ input.note ?? nil }}"}
        phones: [{VALUE: "+1 555"}]
  json:
    title: JSON
    input:
      - {name: id, type: string}
      - {name: count, type: integer}
    request:
      method: PUT
      path: /json
      query: {ids: ["{{ input.id }}", "b"], label: "n={{ input.count }}"}
      body: {id: "{{ input.id }}", count: "{{ input.count }}", label: "#{{ input.count }}", fixed: 3}
`)
	cn := conn(map[string]any{"base_url": srv.URL})
	_, err := runAction(t, c, "add", cn, map[string]any{"id": "478", "count": 3})
	require.NoError(t, err)
	r := srv.requests()[0]
	require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	require.Equal(t, "fields%5BCOUNT%5D=3&fields%5BID%5D=478&fields%5BNOTE%5D=&phones%5B0%5D%5BVALUE%5D=%2B1+555", r.Body)

	_, err = runAction(t, c, "json", cn, map[string]any{"id": "478", "count": 3})
	require.NoError(t, err)
	r = srv.requests()[1]
	require.JSONEq(t, `{"id": "478", "count": 3, "label": "#3", "fixed": 3}`, r.Body,
		"one {{ }} keeps its type, a string stays a string, mixed text is a string")
	require.Equal(t, []string{"478", "b"}, r.Query["ids"])
	require.Equal(t, []string{"n=3"}, r.Query["label"])
}

func TestValidateFormats(t *testing.T) {
	t.Parallel()
	c, _ := build(t, acmeFile)
	def, _ := c.Action("create_thing")
	v := def.New().(connectors.Validator)
	require.NoError(t, v.Validate(map[string]any{"email": "a@example.test"}))
	err := v.Validate(map[string]any{"email": "not an email"})
	require.ErrorContains(t, err, "input email")
	require.True(t, connectors.IsPermanent(err))
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
		reply(200, map[string]any{})(w, nil)
	})
	c, _ := build(t, `
hookflow_connector: 1
name: slow
title: Slow
base_url: "{{ conn.base_url }}"
connection:
  fields: [{name: base_url, type: string}]
  auth: {kind: none}
defaults: {limits: {concurrency: 2}}
actions:
  a: {title: A, request: {path: /a}}
  b: {title: B, request: {path: /b}}
`)
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stop) // before the server's Close, which waits for its handlers
	cn := conn(map[string]any{"base_url": srv.URL})
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	defA, _ := c.Action("a")
	defB, _ := c.Action("b")
	for i := range 6 {
		def := []*connectors.ActionDef{defA, defB}[i%2]
		wg.Go(func() {
			_, err := connectortest.Invoke(t.Context(), def, connectortest.NewCall(t, nil, cn))
			errs <- err
		})
	}
	// Let requests pile up against the limit, then drain them.
	require.Eventually(t, func() bool { return inFlight.Load() >= 2 }, 5*time.Second, time.Millisecond)
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, srv.requests(), 6)
	require.EqualValues(t, 2, peak.Load(), "two actions of one connection share the limit of 2 in flight")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{}))
	c, clock := build(t, `
hookflow_connector: 1
name: rated
title: Rated
base_url: "{{ conn.base_url }}"
connection:
  fields: [{name: base_url, type: string}]
  auth: {kind: none}
defaults: {limits: {rate: 2/1s}}
actions:
  a: {title: A, request: {path: /a}}
`)
	cn := conn(map[string]any{"base_url": srv.URL})
	for range 6 {
		_, err := runAction(t, c, "a", cn, nil)
		require.NoError(t, err)
	}
	// Two go at once; each further one waits half a second of the connector's clock.
	require.Equal(t, 2*time.Second, clock.Slept().Round(time.Millisecond))
	other := conn(map[string]any{"base_url": srv.URL})
	other.Name = "other"
	_, err := runAction(t, c, "a", other, nil)
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, clock.Slept().Round(time.Millisecond), "another connection has its own bucket")
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]any{"15/3s": {15, 3 * time.Second}, "5000/1h": {5000, time.Hour}, "10/s": {10, time.Second}} {
		n, per, err := parseRate(in)
		require.NoError(t, err, in)
		require.Equal(t, want, [2]any{n, per}, in)
	}
	for _, in := range []string{"", "0/1s", "x/1s", "5", "5/", "5/-1s"} {
		_, _, err := parseRate(in)
		require.Error(t, err, in)
	}
}

func TestConnectionTest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(503, nil), reply(200, map[string]any{"me": 1}), reply(401, map[string]any{"error": map[string]any{"message": "bad token"}}))
	c, clock := build(t, acmeFile)
	cn := conn(map[string]any{"base_url": srv.URL, "token": "acme-secret-token-1"}, "token")
	require.NoError(t, c.TestConnection(t.Context(), cn), "a 503 is retried")
	require.Equal(t, time.Second, clock.Slept(), "after the backoff's first wait")
	err := c.TestConnection(t.Context(), cn)
	require.ErrorContains(t, err, "401 Unauthorized: bad token")
	require.True(t, connectors.IsPermanent(err))
	require.Equal(t, "/me", srv.requests()[0].Path)
}

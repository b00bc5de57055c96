package declarative

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// Connector builds the runtime connector of d: the SDK connector whose actions, pollers
// and connection test send the file's requests through opts.Client. Each call of
// Connector has its own per-connection state (cached access tokens, rate and concurrency
// limits), shared by every action and trigger of the connector it returns.
func (d *Definition) Connector(opts Options) (*connectors.Connector, error) {
	rt, err := newRuntime(d, opts)
	if err != nil {
		return nil, fmt.Errorf("connector %s: %w", d.File.Name, err)
	}
	f := &d.File
	c := &connectors.Connector{
		Name:               f.Name,
		Title:              f.Title,
		Description:        f.Description,
		Origin:             string(d.Source.Origin),
		Version:            f.Version,
		Source:             d.Source.Path,
		Connection:         sdkFields(f.Connection.Fields),
		ConnectionRequired: len(f.Connection.Fields) > 0 || !rt.auth.none(),
	}
	for _, name := range slices.Sorted(maps.Keys(f.Actions)) {
		a, err := rt.compileAction(name, f.Actions[name])
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", f.Name, err)
		}
		c.Actions = append(c.Actions, &connectors.ActionDef{
			ActionSpec: a.spec(),
			New:        func() connectors.Action { return a },
		})
	}
	for _, name := range slices.Sorted(maps.Keys(f.Triggers)) {
		p, err := rt.compilePoller(name, f.Triggers[name])
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", f.Name, err)
		}
		c.Pollers = append(c.Pollers, &connectors.PollerDef{
			PollerSpec: p.spec(),
			New:        func() connectors.Poller { return p },
		})
	}
	if f.Connection.Test != nil {
		test, err := rt.compileTest(*f.Connection.Test)
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", f.Name, err)
		}
		c.TestConnection = test.run
	}
	return c, nil
}

// runtime is what every action, poller and test of one built connector shares.
type runtime struct {
	file     *File
	client   *httpclient.Client
	clock    Clock
	baseURL  *text
	auth     *authSpec
	headers  []header
	defaults Errors
	limits   Limits

	mu    sync.Mutex
	conns map[string]*connState
}

// connState is one connection's state in this process.
type connState struct {
	limiter *limiter
	token   *tokenCache
}

type header struct {
	name  string
	value *text
}

func newRuntime(d *Definition, opts Options) (*runtime, error) {
	f := &d.File
	rt := &runtime{file: f, clock: opts.Clock, defaults: f.Defaults.Errors, limits: f.Defaults.Limits,
		conns: map[string]*connState{}}
	if rt.clock == nil {
		rt.clock = WallClock
	}
	rt.client = opts.Client
	if rt.client == nil {
		rt.client = httpclient.New(httpclient.Options{Timeout: f.Defaults.Timeout.std()})
	} else {
		rt.client = rt.client.WithTimeout(f.Defaults.Timeout.std())
	}
	var err error
	if rt.baseURL, err = compileText("base_url", f.BaseURL, false); err != nil {
		return nil, err
	}
	if rt.auth, err = compileAuth(f.Connection.Auth); err != nil {
		return nil, err
	}
	if rt.headers, err = compileHeaders("defaults.headers", f.Defaults.Headers); err != nil {
		return nil, err
	}
	if _, err := newLimiter(rt.limits, rt.clock); err != nil {
		return nil, fmt.Errorf("defaults.limits: %w", err)
	}
	if _, err := resolveErrors("defaults.errors", rt.defaults, nil, rt.auth.oauth()); err != nil {
		return nil, err
	}
	return rt, nil
}

func (d Duration) std() time.Duration { return time.Duration(d) }

func compileHeaders(where string, hs map[string]string) ([]header, error) {
	out := make([]header, 0, len(hs))
	for _, name := range slices.Sorted(maps.Keys(hs)) {
		v, err := compileText(where+"."+name, hs[name], false)
		if err != nil {
			return nil, err
		}
		out = append(out, header{name: name, value: v})
	}
	return out, nil
}

// state returns the connection's state, made at its first use.
func (rt *runtime) state(conn *connectors.Connection) *connState {
	name := ""
	if conn != nil {
		name = conn.Name
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	s, ok := rt.conns[name]
	if !ok {
		// The limits were checked when the runtime was built.
		l, _ := newLimiter(rt.limits, rt.clock)
		s = &connState{limiter: l, token: newTokenCache()}
		rt.conns[name] = s
	}
	return s
}

// call is the state of one action call, poll or connection test.
type call struct {
	rt      *runtime
	conn    *connectors.Connection
	state   *connState
	logger  *slog.Logger
	secrets []string
	client  *httpclient.Client
	redact  func(string) string
	// env holds what every template of the call sees: conn, input, now.
	env map[string]any
}

func (rt *runtime) newCall(conn *connectors.Connection, logger *slog.Logger, input map[string]any) *call {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &call{rt: rt, conn: conn, state: rt.state(conn), logger: logger}
	c.client = rt.client.WithLogger(logger)
	c.addSecrets(conn.SecretValues()...)
	c.env = map[string]any{
		"conn":  rt.connValues(conn),
		"input": input,
		"now":   rt.clock.Now(),
	}
	return c
}

// addSecrets registers values to redact from the call's errors, logs and outputs (access
// tokens and rotated refresh tokens besides the connection's secret settings). Short
// values are left out: masking them would mangle ordinary text.
func (c *call) addSecrets(values ...string) {
	added := false
	for _, v := range values {
		if len(v) < minSecretLen || slices.Contains(c.secrets, v) {
			continue
		}
		c.secrets = append(c.secrets, v)
		added = true
	}
	if added || c.redact == nil {
		c.client = c.rt.client.WithLogger(c.logger).WithSecrets(c.secrets...)
		c.redact = httpclient.SecretRedactor(c.secrets...)
	}
}

// minSecretLen is the shortest extra value addSecrets masks.
const minSecretLen = 6

// connValues is the connection's settings with the fields' defaults filled in.
func (rt *runtime) connValues(conn *connectors.Connection) map[string]any {
	out := map[string]any{}
	for _, f := range rt.file.Connection.Fields {
		if f.Default != nil {
			out[f.Name] = f.Default
		}
	}
	if conn != nil {
		for k, v := range conn.Config {
			if v != nil {
				out[k] = v
			}
		}
	}
	return out
}

// withInputDefaults returns the input with the fields' defaults filled in for absent keys.
func withInputDefaults(fields []Field, input map[string]any) map[string]any {
	out := make(map[string]any, len(input)+len(fields))
	for _, f := range fields {
		if f.Default != nil {
			out[f.Name] = f.Default
		}
	}
	for k, v := range input {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

// responseEnv is env plus a response: body (decoded JSON, else the text), headers
// (lower-case names, first values) and status.
func responseEnv(env map[string]any, resp *httpclient.Response) map[string]any {
	out := maps.Clone(env)
	out["body"] = decodeBody(resp.Body)
	h := make(map[string]any, len(resp.Header))
	for k, vs := range resp.Header {
		if len(vs) > 0 {
			h[strings.ToLower(k)] = vs[0]
		}
	}
	out["headers"] = h
	out["status"] = resp.Status
	return out
}

func decodeBody(b []byte) any {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	v, err := connectors.DecodeJSON(b)
	if err != nil {
		return string(b)
	}
	return v
}

// redactValue masks the call's secrets in every string of an output, so that a service
// echoing a credential does not put it in a run's record.
func (c *call) redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return c.redact(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = c.redactValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.redactValue(e)
		}
		return out
	}
	return v
}

// exchange sends one request with the connection's auth and limits and checks the
// response against the rules: the response is returned with its environment when they
// accept it.
func (c *call) exchange(ctx context.Context, o *outgoing, errs *errorPolicy) (*httpclient.Response, map[string]any, error) {
	resp, refusedAgain, err := c.send(ctx, o, errs)
	if err != nil {
		return nil, nil, err
	}
	env := responseEnv(c.env, resp)
	if err := errs.classify(ctx, resp, env, c.rt.clock.Now(), c.redact); err != nil {
		if refusedAgain {
			return nil, nil, connectors.Permanent(fmt.Errorf("refused again after refreshing the access token: %w", err))
		}
		return nil, nil, err
	}
	return resp, env, nil
}

// send sends o: limits, auth, and for oauth2 kinds one token refresh and one retry when
// the status is one of refresh_auth_on. refusedAgain reports that the retry was refused
// the same way.
func (c *call) send(ctx context.Context, o *outgoing, errs *errorPolicy) (resp *httpclient.Response, refusedAgain bool, err error) {
	for refreshed := false; ; refreshed = true {
		req, err := o.request(ctx)
		if err != nil {
			return nil, false, connectors.Permanent(err)
		}
		token, err := c.authorize(ctx, req)
		if err != nil {
			return nil, false, err
		}
		release, err := c.state.limiter.acquire(ctx)
		if err != nil {
			return nil, false, err
		}
		resp, err = c.client.Do(ctx, req)
		release()
		if err != nil {
			return nil, false, err
		}
		if !c.rt.auth.oauth() || !errs.refreshes(resp.Status) {
			return resp, false, nil
		}
		if refreshed {
			return resp, true, nil
		}
		c.logger.LogAttrs(ctx, slog.LevelInfo, "Access token refused; refreshing it",
			slog.String("connector", c.rt.file.Name), slog.Int("status", resp.Status))
		if err := c.state.token.invalidate(ctx, token); err != nil {
			return nil, false, err
		}
	}
}

// outgoing is a request ready to send (auth is added at each send).
type outgoing struct {
	method string
	url    string
	header http.Header
	body   []byte
}

func (o *outgoing) request(ctx context.Context) (*http.Request, error) {
	var body *strings.Reader
	if o.body != nil {
		body = strings.NewReader(string(o.body))
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, o.method, o.url, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, o.method, o.url, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", o.method, httpclient.RedactURL(o.url), err)
	}
	req.Header = o.header.Clone()
	return req, nil
}

// action is one action of the file. It holds no per-call state, so one value serves
// every call.
type action struct {
	rt      *runtime
	name    string
	def     Action
	req     *requestSpec
	errs    *errorPolicy
	outputs []output
}

type output struct {
	name  string
	value *text // nil: the body's field of the same name
}

var (
	_ connectors.Action    = (*action)(nil)
	_ connectors.Validator = (*action)(nil)
)

func (rt *runtime) compileAction(name string, a Action) (*action, error) {
	where := "actions." + name
	out := &action{rt: rt, name: name, def: a}
	var err error
	if out.req, err = compileRequest(where+".request", a.Request, a.Input, a.Idempotency); err != nil {
		return nil, err
	}
	if out.errs, err = resolveErrors(where+".errors", rt.defaults, a.Errors, rt.auth.oauth()); err != nil {
		return nil, err
	}
	for _, f := range a.Output {
		o := output{name: f.Name}
		if o.value, err = compileTextOpt(where+".output."+f.Name, f.Value, false); err != nil {
			return nil, err
		}
		out.outputs = append(out.outputs, o)
	}
	return out, nil
}

func (a *action) spec() connectors.ActionSpec {
	s := connectors.ActionSpec{
		Name:        a.name,
		Title:       a.def.Title,
		Description: a.def.Description,
		Inputs:      sdkFields(a.def.Input),
		Outputs:     sdkFields(a.def.Output),
		Idempotent:  a.def.Idempotency != nil,
	}
	if s.Inputs == nil {
		s.Inputs = []connectors.Field{}
	}
	if len(a.def.Output) == 0 {
		s.Outputs = []connectors.Field{
			{Name: "status", Type: connectors.TypeInteger, Title: "Status", Description: "The HTTP status of the response."},
			{Name: "body", Type: connectors.TypeAny, Title: "Body", Description: "The response body: JSON decoded, else the text."},
		}
	}
	return s
}

// Validate checks the formats the input fields declare, offline.
func (a *action) Validate(input map[string]any) error {
	return checkFormats(a.def.Input, input)
}

// Run sends the action's request once; the step's retry policy repeats it.
func (a *action) Run(ctx context.Context, cl *connectors.Call) (any, error) {
	input := withInputDefaults(a.def.Input, cl.Input)
	c := a.rt.newCall(cl.Connection, cl.Logger, input)
	o, err := a.req.build(ctx, c, c.env, input, cl.IdempotencyKey)
	if err != nil {
		return nil, connectors.Permanent(fmt.Errorf("action %s.%s: %s", a.rt.file.Name, a.name, c.redact(err.Error())))
	}
	resp, env, err := c.exchange(ctx, o, a.errs)
	if err != nil {
		return nil, fmt.Errorf("action %s.%s: %w", a.rt.file.Name, a.name, err)
	}
	env["input"] = input
	delete(env, "conn") // outputs never read the connection's secrets
	if len(a.outputs) == 0 {
		return c.redactValue(map[string]any{"status": resp.Status, "body": env["body"]}), nil
	}
	out := make(map[string]any, len(a.outputs))
	for _, o := range a.outputs {
		if o.value == nil {
			if body, ok := env["body"].(map[string]any); ok {
				out[o.name] = body[o.name]
			}
			continue
		}
		v, err := o.value.render(ctx, env)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("action %s.%s: output %s: %s", a.rt.file.Name, a.name, o.name, c.redact(err.Error())))
		}
		out[o.name] = v
	}
	return c.redactValue(out), nil
}

// checkFormats checks the values of fields with a format (email, uri, date-time).
func checkFormats(fields []Field, input map[string]any) error {
	for _, f := range fields {
		s, ok := input[f.Name].(string)
		if !ok || f.Format == "" {
			continue
		}
		if err := checkFormat(f.Format, s); err != nil {
			return connectors.Permanent(fmt.Errorf("input %s: %w", f.Name, err))
		}
	}
	return nil
}

func checkFormat(format, s string) error {
	switch format {
	case "email":
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return fmt.Errorf("%q is not an email address", s)
		}
	case "uri":
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			return fmt.Errorf("%q is not an absolute URI", s)
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return fmt.Errorf("%q is not an RFC 3339 date-time", s)
		}
	}
	return nil
}

// connectionTest is the compiled connection test.
type connectionTest struct {
	rt     *runtime
	req    *requestSpec
	expect []int
	errs   *errorPolicy
}

func (rt *runtime) compileTest(t TestRequest) (*connectionTest, error) {
	req, err := compileRequest("connection.test", Request{Method: t.Method, Path: t.Path, Query: t.Query, Headers: t.Header}, nil, nil)
	if err != nil {
		return nil, err
	}
	errs, err := resolveErrors("connection.test", rt.defaults, nil, rt.auth.oauth())
	if err != nil {
		return nil, err
	}
	return &connectionTest{rt: rt, req: req, expect: t.Expect, errs: errs}, nil
}

// run sends the test request, retrying what is retryable as a poll does.
func (t *connectionTest) run(ctx context.Context, conn *connectors.Connection) error {
	c := t.rt.newCall(conn, nil, map[string]any{})
	o, err := t.req.build(ctx, c, c.env, nil, "")
	if err != nil {
		return connectors.Permanent(fmt.Errorf("test connection: %s", c.redact(err.Error())))
	}
	errs := *t.errs
	if len(t.expect) > 0 {
		// Statuses outside expect fail; 2xx outside it is a failure like any other.
		errs.successWhen = nil
	}
	_, err = c.retrying(ctx, func() (*httpclient.Response, error) {
		resp, refusedAgain, err := c.send(ctx, o, &errs)
		if err != nil {
			return nil, err
		}
		if len(t.expect) > 0 && hasStatus(t.expect, resp.Status) {
			return resp, nil
		}
		env := responseEnv(c.env, resp)
		cerr := errs.classify(ctx, resp, env, t.rt.clock.Now(), c.redact)
		if cerr == nil && len(t.expect) > 0 {
			cerr = connectors.Permanent(&ResponseError{Method: resp.Method, URL: resp.URL, Status: resp.Status,
				Message: fmt.Sprintf("expected status %v", t.expect)})
		}
		if cerr != nil && refusedAgain {
			cerr = connectors.Permanent(fmt.Errorf("refused again after refreshing the access token: %w", cerr))
		}
		return resp, cerr
	}, errs.backoff)
	if err != nil {
		return fmt.Errorf("test connection: %w", err)
	}
	return nil
}

// retrying calls try until it succeeds, fails permanently, or runs out of attempts,
// waiting on the connector's clock between attempts: what the service asked for, else
// the backoff.
func (c *call) retrying(ctx context.Context, try func() (*httpclient.Response, error), b backoff) (*httpclient.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := try()
		if err == nil {
			return resp, nil
		}
		if connectors.IsPermanent(err) || attempt >= b.maxAttempts || ctx.Err() != nil {
			return nil, err
		}
		wait, ok := connectors.RetryDelay(err)
		if !ok {
			wait = b.delay(attempt)
		}
		c.logger.LogAttrs(ctx, slog.LevelDebug, "Retrying request",
			slog.String("connector", c.rt.file.Name), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("err", err.Error()))
		if serr := c.rt.clock.Sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("%w (wait before retrying: %w)", err, serr)
		}
	}
}

package kit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"sigs.k8s.io/yaml"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/connectors/httpclient"
	"github.com/hookflow/hookflow/engine/expr"
)

// Defaults of the way the kit calls actions: the engine runner's default step retry.
const (
	AttemptsDefault = 5
	BackoffInitial  = time.Second
	// minSecretLen is the shortest fake secret a fixture may use: a shorter one could
	// show up in an output by chance.
	minSecretLen = 8
)

// Option changes how Run calls the connector.
type Option func(*config)

type config struct {
	attempts int
}

// Attempts sets how many times an action is called before its retryable error stands
// (default AttemptsDefault, the runner's default).
func Attempts(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.attempts = n
		}
	}
}

// Report is the result of running a connector's fixtures.
type Report struct {
	Connector string
	Cases     []CaseResult
	Coverage  []Coverage
}

// CaseResult is one fixture's outcome.
type CaseResult struct {
	Name     string
	File     string
	Passed   bool
	Reason   string // why it failed
	Requests int
	Waited   time.Duration
	Covers   []string
}

// Coverage says whether a required case is proven by a passing fixture.
type Coverage struct {
	Case string
	// Status: "ok", "missing" or "n/a".
	Status string
	// By lists the passing fixtures that prove it; Why says why it does not apply.
	By  []string
	Why string
}

// Passed reports whether every case passed and every applicable required case is covered.
func (r *Report) Passed() bool {
	for _, c := range r.Cases {
		if !c.Passed {
			return false
		}
	}
	for _, c := range r.Coverage {
		if c.Status == "missing" {
			return false
		}
	}
	return true
}

// String is the report as the CLI prints it: one line per case, then the coverage table.
func (r *Report) String() string {
	var b strings.Builder
	for _, c := range r.Cases {
		if c.Passed {
			fmt.Fprintf(&b, "PASS %s (%d requests, waited %s)\n", c.Name, c.Requests, c.Waited)
		} else {
			fmt.Fprintf(&b, "FAIL %s: %s\n", c.Name, indent(c.Reason))
		}
	}
	b.WriteString("required cases:\n")
	for _, c := range r.Coverage {
		switch c.Status {
		case "ok":
			fmt.Fprintf(&b, "  %-19s ok (%s)\n", c.Case, strings.Join(c.By, ", "))
		case "n/a":
			fmt.Fprintf(&b, "  %-19s n/a (%s)\n", c.Case, c.Why)
		default:
			fmt.Fprintf(&b, "  %-19s MISSING: no passing fixture covers it\n", c.Case)
		}
	}
	return b.String()
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

// Run runs every fixture (*.yaml, *.yml, *.json) of dir against def, without any network:
// the connector's HTTP client replays each fixture's exchanges, and its clock is a fake
// that starts at time.Now() and jumps over every wait. An error means dir could not be
// read; failed cases and missing required cases are in the report.
func Run(ctx context.Context, def *declarative.Definition, dir string, opts ...Option) (*Report, error) {
	cfg := config{attempts: AttemptsDefault}
	for _, o := range opts {
		o(&cfg)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read fixtures of connector %s: %w", def.File.Name, err)
	}
	r := &Report{Connector: def.File.Name}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		r.Cases = append(r.Cases, runFile(ctx, def, path, cfg))
	}
	r.Coverage = coverage(def, r.Cases)
	return r, nil
}

// LoadFixture reads one fixture file; unknown keys are errors, so that a misspelt
// expectation is not silently skipped.
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var fx Fixture
	if err := dec.Decode(&fx); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	fx.Connection = normalMap(fx.Connection)
	fx.Input = normalMap(fx.Input)
	fx.Cursor = connectors.NormalizeNumbers(fx.Cursor)
	fx.Expect.Output = normalMap(fx.Expect.Output)
	fx.Expect.Cursor = connectors.NormalizeNumbers(fx.Expect.Cursor)
	for i := range fx.Expect.ItemKeys {
		fx.Expect.ItemKeys[i] = connectors.NormalizeNumbers(fx.Expect.ItemKeys[i])
	}
	for i := range fx.Exchanges {
		ex := &fx.Exchanges[i]
		ex.Request.Query = normalMap(ex.Request.Query)
		ex.Request.Body = connectors.NormalizeNumbers(ex.Request.Body)
		ex.Response.Body = connectors.NormalizeNumbers(ex.Response.Body)
	}
	if fx.Name == "" {
		fx.Name = filepath.Base(path)
	}
	return &fx, nil
}

func normalMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := connectors.NormalizeNumbers(m).(map[string]any)
	return out
}

func runFile(ctx context.Context, def *declarative.Definition, path string, cfg config) CaseResult {
	res := CaseResult{Name: filepath.Base(path), File: path}
	fx, err := LoadFixture(path)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	res.Name, res.Covers = fx.Name, fx.Covers
	if fx.Name != filepath.Base(path) {
		res.Name = filepath.Base(path) + ": " + fx.Name
	}
	cs := &caseRun{def: def, fx: fx, cfg: cfg, replay: &replayer{exchanges: fx.Exchanges}, clock: newFakeClock()}
	problems := cs.run(ctx)
	res.Requests = len(cs.replay.requests())
	res.Waited = cs.clock.waited()
	res.Passed = len(problems) == 0
	res.Reason = strings.Join(problems, "\n")
	return res
}

// caseRun is one fixture being run.
type caseRun struct {
	def    *declarative.Definition
	fx     *Fixture
	cfg    config
	replay *replayer
	clock  *fakeClock
	logs   bytes.Buffer
	logMu  sync.Mutex
	store  *memStore
	conn   *connectors.Connection
	key    string // the idempotency key of an action case

	output   any
	err      error
	attempts int
	items    []any
	cursor   any
}

// run calls what the fixture names and returns what is wrong, or nothing.
func (cs *caseRun) run(ctx context.Context) []string {
	fx := cs.fx
	targets := 0
	for _, set := range []bool{fx.Action != "", fx.Trigger != "", fx.TestConnection} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		return []string{"the fixture must name exactly one of action, trigger and test_connection"}
	}
	for _, c := range fx.Covers {
		if !slices.Contains(RequiredCases, c) {
			return []string{fmt.Sprintf("covers: %q is not a required case (%s)", c, strings.Join(RequiredCases, ", "))}
		}
	}
	client := httpclient.New(httpclient.Options{Transport: cs.replay})
	c, err := cs.def.Connector(declarative.Options{Client: client, Clock: cs.clock})
	if err != nil {
		return []string{err.Error()}
	}
	spec := c.Spec()
	cs.store = &memStore{secrets: map[string]string{}}
	for _, name := range spec.SecretFields() {
		v, ok := fx.Connection[name].(string)
		if !ok || v == "" {
			continue
		}
		if len(v) < minSecretLen {
			return []string{fmt.Sprintf("connection.%s: fake secrets must be at least %d characters, so that finding one in an output is no accident", name, minSecretLen)}
		}
		cs.store.secrets[name] = v
	}
	cs.conn = &connectors.Connection{Name: "fixture", Connector: c.Name, Config: fx.Connection,
		Secrets: spec.SecretFields(), Credentials: cs.store}
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&cs.logs, &cs.logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var problems []string
	switch {
	case fx.Action != "":
		def, ok := c.Action(fx.Action)
		if !ok {
			return []string{fmt.Sprintf("connector %s has no action %q", c.Name, fx.Action)}
		}
		cs.callAction(ctx, def, logger)
	case fx.Trigger != "":
		p, ok := c.Poller(fx.Trigger)
		if !ok {
			return []string{fmt.Sprintf("connector %s has no trigger %q", c.Name, fx.Trigger)}
		}
		cs.poll(ctx, p, logger)
		problems = append(problems, cs.checkPoll(ctx, p)...)
	default:
		if c.TestConnection == nil {
			return []string{fmt.Sprintf("connector %s has no connection test", c.Name)}
		}
		cs.attempts = 1
		cs.err = c.TestConnection(ctx, cs.conn)
	}
	return append(cs.check(), problems...)
}

// callAction calls the action as the engine's runner does: one idempotency key, attempts
// 1..N, waiting between them what the error asks for or the runner's backoff.
func (cs *caseRun) callAction(ctx context.Context, def *connectors.ActionDef, logger *slog.Logger) {
	cs.key = uuid.NewSHA1(uuid.NameSpaceURL, []byte("hookflow-fixture:"+cs.fx.Name)).String()
	started := cs.clock.Now()
	for attempt := 1; ; attempt++ {
		cs.attempts = attempt
		call := &connectors.Call{RunID: "run_fixture", StepID: "step_fixture", Attempt: attempt, StartedAt: started,
			IdempotencyKey: cs.key, Input: cs.fx.Input, Connection: cs.conn, Logger: logger}
		cs.output, cs.err = invoke(ctx, def, call)
		if cs.err == nil || connectors.IsPermanent(cs.err) || attempt >= cs.cfg.attempts {
			return
		}
		wait := BackoffInitial * time.Duration(math.Pow(2, float64(attempt-1)))
		if d, ok := connectors.RetryDelay(cs.err); ok && d > wait {
			wait = d
		}
		if err := cs.clock.Sleep(ctx, wait); err != nil {
			return
		}
	}
}

// invoke runs one call through the runner's lifecycle: New, Validate, Run, Close.
func invoke(ctx context.Context, def *connectors.ActionDef, call *connectors.Call) (out any, err error) {
	a := def.New()
	if c, ok := a.(connectors.Closer); ok {
		defer func() {
			if cerr := c.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	if v, ok := a.(connectors.Validator); ok {
		if err := v.Validate(call.Input); err != nil {
			return nil, connectors.Permanent(err)
		}
	}
	return a.Run(ctx, call)
}

func (cs *caseRun) poll(ctx context.Context, p *connectors.PollerDef, logger *slog.Logger) {
	cs.attempts = 1
	res, err := p.New().Poll(ctx, &connectors.PollCall{
		WorkflowID: "fixture", Input: cs.fx.Input, Cursor: cs.fx.Cursor, First: cs.fx.Cursor == nil,
		Connection: cs.conn, Logger: logger,
		Eval: func(expression string, env map[string]any) (any, error) {
			prog, err := expr.NewScope(slices.Collect(maps.Keys(env))...).Compile(expression)
			if err != nil {
				return nil, err
			}
			return prog.Eval(ctx, env)
		},
	})
	cs.err = err
	if res != nil {
		cs.items, cs.cursor = res.Items, res.Cursor
		cs.output = res.Items
	}
}

// checkPoll compares the items' keys and the cursor.
func (cs *caseRun) checkPoll(ctx context.Context, p *connectors.PollerDef) []string {
	var problems []string
	ex := cs.fx.Expect
	if cs.err != nil {
		return nil
	}
	if ex.ItemKeys != nil {
		keys := make([]any, 0, len(cs.items))
		prog, err := expr.Compile(p.DefaultKey)
		if err != nil {
			return []string{fmt.Sprintf("item_key: %v", err)}
		}
		for _, it := range cs.items {
			k, err := prog.Eval(ctx, map[string]any{"item": it})
			if err != nil {
				return []string{fmt.Sprintf("item_key over an item: %v", err)}
			}
			keys = append(keys, k)
		}
		if w, g := normalJSON(ex.ItemKeys), normalJSON(keys); !reflect.DeepEqual(w, g) {
			problems = append(problems, fmt.Sprintf("item keys: want %s, got %s", showJSON(w), showJSON(g)))
		}
	}
	if ex.Cursor != nil {
		if w, g := normalJSON(ex.Cursor), normalJSON(cs.cursor); !reflect.DeepEqual(w, g) {
			problems = append(problems, fmt.Sprintf("cursor: want %s, got %s", showJSON(w), showJSON(g)))
		}
	}
	return problems
}

// check applies the checks every case gets.
func (cs *caseRun) check() []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ex := cs.fx.Expect
	if m := cs.replay.mismatch; m != "" {
		add("%s", m)
	}
	if u := cs.replay.unused(); u != "" {
		add("%s", u)
	}
	switch {
	case ex.Error == nil && cs.err != nil:
		add("unexpected error: %v", cs.err)
	case ex.Error != nil && cs.err == nil:
		if k := ex.Error.Kind; k == "permanent" || k == "retryable" {
			add("want a %s error, got success", k)
		} else {
			add("want an error, got success")
		}
	case ex.Error != nil:
		permanent := connectors.IsPermanent(cs.err)
		switch ex.Error.Kind {
		case "permanent":
			if !permanent {
				add("want a permanent error, got a retryable one: %v", cs.err)
			}
		case "retryable":
			if permanent {
				add("want a retryable error, got a permanent one: %v", cs.err)
			}
		case "", "any":
		default:
			add("expect.error.kind %q is not permanent, retryable or any", ex.Error.Kind)
		}
		if ex.Error.Contains != "" && !strings.Contains(cs.err.Error(), ex.Error.Contains) {
			add("the error does not contain %q: %v", ex.Error.Contains, cs.err)
		}
	}
	if ex.Output != nil {
		if cs.err == nil {
			if diff := contains(normalJSON(ex.Output), normalJSON(cs.output), "output"); diff != "" {
				add("%s", diff)
			}
		}
	}
	if ex.Attempts > 0 && ex.Attempts != cs.attempts {
		add("attempts: want %d, got %d", ex.Attempts, cs.attempts)
	}
	if ex.Waited != "" {
		d, err := time.ParseDuration(ex.Waited)
		switch {
		case err != nil:
			add("expect.waited %q is not a duration", ex.Waited)
		case cs.clock.waited() < d:
			add("waited: want at least %s, got %s", d, cs.clock.waited())
		}
	}
	for k, want := range ex.Secrets {
		if got := cs.store.get(k); got != want {
			add("stored secret %s: want %q, got %q", k, want, got)
		}
	}
	problems = append(problems, cs.checkSecrets()...)
	problems = append(problems, cs.checkIdempotency()...)
	return problems
}

// checkSecrets looks for every secret value, the fixture's and the store's final ones, in
// the output, the error and the logs.
func (cs *caseRun) checkSecrets() []string {
	// Secret values by the setting holding them, so the report can name it without
	// showing it.
	secrets := map[string]string{}
	for _, name := range cs.conn.Secrets {
		if v := cs.conn.String(name); v != "" {
			secrets[v] = name
		}
	}
	for name, v := range cs.store.snapshot() {
		if len(v) >= minSecretLen {
			secrets[v] = name
		}
	}
	out, _ := json.Marshal(cs.output)
	places := map[string]string{"output": string(out), "printed output": fmt.Sprintf("%+v", cs.output)}
	if cs.err != nil {
		places["error"] = cs.err.Error()
	}
	cs.logMu.Lock()
	places["logs"] = cs.logs.String()
	cs.logMu.Unlock()
	var problems []string
	for _, where := range sortedKeys(places) {
		for _, v := range sortedKeys(secrets) {
			if strings.Contains(places[where], v) {
				problems = append(problems, fmt.Sprintf("the value of secret setting %s shows in the %s", secrets[v], where))
			}
		}
	}
	return problems
}

// checkIdempotency checks, for an action that declares idempotency, that every request it
// sent to the service (token requests aside) carried the case's key.
func (cs *caseRun) checkIdempotency() []string {
	if cs.fx.Action == "" {
		return nil
	}
	a := cs.def.File.Actions[cs.fx.Action]
	if a.Idempotency == nil {
		return nil
	}
	var problems []string
	for i, r := range cs.replay.requests() {
		if isTokenRequest(r) {
			continue
		}
		var got string
		switch {
		case a.Idempotency.Header != "":
			got = r.header.Get(a.Idempotency.Header)
		case a.Idempotency.BodyField != "":
			var body any
			if err := json.Unmarshal(r.body, &body); err == nil {
				got, _ = dig(body, strings.Split(a.Idempotency.BodyField, ".")).(string)
			}
		}
		if got != cs.key {
			problems = append(problems, fmt.Sprintf("request %d: idempotency key %q, want the step's %q on every attempt", i+1, got, cs.key))
		}
	}
	return problems
}

func isTokenRequest(r sentRequest) bool {
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return false
	}
	return strings.Contains(string(r.body), "grant_type=")
}

func dig(v any, path []string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// contains reports how got fails to contain want: objects key by key, lists element by
// element, other values equal.
func contains(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object %s, got %s", path, showJSON(w), showJSON(got))
		}
		for _, k := range sortedKeys(w) {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s.%s: want %s, got nothing", path, k, showJSON(w[k]))
			}
			if d := contains(w[k], gv, path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %s, got %s", path, showJSON(w), showJSON(got))
		}
		for i := range w {
			if d := contains(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("%s: want %s, got %s", path, showJSON(want), showJSON(got))
	}
	return ""
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// coverage says, for each required case, which passing fixtures prove it or why it does
// not apply to this connector.
func coverage(def *declarative.Definition, cases []CaseResult) []Coverage {
	f := &def.File
	na := map[string]string{}
	if k := f.Connection.Auth.Kind; k != declarative.AuthOAuth2ClientCredentials && k != declarative.AuthOAuth2RefreshToken {
		na["refresh"] = fmt.Sprintf("auth kind %s has no token to refresh", or(k, "none"))
	}
	pages, tokens := false, false
	for _, t := range f.Triggers {
		if t.Pagination == nil {
			continue
		}
		pages = true
		switch t.Pagination.Kind {
		case declarative.CursorToken, declarative.LinkHeader, declarative.NextURL:
			tokens = true
		}
	}
	if !pages {
		na["three_pages"] = "no trigger paginates"
		na["repeated_token"] = "no trigger paginates"
	} else if !tokens {
		na["repeated_token"] = "no trigger pages by token or URL, so none can repeat"
	}
	idem := false
	for _, a := range f.Actions {
		if a.Idempotency != nil {
			idem = true
		}
	}
	if !idem {
		na["same_idempotency"] = "no action declares idempotency"
	}
	out := make([]Coverage, 0, len(RequiredCases))
	for _, rc := range RequiredCases {
		cv := Coverage{Case: rc}
		for _, c := range cases {
			if c.Passed && slices.Contains(c.Covers, rc) {
				cv.By = append(cv.By, filepath.Base(c.File))
			}
		}
		switch why, notApplicable := na[rc]; {
		case len(cv.By) > 0:
			cv.Status = "ok"
		case notApplicable:
			cv.Status, cv.Why = "n/a", why
		default:
			cv.Status = "missing"
		}
		out = append(out, cv)
	}
	return out
}

// fakeClock starts at time.Now() and jumps over every wait, adding it up.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	total time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.total += d
	return nil
}

func (c *fakeClock) waited() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// memStore is the connection's credential store for one case.
type memStore struct {
	mu      sync.Mutex
	secrets map[string]string
}

func (s *memStore) CurrentSecrets(context.Context) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.secrets), nil
}

func (s *memStore) SwapSecrets(_ context.Context, old, updated map[string]string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range old {
		if s.secrets[k] != v {
			return false, nil
		}
	}
	maps.Copy(s.secrets, updated)
	return true, nil
}

func (s *memStore) get(k string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets[k]
}

func (s *memStore) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.secrets)
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

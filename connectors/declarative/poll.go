package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// MaxPagesDefault bounds one poll's pages when the file says nothing.
const MaxPagesDefault = 20

// poller is one poll trigger of the file. It holds no per-poll state.
type poller struct {
	rt     *runtime
	name   string
	def    Trigger
	req    *requestSpec
	items  *expression
	desc   bool
	cursor *cursorSpec
	pag    *pagination
	errs   *errorPolicy
}

var _ connectors.Poller = (*poller)(nil)

func (rt *runtime) compilePoller(name string, t Trigger) (*poller, error) {
	where := "triggers." + name
	if t.Kind != "" && t.Kind != "poll" {
		return nil, fmt.Errorf("%s.kind: unknown kind %q (poll)", where, t.Kind)
	}
	p := &poller{rt: rt, name: name, def: t}
	var err error
	if p.req, err = compileRequest(where+".request", t.Request, nil, nil); err != nil {
		return nil, err
	}
	if p.items, err = compileExpr(where+".items", t.Items); err != nil {
		return nil, err
	}
	if p.items == nil {
		return nil, fmt.Errorf("%s.items: an expression giving the list of items is required", where)
	}
	switch t.Order {
	case "", "asc":
	case "desc":
		p.desc = true
	default:
		return nil, fmt.Errorf("%s.order: %q is neither asc nor desc", where, t.Order)
	}
	if t.Cursor != nil {
		if p.cursor, err = compileCursor(where+".cursor", *t.Cursor); err != nil {
			return nil, err
		}
	}
	if t.Pagination != nil {
		if p.pag, err = compilePagination(where+".pagination", *t.Pagination); err != nil {
			return nil, err
		}
	}
	if p.errs, err = resolveErrors(where+".errors", rt.defaults, t.Errors, rt.auth.oauth()); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *poller) spec() connectors.PollerSpec {
	s := connectors.PollerSpec{
		Name:        p.name,
		Title:       p.def.Title,
		Description: p.def.Description,
		Inputs:      sdkFields(p.def.Input),
		Item:        sdkFields(p.def.Item),
		DefaultKey:  p.def.ItemKey,
	}
	if s.Inputs == nil {
		s.Inputs = []connectors.Field{}
	}
	return s
}

// Poll reads the pages the trigger's pagination allows, oldest items first, and the new
// cursor. A failed page (after its retries), a repeated token or URL, or a next page on
// another origin fails the whole poll: nothing is saved.
func (p *poller) Poll(ctx context.Context, pc *connectors.PollCall) (*connectors.PollResult, error) {
	res, err := p.poll(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("poll %s.%s: %w", p.rt.file.Name, p.name, err)
	}
	return res, nil
}

func (p *poller) poll(ctx context.Context, pc *connectors.PollCall) (*connectors.PollResult, error) {
	input := withInputDefaults(p.def.Input, pc.Input)
	c := p.rt.newCall(pc.Connection, pc.Logger, input)
	now := c.env["now"].(time.Time)
	var cur cursorState
	if p.cursor != nil {
		var err error
		if cur, err = p.cursor.start(pc.Cursor, now); err != nil {
			return nil, connectors.Permanent(err)
		}
		if c.env["cursor"], err = p.cursor.templateValue(cur); err != nil {
			return nil, connectors.Permanent(err)
		}
	} else {
		c.env["cursor"] = pc.Cursor
	}
	pages := newPager(p.pag)
	var all []any
	var last map[string]any
	for n := 1; ; n++ {
		env := maps.Clone(c.env)
		env["page"] = pages.vars()
		o, err := p.req.build(ctx, c, env, input, "")
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("page %d: %s", n, c.redact(err.Error())))
		}
		if err := pages.place(o, n); err != nil {
			return nil, connectors.Permanent(fmt.Errorf("page %d: %s", n, c.redact(err.Error())))
		}
		var renv map[string]any
		var resp *httpclient.Response
		resp, err = c.retrying(ctx, func() (*httpclient.Response, error) {
			var r *httpclient.Response
			var e error
			r, renv, e = c.exchange(ctx, o, p.errs)
			return r, e
		}, p.errs.backoff)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", n, err)
		}
		renv["page"] = env["page"]
		v, err := p.items.eval(ctx, renv)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("page %d: items: %s", n, c.redact(err.Error())))
		}
		var items []any
		switch x := v.(type) {
		case nil:
		case []any:
			items = x
		default:
			return nil, connectors.Permanent(fmt.Errorf("page %d: items: %q gave %s, not a list", n, p.items.src, connectors.JSONTypeOf(v)))
		}
		all = append(all, items...)
		last = renv
		more, err := pages.advance(ctx, c, renv, resp, o.url, items, len(all))
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("page %d: %s", n, c.redact(err.Error())))
		}
		if !more {
			break
		}
		if n >= pages.maxPages() {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "Poll stopped at max_pages; the next poll goes on from the cursor",
				slog.String("connector", p.rt.file.Name), slog.String("trigger", p.name), slog.Int("max_pages", n))
			break
		}
	}
	if p.desc {
		slices.Reverse(all)
	}
	res := &connectors.PollResult{Items: all}
	if p.cursor != nil {
		next, err := p.cursor.next(ctx, c, cur, all, last)
		if err != nil {
			return nil, connectors.Permanent(fmt.Errorf("cursor: %s", c.redact(err.Error())))
		}
		res.Cursor = next
	}
	res.Items, _ = c.redactValue(res.Items).([]any)
	return res, nil
}

// cursorSpec is a compiled Cursor.
type cursorSpec struct {
	typ        string // datetime, number, token
	value      *expression
	overlapDur time.Duration
	overlapNum float64
	initial    any
	format     string
	loc        *time.Location
}

func compileCursor(where string, c Cursor) (*cursorSpec, error) {
	s := &cursorSpec{typ: c.Type, initial: c.Initial, format: c.Format, loc: time.UTC}
	var err error
	if s.value, err = compileExpr(where+".value", c.Value); err != nil {
		return nil, err
	}
	if s.value == nil {
		return nil, fmt.Errorf("%s.value: an expression is required", where)
	}
	switch s.typ {
	case "datetime":
		if c.Overlap != "" {
			if s.overlapDur, err = time.ParseDuration(c.Overlap); err != nil {
				return nil, fmt.Errorf("%s.overlap: %w", where, err)
			}
		}
		if s.initial == nil {
			s.initial = "now"
		}
		if c.Location != "" {
			if s.loc, err = time.LoadLocation(c.Location); err != nil {
				return nil, fmt.Errorf("%s.location: %w", where, err)
			}
		}
	case "number":
		if c.Overlap != "" {
			if s.overlapNum, err = strconv.ParseFloat(c.Overlap, 64); err != nil {
				return nil, fmt.Errorf("%s.overlap: %q is not a number", where, c.Overlap)
			}
		}
	case "token":
	default:
		return nil, fmt.Errorf("%s.type: unknown type %q (datetime, number or token)", where, s.typ)
	}
	return s, nil
}

// cursorState is the cursor a poll starts from.
type cursorState struct {
	set   bool
	t     time.Time // datetime
	n     float64   // number
	token any       // token
}

// start reads the saved cursor, or the initial one before the first poll.
func (s *cursorSpec) start(saved any, now time.Time) (cursorState, error) {
	v := saved
	if v == nil {
		v = s.initial
		if s.typ == "datetime" && v == "now" {
			return cursorState{set: true, t: now}, nil
		}
	}
	if v == nil {
		return cursorState{}, nil
	}
	switch s.typ {
	case "datetime":
		t, err := s.parseTime(v)
		if err != nil {
			return cursorState{}, fmt.Errorf("cursor %v: %w", v, err)
		}
		return cursorState{set: true, t: t}, nil
	case "number":
		n, ok := toFloat(v)
		if !ok {
			return cursorState{}, fmt.Errorf("cursor %v is not a number", v)
		}
		return cursorState{set: true, n: n}, nil
	}
	return cursorState{set: true, token: v}, nil
}

// templateValue is the value templates see as cursor: the start minus the overlap, written in
// the file's format.
func (s *cursorSpec) templateValue(cur cursorState) (any, error) {
	if !cur.set {
		return nil, nil
	}
	switch s.typ {
	case "datetime":
		t := cur.t.Add(-s.overlapDur).In(s.loc)
		switch s.format {
		case "":
			return t.Format(time.RFC3339), nil
		case "unix":
			return t.Unix(), nil
		case "unix_ms":
			return t.UnixMilli(), nil
		}
		return t.Format(s.format), nil
	case "number":
		return number(cur.n - s.overlapNum), nil
	}
	return cur.token, nil
}

// next is the cursor to save: for datetime and number the largest value over the items,
// never lower than the one the poll started from; for token the value over the last page.
func (s *cursorSpec) next(ctx context.Context, c *call, cur cursorState, items []any, last map[string]any) (any, error) {
	if s.typ == "token" {
		if last == nil {
			return nil, nil
		}
		v, err := s.value.eval(ctx, last)
		if err != nil {
			return nil, err
		}
		return v, nil // nil keeps the saved cursor
	}
	best := cur
	for _, item := range items {
		env := maps.Clone(c.env)
		env["item"] = item
		v, err := s.value.eval(ctx, env)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		switch s.typ {
		case "datetime":
			t, err := s.parseTime(v)
			if err != nil {
				c.logger.LogAttrs(ctx, slog.LevelWarn, "Item's cursor value is not a time; ignored",
					slog.String("connector", c.rt.file.Name), slog.String("err", err.Error()))
				continue
			}
			if !best.set || t.After(best.t) {
				best = cursorState{set: true, t: t}
			}
		case "number":
			n, ok := toFloat(v)
			if !ok {
				c.logger.LogAttrs(ctx, slog.LevelWarn, "Item's cursor value is not a number; ignored",
					slog.String("connector", c.rt.file.Name))
				continue
			}
			if !best.set || n > best.n {
				best = cursorState{set: true, n: n}
			}
		}
	}
	if !best.set {
		return nil, nil
	}
	if s.typ == "datetime" {
		return best.t.UTC().Format(time.RFC3339Nano), nil
	}
	return number(best.n), nil
}

// parseTime reads a cursor value: a time, Unix seconds (milliseconds for the unix_ms
// format), RFC 3339, or the file's layout in its location.
func (s *cursorSpec) parseTime(v any) (time.Time, error) {
	if t, ok := v.(time.Time); ok {
		return t, nil
	}
	if n, ok := toFloat(v); ok {
		if _, isString := v.(string); !isString || s.format == "unix" || s.format == "unix_ms" {
			if s.format == "unix_ms" {
				return time.UnixMilli(int64(n)), nil
			}
			sec, frac := math.Modf(n)
			return time.Unix(int64(sec), int64(frac*1e9)), nil
		}
	}
	str, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%s is not a time", connectors.JSONTypeOf(v))
	}
	if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
		return t, nil
	}
	layouts := []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}
	if s.format != "" && s.format != "unix" && s.format != "unix_ms" {
		layouts = append([]string{s.format}, layouts...)
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, str, s.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time in RFC 3339 or the cursor's format", str)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	if n, ok := connectors.Int64(v); ok {
		return float64(n), true
	}
	return 0, false
}

// number gives an integral value as int64, so that cursors and page variables print
// without decimals.
func number(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

// truthy reads a has_more answer: booleans, and the strings and numbers APIs use for them.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		b, err := strconv.ParseBool(x)
		return err == nil && b
	}
	if f, ok := toFloat(v); ok {
		return f != 0
	}
	return true
}

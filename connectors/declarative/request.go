package declarative

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/httpclient"
	"github.com/hookflow/hookflow/engine/expr"
)

// requestSpec is a compiled Request.
type requestSpec struct {
	method    string
	path      *text
	query     []queryParam
	headers   []header
	bodyKind  string // json, form or none
	body      *tree
	omitEmpty bool
	sends     []sendSpec
	idem      *Idempotency
}

type queryParam struct {
	name  string
	value *tree
}

// sendSpec places one action input.
type sendSpec struct {
	input  string
	body   []string // dotted path, split
	query  string
	header string
}

func compileRequest(where string, r Request, inputs []Field, idem *Idempotency) (*requestSpec, error) {
	s := &requestSpec{method: strings.ToUpper(r.Method), bodyKind: r.BodyKind, omitEmpty: r.OmitEmpty, idem: idem}
	if s.method == "" {
		s.method = http.MethodGet
	}
	var err error
	if s.path, err = compileText(where+".path", r.Path, true); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(r.Query)) {
		v, err := compileTree(where+".query."+name, r.Query[name])
		if err != nil {
			return nil, err
		}
		s.query = append(s.query, queryParam{name: name, value: v})
	}
	if s.headers, err = compileHeaders(where+".headers", r.Headers); err != nil {
		return nil, err
	}
	if r.Body != nil {
		if s.body, err = compileTree(where+".body", r.Body); err != nil {
			return nil, err
		}
	}
	bodySends := false
	for _, f := range inputs {
		if f.Send == nil {
			continue
		}
		sp := sendSpec{input: f.Name, query: f.Send.Query, header: f.Send.Header}
		if f.Send.Body != "" {
			sp.body = strings.Split(f.Send.Body, ".")
			bodySends = true
		}
		s.sends = append(s.sends, sp)
	}
	if idem != nil && idem.BodyField != "" {
		bodySends = true
	}
	if s.bodyKind == "" {
		s.bodyKind = "none"
		if r.Body != nil || bodySends {
			s.bodyKind = "json"
		}
	}
	switch s.bodyKind {
	case "json", "form":
	case "none":
		if r.Body != nil || bodySends {
			return nil, fmt.Errorf("%s: body_kind none, but the request has a body", where)
		}
	default:
		return nil, fmt.Errorf("%s.body_kind: unknown kind %q (json, form or none)", where, s.bodyKind)
	}
	return s, nil
}

// build renders the request. env holds conn, input, now (and for polls cursor and page);
// input is the call's input with defaults; idemKey is the step's idempotency key.
func (s *requestSpec) build(ctx context.Context, c *call, env, input map[string]any, idemKey string) (*outgoing, error) {
	base, err := c.rt.baseURL.renderString(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("base_url: %w", err)
	}
	path, err := s.path.renderString(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	u, err := joinURL(base, path)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, p := range s.query {
		v, err := p.value.render(ctx, env, s.omitEmpty)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", p.name, err)
		}
		if err := addQuery(q, p.name, v, s.omitEmpty); err != nil {
			return nil, fmt.Errorf("query %s: %w", p.name, err)
		}
	}
	h := http.Header{}
	for _, list := range [][]header{c.rt.headers, s.headers} {
		for _, hd := range list {
			v, err := hd.value.renderString(ctx, env)
			if err != nil {
				return nil, fmt.Errorf("header %s: %w", hd.name, err)
			}
			h.Set(hd.name, v)
		}
	}
	var body any
	if s.body != nil {
		if body, err = s.body.render(ctx, env, s.omitEmpty); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	for _, sp := range s.sends {
		v := input[sp.input]
		if v == nil || (s.omitEmpty && isEmpty(v)) {
			continue // an absent input is not sent
		}
		switch {
		case sp.body != nil:
			if body, err = setPath(body, sp.body, v); err != nil {
				return nil, fmt.Errorf("input %s: %w", sp.input, err)
			}
		case sp.query != "":
			if err := addQuery(q, sp.query, v, s.omitEmpty); err != nil {
				return nil, fmt.Errorf("input %s: %w", sp.input, err)
			}
		case sp.header != "":
			t, err := expr.Text(v)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", sp.input, err)
			}
			h.Set(sp.header, t)
		}
	}
	if s.idem != nil && idemKey != "" {
		if s.idem.Header != "" {
			h.Set(s.idem.Header, idemKey)
		}
		if s.idem.BodyField != "" {
			if body, err = setPath(body, strings.Split(s.idem.BodyField, "."), idemKey); err != nil {
				return nil, fmt.Errorf("idempotency body_field: %w", err)
			}
		}
	}
	u.RawQuery = q.Encode()
	o := &outgoing{method: s.method, url: u.String(), header: h}
	if h.Get("Accept") == "" {
		h.Set("Accept", "application/json")
	}
	switch s.bodyKind {
	case "json":
		if body == nil {
			body = map[string]any{}
		}
		if o.body, err = encodeJSON(body); err != nil {
			return nil, err
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
	case "form":
		form := url.Values{}
		if body != nil {
			obj, ok := body.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("a form body must be an object, not %s", connectors.JSONTypeOf(body))
			}
			if err := flattenForm(form, "", obj); err != nil {
				return nil, err
			}
		}
		o.body = []byte(form.Encode())
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	return o, nil
}

// joinURL joins a rendered path (its parts already escaped) to the rendered base URL.
func joinURL(base, path string) (*url.URL, error) {
	base = strings.TrimRight(base, "/")
	if path != "" && !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "?") {
		path = "/" + path
	}
	u, err := url.Parse(base + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base_url %q must render an absolute http or https URL", httpclient.RedactURL(base))
	}
	return u, nil
}

// addQuery adds a rendered value to the query: lists as repeated parameters, nil as an
// empty value (or nothing with omit_empty).
func addQuery(q url.Values, name string, v any, omitEmpty bool) error {
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if err := addQuery(q, name, e, omitEmpty); err != nil {
				return err
			}
		}
		return nil
	}
	if omitEmpty && isEmpty(v) {
		return nil
	}
	s, err := expr.Text(v)
	if err != nil {
		return err
	}
	q.Add(name, s)
	return nil
}

// setPath sets v at a dotted path of an object body, making the objects on the way.
func setPath(body any, path []string, v any) (any, error) {
	if body == nil {
		body = map[string]any{}
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("cannot set %s in a body that is %s", strings.Join(path, "."), connectors.JSONTypeOf(body))
	}
	if len(path) == 1 {
		obj[path[0]] = v
		return obj, nil
	}
	child, err := setPath(obj[path[0]], path[1:], v)
	if err != nil {
		return nil, err
	}
	obj[path[0]] = child
	return obj, nil
}

// flattenForm writes an object as form fields: nested objects as name[key], lists of
// objects as name[i][key], lists of scalars as repeated names.
func flattenForm(form url.Values, prefix string, obj map[string]any) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := k
		if prefix != "" {
			name = prefix + "[" + k + "]"
		}
		if err := flattenFormValue(form, name, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

func flattenFormValue(form url.Values, name string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		return flattenForm(form, name, x)
	case []any:
		for i, e := range x {
			if m, ok := e.(map[string]any); ok {
				if err := flattenForm(form, fmt.Sprintf("%s[%d]", name, i), m); err != nil {
					return err
				}
				continue
			}
			if err := flattenFormValue(form, name, e); err != nil {
				return err
			}
		}
		return nil
	}
	s, err := expr.Text(v)
	if err != nil {
		return err
	}
	form.Add(name, s)
	return nil
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode the JSON body: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

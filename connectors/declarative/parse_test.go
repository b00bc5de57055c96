package declarative

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readSource(t testing.TB, path string) Source {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return Source{Path: path, Origin: OriginDir, Data: data}
}

func testFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "parse", dir, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// parseProblems parses data and returns its problems (none when it loads).
func parseProblems(t testing.TB, name string, data []byte) []Problem {
	t.Helper()
	def, err := Parse(Source{Path: name, Origin: OriginAPI, Data: data})
	if err == nil {
		require.NotNil(t, def)
		return nil
	}
	require.Nil(t, def)
	var le *LoadError
	require.True(t, errors.As(err, &le), "error %v is not a *LoadError", err)
	require.Equal(t, name, le.File)
	require.NotEmpty(t, le.Problems)
	return le.Problems
}

func TestParseValidFiles(t *testing.T) {
	t.Parallel()
	for _, path := range testFiles(t, "valid") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			src := readSource(t, path)
			def, err := Parse(src)
			require.NoError(t, err)
			require.Equal(t, FormatVersion, def.File.HookflowConnector)
			require.Equal(t, src, def.Source)
			require.NotEmpty(t, def.File.Name)
		})
	}
}

// The valid files together use every auth kind, pagination kind and cursor type, so
// that TestParseValidFiles proves each of them loads.
func TestValidFilesCoverTheFormat(t *testing.T) {
	t.Parallel()
	auth, pagination, cursors := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, path := range testFiles(t, "valid") {
		def, err := Parse(readSource(t, path))
		require.NoError(t, err)
		auth[def.File.Connection.Auth.Kind] = true
		for _, tr := range def.File.Triggers {
			if tr.Pagination != nil {
				pagination[tr.Pagination.Kind] = true
			}
			if tr.Cursor != nil {
				cursors[tr.Cursor.Type] = true
			}
		}
	}
	require.Equal(t, map[string]bool{"none": true, "header": true, "query": true, "basic": true, "bearer": true,
		"oauth2_client_credentials": true, "oauth2_refresh_token": true}, auth)
	require.Equal(t, map[string]bool{"page_number": true, "offset": true, "cursor_token": true, "link_header": true, "next_url": true}, pagination)
	require.Equal(t, map[string]bool{"datetime": true, "number": true, "token": true}, cursors)
}

func TestParseDecodesTheFullFile(t *testing.T) {
	t.Parallel()
	def, err := Parse(readSource(t, filepath.Join("testdata", "parse", "valid", "moysklad_full.yaml")))
	require.NoError(t, err)
	f := def.File
	require.Equal(t, "moysklad_test", f.Name)
	require.Equal(t, "1.2.0", f.Version)
	require.Equal(t, "{{ conn.base_url }}", f.BaseURL)
	require.Len(t, f.Connection.Fields, 3)
	require.True(t, f.Connection.Fields[1].Secret)
	require.True(t, f.Connection.Fields[0].Endpoint)
	require.Equal(t, "bearer", f.Connection.Auth.Kind)
	require.Equal(t, []int{200}, f.Connection.Test.Expect)
	require.Equal(t, "gzip", f.Defaults.Headers["Accept-Encoding"])
	require.Equal(t, "30s", durationText(f.Defaults.Timeout))
	require.Equal(t, Limits{Rate: "15/3s", Concurrency: 5}, f.Defaults.Limits)
	require.Equal(t, []WaitHeader{{Header: "X-Lognex-Retry-After", Unit: "ms"}, {Header: "Retry-After"}, {Header: "X-RateLimit-Reset", Unit: "epoch"}}, f.Defaults.Errors.WaitFrom)
	require.Equal(t, "1m0s", durationText(f.Defaults.Errors.Backoff.Max))
	require.Equal(t, 5, f.Defaults.Errors.Backoff.MaxAttempts)

	create := f.Actions["create_counterparty"]
	require.Equal(t, "POST", create.Request.Method)
	require.Equal(t, &Send{Body: "discount.percent"}, create.Input[4].Send)
	require.Equal(t, &Idempotency{BodyField: "syncId"}, create.Idempotency)
	require.Equal(t, map[string]any{"description": "Created for {{ input.name }}", "attributes": []any{}}, create.Request.Body)
	require.Equal(t, "{{ body.meta.href }}", create.Output[1].Value)

	order := f.Triggers["order_updated"]
	require.Equal(t, "poll", order.Kind)
	require.Equal(t, &Cursor{Type: "datetime", Value: "item.updated", Overlap: "2s", Initial: "now",
		Format: "2006-01-02 15:04:05.000", Location: "Europe/Moscow"}, order.Cursor)
	require.Equal(t, &Pagination{Kind: "next_url", Next: "body.meta.nextHref", Stop: "no_next", MaxPages: 50}, order.Pagination)
	require.Equal(t, int64(100), order.Request.Query["limit"])

	created := f.Triggers["counterparty_created"]
	require.Equal(t, []any{"code", "asc"}, created.Request.Query["order"])
	require.Equal(t, "total", created.Pagination.Stop)
}

func durationText(d Duration) string {
	b, _ := d.MarshalJSON()
	return strings.Trim(string(b), `"`)
}

// Numbers keep their JSON type: an integer stays an integer, a fraction a float, and a
// quoted number a string. Airbyte's templates turned "478" into 478; ours must not.
func TestParseKeepsValueTypes(t *testing.T) {
	t.Parallel()
	def, err := Parse(readSource(t, filepath.Join("testdata", "parse", "valid", "moysklad_full.yaml")))
	require.NoError(t, err)
	create := def.File.Actions["create_counterparty"]
	require.Equal(t, []any{"478"}, create.Input[3].Examples)
	require.Equal(t, int64(0), create.Input[4].Default)
	require.Equal(t, "legal", create.Input[2].Default)
	require.Equal(t, false, def.File.Actions["get_order"].Input[1].Default)
	require.Equal(t, int64(0), def.File.Triggers["counterparty_created"].Cursor.Initial)

	def, err = Parse(readSource(t, filepath.Join("testdata", "parse", "valid", "oauth_client.json")))
	require.NoError(t, err)
	send := def.File.Actions["send_invoice"]
	require.Equal(t, 1.5, send.Input[1].Default)
	require.Equal(t, int64(2), send.Input[2].Default)

	def, err = Parse(readSource(t, filepath.Join("testdata", "parse", "valid", "basic_pages.yaml")))
	require.NoError(t, err)
	tr := def.File.Triggers["ticket_created"]
	require.Equal(t, []any{int64(12)}, tr.Input[0].Examples)
	require.NotNil(t, tr.Pagination.Start)
	require.Equal(t, 1, *tr.Pagination.Start)
}

func TestParseInvalidFiles(t *testing.T) {
	t.Parallel()
	type want struct {
		path string
		line int
		msg  string // a part of the message
	}
	tests := []struct {
		file string
		want []want
	}{
		{"alias_cycle.yaml", []want{
			{"connection.fields[0].fields[0]", 7, "alias *c refers to a value that contains it"},
		}},
		{"auth_members.yaml", []want{
			{"connection.auth", 9, "auth kind oauth2_refresh_token needs client_id"},
			{"connection.auth.refresh_token_field", 11, "connection field \"refresh\" holds a refresh token: mark it secret"},
			{"connection.auth.token", 12, "auth kind oauth2_refresh_token does not use token"},
		}},
		{"bad.json", []want{
			{"name", 3, "\"Bad Name\" is not a name: a lowercase letter, then lowercase letters, "},
			{"title", 4, "must not be empty"},
			{"connection.auth.kind", 6, "\"magic\" is not one of \"none\", \"header\", \"query\", \"basic\", \"bearer\", \"o"},
			{"actions.Get-It", 7, "\"Get-It\" is not a name: a lowercase letter, then lowercase letters, di"},
		}},
		{"comments_only.yaml", []want{
			{"", 0, "empty file: no YAML or JSON document"},
		}},
		{"cursor.yaml", []want{
			{"triggers.a.cursor.overlap", 14, "the overlap of a datetime cursor is a duration such as \"2s\", not \"5\""},
			{"triggers.a.cursor.initial", 14, "a datetime cursor starts from \"now\", a time"},
			{"triggers.a.cursor.location", 14, "unknown time zone \"Mars/Olympus\""},
			{"triggers.b.cursor.overlap", 21, "the overlap of a number cursor is a non-negative number, not \"2s\""},
			{"triggers.b.cursor.initial", 21, "initial \"now\" is for datetime cursors"},
			{"triggers.b.cursor.format", 21, "a number cursor has no format"},
			{"triggers.c.item_key", 27, "bad expression: unknown name body"},
			{"triggers.c.cursor.value", 28, "item is defined only in item_key and in datetime and number cursor val"},
			{"triggers.c.cursor.overlap", 28, "a token cursor has no overlap"},
			{"triggers.c.cursor.initial", 28, "a token cursor starts from a string"},
		}},
		{"duplicate_key.yaml", []want{
			{"actions.get", 11, "duplicate key \"get\" (first at line 8)"},
		}},
		{"empty.yaml", []want{
			{"", 0, "empty file"},
		}},
		{"expressions.yaml", []want{
			{"defaults.errors.message", 9, "bad expression: unexpected token EOF"},
			{"defaults.errors.success_when", 10, "bad expression: unknown name conn"},
			{"actions.a.request.headers.X-Cursor", 14, "bad template: unknown name cursor"},
			{"actions.a.output[0].value", 16, "bad template: unknown name cursor"},
			{"triggers.t.items", 22, "an expression is written without {{ }}: body.items"},
			{"triggers.t.item_key", 23, "bad expression: unknown name body"},
			{"triggers.t.pagination.next", 24, "item is defined only in item_key and in datetime and number cursor val"},
		}},
		{"fields.yaml", []want{
			{"connection.fields[0].endpoint", 7, "a field is either an endpoint or a secret, not both"},
			{"connection.fields[1].name", 8, "field \"host\" is declared twice (first at index 0)"},
			{"connection.fields[1].default", 8, "the default does not fit the field: expected an integer, got string"},
			{"connection.fields[2].enum", 9, "an enum needs type string, not integer"},
			{"connection.fields[3].default", 10, "a secret field has no default: the file is not secret"},
			{"connection.fields[4].allow_in_url", 11, "allow_in_url is for secret fields"},
			{"actions.post.input[0].default", 17, "the default does not fit the field: \"c\" is not one of \"a\", \"b\""},
			{"actions.post.input[1].send", 18, "send takes exactly one of body, query and header, not 2"},
			{"actions.post.input[1].send.body", 18, "the request's body_kind is none"},
			{"actions.post.input[2].format", 19, "a format needs type string, not number"},
			{"actions.post.input[2].examples[0]", 19, "the example does not fit the field: expected a number, got string"},
			{"actions.post.input[3].fields[0].send", 20, "send is for action inputs, not nested fields"},
			{"actions.post.idempotency", 22, "idempotency takes exactly one of header and body_field, not 2"},
			{"actions.post.output[0].secret", 24, "secret is for connection fields, not action outputs"},
			{"triggers.t.input[0].send", 30, "send is for action inputs, not trigger inputs"},
			{"triggers.t.item[0].value", 35, "value is for action outputs, not item fields"},
		}},
		{"header_auth.yaml", []want{
			{"base_url", 4, "\"ftp://x.example\" is not an absolute http(s) URL, nor a template"},
			{"connection.auth", 7, "auth kind header needs name"},
			{"connection.auth.value", 8, "conn.nope is not a connection field"},
			{"connection.auth.username", 9, "auth kind header does not use username"},
		}},
		{"not_object.json", []want{
			{"", 1, "expected object, got array"},
		}},
		{"pagination.yaml", []want{
			{"triggers.a.pagination", 14, "pagination kind cursor_token needs next"},
			{"triggers.a.pagination", 14, "pagination kind cursor_token needs param, the parameter the token goes"},
			{"triggers.a.pagination.stop", 14, "stop empty_page is for page_number and offset pagination; cursor_token"},
			{"triggers.a.pagination.size", 14, "pagination kind cursor_token does not use size"},
			{"triggers.b.pagination.stop", 21, "stop short_page needs size, to know what a short page is"},
			{"triggers.b.pagination.has_more", 21, "has_more is read only with stop: has_more"},
			{"triggers.c.pagination", 28, "pagination kind next_url needs next"},
			{"triggers.c.pagination.stop", 28, "stop total needs total, an expression over the response"},
			{"triggers.d.pagination", 35, "size_param needs size, the page size to send"},
			{"triggers.d.pagination.stop", 35, "stop no_next is for cursor_token, link_header and next_url pagination"},
			{"triggers.d.pagination.in", 35, "pagination kind offset does not use in"},
		}},
		{"paths.yaml", []want{
			{"base_url", 4, "a base URL has no query or fragment; put parameters in each request's "},
			{"connection.test.path", 7, "a path starts with \"/\""},
			{"actions.a.request.path", 12, "a path is joined to base_url; it is not an absolute URL"},
			{"actions.a.request.body", 14, "a form body is an object of fields"},
		}},
		{"secret_in_query.yaml", []want{
			{"connection.auth.value", 12, "secret connection field \"api_key\" in a URL: URLs end up in logs; send "},
			{"connection.test.query.key", 16, "secret connection field \"api_key\" in a URL: URLs end up in logs; send "},
			{"actions.get.request.path", 23, "secret connection field \"api_key\" in a URL: URLs end up in logs; send "},
			{"actions.get.request.query.dump", 25, "the whole conn, secret field \"api_key\" included, in a URL: read the fi"},
		}},
		{"syntax.yaml", []want{
			{"", 6, "YAML: did not find expected ',' or '}'"},
		}},
		{"template_in_path.yaml", []want{
			{"actions.get.request.path", 13, "bad template: unexpected token EOF"},
			{"actions.get.request.query.q", 15, "bad template: unknown name body"},
			{"actions.get.request.body.text", 19, "bad template: unexpected token Bracket(\")\")"},
			{"actions.get.output[0].value", 21, "bad template: unknown name conn"},
		}},
		{"two_docs.yaml", []want{
			{"", 7, "a connector file holds one YAML document; remove the second one"},
		}},
		{"undeclared.yaml", []want{
			{"connection.auth.token", 8, "conn.tokn is not a connection field"},
			{"actions.create.request.body.name", 17, "input.nam is not an input"},
			{"actions.create.request.body.run", 17, "run is a workflow's variable; a connector does not see the workflow"},
			{"triggers.t.request.query.since", 24, "input.snce is not an input"},
		}},
		{"unknown_key.yaml", []want{
			{"actions.get.request.methd", 12, "unknown key \"methd\""},
			{"actions.get.outputs", 13, "unknown key \"outputs\""},
		}},
		{"version2.yaml", []want{
			{"hookflow_connector", 1, "format 2: this build reads format 1; upgrade hookflow"},
		}},
		{"wrong_type.yaml", []want{
			{"connection.fields[0].secret", 7, "expected boolean, got string"},
			{"defaults.timeout", 10, "expected string, got number"},
			{"defaults.limits.concurrency", 11, "expected integer, got string"},
			{"defaults.limits.rate", 11, "\"15 per 3s\" is not a rate \"N/duration\" such as \"15/3s\""},
			{"defaults.errors.retry_on[1]", 13, "600 is above the maximum, 599"},
			{"actions.get.request.method", 17, "\"get\" is not one of \"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\", \"HEAD\", \""},
		}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "parse", "invalid", tc.file)
			got := parseProblems(t, path, readSource(t, path).Data)
			require.Len(t, got, len(tc.want), "problems: %v", got)
			for i, w := range tc.want {
				require.Equal(t, w.path, got[i].Path, "problem %d: %v", i, got[i])
				require.Equal(t, w.line, got[i].Line, "problem %d: %v", i, got[i])
				require.Contains(t, got[i].Message, w.msg, "problem %d", i)
			}
		})
	}
	for _, path := range testFiles(t, "invalid") {
		require.True(t, seen[filepath.Base(path)], "%s has no expected problems in the table", path)
	}
}

// Problems locate the template error inside the value: the column of a one-line
// template, the line of a literal block.
func TestParseTemplateErrorPositions(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "parse", "invalid", "template_in_path.yaml")
	got := parseProblems(t, path, readSource(t, path).Data)
	require.Equal(t, Problem{Path: "actions.get.request.path", Line: 13, Column: 33, Message: "bad template: unexpected token EOF"}, got[0])
	require.Equal(t, Problem{Path: "actions.get.request.query.q", Line: 15, Column: 16, Message: "bad template: unknown name body"}, got[1])
	require.Equal(t, 19, got[2].Line)
	require.Equal(t, 26, got[2].Column)
}

func TestLoadErrorText(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "parse", "invalid", "unknown_key.yaml")
	_, err := Parse(readSource(t, path))
	require.EqualError(t, err, path+`:12:7: actions.get.request.methd: unknown key "methd"`+"\n"+
		path+`:13:5: actions.get.outputs: unknown key "outputs"`)
	_, err = Parse(Source{Path: "api:x", Data: []byte("a: {b")})
	require.EqualError(t, err, "api:x:1: YAML: did not find expected ',' or '}'")
	_, err = Parse(Source{Path: "api:x", Data: []byte("  \n")})
	require.EqualError(t, err, "api:x: empty file")
}

// The YAML library counts the lines of parser errors from 0 and those of scanner errors
// from 1; both come out counted from 1.
func TestParseYAMLSyntaxLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		line int
	}{
		{"a: 1\nb: {c: 2\nd: 3\n", 2},
		{"a: 1\nb: [1, 2\n", 2},
		{"a: 1\nb: 2\n  c: 3\n", 3},
		{"a: 1\nb: \"abc\n", 2},
		{"a: 1\n\tb: 2\n", 2},
		{"a: 1\nb: c: d\n", 2},
		{"a: 1\n- b\n", 2},
		{"{\"a\": 1,\n \"b\": 2,,\n}\n", 2},
		{"a: 1\nb: @x\n", 2},
		{"a: 1\nb: *x\n", 0},
	} {
		got := parseProblems(t, "f", []byte(tc.text))
		require.Len(t, got, 1, "%q", tc.text)
		require.True(t, strings.HasPrefix(got[0].Message, "YAML: "), "%q: %v", tc.text, got[0])
		require.Equal(t, tc.line, got[0].Line, "%q: %v", tc.text, got[0])
	}
}

const minimal = `hookflow_connector: 1
name: mini
title: Mini
base_url: https://x.example
connection:
  auth: {kind: none}
`

// YAML's own conveniences work: anchors, aliases and merge keys.
func TestParseAliasesAndMergeKeys(t *testing.T) {
	t.Parallel()
	def, err := Parse(Source{Path: "f", Data: []byte(minimal + `
actions:
  get: &get
    title: Get
    request: &req {path: /a, headers: {X-A: "1"}}
  get_b:
    <<: *get
    title: Get B
    request:
      <<: *req
      path: /b
`)})
	require.NoError(t, err)
	require.Equal(t, "Get", def.File.Actions["get"].Title)
	require.Equal(t, "Get B", def.File.Actions["get_b"].Title)
	require.Equal(t, "/b", def.File.Actions["get_b"].Request.Path)
	require.Equal(t, "1", def.File.Actions["get_b"].Request.Headers["X-A"])
}

// A few nested aliases would expand to billions of nodes; the converter stops early.
func TestParseRefusesAliasBombs(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(minimal + "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("x" + string(rune('0'+i)) + ": &x" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*x" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	got := parseProblems(t, "f", []byte(b.String()))
	require.Len(t, got, 1)
	require.Contains(t, got[0].Message, "too large")
}

func TestParseRefusesHugeFiles(t *testing.T) {
	t.Parallel()
	got := parseProblems(t, "f", []byte(minimal+"description: \""+strings.Repeat("x", MaxFileSize)+"\"\n"))
	require.Len(t, got, 1)
	require.Contains(t, got[0].Message, "file too large")
}

func TestParseYAMLOnlyValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, path, msg string }{
		{minimal + "description: !custom x\n", "description", "unsupported YAML tag !custom"},
		{minimal + "description: .inf\n", "description", `".inf" is not a number JSON can hold`},
		{minimal + "? [a, b]\n: c\n", "", "a key must be a string"},
		{minimal + "title: Again\n", "title", `duplicate key "title" (first at line 3)`},
	} {
		got := parseProblems(t, "f", []byte(tc.text))
		require.Len(t, got, 1, "%q: %v", tc.text, got)
		require.Equal(t, tc.path, got[0].Path)
		require.Contains(t, got[0].Message, tc.msg)
	}
	// Integers written the YAML way are still integers; timestamps stay text.
	def, err := Parse(Source{Path: "f", Data: []byte(minimal + `version: 2024-01-02
defaults:
  limits: {concurrency: 0x10}
`)})
	require.NoError(t, err)
	require.Equal(t, "2024-01-02", def.File.Version)
	require.Equal(t, 16, def.File.Defaults.Limits.Concurrency)
}

// Keys that the schema constrains by pattern are reported at the key, wherever the map.
func TestParseBadKeys(t *testing.T) {
	t.Parallel()
	got := parseProblems(t, "f", []byte(minimal+`  test:
    path: /x
    headers: {"Bad Header": x}
    query: {"": x}
defaults:
  headers: {"X:Y": z}
triggers:
  Poll:
    kind: poll
    title: P
    request: {path: /p, headers: {"A B": c}}
    items: body
    item_key: item.id
`))
	require.Equal(t, []Problem{
		{Path: "connection.test.headers.Bad Header", Line: 9, Column: 15, Message: `"Bad Header" is not an HTTP header name`},
		{Path: "connection.test.query.", Line: 10, Column: 13, Message: `"" is not a query parameter name`},
		{Path: "defaults.headers.X:Y", Line: 12, Column: 13, Message: `"X:Y" is not an HTTP header name`},
		{Path: "triggers.Poll", Line: 14, Column: 3, Message: `"Poll" is not a name: a lowercase letter, then lowercase letters, digits and underscores`},
		{Path: "triggers.Poll.request.headers.A B", Line: 17, Column: 35, Message: `"A B" is not an HTTP header name`},
	}, got)
}

// Problems come sorted by line whatever order the checks found them in, and a problem
// found twice is listed once.
func TestSortProblems(t *testing.T) {
	t.Parallel()
	got := sortProblems([]Problem{
		{Path: "b", Line: 3, Column: 1, Message: "m"},
		{Path: "a", Line: 1, Column: 5, Message: "m"},
		{Path: "", Line: 0, Message: "whole file"},
		{Path: "a", Line: 1, Column: 2, Message: "z"},
		{Path: "a", Line: 1, Column: 2, Message: "y"},
		{Path: "b", Line: 3, Column: 1, Message: "m"},
	})
	require.Equal(t, []Problem{
		{Path: "", Line: 0, Message: "whole file"},
		{Path: "a", Line: 1, Column: 2, Message: "y"},
		{Path: "a", Line: 1, Column: 2, Message: "z"},
		{Path: "a", Line: 1, Column: 5, Message: "m"},
		{Path: "b", Line: 3, Column: 1, Message: "m"},
	}, got)
}

// FuzzParse: no input makes Parse panic, and every failure is a *LoadError whose
// problems are sorted and located inside the file.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid", "lint"} {
		for _, path := range testFiles(f, dir) {
			f.Add(readSource(f, path).Data)
		}
	}
	f.Add([]byte(minimal))
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Parse(Source{Path: "fuzz", Data: data})
		if err == nil {
			if def == nil {
				t.Fatal("nil definition without an error")
			}
			return
		}
		var le *LoadError
		if !errors.As(err, &le) || len(le.Problems) == 0 {
			t.Fatalf("error %v is not a *LoadError with problems", err)
		}
		lines := strings.Count(string(data), "\n") + 1
		for i, p := range le.Problems {
			if p.Line < 0 || p.Line > lines {
				t.Fatalf("problem %v: line outside the file (%d lines)", p, lines)
			}
			if i > 0 && le.Problems[i-1].Line > p.Line {
				t.Fatalf("problems not sorted: %v", le.Problems)
			}
		}
	})
}

// Values the schema allows but Go's types cannot hold are problems at their path, not a
// decoding error without a place.
func TestParseValuesGoCannotHold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text, path string
		line       int
		msg        string
	}{
		{"defaults: {timeout: 99999999999999h}\n", "defaults.timeout", 7, `"99999999999999h" is not a duration this build can hold`},
		{"defaults: {limits: {concurrency: 1e3}}\n", "defaults.limits.concurrency", 7, "1e3 is not an integer this build can hold"},
		{"defaults: {limits: {concurrency: 1.0}}\n", "defaults.limits.concurrency", 7, "1.0 is not an integer"},
		{"triggers: {a: {kind: poll, title: A, request: {path: /}, items: body, item_key: item.id,\n" +
			"  pagination: {kind: page_number, start: 99999999999999999999}}}\n", "triggers.a.pagination.start", 8, "99999999999999999999 is not an integer"},
	} {
		got := parseProblems(t, "f", []byte(minimal+tc.text))
		require.Len(t, got, 1, "%q: %v", tc.text, got)
		require.Equal(t, tc.path, got[0].Path)
		require.Equal(t, tc.line, got[0].Line)
		require.Contains(t, got[0].Message, tc.msg)
	}
}

// A comma inside an unquoted value of a {...} mapping starts a new key; the message says
// so rather than only naming the odd key.
func TestParseHintsAtCommasInFlowMappings(t *testing.T) {
	t.Parallel()
	got := parseProblems(t, "f", []byte(minimal+`  fields:
    - {name: a, type: string, description: Its labels (name, color).}
`))
	require.Equal(t, []Problem{{Path: "connection.fields[0].color).", Line: 8, Column: 62,
		Message: `unknown key "color).": in a {...} mapping a comma ends a value; quote text that holds commas`}}, got)
}

// JSON files load however they are laid out: indented with tabs (YAML forbids tabs only
// for block indentation) or on one line.
func TestParseJSONLayouts(t *testing.T) {
	t.Parallel()
	data := readSource(t, filepath.Join("testdata", "parse", "valid", "oauth_client.json")).Data
	want, err := Parse(Source{Path: "f", Data: data})
	require.NoError(t, err)
	var tabbed, compact bytes.Buffer
	require.NoError(t, json.Indent(&tabbed, data, "", "\t"))
	require.NoError(t, json.Compact(&compact, data))
	for _, text := range [][]byte{tabbed.Bytes(), compact.Bytes()} {
		got, err := Parse(Source{Path: "f", Data: text})
		require.NoError(t, err)
		require.Equal(t, want.File, got.File)
	}
}

package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

type noop struct{}

func (noop) Run(context.Context, *connectors.Call) (any, error) { return map[string]any{}, nil }

// testRegistry holds two small connectors, so these tests do not depend on the
// built-in ones.
func testRegistry() *connectors.Registry {
	reg := connectors.NewRegistry()
	reg.MustRegister(&connectors.Connector{
		Name: "crm", Title: "CRM", ConnectionRequired: true,
		Connection: []connectors.Field{{Name: "token", Type: connectors.TypeString, Secret: true}},
		Actions: []*connectors.ActionDef{{
			ActionSpec: connectors.ActionSpec{Name: "create_lead", Title: "Create lead", Inputs: []connectors.Field{
				{Name: "name", Type: connectors.TypeString, Required: true},
				{Name: "price", Type: connectors.TypeInteger},
				{Name: "tags", Type: connectors.TypeArray, Items: &connectors.Field{Name: "tag", Type: connectors.TypeString}},
				{Name: "stage", Type: connectors.TypeString, Enum: []string{"new", "won"}},
			}},
			New: func() connectors.Action { return noop{} },
		}},
	})
	reg.MustRegister(&connectors.Connector{
		Name: "chat", Title: "Chat",
		Actions: []*connectors.ActionDef{{
			ActionSpec: connectors.ActionSpec{Name: "send_message", Title: "Send", Inputs: []connectors.Field{
				{Name: "text", Type: connectors.TypeString, Required: true},
				{Name: "silent", Type: connectors.TypeBoolean},
			}},
			New: func() connectors.Action { return noop{} },
		}},
	})
	reg.MustRegister(&connectors.Connector{
		Name: "feed", Title: "Feed",
		Pollers: []*connectors.PollerDef{{
			PollerSpec: connectors.PollerSpec{Name: "items", Title: "New items", DefaultKey: "item.id", Inputs: []connectors.Field{
				{Name: "url", Type: connectors.TypeString, Required: true},
				{Name: "limit", Type: connectors.TypeInteger},
				{Name: "items", Type: connectors.TypeString, Expression: true, Variables: []string{"body"}},
			}},
			New: func() connectors.Poller { return nil },
		}},
	})
	reg.MustRegister(&connectors.Connector{
		Name: "mail", Title: "Mail",
		Actions: []*connectors.ActionDef{{
			ActionSpec: connectors.ActionSpec{Name: "send", Title: "Send", Inputs: []connectors.Field{
				{Name: "to", Type: connectors.TypeString},
				{Name: "cc", Type: connectors.TypeString},
				{Name: "text", Type: connectors.TypeString, Required: true},
			}},
			New: func() connectors.Action { return mailValidator{} },
		}},
	})
	return reg
}

// mailValidator checks its inputs again, the way built-in connectors do, and joins
// every problem: those the input specs already report must not be listed twice.
type mailValidator struct{ noop }

func (mailValidator) Validate(input map[string]any) error {
	var errs []error
	text, ok := input["text"].(string)
	switch {
	case input["text"] == nil:
		errs = append(errs, errors.New("text is required"))
	case !ok:
		errs = append(errs, fmt.Errorf("text: expected a string, got %T", input["text"]))
	case text == "":
		errs = append(errs, errors.New("text is required"))
	}
	if input["to"] == nil && input["cc"] == nil {
		errs = append(errs, errors.New("no recipient: set to or cc"))
	}
	for _, name := range []string{"to", "cc"} {
		if s, ok := input[name].(string); ok && !strings.Contains(s, "@") {
			errs = append(errs, fmt.Errorf("%s %q is not an email address", name, s))
		}
	}
	return connectors.Permanent(errors.Join(errs...))
}

// TestValidateGolden runs every testdata/validate/*.txt case: a workflow, a line "----",
// then the expected problems one per line, or "ok".
func TestValidateGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/validate/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	reg := testRegistry()
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			input, want, found := strings.Cut(string(data), "\n----\n")
			require.True(t, found, "%s needs a ---- separator line", file)
			got := describe(Load([]byte(input), reg))
			if *update {
				require.NoError(t, os.WriteFile(file, []byte(input+"\n----\n"+got), 0o644))
				return
			}
			require.Equal(t, want, got)
		})
	}
}

func describe(_ *Workflow, _ *Compiled, err error) string {
	if err == nil {
		return "ok\n"
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return "error: " + err.Error() + "\n"
	}
	return ve.String()
}

func TestParseKeepsTypes(t *testing.T) {
	t.Parallel()
	w, err := Parse([]byte(`{"name":"n","enabled":false,"trigger":{"type":"webhook","webhook":{"methods":["POST","PUT"]}},
		"steps":[{"id":"a","uses":"chat.send_message","timeout":"1m30s","retry":{"max_attempts":3,"initial":"2s"},
		"with":{"n":150,"f":1.5,"big":12345678901234567890,"list":[1,"x"]}}]}`))
	require.NoError(t, err)
	require.False(t, w.IsEnabled())
	require.Equal(t, []string{"POST", "PUT"}, w.Trigger.Webhook.Methods)
	st := w.Steps[0]
	require.Equal(t, 90*time.Second, st.Timeout.Std())
	require.Equal(t, 3, st.Retry.MaxAttempts)
	require.Equal(t, 2*time.Second, st.Retry.Initial.Std())
	require.Equal(t, int64(150), st.With["n"])
	require.Equal(t, 1.5, st.With["f"])
	require.Equal(t, "12345678901234567890", st.With["big"], "an integer beyond int64 keeps its digits")
	require.Equal(t, []any{int64(1), "x"}, st.With["list"])
}

func TestParseYAML(t *testing.T) {
	t.Parallel()
	w, err := ParseYAML([]byte("name: From YAML\ntrigger:\n  type: webhook\nsteps:\n  - id: a\n    uses: chat.send_message\n    with:\n      text: hi {{ trigger.body.x }}\n"))
	require.NoError(t, err)
	require.Equal(t, "From YAML", w.Name)
	_, err = Compile(w, testRegistry())
	require.NoError(t, err)

	_, err = ParseYAML([]byte("name: [unclosed"))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Errors[0].Message, "invalid YAML")
}

func TestCompiledStep(t *testing.T) {
	t.Parallel()
	_, c, err := Load([]byte(`{"name":"n","trigger":{"type":"webhook"},"filter":"trigger.body.a > 1",
		"steps":[{"id":"a","uses":"crm.create_lead","connection":"c","if":"true","with":{"name":"{{ trigger.body.name }}","price":"{{ trigger.body.a }}"}},
		         {"id":"b","uses":"chat.send_message","for_each":"trigger.body.items","with":{"text":"x"}}]}`), testRegistry())
	require.NoError(t, err)
	require.NotNil(t, c.Filter)
	require.Len(t, c.Steps, 2)
	require.Equal(t, "crm", c.Steps[0].Connector.Name)
	require.Equal(t, "create_lead", c.Steps[0].Action.Name)
	require.NotNil(t, c.Steps[0].If)
	require.Nil(t, c.Steps[1].If)
	require.NotNil(t, c.Steps[1].ForEach)
	out, err := c.Steps[0].With.Render(context.Background(), map[string]any{"trigger": map[string]any{"body": map[string]any{"name": "Ann", "a": int64(5)}}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"name": "Ann", "price": int64(5)}, out)
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in         string
		candidates []string
		want       string
	}{
		{"telegram.sendmessage", []string{"telegram.send_message", "http.request"}, "telegram.send_message"},
		{"filtr", []string{"name", "filter", "steps"}, "filter"},
		{"methd", []string{"method", "url"}, "method"},
		{"completely_else", []string{"method", "url"}, ""},
		{"URL", []string{"url"}, "url"},
	} {
		require.Equal(t, tc.want, suggest(tc.in, tc.candidates), tc.in)
	}
}

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	var d Duration
	require.NoError(t, d.UnmarshalJSON([]byte(`"1h2m"`)))
	require.Equal(t, time.Hour+2*time.Minute, d.Std())
	b, err := d.MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, `"1h2m0s"`, string(b))
	require.Error(t, d.UnmarshalJSON([]byte(`5`)))
	require.Error(t, d.UnmarshalJSON([]byte(`"soon"`)))
}

func TestJSONSchema(t *testing.T) {
	t.Parallel()
	out, err := JSONSchema(testRegistry())
	require.NoError(t, err)
	require.NotContains(t, string(out), `\u003c`, "no HTML escaping in a file people read")
	v, err := connectors.DecodeJSON(out)
	require.NoError(t, err, "the schema is JSON")
	root := v.(map[string]any)
	require.Equal(t, SchemaID, root["$id"])
	require.Equal(t, []any{"name", "trigger", "steps"}, root["required"])
	step := root["properties"].(map[string]any)["steps"].(map[string]any)["items"].(map[string]any)
	require.Equal(t, []any{"chat.send_message", "crm.create_lead", "mail.send"}, step["properties"].(map[string]any)["uses"].(map[string]any)["enum"])
	branches := step["allOf"].([]any)
	require.Len(t, branches, 3)
	crm := branches[1].(map[string]any)
	require.Equal(t, "crm.create_lead", crm["if"].(map[string]any)["properties"].(map[string]any)["uses"].(map[string]any)["const"])
	then := crm["then"].(map[string]any)
	require.Equal(t, []any{"connection"}, then["required"], "crm needs a connection")
	with := then["properties"].(map[string]any)["with"].(map[string]any)
	require.Equal(t, false, with["additionalProperties"])
	require.Equal(t, []any{"name"}, with["required"])
	price := with["properties"].(map[string]any)["price"].(map[string]any)
	require.Len(t, price["anyOf"], 2, "an integer input may also be a template")
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ByteSize{
		"1MiB": 1 << 20, "1 MiB": 1 << 20, "512KiB": 512 << 10, "1.5KiB": 1536, "16MB": 16e6,
		"100B": 100, "1048576": 1 << 20, "2GiB": 2 << 30, "0": 0,
	} {
		got, err := ParseByteSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "MiB", "-1MiB", "1e6", "lots", "1 TiB", "0x10"} {
		_, err := ParseByteSize(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "16MiB", ByteSize(16<<20).String())
	require.Equal(t, "1536B", ByteSize(1536).String())

	var l Limits
	require.NoError(t, json.Unmarshal([]byte(`{"step_data": "1MiB", "run_data": 2048, "for_each_items": 5}`), &l))
	require.Equal(t, Limits{StepData: 1 << 20, RunData: 2048, ForEachItems: 5}, l)
	b, err := json.Marshal(l)
	require.NoError(t, err)
	require.JSONEq(t, `{"step_data": "1MiB", "run_data": "2KiB", "for_each_items": 5}`, string(b))

	def := Limits{StepData: 1, RunData: 2, ForEachItems: 3, ExpressionMemory: 4}
	require.Equal(t, def, (*Limits)(nil).Or(def))
	require.Equal(t, Limits{StepData: 1 << 20, RunData: 2048, ForEachItems: 5, ExpressionMemory: 4}, l.Or(def))
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"0d", 0, true},
		{"90m", 90 * time.Minute, true},
		{"1.5d", 0, false},
		{"-1d", 0, false},
		{"d", 0, false},
		{"7days", 0, false},
		{"1d-1h", 0, false},
		{"1000000d", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

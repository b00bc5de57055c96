package signature

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const tildaForm = "Name=Ann+Lee&Email=ann%40example.com&Phone=%2B7+999+123-45-67&formid=form123&tranid=1234567%3A8901234"

func tildaRequest(body string, kv ...string) *Request {
	return newRequest(hookURL, body, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, kv...)...)
}

func TestTildaProbe(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		r    *Request
		want bool
	}{
		{"tilda's check", tildaRequest("test=test"), true},
		{"check with the api key field", tildaRequest("test=test&apikey=k"), true},
		{"check parsed by the caller", &Request{Header: http.Header{}, Form: url.Values{"test": {"test"}}}, true},
		{"a submission", tildaRequest(tildaForm), false},
		{"a form field named test in a submission", tildaRequest("test=test&tranid=1:2"), false},
		{"another value", tildaRequest("test=yes"), false},
		{"not a form", newRequest(hookURL, "test=test", "Content-Type", "text/plain"), false},
		{"json", newRequest(hookURL, `{"test":"test"}`, "Content-Type", "application/json"), false},
	} {
		require.Equal(t, tt.want, IsProbe(TypeTilda, tt.r), tt.name)
	}
	require.False(t, IsProbe(TypeGitHub, tildaRequest("test=test")), "only tilda has a probe")
	require.False(t, IsProbe("unknown", tildaRequest("test=test")))
	require.False(t, IsProbe(TypeTilda, nil))
}

func TestTildaAPIKey(t *testing.T) {
	t.Parallel()
	const key = "tilda-key-0123456789"
	header := Config{Type: TypeTilda, Header: "X-Api-Key", Secrets: []string{key}}
	field := Config{Type: TypeTilda, Field: "apikey", Secrets: []string{"old-key", key}}

	require.NoError(t, Verify(Config{Type: TypeTilda}, tildaRequest(tildaForm), testNow), "no connection: no key check")
	require.NoError(t, Verify(header, tildaRequest(tildaForm, "X-Api-Key", key), testNow))
	require.NoError(t, Verify(header, tildaRequest(tildaForm, "X-Api-Key", " "+key+" "), testNow), "spaces around are ignored")
	require.NoError(t, Verify(field, tildaRequest(tildaForm+"&apikey="+key), testNow), "either secret matches")

	for _, tt := range []struct {
		name   string
		cfg    Config
		r      *Request
		code   string
		reason string
	}{
		{"no header", header, tildaRequest(tildaForm), CodeMissingHeader, "missing header X-Api-Key"},
		{"wrong key", header, tildaRequest(tildaForm, "X-Api-Key", "nope"), CodeMismatch, "api key mismatch"},
		// A right prefix or a longer key fails the same way: keys are hashed before
		// hmac.Equal compares them, so neither time nor length says how close a guess was.
		{"prefix of the key", header, tildaRequest(tildaForm, "X-Api-Key", key[:len(key)-1]), CodeMismatch, "api key mismatch"},
		{"key plus more", header, tildaRequest(tildaForm, "X-Api-Key", key+"0"), CodeMismatch, "api key mismatch"},
		{"key in a field, not the header", header, tildaRequest(tildaForm + "&X-Api-Key=" + key), CodeMissingHeader, "missing header X-Api-Key"},
		{"no field", field, tildaRequest(tildaForm), CodeMissingHeader, "missing field apikey"},
		{"empty field", field, tildaRequest(tildaForm + "&apikey="), CodeMissingHeader, "missing field apikey"},
		{"wrong field", field, tildaRequest(tildaForm + "&apikey=nope"), CodeMismatch, "api key mismatch"},
		{"json body", field, newRequest(hookURL, `{"apikey":"`+key+`"}`, "Content-Type", "application/json"), CodeMissingHeader, "missing field apikey: the body is not a form"},
		{"secret removed from the connection", Config{Type: TypeTilda, Header: "X-Api-Key"}, tildaRequest(tildaForm, "X-Api-Key", key), CodeBadConfig, "no secret configured for tilda"},
	} {
		err := Verify(tt.cfg, tt.r, testNow)
		requireCode(t, err, tt.code, key, "old-key")
		require.Equal(t, tt.reason, err.(*Error).Reason, tt.name)
	}
}

func TestTildaSettings(t *testing.T) {
	t.Parallel()
	sec := []string{"k"}
	for _, cfg := range []Config{
		{Type: TypeTilda},
		{Type: TypeTilda, Header: "X-Api-Key", Secrets: sec},
		{Type: TypeTilda, Field: "apikey", Secrets: sec},
	} {
		require.NoError(t, ValidateConfig(cfg), "%+v", cfg)
	}
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{Type: TypeTilda, Header: "X-Api-Key", Field: "apikey", Secrets: sec}, "tilda takes the api key from header or field, not both"},
		{Config{Type: TypeTilda, Header: "X-Api-Key"}, "secret is required for tilda"},
		{Config{Type: TypeTilda, Field: "apikey", Secrets: []string{""}}, "secrets[0] is empty"},
		{Config{Type: TypeTilda, Query: "key", Secrets: sec}, "query is only used by token, not tilda"},
		{Config{Type: TypeTilda, Header: "X-Api-Key", Prefix: "Bearer ", Secrets: sec}, "prefix is only used by token and hmac, not tilda"},
		{Config{Type: TypeToken, Header: "X-Token", Field: "apikey", Secrets: sec}, "field is only used by tilda, not token"},
	} {
		err := ValidateConfig(tt.cfg)
		require.Error(t, err, "%+v", tt.cfg)
		require.Contains(t, err.Error(), tt.want)
		require.Equal(t, strings.ToLower(err.Error()), err.Error())
	}
	require.True(t, ConnectionOptional(TypeTilda))
	require.False(t, ConnectionOptional(TypeToken))
	require.Equal(t, http.StatusOK, AcceptedStatus(TypeTilda))
	require.Zero(t, AcceptedStatus(TypeGitHub))
	require.Zero(t, AcceptedStatus("unknown"))
}

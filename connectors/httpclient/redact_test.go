package httpclient

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "https://example.com/a/b?x=1", want: "https://example.com/a/b?x=1"},
		{name: "password", in: "https://bob:hunter2@example.com/", want: "https://bob:******@example.com/"},
		{name: "user without password", in: "https://bob@example.com/", want: "https://bob@example.com/"},
		{name: "token query", in: "https://example.com/?token=abc&page=2", want: "https://example.com/?token=******&page=2"},
		{name: "order and escaping kept", in: "https://example.com/?z=a%20b&api_key=k1&a=1", want: "https://example.com/?z=a%20b&api_key=******&a=1"},
		{name: "many secret keys", in: "https://x.test/?apikey=1&key=2&secret=3&password=4&access_token=5&auth=6&signature=7&client_secret=8&X-Api-Key=9",
			want: "https://x.test/?apikey=******&key=******&secret=******&password=******&access_token=******&auth=******&signature=******&client_secret=******&X-Api-Key=******"},
		{name: "repeated secret key", in: "https://x.test/?token=a&token=b", want: "https://x.test/?token=******&token=******"},
		{name: "escaped key", in: "https://x.test/?api%5Fkey=1", want: "https://x.test/?api%5Fkey=******"},
		{name: "key without value", in: "https://x.test/?token", want: "https://x.test/?token"},
		{name: "not secret lookalikes", in: "https://x.test/?monkey=1&keyword=2&page_token_count=3", want: "https://x.test/?monkey=1&keyword=2&page_token_count=******"},
		{name: "relative", in: "/hooks?secret=s", want: "/hooks?secret=******"},
		{name: "invalid", in: "http://[::1:bad", want: "<invalid url>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, RedactURL(tt.in))
		})
	}
}

func TestIsSensitiveHeader(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		want bool
	}{
		{"Authorization", true},
		{"authorization", true},
		{"Proxy-Authorization", true},
		{"Cookie", true},
		{"Set-Cookie", true},
		{"X-Api-Key", true},
		{"x-api-token", true},
		{"X-Auth-Token", true},
		{"X-Telegram-Bot-Api-Secret-Token", true},
		{"X-Hub-Signature-256", true},
		{"Content-Type", false},
		{"Idempotency-Key", false},
		{"User-Agent", false},
		{"Accept", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, IsSensitiveHeader(tt.name))
		})
	}
}

func TestRedactHeaders(t *testing.T) {
	t.Parallel()

	in := http.Header{
		"Authorization":   {"Bearer abc123"},
		"Cookie":          {"session=xyz"},
		"X-Api-Key":       {"k-1", "k-2"},
		"X-Custom":        {"Basic not-a-credential-header"},
		"Content-Type":    {"application/json"},
		"Idempotency-Key": {"5f0c"},
	}
	out := RedactHeaders(in)
	require.Equal(t, http.Header{
		"Authorization":   {"Bearer ******"},
		"Cookie":          {"******"},
		"X-Api-Key":       {"******", "******"},
		"X-Custom":        {"Basic not-a-credential-header"},
		"Content-Type":    {"application/json"},
		"Idempotency-Key": {"5f0c"},
	}, out)
	require.Equal(t, "Bearer abc123", in.Get("Authorization"), "the input must not be modified")
}

func TestSecretRedactor(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{name: "no secrets", secrets: nil, in: "hello", want: "hello"},
		{name: "empty secret ignored", secrets: []string{""}, in: "hello", want: "hello"},
		{name: "literal", secrets: []string{"s3cr3t"}, in: "a s3cr3t b s3cr3t", want: "a ****** b ******"},
		{name: "query escaped", secrets: []string{"a b&c"}, in: "?q=a+b%26c", want: "?q=******"},
		{name: "path escaped", secrets: []string{"a b/c"}, in: "/x/a%20b%2Fc/y", want: "/x/******/y"},
		{name: "longest first", secrets: []string{"abc", "abcdef"}, in: "abcdef", want: "******"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, SecretRedactor(tt.secrets...)(tt.in))
		})
	}
}

package declarative

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAuthKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		auth  string
		check func(t *testing.T, r seenRequest)
	}{
		{`{kind: none}`, func(t *testing.T, r seenRequest) {
			require.Empty(t, r.Header.Get("Authorization"))
		}},
		{`{kind: header, name: X-Api-Key, value: "{{ conn.key }}"}`, func(t *testing.T, r seenRequest) {
			require.Equal(t, "key-secret-0001", r.Header.Get("X-Api-Key"))
		}},
		{`{kind: query, param: api_key, value: "{{ conn.key }}"}`, func(t *testing.T, r seenRequest) {
			require.Equal(t, []string{"key-secret-0001"}, r.Query["api_key"])
			require.Equal(t, []string{"1"}, r.Query["page"], "the request's own query stays")
		}},
		{`{kind: basic, username: "{{ conn.user }}", password: "{{ conn.key }}"}`, func(t *testing.T, r seenRequest) {
			require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("ann:key-secret-0001")), r.Header.Get("Authorization"))
		}},
		{`{kind: bearer, token: "{{ conn.key }}"}`, func(t *testing.T, r seenRequest) {
			require.Equal(t, "Bearer key-secret-0001", r.Header.Get("Authorization"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.auth, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, reply(200, map[string]any{}))
			c, _ := build(t, `
hookflow_connector: 1
name: svc
title: Service
base_url: "{{ conn.base_url }}"
connection:
  fields:
    - {name: base_url, type: string}
    - {name: user, type: string}
    - {name: key, type: string, secret: true, allow_in_url: true}
  auth: `+tt.auth+`
actions:
  get: {title: Get, request: {path: /x, query: {page: 1}}}
`)
			_, err := runAction(t, c, "get", conn(map[string]any{"base_url": srv.URL, "user": "ann", "key": "key-secret-0001"}, "key"), nil)
			require.NoError(t, err)
			tt.check(t, srv.requests()[0])
		})
	}
}

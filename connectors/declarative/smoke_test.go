package declarative

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	t.Parallel()
	srv := newServer(t, reply(200, map[string]any{"id": 7, "name": "x"}))
	c, _ := build(t, `
hookflow_connector: 1
name: acme
title: Acme
base_url: "{{ conn.base_url }}"
connection:
  fields:
    - {name: base_url, type: string, required: true, endpoint: true}
    - {name: token, type: string, secret: true, required: true}
  auth: {kind: bearer, token: "{{ conn.token }}"}
actions:
  create_thing:
    title: Create a thing
    input:
      - {name: owner, type: string, required: true}
      - {name: name, type: string, send: {body: thing.name}}
    request: {method: POST, path: "/owners/{{ input.owner }}/things"}
    output:
      - {name: id, type: integer, value: "{{ body.id }}"}
`)
	out, err := runAction(t, c, "create_thing", conn(map[string]any{"base_url": srv.URL, "token": "secret-token-123"}, "token"),
		map[string]any{"owner": "a/b", "name": "x"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": int64(7)}, out)
	r := srv.requests()[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/owners/a%2Fb/things", r.Path)
	require.Equal(t, "Bearer secret-token-123", r.Header.Get("Authorization"))
	require.JSONEq(t, `{"thing":{"name":"x"}}`, r.Body)
}

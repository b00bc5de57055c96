package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/types"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/connectors/connectortest"
	"github.com/hookflow/hookflow/connectors/httpclient"
)

// evalExpr stands in for the engine's evaluator, which connectors cannot import: it
// compiles with expr-lang and every variable typed any, as engine/expr does.
func evalExpr(src string, env map[string]any) (any, error) {
	vars := types.Map{}
	for k := range env {
		vars[k] = types.Any
	}
	prog, err := expr.Compile(src, expr.Env(vars))
	if err != nil {
		return nil, err
	}
	return expr.Run(prog, env)
}

// newPollCall builds a poll of http.poll with an optional connection config.
func newPollCall(t *testing.T, input, config map[string]any) *connectors.PollCall {
	t.Helper()
	return &connectors.PollCall{
		WorkflowID: "wf_poll_test",
		Input:      input,
		Connection: connectortest.NewConnection(httpConnector(t), config),
		Logger:     connectortest.NewTestLogger(t),
		Eval:       evalExpr,
	}
}

// runPoll polls as the engine does: a new poller from the factory, Validate, then Poll.
func runPoll(ctx context.Context, call *connectors.PollCall) (*connectors.PollResult, error) {
	p := pollDef.New()
	if v, ok := p.(connectors.Validator); ok {
		if err := v.Validate(call.Input); err != nil {
			return nil, err
		}
	}
	return p.Poll(ctx, call)
}

func poll(t *testing.T, input, config map[string]any) (*connectors.PollResult, error) {
	t.Helper()
	return runPoll(t.Context(), newPollCall(t, input, config))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ids returns the id field of each item.
func ids(t *testing.T, items []any) []int64 {
	t.Helper()
	out := make([]int64, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		require.True(t, ok, "item is %T, want an object", it)
		id, ok := m["id"].(int64)
		require.True(t, ok, "id is %T, want int64", m["id"])
		out = append(out, id)
	}
	return out
}

func objs(ids ...int) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"id": id, "name": "item " + strconv.Itoa(id)}
	}
	return out
}

// pageParam reads the page query parameter, 1 when absent.
func pageParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil {
		return 1
	}
	return n
}

func TestPollSpecRegistered(t *testing.T) {
	t.Parallel()

	c, def, ok := connectors.Default.Poller("http.poll")
	require.True(t, ok)
	require.Same(t, pollDef, def)
	require.Equal(t, "item.id", def.DefaultKey)
	require.Contains(t, connectors.Default.PollerNames(), "http.poll")
	spec := c.Spec()
	require.NoError(t, spec.Lint())
	require.Len(t, spec.Pollers, 1)
	for _, f := range def.Inputs {
		require.NotEmpty(t, f.Title, f.Name)
		require.NotEmpty(t, f.Description, f.Name)
		for _, ex := range f.Examples {
			require.NoError(t, f.CheckValue(ex), "example of %s", f.Name)
		}
	}
	// Expressions in the examples must compile in the language the engine uses.
	for _, name := range []string{inItems, inNext, inCursor} {
		f := fieldByName(t, def.Inputs, name)
		for _, ex := range f.Examples {
			_, err := expr.Compile(ex.(string), expr.Env(types.Map{
				envBody: types.Any, envHeaders: types.Any, envStatus: types.Any,
				envPage: types.Any, envItems: types.Any, envCursor: types.Any,
			}))
			require.NoError(t, err, "example %q of %s", ex, name)
		}
	}
}

func fieldByName(t *testing.T, fields []connectors.Field, name string) connectors.Field {
	t.Helper()
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no field %q", name)
	return connectors.Field{}
}

func TestPollListBody(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, objs(1, 2, 3))
	})
	res, err := poll(t, map[string]any{inURL: rec.URL + "/items"}, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2, 3}, ids(t, res.Items))
	require.Nil(t, res.Cursor, "no cursor input keeps the saved cursor")
	got := rec.last(t)
	require.Equal(t, http.MethodGet, got.Method)
	require.Equal(t, "/items", got.Path)
	require.Equal(t, contentTypeJSON, got.Header.Get("Accept"))
	require.Equal(t, 1, rec.count())
}

func TestPollItemsExpression(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total", "2")
		writeJSON(w, http.StatusOK, map[string]any{"data": objs(4, 5), "meta": map[string]any{"total": 2}})
	})
	res, err := poll(t, map[string]any{inURL: rec.URL, inItems: "body.data"}, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{4, 5}, ids(t, res.Items))

	// The expression sees headers (lower-case) and status too.
	res, err = poll(t, map[string]any{inURL: rec.URL,
		inItems: `status == 200 && headers["x-total"] == "2" ? filter(body.data, #.id > 4) : []`}, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{5}, ids(t, res.Items))

	// Items built by the expression come back as plain JSON values.
	res, err = poll(t, map[string]any{inURL: rec.URL, inItems: `map(body.data, #.id * 10)`}, nil)
	require.NoError(t, err)
	require.Equal(t, []any{int64(40), int64(50)}, res.Items)
}

func TestPollItemsErrors(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": nil, "orders": objs(1), "count": 1})
	})
	tests := []struct {
		name  string
		items string
		want  []string
	}{
		{name: "object body without items", want: []string{"the response body is an object, not a list",
			"set the items input", "body.orders"}},
		{name: "null", items: "body.data", want: []string{`items expression "body.data" gave null`, `"body.data ?? []"`}},
		{name: "not a list", items: "body.count", want: []string{`items expression "body.count" gave an integer, not a list`}},
		{name: "bad expression", items: "body.orders[", want: []string{`evaluate items expression "body.orders["`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			input := map[string]any{inURL: rec.URL}
			if tt.items != "" {
				input[inItems] = tt.items
			}
			res, err := poll(t, input, nil)
			require.Nil(t, res)
			require.Error(t, err)
			require.True(t, connectors.IsPermanent(err), "want permanent: %v", err)
			for _, want := range tt.want {
				require.ErrorContains(t, err, want)
			}
		})
	}

	t.Run("null fallback gives no items", func(t *testing.T) {
		t.Parallel()
		res, err := poll(t, map[string]any{inURL: rec.URL, inItems: "body.data ?? []"}, nil)
		require.NoError(t, err)
		require.Empty(t, res.Items)
		require.NotNil(t, res.Items)
	})
}

func TestPollNextURLPaging(t *testing.T) {
	t.Parallel()

	var rec *recorder
	rec = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		n := pageParam(r)
		body := map[string]any{"data": objs(2*n-1, 2*n)}
		if n < 3 {
			body["links"] = map[string]any{"next": fmt.Sprintf("%s/items?page=%d", rec.URL, n+1)}
		}
		writeJSON(w, http.StatusOK, body)
	})

	t.Run("all pages", func(t *testing.T) {
		t.Parallel()
		res, err := poll(t, map[string]any{inURL: rec.URL + "/items", inItems: "body.data", inNext: "body.links?.next"}, nil)
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2, 3, 4, 5, 6}, ids(t, res.Items))
	})

	t.Run("max_pages caps", func(t *testing.T) {
		t.Parallel()
		logger, logs := connectortest.NewCaptureLogger(t)
		call := newPollCall(t, map[string]any{inURL: rec.URL + "/items", inItems: "body.data", inNext: "body.links?.next", inMaxPages: 2}, nil)
		call.Logger = logger
		res, err := runPoll(t.Context(), call)
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2, 3, 4}, ids(t, res.Items))
		require.Contains(t, logs.String(), "HTTP poll stopped at max_pages with pages left")
	})

	t.Run("no next fetches one page", func(t *testing.T) {
		t.Parallel()
		res, err := poll(t, map[string]any{inURL: rec.URL + "/items", inItems: "body.data"}, nil)
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2}, ids(t, res.Items))
	})
}

func TestPollNextRelativeURL(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/items" && r.URL.RawQuery == "limit=2":
			writeJSON(w, http.StatusOK, map[string]any{"data": objs(1, 2), "next": "?limit=2&after=2"})
		case r.URL.Path == "/api/items" && r.URL.RawQuery == "limit=2&after=2":
			writeJSON(w, http.StatusOK, map[string]any{"data": objs(3, 4), "next": "/api/more/items"})
		case r.URL.Path == "/api/more/items":
			writeJSON(w, http.StatusOK, map[string]any{"data": objs(5), "next": ""})
		default:
			writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such page " + r.URL.String()})
		}
	})
	res, err := poll(t, map[string]any{inURL: rec.URL + "/api/items", inQuery: map[string]any{"limit": 2},
		inItems: "body.data", inNext: "body.next"}, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2, 3, 4, 5}, ids(t, res.Items))
	require.Equal(t, 3, rec.count())
}

func TestPollNextQueryObject(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		n := pageParam(r)
		all := objs(1, 2, 3, 4, 5)
		from, to := min((n-1)*per, len(all)), min(n*per, len(all))
		writeJSON(w, http.StatusOK, all[from:to])
	})
	res, err := poll(t, map[string]any{inURL: rec.URL + "/items", inQuery: map[string]any{"per_page": 2, "status": "open"},
		inNext: "len(items) == 2 ? {page: page + 1} : nil"}, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2, 3, 4, 5}, ids(t, res.Items))
	require.Equal(t, 3, rec.count())
	require.Equal(t, "page=3&per_page=2&status=open", rec.last(t).RawQuery, "the other parameters are kept")
}

func TestPollPagingStops(t *testing.T) {
	t.Parallel()

	t.Run("repeated url", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"data": objs(1), "next": "?page=1"})
		})
		res, err := poll(t, map[string]any{inURL: rec.URL + "/items?page=1", inItems: "body.data", inNext: "body.next"}, nil)
		require.NoError(t, err)
		require.Equal(t, []int64{1}, ids(t, res.Items))
		require.Equal(t, 1, rec.count())
	})

	t.Run("empty page", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			if pageParam(r) > 1 {
				writeJSON(w, http.StatusOK, []any{})
				return
			}
			writeJSON(w, http.StatusOK, objs(1))
		})
		res, err := poll(t, map[string]any{inURL: rec.URL, inNext: "{page: page + 1}", inMaxPages: 50}, nil)
		require.NoError(t, err)
		require.Equal(t, []int64{1}, ids(t, res.Items))
		require.Equal(t, 2, rec.count())
	})

	t.Run("no content", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
		res, err := poll(t, map[string]any{inURL: rec.URL, inItems: "body.data", inNext: "body.next"}, nil)
		require.NoError(t, err)
		require.Empty(t, res.Items)
	})

	t.Run("item limit", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			n := pageParam(r)
			list := make([]int, 600)
			for i := range list {
				list[i] = (n-1)*600 + i + 1
			}
			writeJSON(w, http.StatusOK, objs(list...))
		})
		res, err := poll(t, map[string]any{inURL: rec.URL, inNext: "{page: page + 1}"}, nil)
		require.NoError(t, err)
		require.Len(t, res.Items, pollItemsMax)
		got := ids(t, res.Items)
		require.Equal(t, int64(1), got[0])
		require.Equal(t, int64(pollItemsMax), got[len(got)-1])
		require.Equal(t, 2, rec.count())
	})

	t.Run("bad next value", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, objs(1)) })
		_, err := poll(t, map[string]any{inURL: rec.URL, inNext: "42"}, nil)
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, `next expression "42" gave an integer`)
	})
}

func TestPollNewestFirst(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if pageParam(r) == 1 {
			writeJSON(w, http.StatusOK, map[string]any{"data": objs(6, 5, 4), "next": "?page=2"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": objs(3, 2)})
	})
	res, err := poll(t, map[string]any{inURL: rec.URL, inItems: "body.data", inNext: "body.next",
		inOrder: orderNewestFirst, inCursor: "max(map(items, #.id))"}, nil)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 3, 4, 5, 6}, ids(t, res.Items))
	require.Equal(t, int64(6), res.Cursor)

	// The cursor expression sees every item, oldest first.
	res, err = poll(t, map[string]any{inURL: rec.URL, inItems: "body.data", inNext: "body.next",
		inOrder: orderNewestFirst, inCursor: "first(items).id"}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(2), res.Cursor)
}

func TestPollCursor(t *testing.T) {
	t.Parallel()

	// newSource lists the items above since_id, as GitHub- or Twitter-like APIs do. Each
	// subtest gets its own, so that last() sees its own request.
	newSource := func(t *testing.T) *recorder {
		all := objs(1, 2, 3, 4, 5)
		return newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			since, _ := strconv.Atoi(r.URL.Query().Get("since_id"))
			writeJSON(w, http.StatusOK, map[string]any{"data": all[min(since, len(all)):], "next_since": "2026-11-26T12:00:00Z"})
		})
	}

	t.Run("first poll", func(t *testing.T) {
		t.Parallel()
		rec := newSource(t)
		// The engine renders "{{ cursor ?? 0 }}" to 0 before the first poll.
		call := newPollCall(t, map[string]any{inURL: rec.URL, inQuery: map[string]any{"since_id": 0},
			inItems: "body.data", inCursor: "max(map(items, #.id))"}, nil)
		call.First = true
		res, err := runPoll(t.Context(), call)
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2, 3, 4, 5}, ids(t, res.Items))
		require.Equal(t, int64(5), res.Cursor)
	})

	t.Run("later poll", func(t *testing.T) {
		t.Parallel()
		rec := newSource(t)
		// The saved cursor comes back decoded with json.Number; "{{ cursor }}" rendered it.
		call := newPollCall(t, map[string]any{inURL: rec.URL, inQuery: map[string]any{"since_id": json.Number("3")},
			inItems: "body.data", inCursor: "max(map(items, #.id))"}, nil)
		call.Cursor = json.Number("3")
		res, err := runPoll(t.Context(), call)
		require.NoError(t, err)
		require.Equal(t, []int64{4, 5}, ids(t, res.Items))
		require.Equal(t, int64(5), res.Cursor)
		require.Equal(t, "since_id=3", rec.last(t).RawQuery)
	})

	t.Run("nothing new keeps the cursor", func(t *testing.T) {
		t.Parallel()
		rec := newSource(t)
		call := newPollCall(t, map[string]any{inURL: rec.URL, inQuery: map[string]any{"since_id": 5},
			inItems: "body.data", inCursor: "max(map(items, #.id))"}, nil)
		call.Cursor = json.Number("5")
		res, err := runPoll(t.Context(), call)
		require.NoError(t, err)
		require.Empty(t, res.Items)
		require.Nil(t, res.Cursor, "null keeps the saved cursor")
	})

	t.Run("previous cursor and body", func(t *testing.T) {
		t.Parallel()
		rec := newSource(t)
		call := newPollCall(t, map[string]any{inURL: rec.URL, inQuery: map[string]any{"since_id": 5},
			inItems: "body.data", inCursor: "len(items) > 0 ? last(items).id : cursor + 100"}, nil)
		call.Cursor = json.Number("5")
		res, err := runPoll(t.Context(), call)
		require.NoError(t, err)
		require.Equal(t, int64(105), res.Cursor, "expressions see the saved cursor as a number")

		res, err = poll(t, map[string]any{inURL: rec.URL, inItems: "body.data", inCursor: "body.next_since"}, nil)
		require.NoError(t, err)
		require.Equal(t, "2026-11-26T12:00:00Z", res.Cursor)
	})

	t.Run("items expression sees the cursor", func(t *testing.T) {
		t.Parallel()
		rec := newSource(t)
		call := newPollCall(t, map[string]any{inURL: rec.URL, inItems: "filter(body.data, #.id > cursor)"}, nil)
		call.Cursor = json.Number("4")
		res, err := runPoll(t.Context(), call)
		require.NoError(t, err)
		require.Equal(t, []int64{5}, ids(t, res.Items))
	})

	t.Run("bad cursor expression", func(t *testing.T) {
		t.Parallel()
		rec := newSource(t)
		_, err := poll(t, map[string]any{inURL: rec.URL, inItems: "body.data", inCursor: "nope("}, nil)
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, `evaluate cursor expression "nope("`)
	})
}

func TestPollConnectionBearer(t *testing.T) {
	t.Parallel()

	// The fake echoes the Authorization header into its items and errors, as careless
	// services do, so redaction is really exercised.
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if !authorized(authBearer, r) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "bad token"})
			return
		}
		switch r.URL.Path {
		case "/v1/items":
			writeJSON(w, http.StatusOK, map[string]any{"data": []any{
				map[string]any{"id": 1, "seen_auth": r.Header.Get("Authorization")},
			}, "next": "/v1/items2"})
		case "/v1/items2":
			writeJSON(w, http.StatusOK, map[string]any{"data": []any{map[string]any{"id": 2}}})
		default:
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "boom", "auth": r.Header.Get("Authorization")})
		}
	})
	config := map[string]any{connBaseURL: rec.URL + "/v1", connAuth: authBearer, connToken: fakeToken}
	secrets := []string{fakeToken}

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		logger, logs := connectortest.NewCaptureLogger(t)
		call := newPollCall(t, map[string]any{inURL: "/items", inItems: "body.data", inNext: "body.next"}, config)
		call.Logger = logger
		res, err := runPoll(t.Context(), call)
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2}, ids(t, res.Items))
		require.Equal(t, "Bearer "+connectors.RedactedValue, res.Items[0].(map[string]any)["seen_auth"])
		connectortest.AssertNoSecrets(t, secrets, res, err, logs.String())
	})

	t.Run("error echoing the token", func(t *testing.T) {
		t.Parallel()
		logger, logs := connectortest.NewCaptureLogger(t)
		call := newPollCall(t, map[string]any{inURL: "/broken"}, config)
		call.Logger = logger
		res, err := runPoll(t.Context(), call)
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "500")
		connectortest.AssertNoSecrets(t, secrets, res, err, logs.String())
	})

	t.Run("expression error quoting the token", func(t *testing.T) {
		t.Parallel()
		call := newPollCall(t, map[string]any{inURL: "/items", inItems: "body.data", inCursor: "int(first(items).seen_auth)"}, config)
		res, err := runPoll(t.Context(), call)
		require.Error(t, err)
		require.ErrorContains(t, err, connectors.RedactedValue, "the error quotes the value, masked")
		connectortest.AssertNoSecrets(t, secrets, res, err, "")
	})

	t.Run("next page on another host", func(t *testing.T) {
		t.Parallel()
		call := newPollCall(t, map[string]any{inURL: "/items", inItems: "body.data",
			inNext: `"https://evil.example/steal"`}, config)
		_, err := runPoll(t.Context(), call)
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "credentials are only sent to")
	})

	t.Run("absolute url on another host", func(t *testing.T) {
		t.Parallel()
		_, err := poll(t, map[string]any{inURL: "https://evil.example/items"}, config)
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "the connection's credentials are only sent there")
	})

	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		bad := map[string]any{connBaseURL: rec.URL + "/v1", connAuth: authBearer, connToken: "tok-wrong-0123456789"}
		_, err := poll(t, map[string]any{inURL: "/items"}, bad)
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "401")
	})
}

func TestPollBasicAuthEchoRedacted(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if !authorized(authBasic, r) {
			writeJSON(w, http.StatusUnauthorized, nil)
			return
		}
		writeJSON(w, http.StatusOK, []any{map[string]any{"id": 1, "auth": r.Header.Get("Authorization")}})
	})
	config := map[string]any{connBaseURL: rec.URL, connAuth: authBasic, connUsername: fakeUser, connPassword: fakePassword}
	res, err := poll(t, map[string]any{inURL: "/items", inCursor: "first(items).auth"}, config)
	require.NoError(t, err)
	encoded := "Basic " + base64Creds(fakeUser, fakePassword)
	require.NotContains(t, fmt.Sprint(res.Items), encoded[len("Basic "):])
	require.NotContains(t, fmt.Sprint(res.Cursor), encoded[len("Basic "):])
}

func base64Creds(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestPollStatusClassification(t *testing.T) {
	t.Parallel()

	tests := []struct {
		status     int
		retryAfter string
		permanent  bool
		delay      time.Duration
	}{
		{status: http.StatusInternalServerError},
		{status: http.StatusBadGateway},
		{status: http.StatusRequestTimeout},
		{status: http.StatusTooManyRequests, retryAfter: "7", delay: 7 * time.Second},
		{status: http.StatusNotFound, permanent: true},
		{status: http.StatusForbidden, permanent: true},
		{status: http.StatusMovedPermanently, permanent: true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				writeJSON(w, tt.status, map[string]any{"error": "status " + strconv.Itoa(tt.status)})
			})
			res, err := poll(t, map[string]any{inURL: rec.URL + "/items"}, nil)
			require.Nil(t, res)
			require.Error(t, err)
			require.Equal(t, tt.permanent, connectors.IsPermanent(err), "%v", err)
			var se *httpclient.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.status, se.Status)
			require.ErrorContains(t, err, "poll page 1 for workflow wf_poll_test")
			d, ok := connectors.RetryDelay(err)
			require.Equal(t, tt.delay != 0, ok)
			require.Equal(t, tt.delay, d)
		})
	}

	t.Run("error on a later page", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			if pageParam(r) == 2 {
				writeJSON(w, http.StatusServiceUnavailable, nil)
				return
			}
			writeJSON(w, http.StatusOK, objs(1))
		})
		res, err := poll(t, map[string]any{inURL: rec.URL, inNext: "{page: page + 1}"}, nil)
		require.Nil(t, res, "a failed page fails the whole poll")
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err))
		require.ErrorContains(t, err, "poll page 2")
	})
}

func TestPollNotJSON(t *testing.T) {
	t.Parallel()

	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Please log in</body></html>"))
	})
	res, err := poll(t, map[string]any{inURL: rec.URL + "/feed"}, nil)
	require.Nil(t, res)
	require.Error(t, err)
	require.True(t, connectors.IsPermanent(err))
	require.ErrorContains(t, err, "response is not JSON")
	require.ErrorContains(t, err, `"text/html"`)
	require.ErrorContains(t, err, "Please log in")
	require.ErrorContains(t, err, "GET "+rec.URL+"/feed")
}

func TestPollContextCancel(t *testing.T) {
	t.Parallel()

	srv, arrived := hangingServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := runPoll(ctx, newPollCall(t, map[string]any{inURL: srv.URL}, nil))
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(connectortest.ReturnBound):
		t.Fatal("the request never reached the server")
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, connectors.IsPermanent(err))
	case <-time.After(connectortest.ReturnBound):
		t.Fatal("the poll did not return after cancellation")
	}
}

func TestPollInputErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{name: "no url", input: map[string]any{}, want: "url is required"},
		{name: "ftp url", input: map[string]any{inURL: "ftp://example.com/x"}, want: `scheme "ftp" is not http or https`},
		{name: "relative url without connection", input: map[string]any{inURL: "/items"}, want: "no connection with a base_url"},
		{name: "items not a string", input: map[string]any{inURL: "https://example.com", inItems: 3}, want: "items: expected an expression string"},
		{name: "max_pages zero", input: map[string]any{inURL: "https://example.com", inMaxPages: 0}, want: "max_pages 0 must be at least 1"},
		{name: "max_pages fraction", input: map[string]any{inURL: "https://example.com", inMaxPages: 1.5}, want: "max_pages: expected an integer"},
		{name: "max_pages string", input: map[string]any{inURL: "https://example.com", inMaxPages: "3"}, want: "max_pages: expected an integer, got string"},
		{name: "bad order", input: map[string]any{inURL: "https://example.com", inOrder: "random"}, want: `order "random" is not one of oldest_first, newest_first`},
		{name: "bad query", input: map[string]any{inURL: "https://example.com", inQuery: "a=b"}, want: "query: expected an object"},
		{name: "bad timeout", input: map[string]any{inURL: "https://example.com", inTimeout: "soon"}, want: `timeout "soon" is not a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := poll(t, tt.input, nil)
			require.Error(t, err)
			require.True(t, connectors.IsPermanent(err))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParsePollInput(t *testing.T) {
	t.Parallel()

	in, err := parsePollInput(map[string]any{inURL: "https://example.com"})
	require.NoError(t, err)
	require.Equal(t, maxPagesDefault, in.maxPages)
	require.False(t, in.newestFirst)
	require.Equal(t, timeoutDefault, in.req.timeout)

	in, err = parsePollInput(map[string]any{inURL: "https://example.com", inMaxPages: 500, inOrder: orderNewestFirst,
		inTimeout: "1h", inItems: "  body.data  "})
	require.NoError(t, err)
	require.Equal(t, maxPagesMax, in.maxPages)
	require.True(t, in.newestFirst)
	require.Equal(t, timeoutMax, in.req.timeout)
	require.Equal(t, "body.data", in.items)
}

package connectors_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/connectors"
)

type echo struct{ tag string }

func (e echo) Run(_ context.Context, call *connectors.Call) (any, error) {
	return map[string]any{"tag": e.tag, "input": call.Input}, nil
}

func testConnector(name, tag string) *connectors.Connector {
	return &connectors.Connector{Name: name, Title: "Test " + name, Actions: []*connectors.ActionDef{{
		ActionSpec: connectors.ActionSpec{Name: "send", Title: "Send"},
		New:        func() connectors.Action { return echo{tag: tag} },
	}}}
}

func runTag(t *testing.T, reg *connectors.Registry, uses string) string {
	t.Helper()
	_, a, ok := reg.Action(uses)
	require.True(t, ok, "%s is registered", uses)
	out, err := a.New().Run(context.Background(), &connectors.Call{})
	require.NoError(t, err)
	return out.(map[string]any)["tag"].(string)
}

func TestRegistryPutRemoveGeneration(t *testing.T) {
	t.Parallel()
	reg := connectors.NewRegistry()
	g0 := reg.Generation()

	require.NoError(t, reg.Register(testConnector("acme", "v1")))
	g1 := reg.Generation()
	require.Greater(t, g1, g0, "Register moves the generation")

	require.Error(t, reg.Register(testConnector("acme", "v2")), "Register refuses a taken name")
	require.Equal(t, g1, reg.Generation(), "a refused change does not move the generation")

	require.NoError(t, reg.Put(testConnector("acme", "v2")), "Put replaces")
	g2 := reg.Generation()
	require.Greater(t, g2, g1)
	require.Equal(t, "v2", runTag(t, reg, "acme.send"))

	require.NoError(t, reg.Put(testConnector("other", "o1")), "Put adds")
	require.Equal(t, []string{"acme.send", "other.send"}, reg.ActionNames())

	bad := testConnector("acme", "v3")
	bad.Title = ""
	require.ErrorContains(t, reg.Put(bad), `put connector "acme"`, "Put validates like Register")
	noFactory := testConnector("acme", "v3")
	noFactory.Actions[0].New = nil
	require.ErrorContains(t, reg.Put(noFactory), `action "send" has no factory`)
	require.ErrorContains(t, reg.Put(nil), "nil connector")
	require.Equal(t, "v2", runTag(t, reg, "acme.send"), "a refused Put keeps the connector it would replace")

	g3 := reg.Generation()
	require.True(t, reg.Remove("acme"))
	require.Greater(t, reg.Generation(), g3)
	_, ok := reg.Connector("acme")
	require.False(t, ok)
	g4 := reg.Generation()
	require.False(t, reg.Remove("acme"), "removing what is not there reports false")
	require.Equal(t, g4, reg.Generation(), "and changes nothing")
}

func TestRegistryCopiesAreIndependent(t *testing.T) {
	t.Parallel()
	base := connectors.NewRegistry()
	require.NoError(t, base.Register(testConnector("base", "b")))
	a := base.With()
	b := base.With()
	require.NoError(t, a.Put(testConnector("acme", "in-a")))
	_, inB := b.Connector("acme")
	require.False(t, inB, "a connector put into one copy is not in another")
	_, inBase := base.Connector("acme")
	require.False(t, inBase, "nor in the registry it was copied from")
	require.True(t, b.Remove("base"))
	_, stillInA := a.Connector("base")
	require.True(t, stillInA)
}

// TestRegistryConcurrentPut is for the race detector: readers resolve actions while a
// writer replaces and removes connectors.
func TestRegistryConcurrentPut(t *testing.T) {
	t.Parallel()
	reg := connectors.NewRegistry()
	require.NoError(t, reg.Put(testConnector("acme", "v0")))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, a, ok := reg.Action("acme.send"); ok {
					_, _ = a.New().Run(context.Background(), &connectors.Call{})
				}
				_ = reg.ActionNames()
				_ = reg.Generation()
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			if i%3 == 2 {
				reg.Remove("acme")
				continue
			}
			_ = reg.Put(testConnector("acme", "v"))
		}
	})
	wg.Wait()
	require.GreaterOrEqual(t, reg.Generation(), uint64(200))
}

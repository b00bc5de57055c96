package connectors

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Connector is what a connector package registers: its spec fields, its actions and its
// optional connection hooks.
type Connector struct {
	// Name is the connector's namespace ("http"); actions are used as "name.action".
	Name        string
	Title       string
	Description string
	// Origin says where the connector comes from: "" or "go" for a Go package compiled in;
	// "builtin", "api" or "dir" for a declarative connector file embedded in the binary,
	// uploaded through the API, or read from the data directory.
	Origin string
	// Version is a declarative file's own version (free text), shown in lists.
	Version string
	// Source names a declarative connector's file ("github.yaml", "api:acme").
	Source string
	// Connection lists the settings of a connection of this connector.
	Connection []Field
	// ConnectionRequired says every step using this connector must name a connection.
	ConnectionRequired bool
	Actions            []*ActionDef
	// Pollers are the connector's poll triggers ("telegram.updates").
	Pollers []*PollerDef
	// ValidateConnection checks a connection's settings beyond the field specs. Optional.
	ValidateConnection func(config map[string]any) error
	// TestConnection checks that a connection's credentials work. Optional.
	TestConnection func(ctx context.Context, conn *Connection) error
	// RegisterWebhook points the service's outgoing webhooks at a workflow (Telegram's
	// setWebhook), or removes that registration when target.Delete is set. Its result is
	// shown to the user and must hold no secret. Optional.
	RegisterWebhook func(ctx context.Context, conn *Connection, target WebhookTarget) (any, error)
}

// CommonConnectionFields are settings every connection accepts whatever its connector.
// The engine applies them around the connector's calls, so connectors need not.
var CommonConnectionFields = []Field{
	{Name: "rate_limit", Type: TypeNumber, Title: "Rate limit",
		Description: "Most calls per second through this connection, shared by the workers of one process " +
			"(a service's limit, such as Telegram's 30 messages per second). Empty or 0: no limit.",
		Examples: []any{5}},
	{Name: "rate_burst", Type: TypeInteger, Title: "Rate burst",
		Description: "Calls allowed back to back before the rate limit spaces them out. Default 1."},
}

// Spec returns the connector's spec, the data every other part of Hookflow reads. Its
// connection fields end with CommonConnectionFields when the connector has actions and
// takes connections.
func (c *Connector) Spec() Spec {
	conn := c.Connection
	// Connections of connectors without actions (webhook secrets) make no calls to limit.
	if len(c.Actions) > 0 && (len(conn) > 0 || c.ConnectionRequired) {
		conn = append(append([]Field(nil), c.Connection...), CommonConnectionFields...)
	}
	s := Spec{
		Name:               c.Name,
		Title:              c.Title,
		Description:        c.Description,
		Connection:         conn,
		ConnectionRequired: c.ConnectionRequired,
		Actions:            make([]ActionSpec, 0, len(c.Actions)),
		RegistersWebhooks:  c.RegisterWebhook != nil,
	}
	for _, p := range c.Pollers {
		s.Pollers = append(s.Pollers, p.PollerSpec)
	}
	for _, a := range c.Actions {
		s.Actions = append(s.Actions, a.ActionSpec)
	}
	return s
}

// Action returns the named action definition.
func (c *Connector) Action(name string) (*ActionDef, bool) {
	for _, a := range c.Actions {
		if a.Name == name {
			return a, true
		}
	}
	return nil, false
}

// Poller returns the named poller definition.
func (c *Connector) Poller(name string) (*PollerDef, bool) {
	for _, p := range c.Pollers {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Registry holds connectors by name. Default is the process-wide one that connector
// packages register into from init; tests and sandboxes build their own with NewRegistry,
// With and Without. An engine works on its own copy, which changes at runtime as
// declarative connector files are loaded (Put) and removed (Remove); whatever caches data
// derived from a registry compares Generation to see that it moved.
type Registry struct {
	mu         sync.RWMutex
	connectors map[string]*Connector
	// generation counts the changes; it moves under mu's write lock.
	generation atomic.Uint64
}

// Default is the registry the built-in connectors register into.
var Default = NewRegistry()

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{connectors: map[string]*Connector{}}
}

// Register adds c to the Default registry.
func Register(c *Connector) error { return Default.Register(c) }

// MustRegister adds c to the Default registry and panics on error. Call it from init.
func MustRegister(c *Connector) { Default.MustRegister(c) }

// Register adds c. It fails on an invalid spec, a duplicate name or an action without a
// factory.
func (r *Registry) Register(c *Connector) error {
	if c == nil {
		return fmt.Errorf("register connector: nil connector")
	}
	if err := check(c); err != nil {
		return fmt.Errorf("register connector %q: %w", c.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.connectors[c.Name]; dup {
		return fmt.Errorf("register connector %q: already registered", c.Name)
	}
	r.connectors[c.Name] = c
	r.generation.Add(1)
	return nil
}

// Put adds c, or replaces the connector of the same name, after the checks Register
// makes. It is how connectors loaded at runtime (declarative files) come and change.
func (r *Registry) Put(c *Connector) error {
	if c == nil {
		return fmt.Errorf("put connector: nil connector")
	}
	if err := check(c); err != nil {
		return fmt.Errorf("put connector %q: %w", c.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connectors[c.Name] = c
	r.generation.Add(1)
	return nil
}

// Remove removes the named connector and reports whether it was there.
func (r *Registry) Remove(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.connectors[name]; !ok {
		return false
	}
	delete(r.connectors, name)
	r.generation.Add(1)
	return true
}

// Generation counts the registry's changes: it moves on every Register, Put and Remove
// that changed something, so a cache built at one generation is stale at another.
func (r *Registry) Generation() uint64 { return r.generation.Load() }

// check validates a connector before it joins a registry: a valid spec and a factory for
// every action and poller.
func check(c *Connector) error {
	spec := c.Spec()
	if err := spec.Lint(); err != nil {
		return err
	}
	for _, a := range c.Actions {
		if a.New == nil {
			return fmt.Errorf("action %q has no factory", a.Name)
		}
	}
	for _, p := range c.Pollers {
		if p.New == nil {
			return fmt.Errorf("poller %q has no factory", p.Name)
		}
	}
	return nil
}

// MustRegister is Register that panics on error, for init functions.
func (r *Registry) MustRegister(c *Connector) {
	if err := r.Register(c); err != nil {
		panic(err)
	}
}

// With returns a copy of the registry with cs added, replacing connectors of the same
// name.
func (r *Registry) With(cs ...*Connector) *Registry {
	out := r.clone()
	for _, c := range cs {
		out.connectors[c.Name] = c
	}
	return out
}

// Without returns a copy of the registry without the named connectors.
func (r *Registry) Without(names ...string) *Registry {
	out := r.clone()
	for _, n := range names {
		delete(out.connectors, n)
	}
	return out
}

func (r *Registry) clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := NewRegistry()
	for k, v := range r.connectors {
		out.connectors[k] = v
	}
	return out
}

// Connector returns the named connector.
func (r *Registry) Connector(name string) (*Connector, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.connectors[name]
	return c, ok
}

// Action resolves "connector.action".
func (r *Registry) Action(uses string) (*Connector, *ActionDef, bool) {
	conn, action, ok := strings.Cut(uses, ".")
	if !ok {
		return nil, nil, false
	}
	c, found := r.Connector(conn)
	if !found {
		return nil, nil, false
	}
	a, found := c.Action(action)
	if !found {
		return nil, nil, false
	}
	return c, a, true
}

// Poller resolves "connector.poller" as trigger.poll.uses names it.
func (r *Registry) Poller(uses string) (*Connector, *PollerDef, bool) {
	conn, name, ok := strings.Cut(uses, ".")
	if !ok {
		return nil, nil, false
	}
	c, found := r.Connector(conn)
	if !found {
		return nil, nil, false
	}
	p, found := c.Poller(name)
	if !found {
		return nil, nil, false
	}
	return c, p, true
}

// PollerNames returns every "connector.poller", sorted.
func (r *Registry) PollerNames() []string {
	var out []string
	for _, c := range r.Connectors() {
		for _, p := range c.Pollers {
			out = append(out, c.Name+"."+p.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Connectors returns every connector, sorted by name.
func (r *Registry) Connectors() []*Connector {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Connector, 0, len(r.connectors))
	for _, c := range r.connectors {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ActionNames returns every "connector.action", sorted.
func (r *Registry) ActionNames() []string {
	var out []string
	for _, c := range r.Connectors() {
		for _, a := range c.Actions {
			out = append(out, c.Name+"."+a.Name)
		}
	}
	sort.Strings(out)
	return out
}

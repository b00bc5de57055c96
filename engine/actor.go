package engine

import "context"

// Actor is who calls a service method: the user behind an API token or a UI session. The
// engine's methods read it from their context to decide what the caller may do and to
// name them in the audit log, so the REST API, the UI and the CLI cannot disagree on
// permissions. A context without an actor is the system itself (the CLI run by the
// machine's operator, schedules, polls, workers): it may do everything.
type Actor struct {
	UserID string
	Email  string
	Role   string
	// Via says how the call came in: "api", "ui" or "cli".
	Via string
	// Addr is the client's network address where known, for the audit log.
	Addr string
}

type actorKey struct{}

// WithActor returns a context whose service calls act as a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx, or nil for the system.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

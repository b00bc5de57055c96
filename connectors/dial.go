package connectors

import (
	"context"
	"net"
)

// Dialer opens outbound network connections under the server's outbound network policy
// (docs/security.md): it resolves the host, checks every address against the policy, and
// connects only to addresses it allowed. A refused address is a permanent error that
// names the rule.
//
// The engine puts its Dialer in the context of every call it makes into a connector:
// actions, polls, connection tests and webhook registrations. connectors/httpclient uses
// it on its own; a connector that opens connections itself (SMTP) must dial through
// DialerFrom(ctx), never net.Dial.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

type dialerKey struct{}

// WithDialer returns a context whose outbound connections go through d. d must be
// comparable (a pointer): clients keep one connection pool per Dialer, so that a
// connection opened under one policy is never reused under another.
func WithDialer(ctx context.Context, d Dialer) context.Context {
	if d == nil {
		return ctx
	}
	return context.WithValue(ctx, dialerKey{}, d)
}

// DialerFrom returns the Dialer of ctx, or nil when it carries none.
func DialerFrom(ctx context.Context) Dialer {
	d, _ := ctx.Value(dialerKey{}).(Dialer)
	return d
}

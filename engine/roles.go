package engine

import (
	"context"
	"fmt"
)

// roleRank orders the roles: each may do what the ones below it may.
func roleRank(role string) int {
	switch role {
	case RoleAdmin:
		return 3
	case RoleEditor:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// allow returns ErrForbidden unless the actor of ctx holds at least role. The system (no
// actor) may do everything.
func allow(ctx context.Context, role, action string) error {
	a := ActorFrom(ctx)
	if a == nil || roleRank(a.Role) >= roleRank(role) {
		return nil
	}
	return forbidden(a, action, role)
}

// allowOwn is allow for what belongs to a user (its tokens): the owner needs role, an
// admin may act on anyone's.
func allowOwn(ctx context.Context, ownerID, role, action string) error {
	a := ActorFrom(ctx)
	if a == nil || a.Role == RoleAdmin || (a.UserID == ownerID && roleRank(a.Role) >= roleRank(role)) {
		return nil
	}
	if a.UserID != ownerID {
		return forbidden(a, action+" of another user", RoleAdmin)
	}
	return forbidden(a, action, role)
}

func forbidden(a *Actor, action, role string) error {
	who := a.Role
	if who == "" {
		who = "unknown"
	}
	return fmt.Errorf("%w: the %s role cannot %s; it takes %s", ErrForbidden, who, action, article(role))
}

func article(role string) string {
	if role == RoleAdmin || role == RoleEditor {
		return "an " + role
	}
	return "a " + role
}

// CanSeeSecrets reports whether the actor of ctx may see credentials such as webhook
// URLs: editors and admins, and the system; never a viewer.
func CanSeeSecrets(ctx context.Context) bool {
	a := ActorFrom(ctx)
	return a == nil || roleRank(a.Role) >= roleRank(RoleEditor)
}

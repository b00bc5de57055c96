package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/enginetest"
	"github.com/hookflow/hookflow/engine/store"
	"github.com/hookflow/hookflow/engine/store/storetest"
)

// accountsBundle is an engine on a fake clock with an admin, an editor and a viewer.
type accountsBundle struct {
	eng                   *engine.Engine
	clock                 *enginetest.Clock
	admin, editor, viewer *engine.User
}

func (b *accountsBundle) as(u *engine.User) context.Context {
	return engine.WithActor(context.Background(), &engine.Actor{UserID: u.ID, Email: u.Email, Role: u.Role, Via: "api"})
}

func setupAccounts(t *testing.T, d store.Dialect) *accountsBundle {
	t.Helper()
	clock := enginetest.NewClock(enginetest.ClockStart())
	eng := enginetest.New(t, d, enginetest.Options{Workers: -1, NoStart: true,
		Configure: func(c *engine.Config) { c.Now = clock.Now }})
	b := &accountsBundle{eng: eng.Engine, clock: clock}
	ctx := context.Background()
	var err error
	b.admin, err = eng.CreateUser(ctx, "admin@example.com", "admin-password", engine.RoleAdmin)
	require.NoError(t, err)
	b.editor, err = eng.CreateUser(ctx, "editor@example.com", "editor-password", engine.RoleEditor)
	require.NoError(t, err)
	b.viewer, err = eng.CreateUser(ctx, "viewer@example.com", "viewer-password", engine.RoleViewer)
	require.NoError(t, err)
	return b
}

func TestRolesInTheEngine(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupAccounts(t, d)
		doc := []byte(`{"name":"w","trigger":{"type":"manual"},"steps":[]}`)

		_, err := b.eng.CreateWorkflow(b.as(b.viewer), doc)
		require.ErrorIs(t, err, engine.ErrForbidden)
		require.ErrorContains(t, err, "the viewer role cannot create workflows; it takes an editor")
		wf, err := b.eng.CreateWorkflow(b.as(b.editor), doc)
		require.NoError(t, err, "editors change workflows")
		_, err = b.eng.GetWorkflow(b.as(b.viewer), wf.ID)
		require.NoError(t, err, "viewers read")
		require.ErrorIs(t, b.eng.DeleteWorkflow(b.as(b.viewer), wf.ID), engine.ErrForbidden)

		_, err = b.eng.ListUsers(b.as(b.editor))
		require.ErrorIs(t, err, engine.ErrForbidden, "users are the admins'")
		_, err = b.eng.CreateUser(b.as(b.editor), "x@example.com", "long-enough", engine.RoleAdmin)
		require.ErrorIs(t, err, engine.ErrForbidden, "an editor cannot make itself an admin")
		us, err := b.eng.ListUsers(context.Background())
		require.NoError(t, err, "the system may do everything")
		require.Len(t, us, 3)

		_, _, err = b.eng.CreateAPIToken(b.as(b.editor), engine.TokenInput{UserID: b.viewer.ID})
		require.ErrorIs(t, err, engine.ErrForbidden, "editors make their own tokens only")
		_, _, err = b.eng.CreateAPIToken(b.as(b.viewer), engine.TokenInput{})
		require.ErrorIs(t, err, engine.ErrForbidden, "viewers only read")
		_, _, err = b.eng.CreateAPIToken(b.as(b.admin), engine.TokenInput{UserID: b.viewer.ID, Name: "for viewer"})
		require.NoError(t, err, "admins make anyone's")
	})
}

func TestLastActiveAdminStays(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupAccounts(t, d)
		ctx := b.as(b.admin)
		editor, disabled := engine.RoleEditor, true
		_, err := b.eng.UpdateUser(ctx, b.admin.ID, engine.UserPatch{Role: &editor})
		require.ErrorIs(t, err, engine.ErrConflict)
		require.ErrorContains(t, err, "last active admin")
		_, err = b.eng.UpdateUser(ctx, b.admin.ID, engine.UserPatch{Disabled: &disabled})
		require.ErrorIs(t, err, engine.ErrConflict)

		admin := engine.RoleAdmin
		second, err := b.eng.UpdateUser(ctx, b.editor.ID, engine.UserPatch{Role: &admin})
		require.NoError(t, err)
		require.Equal(t, engine.RoleAdmin, second.Role)
		u, err := b.eng.UpdateUser(ctx, b.admin.ID, engine.UserPatch{Disabled: &disabled})
		require.NoError(t, err, "another admin remains")
		require.NotNil(t, u.DisabledAt)
		_, err = b.eng.UpdateUser(b.as(second), second.ID, engine.UserPatch{Role: &editor})
		require.ErrorIs(t, err, engine.ErrConflict, "the disabled admin does not count")

		bogus := "owner"
		_, err = b.eng.UpdateUser(ctx, b.viewer.ID, engine.UserPatch{Role: &bogus})
		require.ErrorContains(t, err, `"owner" is not one of`)
		_, err = b.eng.UpdateUser(ctx, "no-such-user", engine.UserPatch{Role: &editor})
		require.ErrorIs(t, err, engine.ErrNotFound)
	})
}

func TestTokensExpireRevokeAndDisable(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupAccounts(t, d)
		ed := b.as(b.editor)
		short, shortTok, err := b.eng.CreateAPIToken(ed, engine.TokenInput{Name: "ci", ExpiresIn: time.Hour})
		require.NoError(t, err)
		require.Equal(t, "hf_…"+shortTok[len(shortTok)-4:], short.Hint)
		_, longTok, err := b.eng.CreateAPIToken(ed, engine.TokenInput{Name: "laptop"})
		require.NoError(t, err)

		_, err = b.eng.Authenticate(context.Background(), shortTok)
		require.NoError(t, err)
		b.clock.Advance(time.Hour)
		_, err = b.eng.Authenticate(context.Background(), shortTok)
		require.ErrorIs(t, err, engine.ErrUnauthorized, "expired")

		past := b.clock.Now().Add(-time.Second)
		_, _, err = b.eng.CreateAPIToken(ed, engine.TokenInput{ExpiresAt: &past})
		require.ErrorContains(t, err, "must be in the future")

		ts, err := b.eng.ListTokens(ed, engine.TokenFilter{})
		require.NoError(t, err)
		require.Len(t, ts, 2, "own tokens")
		for _, tok := range ts {
			require.NotContains(t, tok.Hint, longTok[3:len(longTok)-4])
		}
		_, err = b.eng.ListTokens(ed, engine.TokenFilter{All: true})
		require.ErrorIs(t, err, engine.ErrForbidden)
		all, err := b.eng.ListTokens(b.as(b.admin), engine.TokenFilter{All: true})
		require.NoError(t, err)
		require.Len(t, all, 2)
		require.Equal(t, "editor@example.com", all[0].Email)

		_, err = b.eng.RevokeToken(b.as(b.viewer), short.ID)
		require.ErrorIs(t, err, engine.ErrForbidden, "not the viewer's")

		// A disabled user's tokens stop working, and work again once it is enabled.
		disabled, enabled := true, false
		_, err = b.eng.UpdateUser(b.as(b.admin), b.editor.ID, engine.UserPatch{Disabled: &disabled})
		require.NoError(t, err)
		_, err = b.eng.Authenticate(context.Background(), longTok)
		require.ErrorIs(t, err, engine.ErrUnauthorized, "disabled")
		_, err = b.eng.UpdateUser(b.as(b.admin), b.editor.ID, engine.UserPatch{Disabled: &enabled})
		require.NoError(t, err)
		_, err = b.eng.Authenticate(context.Background(), longTok)
		require.NoError(t, err)

		var longID string
		for _, tok := range ts {
			if tok.Name == "laptop" {
				longID = tok.ID
			}
		}
		revoked, err := b.eng.RevokeToken(ed, longID)
		require.NoError(t, err)
		require.NotNil(t, revoked.RevokedAt)
		_, err = b.eng.Authenticate(context.Background(), longTok)
		require.ErrorIs(t, err, engine.ErrUnauthorized, "revoked")
		_, err = b.eng.RevokeToken(ed, "no-such-token")
		require.ErrorIs(t, err, engine.ErrNotFound)
	})
}

// TestTokenLastUseIsBatched: many calls with one token write its last use at most once a
// minute, and Close writes what is pending.
func TestTokenLastUseIsBatched(t *testing.T) {
	t.Parallel()
	storetest.ForEachDialect(t, func(t *testing.T, d store.Dialect) {
		b := setupAccounts(t, d)
		writes := b.eng.CountTokenUseWrites()
		tok, secret, err := b.eng.CreateAPIToken(b.as(b.editor), engine.TokenInput{Name: "busy"})
		require.NoError(t, err)
		first := b.clock.Now()
		for range 100 {
			_, err := b.eng.Authenticate(context.Background(), secret)
			require.NoError(t, err)
			b.clock.Advance(100 * time.Millisecond) // 100 calls in 10 s
		}
		require.Equal(t, map[string]int{tok.ID: 1}, writes(), "one write for the first call only")
		ts, err := b.eng.ListTokens(b.as(b.editor), engine.TokenFilter{})
		require.NoError(t, err)
		require.NotNil(t, ts[0].LastUsedAt)
		require.WithinDuration(t, first, *ts[0].LastUsedAt, time.Millisecond)

		b.clock.Advance(engine.TokenUseInterval)
		for range 10 {
			_, err := b.eng.Authenticate(context.Background(), secret)
			require.NoError(t, err)
		}
		require.Equal(t, map[string]int{tok.ID: 2}, writes(), "a minute later, one more")

		b.clock.Advance(time.Second)
		_, err = b.eng.Authenticate(context.Background(), secret)
		require.NoError(t, err)
		require.NoError(t, b.eng.Close())
		require.Equal(t, map[string]int{tok.ID: 3}, writes(), "Close writes the pending use")
	})
}

// TestDisabledUserHasNoSession: disabling a user ends their sessions at once and refuses
// their sign-in as a wrong password would; a user may sign themselves out everywhere, not
// someone else.
func TestDisabledUserHasNoSession(t *testing.T) {
	t.Parallel()
	b := setupAccounts(t, store.SQLite)
	ctx := context.Background()
	token, _, err := b.eng.SignIn(ctx, "editor@example.com", "editor-password", engine.Client{Addr: "127.0.0.1"})
	require.NoError(t, err)
	_, err = b.eng.Session(ctx, token)
	require.NoError(t, err)

	require.ErrorIs(t, b.eng.SignOutEverywhere(b.as(b.viewer), b.editor.ID), engine.ErrForbidden)
	require.NoError(t, b.eng.SignOutEverywhere(b.as(b.editor), b.editor.ID))
	_, err = b.eng.Session(ctx, token)
	require.ErrorIs(t, err, engine.ErrUnauthorized, "signed out everywhere")

	token, _, err = b.eng.SignIn(ctx, "editor@example.com", "editor-password", engine.Client{Addr: "127.0.0.1"})
	require.NoError(t, err)
	disabled := true
	_, err = b.eng.UpdateUser(b.as(b.admin), b.editor.ID, engine.UserPatch{Disabled: &disabled})
	require.NoError(t, err)
	_, err = b.eng.Session(ctx, token)
	require.ErrorIs(t, err, engine.ErrUnauthorized, "a disabled user's session ends")
	_, _, err = b.eng.SignIn(ctx, "editor@example.com", "editor-password", engine.Client{Addr: "127.0.0.1"})
	require.ErrorIs(t, err, engine.ErrUnauthorized, "a disabled user cannot sign in")
}

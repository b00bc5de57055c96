package engine

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hookflow/hookflow/engine/store"
)

// Session defaults and the login throttle. The throttle lets LoginFailuresFree failures
// in a row pass, then makes each further attempt wait LoginDelayFirst, doubling, at most
// LoginDelayMax, counted per account and per client address.
const (
	SessionIdleTimeoutDefault = 7 * 24 * time.Hour
	SessionMaxAgeDefault      = 30 * 24 * time.Hour
	LoginFailuresFree         = 5
	LoginDelayFirst           = time.Second
	LoginDelayMax             = time.Minute
	// loginForget is how long a key's failures are remembered after its last one.
	loginForget = 15 * time.Minute
	// sessionTouchEvery spares a database write per page view: last_seen_at moves at
	// most this often, so the idle timeout is exact to within it.
	sessionTouchEvery = time.Minute
)

// Session is a signed-in browser.
type Session struct {
	// ID is the SHA-256 of the cookie's token, as stored.
	ID         string
	User       User
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// CSRFToken must come back with every form posted in this session.
	CSRFToken string
}

// Client describes where a sign-in comes from.
type Client struct {
	// Addr is the client's IP address, the key of the per-address throttle.
	Addr      string
	UserAgent string
}

// ThrottledError refuses a sign-in attempt made too soon after repeated failures. It
// comes before the password is checked, for known and unknown emails alike.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again in %s", e.RetryAfter.Round(time.Second))
}

// SignIn checks an email and password and opens a new session. It returns the token
// for the session cookie (only its hash is stored) and the session. A wrong password and
// an unknown email both give ErrUnauthorized after the same bcrypt work; too many
// failures give *ThrottledError.
func (e *Engine) SignIn(ctx context.Context, email, password string, client Client) (string, *Session, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	keys := []string{"email:" + email}
	if client.Addr != "" {
		keys = append(keys, "addr:"+client.Addr)
	}
	now := e.cfg.Now()
	if wait := e.logins.begin(now, keys); wait > 0 {
		e.log.Warn("Sign-in throttled", slog.String("email", email), slog.String("client_addr", client.Addr))
		return "", nil, &ThrottledError{RetryAfter: wait}
	}
	u, err := e.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.logins.undo(keys)
		return "", nil, fmt.Errorf("sign in %s: %w", email, err)
	}
	hash := dummyHash()
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	// An unknown email costs the same bcrypt comparison as a known one, so timing does
	// not tell which emails have accounts.
	// A disabled account answers as a wrong password would: its email is no secret to
	// withhold, but its password must not be confirmed either.
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil || u.DisabledAt != nil {
		e.log.Info("Sign-in failed", slog.String("email", email), slog.String("client_addr", client.Addr))
		return "", nil, fmt.Errorf("sign in %s: wrong email or password: %w", email, ErrUnauthorized)
	}
	e.logins.succeeded(keys)

	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generate session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if err := e.store.DeleteStaleSessions(ctx, u.ID, now, now.Add(-e.cfg.SessionIdleTimeout)); err != nil {
		e.log.Warn("Could not delete stale sessions", slog.String("user_id", u.ID), slog.Any("err", err))
	}
	row := &store.Session{ID: hashToken(token), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(e.cfg.SessionMaxAge), UserAgent: truncate(client.UserAgent, 512), ClientAddr: client.Addr}
	if err := e.store.CreateSession(ctx, row); err != nil {
		return "", nil, err
	}
	e.log.Info("Signed in", slog.String("user_id", u.ID), slog.String("client_addr", client.Addr))
	return token, sessionOf(row, u, token), nil
}

// Session returns the live session of a cookie token, or ErrUnauthorized. It ends a
// session idle for longer than Config.SessionIdleTimeout or older than
// Config.SessionMaxAge, and slides the idle timeout on use.
func (e *Engine) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrUnauthorized
	}
	row, u, err := e.store.SessionByID(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	if u.DisabledAt != nil {
		return nil, fmt.Errorf("user %s is disabled: %w", u.ID, ErrUnauthorized)
	}
	if !now.Before(row.ExpiresAt) || !now.Before(row.LastSeenAt.Add(e.cfg.SessionIdleTimeout)) {
		if err := e.store.DeleteSession(ctx, row.ID); err != nil {
			e.log.Warn("Could not delete an ended session", slog.String("user_id", u.ID), slog.Any("err", err))
		}
		return nil, fmt.Errorf("session of user %s ended: %w", u.ID, ErrUnauthorized)
	}
	if now.Sub(row.LastSeenAt) >= sessionTouchEvery {
		if err := e.store.TouchSession(ctx, row.ID, now); err != nil {
			return nil, err
		}
		row.LastSeenAt = now
	}
	return sessionOf(row, u, token), nil
}

// SignOut ends the session of a cookie token; an unknown token is no error.
func (e *Engine) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return e.store.DeleteSession(ctx, hashToken(token))
}

// SignOutEverywhere ends every session of a user: the user themselves, or an admin.
func (e *Engine) SignOutEverywhere(ctx context.Context, userID string) error {
	if err := allowOwn(ctx, userID, RoleViewer, "sign other users out"); err != nil {
		return err
	}
	n, err := e.store.DeleteUserSessions(ctx, userID)
	if err != nil {
		return err
	}
	e.log.Info("Signed out everywhere", slog.String("user_id", userID), slog.Int64("sessions", n))
	return nil
}

func sessionOf(row *store.Session, u *store.User, token string) *Session {
	return &Session{ID: row.ID, User: User{ID: u.ID, Email: u.Email, Role: u.Role, Locale: u.Locale, TimeZone: u.TimeZone}, CreatedAt: row.CreatedAt,
		LastSeenAt: row.LastSeenAt, ExpiresAt: row.ExpiresAt, CSRFToken: csrfToken(token)}
}

// csrfToken derives a session's form token from its cookie token. The HMAC is one-way,
// so the token in the page reveals nothing of the cookie, and every node of a cluster
// computes the same token without a shared key or a stored column.
func csrfToken(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("hookflow csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// dummyHash is compared against for unknown emails; made once, at the cost new
// passwords are hashed with.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcrypt.DefaultCost)
	if err != nil {
		panic(fmt.Sprintf("hash the dummy password: %v", err))
	}
	return h
})

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// loginThrottle counts sign-in failures per key in this process's memory. Each attempt
// counts as a failure from its start, so parallel guesses cannot all slip through
// before the first is judged; a success takes it back.
type loginThrottle struct {
	mu    sync.Mutex
	fails map[string]*loginFailures
}

type loginFailures struct {
	n    int
	last time.Time
}

// loginDelay is how long after its last failure a key with n failures must wait.
func loginDelay(n int) time.Duration {
	if n < LoginFailuresFree {
		return 0
	}
	d := LoginDelayFirst
	for i := LoginFailuresFree; i < n && d < LoginDelayMax; i++ {
		d *= 2
	}
	return min(d, LoginDelayMax)
}

// begin returns how long the attempt must still wait, or zero and counts it.
func (t *loginThrottle) begin(now time.Time, keys []string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fails == nil {
		t.fails = map[string]*loginFailures{}
	}
	if len(t.fails) > 10000 {
		for k, f := range t.fails {
			if now.Sub(f.last) > loginForget {
				delete(t.fails, k)
			}
		}
	}
	var wait time.Duration
	for _, k := range keys {
		f := t.fails[k]
		if f == nil || now.Sub(f.last) > loginForget {
			continue
		}
		wait = max(wait, f.last.Add(loginDelay(f.n)).Sub(now))
	}
	if wait > 0 {
		return wait
	}
	for _, k := range keys {
		f := t.fails[k]
		if f == nil || now.Sub(f.last) > loginForget {
			f = &loginFailures{}
			t.fails[k] = f
		}
		f.n++
		f.last = now
	}
	return 0
}

// succeeded clears the account's failures and takes the attempt back from the others.
func (t *loginThrottle) succeeded(keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, keys[0])
	t.uncount(keys[1:])
}

// undo takes back an attempt that could not be judged.
func (t *loginThrottle) undo(keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.uncount(keys)
}

func (t *loginThrottle) uncount(keys []string) {
	for _, k := range keys {
		if f := t.fails[k]; f != nil && f.n > 0 {
			f.n--
		}
	}
}

package connectors

import (
	"errors"
	"fmt"
	"time"
)

// PermanentError marks an error that retrying cannot fix: bad input, a rejected
// credential, a 4xx other than 408 and 429.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying. It returns nil for nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// RetryAfterError marks an error after which the service asked to wait a given time
// (HTTP Retry-After, Telegram's retry_after).
type RetryAfterError struct {
	Err   error
	Delay time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Delay)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter marks err as retryable no sooner than d from now. It returns nil for nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryAfterError{Err: err, Delay: d}
}

// IsPermanent reports whether err, or an error it wraps, is marked permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryDelay returns the wait the service asked for, if err carries one.
func RetryDelay(err error) (time.Duration, bool) {
	var r *RetryAfterError
	if errors.As(err, &r) {
		return r.Delay, true
	}
	return 0, false
}

// WaitError asks the runner to call the action again at Until, without counting a
// failed attempt: the run waits durably (no goroutine held), as core.delay does.
type WaitError struct {
	Until time.Time
}

func (e *WaitError) Error() string {
	return "waiting until " + e.Until.UTC().Format(time.RFC3339)
}

// WaitUntil asks to be called again at t.
func WaitUntil(t time.Time) error { return &WaitError{Until: t} }

// WaitTime returns when the action asked to be called again, if err is a WaitError.
func WaitTime(err error) (time.Time, bool) {
	var w *WaitError
	if errors.As(err, &w) {
		return w.Until, true
	}
	return time.Time{}, false
}

package store

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListenRuns calls wake whenever another process announces a due run, and cancel with a
// run's id when a process asks a running run to stop, until ctx ends. On PostgreSQL it
// holds a LISTEN connection, reconnecting after failures; on SQLite it returns at once,
// since polling and the in-process wake-up cover a single machine.
func (s *Store) ListenRuns(ctx context.Context, wake func(), cancel func(runID string)) {
	if s.dialect != Postgres {
		return
	}
	backoff := listenRetryMin
	for ctx.Err() == nil {
		listening, err := s.listenOnce(ctx, wake, cancel)
		if ctx.Err() != nil {
			return
		}
		if listening {
			// The session worked until it broke: this is a new outage, not the next try
			// of the last one, so it starts again from the shortest delay.
			backoff = listenRetryMin
		}
		s.log.Warn("Run notifications lost, reconnecting", slog.Any("err", err), slog.Duration("in", backoff))
		// Missed notifications are covered by the next poll; wake now to be safe.
		wake()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, listenRetryMax)
	}
}

// Reconnections of the LISTEN session start after listenRetryMin and double up to
// listenRetryMax while they keep failing.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 10 * time.Second
)

// listenOnce holds one LISTEN session until it fails. listening reports whether the
// session got as far as listening.
func (s *Store) listenOnce(ctx context.Context, wake func(), cancel func(string)) (listening bool, err error) {
	conn, err := pgx.Connect(ctx, s.direct)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return false, err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if id, ok := strings.CutPrefix(n.Payload, cancelPrefix); ok {
			cancel(id)
			continue
		}
		wake()
	}
}

package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListenRuns calls wake whenever another process announces a due run, until ctx ends.
// On PostgreSQL it holds a LISTEN connection, reconnecting after failures; on SQLite it
// returns at once, since polling and the in-process wake-up cover a single machine.
func (s *Store) ListenRuns(ctx context.Context, wake func()) {
	if s.dialect != Postgres {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("Run notifications lost, reconnecting", slog.Any("err", err), slog.Duration("in", backoff))
		// Missed notifications are covered by the next poll; wake now to be safe.
		wake()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, wake func()) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

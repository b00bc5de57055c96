package runner

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWithAttrsWritesLikeWith: a logger from withAttrs writes the same lines as one
// from slog's With, nested, with groups, and filters by the base handler's level.
func TestWithAttrsWritesLikeWith(t *testing.T) {
	t.Parallel()
	write := func(with func(*slog.Logger, ...slog.Attr) *slog.Logger) string {
		var buf bytes.Buffer
		base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo,
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			}}))
		run := with(base, slog.String("run_id", "r1"), slog.String("workflow_id", "w1"))
		step := with(run, slog.String("step_id", "s1"))
		step.Debug("hidden", slog.Int("n", 0))
		step.Warn("step failed", slog.Int("n", 1))
		run.Info("run line")
		step.With("k", "v").WithGroup("g").Error("grouped", slog.Int("n", 2))
		return buf.String()
	}
	want := write(func(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
		args := make([]any, len(attrs))
		for i, a := range attrs {
			args[i] = a
		}
		return l.With(args...)
	})
	got := write(withAttrs)
	require.Equal(t, want, got)
	require.Contains(t, got, `level=WARN msg="step failed" run_id=r1 workflow_id=w1 step_id=s1 n=1`)
	require.NotContains(t, got, "hidden")
	require.False(t, withAttrs(slog.New(slog.DiscardHandler)).Enabled(context.Background(), slog.LevelError))
}

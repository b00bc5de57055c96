package runner

import (
	"context"
	"log/slog"
	"slices"
)

// withAttrs is log.With(attrs...) that defers the handler's work until a record is
// written. slog's built-in handlers format attributes when With is called, which the
// runner did twice per run for loggers that, at the default level, almost never write.
func withAttrs(log *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	if l, ok := log.Handler().(*lazyHandler); ok {
		return slog.New(&lazyHandler{base: l.base, attrs: append(slices.Clip(l.attrs), attrs...)})
	}
	return slog.New(&lazyHandler{base: log.Handler(), attrs: attrs})
}

// lazyHandler holds attributes for its base handler and hands them over only for a
// record that is enabled.
type lazyHandler struct {
	base  slog.Handler
	attrs []slog.Attr
}

func (h *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.base.WithAttrs(h.attrs).Handle(ctx, r)
}

func (h *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lazyHandler{base: h.base, attrs: append(slices.Clip(h.attrs), attrs...)}
}

// WithGroup applies the held attributes first: they belong outside the group.
func (h *lazyHandler) WithGroup(name string) slog.Handler {
	return h.base.WithAttrs(h.attrs).WithGroup(name)
}

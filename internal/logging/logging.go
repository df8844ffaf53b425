// Package logging builds the server's slog logger over a buffered writer:
// one write(2) per request for the access log costs more than the rest of a
// cached request, so lines are collected and written every flush interval,
// and at once for warnings and errors.
package logging

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Buffered is an io.Writer that buffers until Flush.
type Buffered struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// NewBuffered buffers writes to w.
func NewBuffered(w io.Writer) *Buffered {
	return &Buffered{w: bufio.NewWriterSize(w, 64<<10)}
}

func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes what is buffered.
func (b *Buffered) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Run flushes every interval until ctx ends, then once more.
func (b *Buffered) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = b.Flush()
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}

// flushOnWarn flushes the buffer after every record at Warn or above, so
// problems reach the log at once.
type flushOnWarn struct {
	slog.Handler
	b *Buffered
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.b.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.b}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.b}
}

// New returns a logger writing through b with the given handler constructor
// (slog.NewJSONHandler or slog.NewTextHandler).
func New(b *Buffered, newHandler func(io.Writer, *slog.HandlerOptions) slog.Handler, opts *slog.HandlerOptions) *slog.Logger {
	return slog.New(flushOnWarn{newHandler(b, opts), b})
}

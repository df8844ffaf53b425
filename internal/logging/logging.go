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
	"strconv"
	"sync"
	"time"

	"github.com/cozeauth/cozeauth/internal/jsonstr"
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

// handler flushes the buffer after every record at Warn or above, so
// problems reach the log at once. The JSON logger New makes also writes the
// access log's lines itself (WriteAccess).
type handler struct {
	slog.Handler
	b *Buffered
	// json: the logger New made with JSON lines, without attributes or
	// groups added since, whose lines WriteAccess can write.
	json bool
}

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.b.Flush()
	}
	return err
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs), h.b, false}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.Handler.WithGroup(name), h.b, false}
}

// New returns a logger writing through b, JSON lines when json, else text.
func New(b *Buffered, json bool, opts *slog.HandlerOptions) *slog.Logger {
	if json {
		return slog.New(handler{slog.NewJSONHandler(b, opts), b, true})
	}
	return slog.New(handler{slog.NewTextHandler(b, opts), b, false})
}

// Access is the access log's record of one request.
type Access struct {
	Time                time.Time
	Method, Path, Route string
	Status              int
	DurationUS          int64
	LogID               string
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// WriteAccess writes a's line, the same bytes as slog's JSON handler would
// write for the record "request" with a's fields as attributes, when h is a
// JSON logger's handler from New; it reports false when it is not (the
// caller logs a with slog). The line is appended to a pooled buffer: no
// record, no attribute values, no reflection.
func WriteAccess(h slog.Handler, a Access) bool {
	jh, ok := h.(handler)
	if !ok || !jh.json {
		return false
	}
	bp := linePool.Get().(*[]byte)
	line := append((*bp)[:0], `{"time":"`...)
	line = a.Time.AppendFormat(line, time.RFC3339Nano)
	line = append(line, `","level":"INFO","msg":"request","method":`...)
	line = jsonstr.AppendSlog(line, a.Method)
	line = append(line, `,"path":`...)
	line = jsonstr.AppendSlog(line, a.Path)
	line = append(line, `,"route":`...)
	line = jsonstr.AppendSlog(line, a.Route)
	line = append(line, `,"status":`...)
	line = strconv.AppendInt(line, int64(a.Status), 10)
	line = append(line, `,"duration_us":`...)
	line = strconv.AppendInt(line, a.DurationUS, 10)
	line = append(line, `,"logid":`...)
	line = jsonstr.AppendSlog(line, a.LogID)
	line = append(line, "}\n"...)
	_, _ = jh.b.Write(line)
	*bp = line
	linePool.Put(bp)
	return true
}

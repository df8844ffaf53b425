package logging

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestBufferedLogger(t *testing.T) {
	out := &syncBuf{}
	b := NewBuffered(out)
	log := New(b, func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewJSONHandler(w, o) }, nil)
	log.Info("request", "status", 200)
	if out.String() != "" {
		t.Fatal("info line written before a flush")
	}
	log.With("k", "v").Warn("trouble")
	if s := out.String(); !strings.Contains(s, `"msg":"request"`) || !strings.Contains(s, `"msg":"trouble"`) {
		t.Fatalf("a warning did not flush the buffer: %q", s)
	}
	log.Info("later")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx, time.Hour); close(done) }()
	cancel()
	<-done
	if !strings.Contains(out.String(), `"msg":"later"`) {
		t.Fatal("stopping did not flush")
	}
}

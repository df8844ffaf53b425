package logging

import (
	"bytes"
	"context"
	"encoding/json"
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
	log := New(b, true, nil)
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

// TestWriteAccess: the access log's own line is byte for byte what slog's
// JSON handler writes for the same record, whatever the request's path
// holds; other loggers leave the line to slog.
func TestWriteAccess(t *testing.T) {
	at := time.Date(2026, 12, 3, 17, 4, 5, 123456789, time.FixedZone("CST", 8*3600))
	for _, a := range []Access{
		{Time: at, Method: "GET", Path: "/v1/users/me", Route: "GET /v1/users/me", Status: 200, DurationUS: 123, LogID: "20261203170405abcdef"},
		{Time: at.UTC().Truncate(time.Second), Method: "POST", Path: "/a\"b\\c\n\r\t\x00\x1f\x7f<>&", Route: "unmatched", Status: 404, DurationUS: 0, LogID: ""},
		{Time: at, Method: "PATCH", Path: "/\xff\xfe/ü/\u2028\u2029/日本", Route: "x", Status: 599, DurationUS: 1 << 40, LogID: "id"},
	} {
		var want, got bytes.Buffer
		slog.New(slog.NewJSONHandler(&want, nil)).LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("method", a.Method), slog.String("path", a.Path), slog.String("route", a.Route),
			slog.Int("status", a.Status), slog.Int64("duration_us", a.DurationUS), slog.String("logid", a.LogID))
		// slog stamps the record with the time of the call: put a's in.
		var fields map[string]any
		if err := json.Unmarshal(want.Bytes(), &fields); err != nil {
			t.Fatal(err)
		}
		wantLine := strings.Replace(want.String(), `"time":"`+fields["time"].(string)+`"`, `"time":"`+a.Time.Format(time.RFC3339Nano)+`"`, 1)

		b := NewBuffered(&got)
		if !WriteAccess(New(b, true, nil).Handler(), a) {
			t.Fatal("WriteAccess declined the JSON logger's handler")
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != wantLine {
			t.Errorf("access line\n got %s want %s", got.String(), wantLine)
		}
	}
	b := NewBuffered(io.Discard)
	for name, h := range map[string]slog.Handler{
		"text":       New(b, false, nil).Handler(),
		"with attrs": New(b, true, nil).With("k", "v").Handler(),
		"group":      New(b, true, nil).WithGroup("g").Handler(),
		"other":      slog.NewJSONHandler(io.Discard, nil),
	} {
		if WriteAccess(h, Access{Time: time.Now(), Method: "GET"}) {
			t.Errorf("%s: WriteAccess wrote a line it cannot write as that logger would", name)
		}
	}
}

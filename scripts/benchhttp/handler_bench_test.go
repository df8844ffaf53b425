package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/logging"
	"github.com/cozeauth/cozeauth/internal/server"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// These benchmarks call the handlers directly, without sockets, to split the
// per-request cost the HTTP load measures into its parts: the server's
// handler chain (middleware, bearer authentication, envelope) with and
// without the access log, against the bare handler the load compares with.
// The network and net/http's connection handling, which both sides pay
// alike, are left out.

// nullWriter is a ResponseWriter that keeps nothing but the headers map,
// which is reused.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

func serveLoop(b *testing.B, h http.Handler, token string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/v1/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := &nullWriter{h: http.Header{}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET /v1/users/me: %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// handlerFixture seeds a small SQLite store (the store size does not matter
// once the PAT is cached) and returns the server config and the PAT.
func handlerFixture(b *testing.B) (*sqlstore.DB, string) {
	b.Helper()
	ctx := context.Background()
	d, err := createDatabase(ctx, "", b.TempDir(), "handler")
	if err != nil {
		b.Fatal(err)
	}
	sd, err := seed(ctx, d, 100, func(string, ...any) {})
	if err != nil {
		b.Fatal(err)
	}
	s, err := sqlstore.Open(ctx, d.dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, sd.token
}

func benchServer(b *testing.B, accessLog bool, logTo io.Writer) {
	s, token := handlerFixture(b)
	cfg := config.Default()
	cfg.DB, cfg.AccessLog = "sqlite:unused.db", accessLog
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(cfg, s, logger(cfg, logTo))
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	serveLoop(b, h, token)
}

// BenchmarkHandlerServerAccessLogFile: as shipped, with the JSON access log
// written to a file (one write(2) per request).
func BenchmarkHandlerServerAccessLogFile(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	benchServer(b, true, f)
}

// BenchmarkHandlerServerAccessLogDiscard: the access log formatted but
// written nowhere, to separate formatting from the write.
func BenchmarkHandlerServerAccessLogDiscard(b *testing.B) {
	benchServer(b, true, io.Discard)
}

// BenchmarkHandlerServerNoAccessLog: --access-log=false.
func BenchmarkHandlerServerNoAccessLog(b *testing.B) {
	benchServer(b, false, io.Discard)
}

// BenchmarkHandlerBare: the handler the load compares with.
func BenchmarkHandlerBare(b *testing.B) {
	body := []byte(`{"code":0,"msg":"","data":{"user_id":"7000000000000000001","user_name":"bench","nick_name":"Bench User","avatar_url":""},"detail":{"logid":"20260101000000aaaaaaaaaaaaaaaaaaaa"}}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh := w.Header()
		wh.Set("Content-Type", "application/json; charset=utf-8")
		wh.Set("Cache-Control", "no-store")
		wh.Set("X-Tt-Logid", "20260101000000aaaaaaaaaaaaaaaaaaaa")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	serveLoop(b, h, "unused")
}

// BenchmarkAccessLogLine: one access-log line as the middleware writes it,
// to a discarding JSON handler.
func BenchmarkAccessLogLine(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	b.ReportAllocs()
	for b.Loop() {
		log.Info("request", "method", "GET", "path", "/v1/users/me", "route", "GET /v1/users/me",
			"status", 200, "duration_ms", float64(123)/1000, "logid", "20260101000000aaaaaaaaaaaaaaaaaaaa")
	}
}

// BenchmarkAccessLogLineAttrs: the same line through LogAttrs with typed
// attributes (no boxing into any) and the duration as integer microseconds
// (slog's JSON handler formats float64 through encoding/json).
func BenchmarkAccessLogLineAttrs(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("path", "/v1/users/me"),
			slog.String("route", "GET /v1/users/me"), slog.Int("status", 200), slog.Int64("duration_us", 123),
			slog.String("logid", "20260101000000aaaaaaaaaaaaaaaaaaaa"))
	}
}

// BenchmarkAccessLogLineFile: the line as shipped, written to a file with
// one write(2) per line.
func BenchmarkAccessLogLineFile(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	log := slog.New(slog.NewJSONHandler(f, nil))
	b.ReportAllocs()
	for b.Loop() {
		log.Info("request", "method", "GET", "path", "/v1/users/me", "route", "GET /v1/users/me",
			"status", 200, "duration_ms", float64(123)/1000, "logid", "20260101000000aaaaaaaaaaaaaaaaaaaa")
	}
}

// BenchmarkAccessLogLineFileBuffered: as BenchmarkAccessLogLineFile through
// a 64 KiB buffer (a real server would also flush it on a timer and at
// shutdown; slog's handlers serialize writes, so the buffer needs no lock of
// its own).
func BenchmarkAccessLogLineFileBuffered(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 64<<10)
	defer w.Flush()
	log := slog.New(slog.NewJSONHandler(w, nil))
	b.ReportAllocs()
	for b.Loop() {
		log.Info("request", "method", "GET", "path", "/v1/users/me", "route", "GET /v1/users/me",
			"status", 200, "duration_ms", float64(123)/1000, "logid", "20260101000000aaaaaaaaaaaaaaaaaaaa")
	}
}

// BenchmarkAccessLogLineWriteAccess: the line as the middleware writes it
// now, appended by logging.WriteAccess into a pooled buffer.
func BenchmarkAccessLogLineWriteAccess(b *testing.B) {
	h := logging.New(logging.NewBuffered(io.Discard), true, nil).Handler()
	a := logging.Access{Time: time.Now(), Method: "GET", Path: "/v1/users/me", Route: "GET /v1/users/me", Status: 200,
		DurationUS: 123, LogID: "20260101000000aaaaaaaaaaaaaaaaaaaa"}
	b.ReportAllocs()
	for b.Loop() {
		logging.WriteAccess(h, a)
	}
}

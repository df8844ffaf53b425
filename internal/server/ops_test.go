package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// TestOperatorEndpoints: HSTS when the public URL is https; /metrics behind
// --metrics-token, or only on --metrics-addr (issue 11.16).
func TestOperatorEndpoints(t *testing.T) {
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	build := func(mut func(*config.Config)) *Server {
		cfg := config.Default()
		cfg.AccessLog = false
		mut(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		srv, err := New(cfg, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	get := func(h http.Handler, path, auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name           string
		mut            func(*config.Config)
		path, auth     string
		viaMetricsOnly bool
		status         int
		hsts           bool
	}{
		{"plain http: no HSTS, open metrics", func(*config.Config) {}, "/metrics", "", false, 200, false},
		{"https public URL: HSTS", func(c *config.Config) { c.PublicURL = "https://coze.example.com" }, "/healthz", "", false, 200, true},
		{"metrics token: none sent", func(c *config.Config) { c.MetricsToken = "s3cret" }, "/metrics", "", false, 401, false},
		{"metrics token: wrong", func(c *config.Config) { c.MetricsToken = "s3cret" }, "/metrics", "Bearer nope", false, 401, false},
		{"metrics token: right", func(c *config.Config) { c.MetricsToken = "s3cret" }, "/metrics", "Bearer s3cret", false, 200, false},
		{"metrics addr: not on the main address", func(c *config.Config) { c.MetricsAddr = "127.0.0.1:9464" }, "/metrics", "", false, 404, false},
		{"metrics addr: on its own handler", func(c *config.Config) { c.MetricsAddr = "127.0.0.1:9464" }, "/metrics", "", true, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := build(tc.mut)
			h := srv.Handler()
			if tc.viaMetricsOnly {
				h = srv.MetricsOnly()
			}
			rec := get(h, tc.path, tc.auth)
			if rec.Code != tc.status {
				t.Errorf("GET %s: %d, want %d", tc.path, rec.Code, tc.status)
			}
			if got := rec.Header().Get("Strict-Transport-Security") != ""; got != tc.hsts {
				t.Errorf("Strict-Transport-Security present = %v, want %v", got, tc.hsts)
			}
		})
	}
}

// TestReadinessFollowsTheDatabaseFile: a SQLite file moved away while
// serving makes /readyz 503 with the reason, instead of staying 200 while
// writes go to an unlinked file (issue 11.5, 11.13).
func TestReadinessFollowsTheDatabaseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cfg := config.Default()
	cfg.AccessLog = false
	srv, err := New(cfg, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.probeHealth(ctx, 5*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })
	ready := func() (int, string) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	waitFor := func(want int, saying string) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body := ready()
			if code == want && strings.Contains(body, saying) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz stayed %d (%s), want %d saying %q", code, body, want, saying)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(http.StatusOK, "ready")
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	waitFor(http.StatusServiceUnavailable, "moved or deleted")
	if err := os.Rename(path+".moved", path); err != nil {
		t.Fatal(err)
	}
	waitFor(http.StatusOK, "ready")
}

// TestAccessLogLine: with the shipped logger (config.Logger, JSON) every
// request is one access-log line with its method, path, route, status,
// duration and log ID, the one its response carries.
func TestAccessLogLine(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.AccessLog = true })
	out := &lockedBuffer{}
	log, buf := e.srv.cfg.Logger(out)
	srv, err := New(e.srv.cfg, e.s, log)
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	for _, tc := range []struct{ path, auth, route string }{
		{"/v1/users/me", "Bearer " + e.full, "GET /v1/users/me"},
		{"/v1/users/me", "", "GET /v1/users/me"},
		{"/no/such/päth", "", "/"}, // the catch-all pattern
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if err := buf.Flush(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var line struct {
			Time       time.Time `json:"time"`
			Level, Msg string
			Method     string `json:"method"`
			Path       string `json:"path"`
			Route      string `json:"route"`
			Status     int    `json:"status"`
			DurationUS *int64 `json:"duration_us"`
			LogID      string `json:"logid"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
			t.Fatalf("GET %s: last log line %q: %v", tc.path, lines[len(lines)-1], err)
		}
		if line.Msg != "request" || line.Level != "INFO" || line.Method != "GET" || line.Path != tc.path || line.Route != tc.route ||
			line.Status != rec.Code || line.DurationUS == nil || line.LogID == "" || line.LogID != rec.Header().Get("X-Tt-Logid") ||
			time.Since(line.Time) > time.Minute {
			t.Errorf("GET %s (HTTP %d, logid %s): access line %+v", tc.path, rec.Code, rec.Header().Get("X-Tt-Logid"), line)
		}
	}
}

package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cozeauth/cozeauth/internal/config"
)

// discard is a ResponseWriter that keeps nothing, so the benchmark measures
// the server's handler chain rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkUsersMe is the whole handler chain (middleware, routing, bearer
// authentication from the cache, the envelope) for GET /v1/users/me with a
// PAT; the access log is off as in newEnv.
func BenchmarkUsersMe(b *testing.B) {
	e := newEnv(b)
	req := httptest.NewRequest(http.MethodGet, "/v1/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+e.full)
	w := &discard{h: http.Header{}}
	e.h.ServeHTTP(w, req) // warm the caches
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.h.ServeHTTP(w, req)
	}
}

// BenchmarkCheck is the whole handler chain for POST
// /api/cozeauth/v1/authz/check (Bot.chat on a bot) with a PAT: what every
// resource server asks, body decoding and the decision included.
func BenchmarkCheck(b *testing.B) {
	e := newEnv(b)
	body := []byte(`{"permission":"Bot.chat","resource":{"type":"bot","id":"` + e.botWS2 + `"}}`)
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/api/cozeauth/v1/authz/check", rd)
	req.Header.Set("Authorization", "Bearer "+e.full)
	req.Header.Set("Content-Type", "application/json")
	w := &discard{h: http.Header{}}
	serve := func() {
		clear(w.h)
		rd.Reset(body)
		req.URL.Path = "/api/cozeauth/v1/authz/check"
		e.h.ServeHTTP(w, req)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req) // warm the caches
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"allowed":true`) {
		b.Fatalf("check answered %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

// BenchmarkGatewayChat is the gateway's whole path for POST /v3/chat (the
// bot in the JSON body) with a PAT: middleware, route match, body
// inspection, the decision from the caches, and the reverse proxy to a
// loopback upstream answering a small JSON.
func BenchmarkGatewayChat(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":0,"msg":"","data":{"id":"1","status":"in_progress"}}`))
	}))
	defer up.Close()
	e := newEnvWith(b, func(c *config.Config) { c.Upstream = up.URL })
	body := `{"bot_id":"` + e.botWS2 + `","user_id":"u","stream":false,"additional_messages":[{"role":"user","content":"hi"}]}`
	serve := func() int {
		req := httptest.NewRequest(http.MethodPost, "/v3/chat", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.full)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		return w.Code
	}
	if code := serve(); code != http.StatusOK {
		b.Fatalf("gateway answered %d", code)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

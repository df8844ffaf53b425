package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
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

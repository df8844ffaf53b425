package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/cozeauth/cozeauth/internal/openapi"
)

// hstsMaxAge is two years (RFC 6797 §6.1.1; the preload list's minimum is one).
const hstsHeader = "max-age=63072000; includeSubDomains"

// withHSTS tells browsers to use https only, when the public URL is https
// (RFC 6797; sent on every response, since it is ignored over http anyway).
func withHSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsHeader)
		next.ServeHTTP(w, r)
	})
}

// metricsGuard lets a request through to /metrics only with "Authorization:
// Bearer <token>" when a token is configured (compared in constant time).
func metricsGuard(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := openapi.BearerToken(r)
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, strings.TrimSpace("metrics need the --metrics-token as a Bearer token"), http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// MetricsOnly serves GET /metrics alone, for --metrics-addr.
func (s *Server) MetricsOnly() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler)
	return mux
}

package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/cozeauth/cozeauth/internal/openapi"
)

// hstsHeader asks for https for two years (RFC 6797 §6.1.1; the preload
// list's minimum is one).
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
			http.Error(w, "metrics need the --metrics-token as a Bearer token", http.StatusUnauthorized)
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

// healthChecker is what the store offers beyond Ping: whether it can still
// serve (the SQLite file is the one opened, a write commits).
type healthChecker interface {
	Healthy(ctx context.Context) error
}

// health is the last verdict of the periodic health probe.
type health struct {
	mu   sync.Mutex
	err  error
	seen bool // a probe has run
}

func (h *health) set(err error) (changed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	changed = !h.seen || (h.err == nil) != (err == nil) || (err != nil && h.err.Error() != err.Error())
	h.err, h.seen = err, true
	return changed
}

func (h *health) get() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// healthProbeTimeout bounds one health probe.
const healthProbeTimeout = 5 * time.Second

// probeHealth runs the store's health check every interval (a cheap write)
// so that readiness reflects writability; a change of verdict is logged
// once, an unhealthy one as an error that says why.
func (s *Server) probeHealth(ctx context.Context, interval time.Duration) {
	hc, ok := s.store.(healthChecker)
	if !ok {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		// A bound of its own, not the interval: a slow machine must not read
		// as an unhealthy database.
		pctx, cancel := context.WithTimeout(ctx, max(interval, healthProbeTimeout))
		err := hc.Healthy(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if s.health.set(err) {
			if err != nil {
				s.log.Error("database unhealthy: not ready until this is fixed", "err", err)
			} else {
				s.log.Info("database healthy")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

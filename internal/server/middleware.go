package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cozeauth/cozeauth/internal/logging"
	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/openapi"
	"github.com/cozeauth/cozeauth/internal/store"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// dbTimeouts counts requests during which a database call ran out of
	// --db-timeout (answered 503 unless the handler could do without it).
	dbTimeouts *prometheus.CounterVec
	// decisions counts OpenAPI answers by route and Coze code (0: allowed;
	// a request forwarded to the upstream counts as 0).
	decisions *prometheus.CounterVec
	tokens    *prometheus.CounterVec
	signIns   *prometheus.CounterVec
	routes    sync.Map // route → *routeMetrics
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cozeauth_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cozeauth_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		dbTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cozeauth_db_timeouts_total",
			Help: "Requests during which a database call ran out of --db-timeout (no connection or no answer in time), by route.",
		}, []string{"route"}),
	}
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cozeauth_openapi_decisions_total",
		Help: "OpenAPI authorization decisions by route and Coze code (0 allowed, 4000 bad request, 4100 unauthenticated, 4101 forbidden, 4200 not found, …).",
	}, []string{"route", "code"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cozeauth_oauth_token_requests_total",
		Help: "OAuth /token requests by grant and outcome (issued, or the OAuth error code answered).",
	}, []string{"grant", "outcome"})
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cozeauth_signins_total",
		Help: "Console sign-ins by outcome (success, wrong_password, unknown_user, rate_limited, busy).",
	}, []string{"outcome"})
	reg.MustRegister(m.requests, m.duration, m.dbTimeouts, m.decisions, m.tokens, m.signIns)
	return m
}

// routeMetrics are one route's instruments, looked up once: a labelled
// lookup hashes its label values on every call.
type routeMetrics struct {
	requests   *prometheus.CounterVec
	decisions  *prometheus.CounterVec
	route      string
	duration   prometheus.Observer
	byStatus   sync.Map // HTTP status → prometheus.Counter
	byDecision sync.Map // Coze code → prometheus.Counter
}

func (rm *routeMetrics) status(code int) prometheus.Counter {
	return counterOf(&rm.byStatus, rm.requests, rm.route, code)
}

func (rm *routeMetrics) decision(code int) prometheus.Counter {
	return counterOf(&rm.byDecision, rm.decisions, rm.route, code)
}

// counterOf returns vec's counter of route and code, kept in m.
func counterOf(m *sync.Map, vec *prometheus.CounterVec, route string, code int) prometheus.Counter {
	if c, ok := m.Load(code); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.LoadOrStore(code, vec.WithLabelValues(route, strconv.Itoa(code)))
	return c.(prometheus.Counter)
}

// route returns the instruments of a route pattern (a bounded set: the mux's
// patterns, the catalog's routes and "unmatched").
func (m *metrics) route(route string) *routeMetrics {
	if rm, ok := m.routes.Load(route); ok {
		return rm.(*routeMetrics)
	}
	rm, _ := m.routes.LoadOrStore(route, &routeMetrics{requests: m.requests, decisions: m.decisions, route: route, duration: m.duration.WithLabelValues(route)})
	return rm.(*routeMetrics)
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// request is what the middleware keeps of each request, in one allocation:
// its response writer and its context, which carries the log ID, the
// OpenAPI outcome and the store's values (the call bound and the actor)
// itself instead of in a chain of context.WithValue.
type request struct {
	sw          statusWriter
	ctx         requestContext
	outcome     openapi.Outcome
	logIDHeader [1]string
}

type requestContext struct {
	context.Context
	id      any // the log ID, boxed once
	outcome *openapi.Outcome
	store   store.RequestValues
}

func (c *requestContext) Value(key any) any {
	switch key {
	case logid.Key:
		return c.id
	case openapi.OutcomeKey:
		return c.outcome
	}
	if v, ok := c.store.Lookup(key); ok {
		return v
	}
	return c.Context.Value(key)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// collapseSlashes turns "//api//x" into "/api/x": Go and JS SDKs keep a
// trailing slash of the base URL (WIRE.md §1.1).
func collapseSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// middleware wraps mux with path normalisation, the log ID, the bound of
// each database call (--db-timeout), panic recovery, metrics and the access
// log.
func (s *Server) middleware(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r.URL.Path = collapseSlashes(r.URL.Path)
		if r.URL.RawPath != "" {
			r.URL.RawPath = collapseSlashes(r.URL.RawPath)
		}
		id := logid.New(start)
		rq := &request{sw: statusWriter{ResponseWriter: w}, logIDHeader: [1]string{id}}
		w.Header()[logid.Header] = rq.logIDHeader[:] // the key is canonical
		sw := &rq.sw
		rq.ctx = requestContext{Context: r.Context(), id: id, outcome: &rq.outcome}
		// The audit log's actor until a handler knows better: the client's
		// IP and this request's log ID.
		rq.ctx.store.Set(s.cfg.DBTimeout, store.Actor{Type: store.ActorAnonymous, IP: s.clientIP.IP(r), LogID: id})
		r = r.WithContext(&rq.ctx)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "panic", fmt.Sprint(v), "logid", id, "path", r.URL.Path)
				if sw.status == 0 {
					openapi.WriteError(sw, r, s.log, fmt.Errorf("panic: %v", v))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			rm := s.metrics.route(route)
			rm.status(sw.status).Inc()
			rm.duration.Observe(elapsed.Seconds())
			if store.CallTimedOut(r.Context()) {
				s.metrics.dbTimeouts.WithLabelValues(route).Inc()
			}
			if o := &rq.outcome; o.Decided || o.CredentialID != "" {
				rm.decision(o.Code).Inc()
				if o.Code != openapi.CodeOK && o.Code < openapi.CodeInternal {
					// One line per refusal: why, and whose credential (its ID, never the token).
					s.log.LogAttrs(r.Context(), slog.LevelInfo, "request refused", slog.String("route", route),
						slog.Int("code", o.Code), slog.String("reason", o.Reason),
						slog.String("credential_id", o.CredentialID), slog.String("logid", id))
				}
			}
			if h := s.log.Handler(); s.cfg.AccessLog && h.Enabled(r.Context(), slog.LevelInfo) {
				a := logging.Access{Time: start.Add(elapsed), Method: r.Method, Path: r.URL.Path, Route: route,
					Status: sw.status, DurationUS: elapsed.Microseconds(), LogID: id}
				if !logging.WriteAccess(h, a) {
					// Typed attributes (no boxing, no float formatting) in a
					// record made here: no caller PC to look up.
					rec := slog.NewRecord(a.Time, slog.LevelInfo, "request", 0)
					rec.AddAttrs(slog.String("method", a.Method), slog.String("path", a.Path), slog.String("route", a.Route),
						slog.Int("status", a.Status), slog.Int64("duration_us", a.DurationUS), slog.String("logid", a.LogID))
					_ = h.Handle(r.Context(), rec)
				}
			}
		}()
		mux.ServeHTTP(sw, r)
	})
}

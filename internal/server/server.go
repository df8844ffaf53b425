// Package server builds every handler and mounts the routes; it is the one
// place where the feature packages are wired together.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/clientip"
	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/cors"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/gateway"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/openapi"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/sandbox"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/web"
)

// Server is a configured cozeauth HTTP server.
type Server struct {
	cfg      config.Config
	store    store.Store
	log      *slog.Logger
	handler  http.Handler
	gen      *cache.Generation
	lastUsed *credential.LastUsed
	metrics  *metrics
	pages    *web.Handler
	now      func() time.Time
	health   health
	clientIP clientip.Resolver
	// metricsHandler serves /metrics (guarded by --metrics-token).
	metricsHandler http.Handler
}

// New wires the server over an open, migrated store. It fails when a page
// template is missing or broken (STYLE.md practice 10).
func New(cfg config.Config, s store.Store, log *slog.Logger) (*Server, error) {
	gen := &cache.Generation{}
	now := time.Now
	if off := cfg.ClockOffset; off != 0 {
		now = func() time.Time { return time.Now().Add(off) }
	}
	lastUsed := credential.NewLastUsed(s, log)
	az := &authz.Authorizer{
		Catalog: permission.Default(),
		Verifier: &credential.Verifier{
			Store:    s,
			Cache:    cache.New[string, *credential.Verified](gen, 200_000),
			LastUsed: lastUsed,
		},
		Facts: authz.NewFacts(s, gen),
		Now:   now,
	}
	oa := (&oauth.Service{
		Store:   s,
		Catalog: permission.Default(),
		Lifetimes: oauth.Lifetimes{
			AccessToken: cfg.AccessTokenTTL, RefreshToken: cfg.RefreshTokenTTL, AuthCode: cfg.AuthCodeTTL,
			DeviceCode: cfg.DeviceCodeTTL, DevicePollInterval: cfg.DevicePollInterval, RefreshRetry: cfg.RefreshRetryWindow,
		},
		PublicURL: cfg.PublicURL,
		Audiences: cfg.JWTAudiences,
		Now:       now,
		Log:       log,
		Limits: oauth.NewLimits(cfg.TokenLimit, cfg.TokenClientLimit, cfg.DeviceCodeLimit, cfg.DeviceCodeClientLimit,
			(&clientip.Resolver{Trusted: cfg.TrustedPrefixes}).IP),
	}).Init(gen)
	az.Others = []authz.TokenResolver{oa}
	az.Inspectors = []authz.TokenInspector{oa}
	srv := &Server{cfg: cfg, store: s, log: log, gen: gen, lastUsed: lastUsed, now: now,
		clientIP: clientip.Resolver{Trusted: cfg.TrustedPrefixes}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv.metrics = newMetrics(reg)
	oa.OnToken = func(grant, outcome string) { srv.metrics.tokens.WithLabelValues(grant, outcome).Inc() }

	mux := http.NewServeMux()
	ent := &enterprise.Service{Store: s, OAuth: oa, Catalog: permission.Default(), Now: now, Changed: gen.Invalidate}
	api := &openapi.API{Authz: az, Store: s, Enterprise: ent, Log: log,
		Identity: &identity.Service{Store: s, Now: now, ResourceTypes: permission.Default().ResourceTypes()}, Resources: s, Changed: gen.Invalidate, PublicURL: cfg.PublicURL}
	api.Register(mux)
	mux.HandleFunc("POST /api/permission/oauth2/token", oa.Token)
	mux.HandleFunc("POST /api/permission/oauth2/account/{account_id}/token", oa.Token)
	mux.HandleFunc("POST /api/permission/oauth2/enterprise_id/{enterprise_id}/token", oa.Token)
	mux.HandleFunc("POST /api/permission/oauth2/device/code", oa.DeviceCode)
	mux.HandleFunc("POST /api/permission/oauth2/workspace_id/{workspace_id}/device/code", oa.DeviceCode)
	mux.HandleFunc("POST /api/permission/oauth2/revoke", oa.Revoke)
	pages, err := web.New(web.Handler{OAuth: oa, Enterprise: ent, Store: s, Now: now, Log: log,
		OnSignIn: func(outcome string) { srv.metrics.signIns.WithLabelValues(outcome).Inc() },
		Creds:    &credential.Manager{Store: s, Catalog: permission.Default(), Now: now},
		Catalog:  permission.Default(), Invalidate: gen.Invalidate,
		Secure:           strings.HasPrefix(cfg.PublicURL, "https://"),
		ClientIP:         clientip.Resolver{Trusted: cfg.TrustedPrefixes},
		DeviceGuessLimit: guessLimit(cfg.DeviceGuessLimit), DeviceGuessWindow: cfg.DeviceGuessWindow})
	if err != nil {
		return nil, err
	}
	pages.Register(mux)
	srv.pages = pages
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writePlainJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", srv.readyz)
	srv.metricsHandler = metricsGuard(cfg.MetricsToken, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if cfg.MetricsAddr == "" { // else served on its own listener by Run
		mux.Handle("GET /metrics", srv.metricsHandler)
	}
	gw, err := newGateway(cfg, s, az, gen, log)
	if err != nil {
		return nil, err
	}
	// A person opening the server's address lands in the console.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console", http.StatusFound)
	})
	// Every path the routes above do not serve: catalog routes of the
	// OpenAPI are authorized and forwarded, anything else is not found.
	mux.Handle("/", gw)
	origins := cors.New(s, cfg.CORSOrigins, gen, cfg.RevisionPoll, now, log)
	srv.handler = srv.middleware(origins.Wrap(mux))
	if strings.HasPrefix(cfg.PublicURL, "https://") {
		srv.handler = withHSTS(srv.handler)
	}
	return srv, nil
}

// newGateway builds the gateway the configuration asks for: to an upstream
// URL (with its resolver, when lookups are configured), to the in-process
// sandbox, or to nothing.
func newGateway(cfg config.Config, s store.Store, az *authz.Authorizer, gen *cache.Generation, log *slog.Logger) (*gateway.Gateway, error) {
	routes, err := gateway.CompileRoutes(az.Catalog)
	if err != nil {
		return nil, fmt.Errorf("permission catalog routes: %w", err)
	}
	o := gateway.Options{Authz: az, Routes: routes, Token: cfg.UpstreamToken, AllowUnlisted: cfg.UpstreamAllowUnlisted,
		MaxBody: cfg.UpstreamMaxBody, Timeout: cfg.UpstreamTimeout, Log: log}
	if cfg.SecretKeyFile != "" {
		sealer, err := gateway.LoadSealer(cfg.SecretKeyFile)
		if err != nil {
			return nil, err
		}
		o.UserTokens = gateway.NewStoredTokens(s, sealer, gen)
	}
	switch cfg.Upstream {
	case "":
	case config.UpstreamSandbox:
		o.Local = sandbox.New(sandbox.Options{Now: time.Now, Logger: log})
	default:
		u, err := url.Parse(cfg.Upstream)
		if err != nil {
			return nil, fmt.Errorf("--upstream: %w", err)
		}
		o.Upstream = u
		if len(cfg.UpstreamResolve) > 0 {
			res := &gateway.Resolver{Upstream: u, Token: cfg.UpstreamToken, Lookups: map[string]gateway.Lookup{},
				Client: &http.Client{Timeout: cfg.UpstreamTimeout}, TTL: cfg.UpstreamResolveTTL, Now: time.Now}
			for _, spec := range cfg.UpstreamResolve {
				l, err := gateway.ParseLookup(spec)
				if err != nil {
					return nil, err
				}
				res.Lookups[l.Type] = l
			}
			az.Facts.Resolver = res
		}
	}
	return gateway.New(o), nil
}

// healthProbeInterval is how often the database's health (file, writes) is
// probed for readiness.
const healthProbeInterval = 5 * time.Second

// Handler returns the root handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		writePlainJSON(w, http.StatusServiceUnavailable, `{"status":"database unavailable"}`)
		return
	}
	if err := s.health.get(); err != nil {
		b, _ := json.Marshal(map[string]string{"status": "database unhealthy", "reason": err.Error()})
		writePlainJSON(w, http.StatusServiceUnavailable, string(b))
		return
	}
	writePlainJSON(w, http.StatusOK, `{"status":"ready"}`)
}

func writePlainJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Run serves on ln until ctx ends, then shuts down gracefully: in-flight
// requests finish, recorded last-use times are flushed.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); s.probeHealth(bg, healthProbeInterval) }()
	go func() { defer wg.Done(); s.collectGarbage(bg, time.Minute) }()
	go func() { defer wg.Done(); cache.Watch(bg, s.store, s.gen, s.cfg.RevisionPoll, s.log) }()
	go func() { defer wg.Done(); s.lastUsed.Run(bg, s.cfg.LastUsedFlush) }()

	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		err = hs.Shutdown(sctx)
		cancel()
	}
	stopBG()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// collectGarbage deletes expired codes, device codes, JTIs and tokens every
// interval (STYLE.md practice 11). Several replicas may run it; the deletes
// are idempotent.
func (s *Server) collectGarbage(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.store.DeleteExpired(ctx, s.now().Unix())
			if err == nil {
				var m int64
				m, err = s.pages.CollectGarbage(ctx)
				n += m
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("garbage collection failed", "err", err)
			} else if n > 0 {
				s.log.Info("garbage collected expired codes, tokens and sessions", "rows", n)
			}
		}
	}
}

// guessLimit maps the flag's 0 (off) to the web handler's "no limit".
func guessLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

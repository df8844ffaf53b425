package cors

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Store lists the apps whose redirect URIs name allowed origins.
type Store interface {
	ListAppsByClientType(ctx context.Context, t store.ClientType) ([]store.App, error)
}

// Header values of CORS responses.
const (
	// AllowMethods are the methods the OpenAPI uses.
	AllowMethods = "GET, POST, PUT, PATCH, DELETE"
	// AllowHeaders are what the SDKs send: coze-js in a browser sets
	// Authorization, Content-Type, X-Coze-Client-User-Agent and, for the
	// knowledge APIs, Agw-Js-Conv; coze-go may send X-Tt-Logid.
	AllowHeaders = "Authorization, Content-Type, Accept, Accept-Language, Cache-Control, X-Coze-Client-User-Agent, X-Tt-Logid, Agw-Js-Conv, X-Requested-With"
	// ExposeHeaders lets a page read the log ID of a response.
	ExposeHeaders = logid.Header
	maxAge        = "600"
)

var varyOrigin = []string{"Origin"}

var allowedMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true}

// Applies reports whether path is one a browser app may call cross-origin:
// the OpenAPI (/v1/…, /v3/…, /open_api/…) and, under /api/permission/oauth2/,
// the token endpoints, the device-code endpoints and revocation. Not the
// authorize endpoints (browser navigations), the console, login, consent or
// device pages, nor cozeauth's own management and introspection API.
func Applies(path string) bool {
	switch {
	case strings.HasPrefix(path, "/v1/"), strings.HasPrefix(path, "/v3/"), strings.HasPrefix(path, "/open_api/"):
		return true
	case strings.HasPrefix(path, "/api/permission/oauth2/"):
		return path == "/api/permission/oauth2/revoke" || strings.HasSuffix(path, "/token") || strings.HasSuffix(path, "/device/code")
	}
	return false
}

// Origin returns the serialized origin (RFC 6454 §6.1: lower-case scheme and
// host, the port only when not the scheme's default) of an http(s) URL or
// origin, or an error for anything else.
func Origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%q is not an http(s) origin", raw)
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}

// ParseOrigin validates a configured origin: scheme and host, optionally a
// port, nothing else (no path, query, fragment or wildcard).
func ParseOrigin(raw string) (string, error) {
	o, err := Origin(raw)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(raw)
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "*") {
		return "", fmt.Errorf("%q: want an origin such as https://app.example.com (scheme, host and port only)", raw)
	}
	return o, nil
}

// Policy decides which origins may call and writes the CORS headers.
type Policy struct {
	store  Store
	static map[string]bool
	gen    *cache.Generation
	// missReload bounds how often an unknown origin reloads the set: a new
	// app is not a revision change, so it is found by reloading on a miss,
	// at most this often (the revision poll interval).
	missReload time.Duration
	now        func() time.Time
	log        *slog.Logger

	mu  sync.Mutex // serialises reloads
	cur atomic.Pointer[snapshot]
}

type snapshot struct {
	gen     uint64
	origins map[string]bool
	loaded  time.Time
}

// New returns a policy allowing static (already validated by ParseOrigin)
// and the origins of every active PKCE app's http(s) redirect URIs, read
// from s through a set dropped when gen changes.
func New(s Store, static []string, gen *cache.Generation, missReload time.Duration, now func() time.Time, log *slog.Logger) *Policy {
	p := &Policy{store: s, static: map[string]bool{}, gen: gen, missReload: missReload, now: now, log: log}
	for _, o := range static {
		p.static[o] = true
	}
	return p
}

// Allowed reports whether a request from origin (the Origin header) may be
// answered with CORS headers.
func (p *Policy) Allowed(ctx context.Context, origin string) (bool, error) {
	// The sets hold canonical origins only, so a hit needs no parsing.
	if p.static[origin] {
		return true, nil
	}
	snap := p.cur.Load()
	current := snap != nil && snap.gen == p.gen.Current()
	if current && snap.origins[origin] {
		return true, nil
	}
	o, err := Origin(origin)
	if err != nil || o != origin {
		// "null", opaque and non-canonical origins are never allowed:
		// browsers send the canonical form.
		return false, nil
	}
	if current && p.now().Sub(snap.loaded) < p.missReload {
		return false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Another request may have reloaded while this one waited.
	if snap = p.cur.Load(); snap != nil && snap.gen == p.gen.Current() && (snap.origins[o] || p.now().Sub(snap.loaded) < p.missReload) {
		return snap.origins[o], nil
	}
	gen := p.gen.Current()
	set, err := p.load(ctx)
	if err != nil {
		return false, err
	}
	p.cur.Store(&snapshot{gen: gen, origins: set, loaded: p.now()})
	return set[o], nil
}

func (p *Policy) load(ctx context.Context) (map[string]bool, error) {
	apps, err := p.store.ListAppsByClientType(ctx, store.ClientSinglePageOrNative)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, a := range apps {
		if !a.Active {
			continue
		}
		for _, u := range a.RedirectURIs {
			// Custom schemes (com.example.app:/cb) are native apps, not
			// browser origins.
			if o, err := Origin(u); err == nil {
				set[o] = true
			}
		}
	}
	return set, nil
}

// Wrap answers preflights and adds CORS headers on the paths Applies to;
// every other request passes through untouched.
func (p *Policy) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Applies(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		if _, ok := h["Vary"]; ok {
			h.Add("Vary", "Origin")
		} else {
			h["Vary"] = varyOrigin // shared: an Add copies it (cap 1)
		}
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		ok, err := p.Allowed(r.Context(), origin)
		if err != nil {
			// Fail closed: without the set nothing is allowed.
			p.log.WarnContext(r.Context(), "CORS origins could not be loaded", "err", err, "logid", logid.From(r.Context()))
		}
		reqMethod := r.Header.Get("Access-Control-Request-Method")
		if r.Method == http.MethodOptions && reqMethod != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !ok || !allowedMethods[reqMethod] {
				refuse(w, r, ok, origin, reqMethod)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", AllowMethods)
			h.Set("Access-Control-Allow-Headers", AllowHeaders)
			h.Set("Access-Control-Max-Age", maxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", ExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers a preflight that is not allowed: no CORS headers, so the
// browser blocks the request, and a Coze error for whoever reads it.
func refuse(w http.ResponseWriter, r *http.Request, originOK bool, origin, method string) {
	msg := "origin " + origin + " is not allowed to call this API from a browser (register it as a redirect URI of a PKCE app, or start the server with --cors-origin)"
	if originOK {
		msg = "method " + method + " is not allowed"
	}
	body, _ := json.Marshal(map[string]any{"code": 4101, "msg": msg, "detail": map[string]string{"logid": logid.From(r.Context())}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(body)
}

package cors

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/store"
)

type fakeStore struct {
	mu    sync.Mutex
	apps  []store.App
	loads int
	err   error
}

func (f *fakeStore) ListAppsByClientType(_ context.Context, t store.ClientType) ([]store.App, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	if f.err != nil {
		return nil, f.err
	}
	var out []store.App
	for _, a := range f.apps {
		if a.ClientType == t {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeStore) set(apps ...store.App) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps = apps
}

func app(typ store.ClientType, active bool, uris ...string) store.App {
	return store.App{ID: store.NewID(), ClientType: typ, Active: active, RedirectURIs: uris}
}

func TestOrigin(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://localhost:3000/callback", "http://localhost:3000"},
		{"HTTPS://App.Example.com/cb?x=1", "https://app.example.com"},
		{"https://app.example.com:443/cb", "https://app.example.com"},
		{"http://app.example.com:80", "http://app.example.com"},
		{"https://app.example.com:8443", "https://app.example.com:8443"},
		{"http://[::1]:3000/cb", "http://[::1]:3000"},
		{"com.example.app:/oauth", ""},
		{"myapp://callback", ""},
		{"null", ""},
		{"", ""},
		{"http://user@host/", ""},
	} {
		got, err := Origin(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("Origin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"https://app.example.com", "https://app.example.com"},
		{"https://App.example.com/", "https://app.example.com"},
		{"http://localhost:5173", "http://localhost:5173"},
		{"https://app.example.com/path", ""},
		{"https://*.example.com", ""},
		{"*", ""},
		{"https://app.example.com?x", ""},
		{"app.example.com", ""},
	} {
		got, err := ParseOrigin(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestApplies(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/permission/oauth2/token":                      true,
		"/api/permission/oauth2/account/123/token":          true,
		"/api/permission/oauth2/enterprise_id/e/token":      true,
		"/api/permission/oauth2/device/code":                true,
		"/api/permission/oauth2/workspace_id/w/device/code": true,
		"/api/permission/oauth2/revoke":                     true,
		"/v1/users/me":                                      true,
		"/v3/chat":                                          true,
		"/open_api/knowledge/document/list":                 true,
		"/api/permission/oauth2/authorize":                  false,
		"/api/permission/oauth2/workspace_id/w/authorize":   false,
		"/api/permission/oauth2/authorize_consent":          false,
		"/api/cozeauth/v1/oauth2/introspect":                false,
		"/api/cozeauth/v1/authz/check":                      false,
		"/console":                                          false,
		"/console/tokens":                                   false,
		"/login":                                            false,
		"/device":                                           false,
		"/healthz":                                          false,
		"/metrics":                                          false,
		"/v1":                                               false,
	} {
		if got := Applies(path); got != want {
			t.Errorf("Applies(%q) = %v, want %v", path, got, want)
		}
	}
}

// clock is a test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newPolicy(s Store, static ...string) (*Policy, *cache.Generation, *clock) {
	gen := &cache.Generation{}
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	return New(s, static, gen, 250*time.Millisecond, c.now, slog.New(slog.NewTextHandler(io.Discard, nil))), gen, c
}

func TestAllowed(t *testing.T) {
	ctx := context.Background()
	fs := &fakeStore{}
	fs.set(app(store.ClientSinglePageOrNative, true, "http://localhost:3000/cb", "com.example.app:/cb"),
		app(store.ClientSinglePageOrNative, false, "https://deactivated.example.com/cb"),
		app(store.ClientWebBackend, true, "https://web.example.com/cb"))
	p, gen, clk := newPolicy(fs, "https://static.example.com")
	allowed := func(o string) bool {
		t.Helper()
		ok, err := p.Allowed(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for o, want := range map[string]bool{
		"http://localhost:3000":           true,
		"https://static.example.com":      true,
		"https://deactivated.example.com": false,
		"https://web.example.com":         false,
		"http://localhost:3001":           false,
		"http://LOCALHOST:3000":           false, // not what a browser sends
		"null":                            false,
		"http://localhost:3000/cb":        false,
		"https://static.example.com:443":  false,
		"https://evil.example.com":        false,
		"http://localhost:3000.evil.com":  false,
		"https://static.example.com.evil": false,
		"":                                false,
	} {
		if got := allowed(o); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", o, got, want)
		}
	}

	// A new app is found on a miss once the reload interval has passed,
	// without a revision change; misses in between do not reload.
	loads := fs.loads
	fs.set(append(fs.apps, app(store.ClientSinglePageOrNative, true, "https://new.example.com/cb"))...)
	for range 50 {
		if allowed("https://new.example.com") {
			t.Fatal("a miss reloaded before the interval")
		}
	}
	if fs.loads != loads {
		t.Errorf("50 misses within the interval made %d loads", fs.loads-loads)
	}
	clk.add(250 * time.Millisecond)
	if !allowed("https://new.example.com") {
		t.Error("a new app's origin is not allowed after the interval")
	}
	// Hits never reload.
	loads = fs.loads
	clk.add(time.Hour)
	for range 10 {
		allowed("http://localhost:3000")
	}
	if fs.loads != loads {
		t.Errorf("hits reloaded %d times", fs.loads-loads)
	}
	// A removed redirect URI goes with the next revision change.
	fs.set(app(store.ClientSinglePageOrNative, true, "https://new.example.com/cb"))
	if !allowed("http://localhost:3000") {
		t.Error("removed before the revision changed (the set is cached)")
	}
	gen.Invalidate()
	if allowed("http://localhost:3000") {
		t.Error("a removed redirect URI is still allowed after the revision changed")
	}
	// Store failures fail closed; static origins still work.
	fs.err = errors.New("db down")
	gen.Invalidate()
	if ok, err := p.Allowed(ctx, "https://new.example.com"); ok || err == nil {
		t.Errorf("Allowed during an outage = %v, %v; want false and the error", ok, err)
	}
	if !allowed("https://static.example.com") {
		t.Error("a static origin is refused during an outage")
	}
}

func TestWrap(t *testing.T) {
	fs := &fakeStore{}
	fs.set(app(store.ClientSinglePageOrNative, true, "http://localhost:3000/cb"))
	p, _, _ := newPolicy(fs, "https://static.example.com")
	var reached int
	h := p.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusTeapot)
	}))
	tests := []struct {
		name, method, path, origin, reqMethod string
		status                                int
		allowOrigin                           string
		reached                               bool
	}{
		{"preflight from a PKCE origin", "OPTIONS", "/api/permission/oauth2/token", "http://localhost:3000", "POST", 204, "http://localhost:3000", false},
		{"preflight from a static origin", "OPTIONS", "/v1/users/me", "https://static.example.com", "GET", 204, "https://static.example.com", false},
		{"preflight for revoke", "OPTIONS", "/api/permission/oauth2/revoke", "http://localhost:3000", "POST", 204, "http://localhost:3000", false},
		{"preflight for the OpenAPI", "OPTIONS", "/v3/chat", "http://localhost:3000", "POST", 204, "http://localhost:3000", false},
		{"preflight from an unknown origin", "OPTIONS", "/api/permission/oauth2/token", "https://evil.example.com", "POST", 403, "", false},
		{"preflight with a method not allowed", "OPTIONS", "/v1/users/me", "http://localhost:3000", "TRACE", 403, "", false},
		{"preflight to the console", "OPTIONS", "/console/tokens", "http://localhost:3000", "POST", 418, "", true},
		{"preflight to introspection", "OPTIONS", "/api/cozeauth/v1/oauth2/introspect", "http://localhost:3000", "POST", 418, "", true},
		{"OPTIONS without Origin", "OPTIONS", "/v1/users/me", "", "", 418, "", true},
		{"request from a PKCE origin", "GET", "/v1/users/me", "http://localhost:3000", "", 418, "http://localhost:3000", true},
		{"request from an unknown origin", "POST", "/api/permission/oauth2/token", "https://evil.example.com", "", 418, "", true},
		{"request without Origin", "POST", "/api/permission/oauth2/token", "", "", 418, "", true},
		{"console request from a PKCE origin", "POST", "/console/tokens", "http://localhost:3000", "", 418, "", true},
		{"login from a PKCE origin", "POST", "/login", "http://localhost:3000", "", 418, "", true},
	}
	for _, tt := range tests {
		reached = 0
		req := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if tt.reqMethod != "" {
			req.Header.Set("Access-Control-Request-Method", tt.reqMethod)
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-coze-client-user-agent")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		hd := rec.Header()
		if rec.Code != tt.status || hd.Get("Access-Control-Allow-Origin") != tt.allowOrigin || (reached == 1) != tt.reached {
			t.Errorf("%s: status %d, Allow-Origin %q, reached %v; want %d, %q, %v", tt.name, rec.Code,
				hd.Get("Access-Control-Allow-Origin"), reached == 1, tt.status, tt.allowOrigin, tt.reached)
		}
		if hd.Get("Access-Control-Allow-Credentials") != "" || hd.Get("Access-Control-Allow-Origin") == "*" {
			t.Errorf("%s: credentials or a wildcard allowed: %v", tt.name, hd)
		}
		applies := Applies(tt.path)
		if vary := strings.Join(hd.Values("Vary"), ","); applies != strings.Contains(vary, "Origin") {
			t.Errorf("%s: Vary %q", tt.name, vary)
		}
		if tt.allowOrigin == "" {
			for k := range hd {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s: unexpected %s", tt.name, k)
				}
			}
			continue
		}
		if tt.status == 204 {
			for _, h := range []string{"Authorization", "Content-Type", "X-Coze-Client-User-Agent", "X-Tt-Logid"} {
				if !strings.Contains(hd.Get("Access-Control-Allow-Headers"), h) {
					t.Errorf("%s: Allow-Headers %q lacks %s", tt.name, hd.Get("Access-Control-Allow-Headers"), h)
				}
			}
			if !strings.Contains(hd.Get("Access-Control-Allow-Methods"), tt.reqMethod) || hd.Get("Access-Control-Max-Age") == "" {
				t.Errorf("%s: preflight headers %v", tt.name, hd)
			}
		} else if hd.Get("Access-Control-Expose-Headers") != "X-Tt-Logid" {
			t.Errorf("%s: Expose-Headers %q", tt.name, hd.Get("Access-Control-Expose-Headers"))
		}
	}
}

// BenchmarkWrap measures what the policy adds to an OpenAPI request: without
// an Origin (every SDK outside a browser) and from an allowed origin.
func BenchmarkWrap(b *testing.B) {
	fs := &fakeStore{}
	fs.set(app(store.ClientSinglePageOrNative, true, "http://localhost:3000/cb"))
	p, _, _ := newPolicy(fs)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	b.Run("unwrapped", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/v1/users/me", nil)
		b.ReportAllocs()
		for b.Loop() {
			bare.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	h := p.Wrap(bare)
	for _, origin := range []string{"", "http://localhost:3000"} {
		b.Run("origin="+origin, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/users/me", nil)
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
			}
		})
	}
}

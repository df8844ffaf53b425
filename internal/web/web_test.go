package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/clientip"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
	"github.com/cozeauth/cozeauth/internal/web"
)

const (
	password    = "correct horse battery"
	redirectURI = "https://app.example/cb"
)

type env struct {
	t      *testing.T
	srv    *httptest.Server
	store  *sqlstore.DB
	oauth  *oauth.Service
	user   store.User
	ws     store.Workspace
	app    store.App // WebBackend
	device store.App // Terminal
}

func newEnv(t *testing.T, tweak ...func(*web.Handler)) *env {
	t.Helper()
	ctx := t.Context()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cozeauth.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ids := &identity.Service{Store: s, Now: time.Now}
	u, err := ids.CreateUser(ctx, "alice", password, "Alice")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	ws, err := ids.CreateWorkspace(ctx, "Alpha space", "alice", "")
	if err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	mkApp := func(name string, typ store.ClientType) store.App {
		now := time.Now().Unix()
		a := store.App{ID: store.NewID(), ClientID: store.NewID(), Name: name, Owner: u.Account(), CreatedBy: u.ID,
			ClientType: typ, RedirectURIs: []string{redirectURI}, Permissions: []string{"Bot.chat", "Workspace.list"},
			Active: true, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateApp(ctx, a); err != nil {
			t.Fatalf("CreateApp: %v", err)
		}
		return a
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := (&oauth.Service{Store: s, Catalog: permission.Default(), Lifetimes: oauth.DefaultLifetimes(),
		PublicURL: "http://x", Now: time.Now, Log: log}).Init(&cache.Generation{})
	cfg := web.Handler{OAuth: svc, Store: s, Now: time.Now, Log: log,
		Creds: &credential.Manager{Store: s, Catalog: permission.Default(), Now: time.Now}}
	for _, f := range tweak {
		f(&cfg)
	}
	h, err := web.New(cfg)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: s, oauth: svc, user: u, ws: ws,
		app: mkApp("Demo App", store.ClientWebBackend), device: mkApp("TV App", store.ClientTerminal)}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	body   string
	header http.Header
	// shownFrom is the shown-once page post followed its redirect to.
	shownFrom string
}

func (p page) location() string { return p.header.Get("Location") }

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func (b *browser) get(path string, hdr ...string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, hdr ...string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	p := b.do(req)
	// A form that creates a secret answers 303 to the page that shows it
	// once (POST/redirect/GET); the browser follows, as a real one does.
	if loc := p.location(); p.status == http.StatusSeeOther && (strings.HasSuffix(loc, "/created") || strings.HasSuffix(loc, "/secret")) {
		p = b.get(loc)
		p.shownFrom = loc
	}
	return p
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hidden returns the hidden fields of the page's forms (the last value wins).
func (p page) hidden() url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func (b *browser) login(username, pw, next string) page {
	b.e.t.Helper()
	lp := b.get("/login")
	form := url.Values{"csrf_token": {lp.hidden().Get("csrf_token")}, "username": {username}, "password": {pw}}
	if next != "" {
		form.Set("next", next)
	}
	return b.post("/login", form)
}

func (b *browser) signIn() {
	b.e.t.Helper()
	if p := b.login("alice", password, ""); p.status != http.StatusFound {
		b.e.t.Fatalf("sign-in: status %d\n%s", p.status, p.body)
	}
}

func (e *env) authorizePath(extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {e.app.ClientID}, "redirect_uri": {redirectURI}, "state": {"st-1"}}
	for k, v := range extra {
		q[k] = v
	}
	return "/api/permission/oauth2/authorize?" + q.Encode()
}

func wantStatus(t *testing.T, what string, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\nLocation: %s\n%s", what, p.status, status, p.location(), p.body)
	}
}

func wantBody(t *testing.T, what string, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s: page lacks %q\n%s", what, s, p.body)
		}
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name     string
		form     func(csrf string) url.Values
		hdr      []string
		status   int
		location string
		body     []string
	}{
		{name: "success", form: func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"alice"}, "password": {password}}
		}, status: http.StatusFound, location: "/console"},
		{name: "success with next", form: func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"alice"}, "password": {password}, "next": {"/device?user_code=ABCD-EFGH"}}
		}, status: http.StatusFound, location: "/device?user_code=ABCD-EFGH"},
		{name: "wrong password keeps the username", form: func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"alice"}, "password": {"nope nope"}}
		}, status: http.StatusUnauthorized, body: []string{"Wrong username or password.", `value="alice"`}},
		{name: "unknown user", form: func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"mallory"}, "password": {password}}
		}, status: http.StatusUnauthorized, body: []string{"Wrong username or password."}},
		{name: "missing fields", form: func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"alice"}}
		}, status: http.StatusBadRequest},
		{name: "no CSRF token", form: func(string) url.Values {
			return url.Values{"username": {"alice"}, "password": {password}}
		}, status: http.StatusForbidden, body: []string{"Request refused"}},
		{name: "wrong CSRF token", form: func(string) url.Values {
			return url.Values{"csrf_token": {"forged"}, "username": {"alice"}, "password": {password}}
		}, status: http.StatusForbidden},
		{name: "cross-origin POST", form: func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"alice"}, "password": {password}}
		}, hdr: []string{"Origin", "https://evil.example"}, status: http.StatusForbidden},
		{name: "Origin null is allowed (Referrer-Policy no-referrer)", form: func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"alice"}, "password": {password}}
		}, hdr: []string{"Origin", "null"}, status: http.StatusFound, location: "/console"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			lp := b.get("/login")
			wantStatus(t, "GET /login", lp, http.StatusOK)
			wantBody(t, "GET /login", lp, `<label for="username">Username</label>`, `<label for="password">Password</label>`,
				`<button type="submit" class="primary" data-busy="Signing in…">Sign in</button>`)
			hdr := tc.hdr
			if len(hdr) == 0 {
				hdr = []string{"Origin", e.srv.URL} // what a browser sends from our own page
			}
			p := b.post("/login", tc.form(lp.hidden().Get("csrf_token")), hdr...)
			wantStatus(t, "POST /login", p, tc.status)
			if tc.location != "" && p.location() != tc.location {
				t.Errorf("Location = %q, want %q", p.location(), tc.location)
			}
			wantBody(t, "POST /login", p, tc.body...)
			if tc.status == http.StatusFound {
				var sc *http.Cookie
				for _, c := range (&http.Response{Header: p.header}).Cookies() {
					if c.Name == "cozeauth_session" {
						sc = c
					}
				}
				if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
					t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/", sc)
				}
				if signed := b.get("/login"); !strings.Contains(signed.body, "Signed in as alice") {
					t.Errorf("after sign-in, /login does not show the user:\n%s", signed.body)
				}
			}
		})
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(h *web.Handler) { h.LoginLimit = 3 })
	b := e.browser()
	for i := range 3 {
		wantStatus(t, "failure "+string(rune('1'+i)), b.login("alice", "wrong password", ""), http.StatusUnauthorized)
	}
	p := b.login("alice", password, "") // even the right password waits now, from this client
	wantStatus(t, "after the limit", p, http.StatusTooManyRequests)
	wantBody(t, "after the limit", p, "Too many failed sign-in attempts")
}

// TestLoginNoLockout: failures at a username from some clients do not lock
// its owner out from another (issue 11.4); behind a trusted proxy the client
// is the X-Forwarded-For address, from anyone else the header is ignored.
func TestLoginNoLockout(t *testing.T) {
	trusted, _ := clientip.ParsePrefixes([]string{"127.0.0.0/8", "::1"})
	e := newEnv(t, func(h *web.Handler) { h.LoginLimit = 3; h.ClientIP = clientip.Resolver{Trusted: trusted} })
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	login := func(b *browser, pw string, hdr []string) page {
		lp := b.get("/login", hdr...)
		return b.post("/login", url.Values{"csrf_token": {lp.hidden().Get("csrf_token")}, "username": {"alice"}, "password": {pw}}, hdr...)
	}
	// Attackers at 15 addresses fail 3 times each: alice's per-username limit (15) is used up.
	for i := range 5 {
		b := e.browser()
		for range 3 {
			wantStatus(t, "attacker", login(b, "wrong password", from(fmt.Sprintf("203.0.113.%d", i+1))), http.StatusUnauthorized)
		}
		wantStatus(t, "attacker after its limit", login(b, "wrong password", from(fmt.Sprintf("203.0.113.%d", i+1))), http.StatusTooManyRequests)
	}
	for i := range 10 {
		wantStatus(t, "attacker", login(e.browser(), "wrong password", from(fmt.Sprintf("198.51.100.%d", i+1))), http.StatusUnauthorized)
	}
	wantStatus(t, "a failed client, past the per-username limit", login(e.browser(), "wrong password", from("198.51.100.1")), http.StatusTooManyRequests)
	// alice, from her own address, signs in.
	wantStatus(t, "alice from a clean client", login(e.browser(), password, from("192.0.2.50")), http.StatusFound)

	// Without a trusted proxy, X-Forwarded-For is the client's own claim and is ignored.
	plain := newEnv(t, func(h *web.Handler) { h.LoginLimit = 3 })
	for i := range 3 {
		wantStatus(t, "spoofing client", login(plain.browser(), "wrong password", from(fmt.Sprintf("203.0.113.%d", i+1))), http.StatusUnauthorized)
	}
	wantStatus(t, "spoofing client after the limit", login(plain.browser(), "wrong password", from("203.0.113.200")), http.StatusTooManyRequests)
}

// TestLoginParallelAttempts: a burst of parallel wrong passwords from one
// client is counted before any password is hashed, so only LoginLimit of
// them are judged (each one is a memory-heavy argon2id run) and the rest are
// refused at once; and when every hashing slot is taken, a sign-in gets a
// clear 503 instead of queueing without bound.
func TestLoginParallelAttempts(t *testing.T) {
	gate := identity.NewPasswordGate(2, time.Hour) // a slow machine waits; no attempt is refused as busy
	e := newEnv(t, func(h *web.Handler) { h.LoginLimit = 5; h.Passwords = gate })
	const n = 30
	reqs := make([]func() (int, error), n)
	for i := range reqs {
		b := e.browser()
		form := url.Values{"csrf_token": {b.get("/login").hidden().Get("csrf_token")},
			"username": {"alice"}, "password": {"wrong password"}}
		reqs[i] = func() (int, error) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.c.Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}
	}
	counts := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, do := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, err := do()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("POST /login: %v", err)
			}
			counts[status]++
		}()
	}
	close(start)
	wg.Wait()
	if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != n-5 {
		t.Errorf("statuses of %d parallel wrong passwords = %v, want 5×401 and %d×429", n, counts, n-5)
	}

	one := identity.NewPasswordGate(1, time.Millisecond)
	busy := newEnv(t, func(h *web.Handler) { h.Passwords = one })
	b := busy.browser()
	lp := b.get("/login")
	release, err := one.Acquire(t.Context()) // every slot taken while the sign-in arrives
	if err != nil {
		t.Fatal(err)
	}
	p := b.post("/login", url.Values{"csrf_token": {lp.hidden().Get("csrf_token")}, "username": {"alice"}, "password": {password}})
	release()
	wantStatus(t, "sign-in with every slot taken", p, http.StatusServiceUnavailable)
	wantBody(t, "sign-in with every slot taken", p, "Too many sign-ins at this moment")
	if p.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if p := b.login("alice", password, ""); p.status != http.StatusFound { // the busy attempt did not count
		t.Errorf("sign-in after the slot freed: status %d", p.status)
	}
}

func TestLoginNext(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, next, want string }{
		{"local path", "/api/permission/oauth2/authorize?client_id=1", "/api/permission/oauth2/authorize?client_id=1"},
		{"protocol-relative", "//evil.com", "/console"},
		{"absolute URL", "https://evil.com", "/console"},
		{"backslash", "/\\evil.com", "/console"},
		{"scheme-less host", "evil.com/x", "/console"},
		{"javascript", "javascript:alert(1)", "/console"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.browser().login("alice", password, tc.next)
			wantStatus(t, "POST /login", p, http.StatusFound)
			if p.location() != tc.want {
				t.Errorf("next %q: Location = %q, want %q", tc.next, p.location(), tc.want)
			}
		})
	}
	t.Run("GET /login?next= when signed in", func(t *testing.T) {
		b := e.browser()
		b.signIn()
		if p := b.get("/login?next=" + url.QueryEscape("//evil.com")); p.status != http.StatusOK {
			t.Errorf("GET /login?next=//evil.com while signed in: status %d, Location %q; want the page", p.status, p.location())
		}
		if p := b.get("/login?next=" + url.QueryEscape("/device")); p.location() != "/device" {
			t.Errorf("GET /login?next=/device while signed in: Location %q, want /device", p.location())
		}
	})
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	p := b.get("/login")
	wantStatus(t, "POST /logout without token", b.post("/logout", url.Values{}), http.StatusForbidden)
	wantStatus(t, "POST /logout", b.post("/logout", url.Values{"csrf_token": {p.hidden().Get("csrf_token")}}), http.StatusFound)
	if p := b.get(e.authorizePath(nil)); !strings.HasPrefix(p.location(), "/login?next=") {
		t.Errorf("after sign-out the consent page is still shown: %d %q", p.status, p.location())
	}
}

func TestAuthorizeWithoutSession(t *testing.T) {
	e := newEnv(t)
	path := e.authorizePath(nil)
	p := e.browser().get(path)
	wantStatus(t, "GET authorize", p, http.StatusFound)
	if want := "/login?next=" + url.QueryEscape(path); p.location() != want {
		t.Errorf("Location = %q, want %q", p.location(), want)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, tc := range []struct {
		name     string
		path     string
		status   int
		location string // prefix
		body     []string
	}{
		{name: "unknown client", path: "/api/permission/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=" + url.QueryEscape(redirectURI),
			status: http.StatusBadRequest, body: []string{"This authorization request is invalid", "Unknown client_id &#34;nope&#34;."}},
		{name: "no client", path: "/api/permission/oauth2/authorize?response_type=code",
			status: http.StatusBadRequest, body: []string{"The request has no client_id."}},
		{name: "unregistered redirect_uri", path: e.authorizePath(url.Values{"redirect_uri": {"https://evil.example/cb"}}),
			status: http.StatusBadRequest, body: []string{"is not registered for this app."}},
		{name: "bad response_type goes to the client", path: e.authorizePath(url.Values{"response_type": {"token"}}),
			status: http.StatusFound, location: redirectURI + "?error=unsupported_response_type"},
		{name: "unknown workspace goes to the client", path: "/api/permission/oauth2/workspace_id/404/authorize?" +
			url.Values{"response_type": {"code"}, "client_id": {e.app.ClientID}, "redirect_uri": {redirectURI}}.Encode(),
			status: http.StatusFound, location: redirectURI + "?error=invalid_request"},
		// Last: ?lang= is remembered for the pages after it.
		{name: "no client, in Chinese", path: "/api/permission/oauth2/authorize?response_type=code&lang=zh-CN",
			status: http.StatusBadRequest, body: []string{"详细信息：</strong>", "请求中缺少 client_id。"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.get(tc.path)
			wantStatus(t, "GET authorize", p, tc.status)
			if !strings.HasPrefix(p.location(), tc.location) || (tc.location == "" && p.location() != "") {
				t.Errorf("Location = %q, want prefix %q", p.location(), tc.location)
			}
			wantBody(t, "GET authorize", p, tc.body...)
		})
	}
}

// consentForm opens the consent page at path and returns it with its form.
func (b *browser) consentForm(t *testing.T, path string) (page, url.Values) {
	t.Helper()
	p := b.get(path)
	wantStatus(t, "GET consent", p, http.StatusOK)
	return p, p.hidden()
}

func TestConsent(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		edit   func(f url.Values)
		status int
		check  func(t *testing.T, p page)
	}{
		{name: "approve", edit: func(f url.Values) { f.Set("action", "authorize") }, status: http.StatusFound,
			check: func(t *testing.T, p page) {
				u, err := url.Parse(p.location())
				if err != nil || u.Scheme+"://"+u.Host+u.Path != redirectURI || u.Query().Get("code") == "" || u.Query().Get("state") != "st-1" {
					t.Errorf("Location = %q, want %s?code=…&state=st-1", p.location(), redirectURI)
				}
			}},
		{name: "approve selected workspace", edit: func(f url.Values) {
			f.Set("action", "authorize")
			f.Set("workspaces", "selected")
			f.Set("ws."+f.Get("account"), e.ws.ID)
		}, status: http.StatusFound, check: func(t *testing.T, p page) {
			if !strings.Contains(p.location(), "code=") {
				t.Errorf("Location = %q, want a code", p.location())
			}
		}},
		{name: "cancel", edit: func(f url.Values) { f.Set("action", "cancel") }, status: http.StatusFound,
			check: func(t *testing.T, p page) {
				u, _ := url.Parse(p.location())
				if q := u.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st-1" {
					t.Errorf("Location = %q, want error=access_denied&state=st-1", p.location())
				}
			}},
		{name: "no workspace selected is shown next to the field", edit: func(f url.Values) {
			f.Set("action", "authorize")
			f.Set("workspaces", "selected")
		}, status: http.StatusBadRequest, check: func(t *testing.T, p page) {
			wantBody(t, "re-rendered consent", p, `id="workspaces-error"`, "at least one of your workspaces",
				`id="ws-selected" name="workspaces" value="selected" checked`)
		}},
		{name: "foreign account", edit: func(f url.Values) {
			f.Set("action", "authorize")
			f.Set("account", "enterprise:123")
		}, status: http.StatusBadRequest, check: func(t *testing.T, p page) {
			wantBody(t, "re-rendered consent", p, `id="account-error"`)
		}},
		{name: "tampered redirect_uri is validated again", edit: func(f url.Values) {
			f.Set("action", "authorize")
			f.Set("redirect_uri", "https://evil.example/cb")
		}, status: http.StatusBadRequest, check: func(t *testing.T, p page) {
			if p.location() != "" {
				t.Errorf("Location = %q, want none", p.location())
			}
		}},
		{name: "wrong CSRF token", edit: func(f url.Values) {
			f.Set("action", "authorize")
			f.Set("csrf_token", "forged")
		}, status: http.StatusForbidden},
		{name: "no CSRF token", edit: func(f url.Values) {
			f.Set("action", "authorize")
			f.Del("csrf_token")
		}, status: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			b.signIn()
			p, form := b.consentForm(t, e.authorizePath(nil))
			form.Set("account", "personal:"+e.user.AccountID)
			form.Set("workspaces", "all")
			tc.edit(form)
			got := b.post("/api/permission/oauth2/authorize_consent", form)
			wantStatus(t, "POST consent", got, tc.status)
			if tc.check != nil {
				tc.check(t, got)
			}
			_ = p
		})
	}

	t.Run("page content", func(t *testing.T) {
		b := e.browser()
		b.signIn()
		p, form := b.consentForm(t, e.authorizePath(nil))
		wantBody(t, "consent", p, "Demo App", "Web backend", "Bot.chat", "Workspace.list",
			`<h3 class="permgroup">Bots</h3>`, `<h3 class="permgroup">Workspaces</h3>`,
			">Authorize</button>", ">Cancel</button>", `name="account" value="personal:`+e.user.AccountID+`" checked`,
			">Personal</label>", "All workspaces", "Alpha space")
		for k, want := range map[string]string{"client_id": e.app.ClientID, "redirect_uri": redirectURI, "state": "st-1", "response_type": "code"} {
			if form.Get(k) != want {
				t.Errorf("hidden %s = %q, want %q", k, form.Get(k), want)
			}
		}
	})

	t.Run("no session", func(t *testing.T) {
		b := e.browser()
		b.signIn()
		_, form := b.consentForm(t, e.authorizePath(nil))
		form.Set("action", "authorize")
		wantStatus(t, "POST consent from another browser", e.browser().post("/api/permission/oauth2/authorize_consent", form), http.StatusForbidden)
	})

	t.Run("fixed workspace", func(t *testing.T) {
		b := e.browser()
		b.signIn()
		path := "/api/permission/oauth2/workspace_id/" + e.ws.ID + "/authorize?" +
			url.Values{"response_type": {"code"}, "client_id": {e.app.ClientID}, "redirect_uri": {redirectURI}}.Encode()
		p, form := b.consentForm(t, path)
		wantBody(t, "fixed workspace consent", p, "This app asks for one workspace only:", "<strong>Alpha space</strong>")
		if strings.Contains(p.body, "All workspaces") {
			t.Error("fixed-workspace consent offers All workspaces")
		}
		if form.Get("workspace_id") != e.ws.ID {
			t.Errorf("hidden workspace_id = %q, want %q", form.Get("workspace_id"), e.ws.ID)
		}
		form.Set("account", "personal:"+e.user.AccountID)
		form.Set("action", "authorize")
		got := b.post("/api/permission/oauth2/authorize_consent", form)
		wantStatus(t, "POST consent", got, http.StatusFound)
		if !strings.HasPrefix(got.location(), redirectURI+"?code=") {
			t.Errorf("Location = %q", got.location())
		}
	})
}

// startDevice asks for a device code as an SDK would and returns the user code.
func (e *env) startDevice(t *testing.T) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"client_id": e.device.ClientID})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/permission/oauth2/device/code", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	e.oauth.DeviceCode(rec, req)
	var resp struct {
		UserCode string `json:"user_code"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.UserCode == "" {
		t.Fatalf("device code: %d %s", rec.Code, rec.Body)
	}
	return resp.UserCode
}

func TestDevice(t *testing.T) {
	e := newEnv(t)

	t.Run("requires sign-in", func(t *testing.T) {
		p := e.browser().get("/device?user_code=BCDF-GHJK")
		wantStatus(t, "GET /device", p, http.StatusFound)
		if want := "/login?next=" + url.QueryEscape("/device?user_code=BCDF-GHJK"); p.location() != want {
			t.Errorf("Location = %q, want %q", p.location(), want)
		}
	})

	for _, tc := range []struct {
		name    string
		action  string
		status  store.DeviceStatus
		message string
	}{
		{"approve", "authorize", store.DeviceApproved, "You can return to your device."},
		{"refuse", "cancel", store.DeviceDenied, "You refused the request."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := e.startDevice(t)
			b := e.browser()
			b.signIn()
			p := b.get("/device?user_code=" + code)
			wantStatus(t, "GET /device", p, http.StatusOK)
			wantBody(t, "GET /device", p, `<label for="user_code">User code</label>`, `value="`+code+`"`, ">Continue</button>")
			// What people type: lower case, no dash.
			typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
			c := b.post("/device", url.Values{"csrf_token": {p.hidden().Get("csrf_token")}, "user_code": {typed}})
			wantStatus(t, "POST /device", c, http.StatusOK)
			wantBody(t, "device consent", c, "TV App", "TV, device or command line", code, ">Authorize</button>", ">Cancel</button>")
			form := c.hidden()
			form.Set("account", "personal:"+e.user.AccountID)
			form.Set("workspaces", "all")
			form.Set("action", tc.action)
			d := b.post("/device/consent", form)
			wantStatus(t, "POST /device/consent", d, http.StatusOK)
			wantBody(t, "result", d, tc.message)
			dc, err := e.store.GetDeviceCodeByUserCode(t.Context(), code, time.Now().Unix())
			if err != nil || dc.Status != tc.status {
				t.Errorf("device code status = %q, %v; want %q", dc.Status, err, tc.status)
			}
			// Decided codes cannot be used again.
			again := b.post("/device", url.Values{"csrf_token": {p.hidden().Get("csrf_token")}, "user_code": {code}})
			wantStatus(t, "POST /device again", again, http.StatusBadRequest)
		})
	}

	t.Run("unknown code", func(t *testing.T) {
		b := e.browser()
		b.signIn()
		p := b.get("/device")
		got := b.post("/device", url.Values{"csrf_token": {p.hidden().Get("csrf_token")}, "user_code": {"ZZZZ-ZZZZ"}})
		wantStatus(t, "POST /device", got, http.StatusBadRequest)
		wantBody(t, "POST /device", got, `id="user_code-error"`, "unknown, expired or already used", `value="ZZZZ-ZZZZ"`)
	})

	t.Run("CSRF", func(t *testing.T) {
		code := e.startDevice(t)
		b := e.browser()
		b.signIn()
		p := b.get("/device")
		wantStatus(t, "POST /device forged", b.post("/device", url.Values{"csrf_token": {"x"}, "user_code": {code}}), http.StatusForbidden)
		// A token of another form does not do.
		c := b.post("/device", url.Values{"csrf_token": {p.hidden().Get("csrf_token")}, "user_code": {code}})
		form := c.hidden()
		form.Set("csrf_token", p.hidden().Get("csrf_token"))
		form.Set("action", "authorize")
		wantStatus(t, "POST /device/consent with the device form's token", b.post("/device/consent", form), http.StatusForbidden)
	})
}

func TestLanguage(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		path string
		hdr  []string
		want []string
	}{
		{"default English", "/login", nil, []string{`<html lang="en">`, "Sign in", ">简体中文</a>"}},
		{"query", "/login?lang=zh-CN", nil, []string{`<html lang="zh-CN">`, "<label for=\"username\">用户名</label>", "<label for=\"password\">密码</label>", ">登录</button>", ">English</a>"}},
		{"Accept-Language", "/login", []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"}, []string{`<html lang="zh-CN">`, "用户名"}},
		{"Accept-Language prefers English", "/login", []string{"Accept-Language", "en-US,en;q=0.9,zh;q=0.5"}, []string{`<html lang="en">`}},
		{"query beats Accept-Language", "/login?lang=en", []string{"Accept-Language", "zh-CN"}, []string{`<html lang="en">`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.browser().get(tc.path, tc.hdr...)
			wantStatus(t, "GET", p, http.StatusOK)
			wantBody(t, "GET", p, tc.want...)
		})
	}

	t.Run("cookie remembers ?lang", func(t *testing.T) {
		b := e.browser()
		b.get("/login?lang=zh-CN")
		wantBody(t, "next page", b.get("/login", "Accept-Language", "en"), `<html lang="zh-CN">`)
	})

	t.Run("consent and device in Chinese", func(t *testing.T) {
		b := e.browser()
		b.signIn()
		p := b.get(e.authorizePath(url.Values{"lang": {"zh-CN"}}))
		wantStatus(t, "consent", p, http.StatusOK)
		wantBody(t, "consent", p, ">授权</button>", ">取消</button>", "个人账号", "所有工作空间")
		d := b.get("/device")
		wantBody(t, "device", d, ">用户码</label>", ">继续</button>")
		bad := b.get("/api/permission/oauth2/authorize?client_id=nope")
		wantBody(t, "error page", bad, "此授权请求无效")
	})
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, tc := range []struct {
		name string
		p    page
	}{
		{"login", e.browser().get("/login")},
		{"consent", b.get(e.authorizePath(nil))},
		{"device", b.get("/device")},
		{"error", b.get("/api/permission/oauth2/authorize?client_id=nope")},
		{"forbidden", b.post("/api/permission/oauth2/authorize_consent", url.Values{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for h, want := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; frame-ancestors 'none'; base-uri 'none'",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "no-referrer",
				"X-Content-Type-Options":  "nosniff",
				"Cache-Control":           "no-store",
			} {
				if got := tc.p.header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			// The one script is same-origin: <script src="/static/console.js" defer></script>.
			body := strings.ReplaceAll(tc.p.body, `<script src="/static/console.js" defer></script>`, "")
			if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
				t.Error("page has inline script or style")
			}
		})
	}
	t.Run("stylesheet", func(t *testing.T) {
		p := e.browser().get("/static/app.css")
		wantStatus(t, "GET /static/app.css", p, http.StatusOK)
		if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
			t.Errorf("Content-Type = %q", ct)
		}
	})
}

func TestSessionStoredAsHash(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	u, _ := url.Parse(e.srv.URL)
	var id string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "cozeauth_session" {
			id = c.Value
		}
	}
	if len(id) < 43 {
		t.Fatalf("session ID %q is shorter than 256 bits", id)
	}
	if _, err := e.store.GetSession(t.Context(), id, time.Now().Unix()); err == nil {
		t.Error("the store knows the raw session ID; it must keep only its hash")
	}
	sum := sha256.Sum256([]byte(id))
	se, err := e.store.GetSession(t.Context(), hex.EncodeToString(sum[:]), time.Now().Unix())
	if err != nil || se.UserID != e.user.ID {
		t.Errorf("GetSession(sha256(id)) = %+v, %v", se, err)
	}
	if got := time.Duration(se.ExpiresAt-se.CreatedAt) * time.Second; got != 12*time.Hour {
		t.Errorf("session lifetime = %v, want 12h", got)
	}
}

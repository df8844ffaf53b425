package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/cozeauth/cozeauth/internal/clientip"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/ratelimit"
	"github.com/cozeauth/cozeauth/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pageNames are the templates New requires; each is parsed with layout.html.
var pageNames = []string{"login", "consent", "device", "device_done", "error",
	"console_home", "console_tokens", "console_token_form", "console_token_created", "console_token_delete",
	"console_apps", "console_app_form", "console_app", "console_app_secret", "console_app_sample", "console_confirm",
	"console_authorized", "console_workspaces",
	"console_install", "console_enterprises", "console_installations", "console_migrate", "console_personal", "console_audit", "console_account"}

// Store is what the pages need from storage: sessions and the users who sign
// in, and for the console the user's credentials, enterprises and workspaces.
type Store interface {
	store.Sessions
	store.Credentials
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUserByUsername(ctx context.Context, username string) (store.User, error)
	GetEnterprise(ctx context.Context, id string) (store.Enterprise, error)
	ListUserEnterprises(ctx context.Context, userID string) ([]store.EnterpriseMember, error)
	GetEnterpriseMember(ctx context.Context, enterpriseID, userID string) (store.EnterpriseMember, error)
	ListWorkspacesByOwner(ctx context.Context, owner store.Owner) ([]store.Workspace, error)
	ListMemberWorkspaces(ctx context.Context, userID string) ([]store.MemberWorkspace, error)
	// The console's OAuth app and authorization pages.
	ListAppsByOwner(ctx context.Context, owner store.Owner) ([]store.App, error)
	UpdateApp(ctx context.Context, id string, update func(store.App) (store.App, error)) (store.App, error)
	DeleteApp(ctx context.Context, id string) error
	ListAppSecrets(ctx context.Context, appID string) ([]store.AppSecret, error)
	DeleteAppSecret(ctx context.Context, appID, id string) error
	ListAppKeys(ctx context.Context, appID string) ([]store.AppKey, error)
	DeleteAppKey(ctx context.Context, appID, kid string) error
	GetGrant(ctx context.Context, id string) (store.Grant, error)
	ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error)
	DeleteGrant(ctx context.Context, id string, now int64) error
	// The audit log: sign-in failures and the audit page.
	store.Audit
	// The account page.
	UpdateUser(ctx context.Context, id string, update func(store.User) (store.User, error)) (store.User, error)
}

// Handler serves the browser pages. Fill the exported fields and call New.
type Handler struct {
	OAuth *oauth.Service
	// Identity changes the signed-in user's profile and password; New makes
	// one on Store when Store is a full identity store.
	Identity *identity.Service
	// OnSignIn, when set, hears each judged or refused sign-in: "success",
	// "wrong_password", "unknown_user", "rate_limited" or "busy".
	OnSignIn func(outcome string)
	// Enterprise performs the enterprise pages' changes (installation,
	// migration, personal-resource authorization).
	Enterprise *enterprise.Service
	Store      Store
	// Creds creates, changes and deletes the console's personal access tokens.
	Creds *credential.Manager
	// Catalog lists the permissions the token form offers (default: permission.Default()).
	Catalog *permission.Catalog
	// Invalidate, when set, is called after a console change to credentials so
	// this replica's caches drop them at once (others follow the revision poll).
	Invalidate func()
	Now        func() time.Time
	Log        *slog.Logger
	// Secure marks cookies Secure; set it when the public URL is https.
	Secure bool
	// SessionTTL is how long a sign-in lasts (default 12 h).
	SessionTTL time.Duration
	// LoginLimit and LoginWindow bound failed sign-ins per (client IP,
	// username) (default 10 per 5 min); see signInLimiter for the others.
	LoginLimit  int
	LoginWindow time.Duration
	// Passwords bounds concurrent password checks (default: sized to the machine).
	Passwords *identity.PasswordGate
	// ClientIP finds the client address rate limits count against.
	ClientIP clientip.Resolver
	// DeviceGuessLimit wrong user codes per DeviceGuessWindow stop a session
	// on the device page (RFC 8628 §5.1; default 5 per 10 min; negative: no
	// limit); a client IP gets 5 times as many, across its sessions.
	DeviceGuessLimit  int
	DeviceGuessWindow time.Duration

	pages     map[string]*template.Template
	limiter   *signInLimiter
	guesses   struct{ session, ip *ratelimit.Counter }
	failures  *failureAudit // bounds the sign-in failure events (audit.go)
	dummyHash string        // verified for unknown users so timing does not tell them apart
}

// New checks h's dependencies, parses the embedded templates once and
// returns the ready handler; it fails if a template is missing or uses a
// message the catalog lacks (STYLE practice 10).
func New(h Handler) (*Handler, error) {
	if h.OAuth == nil || h.Store == nil || h.Creds == nil {
		return nil, errors.New("web: OAuth, Store and Creds are required")
	}
	if h.Catalog == nil {
		h.Catalog = permission.Default()
	}
	if h.Invalidate == nil {
		h.Invalidate = func() {}
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Log == nil {
		h.Log = slog.Default()
	}
	if h.SessionTTL <= 0 {
		h.SessionTTL = 12 * time.Hour
	}
	if h.LoginLimit <= 0 {
		h.LoginLimit = 10
	}
	if h.LoginWindow <= 0 {
		h.LoginWindow = 5 * time.Minute
	}
	pages, err := parsePages(templateFiles)
	if err != nil {
		return nil, err
	}
	h.pages = pages
	h.limiter = newSignInLimiter(h.LoginLimit, h.LoginWindow)
	if h.DeviceGuessLimit == 0 {
		h.DeviceGuessLimit = 5
	}
	if h.DeviceGuessWindow <= 0 {
		h.DeviceGuessWindow = 10 * time.Minute
	}
	h.guesses.session = ratelimit.NewCounter(h.DeviceGuessLimit, h.DeviceGuessWindow)
	h.guesses.ip = ratelimit.NewCounter(5*h.DeviceGuessLimit, h.DeviceGuessWindow)
	h.failures = &failureAudit{}
	if h.Passwords == nil {
		h.Passwords = identity.NewPasswordGate(0, 0)
	}
	if h.Identity == nil {
		is, ok := h.Store.(identity.Store)
		if !ok {
			return nil, errors.New("web: Handler.Identity is required when Store is not an identity store")
		}
		h.Identity = &identity.Service{Store: is, Now: h.Now}
	}
	if h.dummyHash, err = identity.HashPassword("not a real password, only for timing"); err != nil {
		return nil, err
	}
	return &h, nil
}

var msgKeyRE = regexp.MustCompile(`\.T "([^"]+)"`)

func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	layout, err := fs.ReadFile(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: template layout.html: %w", err)
	}
	base, err := template.New("layout").Parse(string(layout))
	if err != nil {
		return nil, fmt.Errorf("web: template layout.html: %w", err)
	}
	if err := checkKeys("layout.html", layout); err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		src, err := fs.ReadFile(fsys, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s.html: %w", name, err)
		}
		if err := checkKeys(name+".html", src); err != nil {
			return nil, err
		}
		t, err := template.Must(base.Clone()).Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("web: template %s.html: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: template %s.html defines no \"content\"", name)
		}
		pages[name] = t
	}
	return pages, nil
}

func checkKeys(name string, src []byte) error {
	for _, m := range msgKeyRE.FindAllSubmatch(src, -1) {
		if _, ok := messages[string(m[1])]; !ok {
			return fmt.Errorf("web: template %s uses message %q, which the catalog lacks", name, m[1])
		}
	}
	return nil
}

// Register mounts the pages on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	handle := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, h.headers(fn)) }
	handle("GET /login", h.loginPage)
	handle("POST /login", h.login)
	handle("POST /logout", h.logout)
	handle("GET /api/permission/oauth2/authorize", h.authorize)
	handle("GET /api/permission/oauth2/workspace_id/{workspace_id}/authorize", h.authorize)
	handle("POST /api/permission/oauth2/authorize_consent", h.consent)
	handle("GET "+oauth.VerificationPath, h.devicePage)
	handle("POST "+oauth.VerificationPath, h.deviceLookup)
	handle("POST "+oauth.VerificationPath+"/consent", h.deviceConsent)
	h.registerConsole(handle)
	static, _ := fs.Sub(staticFiles, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", h.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})))
}

// CollectGarbage removes expired sessions; run it from the server's GC loop.
func (h *Handler) CollectGarbage(ctx context.Context) (int64, error) {
	return h.Store.DeleteExpiredSessions(ctx, h.Now().Unix())
}

// csp forbids inline script and style and framing. No form-action: Chromium
// applies it to the redirect after the consent POST, which leaves for the
// app's redirect URI on another origin.
const csp = "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers of every page and refuses cross-origin
// POSTs.
func (h *Handler) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		// Who acts, for the audit log: anonymous until a session is found
		// (currentSession names the user).
		r = r.WithContext(store.WithActor(r.Context(), store.Actor{Type: store.ActorAnonymous, IP: h.clientIP(r),
			LogID: logid.From(r.Context())}))
		if r.Method == http.MethodPost {
			if !sameOrigin(r) {
				h.forbidden(w, r)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10) // our forms are small
		}
		next.ServeHTTP(w, r)
	})
}

// view is what every template gets: the language, the page title and the
// page's own data in P.
type view struct {
	Lang
	Title      string
	Switch     string // URL of this page in the other language
	OtherLang  Lang
	User       string // the signed-in username, or ""
	LogoutCSRF string
	// Nav is the console section the page belongs to ("tokens", "apps", …);
	// non-empty shows the console navigation and a wide page.
	Nav      string
	NavItems []navItem
	P        any
}

// render writes page name with status. switchURL is the GET URL of the same
// page (path?query) for the language link.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v view, switchURL string) {
	t, ok := h.pages[name]
	if !ok {
		h.Log.ErrorContext(r.Context(), "web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.OtherLang = v.Lang.other()
	v.Switch = withLang(switchURL, v.OtherLang)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.Log.ErrorContext(r.Context(), "web: render", "page", name, "err", err, "logid", logid.From(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct {
	Message string // catalog key
	Detail  string
	LogID   string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, titleKey, msgKey, detail string) {
	l := h.langOf(w, r)
	switchURL := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		switchURL = "/login"
	}
	h.render(w, r, status, "error", view{Lang: l, Title: l.T(titleKey), P: errorView{Message: msgKey, Detail: detail}}, switchURL)
}

func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusForbidden, "error.csrf.title", "error.csrf", "")
}

// internal logs err and shows a generic page with the log ID (STYLE: details
// go to the log).
// When the database did not answer in time the page says so, with 503.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	if store.ClientGone(r.Context(), err) {
		w.WriteHeader(store.StatusClientClosed)
		return
	}
	id := logid.From(r.Context())
	status, msg := http.StatusInternalServerError, "error.internal"
	if store.Unavailable(err) || store.CallTimedOut(r.Context()) {
		status, msg = http.StatusServiceUnavailable, "error.unavailable"
		h.Log.WarnContext(r.Context(), "web: database unavailable", "err", err, "path", r.URL.Path, "logid", id)
		w.Header().Set("Retry-After", "1")
	} else {
		h.Log.ErrorContext(r.Context(), "web: internal error", "err", err, "path", r.URL.Path, "logid", id)
	}
	l := h.langOf(w, r)
	h.render(w, r, status, "error",
		view{Lang: l, Title: l.T("error.title"), P: errorView{Message: msg, LogID: id}}, "/login")
}

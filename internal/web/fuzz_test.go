package web

// Fuzz targets (issue 11.17); see internal/oauth/fuzz_test.go for how to run
// them. Crashers are kept under testdata/fuzz/<target>/.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// FuzzSafeNext: the sign-in page's next= is either refused ("") or kept as
// is, and what is kept is a path on this server, wherever a browser would
// resolve it.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{
		"/device?user_code=AB", "/", "", "//evil.com", "///evil.com", "/\\evil.com", "/a\\b", "https://evil.com",
		"evil.com", "javascript:alert(1)", "/x\r\nSet-Cookie: a=b", "/\tevil", "/%2F%2Fevil.com", "/.//evil.com",
		"/console?x=//evil.com#//evil", "/\u3000/evil.com", "/%5Cevil.com", "/ /evil.com", "/\x00",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://auth.example/login?next=x")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "" {
			return
		}
		if got != next {
			t.Fatalf("safeNext(%q) = %q: must be the input or empty", next, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\") {
			t.Fatalf("safeNext(%q) kept something that is not a local path", next)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("safeNext(%q) kept a control character", next)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeNext(%q) kept an unparsable URL: %v", next, err)
		}
		if r := base.ResolveReference(u); r.Scheme != "https" || r.Host != "auth.example" || r.User != nil {
			t.Fatalf("safeNext(%q) leads to %s", next, r)
		}
		// WHATWG URL parsers strip leading and trailing C0 controls and
		// spaces, and ASCII tab/newline anywhere, before parsing: the
		// cleaned string must still be a local path.
		cleaned := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, strings.Trim(got, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
		if !strings.HasPrefix(cleaned, "/") || strings.HasPrefix(cleaned, "//") || strings.HasPrefix(cleaned, "/\\") {
			t.Fatalf("safeNext(%q): a browser reads %q", next, cleaned)
		}
	})
}

// FuzzAcceptLanguage: any header gives a supported language; without a
// Chinese tag it is English; the header given alone, a single tag, is
// honoured.
func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{
		"", "fr-FR,fr;q=0.9", "zh-CN", "zh-TW,zh;q=0.9", "en-US,en;q=0.9,zh-CN;q=0.8", "fr;q=1, zh-CN;q=0.5, en;q=0.4",
		"en;q=0.2, zh;q=0.8", "zh;q=0, en", "*", "zh;q=NaN, en;q=0.5", "zh;q=1e400", "en;q=-1,zh", ";;;,,,", "ZH-hans;Q=0.9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := acceptLanguage(header)
		if got != En && got != ZhCN {
			t.Fatalf("acceptLanguage(%q) = %q", header, got)
		}
		if got == ZhCN && !strings.Contains(strings.ToLower(header), "zh") {
			t.Fatalf("acceptLanguage(%q) = zh-CN without a Chinese tag", header)
		}
		if again := acceptLanguage(header); again != got {
			t.Fatalf("acceptLanguage(%q) not deterministic: %q then %q", header, got, again)
		}
		// The same header through a page request chooses the same language.
		r := httptest.NewRequest(http.MethodGet, "/login", nil)
		r.Header.Set("Accept-Language", header)
		if l := (&Handler{}).langOf(httptest.NewRecorder(), r); l != got && r.Header.Get("Accept-Language") == header {
			t.Fatalf("langOf with Accept-Language %q = %q, acceptLanguage = %q", header, l, got)
		}
	})
}

// FuzzSessionCookie sends arbitrary session cookie values (and whole Cookie
// headers): only the real session's value signs in; anything else is no
// session (never an error), and the console answers a redirect to sign in,
// never a 5xx.
func FuzzSessionCookie(f *testing.F) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	u, err := (&identity.Service{Store: s, Now: now}).CreateUser(ctx, "alice", "password-1", "Alice")
	if err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := (&oauth.Service{Store: s, Catalog: permission.Default(), Lifetimes: oauth.DefaultLifetimes(),
		PublicURL: "http://x", Now: now, Log: log}).Init(&cache.Generation{})
	h, err := New(Handler{OAuth: svc, Store: s, Now: now, Log: log,
		Creds: &credential.Manager{Store: s, Catalog: permission.Default(), Now: now}})
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := h.startSession(rec, httptest.NewRequest(http.MethodPost, "/login", nil), u); err != nil {
		f.Fatal(err)
	}
	var valid string
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			valid = c.Value
		}
	}
	if valid == "" {
		f.Fatal("no session cookie")
	}
	mux := http.NewServeMux()
	h.Register(mux)
	for _, s := range []string{valid, valid + "x", "", "x", strings.Repeat("A", 43), "\"" + valid + "\"", valid[:42],
		"%00", "a;b", "' OR 1=1 --", strings.Repeat("z", 5000)} {
		f.Add(s, "")
	}
	f.Add("", sessionCookie+"="+valid+"; "+sessionCookie+"=junk")
	f.Add("", sessionCookie+"=junk; "+sessionCookie+"="+valid)
	f.Add("", "a=b; =; ;;"+sessionCookie)
	f.Fuzz(func(t *testing.T, value, header string) {
		r := httptest.NewRequest(http.MethodGet, "/console", nil)
		if header != "" {
			r.Header.Set("Cookie", header)
		} else {
			r.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		}
		var sent string // what currentSession reads: the first valid cookie of that name
		if c, err := r.Cookie(sessionCookie); err == nil {
			sent = c.Value
		}
		sess, err := h.currentSession(r)
		if err != nil {
			t.Fatalf("currentSession: %v", err)
		}
		if (sess != nil) != (sent == valid) {
			t.Fatalf("cookie %q: signed in = %v", sent, sess != nil)
		}
		if sess != nil && sess.User.ID != u.ID {
			t.Fatalf("signed in as %q", sess.User.ID)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("GET /console with cookie %q: %d", sent, w.Code)
		case sess == nil && (w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/login")):
			t.Fatalf("GET /console without a session: %d %q", w.Code, w.Header().Get("Location"))
		case sess != nil && w.Code != http.StatusOK:
			t.Fatalf("GET /console signed in: %d", w.Code)
		}
	})
}

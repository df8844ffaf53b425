package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cozeauth/cozeauth/internal/store"
)

const (
	sessionCookie = "cozeauth_session"
	// loginCSRFCookie is the double-submit cookie of the sign-in form, which
	// has no session to derive a token from.
	loginCSRFCookie = "cozeauth_csrf"
	csrfField       = "csrf_token"
)

// Form labels: a token for one form is useless on another.
const (
	formConsent       = "consent"
	formDevice        = "device"
	formDeviceConsent = "device-consent"
	formLogout        = "logout"
)

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// session is a signed-in request: the stored session and its user.
type session struct {
	store.Session
	User store.User
	// Admin: the user is SuperAdmin or Admin of at least one enterprise
	// (the console shows the service access token pages).
	Admin bool
	// cookie is the session ID from the browser's cookie; the store holds
	// only its hash. Flashes are sealed under a key derived from it.
	cookie string
}

// csrf returns the token for form label: HMAC-SHA256(secret, label).
func (s *session) csrf(label string) string {
	m := hmac.New(sha256.New, []byte(s.CSRFSecret))
	m.Write([]byte(label))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF compares the posted token for label in constant time.
func (s *session) checkCSRF(r *http.Request, label string) bool {
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue(csrfField)), []byte(s.csrf(label))) == 1
}

// currentSession returns the request's live session, or nil.
func (h *Handler) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	se, err := h.Store.GetSession(r.Context(), hashID(c.Value), h.Now().Unix())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := h.Store.GetUser(r.Context(), se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	mems, err := h.Store.ListUserEnterprises(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	admin := slices.ContainsFunc(mems, func(m store.EnterpriseMember) bool { return m.Role.IsAdmin() })
	// From here on the request acts as u (the audit log's actor).
	a := store.ActorFrom(r.Context())
	a.ID, a.Type = u.ID, store.ActorUser
	*r = *r.WithContext(store.WithActor(r.Context(), a))
	return &session{Session: se, User: u, Admin: admin, cookie: c.Value}, nil
}

// startSession stores a new session for u and sets its cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	id := randomToken()
	now := h.Now()
	exp := now.Add(h.SessionTTL)
	if err := h.Store.CreateSession(r.Context(), store.Session{IDHash: hashID(id), UserID: u.ID,
		CSRFSecret: randomToken(), CreatedAt: now.Unix(), ExpiresAt: exp.Unix()}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", Expires: exp,
		MaxAge: int(h.SessionTTL.Seconds()), HttpOnly: true, Secure: h.Secure, SameSite: http.SameSiteLaxMode})
	return nil
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.Secure,
		SameSite: http.SameSiteLaxMode})
}

// loginCSRF returns the sign-in form's double-submit token, reusing the
// browser's cookie so several open tabs keep working.
func (h *Handler) loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/", HttpOnly: true, Secure: h.Secure,
		SameSite: http.SameSiteStrictMode})
	return tok
}

func checkLoginCSRF(r *http.Request) bool {
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue(csrfField)), []byte(c.Value)) == 1
}

// sameOrigin refuses a POST whose Origin names another host. "null" is
// allowed: with Referrer-Policy no-referrer browsers send Origin: null on our
// own form posts (Fetch §3.1), and the CSRF token still guards them.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// safeNext returns next if it is a local path, else "". "//host" and
// "/\host" are refused: browsers read both as another host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	if strings.ContainsAny(next, "\\\r\n\t") || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	return next
}

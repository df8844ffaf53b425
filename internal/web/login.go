package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/store"
)

type loginView struct {
	CSRF     string
	Next     string
	Username string
	Error    string // catalog key
	// SignedIn: the browser already has a session (and no next).
	SignedIn bool
}

func loginURL(next string) string {
	if next == "" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	l := h.langOf(w, r)
	next := safeNext(r.URL.Query().Get("next"))
	sess, err := h.currentSession(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if sess != nil && next != "" {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	v := h.baseView(l, sess, "login.title")
	if sess != nil {
		v.P = loginView{SignedIn: true}
	} else {
		v.P = loginView{CSRF: h.loginCSRF(w, r), Next: next}
	}
	h.render(w, r, http.StatusOK, "login", v, loginURL(next))
}

// baseView fills what the layout shows.
func (h *Handler) baseView(l Lang, sess *session, titleKey string, args ...any) view {
	v := view{Lang: l, Title: l.T(titleKey, args...)}
	if sess != nil {
		v.User = sess.User.Username
		v.LogoutCSRF = sess.csrf(formLogout)
	}
	return v
}

// clientIP is the request's client address (X-Forwarded-For only from
// trusted proxies).
func (h *Handler) clientIP(r *http.Request) string { return h.ClientIP.IP(r) }

// truncate shortens s to at most n bytes for logging.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !checkLoginCSRF(r) {
		h.forbidden(w, r)
		return
	}
	l := h.langOf(w, r)
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	again := func(status int, msg string) {
		v := h.baseView(l, nil, "login.title")
		v.P = loginView{CSRF: h.loginCSRF(w, r), Next: next, Username: username, Error: msg}
		h.render(w, r, status, "login", v, loginURL(next))
	}
	if username == "" || password == "" {
		again(http.StatusBadRequest, "login.missing")
		return
	}
	now := h.Now()
	ip := h.clientIP(r)
	// Counted before the password is checked: a burst of parallel attempts
	// cannot all start a slow, memory-heavy hash under the limit.
	if !h.limiter.attempt(now, ip, username) {
		h.Log.WarnContext(r.Context(), "web: sign-in rate limited", "ip", ip, "username", truncate(username, maxUsernameKey))
		h.auditSignInFailure(r, now, username, "", "rate_limited")
		h.signedIn("rate_limited")
		again(http.StatusTooManyRequests, "login.rate_limited")
		return
	}
	u, err := h.Store.GetUserByUsername(r.Context(), username)
	hash := u.PasswordHash
	if errors.Is(err, store.ErrNotFound) {
		hash = h.dummyHash // same work for unknown users: timing does not tell them apart
	} else if err != nil {
		h.limiter.unjudged(ip, username)
		h.internal(w, r, err)
		return
	}
	ok, verr := h.Passwords.Verify(r.Context(), hash, password)
	if errors.Is(verr, identity.ErrBusy) || r.Context().Err() != nil {
		// Not judged: the attempt does not count against the user.
		h.limiter.unjudged(ip, username)
		h.Log.WarnContext(r.Context(), "web: sign-in refused, password checks busy", "ip", ip)
		w.Header().Set("Retry-After", "1")
		h.signedIn("busy")
		again(http.StatusServiceUnavailable, "login.busy")
		return
	}
	if err != nil || verr != nil || !ok {
		if verr != nil {
			h.Log.WarnContext(r.Context(), "web: password hash unusable", "username", username, "err", verr)
		}
		reason := "wrong_password"
		if err != nil {
			reason = "unknown_user"
		}
		h.auditSignInFailure(r, now, username, u.ID, reason)
		h.signedIn(reason)
		again(http.StatusUnauthorized, "login.failed")
		return
	}
	h.limiter.succeeded(ip, username)
	h.signedIn("success")
	if identity.NeedsRehash(u.PasswordHash) {
		h.rehash(r, u, password)
	}
	a := store.ActorFrom(r.Context())
	a.ID, a.Type = u.ID, store.ActorUser
	ctx := store.WithActor(r.Context(), a)
	r = r.WithContext(store.WithAudit(ctx, store.NewAuditEvent(ctx, now.Unix(), "signin.success", "user", u.ID, "",
		map[string]any{"username": u.Username})))
	if err := h.startSession(w, r, u); err != nil {
		h.internal(w, r, err)
		return
	}
	if next == "" {
		next = consolePath
	}
	http.Redirect(w, r, next, http.StatusFound)
}

// rehash stores a hash with the current argon2id parameters for a user whose
// hash was made with older ones (at their next successful sign-in, the only
// time the password is known). It runs in a password slot like a
// verification; a failure is logged and the sign-in goes on.
func (h *Handler) rehash(r *http.Request, u store.User, password string) {
	release, err := h.Passwords.Acquire(r.Context())
	if err != nil {
		return // busy: the next sign-in tries again
	}
	defer release()
	if _, err := h.Identity.Rehash(r.Context(), u, password); err != nil {
		h.Log.WarnContext(r.Context(), "web: re-hashing a password failed", "user_id", u.ID, "err", err)
	}
}

// signedIn reports a sign-in's outcome to OnSignIn.
func (h *Handler) signedIn(outcome string) {
	if h.OnSignIn != nil {
		h.OnSignIn(outcome)
	}
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	sess, err := h.currentSession(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if sess != nil {
		if !sess.checkCSRF(r, formLogout) {
			h.forbidden(w, r)
			return
		}
		ctx := store.WithAudit(r.Context(), store.NewAuditEvent(r.Context(), h.Now().Unix(), "signout", "user", sess.User.ID, "", nil))
		if err := h.Store.DeleteSession(ctx, sess.IDHash); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.internal(w, r, err)
			return
		}
	}
	h.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusFound)
}

package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/store"
)

const accountPath = consolePath + "/account"

// The account page's forms.
const (
	formAccountProfile  = "account-profile"
	formAccountPassword = "account-password"
	formAccountSignOut  = "account-signout"
)

type accountPageView struct {
	UID, Username, Nickname, AvatarURL string
	ProfileCSRF, PasswordCSRF          string
	SignOutCSRF                        string
	Errors                             map[string]string // field → catalog key
	Done                               string
}

var accountDone = map[string]string{"profile": "account.done.profile", "password": "account.done.password"}

func (h *Handler) registerAccount(handle func(string, http.HandlerFunc)) {
	handle("GET "+accountPath, h.console(h.accountPage))
	handle("POST "+accountPath+"/profile", h.consolePost(formAccountProfile, h.accountProfile))
	handle("POST "+accountPath+"/password", h.consolePost(formAccountPassword, h.accountPassword))
	handle("POST "+accountPath+"/signout-all", h.consolePost(formAccountSignOut, h.accountSignOutAll))
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, status int, sess *session, u store.User, errs map[string]string) {
	l := h.langOf(w, r)
	v := h.consoleView(l, sess, "account", "account.title")
	v.P = accountPageView{UID: u.ID, Username: u.Username, Nickname: u.Nickname, AvatarURL: u.AvatarURL,
		ProfileCSRF: sess.csrf(formAccountProfile), PasswordCSRF: sess.csrf(formAccountPassword),
		SignOutCSRF: sess.csrf(formAccountSignOut), Errors: errs, Done: accountDone[r.URL.Query().Get("done")]}
	h.render(w, r, status, "console_account", v, accountPath)
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, sess *session) {
	h.renderAccount(w, r, http.StatusOK, sess, sess.User, nil)
}

func (h *Handler) accountProfile(w http.ResponseWriter, r *http.Request, sess *session) {
	nick, avatar := r.PostFormValue("nickname"), r.PostFormValue("avatar_url")
	_, err := h.Identity.UpdateProfile(r.Context(), sess.User.ID, &nick, &avatar)
	if errors.Is(err, identity.ErrInvalid) {
		u := sess.User
		u.Nickname, u.AvatarURL = nick, avatar // keep what was typed
		field, key := "avatar_url", "account.err.avatar"
		if strings.Contains(err.Error(), "nickname") {
			field, key = "nickname", "account.err.nickname"
		}
		h.renderAccount(w, r, http.StatusBadRequest, sess, u, map[string]string{field: key})
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, accountPath+"?done=profile", http.StatusSeeOther)
}

// accountPassword changes the password after checking the current one; every
// other session of the user ends.
func (h *Handler) accountPassword(w http.ResponseWriter, r *http.Request, sess *session) {
	current, next, again := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	refuse := func(status int, field, key string) {
		h.renderAccount(w, r, status, sess, sess.User, map[string]string{field: key})
	}
	switch {
	case utf8.RuneCountInString(next) < identity.MinPasswordLen:
		refuse(http.StatusBadRequest, "new_password", "account.err.short")
		return
	case next != again:
		refuse(http.StatusBadRequest, "confirm_password", "account.err.mismatch")
		return
	}
	ok, err := h.Passwords.Verify(r.Context(), sess.User.PasswordHash, current)
	if errors.Is(err, identity.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		refuse(http.StatusServiceUnavailable, "current_password", "login.busy")
		return
	}
	if err != nil || !ok {
		refuse(http.StatusUnauthorized, "current_password", "account.err.current")
		return
	}
	if _, err := h.Identity.SetPassword(r.Context(), sess.User.ID, next, sess.IDHash); err != nil {
		h.internal(w, r, err)
		return
	}
	http.Redirect(w, r, accountPath+"?done=password", http.StatusSeeOther)
}

// accountSignOutAll ends every session of the user, this one included.
func (h *Handler) accountSignOutAll(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := store.WithAudit(r.Context(), store.NewAuditEvent(r.Context(), h.Now().Unix(), "signout.all", "user", sess.User.ID, "", nil))
	if _, err := h.Store.DeleteUserSessions(ctx, sess.User.ID, ""); err != nil {
		h.internal(w, r, err)
		return
	}
	h.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

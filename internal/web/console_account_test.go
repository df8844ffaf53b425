package web_test

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/web"
)

// formCSRF returns the CSRF token of the form that posts to action.
func formCSRF(t *testing.T, p page, action string) string {
	t.Helper()
	m := regexp.MustCompile(`action="` + regexp.QuoteMeta(action) + `"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)">`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form posting to %s:\n%s", action, p.body)
	}
	return m[1]
}

// TestConsoleAccount: the account page shows the UID (the personal account
// ID, seed 004) with Copy; the profile, password and sign-out-everywhere
// forms work and refuse bad input with a field error (issue 12.2).
func TestConsoleAccount(t *testing.T) {
	e := newEnv(t)
	b, other := e.browser(), e.browser()
	b.signIn()
	other.signIn()
	acct := b.get("/console/account")
	wantStatus(t, "account", acct, http.StatusOK)
	wantNoStore(t, "account", acct)
	wantBody(t, "account", acct, `id="uid" name="uid" type="text" readonly value="`+e.user.ID+`"`, `data-copy="uid"`,
		"<dd>alice</dd>", `value="Alice"`, `href="/console/account"`)
	if e.user.AccountID != e.user.ID {
		t.Fatalf("the personal account ID %s is not the UID %s", e.user.AccountID, e.user.ID)
	}
	profileCSRF := formCSRF(t, acct, "/console/account/profile")
	pwCSRF := formCSRF(t, acct, "/console/account/password")

	for _, tc := range []struct {
		name       string
		form       url.Values
		status     int
		wantInBody string
	}{
		{"no CSRF", url.Values{"nickname": {"x"}}, http.StatusForbidden, ""},
		{"bad avatar", url.Values{"csrf_token": {profileCSRF}, "nickname": {"Al"}, "avatar_url": {"javascript:alert(1)"}}, http.StatusBadRequest,
			"Use an absolute http or https URL"},
		{"saved", url.Values{"csrf_token": {profileCSRF}, "nickname": {"Al"}, "avatar_url": {"https://example.com/al.png"}}, http.StatusSeeOther, ""},
	} {
		t.Run("profile: "+tc.name, func(t *testing.T) {
			p := b.post("/console/account/profile", tc.form)
			wantStatus(t, tc.name, p, tc.status)
			if tc.wantInBody != "" {
				wantBody(t, tc.name, p, tc.wantInBody, `value="javascript:alert(1)"`, `aria-invalid="true"`)
			}
		})
	}
	if u, _ := e.store.GetUser(t.Context(), e.user.ID); u.Nickname != "Al" || u.AvatarURL != "https://example.com/al.png" {
		t.Errorf("profile not saved: %+v", u)
	}
	wantBody(t, "after save", b.get("/console/account?done=profile"), "Profile saved.", `value="https://example.com/al.png"`)

	pw := func(current, next, again string) url.Values {
		return url.Values{"csrf_token": {pwCSRF}, "current_password": {current}, "new_password": {next}, "confirm_password": {again}}
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"wrong current", pw("wrong password", "battery staple", "battery staple"), http.StatusUnauthorized, "The current password is wrong."},
		{"short", pw(password, "short", "short"), http.StatusBadRequest, "at least 8 characters"},
		{"mismatch", pw(password, "battery staple", "battery stapel"), http.StatusBadRequest, "The two new passwords differ."},
	} {
		t.Run("password: "+tc.name, func(t *testing.T) {
			p := b.post("/console/account/password", tc.form)
			wantStatus(t, tc.name, p, tc.status)
			wantBody(t, tc.name, p, tc.msg)
			if strings.Contains(p.body, password) || strings.Contains(p.body, "battery") {
				t.Error("the page echoes a password")
			}
		})
	}
	changed := b.post("/console/account/password", pw(password, "battery staple", "battery staple"))
	wantStatus(t, "change password", changed, http.StatusSeeOther)
	u, _ := e.store.GetUser(t.Context(), e.user.ID)
	if ok, _ := identity.VerifyPassword(u.PasswordHash, "battery staple"); !ok {
		t.Error("the new password does not verify")
	}
	wantBody(t, "this session stays", b.get(changed.location()), "Password changed.")
	if p := other.get("/console/account"); p.status != http.StatusFound {
		t.Errorf("the other session still works after the password change: %d", p.status)
	}

	// Sign out everywhere: this session ends too.
	out := b.post("/console/account/signout-all", url.Values{"csrf_token": {formCSRF(t, b.get("/console/account"), "/console/account/signout-all")}})
	wantStatus(t, "sign out everywhere", out, http.StatusSeeOther)
	if out.location() != "/login" {
		t.Errorf("sign out everywhere went to %q", out.location())
	}
	if p := b.get("/console/account"); p.status != http.StatusFound {
		t.Errorf("the session survived sign out everywhere: %d", p.status)
	}
}

// TestSignInRehashes: a hash made with older argon2id parameters is replaced
// at the next successful sign-in (issue 13.3), and a failed one changes
// nothing.
func TestSignInRehashes(t *testing.T) {
	e := newEnv(t)
	salt := []byte("0123456789abcdef")
	b64 := base64.RawStdEncoding
	old := fmt.Sprintf("$argon2id$v=19$m=8192,t=3,p=1$%s$%s", b64.EncodeToString(salt),
		b64.EncodeToString(argon2.IDKey([]byte(password), salt, 3, 8192, 1, 32)))
	if _, err := e.store.UpdateUser(t.Context(), e.user.ID, func(u store.User) (store.User, error) {
		u.PasswordHash = old
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if p := e.browser().login("alice", "wrong password", ""); p.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.status)
	}
	if u, _ := e.store.GetUser(t.Context(), e.user.ID); u.PasswordHash != old {
		t.Error("a failed sign-in changed the hash")
	}
	e.browser().signIn()
	u, _ := e.store.GetUser(t.Context(), e.user.ID)
	if u.PasswordHash == old || identity.NeedsRehash(u.PasswordHash) {
		t.Errorf("hash after sign-in = %s, want current parameters", u.PasswordHash)
	}
	e.browser().signIn() // the new hash verifies
}

var (
	tagRE     = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]*>`)
	verbRE    = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	twoWordRE = regexp.MustCompile(`[A-Za-z]+[ -][A-Za-z]+`)
)

// TestChinesePagesHaveNoEnglish: a console page in Chinese shows no English
// catalog text (issue 12.9): every message its templates or Go code pick is
// in Chinese.
func TestChinesePagesHaveNoEnglish(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	b.get("/console?lang=zh-CN") // remembered in a cookie
	var pieces []string
	for _, en := range web.EnglishMessages() {
		for _, p := range verbRE.Split(en, -1) {
			if p = strings.TrimSpace(p); len(p) >= 8 && twoWordRE.MatchString(p) {
				pieces = append(pieces, p)
			}
		}
	}
	for _, path := range []string{"/console", "/console/tokens", "/console/tokens/new", "/console/apps", "/console/apps/new",
		"/console/apps/" + e.app.ID, "/console/apps/" + e.device.ID, "/console/apps/" + e.app.ID + "/sample", "/console/authorized",
		"/console/workspaces", "/console/audit", "/console/account", "/console/nothing",
		"/api/permission/oauth2/authorize?response_type=code"} {
		p := b.get(path)
		text := html.UnescapeString(tagRE.ReplaceAllString(p.body, " "))
		text = strings.Join(strings.Fields(text), " ")
		for _, en := range pieces {
			if strings.Contains(text, en) {
				t.Errorf("%s (zh-CN) shows English %q", path, en)
			}
		}
	}
}

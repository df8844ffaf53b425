package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/store"
)

const personalPath = consolePath + "/personal-resources"

// formPersonal guards the Authorize and Revoke buttons of personal account
// resource authorization.
const formPersonal = "personal-resources"

func (h *Handler) registerPersonal(handle func(string, http.HandlerFunc)) {
	handle("GET "+personalPath, h.console(h.ent(h.personalList)))
	handle("POST "+personalPath+"/{enterprise}/{id}/authorize", h.consolePost(formPersonal, h.ent(h.personalAuthorize)))
	handle("POST "+personalPath+"/{enterprise}/{id}/confirm-revoke", h.consolePost(formPersonal, h.ent(h.personalConfirmRevoke)))
	handle("POST "+personalPath+"/{enterprise}/{id}/revoke", h.consolePost(formPersonal, h.ent(h.personalRevoke)))
}

type authorizableRow struct {
	ID, Kind, Name string
	Permissions    []permText
	Authorized     bool
	Action         string // the button's path, without /authorize or /revoke
}

type authorizableGroup struct {
	Enterprise string
	Rows       []authorizableRow
}

type personalListView struct {
	Groups []authorizableGroup
	CSRF   string
	Done   string
}

var personalDone = map[string]string{"authorized": "personal.done.authorized", "revoked": "personal.done.revoked"}

// personalList lists, enterprise by enterprise, the enterprise PATs the user
// created and the apps installed there, each with its account-level
// permissions and whether it may reach the user's personal account. OBO
// grants never appear: they act as a person, who has their own account.
func (h *Handler) personalList(w http.ResponseWriter, r *http.Request, sess *session) {
	ents, ok := h.administered(w, r, sess)
	if !ok {
		return
	}
	all, err := h.Enterprise.Authorizables(r.Context(), sess.User.ID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	l := h.langOf(w, r)
	lv := personalListView{CSRF: sess.csrf(formPersonal), Done: personalDone[r.URL.Query().Get("done")]}
	for _, e := range ents {
		g := authorizableGroup{Enterprise: e.Name}
		for _, a := range all {
			if a.Enterprise.ID != e.ID {
				continue
			}
			g.Rows = append(g.Rows, authorizableRow{ID: a.ID, Kind: l.T("personal.kind." + string(a.Kind)), Name: a.Name,
				Permissions: h.permTexts(l, a.Permissions), Authorized: a.Authorized,
				Action: personalPath + "/" + url.PathEscape(e.ID) + "/" + url.PathEscape(a.ID)})
		}
		lv.Groups = append(lv.Groups, g)
	}
	v := h.consoleView(l, sess, "personal", "personal.title")
	v.P = lv
	h.render(w, r, http.StatusOK, "console_personal", v, personalPath)
}

// authorizable returns the credential of the path among what the user can
// authorize, or answers 404.
func (h *Handler) authorizable(w http.ResponseWriter, r *http.Request, sess *session) (enterprise.Authorizable, bool) {
	all, err := h.Enterprise.Authorizables(r.Context(), sess.User.ID)
	if err != nil {
		h.internal(w, r, err)
		return enterprise.Authorizable{}, false
	}
	i := slices.IndexFunc(all, func(a enterprise.Authorizable) bool {
		return a.ID == r.PathValue("id") && a.Enterprise.ID == r.PathValue("enterprise")
	})
	if i < 0 {
		h.notFound(w, r, sess)
		return enterprise.Authorizable{}, false
	}
	return all[i], true
}

func (h *Handler) personalAuthorize(w http.ResponseWriter, r *http.Request, sess *session) {
	a, ok := h.authorizable(w, r, sess)
	if !ok {
		return
	}
	err := h.Enterprise.AuthorizeCredential(r.Context(), sess.User.ID, a.ID, a.Enterprise.ID)
	if errors.Is(err, enterprise.ErrInvalid) { // changed a moment ago
		h.notFound(w, r, sess)
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, personalPath+"?done=authorized", http.StatusSeeOther)
}

// personalConfirmRevoke asks before ending the authorization of an
// enterprise credential on the personal account's resources.
func (h *Handler) personalConfirmRevoke(w http.ResponseWriter, r *http.Request, sess *session) {
	a, ok := h.authorizable(w, r, sess)
	if !ok {
		return
	}
	h.confirm(w, r, sess, "personal", confirmView{Title: "personal.revoke.title", Intro: "personal.revoke.intro",
		Button: "personal.revoke.confirm", Name: a.Name,
		Action: personalPath + "/" + url.PathEscape(a.Enterprise.ID) + "/" + url.PathEscape(a.ID) + "/revoke",
		CSRF:   sess.csrf(formPersonal), Back: personalPath})
}

func (h *Handler) personalRevoke(w http.ResponseWriter, r *http.Request, sess *session) {
	a, ok := h.authorizable(w, r, sess)
	if !ok {
		return
	}
	// Not found: not authorized (any more); the page shows that.
	if err := h.Enterprise.RevokeCredential(r.Context(), sess.User.ID, a.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, personalPath+"?done=revoked", http.StatusSeeOther)
}

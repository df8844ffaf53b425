package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/cozeauth/cozeauth/internal/store"
)

const authorizedPath = consolePath + "/authorized"

// formGrantRevoke guards the Revoke buttons of the authorized apps.
const formGrantRevoke = "grant-revoke"

type grantRow struct {
	ID, AppName, Kind, Account string
	Permissions                []string
	AllWorkspaces              bool
	Workspaces                 []string
	Created                    timeView
}

type grantListView struct {
	Rows       []grantRow
	RevokeCSRF string
	Done       string
}

// authorizedList shows the grants the user gave: OBO consents and their
// personal account's AppAuth authorizations.
func (h *Handler) authorizedList(w http.ResponseWriter, r *http.Request, sess *session) {
	l := h.langOf(w, r)
	grants, err := h.Store.ListGrants(r.Context(), store.GrantFilter{UserID: sess.User.ID})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	accts, err := h.accountsOf(r.Context(), sess.User)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	wsNames := map[string]string{}
	for _, a := range accts {
		for _, ws := range a.Workspaces {
			wsNames[ws.ID] = ws.Name
		}
	}
	lv := grantListView{RevokeCSRF: sess.csrf(formGrantRevoke)}
	if r.URL.Query().Get("done") == "revoked" {
		lv.Done = "authorized.done.revoked"
	}
	for _, g := range grants {
		app, err := h.OAuth.GetApp(r.Context(), g.AppID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted with its grants a moment ago
		}
		if err != nil {
			h.internal(w, r, err)
			return
		}
		row := grantRow{ID: g.ID, AppName: app.Name, Kind: l.T("authorized.kind." + string(g.Kind)),
			Account: accountName(l, accts, g.Owner), Permissions: g.Permissions, AllWorkspaces: g.AllWorkspaces,
			Created: unixTime(g.CreatedAt)}
		for _, id := range g.WorkspaceIDs {
			name, ok := wsNames[id]
			if !ok {
				name = id // a workspace the user has left
			}
			row.Workspaces = append(row.Workspaces, name)
		}
		lv.Rows = append(lv.Rows, row)
	}
	v := h.consoleView(l, sess, "authorized", "authorized.title")
	v.P = lv
	h.render(w, r, http.StatusOK, "console_authorized", v, authorizedPath)
}

// grantRevoke deletes one of the user's grants; the store revokes its tokens
// in the same transaction, Invalidate drops them from this process's caches
// and the revision poll from the others'.
func (h *Handler) grantRevoke(w http.ResponseWriter, r *http.Request, sess *session) {
	g, ok := h.ownGrant(w, r, sess)
	if !ok {
		return
	}
	ent := ""
	if g.Owner.Type == store.OwnerEnterprise {
		ent = g.Owner.ID
	}
	ctx := store.WithAudit(r.Context(), store.NewAuditEvent(r.Context(), h.Now().Unix(), "grant.revoke", "app", g.AppID, ent,
		map[string]any{"grant_id": g.ID, "kind": g.Kind, "account_type": g.Owner.Type, "account_id": g.Owner.ID}))
	if err := h.Store.DeleteGrant(ctx, g.ID, h.Now().Unix()); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, authorizedPath+"?done=revoked", http.StatusSeeOther)
}

// ownGrant is the grant of the path's {id} if the signed-in user gave it;
// otherwise it answers 404.
func (h *Handler) ownGrant(w http.ResponseWriter, r *http.Request, sess *session) (store.Grant, bool) {
	g, err := h.Store.GetGrant(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.UserID != sess.User.ID) {
		h.notFound(w, r, sess)
		return store.Grant{}, false
	}
	if err != nil {
		h.internal(w, r, err)
		return store.Grant{}, false
	}
	return g, true
}

// grantConfirmRevoke asks before revoking an authorization: the app's tokens
// from it stop at once.
func (h *Handler) grantConfirmRevoke(w http.ResponseWriter, r *http.Request, sess *session) {
	g, ok := h.ownGrant(w, r, sess)
	if !ok {
		return
	}
	app, err := h.OAuth.GetApp(r.Context(), g.AppID)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r, sess)
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.confirm(w, r, sess, "authorized", confirmView{Title: "authorized.revoke.title", Intro: "authorized.revoke.intro",
		Button: "authorized.revoke.confirm", Name: app.Name, Action: authorizedPath + "/" + url.PathEscape(g.ID) + "/revoke",
		CSRF: sess.csrf(formGrantRevoke), Back: authorizedPath})
}

package web

import (
	"context"
	"net/http"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

const consolePath = "/console"

// Console form labels (see session.csrf): one token per kind of form.
const (
	formTokenCreate = "token-create"
	formTokenEdit   = "token-edit"
	formTokenDelete = "token-delete"
	formSATCreate   = "sat-create"
	formSATEdit     = "sat-edit"
	formSATDelete   = "sat-delete"
)

// navItem is one link of the console navigation.
type navItem struct {
	Key, Href, Label string
	Current          bool
	// Children: a group (the enterprise pages), shown as a disclosure whose
	// entries are Children; Href is empty.
	Children []navItem
}

// consoleSections are the navigation's entries: key → path and label key.
// Entries of a Group are shown together under the group's label, so the
// navigation fits one row at 1280 px.
var consoleSections = []struct {
	Key, Path, Label string
	AdminOnly        bool   // shown to enterprise admins only
	Group            string // label key of the group, if any
}{
	{"tokens", consolePath + "/tokens", "nav.tokens", false, ""},
	{"apps", consolePath + "/apps", "nav.apps", false, ""},
	{"authorized", consolePath + "/authorized", "nav.authorized", false, ""},
	{"workspaces", consolePath + "/workspaces", "nav.workspaces", false, ""},
	{"sats", satsPath, "nav.sats", true, "nav.group.enterprise"},
	{"enterprises", enterprisesPath, "nav.enterprises", true, "nav.group.enterprise"},
	{"personal", personalPath, "nav.personal", true, "nav.group.enterprise"},
	{"audit", auditPath, "nav.audit", false, ""},
}

func (h *Handler) registerConsole(handle func(string, http.HandlerFunc)) {
	handle("GET "+consolePath, h.console(h.consoleHome))
	patKind.register(h, handle)
	satKind.register(h, handle)
	h.registerApps(handle)
	handle("GET "+authorizedPath, h.console(h.authorizedList))
	handle("POST "+authorizedPath+"/{id}/confirm-revoke", h.consolePost(formGrantRevoke, h.grantConfirmRevoke))
	handle("POST "+authorizedPath+"/{id}/revoke", h.consolePost(formGrantRevoke, h.grantRevoke))
	handle("GET "+consolePath+"/workspaces", h.console(h.workspaceList))
	handle("GET "+auditPath, h.console(h.auditList))
	h.registerEnterprise(handle)
	h.registerAccount(handle)
	handle("GET "+consolePath+"/", h.console(func(w http.ResponseWriter, r *http.Request, sess *session) {
		h.notFound(w, r, sess)
	}))
}

type consoleHandler func(w http.ResponseWriter, r *http.Request, sess *session)

// console wraps a GET page: it needs a session, else the browser is sent to
// sign in and come back.
func (h *Handler) console(fn consoleHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := h.currentSession(r)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		if sess == nil {
			http.Redirect(w, r, loginURL(r.URL.RequestURI()), http.StatusFound)
			return
		}
		fn(w, r, sess)
	}
}

// consolePost wraps a form POST: a session and its CSRF token for label are
// required, else 403.
func (h *Handler) consolePost(label string, fn consoleHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if sess := h.postedSession(w, r, label); sess != nil {
			fn(w, r, sess)
		}
	}
}

// consoleView is baseView plus the console navigation.
func (h *Handler) consoleView(l Lang, sess *session, nav, titleKey string, args ...any) view {
	v := h.baseView(l, sess, titleKey, args...)
	v.Nav = nav
	for _, s := range consoleSections {
		if s.AdminOnly && !sess.Admin {
			continue
		}
		if (s.Key == "enterprises" || s.Key == "personal") && h.Enterprise == nil {
			continue
		}
		it := navItem{Key: s.Key, Href: s.Path, Label: l.T(s.Label), Current: s.Key == nav}
		if s.Group == "" {
			v.NavItems = append(v.NavItems, it)
			continue
		}
		if n := len(v.NavItems); n == 0 || v.NavItems[n-1].Key != s.Group {
			v.NavItems = append(v.NavItems, navItem{Key: s.Group, Label: l.T(s.Group)})
		}
		g := &v.NavItems[len(v.NavItems)-1]
		g.Children = append(g.Children, it)
		g.Current = g.Current || it.Current
	}
	return v
}

func (h *Handler) consoleHome(w http.ResponseWriter, r *http.Request, sess *session) {
	l := h.langOf(w, r)
	v := h.consoleView(l, sess, "home", "console.title")
	h.render(w, r, http.StatusOK, "console_home", v, consolePath)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, sess *session) {
	l := h.langOf(w, r)
	v := h.consoleView(l, sess, "", "error.not_found.title")
	v.P = errorView{Message: "error.not_found"}
	h.render(w, r, http.StatusNotFound, "error", v, consolePath)
}

// account is one account the user can create a credential in, with the
// user's workspaces there.
type account struct {
	Owner      store.Owner
	Name       string // "" for the personal account (shown translated)
	Workspaces []store.MemberWorkspace
}

// accountsOf lists the user's personal account first, then the enterprises
// they belong to, each with the user's workspaces in it.
func (h *Handler) accountsOf(ctx context.Context, u store.User) ([]account, error) {
	accts := []account{{Owner: u.Account()}}
	mems, err := h.Store.ListUserEnterprises(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range mems {
		e, err := h.Store.GetEnterprise(ctx, m.EnterpriseID)
		if err != nil {
			return nil, err
		}
		accts = append(accts, account{Owner: store.Owner{Type: store.OwnerEnterprise, ID: e.ID}, Name: e.Name})
	}
	wss, err := h.Store.ListMemberWorkspaces(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, ws := range wss {
		for i := range accts {
			if accts[i].Owner == ws.Owner {
				accts[i].Workspaces = append(accts[i].Workspaces, ws)
			}
		}
	}
	return accts, nil
}

// timeView is a moment shown as <time datetime=ISO>UTC text</time>; the
// console script rewrites the text in the browser's locale and time zone.
type timeView struct{ ISO, Text string }

func unixTime(t int64) timeView {
	u := time.Unix(t, 0).UTC()
	return timeView{ISO: u.Format(time.RFC3339), Text: u.Format("2006-01-02 15:04 UTC")}
}

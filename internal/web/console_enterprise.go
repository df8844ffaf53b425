package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/store"
)

// The enterprise pages of seed 004: the share link of a Service app and its
// installation in an enterprise, the enterprise's installations, the
// migration of a personal workspace (console_migrate.go) and personal
// account resource authorization (console_personal.go). The changes go
// through h.Enterprise, which validates them and writes their audit events.

const (
	installPath     = consolePath + "/install"
	enterprisesPath = consolePath + "/enterprises"
)

// Console form labels of the enterprise pages.
const (
	formAppInstall    = "app-install"
	formInstallRevoke = "install-revoke"
)

func (h *Handler) registerEnterprise(handle func(string, http.HandlerFunc)) {
	handle("GET "+installPath+"/{client_id}", h.console(h.ent(h.installPage)))
	handle("POST "+installPath+"/{client_id}", h.consolePost(formAppInstall, h.ent(h.install)))
	handle("GET "+enterprisesPath, h.console(h.ent(h.enterpriseList)))
	handle("GET "+enterprisesPath+"/{id}/installations", h.console(h.ent(h.installationList)))
	handle("POST "+enterprisesPath+"/{id}/installations/{app}/confirm-revoke", h.consolePost(formInstallRevoke, h.ent(h.installationConfirm)))
	handle("POST "+enterprisesPath+"/{id}/installations/{app}/revoke", h.consolePost(formInstallRevoke, h.ent(h.installationRevoke)))
	h.registerMigrate(handle)
	h.registerPersonal(handle)
}

// ent answers 404 when the handler has no enterprise service (a test
// handler without it), so the pages need not check.
func (h *Handler) ent(fn consoleHandler) consoleHandler {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		if h.Enterprise == nil {
			h.notFound(w, r, sess)
			return
		}
		fn(w, r, sess)
	}
}

// shareURL is the link an app's owner sends to enterprise admins.
func (h *Handler) shareURL(app store.App) string {
	return h.OAuth.PublicURL + installPath + "/" + url.PathEscape(app.ClientID)
}

// permText is a permission with its description in the page language.
type permText struct{ Name, Text string }

func (h *Handler) permTexts(l Lang, names []string) []permText {
	out := make([]permText, 0, len(names))
	for _, n := range names {
		pt := permText{Name: n}
		if p, ok := h.Catalog.Lookup(n); ok {
			pt.Text = p.Text(string(l))
		}
		out = append(out, pt)
	}
	return out
}

// adminEnterprises lists the enterprises the user is SuperAdmin or Admin of.
func (h *Handler) adminEnterprises(ctx context.Context, sess *session) ([]store.Enterprise, error) {
	if h.Enterprise == nil || !sess.Admin {
		return nil, nil
	}
	return h.Enterprise.AdminEnterprises(ctx, sess.User.ID)
}

// ---- share link and installation

// installApp returns the active Service app of the share link, or answers
// 404: other client types are authorized by consent, not installed.
func (h *Handler) installApp(w http.ResponseWriter, r *http.Request, sess *session) (store.App, bool) {
	app, err := h.Enterprise.Store.GetAppByClientID(r.Context(), r.PathValue("client_id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (app.ClientType != store.ClientService || !app.Active)) {
		l := h.langOf(w, r)
		v := h.consoleView(l, sess, "", "install.missing.title")
		v.P = errorView{Message: "install.missing"}
		h.render(w, r, http.StatusNotFound, "error", v, r.URL.RequestURI())
		return store.App{}, false
	}
	if err != nil {
		h.internal(w, r, err)
		return store.App{}, false
	}
	return app, true
}

type installView struct {
	Name, Description, ClientID string
	TypeLabel, TypeHelp         string
	Owner                       string
	Permissions                 []permText
	Enterprises                 []option
	Action, CSRF                string
	Error                       string // catalog key of the enterprise field's error
}

// ownerName is who owns the app, as the share-link page shows it.
func (h *Handler) ownerName(ctx context.Context, l Lang, app store.App) (string, error) {
	if app.Owner.Type == store.OwnerEnterprise {
		e, err := h.Store.GetEnterprise(ctx, app.Owner.ID)
		if errors.Is(err, store.ErrNotFound) {
			return app.Owner.ID, nil
		}
		return e.Name, err
	}
	u, err := h.Store.GetUser(ctx, app.CreatedBy)
	if errors.Is(err, store.ErrNotFound) {
		return l.T("consent.account.personal"), nil
	}
	if err != nil {
		return "", err
	}
	name := u.Nickname
	if name == "" || name == u.Username {
		name = u.Username
	} else {
		name += " (" + u.Username + ")"
	}
	return l.T("install.owner.personal", name), nil
}

func (h *Handler) renderInstall(w http.ResponseWriter, r *http.Request, status int, sess *session, app store.App, chosen, errKey string) {
	l := h.langOf(w, r)
	ents, err := h.adminEnterprises(r.Context(), sess)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	owner, err := h.ownerName(r.Context(), l, app)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	iv := installView{Name: app.Name, Description: app.Description, ClientID: app.ClientID,
		TypeLabel: l.T("client." + string(app.ClientType)), TypeHelp: l.T("client." + string(app.ClientType) + ".help"),
		Owner: owner, Permissions: h.permTexts(l, app.Permissions), Action: installPath + "/" + url.PathEscape(app.ClientID),
		CSRF: sess.csrf(formAppInstall), Error: errKey}
	for _, e := range ents {
		gs, err := h.Store.ListGrants(r.Context(), store.GrantFilter{AppID: app.ID, Kind: store.GrantAppAuth,
			Owner: store.Owner{Type: store.OwnerEnterprise, ID: e.ID}})
		if err != nil {
			h.internal(w, r, err)
			return
		}
		label := e.Name
		if len(gs) > 0 {
			label = l.T("install.already", e.Name)
		}
		iv.Enterprises = append(iv.Enterprises, option{Value: e.ID, Label: label, Selected: e.ID == chosen})
	}
	v := h.consoleView(l, sess, "install", "install.title", app.Name)
	v.P = iv
	h.render(w, r, status, "console_install", v, installPath+"/"+url.PathEscape(app.ClientID))
}

func (h *Handler) installPage(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.installApp(w, r, sess)
	if !ok {
		return
	}
	h.renderInstall(w, r, http.StatusOK, sess, app, "", "")
}

func (h *Handler) install(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.installApp(w, r, sess)
	if !ok {
		return
	}
	entID := r.PostFormValue("enterprise")
	ents, err := h.adminEnterprises(r.Context(), sess)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if !slices.ContainsFunc(ents, func(e store.Enterprise) bool { return e.ID == entID }) {
		h.renderInstall(w, r, http.StatusBadRequest, sess, app, entID, "install.err.enterprise")
		return
	}
	_, err = h.Enterprise.Install(r.Context(), app.ID, entID, sess.User.ID)
	if errors.Is(err, oauth.ErrInvalidApp) || errors.Is(err, enterprise.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		// Changed meanwhile (the admin lost the role, the enterprise went).
		h.Log.InfoContext(r.Context(), "web: install refused", "err", err)
		h.renderInstall(w, r, http.StatusBadRequest, sess, app, entID, "install.err.enterprise")
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, installationsPath(entID)+"?done=installed", http.StatusSeeOther)
}

// ---- enterprises and their installations

func installationsPath(enterpriseID string) string {
	return enterprisesPath + "/" + url.PathEscape(enterpriseID) + "/installations"
}

type enterpriseRow struct {
	ID, Name, Installations string
}

func (h *Handler) enterpriseList(w http.ResponseWriter, r *http.Request, sess *session) {
	ents, ok := h.administered(w, r, sess)
	if !ok {
		return
	}
	l := h.langOf(w, r)
	rows := make([]enterpriseRow, 0, len(ents))
	for _, e := range ents {
		rows = append(rows, enterpriseRow{ID: e.ID, Name: e.Name, Installations: installationsPath(e.ID)})
	}
	v := h.consoleView(l, sess, "enterprises", "enterprises.title")
	v.P = rows
	h.render(w, r, http.StatusOK, "console_enterprises", v, enterprisesPath)
}

// administered returns the enterprises the user administers, or answers 404
// when there are none: the enterprise pages are for enterprise admins.
func (h *Handler) administered(w http.ResponseWriter, r *http.Request, sess *session) ([]store.Enterprise, bool) {
	ents, err := h.adminEnterprises(r.Context(), sess)
	if err != nil {
		h.internal(w, r, err)
		return nil, false
	}
	if len(ents) == 0 {
		h.notFound(w, r, sess)
		return nil, false
	}
	return ents, true
}

// adminEnterprise returns the enterprise named by the path if the user
// administers it, or answers 404: an enterprise the user does not administer
// is indistinguishable from a missing one.
func (h *Handler) adminEnterprise(w http.ResponseWriter, r *http.Request, sess *session) (store.Enterprise, bool) {
	ents, err := h.adminEnterprises(r.Context(), sess)
	if err != nil {
		h.internal(w, r, err)
		return store.Enterprise{}, false
	}
	i := slices.IndexFunc(ents, func(e store.Enterprise) bool { return e.ID == r.PathValue("id") })
	if i < 0 {
		h.notFound(w, r, sess)
		return store.Enterprise{}, false
	}
	return ents[i], true
}

type installationRow struct {
	AppID, Name string
	Permissions []permText
	InstalledBy string // "" when unknown
	Installed   timeView
}

type installationListView struct {
	Enterprise string
	Base       string // the page's path
	Rows       []installationRow
	RevokeCSRF string
	Done       string
}

var installationDone = map[string]string{"installed": "installations.done.installed", "revoked": "installations.done.revoked"}

func (h *Handler) installationList(w http.ResponseWriter, r *http.Request, sess *session) {
	e, ok := h.adminEnterprise(w, r, sess)
	if !ok {
		return
	}
	ins, err := h.Enterprise.Installations(r.Context(), e.ID, sess.User.ID)
	if errors.Is(err, enterprise.ErrInvalid) { // lost the role a moment ago
		h.notFound(w, r, sess)
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	l := h.langOf(w, r)
	lv := installationListView{Enterprise: e.Name, Base: installationsPath(e.ID), RevokeCSRF: sess.csrf(formInstallRevoke),
		Done: installationDone[r.URL.Query().Get("done")]}
	for _, in := range ins {
		lv.Rows = append(lv.Rows, installationRow{AppID: in.App.ID, Name: in.App.Name,
			Permissions: h.permTexts(l, in.Grant.Permissions), InstalledBy: in.InstalledBy.Username,
			Installed: unixTime(in.Grant.CreatedAt)})
	}
	v := h.consoleView(l, sess, "enterprises", "installations.title", e.Name)
	v.P = lv
	h.render(w, r, http.StatusOK, "console_installations", v, installationsPath(e.ID))
}

// installation returns the enterprise of the path, which the user must
// administer, and the app of the path, which must be installed in it; or
// answers 404.
func (h *Handler) installation(w http.ResponseWriter, r *http.Request, sess *session) (store.Enterprise, store.App, bool) {
	e, ok := h.adminEnterprise(w, r, sess)
	if !ok {
		return e, store.App{}, false
	}
	app, ok := h.installed(w, r, sess, e)
	return e, app, ok
}

// installed returns the app of the path if it is installed in e, or
// answers 404.
func (h *Handler) installed(w http.ResponseWriter, r *http.Request, sess *session, e store.Enterprise) (store.App, bool) {
	gs, err := h.Store.ListGrants(r.Context(), store.GrantFilter{AppID: r.PathValue("app"), Kind: store.GrantAppAuth,
		Owner: store.Owner{Type: store.OwnerEnterprise, ID: e.ID}})
	if err != nil {
		h.internal(w, r, err)
		return store.App{}, false
	}
	if len(gs) == 0 {
		h.notFound(w, r, sess)
		return store.App{}, false
	}
	return h.app(w, r, sess, gs[0].AppID)
}

func (h *Handler) installationConfirm(w http.ResponseWriter, r *http.Request, sess *session) {
	e, app, ok := h.installation(w, r, sess)
	if !ok {
		return
	}
	l := h.langOf(w, r)
	back := installationsPath(e.ID)
	v := h.consoleView(l, sess, "enterprises", "installations.revoke.title", app.Name)
	v.P = confirmView{Intro: "installations.revoke.intro", Button: "installations.revoke.confirm", Name: app.Name,
		Action: back + "/" + url.PathEscape(app.ID) + "/revoke", CSRF: sess.csrf(formInstallRevoke), Back: back}
	h.render(w, r, http.StatusOK, "console_confirm", v, back)
}

func (h *Handler) installationRevoke(w http.ResponseWriter, r *http.Request, sess *session) {
	e, app, ok := h.installation(w, r, sess)
	if !ok {
		return
	}
	err := h.Enterprise.Uninstall(r.Context(), app.ID, e.ID, sess.User.ID)
	if errors.Is(err, enterprise.ErrInvalid) {
		h.notFound(w, r, sess)
		return
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) { // not found: revoked a moment ago
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, installationsPath(e.ID)+"?done=revoked", http.StatusSeeOther)
}

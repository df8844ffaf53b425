package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

const appsPath = consolePath + "/apps"

// Console form labels of the app pages.
const (
	formAppCreate = "app-create"
	formAppEdit   = "app-edit"
	// formAppAction guards the app page's buttons: secrets, keys,
	// authorization, deactivation and deletion.
	formAppAction = "app-action"
)

// clientTypes are the four client types in the order the form offers them.
var clientTypes = []store.ClientType{store.ClientWebBackend, store.ClientSinglePageOrNative, store.ClientTerminal, store.ClientService}

func (h *Handler) registerApps(handle func(string, http.HandlerFunc)) {
	handle("GET "+appsPath, h.console(h.appList))
	handle("GET "+appsPath+"/new", h.console(h.appNew))
	handle("POST "+appsPath, h.consolePost(formAppCreate, h.appCreate))
	handle("GET "+appsPath+"/{id}", h.console(h.appShow))
	handle("POST "+appsPath+"/{id}", h.consolePost(formAppEdit, h.appUpdate))
	handle("POST "+appsPath+"/{id}/secrets", h.consolePost(formAppAction, h.appAddSecret))
	handle("GET "+appsPath+"/{id}/secret", h.console(h.appSecret))
	handle("POST "+appsPath+"/{id}/secrets/{sid}/confirm-delete", h.consolePost(formAppAction, h.appConfirmDeleteSecret))
	handle("POST "+appsPath+"/{id}/secrets/{sid}/delete", h.consolePost(formAppAction, h.appDeleteSecret))
	handle("POST "+appsPath+"/{id}/keys", h.consolePost(formAppAction, h.appUploadKey))
	handle("POST "+appsPath+"/{id}/keys/generate", h.consolePost(formAppAction, h.appGenerateKey))
	handle("POST "+appsPath+"/{id}/keys/{kid}/confirm-delete", h.consolePost(formAppAction, h.appConfirmDeleteKey))
	handle("POST "+appsPath+"/{id}/keys/{kid}/delete", h.consolePost(formAppAction, h.appDeleteKey))
	handle("POST "+appsPath+"/{id}/authorize", h.consolePost(formAppAction, h.appAuthorize))
	handle("POST "+appsPath+"/{id}/confirm-deactivate", h.consolePost(formAppAction, h.appConfirm("deactivate")))
	handle("POST "+appsPath+"/{id}/deactivate", h.consolePost(formAppAction, h.appDeactivate))
	handle("POST "+appsPath+"/{id}/activate", h.consolePost(formAppAction, h.appActivate))
	handle("POST "+appsPath+"/{id}/confirm-delete", h.consolePost(formAppAction, h.appConfirm("delete")))
	handle("POST "+appsPath+"/{id}/delete", h.consolePost(formAppAction, h.appDelete))
	handle("GET "+appsPath+"/{id}/sample", h.console(h.appSample))
	handle("POST "+appsPath+"/{id}/sample", h.consolePost(formAppSample, h.appSampleDownload))
}

// adminAccounts lists the accounts whose apps the user manages: the personal
// account, then the enterprises where the user is SuperAdmin or Admin.
func (h *Handler) adminAccounts(ctx context.Context, u store.User) ([]account, error) {
	accts := []account{{Owner: u.Account()}}
	mems, err := h.Store.ListUserEnterprises(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range mems {
		if !m.Role.IsAdmin() {
			continue
		}
		e, err := h.Store.GetEnterprise(ctx, m.EnterpriseID)
		if err != nil {
			return nil, err
		}
		accts = append(accts, account{Owner: store.Owner{Type: store.OwnerEnterprise, ID: e.ID}, Name: e.Name})
	}
	return accts, nil
}

type appRow struct {
	ID, Name, Account, ClientType, ClientID string
	Active                                  bool
	Share                                   bool // a Service app: the row links to its share link
}

type appListView struct {
	Rows       []appRow
	ActionCSRF string // the Delete buttons post to the app's confirmation page
	Done       string
}

var appDoneMessages = map[string]string{"deleted": "apps.done.deleted"}

func (h *Handler) appList(w http.ResponseWriter, r *http.Request, sess *session) {
	l := h.langOf(w, r)
	accts, err := h.adminAccounts(r.Context(), sess.User)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	lv := appListView{ActionCSRF: sess.csrf(formAppAction), Done: appDoneMessages[r.URL.Query().Get("done")]}
	for _, a := range accts {
		apps, err := h.Store.ListAppsByOwner(r.Context(), a.Owner)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		for _, app := range apps {
			lv.Rows = append(lv.Rows, appRow{ID: app.ID, Name: app.Name, Account: accountName(l, accts, a.Owner),
				ClientType: l.T("client." + string(app.ClientType)), ClientID: app.ClientID, Active: app.Active,
				Share: app.ClientType == store.ClientService && app.Active && h.Enterprise != nil})
		}
	}
	v := h.consoleView(l, sess, "apps", "apps.title")
	v.P = lv
	h.render(w, r, http.StatusOK, "console_apps", v, appsPath)
}

// appForm is what the create and edit forms post.
type appForm struct {
	Name, Description, Type, Account string
	RedirectURIs                     string // one per line
	Permissions                      []string
}

func parseAppForm(cat *permission.Catalog, f url.Values) appForm {
	return appForm{Name: f.Get("name"), Description: f.Get("description"), Type: f.Get("client_type"),
		Account: f.Get("account"), RedirectURIs: f.Get("redirect_uris"), Permissions: pickedPermissions(cat, f)}
}

func (af appForm) uris() []string {
	var out []string
	for _, line := range strings.Split(af.RedirectURIs, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

type clientTypeView struct {
	Value, InputID, Label, Help string
	Checked                     bool
}

type appFormView struct {
	Edit         bool
	Action, CSRF string
	Name         string
	Description  string
	Types        []clientTypeView
	FixedType    string // edit: the type's label
	ShowRedirect bool   // edit: whether the type uses redirect URIs
	Accounts     []accountView
	RedirectURIs string
	Groups       []permGroup
	Errors       map[string]string // field → catalog key
	BadURI       string            // the redirect URI a redirect_uris error is about
}

func (h *Handler) appFormView(l Lang, accts []account, af appForm, errs map[string]string) appFormView {
	fv := appFormView{Name: af.Name, Description: af.Description, RedirectURIs: af.RedirectURIs, Errors: errs,
		Groups: h.permGroups(l, af.Permissions), ShowRedirect: true}
	for i, t := range clientTypes {
		fv.Types = append(fv.Types, clientTypeView{Value: string(t), InputID: "type-" + itoa(i),
			Label: l.T("client." + string(t)), Help: l.T("client." + string(t) + ".help"), Checked: af.Type == string(t)})
	}
	chosen := af.Account
	if !slices.ContainsFunc(accts, func(a account) bool { return ownerValue(a.Owner) == chosen }) {
		chosen = ownerValue(accts[0].Owner)
	}
	for i, a := range accts {
		val := ownerValue(a.Owner)
		fv.Accounts = append(fv.Accounts, accountView{Value: val, InputID: "account-" + itoa(i),
			Name: accountName(l, accts, a.Owner), Checked: val == chosen})
	}
	return fv
}

func (h *Handler) renderAppForm(w http.ResponseWriter, r *http.Request, status int, sess *session, accts []account, af appForm, errs map[string]string, badURI string) {
	l := h.langOf(w, r)
	fv := h.appFormView(l, accts, af, errs)
	fv.Action, fv.CSRF, fv.BadURI = appsPath, sess.csrf(formAppCreate), badURI
	v := h.consoleView(l, sess, "apps", "apps.new.title")
	v.P = fv
	h.render(w, r, status, "console_app_form", v, appsPath+"/new")
}

func (h *Handler) appNew(w http.ResponseWriter, r *http.Request, sess *session) {
	accts, err := h.adminAccounts(r.Context(), sess.User)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.renderAppForm(w, r, http.StatusOK, sess, accts, appForm{Type: string(store.ClientWebBackend)}, nil, "")
}

// checkAppFields validates what the create and edit forms share; it returns
// field errors (catalog keys), the redirect URI at fault, the cleaned URIs
// and permissions.
func (h *Handler) checkAppFields(t store.ClientType, af appForm) (map[string]string, string, []string, []string) {
	errs := map[string]string{}
	name := strings.TrimSpace(af.Name)
	switch {
	case name == "":
		errs["name"] = "apps.err.name"
	case utf8.RuneCountInString(name) > 100:
		errs["name"] = "tokens.err.name_long"
	}
	if utf8.RuneCountInString(af.Description) > 1000 {
		errs["description"] = "apps.err.description"
	}
	var uris []string
	var bad string
	if t.Valid() {
		raw := af.uris()
		if !oauth.UsesRedirect(t) {
			raw = nil // typed before switching to a type without redirects
		}
		var err error
		uris, err = oauth.CheckRedirectURIs(t, raw)
		var ue *oauth.RedirectURIError
		switch {
		case errors.As(err, &ue):
			errs["redirect_uris"], bad = "apps.err.redirect", ue.URI
		case err != nil:
			errs["redirect_uris"] = "apps.err.redirect_none"
		}
	}
	perms, err := h.Catalog.Validate(af.Permissions)
	if err != nil {
		errs["permissions"] = "tokens.err.permissions"
	}
	return errs, bad, uris, perms
}

type appSecretView struct {
	TitleKey                 string
	AppID, AppName, ClientID string
	KeyID                    string // a generated key pair's public key ID (the JWT kid)
	Gone                     bool   // already shown (a reload): the page says so
	Label, Warning, Help     string // catalog keys
	Value                    string
	Multiline                bool
	Filename                 string
}

func (h *Handler) appCreate(w http.ResponseWriter, r *http.Request, sess *session) {
	accts, err := h.adminAccounts(r.Context(), sess.User)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	af := parseAppForm(h.Catalog, r.PostForm)
	t := store.ClientType(af.Type)
	errs, bad, uris, perms := h.checkAppFields(t, af)
	if !t.Valid() {
		errs["client_type"] = "apps.err.client_type"
	}
	idx := slices.IndexFunc(accts, func(a account) bool { return ownerValue(a.Owner) == af.Account })
	if idx < 0 {
		errs["account"] = "apps.err.account"
	}
	if len(errs) > 0 {
		h.renderAppForm(w, r, http.StatusBadRequest, sess, accts, af, errs, bad)
		return
	}
	app, secret, err := h.OAuth.CreateApp(r.Context(), oauth.AppSpec{Owner: accts[idx].Owner, CreatedBy: sess.User.ID,
		Type: t, Name: af.Name, Description: af.Description, RedirectURIs: uris, Permissions: perms})
	if errors.Is(err, oauth.ErrInvalidApp) {
		h.Log.InfoContext(r.Context(), "web: app refused", "err", err)
		h.renderAppForm(w, r, http.StatusBadRequest, sess, accts, af, map[string]string{"name": "apps.err.invalid"}, "")
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if secret == "" {
		http.Redirect(w, r, appsPath+"/"+url.PathEscape(app.ID)+"?done=created", http.StatusSeeOther)
		return
	}
	h.renderSecret(w, r, sess, "apps.created.title", app, appSecretView{Label: "apps.secret", Warning: "apps.secret.warning",
		Help: "apps.secret.help", Value: secret})
}

// renderSecret stores a secret as the session's one-time flash and
// redirects to the page that shows it once (flash.go).
func (h *Handler) renderSecret(w http.ResponseWriter, r *http.Request, sess *session, titleKey string, app store.App, sv appSecretView) {
	sv.TitleKey, sv.AppID, sv.AppName, sv.ClientID = titleKey, app.ID, app.Name, app.ClientID
	if err := h.setFlash(r, sess, "app-secret", sv); err != nil {
		h.internal(w, r, err)
		return
	}
	http.Redirect(w, r, appsPath+"/"+url.PathEscape(app.ID)+"/secret", http.StatusSeeOther)
}

// appSecret shows the secret renderSecret stored, once; headers() has sent
// no-store, and the language link leads to the app page, never back here.
func (h *Handler) appSecret(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	var sv appSecretView
	ok, err := h.takeFlash(r, sess, "app-secret", &sv)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if !ok || sv.AppID != app.ID {
		sv = appSecretView{TitleKey: "apps.secret.title", Gone: true}
	}
	sv.AppID, sv.AppName, sv.ClientID = app.ID, app.Name, app.ClientID
	v := h.consoleView(h.langOf(w, r), sess, "apps", sv.TitleKey, app.Name)
	v.P = sv
	h.render(w, r, http.StatusOK, "console_app_secret", v, appsPath+"/"+url.PathEscape(app.ID))
}

// app returns the app with the ID, or answers 404 (or 500 for a store
// failure).
func (h *Handler) app(w http.ResponseWriter, r *http.Request, sess *session, id string) (store.App, bool) {
	app, err := h.OAuth.GetApp(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r, sess)
		return store.App{}, false
	}
	if err != nil {
		h.internal(w, r, err)
		return store.App{}, false
	}
	return app, true
}

// ownApp returns the app named by the path if the user manages it, or
// answers 404: an app of someone else is indistinguishable from a missing one.
func (h *Handler) ownApp(w http.ResponseWriter, r *http.Request, sess *session) (store.App, bool) {
	app, ok := h.app(w, r, sess, r.PathValue("id"))
	if !ok {
		return app, false
	}
	accts, err := h.adminAccounts(r.Context(), sess.User)
	if err != nil {
		h.internal(w, r, err)
		return store.App{}, false
	}
	if !slices.ContainsFunc(accts, func(a account) bool { return a.Owner == app.Owner }) {
		h.notFound(w, r, sess)
		return store.App{}, false
	}
	return app, true
}

// ownActiveApp is ownApp for the actions a deactivated app does not offer
// (new secrets and keys, authorization): on a deactivated app it answers 409
// with the app page, which says why.
func (h *Handler) ownActiveApp(w http.ResponseWriter, r *http.Request, sess *session) (store.App, bool) {
	app, ok := h.ownApp(w, r, sess)
	if ok && !app.Active {
		h.renderApp(w, r, http.StatusConflict, sess, app, appFormOf(app), nil, "", "", "")
		return store.App{}, false
	}
	return app, ok
}

// maskedSecret names a client secret by the hint it keeps of the value.
func maskedSecret(s store.AppSecret) string { return "czs_…" + s.Hint }

type secretRow struct {
	ID, Masked, Label string
	Created           timeView
}

type keyRow struct {
	ID, Label string
	Created   timeView
}

type appView struct {
	appFormView
	Env          string // sampleEnv
	ID, ClientID string
	Account      string
	TypeLabel    string
	Active       bool
	Confidential bool
	Service      bool
	CanAuthorize bool   // a Service app of the user's personal account
	ShareURL     string // a Service app's share link, for enterprise admins to install it
	Authorized   bool
	Secrets      []secretRow
	Keys         []keyRow
	ActionCSRF   string
	PublicKey    string // the PEM textarea, kept on an error
	KeyError     string // catalog key
	Done         string
}

var appPageDone = map[string]string{"created": "apps.done.created", "updated": "apps.done.updated",
	"secret_deleted": "apps.done.secret_deleted", "key_added": "apps.done.key_added", "key_deleted": "apps.done.key_deleted",
	"authorized": "apps.done.authorized", "deactivated": "apps.done.deactivated", "activated": "apps.done.activated"}

func (h *Handler) renderApp(w http.ResponseWriter, r *http.Request, status int, sess *session, app store.App, af appForm, errs map[string]string, badURI, pemText, keyErr string) {
	l := h.langOf(w, r)
	accts, err := h.adminAccounts(r.Context(), sess.User)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	fv := h.appFormView(l, accts, af, errs)
	fv.Edit, fv.FixedType, fv.ShowRedirect, fv.BadURI = true, l.T("client."+string(app.ClientType)), oauth.UsesRedirect(app.ClientType), badURI
	fv.Action, fv.CSRF = appsPath+"/"+url.PathEscape(app.ID), sess.csrf(formAppEdit)
	av := appView{appFormView: fv, ID: app.ID, ClientID: app.ClientID, Account: accountName(l, accts, app.Owner),
		TypeLabel: fv.FixedType, Active: app.Active, Confidential: app.ClientType.Confidential(),
		Service: app.ClientType == store.ClientService, ActionCSRF: sess.csrf(formAppAction), PublicKey: pemText,
		KeyError: keyErr, Done: appPageDone[r.URL.Query().Get("done")]}
	av.CanAuthorize = av.Service && app.Owner == sess.User.Account()
	if av.Service && app.Active && h.Enterprise != nil {
		av.ShareURL = h.shareURL(app)
	}
	if av.Confidential {
		secs, err := h.Store.ListAppSecrets(r.Context(), app.ID)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		for _, s := range secs {
			av.Secrets = append(av.Secrets, secretRow{ID: s.ID, Masked: maskedSecret(s), Label: s.Label, Created: unixTime(s.CreatedAt)})
		}
	}
	if av.Service {
		keys, err := h.Store.ListAppKeys(r.Context(), app.ID)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		for _, k := range keys {
			av.Keys = append(av.Keys, keyRow{ID: k.ID, Label: k.Label, Created: unixTime(k.CreatedAt)})
		}
	}
	if av.CanAuthorize {
		gs, err := h.Store.ListGrants(r.Context(), store.GrantFilter{AppID: app.ID, UserID: sess.User.ID, Kind: store.GrantAppAuth})
		if err != nil {
			h.internal(w, r, err)
			return
		}
		av.Authorized = len(gs) > 0
	}
	av.Env = sampleEnv(l, app, av.Keys, h.OAuth.PublicURL)
	v := h.consoleView(l, sess, "apps", "apps.show.title", app.Name)
	v.P = av
	h.render(w, r, status, "console_app", v, appsPath+"/"+url.PathEscape(app.ID))
}

// sampleEnv is the shell lines that set the environment variables Coze's
// documentation snippets read for this app's client type (seeds 000, 001,
// 004), with this app's values; a secret or private key, which the server
// does not keep, is a placeholder to fill in.
func sampleEnv(l Lang, app store.App, keys []keyRow, publicURL string) string {
	redirect := ""
	if len(app.RedirectURIs) > 0 {
		redirect = app.RedirectURIs[0]
	}
	vars := [][2]string{{"COZE_API_BASE", publicURL}}
	switch app.ClientType {
	case store.ClientWebBackend:
		vars = append(vars, [2]string{"COZE_WEB_OAUTH_CLIENT_ID", app.ClientID},
			[2]string{"COZE_WEB_OAUTH_CLIENT_SECRET", l.T("apps.env.secret")},
			[2]string{"COZE_WEB_OAUTH_REDIRECT_URI", redirect})
	case store.ClientSinglePageOrNative:
		vars = append(vars, [2]string{"COZE_PKCE_OAUTH_CLIENT_ID", app.ClientID},
			[2]string{"COZE_PKCE_OAUTH_REDIRECT_URI", redirect})
	case store.ClientTerminal:
		vars = append(vars, [2]string{"COZE_DEVICE_OAUTH_CLIENT_ID", app.ClientID})
	case store.ClientService:
		kid := l.T("apps.env.no_key")
		if len(keys) > 0 {
			kid = keys[len(keys)-1].ID // the newest
		}
		vars = append(vars, [2]string{"COZE_JWT_OAUTH_CLIENT_ID", app.ClientID},
			[2]string{"COZE_JWT_OAUTH_PUBLIC_KEY_ID", kid},
			[2]string{"COZE_JWT_OAUTH_PRIVATE_KEY_FILE_PATH", "private_key.pem"})
	}
	var b strings.Builder
	for _, v := range vars {
		// Single-quoted for a POSIX shell: a ' inside becomes '\''.
		b.WriteString("export " + v[0] + "='" + strings.ReplaceAll(v[1], "'", `'\''`) + "'\n")
	}
	return b.String()
}

func appFormOf(app store.App) appForm {
	return appForm{Name: app.Name, Description: app.Description, Type: string(app.ClientType),
		Account: ownerValue(app.Owner), RedirectURIs: strings.Join(app.RedirectURIs, "\n"), Permissions: app.Permissions}
}

func (h *Handler) appShow(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	h.renderApp(w, r, http.StatusOK, sess, app, appFormOf(app), nil, "", "", "")
}

func (h *Handler) appUpdate(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	af := parseAppForm(h.Catalog, r.PostForm)
	af.Type, af.Account = string(app.ClientType), ownerValue(app.Owner)
	errs, bad, uris, perms := h.checkAppFields(app.ClientType, af)
	if len(errs) > 0 {
		h.renderApp(w, r, http.StatusBadRequest, sess, app, af, errs, bad, "", "")
		return
	}
	ctx := store.WithAudit(r.Context(), oauth.AppAudit(r.Context(), h.Now().Unix(), app, "app.update", map[string]any{
		"name": strings.TrimSpace(af.Name), "redirect_uris": uris, "permissions": perms}))
	_, err := h.Store.UpdateApp(ctx, app.ID, func(a store.App) (store.App, error) {
		a.Name, a.Description = strings.TrimSpace(af.Name), af.Description
		a.RedirectURIs, a.Permissions = uris, perms
		if a.Permissions == nil {
			a.Permissions = []string{}
		}
		a.UpdatedAt = h.Now().Unix()
		return a, nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	h.redirectApp(w, r, app, "updated")
}

func (h *Handler) redirectApp(w http.ResponseWriter, r *http.Request, app store.App, done string) {
	http.Redirect(w, r, appsPath+"/"+url.PathEscape(app.ID)+"?done="+done, http.StatusSeeOther)
}

func (h *Handler) appAddSecret(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownActiveApp(w, r, sess)
	if !ok {
		return
	}
	if !app.ClientType.Confidential() {
		h.notFound(w, r, sess)
		return
	}
	_, secret, err := h.OAuth.AddSecret(r.Context(), app.ID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.renderSecret(w, r, sess, "apps.secret.title", app, appSecretView{Label: "apps.secret", Warning: "apps.secret.warning",
		Help: "apps.secret.help", Value: secret})
}

func (h *Handler) appDeleteSecret(w http.ResponseWriter, r *http.Request, sess *session) {
	h.appDeleteChild(w, r, sess, "sid", h.OAuth.DeleteSecret, "secret_deleted")
}

func (h *Handler) appUploadKey(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownActiveApp(w, r, sess)
	if !ok {
		return
	}
	pemText := r.PostFormValue("public_key")
	if app.ClientType != store.ClientService {
		h.notFound(w, r, sess)
		return
	}
	_, err := h.OAuth.AddKey(r.Context(), app.ID, pemText)
	if errors.Is(err, oauth.ErrInvalidApp) {
		key := "apps.err.key"
		if strings.Contains(err.Error(), "already registered") {
			key = "apps.err.key_exists"
		}
		if strings.Contains(pemText, "PRIVATE KEY") {
			pemText = "" // never echo a private key into a page
		}
		h.renderApp(w, r, http.StatusBadRequest, sess, app, appFormOf(app), nil, "", pemText, key)
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.redirectApp(w, r, app, "key_added")
}

func (h *Handler) appGenerateKey(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownActiveApp(w, r, sess)
	if !ok {
		return
	}
	if app.ClientType != store.ClientService {
		h.notFound(w, r, sess)
		return
	}
	k, priv, err := h.OAuth.GenerateKey(r.Context(), app.ID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.renderSecret(w, r, sess, "apps.key.title", app, appSecretView{Label: "apps.private_key", Warning: "apps.key.warning",
		Help: "apps.key.help", Value: priv, Multiline: true, Filename: "private_key_" + k.ID[:8] + ".pem", KeyID: k.ID})
}

func (h *Handler) appDeleteKey(w http.ResponseWriter, r *http.Request, sess *session) {
	h.appDeleteChild(w, r, sess, "kid", h.OAuth.DeleteKey, "key_deleted")
}

// appDeleteChild deletes one of an app's secrets or keys (named by the path
// value param) and goes back to the app page; tokens relying on it stop here
// at once and on other replicas within a revision poll.
func (h *Handler) appDeleteChild(w http.ResponseWriter, r *http.Request, sess *session, param string,
	del func(ctx context.Context, appID, id string) error, done string) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	if err := del(r.Context(), app.ID, r.PathValue(param)); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	h.redirectApp(w, r, app, done)
}

func (h *Handler) appAuthorize(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownActiveApp(w, r, sess)
	if !ok {
		return
	}
	if app.ClientType != store.ClientService || app.Owner != sess.User.Account() {
		h.notFound(w, r, sess)
		return
	}
	if _, err := h.OAuth.AuthorizeApp(r.Context(), app.ID, sess.User.ID, true, nil); err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	h.redirectApp(w, r, app, "authorized")
}

// confirmView is the page that asks before a destructive action: Title,
// Intro and Button are catalog keys (Title and Intro take Name), Action is
// where the confirmed form posts, Back where Cancel goes.
type confirmView struct {
	Title, Intro, Button string
	Name                 string
	Action, CSRF         string
	Back                 string
}

// confirm renders a confirmation page in the console section nav.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request, sess *session, nav string, cv confirmView) {
	v := h.consoleView(h.langOf(w, r), sess, nav, cv.Title, cv.Name)
	v.P = cv
	h.render(w, r, http.StatusOK, "console_confirm", v, cv.Back)
}

func (h *Handler) appConfirm(what string) consoleHandler {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		app, ok := h.ownApp(w, r, sess)
		if !ok {
			return
		}
		back := appsPath + "/" + url.PathEscape(app.ID)
		h.confirm(w, r, sess, "apps", confirmView{Title: "apps." + what + ".title", Intro: "apps." + what + ".intro",
			Button: "apps." + what + ".confirm", Name: app.Name, Action: back + "/" + what, CSRF: sess.csrf(formAppAction), Back: back})
	}
}

func (h *Handler) appDeactivate(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	if err := h.OAuth.Deactivate(r.Context(), app.ID); err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	h.redirectApp(w, r, app, "deactivated")
}

func (h *Handler) appActivate(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	if _, err := h.OAuth.Activate(r.Context(), app.ID); err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	h.redirectApp(w, r, app, "activated")
}

// appConfirmDeleteSecret asks before deleting a client secret; for a web
// app's last secret it says the app stops getting tokens.
func (h *Handler) appConfirmDeleteSecret(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	secs, err := h.Store.ListAppSecrets(r.Context(), app.ID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	i := slices.IndexFunc(secs, func(s store.AppSecret) bool { return s.ID == r.PathValue("sid") })
	if i < 0 {
		h.notFound(w, r, sess)
		return
	}
	intro := "apps.delete_secret.intro"
	if len(secs) == 1 && app.ClientType == store.ClientWebBackend {
		intro = "apps.delete_secret.last"
	}
	h.confirm(w, r, sess, "apps", confirmView{Title: "apps.delete_secret.title", Intro: intro,
		Button: "apps.delete_secret.confirm", Name: maskedSecret(secs[i]), Back: appsPath + "/" + url.PathEscape(app.ID),
		Action: appsPath + "/" + url.PathEscape(app.ID) + "/secrets/" + url.PathEscape(secs[i].ID) + "/delete",
		CSRF:   sess.csrf(formAppAction)})
}

// appConfirmDeleteKey asks before deleting a public key: JWTs it signed are
// refused from then on.
func (h *Handler) appConfirmDeleteKey(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	keys, err := h.Store.ListAppKeys(r.Context(), app.ID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	i := slices.IndexFunc(keys, func(k store.AppKey) bool { return k.ID == r.PathValue("kid") })
	if i < 0 {
		h.notFound(w, r, sess)
		return
	}
	h.confirm(w, r, sess, "apps", confirmView{Title: "apps.delete_key.title", Intro: "apps.delete_key.intro",
		Button: "apps.delete_key.confirm", Name: keys[i].ID, Back: appsPath + "/" + url.PathEscape(app.ID),
		Action: appsPath + "/" + url.PathEscape(app.ID) + "/keys/" + url.PathEscape(keys[i].ID) + "/delete",
		CSRF:   sess.csrf(formAppAction)})
}

func (h *Handler) appDelete(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	if err := h.OAuth.DeleteApp(r.Context(), app.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, appsPath+"?done=deleted", http.StatusSeeOther)
}

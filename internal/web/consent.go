package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// consentView is the consent page, shared by the authorization request and
// the device flow.
type consentView struct {
	Action          string
	CSRF            string
	AppName         string
	ClientType      string          // catalog key client.<type>; help is ClientType+".help"
	Groups          []permViewGroup // the app's permissions in the catalog's groups
	Accounts        []accountView
	NeedsWorkspaces bool
	FixedWorkspace  string // name of the workspace fixed by the request, or ""
	AllWorkspaces   bool
	Hidden          []hiddenField
	Errors          map[string]string // field ("account", "workspaces") → catalog key
	NoAccount       bool
	UserCode        string // device flow: the code to compare with the device
}

type permView struct{ Name, Text string }

// permViewGroup is a group of a read-only permission list, with its title.
type permViewGroup struct {
	Title string
	Perms []permView
}

// groupPermissions lays out perms in the catalog's groups and order, leaving
// out the groups perms has none of. A permission the catalog does not know
// (the app's service may load another catalog) is still shown, in a group
// titled with its group's name.
func groupPermissions(l Lang, cat *permission.Catalog, perms []*permission.Permission) []permViewGroup {
	want := map[string]*permission.Permission{}
	for _, p := range perms {
		want[p.Name] = p
	}
	var out []permViewGroup
	for _, g := range cat.Groups() {
		pg := permViewGroup{Title: g.Text(string(l))}
		for _, p := range g.Permissions {
			if want[p.Name] != nil {
				pg.Perms = append(pg.Perms, permView{Name: p.Name, Text: p.Text(string(l))})
				delete(want, p.Name)
			}
		}
		if len(pg.Perms) > 0 {
			out = append(out, pg)
		}
	}
	for _, p := range perms {
		if want[p.Name] == nil {
			continue
		}
		delete(want, p.Name)
		pv := permView{Name: p.Name, Text: p.Text(string(l))}
		if n := len(out); n > 0 && out[n-1].Title == p.Group() {
			out[n-1].Perms = append(out[n-1].Perms, pv)
		} else {
			out = append(out, permViewGroup{Title: p.Group(), Perms: []permView{pv}})
		}
	}
	return out
}

type accountView struct {
	Value      string // "personal:ID" or "enterprise:ID"
	InputID    string
	Name       string
	Checked    bool
	Workspaces []workspaceView
}

type workspaceView struct {
	ID, InputID, Name string
	Checked           bool
}

type hiddenField struct{ Name, Value string }

func ownerValue(o store.Owner) string { return string(o.Type) + ":" + o.ID }

func parseOwner(v string) store.Owner {
	typ, id, _ := strings.Cut(v, ":")
	return store.Owner{Type: store.OwnerType(typ), ID: id}
}

// buildConsent makes the page from the options. form is the posted form when
// re-rendering after an error (the user's choices are kept), else nil.
func buildConsent(l Lang, cat *permission.Catalog, app store.App, opts oauth.ConsentOptions, fixedWS string, form url.Values) consentView {
	v := consentView{AppName: app.Name, ClientType: "client." + string(app.ClientType), Groups: groupPermissions(l, cat, opts.Permissions),
		NeedsWorkspaces: opts.NeedsWorkspaces && fixedWS == "", AllWorkspaces: true, NoAccount: len(opts.Accounts) == 0}
	chosen := ""
	if form != nil {
		chosen = form.Get("account")
		v.AllWorkspaces = form.Get("workspaces") != "selected"
	}
	if !containsAccount(opts.Accounts, chosen) && len(opts.Accounts) > 0 {
		chosen = ownerValue(opts.Accounts[0].Owner)
	}
	for i, a := range opts.Accounts {
		val := ownerValue(a.Owner)
		av := accountView{Value: val, InputID: "account-" + itoa(i), Name: a.Name, Checked: val == chosen}
		if a.Owner.Type == store.OwnerPersonal {
			av.Name = l.T("consent.account.personal")
		}
		var ticked []string
		if form != nil {
			ticked = form["ws."+val]
		}
		for j, ws := range a.Workspaces {
			av.Workspaces = append(av.Workspaces, workspaceView{ID: ws.ID, InputID: "ws-" + itoa(i) + "-" + itoa(j),
				Name: ws.Name, Checked: contains(ticked, ws.ID)})
			if ws.ID == fixedWS {
				v.FixedWorkspace = ws.Name
			}
		}
		v.Accounts = append(v.Accounts, av)
	}
	return v
}

func containsAccount(as []oauth.Account, v string) bool {
	for _, a := range as {
		if ownerValue(a.Owner) == v {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }

// choiceFrom reads the user's choice from the posted consent form.
func choiceFrom(form url.Values, userID string) oauth.Choice {
	acct := form.Get("account")
	c := oauth.Choice{UserID: userID, Account: parseOwner(acct), AllWorkspaces: form.Get("workspaces") != "selected"}
	if !c.AllWorkspaces {
		c.WorkspaceIDs = form["ws."+acct]
	}
	return c
}

// choiceErrorKey maps a ChoiceError field to the message shown next to it.
func choiceErrorKey(ce *oauth.ChoiceError) map[string]string {
	if ce.Field == "account" {
		return map[string]string{"account": "consent.err.account"}
	}
	return map[string]string{"workspaces": "consent.err.workspaces"}
}

// authorizeParams are the authorization request's parameters the consent
// form carries (AuthorizeRequest.Query) and posts back.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"}

// authorizeURL is the GET URL of req, for the login redirect and the
// language switch.
func authorizeURL(req *oauth.AuthorizeRequest) string {
	p := "/api/permission/oauth2/authorize"
	if req.WorkspaceID != "" {
		p = "/api/permission/oauth2/workspace_id/" + url.PathEscape(req.WorkspaceID) + "/authorize"
	}
	return p + "?" + req.Query().Encode()
}

// authorizeFailed handles a ParseAuthorize error; it reports whether there was one.
func (h *Handler) authorizeFailed(w http.ResponseWriter, r *http.Request, req *oauth.AuthorizeRequest, err error) bool {
	if err == nil {
		return false
	}
	var de *oauth.DisplayError
	var oe *oauth.Error
	switch {
	case errors.As(err, &de):
		var args []any
		if de.Arg != "" {
			args = append(args, de.Arg)
		}
		h.errorPage(w, r, http.StatusBadRequest, "error.title", "error.bad_request", h.langOf(w, r).T("error.detail."+de.Key, args...))
	case errors.As(err, &oe) && req != nil:
		http.Redirect(w, r, req.ErrorRedirect(oe), http.StatusFound)
	default:
		h.internal(w, r, err)
	}
	return true
}

// authorize serves GET …/authorize: the consent page (WIRE.md §3.1).
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	req, err := h.OAuth.ParseAuthorize(r.Context(), r.URL.Query(), r.PathValue("workspace_id"))
	if h.authorizeFailed(w, r, req, err) {
		return
	}
	sess, err := h.currentSession(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if sess == nil {
		http.Redirect(w, r, loginURL(r.URL.RequestURI()), http.StatusFound)
		return
	}
	h.renderConsent(w, r, http.StatusOK, sess, req, nil, nil)
}

func (h *Handler) renderConsent(w http.ResponseWriter, r *http.Request, status int, sess *session, req *oauth.AuthorizeRequest, form url.Values, errs map[string]string) {
	l := h.langOf(w, r)
	opts, err := h.OAuth.Options(r.Context(), sess.User.ID, req.App, req.WorkspaceID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	cv := buildConsent(l, h.Catalog, req.App, opts, req.WorkspaceID, form)
	cv.Action = "/api/permission/oauth2/authorize_consent"
	cv.CSRF = sess.csrf(formConsent)
	cv.Errors = errs
	q := req.Query()
	for _, k := range authorizeParams {
		if vals, ok := q[k]; ok {
			cv.Hidden = append(cv.Hidden, hiddenField{k, vals[0]})
		}
	}
	if req.WorkspaceID != "" {
		cv.Hidden = append(cv.Hidden, hiddenField{"workspace_id", req.WorkspaceID})
	}
	v := h.baseView(l, sess, "consent.title", req.App.Name)
	v.P = cv
	h.render(w, r, status, "consent", v, authorizeURL(req))
}

// consent serves POST …/authorize_consent. The request is validated again
// from the posted parameters; nothing else in the form is trusted.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request) {
	sess, err := h.currentSession(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if sess == nil || !sess.checkCSRF(r, formConsent) {
		h.forbidden(w, r)
		return
	}
	q := url.Values{}
	for _, k := range authorizeParams {
		if vals, ok := r.PostForm[k]; ok {
			q[k] = vals[:1]
		}
	}
	req, err := h.OAuth.ParseAuthorize(r.Context(), q, r.PostFormValue("workspace_id"))
	if h.authorizeFailed(w, r, req, err) {
		return
	}
	if r.PostFormValue("action") == "cancel" {
		http.Redirect(w, r, h.OAuth.Deny(req), http.StatusFound)
		return
	}
	to, err := h.OAuth.Approve(r.Context(), req, choiceFrom(r.PostForm, sess.User.ID))
	var ce *oauth.ChoiceError
	switch {
	case errors.As(err, &ce):
		h.renderConsent(w, r, http.StatusBadRequest, sess, req, r.PostForm, choiceErrorKey(ce))
	case err != nil:
		h.internal(w, r, err)
	default:
		http.Redirect(w, r, to, http.StatusFound)
	}
}

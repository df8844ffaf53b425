package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

const (
	tokensPath = consolePath + "/tokens"
	satsPath   = consolePath + "/sats"
)

// tokenKind parametrizes the token pages: personal access tokens (a user's
// own) and service access tokens (an enterprise's, managed by its admins).
type tokenKind struct {
	Kind store.CredentialKind
	// Nav is the navigation key and the catalog prefix of the kind's own
	// messages (title, intro, empty, new.title, account, back).
	Nav, Path                        string
	formCreate, formEdit, formDelete string
}

var (
	patKind = &tokenKind{Kind: store.KindPAT, Nav: "tokens", Path: tokensPath,
		formCreate: formTokenCreate, formEdit: formTokenEdit, formDelete: formTokenDelete}
	satKind = &tokenKind{Kind: store.KindSAT, Nav: "sats", Path: satsPath,
		formCreate: formSATCreate, formEdit: formSATEdit, formDelete: formSATDelete}
)

// key is the kind's own catalog key for what ("title", "intro", …).
func (k *tokenKind) key(what string) string { return k.Nav + "." + what }

// kindView is what every token template needs of the kind.
type kindView struct {
	Base                                  string // the pages' path
	Intro, Empty, Back, Account, NewTitle string // catalog keys
}

func (k *tokenKind) view() kindView {
	return kindView{Base: k.Path, Intro: k.key("intro"), Empty: k.key("empty"), Back: k.key("back"),
		Account: k.key("account"), NewTitle: k.key("new.title")}
}

func (k *tokenKind) register(h *Handler, handle func(string, http.HandlerFunc)) {
	handle("GET "+k.Path, h.console(k.bind(h.tokenList)))
	handle("GET "+k.Path+"/new", h.console(k.bind(h.tokenNew)))
	handle("GET "+k.Path+"/created", h.console(k.bind(h.tokenCreated)))
	handle("POST "+k.Path, h.consolePost(k.formCreate, k.bind(h.tokenCreate)))
	handle("GET "+k.Path+"/{id}/edit", h.console(k.bind(h.tokenEdit)))
	handle("POST "+k.Path+"/{id}", h.consolePost(k.formEdit, k.bind(h.tokenUpdate)))
	handle("POST "+k.Path+"/{id}/confirm-delete", h.consolePost(k.formDelete, k.bind(h.tokenConfirmDelete)))
	handle("POST "+k.Path+"/{id}/delete", h.consolePost(k.formDelete, k.bind(h.tokenDelete)))
}

type kindHandler func(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind)

func (k *tokenKind) bind(fn kindHandler) consoleHandler {
	return func(w http.ResponseWriter, r *http.Request, sess *session) { fn(w, r, sess, k) }
}

// accounts lists the accounts the user can hold tokens of this kind in: for
// PATs every account of theirs, for SATs the enterprises they administer
// (with all of each enterprise's workspaces).
func (h *Handler) tokenAccounts(ctx context.Context, sess *session, k *tokenKind) ([]account, error) {
	if k.Kind == store.KindPAT {
		return h.accountsOf(ctx, sess.User)
	}
	return h.satAccounts(ctx, sess.User)
}

// satAccounts lists the enterprises u is SuperAdmin or Admin of, each with
// all of its workspaces (a SAT acts as the service, not as the admin).
func (h *Handler) satAccounts(ctx context.Context, u store.User) ([]account, error) {
	accts, err := h.adminAccounts(ctx, u)
	if err != nil {
		return nil, err
	}
	accts = accts[1:] // adminAccounts starts with the personal account
	for i := range accts {
		wss, err := h.Store.ListWorkspacesByOwner(ctx, accts[i].Owner)
		if err != nil {
			return nil, err
		}
		for _, ws := range wss {
			accts[i].Workspaces = append(accts[i].Workspaces, store.MemberWorkspace{Workspace: ws})
		}
	}
	return accts, nil
}

// tokenRow is one line of the token list.
type tokenRow struct {
	ID, Name, Account string
	Permissions       []string
	Created           timeView
	LastUsed          *timeView // nil: never used
	Expires           *timeView // nil: permanent
	Expired           bool
}

// tokenGroup is the list of one account (SATs: one per enterprise; PATs:
// a single group without a heading).
type tokenGroup struct {
	Name string
	Rows []tokenRow
}

type tokenListView struct {
	K          kindView
	Groups     []tokenGroup
	Any        bool
	DeleteCSRF string
	Done       string // catalog key of a status message, or ""
}

// doneMessages are the status messages a redirect may ask the list to show.
var doneMessages = map[string]string{"updated": "tokens.done.updated", "deleted": "tokens.done.deleted"}

func (h *Handler) tokenList(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	l := h.langOf(w, r)
	accts, err := h.tokenAccounts(r.Context(), sess, k)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if len(accts) == 0 { // SATs: not an admin of any enterprise
		h.notFound(w, r, sess)
		return
	}
	now := h.Now().Unix()
	lv := tokenListView{K: k.view(), DeleteCSRF: sess.csrf(k.formDelete), Done: doneMessages[r.URL.Query().Get("done")]}
	filters := []store.CredentialFilter{{Kind: store.KindPAT, UserID: sess.User.ID}}
	names := []string{""}
	if k.Kind == store.KindSAT {
		filters, names = nil, nil
		for _, a := range accts {
			filters = append(filters, store.CredentialFilter{Kind: store.KindSAT, Owner: a.Owner})
			names = append(names, a.Name)
		}
	}
	for i, f := range filters {
		creds, err := h.Store.ListCredentials(r.Context(), f)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		g := tokenGroup{Name: names[i]}
		for _, c := range creds {
			row := tokenRow{ID: c.ID, Name: c.Name, Account: accountName(l, accts, c.Owner), Permissions: c.Permissions,
				Created: unixTime(c.CreatedAt)}
			if c.LastUsedAt != 0 {
				t := unixTime(c.LastUsedAt)
				row.LastUsed = &t
			}
			if c.ExpireAt != 0 {
				t := unixTime(c.ExpireAt)
				row.Expires, row.Expired = &t, c.ExpireAt <= now
			}
			g.Rows = append(g.Rows, row)
		}
		lv.Any = lv.Any || len(g.Rows) > 0
		lv.Groups = append(lv.Groups, g)
	}
	v := h.consoleView(l, sess, k.Nav, k.key("title"))
	v.P = lv
	h.render(w, r, http.StatusOK, "console_tokens", v, k.Path)
}

func accountName(l Lang, accts []account, o store.Owner) string {
	if o.Type == store.OwnerPersonal {
		return l.T("consent.account.personal")
	}
	for _, a := range accts {
		if a.Owner == o {
			return a.Name
		}
	}
	return o.ID // an enterprise the user has left
}

// tokenForm is what the create and edit forms post.
type tokenForm struct {
	Name        string
	Expiration  string // "1", "30", …, "custom", "permanent"
	ExpireDate  string // YYYY-MM-DD, for "custom"
	Zone        string // the browser's IANA time zone, which ExpireDate is in (console.js fills it; UTC without it)
	Account     string // ownerValue
	Permissions []string
	All         bool
	Workspaces  []string
}

func parseTokenForm(cat *permission.Catalog, f url.Values) tokenForm {
	tf := tokenForm{Name: f.Get("name"), Expiration: f.Get("expiration"), ExpireDate: strings.TrimSpace(f.Get("expire_date")),
		Zone: strings.TrimSpace(f.Get("tz")), Account: f.Get("account"), Permissions: pickedPermissions(cat, f), All: f.Get("workspaces") != "selected"}
	if !tf.All {
		tf.Workspaces = f["ws."+tf.Account]
	}
	return tf
}

type option struct {
	Value, Label string
	Selected     bool
}

type permCheck struct {
	Name, Text, InputID string
	Checked             bool
}

// permGroup is one group of the picker. Its "select all" box posts
// perm_group=Name, which grants the whole group (see pickedPermissions), so it
// works without JavaScript; console.js keeps it in step with the boxes.
type permGroup struct {
	Name, Title, InputID string
	All                  bool // every permission of the group is ticked
	Perms                []permCheck
}

// pickedPermissions reads the picker of the token and app forms: the ticked
// permissions, plus every permission of each group whose "select all" box is
// ticked. An unknown group comes back as a name the catalog rejects, so the
// form answers with its permissions error rather than ignoring it.
func pickedPermissions(cat *permission.Catalog, f url.Values) []string {
	out := slices.Clone(f["perm"])
	for _, name := range f["perm_group"] {
		g, ok := cat.Group(name)
		if !ok {
			out = append(out, "group "+name)
			continue
		}
		for _, p := range g.Permissions {
			out = append(out, p.Name)
		}
	}
	return out
}

type tokenFormView struct {
	K             kindView
	Edit          bool
	Action, CSRF  string
	Name          string
	Expiration    []option
	Custom        bool
	ExpireDate    string
	Zone          string
	MinDate       string
	Groups        []permGroup
	Accounts      []accountView
	FixedAccount  string // edit: the account's name
	AllWorkspaces bool
	Errors        map[string]string // field → catalog key
}

// permGroups is the permission picker of the token and app forms: the
// catalog's groups in order, with checked ticked.
func (h *Handler) permGroups(l Lang, checked []string) []permGroup {
	var groups []permGroup
	i := 0
	for gi, g := range h.Catalog.Groups() {
		pg := permGroup{Name: g.Name, Title: g.Text(string(l)), InputID: "permgroup-" + itoa(gi), All: true}
		for _, p := range g.Permissions {
			pc := permCheck{Name: p.Name, Text: p.Text(string(l)), InputID: "perm-" + itoa(i), Checked: slices.Contains(checked, p.Name)}
			i++
			pg.All = pg.All && pc.Checked
			pg.Perms = append(pg.Perms, pc)
		}
		groups = append(groups, pg)
	}
	return groups
}

// expirationChoice is the default of a new token's expiration select.
const expirationChoice = "30"

func (h *Handler) tokenFormView(l Lang, accts []account, tf tokenForm, errs map[string]string) tokenFormView {
	fv := tokenFormView{Name: tf.Name, ExpireDate: tf.ExpireDate, Zone: zone(tf.Zone).String(), AllWorkspaces: tf.All, Errors: errs,
		MinDate: h.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly), Custom: tf.Expiration == "custom"}
	for _, d := range credential.ExpiryDays {
		label := l.T("tokens.exp.days", d)
		if d == 1 {
			label = l.T("tokens.exp.day")
		}
		v := strconv.Itoa(d)
		fv.Expiration = append(fv.Expiration, option{Value: v, Label: label, Selected: tf.Expiration == v})
	}
	fv.Expiration = append(fv.Expiration,
		option{Value: "custom", Label: l.T("tokens.exp.custom"), Selected: tf.Expiration == "custom"},
		option{Value: "permanent", Label: l.T("tokens.exp.permanent"), Selected: tf.Expiration == "permanent"})
	fv.Groups = h.permGroups(l, tf.Permissions)
	chosen := tf.Account
	if !slices.ContainsFunc(accts, func(a account) bool { return ownerValue(a.Owner) == chosen }) {
		chosen = ownerValue(accts[0].Owner)
	}
	for i, a := range accts {
		val := ownerValue(a.Owner)
		av := accountView{Value: val, InputID: "account-" + itoa(i), Name: accountName(l, accts, a.Owner), Checked: val == chosen}
		for j, ws := range a.Workspaces {
			av.Workspaces = append(av.Workspaces, workspaceView{ID: ws.ID, InputID: "ws-" + itoa(i) + "-" + itoa(j),
				Name: ws.Name, Checked: val == chosen && slices.Contains(tf.Workspaces, ws.ID)})
		}
		fv.Accounts = append(fv.Accounts, av)
	}
	return fv
}

func (h *Handler) renderTokenForm(w http.ResponseWriter, r *http.Request, status int, sess *session, k *tokenKind, accts []account, tf tokenForm, errs map[string]string) {
	l := h.langOf(w, r)
	fv := h.tokenFormView(l, accts, tf, errs)
	fv.K, fv.Action, fv.CSRF = k.view(), k.Path, sess.csrf(k.formCreate)
	v := h.consoleView(l, sess, k.Nav, k.key("new.title"))
	v.P = fv
	h.render(w, r, status, "console_token_form", v, k.Path+"/new")
}

// formAccounts lists the kind's accounts, or answers 404 when there are none
// (a user who administers no enterprise has no SAT pages).
func (h *Handler) formAccounts(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) ([]account, bool) {
	accts, err := h.tokenAccounts(r.Context(), sess, k)
	if err != nil {
		h.internal(w, r, err)
		return nil, false
	}
	if len(accts) == 0 {
		h.notFound(w, r, sess)
		return nil, false
	}
	return accts, true
}

func (h *Handler) tokenNew(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	accts, ok := h.formAccounts(w, r, sess, k)
	if !ok {
		return
	}
	h.renderTokenForm(w, r, http.StatusOK, sess, k, accts, tokenForm{Expiration: expirationChoice, All: true}, nil)
}

// expiry reads the expiration choice; the error is a catalog key.
func (tf tokenForm) expiry() (credential.Expiry, string) {
	switch tf.Expiration {
	case "permanent":
		return credential.Expiry{Permanent: true}, ""
	case "custom":
		d, err := time.ParseInLocation(time.DateOnly, tf.ExpireDate, zone(tf.Zone))
		if err != nil {
			return credential.Expiry{}, "tokens.err.date"
		}
		// The token lasts through the chosen day in the browser's zone.
		return credential.Expiry{At: d.AddDate(0, 0, 1).Unix() - 1}, ""
	}
	days, err := strconv.Atoi(tf.Expiration)
	if err != nil || !slices.Contains(credential.ExpiryDays, days) {
		return credential.Expiry{}, "tokens.err.expiration"
	}
	return credential.Expiry{Days: days}, ""
}

// zone is the IANA time zone a form names, or UTC when it names none or one
// this build does not know.
func zone(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// fieldError maps a credential.Manager refusal to the form field it concerns
// and a message in the catalog; the manager's own text is English only.
func fieldError(err error) (field, key string, ok bool) {
	if !errors.Is(err, credential.ErrInvalid) && !errors.Is(err, store.ErrNotFound) {
		return "", "", false
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "name is longer"):
		return "name", "tokens.err.name_long", true
	case strings.Contains(msg, "name is required"):
		return "name", "tokens.err.name", true
	case strings.Contains(msg, "not in the future"):
		return "expiration", "tokens.err.date_past", true
	case strings.Contains(msg, "expir"):
		return "expiration", "tokens.err.expiration", true
	case strings.Contains(msg, "enterprise"):
		return "account", "tokens.err.account", true
	case strings.Contains(msg, "workspace"):
		return "workspaces", "tokens.err.workspaces", true
	}
	return "permissions", "tokens.err.permissions", true
}

type tokenCreatedView struct {
	K           kindView
	Name, Token string
	Gone        bool // already shown (a reload): the page says so
}

func (h *Handler) tokenCreate(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	accts, ok := h.formAccounts(w, r, sess, k)
	if !ok {
		return
	}
	tf := parseTokenForm(h.Catalog, r.PostForm)
	errs := map[string]string{}
	idx := slices.IndexFunc(accts, func(a account) bool { return ownerValue(a.Owner) == tf.Account })
	if idx < 0 {
		errs["account"] = "tokens.err.account"
	}
	exp, key := tf.expiry()
	if key != "" {
		errs["expiration"] = key
	}
	if !tf.All && len(tf.Workspaces) == 0 {
		errs["workspaces"] = "tokens.err.workspaces"
	}
	if len(errs) > 0 {
		h.renderTokenForm(w, r, http.StatusBadRequest, sess, k, accts, tf, errs)
		return
	}
	spec := credential.Spec{Kind: k.Kind, Name: tf.Name, UserID: sess.User.ID, Expiry: exp,
		Permissions: tf.Permissions, AllWorkspaces: tf.All, WorkspaceIDs: tf.Workspaces}
	if o := accts[idx].Owner; o.Type == store.OwnerEnterprise {
		spec.EnterpriseID = o.ID
	}
	created, err := h.Creds.Create(r.Context(), spec)
	if field, key, ok := fieldError(err); ok {
		h.renderTokenForm(w, r, http.StatusBadRequest, sess, k, accts, tf, map[string]string{field: key})
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if err := h.setFlash(r, sess, "token", tokenCreatedView{Name: created.Credential.Name, Token: created.Token}); err != nil {
		h.internal(w, r, err)
		return
	}
	http.Redirect(w, r, k.Path+"/created", http.StatusSeeOther)
}

// tokenCreated shows the token just created, once (flash.go).
func (h *Handler) tokenCreated(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	var p tokenCreatedView
	ok, err := h.takeFlash(r, sess, "token", &p)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	p.K, p.Gone = k.view(), !ok
	v := h.consoleView(h.langOf(w, r), sess, k.Nav, "tokens.created.title")
	v.P = p
	// The page holds the secret: headers() already sent no-store; the
	// language link leads to the list, never back to this page.
	h.render(w, r, http.StatusOK, "console_token_created", v, k.Path)
}

// mayManage reports whether the user manages c as a token of kind k: their
// own PAT, or a SAT of an enterprise they administer.
func (h *Handler) mayManage(ctx context.Context, sess *session, k *tokenKind, c store.Credential) (bool, error) {
	if c.Kind != k.Kind {
		return false, nil
	}
	if k.Kind == store.KindPAT {
		return c.UserID == sess.User.ID, nil
	}
	if c.Owner.Type != store.OwnerEnterprise {
		return false, nil
	}
	m, err := h.Store.GetEnterpriseMember(ctx, c.Owner.ID, sess.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && m.Role.IsAdmin(), err
}

// ownToken returns the token of kind k named by the path that the user
// manages, or answers 404: another user's (or enterprise's) token is
// indistinguishable from a missing one.
func (h *Handler) ownToken(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) (store.Credential, bool) {
	c, err := h.Store.GetCredential(r.Context(), r.PathValue("id"))
	ok := false
	if err == nil {
		ok, err = h.mayManage(r.Context(), sess, k, c)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && !ok) {
		h.notFound(w, r, sess)
		return store.Credential{}, false
	}
	if err != nil {
		h.internal(w, r, err)
		return store.Credential{}, false
	}
	return c, true
}

func (h *Handler) renderTokenEdit(w http.ResponseWriter, r *http.Request, status int, sess *session, k *tokenKind, c store.Credential, tf tokenForm, errs map[string]string) {
	l := h.langOf(w, r)
	accts, err := h.tokenAccounts(r.Context(), sess, k)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	// Only the token's own account: it cannot move to another.
	own := account{Owner: c.Owner, Name: accountName(l, accts, c.Owner)}
	for _, a := range accts {
		if a.Owner == c.Owner {
			own.Workspaces = a.Workspaces
		}
	}
	tf.Account = ownerValue(c.Owner)
	fv := h.tokenFormView(l, []account{own}, tf, errs)
	fv.Edit, fv.FixedAccount = true, own.Name
	fv.K, fv.Action, fv.CSRF = k.view(), k.Path+"/"+url.PathEscape(c.ID), sess.csrf(k.formEdit)
	v := h.consoleView(l, sess, k.Nav, "tokens.edit.title", c.Name)
	v.P = fv
	h.render(w, r, status, "console_token_form", v, k.Path+"/"+url.PathEscape(c.ID)+"/edit")
}

func (h *Handler) tokenEdit(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	c, ok := h.ownToken(w, r, sess, k)
	if !ok {
		return
	}
	tf := tokenForm{Name: c.Name, Permissions: c.Permissions, All: c.AllWorkspaces, Workspaces: c.WorkspaceIDs}
	h.renderTokenEdit(w, r, http.StatusOK, sess, k, c, tf, nil)
}

func (h *Handler) tokenUpdate(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	c, ok := h.ownToken(w, r, sess, k)
	if !ok {
		return
	}
	r.PostForm.Set("account", ownerValue(c.Owner))
	tf := parseTokenForm(h.Catalog, r.PostForm)
	if !tf.All && len(tf.Workspaces) == 0 {
		h.renderTokenEdit(w, r, http.StatusBadRequest, sess, k, c, tf, map[string]string{"workspaces": "tokens.err.workspaces"})
		return
	}
	perms := tf.Permissions
	if perms == nil {
		perms = []string{}
	}
	ch := credential.Change{Name: &tf.Name, Permissions: &perms, AllWorkspaces: &tf.All}
	if !tf.All {
		ch.WorkspaceIDs = &tf.Workspaces
	}
	_, err := h.Creds.Update(r.Context(), c.ID, ch)
	if field, key, ok := fieldError(err); ok {
		h.renderTokenEdit(w, r, http.StatusBadRequest, sess, k, c, tf, map[string]string{field: key})
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, k.Path+"?done=updated", http.StatusSeeOther)
}

type tokenDeleteView struct {
	K                      kindView
	ID, Name, Action, CSRF string
}

func (h *Handler) tokenConfirmDelete(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	c, ok := h.ownToken(w, r, sess, k)
	if !ok {
		return
	}
	l := h.langOf(w, r)
	v := h.consoleView(l, sess, k.Nav, "tokens.delete.title", c.Name)
	v.P = tokenDeleteView{K: k.view(), ID: c.ID, Name: c.Name, Action: k.Path + "/" + url.PathEscape(c.ID) + "/delete",
		CSRF: sess.csrf(k.formDelete)}
	h.render(w, r, http.StatusOK, "console_token_delete", v, k.Path)
}

func (h *Handler) tokenDelete(w http.ResponseWriter, r *http.Request, sess *session, k *tokenKind) {
	c, ok := h.ownToken(w, r, sess, k)
	if !ok {
		return
	}
	if err := h.Creds.Delete(r.Context(), c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, k.Path+"?done=deleted", http.StatusSeeOther)
}

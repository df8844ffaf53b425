package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/store"
)

const workspacesPath = consolePath + "/workspaces"

// formMigrate guards the Migrate button of the migration review.
const formMigrate = "workspace-migrate"

func (h *Handler) registerMigrate(handle func(string, http.HandlerFunc)) {
	handle("GET "+workspacesPath+"/{id}/migrate", h.console(h.ent(h.migratePage)))
	handle("POST "+workspacesPath+"/{id}/migrate", h.consolePost(formMigrate, h.ent(h.migrate)))
}

type workspaceRow struct {
	ID, Name, Role, Owner string
	Team                  bool // an enterprise's workspace
	// Migrate: a personal workspace the user owns, and they administer an
	// enterprise to move it into.
	Migrate bool
}

type workspaceListView struct {
	Rows []workspaceRow
	Done string // the success notice, formatted
}

func (h *Handler) workspaceList(w http.ResponseWriter, r *http.Request, sess *session) {
	l := h.langOf(w, r)
	accts, err := h.accountsOf(r.Context(), sess.User)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	ents, err := h.adminEnterprises(r.Context(), sess)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	var lv workspaceListView
	q := r.URL.Query()
	for _, a := range accts {
		for _, ws := range a.Workspaces {
			row := workspaceRow{ID: ws.ID, Name: ws.Name, Role: l.T("workspaces.role." + string(ws.Role)),
				Owner: accountName(l, accts, a.Owner), Team: a.Owner.Type == store.OwnerEnterprise,
				Migrate: len(ents) > 0 && a.Owner == sess.User.Account() && ws.Role == store.WorkspaceRoleOwner}
			if q.Get("done") == "migrated" && q.Get("workspace") == ws.ID && row.Team {
				lv.Done = l.T("workspaces.done.migrated", ws.Name, row.Owner)
			}
			lv.Rows = append(lv.Rows, row)
		}
	}
	v := h.consoleView(l, sess, "workspaces", "workspaces.title")
	v.P = lv
	h.render(w, r, http.StatusOK, "console_workspaces", v, workspacesPath)
}

// affectedRow is one entry of the migration checklist.
type affectedRow struct {
	Type, Name string
	Workspaces []string
}

type migrateView struct {
	Workspace   string
	Base        string // the page's path
	Blocked     string // catalog key: why this workspace cannot be migrated (no form then)
	Enterprises []option
	Error       string // catalog key of the enterprise field's error
	// The review step, when an enterprise is chosen and the plan checks out.
	Review     bool
	Enterprise store.Enterprise
	Affected   []affectedRow
	CSRF       string
}

// migrateContext loads what both steps need: the user's workspace of the
// path (404 if they are not in it) and the enterprises they administer
// (404 if none: the page is for enterprise admins); a workspace the user
// cannot migrate gets the page saying why.
func (h *Handler) migrateContext(w http.ResponseWriter, r *http.Request, sess *session) (store.MemberWorkspace, []store.Enterprise, bool) {
	wss, err := h.Store.ListMemberWorkspaces(r.Context(), sess.User.ID)
	if err != nil {
		h.internal(w, r, err)
		return store.MemberWorkspace{}, nil, false
	}
	i := slices.IndexFunc(wss, func(ws store.MemberWorkspace) bool { return ws.ID == r.PathValue("id") })
	if i < 0 {
		h.notFound(w, r, sess)
		return store.MemberWorkspace{}, nil, false
	}
	ents, ok := h.administered(w, r, sess)
	if !ok {
		return store.MemberWorkspace{}, nil, false
	}
	if key, status := blocked(sess, wss[i]); key != "" {
		h.renderMigrate(w, r, status, sess, wss[i], ents, migrateView{Blocked: key})
		return store.MemberWorkspace{}, nil, false
	}
	return wss[i], ents, true
}

// blocked says why ws cannot be migrated by the user, with the status.
func blocked(sess *session, ws store.MemberWorkspace) (string, int) {
	switch {
	case ws.Owner.Type == store.OwnerEnterprise:
		return "migrate.err.already", http.StatusConflict
	case ws.Owner != sess.User.Account() || ws.Role != store.WorkspaceRoleOwner:
		return "migrate.err.not_owner", http.StatusForbidden
	}
	return "", http.StatusOK
}

func (h *Handler) renderMigrate(w http.ResponseWriter, r *http.Request, status int, sess *session, ws store.MemberWorkspace,
	ents []store.Enterprise, mv migrateView) {
	l := h.langOf(w, r)
	mv.Workspace, mv.Base = ws.Name, workspacesPath+"/"+url.PathEscape(ws.ID)+"/migrate"
	for _, e := range ents {
		mv.Enterprises = append(mv.Enterprises, option{Value: e.ID, Label: e.Name, Selected: e.ID == mv.Enterprise.ID})
	}
	switchURL := mv.Base
	if mv.Review {
		mv.CSRF = sess.csrf(formMigrate)
		switchURL += "?enterprise=" + url.QueryEscape(mv.Enterprise.ID)
	}
	v := h.consoleView(l, sess, "workspaces", "migrate.title", ws.Name)
	v.P = mv
	h.render(w, r, status, "console_migrate", v, switchURL)
}

// plan checks the chosen enterprise and plans the migration; on a refusal
// it renders the choice again with the error and returns false.
func (h *Handler) plan(w http.ResponseWriter, r *http.Request, sess *session, ws store.MemberWorkspace,
	ents []store.Enterprise, entID string) (enterprise.Plan, store.Enterprise, bool) {
	i := slices.IndexFunc(ents, func(e store.Enterprise) bool { return e.ID == entID })
	if i < 0 {
		h.renderMigrate(w, r, http.StatusBadRequest, sess, ws, ents, migrateView{Error: "migrate.err.enterprise"})
		return enterprise.Plan{}, store.Enterprise{}, false
	}
	p, err := h.Enterprise.PlanMigration(r.Context(), []string{ws.ID}, entID, sess.User.ID)
	if errors.Is(err, enterprise.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		// Changed since the checks above (a role, the workspace's owner).
		h.Log.InfoContext(r.Context(), "web: migration refused", "err", err)
		h.renderMigrate(w, r, http.StatusBadRequest, sess, ws, ents, migrateView{Error: "migrate.err.enterprise"})
		return enterprise.Plan{}, store.Enterprise{}, false
	}
	if err != nil {
		h.internal(w, r, err)
		return enterprise.Plan{}, store.Enterprise{}, false
	}
	return p, ents[i], true
}

// migratePage is the migration in two steps on one URL: without
// ?enterprise= the user chooses one; with it, the checklist of what loses
// access and the Migrate button.
func (h *Handler) migratePage(w http.ResponseWriter, r *http.Request, sess *session) {
	ws, ents, ok := h.migrateContext(w, r, sess)
	if !ok {
		return
	}
	entID := r.URL.Query().Get("enterprise")
	if entID == "" {
		h.renderMigrate(w, r, http.StatusOK, sess, ws, ents, migrateView{})
		return
	}
	p, e, ok := h.plan(w, r, sess, ws, ents, entID)
	if !ok {
		return
	}
	l := h.langOf(w, r)
	mv := migrateView{Review: true, Enterprise: e}
	names := map[string]string{}
	for _, pw := range p.Workspaces {
		names[pw.ID] = pw.Name
	}
	for _, a := range p.Affected {
		row := affectedRow{Type: l.T("migrate.type." + a.Type), Name: a.Name}
		for _, id := range a.Workspaces {
			row.Workspaces = append(row.Workspaces, names[id])
		}
		mv.Affected = append(mv.Affected, row)
	}
	h.renderMigrate(w, r, http.StatusOK, sess, ws, ents, mv)
}

// migrate plans again (the checklist may have changed since the review) and
// moves the workspace.
func (h *Handler) migrate(w http.ResponseWriter, r *http.Request, sess *session) {
	ws, ents, ok := h.migrateContext(w, r, sess)
	if !ok {
		return
	}
	p, _, ok := h.plan(w, r, sess, ws, ents, r.PostFormValue("enterprise"))
	if !ok {
		return
	}
	err := h.Enterprise.Migrate(r.Context(), p)
	if errors.Is(err, store.ErrInvalid) { // moved meanwhile
		h.renderMigrate(w, r, http.StatusConflict, sess, ws, ents, migrateView{Blocked: "migrate.err.already"})
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	http.Redirect(w, r, workspacesPath+"?done=migrated&workspace="+url.QueryEscape(ws.ID), http.StatusSeeOther)
}

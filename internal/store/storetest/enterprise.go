package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runEnterprise checks the enterprise-upgrade storage: personal-resource
// authorizations and what removes them, the audit log, workspace migration
// and member removal with a receiver.
func runEnterprise(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"AccountAuthorizations", testAccountAuthorizations},
		{"AccountAuthorizationsGoWithTheirCredential", testAccountAuthorizationsCascade},
		{"Audit", testAudit},
		{"AuditFilters", testAuditFilters},
		{"AuditInTheChangesTransaction", testAuditInTx},
		{"MigrateWorkspaces", testMigrateWorkspaces},
		{"MigrateWorkspacesIsAllOrNothing", testMigrateAllOrNothing},
		{"ConcurrentMigrations", testConcurrentMigrations},
		{"RemoveEnterpriseMember", testRemoveEnterpriseMember},
		{"RemovedMembersCredentialsDoNotComeBack", testRemovedMemberCredentials},
		{"GrantCreatedBy", testGrantCreatedBy},
	})
}

func (f *fixture) audit(action, targetType, targetID string) store.AuditEvent {
	return store.AuditEvent{ID: store.NewID(), At: f.tick(), ActorID: "actor", ActorType: store.ActorUser, Action: action,
		TargetType: targetType, TargetID: targetID, Detail: `{"n":1}`}
}

// enterpriseWorld is an enterprise whose SuperAdmin also has a personal
// account, with an enterprise PAT and an installed Service app.
type enterpriseWorld struct {
	admin store.User
	ent   store.Enterprise
	pat   store.Credential
	app   store.App
	inst  store.Grant
}

func (f *fixture) enterpriseWorld() enterpriseWorld {
	f.t.Helper()
	// Unique names: subtests may build several worlds in one store.
	tag := store.NewID()[11:]
	admin := f.user("boss-" + tag)
	ent := f.enterprise("Acme", admin.ID)
	eo := store.Owner{Type: store.OwnerEnterprise, ID: ent.ID}
	pat := f.credential(store.Credential{UserID: admin.ID, Owner: eo, Permissions: []string{"Conversation.create"}, AllWorkspaces: true})
	dev := f.user("dev-" + tag)
	app := f.app(dev.Account(), dev.ID, store.ClientService)
	inst := f.grant(store.Grant{AppID: app.ID, Kind: store.GrantAppAuth, Owner: eo, Permissions: app.Permissions, AllWorkspaces: true, CreatedBy: admin.ID})
	return enterpriseWorld{admin: admin, ent: ent, pat: pat, app: app, inst: inst}
}

func (f *fixture) authorizeAccount(w enterpriseWorld, credentialID string, kind store.AccountAuthKind) store.AccountAuthorization {
	f.t.Helper()
	a := store.AccountAuthorization{AccountID: w.admin.AccountID, CredentialID: credentialID, Kind: kind,
		EnterpriseID: w.ent.ID, CreatedBy: w.admin.ID, CreatedAt: f.tick()}
	if err := f.s.PutAccountAuthorization(f.ctx, a); err != nil {
		f.t.Fatalf("PutAccountAuthorization: %v", err)
	}
	return a
}

func (f *fixture) hasAccountAuthorization(accountID, credentialID string) bool {
	f.t.Helper()
	_, err := f.s.GetAccountAuthorization(f.ctx, accountID, credentialID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatalf("GetAccountAuthorization: %v", err)
	}
	return err == nil
}

func testAccountAuthorizations(t *testing.T, f *fixture) {
	w := f.enterpriseWorld()
	rev := f.revision()
	a := f.authorizeAccount(w, w.pat.ID, store.AccountAuthPAT)
	b := f.authorizeAccount(w, w.app.ID, store.AccountAuthApp)
	if f.revision() != rev {
		t.Errorf("adding authorizations advanced the revision (nothing loses access)")
	}
	got, err := f.s.GetAccountAuthorization(f.ctx, a.AccountID, a.CredentialID)
	checkErr(t, "Get", err, nil)
	checkEqual(t, "Get", got, a)
	// Putting it again changes nothing (the first one is kept).
	again := a
	again.CreatedAt = f.tick()
	checkErr(t, "Put again", f.s.PutAccountAuthorization(f.ctx, again), nil)
	list, err := f.s.ListAccountAuthorizations(f.ctx, w.admin.AccountID)
	checkErr(t, "List", err, nil)
	checkList(t, "List", list, []store.AccountAuthorization{a, b})
	other := f.user("other")
	list, err = f.s.ListAccountAuthorizations(f.ctx, other.AccountID)
	checkErr(t, "List other", err, nil)
	checkList(t, "List other", list, nil)

	checkErr(t, "Delete", f.s.DeleteAccountAuthorization(f.ctx, a.AccountID, a.CredentialID), nil)
	if f.revision() == rev {
		t.Errorf("deleting an authorization did not advance the revision")
	}
	_, err = f.s.GetAccountAuthorization(f.ctx, a.AccountID, a.CredentialID)
	checkErr(t, "Get deleted", err, store.ErrNotFound)
	checkErr(t, "Delete again", f.s.DeleteAccountAuthorization(f.ctx, a.AccountID, a.CredentialID), store.ErrNotFound)

	for _, tc := range []struct {
		name string
		a    store.AccountAuthorization
	}{
		{"no account", store.AccountAuthorization{CredentialID: "c", Kind: store.AccountAuthPAT, EnterpriseID: w.ent.ID, CreatedBy: w.admin.ID}},
		{"unknown account", store.AccountAuthorization{AccountID: "nope", CredentialID: "c", Kind: store.AccountAuthPAT, EnterpriseID: w.ent.ID, CreatedBy: w.admin.ID}},
		{"bad kind", store.AccountAuthorization{AccountID: w.admin.AccountID, CredentialID: "c", Kind: "obo", EnterpriseID: w.ent.ID, CreatedBy: w.admin.ID}},
		{"unknown enterprise", store.AccountAuthorization{AccountID: w.admin.AccountID, CredentialID: "c", Kind: store.AccountAuthPAT, EnterpriseID: "nope", CreatedBy: w.admin.ID}},
		{"no creator", store.AccountAuthorization{AccountID: w.admin.AccountID, CredentialID: "c", Kind: store.AccountAuthPAT, EnterpriseID: w.ent.ID}},
	} {
		checkErr(t, tc.name, f.s.PutAccountAuthorization(f.ctx, tc.a), store.ErrInvalid)
	}
}

func testAccountAuthorizationsCascade(t *testing.T, f *fixture) {
	// Each case authorizes a credential of a fresh world, does something, and
	// says whether the authorization must survive it.
	for _, tc := range []struct {
		name     string
		app      bool // authorize the installed app, else the enterprise PAT
		do       func(f *fixture, w enterpriseWorld) error
		survives bool
	}{
		{"credential deleted", false, func(f *fixture, w enterpriseWorld) error { return f.s.DeleteCredential(f.ctx, w.pat.ID) }, false},
		{"app uninstalled", true, func(f *fixture, w enterpriseWorld) error { return f.s.DeleteGrant(f.ctx, w.inst.ID, f.tick()) }, false},
		{"another grant of the app deleted", true, func(f *fixture, w enterpriseWorld) error {
			personal := f.grant(store.Grant{AppID: w.app.ID, Kind: store.GrantAppAuth, UserID: w.admin.ID, Owner: w.admin.Account(), AllWorkspaces: true})
			return f.s.DeleteGrant(f.ctx, personal.ID, f.tick())
		}, true},
		{"app deleted", true, func(f *fixture, w enterpriseWorld) error { return f.s.DeleteApp(f.ctx, w.app.ID) }, false},
		{"SuperAdmin made Admin", false, func(f *fixture, w enterpriseWorld) error {
			return f.s.PutEnterpriseMember(f.ctx, store.EnterpriseMember{EnterpriseID: w.ent.ID, UserID: w.admin.ID, Role: store.RoleAdmin, CreatedAt: f.tick()})
		}, true},
		{"member leaves", false, func(f *fixture, w enterpriseWorld) error {
			f.putEnterpriseMember(w.ent.ID, f.user("second-"+store.NewID()[11:]).ID, store.RoleSuperAdmin)
			return f.s.DeleteEnterpriseMember(f.ctx, w.ent.ID, w.admin.ID)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			w := f.enterpriseWorld()
			id, kind := w.pat.ID, store.AccountAuthPAT
			if tc.app {
				id, kind = w.app.ID, store.AccountAuthApp
			}
			f.authorizeAccount(w, id, kind)
			checkErr(t, tc.name, tc.do(f, w), nil)
			if got := f.hasAccountAuthorization(w.admin.AccountID, id); got != tc.survives {
				t.Errorf("authorization still there: %v, want %v", got, tc.survives)
			}
		})
	}
	t.Run("member demoted", func(t *testing.T) {
		f := f.sub(t)
		w := f.enterpriseWorld()
		other := f.enterpriseWorld() // the same user's authorization in another enterprise stays
		f.authorizeAccount(w, w.pat.ID, store.AccountAuthPAT)
		f.putEnterpriseMember(other.ent.ID, w.admin.ID, store.RoleAdmin)
		otherPAT := f.credential(store.Credential{UserID: w.admin.ID, Owner: store.Owner{Type: store.OwnerEnterprise, ID: other.ent.ID}, AllWorkspaces: true})
		f.authorizeAccount(enterpriseWorld{admin: w.admin, ent: other.ent}, otherPAT.ID, store.AccountAuthPAT)
		f.putEnterpriseMember(w.ent.ID, w.admin.ID, store.RoleMember)
		if f.hasAccountAuthorization(w.admin.AccountID, w.pat.ID) {
			t.Errorf("the authorization outlived its maker's admin role")
		}
		if !f.hasAccountAuthorization(w.admin.AccountID, otherPAT.ID) {
			t.Errorf("a demotion in one enterprise ended an authorization in another")
		}
	})
}

func testAudit(t *testing.T, f *fixture) {
	rev := f.revision()
	a := f.audit("workspace.migrate", "workspace", "w1")
	b := f.audit("app.install", "app", "a1")
	c := f.audit("workspace.migrate", "workspace", "w2")
	for _, e := range []store.AuditEvent{a, b, c} {
		checkErr(t, "AppendAudit", f.s.AppendAudit(f.ctx, e), nil)
	}
	if f.revision() != rev {
		t.Errorf("appending to the audit log advanced the revision")
	}
	for _, tc := range []struct {
		name   string
		filter store.AuditFilter
		want   []store.AuditEvent
	}{
		{"all, newest first", store.AuditFilter{}, []store.AuditEvent{c, b, a}},
		{"by action", store.AuditFilter{Action: "workspace.migrate"}, []store.AuditEvent{c, a}},
		{"by target", store.AuditFilter{TargetType: "workspace", TargetID: "w1"}, []store.AuditEvent{a}},
		{"limit", store.AuditFilter{Limit: 2}, []store.AuditEvent{c, b}},
		{"none", store.AuditFilter{Action: "nope"}, nil},
	} {
		got, err := f.s.ListAudit(f.ctx, tc.filter)
		checkErr(t, tc.name, err, nil)
		checkList(t, tc.name, got, tc.want)
	}
	bad := f.audit("x", "y", "z")
	bad.Detail = "[1]"
	checkErr(t, "detail not an object", f.s.AppendAudit(f.ctx, bad), store.ErrInvalid)
	checkErr(t, "duplicate ID", f.s.AppendAudit(f.ctx, a), store.ErrAlreadyExists)
}

func testMigrateWorkspaces(t *testing.T, f *fixture) {
	w := f.enterpriseWorld()
	eo := store.Owner{Type: store.OwnerEnterprise, ID: w.ent.ID}
	ws1 := f.workspace("one", w.admin.Account(), w.admin.ID)
	ws2 := f.workspace("two", w.admin.Account(), w.admin.ID)
	stays := f.workspace("stays", w.admin.Account(), w.admin.ID)
	bot := store.Resource{Type: "bot", ID: "b1", WorkspaceID: ws1.ID, CreatedAt: f.tick()}
	checkErr(t, "CreateResource", f.s.CreateResource(f.ctx, bot), nil)
	rev := f.revision()
	ev := f.audit("workspace.migrate", "workspace", ws1.ID)
	checkErr(t, "Migrate", f.s.MigrateWorkspaces(f.ctx, []string{ws1.ID, ws2.ID}, w.admin.Account(), eo, ev), nil)
	if f.revision() == rev {
		t.Errorf("a migration did not advance the revision")
	}
	for _, id := range []string{ws1.ID, ws2.ID} {
		got, err := f.s.GetWorkspace(f.ctx, id)
		checkErr(t, "GetWorkspace", err, nil)
		checkEqual(t, "owner of "+id, got.Owner, eo)
	}
	got, _ := f.s.GetWorkspace(f.ctx, stays.ID)
	checkEqual(t, "owner of the workspace left behind", got.Owner, w.admin.Account())
	r, err := f.s.GetResource(f.ctx, "bot", "b1")
	checkErr(t, "GetResource", err, nil)
	checkEqual(t, "the bot moved with its workspace", r.WorkspaceID, ws1.ID)
	m, err := f.s.GetWorkspaceMember(f.ctx, ws1.ID, w.admin.ID)
	checkErr(t, "members stay", err, nil)
	checkEqual(t, "owner role stays", m.Role, store.WorkspaceRoleOwner)
	list, err := f.s.ListWorkspacesByOwner(f.ctx, eo)
	checkErr(t, "ListWorkspacesByOwner", err, nil)
	checkEqual(t, "enterprise workspaces", len(list), 2)
	events, err := f.s.ListAudit(f.ctx, store.AuditFilter{Action: "workspace.migrate"})
	checkErr(t, "ListAudit", err, nil)
	checkList(t, "audit", events, []store.AuditEvent{ev})

	// Again: the workspaces are not in the personal account any more.
	err = f.s.MigrateWorkspaces(f.ctx, []string{ws1.ID}, w.admin.Account(), eo, f.audit("workspace.migrate", "workspace", ws1.ID))
	checkErr(t, "migrate twice", err, store.ErrInvalid)
	for _, tc := range []struct {
		name     string
		ids      []string
		from, to store.Owner
	}{
		{"no workspaces", nil, w.admin.Account(), eo},
		{"same account", []string{stays.ID}, w.admin.Account(), w.admin.Account()},
		{"unknown target", []string{stays.ID}, w.admin.Account(), store.Owner{Type: store.OwnerEnterprise, ID: "nope"}},
		{"unknown workspace", []string{"nope"}, w.admin.Account(), eo},
		{"wrong source", []string{stays.ID}, f.user("x").Account(), eo},
	} {
		checkErr(t, tc.name, f.s.MigrateWorkspaces(f.ctx, tc.ids, tc.from, tc.to, f.audit("workspace.migrate", "workspace", "x")), store.ErrInvalid)
	}
}

func testMigrateAllOrNothing(t *testing.T, f *fixture) {
	w := f.enterpriseWorld()
	eo := store.Owner{Type: store.OwnerEnterprise, ID: w.ent.ID}
	mine := f.workspace("mine", w.admin.Account(), w.admin.ID)
	theirs := f.workspace("theirs", f.user("x").Account(), "")
	ev := f.audit("workspace.migrate", "workspace", mine.ID)
	checkErr(t, "Migrate", f.s.MigrateWorkspaces(f.ctx, []string{mine.ID, theirs.ID}, w.admin.Account(), eo, ev), store.ErrInvalid)
	got, _ := f.s.GetWorkspace(f.ctx, mine.ID)
	checkEqual(t, "first workspace rolled back", got.Owner, w.admin.Account())
	events, _ := f.s.ListAudit(f.ctx, store.AuditFilter{})
	checkList(t, "no audit event for a failed migration", events, nil)
	bad := f.audit("workspace.migrate", "workspace", mine.ID)
	bad.Detail = "nope"
	checkErr(t, "bad audit", f.s.MigrateWorkspaces(f.ctx, []string{mine.ID}, w.admin.Account(), eo, bad), store.ErrInvalid)
	got, _ = f.s.GetWorkspace(f.ctx, mine.ID)
	checkEqual(t, "nothing moved without its audit event", got.Owner, w.admin.Account())
}

// testConcurrentMigrations races migrations of one workspace into two
// enterprises: exactly one wins, and the audit log says which.
func testConcurrentMigrations(t *testing.T, f *fixture) {
	admin := f.user("boss")
	var targets []store.Owner
	for i := range workers {
		e := f.enterprise(fmt.Sprintf("E%d", i), admin.ID)
		targets = append(targets, store.Owner{Type: store.OwnerEnterprise, ID: e.ID})
	}
	ws := f.workspace("contested", admin.Account(), admin.ID)
	events := make([]store.AuditEvent, workers)
	for i := range events {
		events[i] = f.audit("workspace.migrate", "workspace", ws.ID)
	}
	errs := make([]error, workers)
	parallel(workers, func(i int) {
		errs[i] = f.s.MigrateWorkspaces(f.ctx, []string{ws.ID}, admin.Account(), targets[i], events[i])
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("two migrations of one workspace succeeded (%d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrInvalid):
			t.Errorf("migration %d: %v (want ErrInvalid or success)", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no migration succeeded")
	}
	got, _ := f.s.GetWorkspace(f.ctx, ws.ID)
	checkEqual(t, "owner", got.Owner, targets[winner])
	logged, _ := f.s.ListAudit(f.ctx, store.AuditFilter{})
	checkList(t, "audit log", logged, []store.AuditEvent{events[winner]})
}

func testRemoveEnterpriseMember(t *testing.T, f *fixture) {
	w := f.enterpriseWorld()
	eo := store.Owner{Type: store.OwnerEnterprise, ID: w.ent.ID}
	leaver := f.user("leaver")
	receiver := f.user("receiver")
	f.putEnterpriseMember(w.ent.ID, leaver.ID, store.RoleMember)
	f.putEnterpriseMember(w.ent.ID, receiver.ID, store.RoleMember)
	owned := f.workspace("owned", eo, leaver.ID)
	shared := f.workspace("shared", eo, receiver.ID)
	f.putWorkspaceMember(shared.ID, leaver.ID, store.WorkspaceRoleMember)
	both := f.workspace("both", eo, leaver.ID)
	f.putWorkspaceMember(both.ID, receiver.ID, store.WorkspaceRoleAdmin)
	personal := f.workspace("personal", leaver.Account(), leaver.ID)

	ev := f.audit("enterprise.member.remove", "enterprise", w.ent.ID)
	rev := f.revision()
	checkErr(t, "Remove", f.s.RemoveEnterpriseMember(f.ctx, w.ent.ID, leaver.ID, receiver.ID, ev), nil)
	if f.revision() == rev {
		t.Errorf("removing a member did not advance the revision")
	}
	_, err := f.s.GetEnterpriseMember(f.ctx, w.ent.ID, leaver.ID)
	checkErr(t, "membership gone", err, store.ErrNotFound)
	for _, ws := range []store.Workspace{owned, shared, both} {
		_, err := f.s.GetWorkspaceMember(f.ctx, ws.ID, leaver.ID)
		checkErr(t, "left "+ws.Name, err, store.ErrNotFound)
	}
	for _, ws := range []store.Workspace{owned, shared, both} {
		m, err := f.s.GetWorkspaceMember(f.ctx, ws.ID, receiver.ID)
		checkErr(t, "receiver in "+ws.Name, err, nil)
		checkEqual(t, "receiver's role in "+ws.Name, m.Role, store.WorkspaceRoleOwner)
	}
	if _, err := f.s.GetWorkspaceMember(f.ctx, personal.ID, leaver.ID); err != nil {
		t.Errorf("the leaver lost their personal workspace: %v", err)
	}
	logged, _ := f.s.ListAudit(f.ctx, store.AuditFilter{TargetID: w.ent.ID})
	checkList(t, "audit", logged, []store.AuditEvent{ev})

	outsider := f.user("outsider")
	f.putEnterpriseMember(w.ent.ID, leaver.ID, store.RoleMember)
	for _, tc := range []struct {
		name, user, receiver string
		want                 error
	}{
		{"receiver not a member", leaver.ID, outsider.ID, store.ErrInvalid},
		{"receiver is the leaver", leaver.ID, leaver.ID, store.ErrInvalid},
		{"not a member", outsider.ID, receiver.ID, store.ErrNotFound},
	} {
		checkErr(t, tc.name, f.s.RemoveEnterpriseMember(f.ctx, w.ent.ID, tc.user, tc.receiver, f.audit("enterprise.member.remove", "enterprise", w.ent.ID)), tc.want)
	}
	if _, err := f.s.GetEnterpriseMember(f.ctx, w.ent.ID, leaver.ID); err != nil {
		t.Errorf("a failed removal removed the member: %v", err)
	}
}

// testRemovedMemberCredentials: removing a member ends what they held as a
// member — enterprise PATs, OBO grants in the enterprise and their tokens —
// so adding them back (even as a Guest) revives nothing (issue 11.7). Their
// personal credentials stay.
func testRemovedMemberCredentials(t *testing.T, f *fixture) {
	w := f.enterpriseWorld()
	eo := store.Owner{Type: store.OwnerEnterprise, ID: w.ent.ID}
	for _, remove := range []struct {
		name string
		do   func(userID string) error
	}{
		{"DeleteEnterpriseMember", func(u string) error { return f.s.DeleteEnterpriseMember(f.ctx, w.ent.ID, u) }},
		{"RemoveEnterpriseMember", func(u string) error {
			return f.s.RemoveEnterpriseMember(f.ctx, w.ent.ID, u, w.admin.ID, f.audit("enterprise.member.remove", "enterprise", w.ent.ID))
		}},
	} {
		t.Run(remove.name, func(t *testing.T) {
			m := f.user("member-" + store.NewID()[13:])
			f.putEnterpriseMember(w.ent.ID, m.ID, store.RoleAdmin)
			entPAT := f.credential(store.Credential{UserID: m.ID, Owner: eo, Permissions: []string{"Conversation.create"}, AllWorkspaces: true})
			ownPAT := f.credential(store.Credential{UserID: m.ID, Owner: m.Account(), Permissions: []string{"Conversation.create"}, AllWorkspaces: true})
			a := f.app(m.Account(), m.ID, store.ClientWebBackend)
			entGrant := f.grant(store.Grant{AppID: a.ID, Kind: store.GrantOBO, UserID: m.ID, Owner: eo, Permissions: a.Permissions, AllWorkspaces: true})
			ownGrant := f.grant(store.Grant{AppID: a.ID, Kind: store.GrantOBO, UserID: m.ID, Owner: m.Account(), Permissions: a.Permissions, AllWorkspaces: true})
			entAccess, entRefresh := f.tokenPair(oauthSetup{user: m, app: a, grant: entGrant})
			ownAccess, _ := f.tokenPair(oauthSetup{user: m, app: a, grant: ownGrant})

			checkErr(t, remove.name, remove.do(m.ID), nil)
			f.putEnterpriseMember(w.ent.ID, m.ID, store.RoleGuest)

			_, err := f.s.GetCredential(f.ctx, entPAT.ID)
			checkErr(t, "the enterprise PAT after removal and re-adding", err, store.ErrNotFound)
			_, err = f.s.GetCredential(f.ctx, ownPAT.ID)
			checkErr(t, "the personal PAT", err, nil)
			_, err = f.s.GetGrant(f.ctx, entGrant.ID)
			checkErr(t, "the OBO grant in the enterprise", err, store.ErrNotFound)
			_, err = f.s.GetGrant(f.ctx, ownGrant.ID)
			checkErr(t, "the personal OBO grant", err, nil)
			f.checkRevoked("tokens of the enterprise grant", true, entAccess, entRefresh)
			f.checkRevoked("tokens of the personal grant", false, ownAccess)
		})
	}
}

func testGrantCreatedBy(t *testing.T, f *fixture) {
	w := f.enterpriseWorld()
	got, err := f.s.GetGrant(f.ctx, w.inst.ID)
	checkErr(t, "GetGrant", err, nil)
	checkEqual(t, "created by", got.CreatedBy, w.admin.ID)
	other := f.user("other")
	f.putEnterpriseMember(w.ent.ID, other.ID, store.RoleAdmin)
	again := w.inst
	again.ID, again.CreatedBy, again.UpdatedAt = store.NewID(), other.ID, f.tick()
	put, err := f.s.PutGrant(f.ctx, again)
	checkErr(t, "PutGrant again", err, nil)
	checkEqual(t, "the grant keeps its ID", put.ID, w.inst.ID)
	checkEqual(t, "renewed by", put.CreatedBy, other.ID)
}

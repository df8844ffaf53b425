package storetest

import (
	"cmp"
	"errors"
	"slices"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runCRUD checks that each record type is stored and read back whole, that keys
// are unique, that references are checked and that lists are ordered.
func runCRUD(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"Users", testUsers},
		{"UserErrors", testUserErrors},
		{"ListUsers", testListUsers},
		{"UpdateUser", testUpdateUser},
		{"DeleteUser", testDeleteUser},
		{"Enterprises", testEnterprises},
		{"EnterpriseMembers", testEnterpriseMembers},
		{"EnterpriseMemberErrors", testEnterpriseMemberErrors},
		{"Workspaces", testWorkspaces},
		{"WorkspaceErrors", testWorkspaceErrors},
		{"WorkspaceMembers", testWorkspaceMembers},
		{"ListMemberWorkspaces", testListMemberWorkspaces},
		{"Resources", testResources},
		{"ResourceErrors", testResourceErrors},
		{"Credentials", testCredentials},
		{"CredentialErrors", testCredentialErrors},
		{"ListCredentials", testListCredentials},
		{"UpdateCredential", testUpdateCredential},
		{"DeleteCredential", testDeleteCredential},
		{"TouchCredentials", testTouchCredentials},
	})
}

// ---- users ----

func testUsers(t *testing.T, f *fixture) {
	alice := f.user("alice")
	f.user("bob")

	for _, tc := range []struct {
		name string
		get  func() (store.User, error)
	}{
		{"GetUser", func() (store.User, error) { return f.s.GetUser(f.ctx, alice.ID) }},
		{"GetUserByUsername", func() (store.User, error) { return f.s.GetUserByUsername(f.ctx, alice.Username) }},
		{"GetUserByAccountID", func() (store.User, error) { return f.s.GetUserByAccountID(f.ctx, alice.AccountID) }},
		{"GetUserByAccountID is by user ID", func() (store.User, error) { return f.s.GetUserByAccountID(f.ctx, alice.ID) }},
	} {
		got, err := tc.get()
		if checkErr(t, tc.name, err, nil) {
			checkEqual(t, tc.name, got, alice)
		}
	}

	for _, tc := range []struct {
		name string
		get  func() (store.User, error)
	}{
		{"GetUser unknown", func() (store.User, error) { return f.s.GetUser(f.ctx, store.NewID()) }},
		{"GetUserByAccountAlias unknown", func() (store.User, error) { return f.s.GetUserByAccountAlias(f.ctx, store.NewID()) }},
		{"GetUserByAccountAlias by user ID", func() (store.User, error) { return f.s.GetUserByAccountAlias(f.ctx, alice.ID) }},
		{"GetUserByUsername unknown", func() (store.User, error) { return f.s.GetUserByUsername(f.ctx, "nobody") }},
		{"GetUserByAccountID unknown", func() (store.User, error) { return f.s.GetUserByAccountID(f.ctx, store.NewID()) }},
	} {
		_, err := tc.get()
		checkErr(t, tc.name, err, store.ErrNotFound)
	}
}

func testUserErrors(t *testing.T, f *fixture) {
	alice := f.user("alice")
	for _, tc := range []struct {
		name   string
		modify func(u *store.User)
		want   error
	}{
		{"duplicate ID", func(u *store.User) { u.ID, u.AccountID = alice.ID, alice.ID }, store.ErrAlreadyExists},
		{"duplicate username", func(u *store.User) { u.Username = alice.Username }, store.ErrAlreadyExists},
		{"account ID other than the user ID", func(u *store.User) { u.AccountID = store.NewID() }, store.ErrInvalid},
		{"another user's account ID", func(u *store.User) { u.AccountID = alice.AccountID }, store.ErrInvalid},
		{"no ID", func(u *store.User) { u.ID = "" }, store.ErrInvalid},
		{"no username", func(u *store.User) { u.Username = "" }, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			u := f.newUser("mallory")
			tc.modify(&u)
			checkErr(t, "CreateUser", f.s.CreateUser(f.ctx, u), tc.want)
			users, err := f.s.ListUsers(f.ctx)
			if checkErr(t, "ListUsers", err, nil) {
				checkList(t, "users after failed create", users, []store.User{alice})
			}
		})
	}

	t.Run("no account ID is the user ID", func(t *testing.T) {
		f := f.sub(t)
		u := f.newUser("bob")
		u.AccountID = ""
		if checkErr(t, "CreateUser", f.s.CreateUser(f.ctx, u), nil) {
			got, err := f.s.GetUserByAccountID(f.ctx, u.ID)
			u.AccountID = u.ID
			if checkErr(t, "GetUserByAccountID", err, nil) {
				checkEqual(t, "user", got, u)
			}
		}
	})
}

func testListUsers(t *testing.T, f *fixture) {
	users, err := f.s.ListUsers(f.ctx)
	if checkErr(t, "ListUsers on an empty store", err, nil) && len(users) != 0 {
		t.Errorf("ListUsers on an empty store: got %d users", len(users))
	}

	// Created out of time order, with two users made in the same second: the
	// list is ordered by creation time, then ID.
	var want []store.User
	for i, at := range []int64{baseTime + 30, baseTime + 10, baseTime + 20, baseTime + 20, baseTime + 20} {
		u := f.newUser("user" + string(rune('a'+i)))
		u.CreatedAt = at
		if err := f.s.CreateUser(f.ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		want = append(want, u)
	}
	slices.SortFunc(want, func(a, b store.User) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	users, err = f.s.ListUsers(f.ctx)
	if checkErr(t, "ListUsers", err, nil) {
		checkList(t, "ListUsers", users, want)
	}
}

// ---- enterprises ----

func testEnterprises(t *testing.T, f *fixture) {
	root := f.user("root")
	e := f.enterprise("Acme", root.ID)

	got, err := f.s.GetEnterprise(f.ctx, e.ID)
	if checkErr(t, "GetEnterprise", err, nil) {
		checkEqual(t, "GetEnterprise", got, e)
	}
	e2 := f.enterprise("Beta", root.ID)
	all, err := f.s.ListEnterprises(f.ctx)
	if checkErr(t, "ListEnterprises", err, nil) {
		checkList(t, "ListEnterprises", all, []store.Enterprise{e, e2})
	}
	// The super admin was made a member in the same call.
	sa := store.EnterpriseMember{EnterpriseID: e.ID, UserID: root.ID, Role: store.RoleSuperAdmin, CreatedAt: e.CreatedAt}
	m, err := f.s.GetEnterpriseMember(f.ctx, e.ID, root.ID)
	if checkErr(t, "GetEnterpriseMember(super admin)", err, nil) {
		checkEqual(t, "super admin", m, sa)
	}
	members, err := f.s.ListEnterpriseMembers(f.ctx, e.ID)
	if checkErr(t, "ListEnterpriseMembers", err, nil) {
		checkList(t, "ListEnterpriseMembers", members, []store.EnterpriseMember{sa})
	}

	// Without a super admin there are no members.
	bare := f.enterprise("Bare", "")
	members, err = f.s.ListEnterpriseMembers(f.ctx, bare.ID)
	if checkErr(t, "ListEnterpriseMembers(bare)", err, nil) {
		checkList(t, "ListEnterpriseMembers(bare)", members, nil)
	}

	_, err = f.s.GetEnterprise(f.ctx, store.NewID())
	checkErr(t, "GetEnterprise(unknown)", err, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		e    store.Enterprise
		want error
	}{
		{"duplicate ID", store.Enterprise{ID: e.ID, Name: "Other", CreatedAt: f.tick()}, store.ErrAlreadyExists},
		{"no ID", store.Enterprise{Name: "Other", CreatedAt: f.tick()}, store.ErrInvalid},
		{"no name", store.Enterprise{ID: store.NewID(), CreatedAt: f.tick()}, store.ErrInvalid},
	} {
		checkErr(t, "CreateEnterprise "+tc.name, f.s.CreateEnterprise(f.ctx, tc.e, ""), tc.want)
	}
	got, err = f.s.GetEnterprise(f.ctx, e.ID)
	if checkErr(t, "GetEnterprise after duplicate", err, nil) {
		checkEqual(t, "GetEnterprise after duplicate", got, e)
	}
}

func testEnterpriseMembers(t *testing.T, f *fixture) {
	root, bob, carol := f.user("root"), f.user("bob"), f.user("carol")
	e1 := f.enterprise("One", root.ID)
	e2 := f.enterprise("Two", root.ID)
	sa := store.EnterpriseMember{EnterpriseID: e1.ID, UserID: root.ID, Role: store.RoleSuperAdmin, CreatedAt: e1.CreatedAt}

	// Add, then change the role: the membership keeps its creation time.
	bobIn1 := f.putEnterpriseMember(e1.ID, bob.ID, store.RoleMember)
	got, err := f.s.GetEnterpriseMember(f.ctx, e1.ID, bob.ID)
	if checkErr(t, "GetEnterpriseMember", err, nil) {
		checkEqual(t, "added member", got, bobIn1)
	}
	f.putEnterpriseMember(e1.ID, bob.ID, store.RoleAdmin)
	bobIn1.Role = store.RoleAdmin
	got, err = f.s.GetEnterpriseMember(f.ctx, e1.ID, bob.ID)
	if checkErr(t, "GetEnterpriseMember after role change", err, nil) {
		checkEqual(t, "member after role change", got, bobIn1)
	}

	carolIn1 := f.putEnterpriseMember(e1.ID, carol.ID, store.RoleGuest)
	bobIn2 := f.putEnterpriseMember(e2.ID, bob.ID, store.RoleMember)

	checkMembers := func(what string, got []store.EnterpriseMember, err error, want ...store.EnterpriseMember) {
		t.Helper()
		if checkErr(t, what, err, nil) {
			checkList(t, what, got, want)
		}
	}
	ms, err := f.s.ListEnterpriseMembers(f.ctx, e1.ID)
	checkMembers("ListEnterpriseMembers(e1)", ms, err, sa, bobIn1, carolIn1)
	ms, err = f.s.ListUserEnterprises(f.ctx, bob.ID)
	checkMembers("ListUserEnterprises(bob)", ms, err, bobIn1, bobIn2)
	ms, err = f.s.ListEnterpriseMembers(f.ctx, store.NewID())
	checkMembers("ListEnterpriseMembers(unknown)", ms, err)
	ms, err = f.s.ListUserEnterprises(f.ctx, store.NewID())
	checkMembers("ListUserEnterprises(unknown)", ms, err)

	checkErr(t, "DeleteEnterpriseMember", f.s.DeleteEnterpriseMember(f.ctx, e1.ID, bob.ID), nil)
	_, err = f.s.GetEnterpriseMember(f.ctx, e1.ID, bob.ID)
	checkErr(t, "GetEnterpriseMember after delete", err, store.ErrNotFound)
	ms, err = f.s.ListEnterpriseMembers(f.ctx, e1.ID)
	checkMembers("ListEnterpriseMembers(e1) after delete", ms, err, sa, carolIn1)
	ms, err = f.s.ListUserEnterprises(f.ctx, bob.ID)
	checkMembers("ListUserEnterprises(bob) after delete", ms, err, bobIn2)

	for _, tc := range []struct{ name, enterprise, user string }{
		{"deleted member", e1.ID, bob.ID},
		{"never a member", e2.ID, carol.ID},
		{"unknown enterprise", store.NewID(), bob.ID},
	} {
		checkErr(t, "DeleteEnterpriseMember "+tc.name, f.s.DeleteEnterpriseMember(f.ctx, tc.enterprise, tc.user), store.ErrNotFound)
	}
	_, err = f.s.GetEnterpriseMember(f.ctx, e2.ID, carol.ID)
	checkErr(t, "GetEnterpriseMember(never a member)", err, store.ErrNotFound)
}

func testEnterpriseMemberErrors(t *testing.T, f *fixture) {
	root, bob := f.user("root"), f.user("bob")
	e := f.enterprise("Acme", root.ID)
	bobM := f.putEnterpriseMember(e.ID, bob.ID, store.RoleMember)
	sa := store.EnterpriseMember{EnterpriseID: e.ID, UserID: root.ID, Role: store.RoleSuperAdmin, CreatedAt: e.CreatedAt}

	for _, tc := range []struct {
		name string
		m    store.EnterpriseMember
	}{
		{"empty role", store.EnterpriseMember{EnterpriseID: e.ID, UserID: root.ID}},
		{"lower-case role", store.EnterpriseMember{EnterpriseID: e.ID, UserID: root.ID, Role: "superadmin"}},
		{"workspace role", store.EnterpriseMember{EnterpriseID: e.ID, UserID: root.ID, Role: "owner"}},
		{"role change to invalid", store.EnterpriseMember{EnterpriseID: e.ID, UserID: bob.ID, Role: "Root"}},
		{"unknown user", store.EnterpriseMember{EnterpriseID: e.ID, UserID: store.NewID(), Role: store.RoleMember}},
		{"unknown enterprise", store.EnterpriseMember{EnterpriseID: store.NewID(), UserID: bob.ID, Role: store.RoleMember}},
	} {
		tc.m.CreatedAt = f.tick()
		checkErr(t, "PutEnterpriseMember "+tc.name, f.s.PutEnterpriseMember(f.ctx, tc.m), store.ErrInvalid)
	}
	ms, err := f.s.ListEnterpriseMembers(f.ctx, e.ID)
	if checkErr(t, "ListEnterpriseMembers", err, nil) {
		checkList(t, "members after failed puts", ms, []store.EnterpriseMember{sa, bobM})
	}
	ms, err = f.s.ListUserEnterprises(f.ctx, bob.ID)
	if checkErr(t, "ListUserEnterprises", err, nil) {
		checkList(t, "bob's enterprises after failed puts", ms, []store.EnterpriseMember{bobM})
	}
}

// ---- workspaces ----

func testWorkspaces(t *testing.T, f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	e := f.enterprise("Acme", alice.ID)
	entOwner := store.Owner{Type: store.OwnerEnterprise, ID: e.ID}

	personal := f.workspace("Personal", alice.Account(), "")
	team := f.workspace("Team", entOwner, "")
	for _, w := range []store.Workspace{personal, team} {
		got, err := f.s.GetWorkspace(f.ctx, w.ID)
		if checkErr(t, "GetWorkspace "+w.Name, err, nil) {
			checkEqual(t, "GetWorkspace "+w.Name, got, w)
		}
	}

	// With an owner member: both are written.
	withOwner := f.newWorkspace("WithOwner", alice.Account())
	owner := store.WorkspaceMember{WorkspaceID: withOwner.ID, UserID: alice.ID, Role: store.WorkspaceRoleOwner, CreatedAt: withOwner.CreatedAt}
	if err := f.s.CreateWorkspace(f.ctx, withOwner, &owner); err != nil {
		t.Fatalf("CreateWorkspace with owner: %v", err)
	}
	gotW, err := f.s.GetWorkspace(f.ctx, withOwner.ID)
	if checkErr(t, "GetWorkspace(with owner)", err, nil) {
		checkEqual(t, "GetWorkspace(with owner)", gotW, withOwner)
	}
	gotM, err := f.s.GetWorkspaceMember(f.ctx, withOwner.ID, alice.ID)
	if checkErr(t, "GetWorkspaceMember(owner)", err, nil) {
		checkEqual(t, "owner member", gotM, owner)
	}
	_, err = f.s.GetWorkspaceMember(f.ctx, personal.ID, alice.ID)
	checkErr(t, "GetWorkspaceMember(created without owner)", err, store.ErrNotFound)

	// Made later but dated earlier, and two in the same second: lists are
	// ordered by creation time, then ID.
	early := f.newWorkspace("Early", alice.Account())
	early.CreatedAt = baseTime - 100
	twin1, twin2 := f.newWorkspace("Twin1", alice.Account()), f.newWorkspace("Twin2", alice.Account())
	twin2.CreatedAt = twin1.CreatedAt
	for _, w := range []store.Workspace{early, twin1, twin2} {
		if err := f.s.CreateWorkspace(f.ctx, w, nil); err != nil {
			t.Fatalf("CreateWorkspace(%s): %v", w.Name, err)
		}
	}
	twins := []store.Workspace{twin1, twin2}
	slices.SortFunc(twins, func(a, b store.Workspace) int { return cmp.Compare(a.ID, b.ID) })

	for _, tc := range []struct {
		name  string
		owner store.Owner
		want  []store.Workspace
	}{
		{"alice", alice.Account(), append([]store.Workspace{early, personal, withOwner}, twins...)},
		{"enterprise", entOwner, []store.Workspace{team}},
		{"bob", bob.Account(), nil},
		{"owner type matters", store.Owner{Type: store.OwnerEnterprise, ID: alice.AccountID}, nil},
		{"unknown", store.Owner{Type: store.OwnerPersonal, ID: store.NewID()}, nil},
	} {
		ws, err := f.s.ListWorkspacesByOwner(f.ctx, tc.owner)
		if checkErr(t, "ListWorkspacesByOwner "+tc.name, err, nil) {
			checkList(t, "ListWorkspacesByOwner "+tc.name, ws, tc.want)
		}
	}

	_, err = f.s.GetWorkspace(f.ctx, store.NewID())
	checkErr(t, "GetWorkspace(unknown)", err, store.ErrNotFound)
}

func testWorkspaceErrors(t *testing.T, f *fixture) {
	alice := f.user("alice")
	e := f.enterprise("Acme", alice.ID)
	existing := f.workspace("Existing", alice.Account(), "")

	for _, tc := range []struct {
		name   string
		modify func(w *store.Workspace)
		want   error
	}{
		{"duplicate ID", func(w *store.Workspace) { w.ID = existing.ID }, store.ErrAlreadyExists},
		{"unknown personal account", func(w *store.Workspace) { w.Owner.ID = store.NewID() }, store.ErrInvalid},
		{"enterprise ID as personal account", func(w *store.Workspace) { w.Owner.ID = e.ID }, store.ErrInvalid},
		{"unknown enterprise", func(w *store.Workspace) { w.Owner = store.Owner{Type: store.OwnerEnterprise, ID: store.NewID()} }, store.ErrInvalid},
		{"account ID as enterprise", func(w *store.Workspace) { w.Owner = store.Owner{Type: store.OwnerEnterprise, ID: alice.AccountID} }, store.ErrInvalid},
		{"unknown owner type", func(w *store.Workspace) { w.Owner.Type = "team" }, store.ErrInvalid},
		{"no owner ID", func(w *store.Workspace) { w.Owner.ID = "" }, store.ErrInvalid},
		{"no owner", func(w *store.Workspace) { w.Owner = store.Owner{} }, store.ErrInvalid},
		{"no name", func(w *store.Workspace) { w.Name = "" }, store.ErrInvalid},
		{"no ID", func(w *store.Workspace) { w.ID = "" }, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			w := f.newWorkspace("New", alice.Account())
			tc.modify(&w)
			checkErr(t, "CreateWorkspace", f.s.CreateWorkspace(f.ctx, w, nil), tc.want)
			if w.ID != "" && w.ID != existing.ID {
				_, err := f.s.GetWorkspace(f.ctx, w.ID)
				checkErr(t, "GetWorkspace after failed create", err, store.ErrNotFound)
			}
			for _, o := range []store.Owner{alice.Account(), {Type: store.OwnerEnterprise, ID: e.ID}, w.Owner} {
				ws, err := f.s.ListWorkspacesByOwner(f.ctx, o)
				if !checkErr(t, "ListWorkspacesByOwner", err, nil) {
					continue
				}
				var want []store.Workspace
				if o == alice.Account() {
					want = []store.Workspace{existing}
				}
				checkList(t, "workspaces of "+string(o.Type)+" "+o.ID, ws, want)
			}
		})
	}
}

func testWorkspaceMembers(t *testing.T, f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	w := f.workspace("Home", alice.Account(), alice.ID)

	bobM := f.putWorkspaceMember(w.ID, bob.ID, store.WorkspaceRoleMember)
	got, err := f.s.GetWorkspaceMember(f.ctx, w.ID, bob.ID)
	if checkErr(t, "GetWorkspaceMember", err, nil) {
		checkEqual(t, "added member", got, bobM)
	}
	// A role change keeps the membership's creation time.
	f.putWorkspaceMember(w.ID, bob.ID, store.WorkspaceRoleAdmin)
	bobM.Role = store.WorkspaceRoleAdmin
	got, err = f.s.GetWorkspaceMember(f.ctx, w.ID, bob.ID)
	if checkErr(t, "GetWorkspaceMember after role change", err, nil) {
		checkEqual(t, "member after role change", got, bobM)
	}

	for _, tc := range []struct {
		name string
		m    store.WorkspaceMember
	}{
		{"empty role", store.WorkspaceMember{WorkspaceID: w.ID, UserID: carol.ID}},
		{"capitalised role", store.WorkspaceMember{WorkspaceID: w.ID, UserID: carol.ID, Role: "Owner"}},
		{"enterprise role", store.WorkspaceMember{WorkspaceID: w.ID, UserID: carol.ID, Role: "Admin"}},
		{"role change to invalid", store.WorkspaceMember{WorkspaceID: w.ID, UserID: bob.ID, Role: "viewer"}},
		{"unknown user", store.WorkspaceMember{WorkspaceID: w.ID, UserID: store.NewID(), Role: store.WorkspaceRoleMember}},
		{"unknown workspace", store.WorkspaceMember{WorkspaceID: store.NewID(), UserID: carol.ID, Role: store.WorkspaceRoleMember}},
	} {
		tc.m.CreatedAt = f.tick()
		checkErr(t, "PutWorkspaceMember "+tc.name, f.s.PutWorkspaceMember(f.ctx, tc.m), store.ErrInvalid)
	}
	got, err = f.s.GetWorkspaceMember(f.ctx, w.ID, bob.ID)
	if checkErr(t, "GetWorkspaceMember after failed puts", err, nil) {
		checkEqual(t, "member after failed puts", got, bobM)
	}
	_, err = f.s.GetWorkspaceMember(f.ctx, w.ID, carol.ID)
	checkErr(t, "GetWorkspaceMember(carol) after failed puts", err, store.ErrNotFound)

	checkErr(t, "DeleteWorkspaceMember", f.s.DeleteWorkspaceMember(f.ctx, w.ID, bob.ID), nil)
	_, err = f.s.GetWorkspaceMember(f.ctx, w.ID, bob.ID)
	checkErr(t, "GetWorkspaceMember after delete", err, store.ErrNotFound)
	for _, tc := range []struct{ name, workspace, user string }{
		{"deleted member", w.ID, bob.ID},
		{"never a member", w.ID, carol.ID},
		{"unknown workspace", store.NewID(), alice.ID},
	} {
		checkErr(t, "DeleteWorkspaceMember "+tc.name, f.s.DeleteWorkspaceMember(f.ctx, tc.workspace, tc.user), store.ErrNotFound)
	}
	_, err = f.s.GetWorkspaceMember(f.ctx, w.ID, alice.ID)
	checkErr(t, "GetWorkspaceMember(owner) after deleting others", err, nil)
}

func testListMemberWorkspaces(t *testing.T, f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	e := f.enterprise("Acme", bob.ID)

	w1 := f.workspace("Alice's", alice.Account(), alice.ID)
	w2 := f.workspace("Team", store.Owner{Type: store.OwnerEnterprise, ID: e.ID}, bob.ID)
	w3 := f.workspace("Bob's", bob.Account(), bob.ID)
	f.workspace("Not alice's", bob.Account(), bob.ID)
	// Two workspaces made in the same second, ordered by ID.
	t1, t2 := f.newWorkspace("Twin1", bob.Account()), f.newWorkspace("Twin2", bob.Account())
	t2.CreatedAt = t1.CreatedAt
	for _, w := range []store.Workspace{t2, t1} {
		if err := f.s.CreateWorkspace(f.ctx, w, nil); err != nil {
			t.Fatalf("CreateWorkspace(%s): %v", w.Name, err)
		}
	}
	// Alice joins in an order unlike the workspaces' creation order: the list
	// follows the workspaces.
	f.putWorkspaceMember(t2.ID, alice.ID, store.WorkspaceRoleMember)
	f.putWorkspaceMember(w3.ID, alice.ID, store.WorkspaceRoleAdmin)
	f.putWorkspaceMember(t1.ID, alice.ID, store.WorkspaceRoleAdmin)
	f.putWorkspaceMember(w2.ID, alice.ID, store.WorkspaceRoleMember)

	twins := []store.MemberWorkspace{{Workspace: t1, Role: store.WorkspaceRoleAdmin}, {Workspace: t2, Role: store.WorkspaceRoleMember}}
	slices.SortFunc(twins, func(a, b store.MemberWorkspace) int { return cmp.Compare(a.ID, b.ID) })
	want := append([]store.MemberWorkspace{
		{Workspace: w1, Role: store.WorkspaceRoleOwner},
		{Workspace: w2, Role: store.WorkspaceRoleMember},
		{Workspace: w3, Role: store.WorkspaceRoleAdmin},
	}, twins...)

	got, err := f.s.ListMemberWorkspaces(f.ctx, alice.ID)
	if checkErr(t, "ListMemberWorkspaces(alice)", err, nil) {
		checkList(t, "ListMemberWorkspaces(alice)", got, want)
	}

	// A removed membership disappears; a role change shows.
	if err := f.s.DeleteWorkspaceMember(f.ctx, w2.ID, alice.ID); err != nil {
		t.Fatalf("DeleteWorkspaceMember: %v", err)
	}
	f.putWorkspaceMember(w3.ID, alice.ID, store.WorkspaceRoleMember)
	want = slices.Delete(want, 1, 2)
	want[1].Role = store.WorkspaceRoleMember
	got, err = f.s.ListMemberWorkspaces(f.ctx, alice.ID)
	if checkErr(t, "ListMemberWorkspaces(alice) after changes", err, nil) {
		checkList(t, "ListMemberWorkspaces(alice) after changes", got, want)
	}

	for _, id := range []string{carol.ID, store.NewID()} {
		got, err := f.s.ListMemberWorkspaces(f.ctx, id)
		if checkErr(t, "ListMemberWorkspaces(no memberships)", err, nil) {
			checkList(t, "ListMemberWorkspaces(no memberships)", got, nil)
		}
	}
}

// ---- resources ----

func testResources(t *testing.T, f *fixture) {
	alice := f.user("alice")
	e := f.enterprise("Acme", alice.ID)
	w := f.workspace("Home", alice.Account(), alice.ID)
	botID := store.NewID()

	rs := []store.Resource{
		{Type: "bot", ID: botID, WorkspaceID: w.ID},
		{Type: "workflow", ID: botID, WorkspaceID: w.ID}, // same ID, other type
		{Type: "conversation", ID: store.NewID(), AccountID: alice.AccountID},
		{Type: "voice", ID: store.NewID(), AccountID: e.ID},
	}
	for i := range rs {
		rs[i].CreatedAt = f.tick()
		checkErr(t, "CreateResource "+rs[i].Type, f.s.CreateResource(f.ctx, rs[i]), nil)
	}
	for _, r := range rs {
		got, err := f.s.GetResource(f.ctx, r.Type, r.ID)
		if checkErr(t, "GetResource "+r.Type, err, nil) {
			checkEqual(t, "GetResource "+r.Type, got, r)
		}
	}
	for _, tc := range []struct{ name, typ, id string }{
		{"unknown ID", "bot", store.NewID()},
		{"other type", "dataset", botID},
		{"account resource under another type", "bot", rs[2].ID},
	} {
		_, err := f.s.GetResource(f.ctx, tc.typ, tc.id)
		checkErr(t, "GetResource "+tc.name, err, store.ErrNotFound)
	}
}

func testResourceErrors(t *testing.T, f *fixture) {
	alice := f.user("alice")
	w := f.workspace("Home", alice.Account(), alice.ID)
	existing := store.Resource{Type: "bot", ID: store.NewID(), WorkspaceID: w.ID, CreatedAt: f.tick()}
	if err := f.s.CreateResource(f.ctx, existing); err != nil {
		t.Fatalf("CreateResource: %v", err)
	}

	for _, tc := range []struct {
		name string
		r    store.Resource
		want error
	}{
		{"duplicate type and ID", store.Resource{Type: "bot", ID: existing.ID, AccountID: alice.AccountID}, store.ErrAlreadyExists},
		{"unknown workspace", store.Resource{Type: "bot", ID: store.NewID(), WorkspaceID: store.NewID()}, store.ErrInvalid},
		{"unknown account", store.Resource{Type: "voice", ID: store.NewID(), AccountID: store.NewID()}, store.ErrInvalid},
		{"workspace ID as account", store.Resource{Type: "voice", ID: store.NewID(), AccountID: w.ID}, store.ErrInvalid},
		{"both workspace and account", store.Resource{Type: "bot", ID: store.NewID(), WorkspaceID: w.ID, AccountID: alice.AccountID}, store.ErrInvalid},
		{"neither workspace nor account", store.Resource{Type: "bot", ID: store.NewID()}, store.ErrInvalid},
		{"no type", store.Resource{ID: store.NewID(), WorkspaceID: w.ID}, store.ErrInvalid},
		{"no ID", store.Resource{Type: "bot", WorkspaceID: w.ID}, store.ErrInvalid},
	} {
		tc.r.CreatedAt = f.tick()
		checkErr(t, "CreateResource "+tc.name, f.s.CreateResource(f.ctx, tc.r), tc.want)
		if tc.r.Type == "" || tc.r.ID == "" {
			continue
		}
		got, err := f.s.GetResource(f.ctx, tc.r.Type, tc.r.ID)
		if tc.r.ID == existing.ID {
			if checkErr(t, "GetResource after duplicate", err, nil) {
				checkEqual(t, "GetResource after duplicate", got, existing)
			}
			continue
		}
		checkErr(t, "GetResource after failed create "+tc.name, err, store.ErrNotFound)
	}
}

// ---- credentials ----

// credentialWorld is the accounts and workspaces the credential tests use.
type credentialWorld struct {
	alice, bob store.User
	ent        store.Owner
	wsA, wsB   store.Workspace // alice's personal workspaces
	wsE1, wsE2 store.Workspace // the enterprise's
}

func (f *fixture) credentialWorld() credentialWorld {
	f.t.Helper()
	var cw credentialWorld
	cw.alice, cw.bob = f.user("alice"), f.user("bob")
	e := f.enterprise("Acme", cw.alice.ID)
	cw.ent = store.Owner{Type: store.OwnerEnterprise, ID: e.ID}
	cw.wsA = f.workspace("A", cw.alice.Account(), cw.alice.ID)
	cw.wsB = f.workspace("B", cw.alice.Account(), cw.alice.ID)
	cw.wsE1 = f.workspace("E1", cw.ent, cw.alice.ID)
	cw.wsE2 = f.workspace("E2", cw.ent, cw.alice.ID)
	return cw
}

// reversed returns the IDs sorted descending, so a store that returns them as
// given fails the "sorted" expectation.
func reversed(ws ...store.Workspace) []string {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

func testCredentials(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	creds := []store.Credential{
		f.credential(store.Credential{
			Kind: store.KindPAT, Name: "my pat", UserID: cw.alice.ID, Owner: cw.alice.Account(),
			Permissions:  []string{"Bot.chat", "Workspace.listWorkspace", "account.readUser"},
			WorkspaceIDs: reversed(cw.wsA, cw.wsB),
			ExpireAt:     baseTime + 86400, LastUsedAt: baseTime + 5,
		}),
		f.credential(store.Credential{
			Kind: store.KindSAT, Name: "service", UserID: cw.alice.ID, Owner: cw.ent,
			Permissions:  []string{"Bot.publish", "Enterprise.listMembers"},
			WorkspaceIDs: reversed(cw.wsE1, cw.wsE2),
		}),
		f.credential(store.Credential{
			Kind: store.KindPAT, Name: "everything", UserID: cw.alice.ID, Owner: cw.alice.Account(),
			AllWorkspaces: true,
		}),
		f.credential(store.Credential{
			Kind: store.KindPAT, Name: "repeated workspace", UserID: cw.alice.ID, Owner: cw.alice.Account(),
			Permissions:  []string{"Bot.chat"},
			WorkspaceIDs: []string{cw.wsB.ID, cw.wsA.ID, cw.wsB.ID},
		}),
	}
	for _, c := range creds {
		got, err := f.s.GetCredential(f.ctx, c.ID)
		if checkErr(t, "GetCredential "+c.Name, err, nil) {
			checkCredential(t, "GetCredential "+c.Name, got, c)
		}
		got, err = f.s.GetCredentialByHash(f.ctx, c.TokenHash)
		if checkErr(t, "GetCredentialByHash "+c.Name, err, nil) {
			checkCredential(t, "GetCredentialByHash "+c.Name, got, c)
		}
	}
	_, err := f.s.GetCredential(f.ctx, store.NewID())
	checkErr(t, "GetCredential(unknown)", err, store.ErrNotFound)
	_, err = f.s.GetCredentialByHash(f.ctx, tokenHash("pat_unknown"))
	checkErr(t, "GetCredentialByHash(unknown)", err, store.ErrNotFound)
	_, err = f.s.GetCredentialByHash(f.ctx, creds[0].ID)
	checkErr(t, "GetCredentialByHash(an ID)", err, store.ErrNotFound)
}

func testCredentialErrors(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	existing := f.credential(store.Credential{UserID: cw.alice.ID, Owner: cw.alice.Account(), WorkspaceIDs: []string{cw.wsA.ID}})

	for _, tc := range []struct {
		name   string
		modify func(c *store.Credential)
		want   error
	}{
		{"duplicate token hash", func(c *store.Credential) { c.TokenHash = existing.TokenHash }, store.ErrAlreadyExists},
		{"duplicate ID", func(c *store.Credential) { c.ID = existing.ID }, store.ErrAlreadyExists},
		{"no ID", func(c *store.Credential) { c.ID = "" }, store.ErrInvalid},
		{"no name", func(c *store.Credential) { c.Name = "" }, store.ErrInvalid},
		{"no token hash", func(c *store.Credential) { c.TokenHash = "" }, store.ErrInvalid},
		{"unknown kind", func(c *store.Credential) { c.Kind = "oauth" }, store.ErrInvalid},
		{"no owner", func(c *store.Credential) { c.Owner = store.Owner{} }, store.ErrInvalid},
		{"unknown owner type", func(c *store.Credential) { c.Owner.Type = "team" }, store.ErrInvalid},
		{"unknown personal account", func(c *store.Credential) { c.Owner.ID = store.NewID() }, store.ErrInvalid},
		{"unknown enterprise", func(c *store.Credential) { c.Owner = store.Owner{Type: store.OwnerEnterprise, ID: store.NewID()} }, store.ErrInvalid},
		{"all workspaces and a list", func(c *store.Credential) { c.AllWorkspaces = true }, store.ErrInvalid},
		{"unknown workspace", func(c *store.Credential) { c.WorkspaceIDs = append(c.WorkspaceIDs, store.NewID()) }, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			c := f.newCredential(store.Credential{UserID: cw.alice.ID, Owner: cw.alice.Account(), WorkspaceIDs: []string{cw.wsB.ID}})
			tc.modify(&c)
			checkErr(t, "CreateCredential", f.s.CreateCredential(f.ctx, c), tc.want)
			if c.ID != "" && c.ID != existing.ID {
				_, err := f.s.GetCredential(f.ctx, c.ID)
				checkErr(t, "GetCredential after failed create", err, store.ErrNotFound)
			}
			if c.TokenHash != "" && c.TokenHash != existing.TokenHash {
				_, err := f.s.GetCredentialByHash(f.ctx, c.TokenHash)
				checkErr(t, "GetCredentialByHash after failed create", err, store.ErrNotFound)
			}
			got, err := f.s.GetCredentialByHash(f.ctx, existing.TokenHash)
			if checkErr(t, "GetCredentialByHash(existing)", err, nil) {
				checkCredential(t, "existing credential", got, existing)
			}
			all, err := f.s.ListCredentials(f.ctx, store.CredentialFilter{})
			if checkErr(t, "ListCredentials", err, nil) {
				checkList(t, "credentials after failed create", credentialIDs(all), []string{existing.ID})
			}
		})
	}
}

func testListCredentials(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	alicePAT := f.credential(store.Credential{Kind: store.KindPAT, UserID: cw.alice.ID, Owner: cw.alice.Account(), WorkspaceIDs: reversed(cw.wsA, cw.wsB)})
	bobPAT := f.credential(store.Credential{Kind: store.KindPAT, UserID: cw.bob.ID, Owner: cw.bob.Account(), AllWorkspaces: true})
	aliceSAT := f.credential(store.Credential{Kind: store.KindSAT, UserID: cw.alice.ID, Owner: cw.ent, WorkspaceIDs: []string{cw.wsE1.ID}})
	bobSAT := f.credential(store.Credential{Kind: store.KindSAT, UserID: cw.bob.ID, Owner: cw.ent, AllWorkspaces: true})
	aliceEntPAT := f.credential(store.Credential{Kind: store.KindPAT, UserID: cw.alice.ID, Owner: cw.ent, WorkspaceIDs: reversed(cw.wsE1, cw.wsE2)})

	// Newest first.
	for _, tc := range []struct {
		name   string
		filter store.CredentialFilter
		want   []store.Credential
	}{
		{"all", store.CredentialFilter{}, []store.Credential{aliceEntPAT, bobSAT, aliceSAT, bobPAT, alicePAT}},
		{"kind pat", store.CredentialFilter{Kind: store.KindPAT}, []store.Credential{aliceEntPAT, bobPAT, alicePAT}},
		{"kind sat", store.CredentialFilter{Kind: store.KindSAT}, []store.Credential{bobSAT, aliceSAT}},
		{"user alice", store.CredentialFilter{UserID: cw.alice.ID}, []store.Credential{aliceEntPAT, aliceSAT, alicePAT}},
		{"user bob", store.CredentialFilter{UserID: cw.bob.ID}, []store.Credential{bobSAT, bobPAT}},
		{"owner alice's account", store.CredentialFilter{Owner: cw.alice.Account()}, []store.Credential{alicePAT}},
		{"owner enterprise", store.CredentialFilter{Owner: cw.ent}, []store.Credential{aliceEntPAT, bobSAT, aliceSAT}},
		{"kind and owner", store.CredentialFilter{Kind: store.KindPAT, Owner: cw.ent}, []store.Credential{aliceEntPAT}},
		{"kind and user", store.CredentialFilter{Kind: store.KindSAT, UserID: cw.bob.ID}, []store.Credential{bobSAT}},
		{"user and owner", store.CredentialFilter{UserID: cw.alice.ID, Owner: cw.ent}, []store.Credential{aliceEntPAT, aliceSAT}},
		{"all three", store.CredentialFilter{Kind: store.KindPAT, UserID: cw.bob.ID, Owner: cw.bob.Account()}, []store.Credential{bobPAT}},
		{"no match", store.CredentialFilter{Kind: store.KindSAT, Owner: cw.bob.Account()}, nil},
		{"unknown user", store.CredentialFilter{UserID: store.NewID()}, nil},
		{"owner type matters", store.CredentialFilter{Owner: store.Owner{Type: store.OwnerPersonal, ID: cw.ent.ID}}, nil},
	} {
		got, err := f.s.ListCredentials(f.ctx, tc.filter)
		if !checkErr(t, "ListCredentials "+tc.name, err, nil) {
			continue
		}
		checkList(t, "ListCredentials "+tc.name+" IDs", credentialIDs(got), credentialIDs(tc.want))
		if len(got) != len(tc.want) {
			continue
		}
		for i := range got {
			checkCredential(t, "ListCredentials "+tc.name+" "+got[i].ID, got[i], tc.want[i])
		}
	}
}

func testUpdateCredential(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	wsC := f.workspace("C", cw.alice.Account(), cw.alice.ID)
	orig := f.credential(store.Credential{
		Kind: store.KindPAT, Name: "before", UserID: cw.alice.ID, Owner: cw.alice.Account(),
		Permissions: []string{"Bot.chat", "Bot.publish"}, WorkspaceIDs: []string{cw.wsA.ID, cw.wsB.ID},
		ExpireAt: baseTime + 3600,
	})

	steps := []struct {
		name   string
		update func(c store.Credential) store.Credential
	}{
		{"change name, permissions, workspaces, expiry", func(c store.Credential) store.Credential {
			c.Name = "after"
			c.Permissions = []string{"Workspace.listWorkspace"}
			c.WorkspaceIDs = []string{wsC.ID, cw.wsA.ID}
			c.ExpireAt = 0
			return c
		}},
		{"fixed fields are kept", func(c store.Credential) store.Credential {
			c.ID = store.NewID()
			c.Kind = store.KindSAT
			c.TokenHash = tokenHash("pat_other")
			c.CreatedAt = 1
			c.Name = "fixed fields kept"
			return c
		}},
		{"to all workspaces", func(c store.Credential) store.Credential {
			c.AllWorkspaces, c.WorkspaceIDs = true, nil
			return c
		}},
		{"back to a list", func(c store.Credential) store.Credential {
			c.AllWorkspaces, c.WorkspaceIDs = false, reversed(cw.wsB, wsC)
			return c
		}},
		{"no permissions", func(c store.Credential) store.Credential {
			c.Permissions = nil
			return c
		}},
		{"other owner", func(c store.Credential) store.Credential {
			c.Owner, c.WorkspaceIDs = cw.ent, []string{cw.wsE1.ID}
			return c
		}},
	}
	cur := orig
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f := f.sub(t)
			before := f.getCredential(orig.ID)
			want := st.update(wantCredential(cur))
			want.ID, want.Kind, want.TokenHash, want.CreatedAt = orig.ID, orig.Kind, orig.TokenHash, orig.CreatedAt
			want.UpdatedAt = f.tick()
			calls := 0
			got, err := f.s.UpdateCredential(f.ctx, orig.ID, func(old store.Credential) (store.Credential, error) {
				calls++
				checkEqual(t, "update func's argument", gotCredential(old), gotCredential(before))
				c := st.update(old)
				c.UpdatedAt = want.UpdatedAt
				return c, nil
			})
			if !checkErr(t, "UpdateCredential", err, nil) {
				return
			}
			if calls != 1 {
				t.Errorf("update func called %d times, want 1", calls)
			}
			checkCredential(t, "UpdateCredential result", got, want)
			checkCredential(t, "GetCredential after update", f.getCredential(orig.ID), want)
			byHash, err := f.s.GetCredentialByHash(f.ctx, orig.TokenHash)
			if checkErr(t, "GetCredentialByHash after update", err, nil) {
				checkCredential(t, "GetCredentialByHash after update", byHash, want)
			}
			cur = want
		})
	}
	_, err := f.s.GetCredentialByHash(f.ctx, tokenHash("pat_other"))
	checkErr(t, "GetCredentialByHash(hash an update tried to set)", err, store.ErrNotFound)
	all, err := f.s.ListCredentials(f.ctx, store.CredentialFilter{})
	if checkErr(t, "ListCredentials", err, nil) {
		checkList(t, "credentials after updates", credentialIDs(all), []string{orig.ID})
	}

	called := false
	_, err = f.s.UpdateCredential(f.ctx, store.NewID(), func(c store.Credential) (store.Credential, error) {
		called = true
		return c, nil
	})
	checkErr(t, "UpdateCredential(unknown)", err, store.ErrNotFound)
	if called {
		t.Error("UpdateCredential(unknown) called the update func")
	}
}

func testDeleteCredential(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	c1 := f.credential(store.Credential{UserID: cw.alice.ID, Owner: cw.alice.Account(), WorkspaceIDs: []string{cw.wsA.ID, cw.wsB.ID}})
	c2 := f.credential(store.Credential{UserID: cw.alice.ID, Owner: cw.alice.Account(), WorkspaceIDs: []string{cw.wsA.ID}})

	checkErr(t, "DeleteCredential", f.s.DeleteCredential(f.ctx, c1.ID), nil)
	_, err := f.s.GetCredential(f.ctx, c1.ID)
	checkErr(t, "GetCredential after delete", err, store.ErrNotFound)
	_, err = f.s.GetCredentialByHash(f.ctx, c1.TokenHash)
	checkErr(t, "GetCredentialByHash after delete", err, store.ErrNotFound)
	checkErr(t, "DeleteCredential again", f.s.DeleteCredential(f.ctx, c1.ID), store.ErrNotFound)
	checkErr(t, "DeleteCredential(unknown)", f.s.DeleteCredential(f.ctx, store.NewID()), store.ErrNotFound)

	checkCredential(t, "the other credential", f.getCredential(c2.ID), c2)
	all, err := f.s.ListCredentials(f.ctx, store.CredentialFilter{})
	if checkErr(t, "ListCredentials", err, nil) {
		checkList(t, "credentials after delete", credentialIDs(all), []string{c2.ID})
	}

	// The ID and the hash are free again, and nothing of the old record (its
	// workspace list) comes back with them.
	again := f.credential(store.Credential{ID: c1.ID, TokenHash: c1.TokenHash, UserID: cw.bob.ID, Owner: cw.bob.Account()})
	checkCredential(t, "credential re-created under a deleted ID", f.getCredential(c1.ID), again)
}

func testTouchCredentials(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	c1 := f.credential(store.Credential{UserID: cw.alice.ID, Owner: cw.alice.Account()})
	c2 := f.credential(store.Credential{UserID: cw.alice.ID, Owner: cw.alice.Account(), LastUsedAt: baseTime + 500})
	rev := f.revision()

	for _, tc := range []struct {
		name   string
		touch  map[string]int64
		c1, c2 int64 // LastUsedAt afterwards
	}{
		{"nil batch", nil, 0, baseTime + 500},
		{"empty batch", map[string]int64{}, 0, baseTime + 500},
		{"first use and an older time", map[string]int64{c1.ID: baseTime + 100, c2.ID: baseTime + 400}, baseTime + 100, baseTime + 500},
		{"older time is ignored", map[string]int64{c1.ID: baseTime + 90}, baseTime + 100, baseTime + 500},
		{"same time", map[string]int64{c1.ID: baseTime + 100}, baseTime + 100, baseTime + 500},
		{"newer times and an unknown ID", map[string]int64{c1.ID: baseTime + 200, c2.ID: baseTime + 600, store.NewID(): baseTime + 700}, baseTime + 200, baseTime + 600},
	} {
		checkErr(t, "TouchCredentials "+tc.name, f.s.TouchCredentials(f.ctx, tc.touch), nil)
		for _, want := range []struct {
			c  store.Credential
			at int64
		}{{c1, tc.c1}, {c2, tc.c2}} {
			exp := want.c
			exp.LastUsedAt = want.at
			checkCredential(t, "after "+tc.name, f.getCredential(want.c.ID), exp)
		}
	}
	if got := f.revision(); got != rev {
		t.Errorf("TouchCredentials moved the revision from %d to %d", rev, got)
	}
}

func testUpdateUser(t *testing.T, f *fixture) {
	u := f.user("alice")
	rev := f.revision()
	got, err := f.s.UpdateUser(f.ctx, u.ID, func(x store.User) (store.User, error) {
		x.Nickname, x.AvatarURL, x.PasswordHash = "Al", "https://example.com/a.png", "$argon2id$new"
		x.Username, x.AccountID, x.CreatedAt = "mallory", "other", 1 // ignored
		return x, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want := u
	want.Nickname, want.AvatarURL, want.PasswordHash = "Al", "https://example.com/a.png", "$argon2id$new"
	if got != want {
		t.Errorf("UpdateUser returned %+v, want %+v", got, want)
	}
	if stored, _ := f.s.GetUser(f.ctx, u.ID); stored != want {
		t.Errorf("stored %+v, want %+v", stored, want)
	}
	if f.revision() <= rev {
		t.Error("UpdateUser did not advance the revision")
	}
	if _, err := f.s.UpdateUser(f.ctx, "nobody", func(x store.User) (store.User, error) { return x, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := f.s.UpdateUser(f.ctx, u.ID, func(x store.User) (store.User, error) { x.PasswordHash = ""; return x, nil }); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("UpdateUser to no password hash = %v, want ErrInvalid", err)
	}
	boom := errors.New("boom")
	if _, err := f.s.UpdateUser(f.ctx, u.ID, func(x store.User) (store.User, error) { return x, boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateUser with a failing update = %v, want boom", err)
	}
}

func testDeleteUser(t *testing.T, f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	// Alice's personal world: a workspace with a resource and Bob as a
	// member, a PAT, an app with a grant and tokens, a consent she gave to
	// Bob's app, a session.
	ws := f.workspace("alpha", alice.Account(), alice.ID)
	f.putWorkspaceMember(ws.ID, bob.ID, store.WorkspaceRoleMember)
	if err := f.s.CreateResource(f.ctx, store.Resource{Type: "bot", ID: "b1", WorkspaceID: ws.ID, CreatedAt: f.tick()}); err != nil {
		t.Fatal(err)
	}
	pat := f.credential(store.Credential{UserID: alice.ID, Owner: alice.Account(), Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	bobPAT := f.credential(store.Credential{UserID: bob.ID, Owner: bob.Account(), Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{ws.ID}})
	own := oauthSetup{user: alice, app: f.app(alice.Account(), alice.ID, store.ClientWebBackend)}
	own.grant = f.grant(store.Grant{AppID: own.app.ID, UserID: alice.ID, Owner: alice.Account(), Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	ownAccess, _ := f.tokenPair(own)
	bobsApp := f.app(bob.Account(), bob.ID, store.ClientWebBackend)
	consent := oauthSetup{user: alice, app: bobsApp}
	consent.grant = f.grant(store.Grant{AppID: bobsApp.ID, UserID: alice.ID, Owner: alice.Account(), Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	consentAccess, consentRefresh := f.tokenPair(consent)
	bobGrant := f.grant(store.Grant{AppID: bobsApp.ID, UserID: bob.ID, Owner: bob.Account(), Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	se := f.session(alice.ID, 3600)

	// A member of an enterprise is refused, and nothing changes.
	ent := f.enterprise("acme", alice.ID)
	if err := f.s.DeleteUser(f.ctx, alice.ID, f.tick()); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("DeleteUser of an enterprise member = %v, want ErrInvalid", err)
	}
	if _, err := f.s.GetUser(f.ctx, alice.ID); err != nil {
		t.Fatalf("the refused DeleteUser deleted the user: %v", err)
	}
	if err := f.s.DeleteEnterpriseMember(f.ctx, ent.ID, alice.ID); err != nil {
		t.Fatal(err)
	}

	rev := f.revision()
	now := f.tick()
	if err := f.s.DeleteUser(f.ctx, alice.ID, now); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if f.revision() <= rev {
		t.Error("DeleteUser did not advance the revision")
	}
	gone := map[string]error{}
	_, gone["user"] = f.s.GetUser(f.ctx, alice.ID)
	_, gone["workspace"] = f.s.GetWorkspace(f.ctx, ws.ID)
	_, gone["PAT"] = f.s.GetCredential(f.ctx, pat.ID)
	_, gone["app"] = f.s.GetApp(f.ctx, own.app.ID)
	_, gone["consent"] = f.s.GetGrant(f.ctx, consent.grant.ID)
	_, gone["session"] = f.s.GetSession(f.ctx, se.IDHash, now)
	for what, err := range gone {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after DeleteUser, %s: %v, want ErrNotFound", what, err)
		}
	}
	if _, err := f.s.GetOAuthTokenByHash(f.ctx, ownAccess.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token of the deleted app: %v, want ErrNotFound", err)
	}
	// The tokens of the consent she gave stay as revoked rows.
	f.checkRevoked("consent tokens", true, consentAccess, consentRefresh)
	// Bob keeps his user, app, grant and PAT (which no longer names the workspace).
	if _, err := f.s.GetUser(f.ctx, bob.ID); err != nil {
		t.Errorf("bob: %v", err)
	}
	if _, err := f.s.GetGrant(f.ctx, bobGrant.ID); err != nil {
		t.Errorf("bob's grant: %v", err)
	}
	if c := f.getCredential(bobPAT.ID); len(c.WorkspaceIDs) != 0 {
		t.Errorf("bob's PAT still names the deleted workspace: %v", c.WorkspaceIDs)
	}
	if err := f.s.DeleteUser(f.ctx, alice.ID, f.tick()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUser twice = %v, want ErrNotFound", err)
	}
}

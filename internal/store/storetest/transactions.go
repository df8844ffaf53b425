package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runTransactions checks that every write that touches several rows is all or
// nothing, and that the revision advances with every security-relevant write
// and only then.
func runTransactions(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"CreateEnterpriseUnknownSuperAdmin", testCreateEnterpriseRollback},
		{"CreateWorkspaceRollback", testCreateWorkspaceRollback},
		{"CreateCredentialRollback", testCreateCredentialRollback},
		{"UpdateCredentialRollback", testUpdateCredentialRollback},
		{"Revision", testRevision},
	})
}

func testCreateEnterpriseRollback(t *testing.T, f *fixture) {
	alice := f.user("alice")
	rev := f.revision()
	e := store.Enterprise{ID: store.NewID(), Name: "Acme", CreatedAt: f.tick()}
	ghost := store.NewID()

	checkErr(t, "CreateEnterprise(unknown super admin)", f.s.CreateEnterprise(f.ctx, e, ghost), store.ErrInvalid)
	_, err := f.s.GetEnterprise(f.ctx, e.ID)
	checkErr(t, "GetEnterprise after failed create", err, store.ErrNotFound)
	ms, err := f.s.ListEnterpriseMembers(f.ctx, e.ID)
	if checkErr(t, "ListEnterpriseMembers after failed create", err, nil) {
		checkList(t, "members after failed create", ms, nil)
	}
	ms, err = f.s.ListUserEnterprises(f.ctx, ghost)
	if checkErr(t, "ListUserEnterprises after failed create", err, nil) {
		checkList(t, "enterprises of the unknown user", ms, nil)
	}
	if got := f.revision(); got != rev {
		t.Errorf("failed CreateEnterprise moved the revision from %d to %d", rev, got)
	}

	// Nothing was left behind: the same ID can be used now.
	if err := f.s.CreateEnterprise(f.ctx, e, alice.ID); err != nil {
		t.Fatalf("CreateEnterprise after the failed one: %v", err)
	}
	got, err := f.s.GetEnterprise(f.ctx, e.ID)
	if checkErr(t, "GetEnterprise", err, nil) {
		checkEqual(t, "GetEnterprise", got, e)
	}
}

func testCreateWorkspaceRollback(t *testing.T, f *fixture) {
	for i, tc := range []struct {
		name   string
		modify func(w *store.Workspace, m *store.WorkspaceMember)
	}{
		{"unknown personal account", func(w *store.Workspace, m *store.WorkspaceMember) { w.Owner.ID = store.NewID() }},
		{"unknown enterprise", func(w *store.Workspace, m *store.WorkspaceMember) {
			w.Owner = store.Owner{Type: store.OwnerEnterprise, ID: store.NewID()}
		}},
		{"owner member is an unknown user", func(w *store.Workspace, m *store.WorkspaceMember) { m.UserID = store.NewID() }},
		{"owner member has an invalid role", func(w *store.Workspace, m *store.WorkspaceMember) { m.Role = "boss" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			u := f.user(fmt.Sprintf("owner%d", i))
			rev := f.revision()
			w := f.newWorkspace("Home", u.Account())
			m := store.WorkspaceMember{WorkspaceID: w.ID, UserID: u.ID, Role: store.WorkspaceRoleOwner, CreatedAt: w.CreatedAt}
			bad, badM := w, m
			tc.modify(&bad, &badM)

			checkErr(t, "CreateWorkspace", f.s.CreateWorkspace(f.ctx, bad, &badM), store.ErrInvalid)
			_, err := f.s.GetWorkspace(f.ctx, w.ID)
			checkErr(t, "GetWorkspace after failed create", err, store.ErrNotFound)
			_, err = f.s.GetWorkspaceMember(f.ctx, w.ID, badM.UserID)
			checkErr(t, "GetWorkspaceMember after failed create", err, store.ErrNotFound)
			for _, o := range []store.Owner{u.Account(), bad.Owner} {
				ws, err := f.s.ListWorkspacesByOwner(f.ctx, o)
				if checkErr(t, "ListWorkspacesByOwner after failed create", err, nil) {
					checkList(t, "workspaces after failed create", ws, nil)
				}
			}
			mws, err := f.s.ListMemberWorkspaces(f.ctx, u.ID)
			if checkErr(t, "ListMemberWorkspaces after failed create", err, nil) {
				checkList(t, "member workspaces after failed create", mws, nil)
			}
			if got := f.revision(); got != rev {
				t.Errorf("failed CreateWorkspace moved the revision from %d to %d", rev, got)
			}

			// Nothing was left behind: the same workspace can be created now.
			if err := f.s.CreateWorkspace(f.ctx, w, &m); err != nil {
				t.Fatalf("CreateWorkspace after the failed one: %v", err)
			}
			got, err := f.s.GetWorkspace(f.ctx, w.ID)
			if checkErr(t, "GetWorkspace", err, nil) {
				checkEqual(t, "GetWorkspace", got, w)
			}
			gotM, err := f.s.GetWorkspaceMember(f.ctx, w.ID, u.ID)
			if checkErr(t, "GetWorkspaceMember", err, nil) {
				checkEqual(t, "owner member", gotM, m)
			}
		})
	}
}

func testCreateCredentialRollback(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	rev := f.revision()
	c := f.newCredential(store.Credential{UserID: cw.alice.ID, Owner: cw.alice.Account(), Permissions: []string{"Bot.chat"}})
	bad := c
	// The known workspaces come first, so some rows were written before the
	// unknown one fails.
	bad.WorkspaceIDs = []string{cw.wsA.ID, cw.wsB.ID, store.NewID()}

	checkErr(t, "CreateCredential(unknown workspace)", f.s.CreateCredential(f.ctx, bad), store.ErrInvalid)
	_, err := f.s.GetCredential(f.ctx, c.ID)
	checkErr(t, "GetCredential after failed create", err, store.ErrNotFound)
	_, err = f.s.GetCredentialByHash(f.ctx, c.TokenHash)
	checkErr(t, "GetCredentialByHash after failed create", err, store.ErrNotFound)
	all, err := f.s.ListCredentials(f.ctx, store.CredentialFilter{})
	if checkErr(t, "ListCredentials after failed create", err, nil) {
		checkList(t, "credentials after failed create", all, nil)
	}
	if got := f.revision(); got != rev {
		t.Errorf("failed CreateCredential moved the revision from %d to %d", rev, got)
	}

	// Nothing was left behind: not the row, not its workspace list.
	if err := f.s.CreateCredential(f.ctx, c); err != nil {
		t.Fatalf("CreateCredential after the failed one: %v", err)
	}
	checkCredential(t, "credential re-created after a failed create", f.getCredential(c.ID), c)
}

func testUpdateCredentialRollback(t *testing.T, f *fixture) {
	cw := f.credentialWorld()
	orig := f.credential(store.Credential{
		UserID: cw.alice.ID, Owner: cw.alice.Account(), Name: "original",
		Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{cw.wsA.ID, cw.wsB.ID}, ExpireAt: baseTime + 60,
	})
	errBoom := errors.New("boom")

	for _, tc := range []struct {
		name string
		// change edits the record as a caller would before failing or
		// producing something the store must refuse.
		change func(c store.Credential) (store.Credential, error)
		want   error
	}{
		{"update func fails", func(c store.Credential) (store.Credential, error) {
			c.Name, c.WorkspaceIDs = "changed", []string{cw.wsA.ID}
			return c, errBoom
		}, errBoom},
		{"unknown workspace", func(c store.Credential) (store.Credential, error) {
			c.Name, c.WorkspaceIDs = "changed", []string{cw.wsA.ID, store.NewID()}
			return c, nil
		}, store.ErrInvalid},
		{"no name", func(c store.Credential) (store.Credential, error) {
			c.Name, c.WorkspaceIDs = "", nil
			return c, nil
		}, store.ErrInvalid},
		{"all workspaces and a list", func(c store.Credential) (store.Credential, error) {
			c.Name, c.AllWorkspaces = "changed", true
			return c, nil
		}, store.ErrInvalid},
		{"no owner", func(c store.Credential) (store.Credential, error) {
			c.Name, c.Owner = "changed", store.Owner{}
			return c, nil
		}, store.ErrInvalid},
		{"unknown owner", func(c store.Credential) (store.Credential, error) {
			c.Name, c.Owner = "changed", store.Owner{Type: store.OwnerEnterprise, ID: store.NewID()}
			return c, nil
		}, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			rev := f.revision()
			_, err := f.s.UpdateCredential(f.ctx, orig.ID, tc.change)
			checkErr(t, "UpdateCredential", err, tc.want)
			checkCredential(t, "credential after failed update", f.getCredential(orig.ID), orig)
			byHash, err := f.s.GetCredentialByHash(f.ctx, orig.TokenHash)
			if checkErr(t, "GetCredentialByHash after failed update", err, nil) {
				checkCredential(t, "GetCredentialByHash after failed update", byHash, orig)
			}
			if got := f.revision(); got != rev {
				t.Errorf("failed UpdateCredential moved the revision from %d to %d", rev, got)
			}
		})
	}
}

// testRevision walks through writes in order, each checked to advance the
// revision or leave it alone. Creating users and resources may do either.
func testRevision(t *testing.T, f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	e := store.Enterprise{ID: store.NewID(), Name: "Acme", CreatedAt: f.tick()}
	w := f.newWorkspace("Home", alice.Account())
	c := f.newCredential(store.Credential{UserID: alice.ID, Owner: alice.Account(), WorkspaceIDs: []string{w.ID}})
	other := f.newCredential(store.Credential{UserID: alice.ID, Owner: alice.Account(), AllWorkspaces: true})
	ctx := f.ctx
	s := f.s
	update := func(name string) func() error {
		return func() error {
			_, err := s.UpdateCredential(ctx, c.ID, func(c store.Credential) (store.Credential, error) {
				c.Name = name
				return c, nil
			})
			return err
		}
	}

	for _, st := range []struct {
		name     string
		do       func() error
		want     error
		advances bool
	}{
		{"create enterprise", func() error { return s.CreateEnterprise(ctx, e, alice.ID) }, nil, true},
		{"create workspace", func() error {
			return s.CreateWorkspace(ctx, w, &store.WorkspaceMember{WorkspaceID: w.ID, UserID: alice.ID, Role: store.WorkspaceRoleOwner, CreatedAt: w.CreatedAt})
		}, nil, true},
		{"create credential", func() error { return s.CreateCredential(ctx, c) }, nil, true},
		{"create another credential", func() error { return s.CreateCredential(ctx, other) }, nil, true},
		{"add enterprise member", func() error {
			return s.PutEnterpriseMember(ctx, store.EnterpriseMember{EnterpriseID: e.ID, UserID: bob.ID, Role: store.RoleMember, CreatedAt: f.tick()})
		}, nil, true},
		{"change enterprise role", func() error {
			return s.PutEnterpriseMember(ctx, store.EnterpriseMember{EnterpriseID: e.ID, UserID: bob.ID, Role: store.RoleAdmin, CreatedAt: f.tick()})
		}, nil, true},
		{"delete enterprise member", func() error { return s.DeleteEnterpriseMember(ctx, e.ID, bob.ID) }, nil, true},
		{"add workspace member", func() error {
			return s.PutWorkspaceMember(ctx, store.WorkspaceMember{WorkspaceID: w.ID, UserID: bob.ID, Role: store.WorkspaceRoleMember, CreatedAt: f.tick()})
		}, nil, true},
		{"change workspace role", func() error {
			return s.PutWorkspaceMember(ctx, store.WorkspaceMember{WorkspaceID: w.ID, UserID: bob.ID, Role: store.WorkspaceRoleAdmin, CreatedAt: f.tick()})
		}, nil, true},
		{"delete workspace member", func() error { return s.DeleteWorkspaceMember(ctx, w.ID, bob.ID) }, nil, true},
		{"update credential", update("renamed"), nil, true},
		{"update credential again", update("renamed again"), nil, true},
		{"touch credentials", func() error {
			return s.TouchCredentials(ctx, map[string]int64{c.ID: f.tick(), other.ID: f.tick()})
		}, nil, false},
		{"reads", func() error {
			if _, err := s.GetCredentialByHash(ctx, c.TokenHash); err != nil {
				return err
			}
			if _, err := s.ListCredentials(ctx, store.CredentialFilter{}); err != nil {
				return err
			}
			if _, err := s.ListMemberWorkspaces(ctx, alice.ID); err != nil {
				return err
			}
			_, err := s.ListUserEnterprises(ctx, alice.ID)
			return err
		}, nil, false},
		{"delete missing credential", func() error { return s.DeleteCredential(ctx, store.NewID()) }, store.ErrNotFound, false},
		{"delete missing enterprise member", func() error { return s.DeleteEnterpriseMember(ctx, e.ID, bob.ID) }, store.ErrNotFound, false},
		{"delete missing workspace member", func() error { return s.DeleteWorkspaceMember(ctx, w.ID, bob.ID) }, store.ErrNotFound, false},
		{"invalid enterprise member", func() error {
			return s.PutEnterpriseMember(ctx, store.EnterpriseMember{EnterpriseID: e.ID, UserID: store.NewID(), Role: store.RoleMember, CreatedAt: f.tick()})
		}, store.ErrInvalid, false},
		{"invalid workspace member", func() error {
			return s.PutWorkspaceMember(ctx, store.WorkspaceMember{WorkspaceID: w.ID, UserID: store.NewID(), Role: store.WorkspaceRoleMember, CreatedAt: f.tick()})
		}, store.ErrInvalid, false},
		{"update missing credential", func() error {
			_, err := s.UpdateCredential(ctx, store.NewID(), func(c store.Credential) (store.Credential, error) { return c, nil })
			return err
		}, store.ErrNotFound, false},
		{"duplicate credential", func() error { return s.CreateCredential(ctx, c) }, store.ErrAlreadyExists, false},
		{"delete credential", func() error { return s.DeleteCredential(ctx, c.ID) }, nil, true},
		{"delete other credential", func() error { return s.DeleteCredential(ctx, other.ID) }, nil, true},
	} {
		before := f.revision()
		if !checkErr(t, st.name, st.do(), st.want) {
			continue
		}
		after := f.revision()
		switch {
		case st.advances && after <= before:
			t.Errorf("%s: revision %d → %d, want it to advance", st.name, before, after)
		case !st.advances && after != before:
			t.Errorf("%s: revision %d → %d, want it unchanged", st.name, before, after)
		}
	}
}

package identity

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("HashPassword = %q, %v", h, err)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Fatal("same hash twice: no salt")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct horsE": false, "": false} {
		if ok, err := VerifyPassword(h, pw); err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "plain", "$bcrypt$x", "$argon2id$v=19$m=1,t=1,p=1$!!$!!"} {
		if _, err := VerifyPassword(bad, "x"); err == nil {
			t.Errorf("VerifyPassword accepted hash %q", bad)
		}
	}
}

func TestService(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "i.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := &Service{Store: s, Now: time.Now}
	alice, err := svc.CreateUser(ctx, "alice", "password-1", "")
	if err != nil || alice.Nickname != "alice" || alice.AccountID != alice.ID {
		t.Fatalf("CreateUser = %+v, %v", alice, err)
	}
	bob, _ := svc.CreateUser(ctx, "bob", "password-2", "Bob")
	for _, tc := range []struct{ username, password, want string }{
		{"alice", "password-1", "taken"},
		{"", "password-1", "username"},
		{"has space", "password-1", "username"},
		{"-dash", "password-1", "username"},
		{strings.Repeat("a", 65), "password-1", "username"},
		{"carol", "short", "at least 8"},
	} {
		if _, err := svc.CreateUser(ctx, tc.username, tc.password, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CreateUser(%q, %q) = %v, want %q", tc.username, tc.password, err, tc.want)
		}
	}
	for _, ref := range []string{"alice", alice.ID} {
		if u, err := svc.ResolveUser(ctx, ref); err != nil || u.ID != alice.ID {
			t.Errorf("ResolveUser(%q) = %v, %v", ref, u.ID, err)
		}
	}
	if _, err := svc.ResolveUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ResolveUser(nobody) = %v", err)
	}

	ent, err := svc.CreateEnterprise(ctx, "Acme", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateEnterprise(ctx, "Acme", "nobody"); err == nil {
		t.Error("enterprise with an unknown super admin")
	}
	if err := svc.AddEnterpriseMember(ctx, ent.ID, "bob", store.RoleSuperAdmin); err == nil {
		t.Error("SuperAdmin granted through add-member")
	}
	if err := svc.AddEnterpriseMember(ctx, ent.ID, "alice", store.RoleMember); err == nil {
		t.Error("SuperAdmin demoted")
	}
	teamWS, err := svc.CreateWorkspace(ctx, "team", "", ent.ID)
	if err != nil || teamWS.Owner.Type != store.OwnerEnterprise {
		t.Fatalf("team workspace %+v %v", teamWS, err)
	}
	if err := svc.AddWorkspaceMember(ctx, teamWS.ID, "bob", store.WorkspaceRoleMember); err == nil {
		t.Error("non-member of the enterprise added to its workspace")
	}
	if err := svc.AddEnterpriseMember(ctx, ent.ID, "bob", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddWorkspaceMember(ctx, teamWS.ID, bob.ID, store.WorkspaceRoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateWorkspace(ctx, "x", "alice", ent.ID); err == nil {
		t.Error("workspace with two owners")
	}
	if _, err := svc.CreateWorkspace(ctx, "x", "", ""); err == nil {
		t.Error("workspace without owner")
	}
	own, err := svc.CreateWorkspace(ctx, "mine", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveWorkspaceMember(ctx, own.ID, "alice"); err == nil {
		t.Error("owner removed")
	}
	if err := svc.AddWorkspaceMember(ctx, own.ID, "bob", "owner"); err == nil {
		t.Error("second owner added")
	}
	if err := svc.RemoveWorkspaceMember(ctx, own.ID, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing a non-member = %v", err)
	}
	if _, err := svc.CreateResource(ctx, own.ID, "bot", "b1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ws, typ, id, want string }{
		{own.ID, "bot", "b1", "already exists"},
		{own.ID, "account", "", "resource type"},
		{own.ID, "bad type", "", "resource type"},
		{own.ID, "bot", "bad id", "resource id"},
		{"404", "bot", "", "not found"},
	} {
		if _, err := svc.CreateResource(ctx, tc.ws, tc.typ, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CreateResource(%q, %q, %q) = %v, want %q", tc.ws, tc.typ, tc.id, err, tc.want)
		}
	}
}

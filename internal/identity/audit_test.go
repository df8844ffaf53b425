package identity

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// TestServiceAudit: each change writes one event with the context's actor, its
// target and (for enterprise objects) its enterprise; a refused change writes
// none, and no event holds the password or its hash.
func TestServiceAudit(t *testing.T) {
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "i.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := store.WithActor(context.Background(), store.Actor{Type: store.ActorCLI})
	svc := &Service{Store: s, Now: time.Now}
	alice, err := svc.CreateUser(ctx, "alice", "password-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, "bob", "password-2", ""); err != nil {
		t.Fatal(err)
	}
	ent, err := svc.CreateEnterprise(ctx, "Acme", "alice")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		run        func() error
		action     string // "" when the step must fail and write nothing
		targetType string
		enterprise string
	}{
		{"add member", func() error { return svc.AddEnterpriseMember(ctx, ent.ID, "bob", store.RoleMember) },
			"enterprise.member.put", "enterprise", ent.ID},
		{"add unknown member", func() error { return svc.AddEnterpriseMember(ctx, ent.ID, "nobody", store.RoleMember) }, "", "", ""},
		{"duplicate user", func() error { _, err := svc.CreateUser(ctx, "alice", "password-3", ""); return err }, "", "", ""},
		{"enterprise workspace", func() error { _, err := svc.CreateWorkspace(ctx, "Team", "", ent.ID); return err },
			"workspace.create", "workspace", ent.ID},
	}
	for _, st := range steps {
		before, _ := s.ListAudit(context.Background(), store.AuditFilter{})
		err := st.run()
		after, _ := s.ListAudit(context.Background(), store.AuditFilter{})
		switch {
		case st.action == "" && (err == nil || len(after) != len(before)):
			t.Errorf("%s: err %v, %d new events; want an error and none", st.name, err, len(after)-len(before))
		case st.action != "" && (err != nil || len(after) != len(before)+1):
			t.Errorf("%s: err %v, %d new events; want one", st.name, err, len(after)-len(before))
		case st.action != "":
			e := after[0]
			if e.Action != st.action || e.TargetType != st.targetType || e.EnterpriseID != st.enterprise || e.ActorType != store.ActorCLI {
				t.Errorf("%s: event %+v", st.name, e)
			}
		}
	}
	ws, err := svc.CreateWorkspace(ctx, "Team 2", "", ent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AddWorkspaceMember(ctx, ws.ID, "bob", store.WorkspaceRoleMember); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveWorkspaceMember(ctx, ws.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateResource(ctx, ws.ID, "bot", "b1"); err != nil {
		t.Fatal(err)
	}
	all, _ := s.ListAudit(context.Background(), store.AuditFilter{})
	var got []string
	for i := len(all) - 1; i >= 0; i-- {
		got = append(got, all[i].Action)
		if strings.Contains(all[i].Detail, "password") || strings.Contains(all[i].Detail, alice.PasswordHash) {
			t.Errorf("%s holds the password or its hash: %s", all[i].Action, all[i].Detail)
		}
	}
	want := "user.create user.create enterprise.create enterprise.member.put workspace.create workspace.create " +
		"workspace.member.put workspace.member.remove resource.create"
	if strings.Join(got, " ") != want {
		t.Errorf("events = %v\nwant %s", got, want)
	}
}

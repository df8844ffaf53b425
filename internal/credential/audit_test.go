package credential

import (
	"context"
	"strings"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// TestManagerAudit: creating, changing and deleting a PAT or SAT writes one
// event each with the actor of the context, the credential as target and its
// enterprise; a refused change writes none; no event holds the token.
func TestManagerAudit(t *testing.T) {
	f := newFixture(t)
	ctx := store.WithActor(context.Background(), store.Actor{ID: f.alice.ID, Type: store.ActorUser, IP: "198.51.100.1", LogID: "L9"})
	cli := store.WithActor(context.Background(), store.Actor{Type: store.ActorCLI})
	list := func(targetID string) []store.AuditEvent {
		t.Helper()
		es, err := f.s.ListAudit(context.Background(), store.AuditFilter{TargetID: targetID})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	pat, err := f.m.Create(ctx, Spec{Kind: store.KindPAT, Name: "audited", UserID: f.alice.ID, EnterpriseID: f.ent.ID,
		Expiry: Expiry{Days: 30}, Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	sat, err := f.m.Create(cli, Spec{Kind: store.KindSAT, Name: "svc", EnterpriseID: f.ent.ID, Expiry: Expiry{Permanent: true},
		Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	name := "renamed"
	if _, err := f.m.Update(ctx, pat.Credential.ID, Change{Name: &name}); err != nil {
		t.Fatal(err)
	}
	empty := ""
	if _, err := f.m.Update(ctx, pat.Credential.ID, Change{Name: &empty}); err == nil {
		t.Fatal("an empty name was accepted")
	}
	if err := f.m.Delete(cli, sat.Credential.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Delete(cli, "no-such-credential"); err == nil {
		t.Fatal("deleting a missing credential succeeded")
	}
	at := fixedNow.Unix()
	for _, tc := range []struct {
		name      string
		got       []store.AuditEvent
		actions   []string // newest first
		actor     string
		actorType string
		ip        string
	}{
		{"PAT", list(pat.Credential.ID), []string{"pat.update", "pat.create"}, f.alice.ID, store.ActorUser, "198.51.100.1"},
		{"SAT", list(sat.Credential.ID), []string{"sat.delete", "sat.create"}, "", store.ActorCLI, ""},
	} {
		if len(tc.got) != len(tc.actions) {
			t.Errorf("%s: %d events, want %v: %+v", tc.name, len(tc.got), tc.actions, tc.got)
			continue
		}
		for i, e := range tc.got {
			if e.Action != tc.actions[i] || e.ActorID != tc.actor || e.ActorType != tc.actorType || e.IP != tc.ip ||
				e.EnterpriseID != f.ent.ID || e.At != at || e.TargetType != string(e.Action[:3]) {
				t.Errorf("%s event %d = %+v", tc.name, i, e)
			}
			for _, tok := range []string{pat.Token, sat.Token, pat.Credential.TokenHash, sat.Credential.TokenHash} {
				if strings.Contains(e.Detail, tok) {
					t.Errorf("%s: %s holds the token or its hash", tc.name, e.Action)
				}
			}
		}
	}
	if d := list(pat.Credential.ID)[0].Detail; !strings.Contains(d, `"name":"renamed"`) {
		t.Errorf("update detail = %s", d)
	}
}

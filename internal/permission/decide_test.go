package permission

import (
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

func TestDefaultCatalog(t *testing.T) {
	c := Default()
	for name, level := range map[string]Level{
		"Workspace.list":      LevelAccount,
		"Bot.chat":            LevelWorkspace,
		"Bot.getMetadata":     LevelWorkspace,
		"Conversation.create": LevelAccount,
		"Connector.botChat":   LevelAccount,
	} {
		p, ok := c.Lookup(name)
		if !ok {
			t.Fatalf("catalog lacks %s", name)
		}
		if p.Level != level {
			t.Errorf("%s: level %s, want %s", name, p.Level, level)
		}
		if p.Text("zh-CN") == "" || p.Text("en") == "" || p.Text("fr") != p.Text("en") {
			t.Errorf("%s: descriptions %v", name, p.Description)
		}
	}
	if p, _ := c.Lookup("Bot.chat"); p.ResourceType != "bot" || p.Group() != "Bot" {
		t.Errorf("Bot.chat: %+v", p)
	}
	if _, err := c.Validate([]string{"Bot.chat", "Nope.nope"}); err == nil {
		t.Error("Validate accepted an unknown permission")
	}
	got, err := c.Validate([]string{"Bot.chat", "Workspace.list", "Bot.chat"})
	if err != nil || len(got) != 2 || got[0] != "Bot.chat" {
		t.Errorf("Validate = %v, %v", got, err)
	}
}

func TestParseCatalogRejects(t *testing.T) {
	for name, src := range map[string]string{
		"bad json":        `{`,
		"unknown field":   `{"permissions":[{"name":"A.b","level":"account","resource_type":"account","description":{"en":"x","zh-CN":"y"},"routes":[],"extra":1}]}`,
		"no dot":          `{"permissions":[{"name":"Ab","level":"account","resource_type":"account","description":{"en":"x","zh-CN":"y"}}]}`,
		"bad level":       `{"permissions":[{"name":"A.b","level":"galaxy","resource_type":"account","description":{"en":"x","zh-CN":"y"}}]}`,
		"duplicate":       `{"permissions":[{"name":"A.b","level":"account","resource_type":"account","description":{"en":"x","zh-CN":"y"}},{"name":"A.b","level":"account","resource_type":"account","description":{"en":"x","zh-CN":"y"}}]}`,
		"no zh":           `{"permissions":[{"name":"A.b","level":"account","resource_type":"account","description":{"en":"x"}}]}`,
		"account on bots": `{"permissions":[{"name":"A.b","level":"account","resource_type":"bot","description":{"en":"x","zh-CN":"y"}}]}`,
		"bad route":       `{"permissions":[{"name":"A.b","level":"account","resource_type":"account","description":{"en":"x","zh-CN":"y"},"routes":[{"method":"GET","path":"v1"}]}]}`,
	} {
		if _, err := ParseCatalog([]byte(src)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The accounts and workspaces of the decision table.
var (
	alice          = store.Owner{Type: store.OwnerPersonal, ID: "7000000000000000001"}
	bob            = store.Owner{Type: store.OwnerPersonal, ID: "7000000000000000002"}
	acme           = store.Owner{Type: store.OwnerEnterprise, ID: "7100000000000000001"}
	wsAlice1       = store.Workspace{ID: "7200000000000000001", Owner: alice}
	wsAlice2       = store.Workspace{ID: "7200000000000000002", Owner: alice}
	wsAcme         = store.Workspace{ID: "7200000000000000003", Owner: acme}
	wsBob          = store.Workspace{ID: "7200000000000000004", Owner: bob}
	now      int64 = 1_800_000_000
)

func bot(ws store.Workspace, member bool) *Target {
	return &Target{Type: "bot", ID: "b-" + ws.ID, Exists: true, Workspace: ws, SubjectIsMember: member}
}

func account(id string, authorized bool) *Target {
	return &Target{Type: "account", ID: id, Exists: true, AccountID: id, AccountAuthorized: authorized}
}

func TestDecide(t *testing.T) {
	cat := Default()
	perm := func(n string) *Permission {
		p, ok := cat.Lookup(n)
		if !ok {
			t.Fatalf("no permission %s", n)
		}
		return p
	}
	personalAll := &Credential{ID: "pat1", Account: alice, UserID: "u-alice",
		Permissions: []string{"Bot.chat", "Conversation.create", "Workspace.list"}, AllWorkspaces: true}
	personalSelected := &Credential{ID: "pat2", Account: alice, UserID: "u-alice",
		Permissions: []string{"Bot.chat"}, Workspaces: []string{wsAlice1.ID}}
	enterpriseAll := &Credential{ID: "pat3", Account: acme, UserID: "u-alice",
		Permissions: []string{"Bot.chat", "Conversation.create"}, AllWorkspaces: true}
	sat := &Credential{ID: "sat1", Account: acme, Permissions: []string{"Bot.chat"}, AllWorkspaces: true}
	expired := &Credential{ID: "pat4", Account: alice, UserID: "u-alice", Permissions: []string{"Bot.chat"}, AllWorkspaces: true, ExpireAt: now}
	notYet := &Credential{ID: "pat5", Account: alice, UserID: "u-alice", Permissions: []string{"Bot.chat"}, AllWorkspaces: true, ExpireAt: now + 1}
	revoked := &Credential{ID: "pat6", Account: alice, UserID: "u-alice", Permissions: []string{"Bot.chat"}, AllWorkspaces: true, Revoked: true}
	botLimited := &Credential{ID: "tok2", Account: alice, UserID: "u-alice", Permissions: []string{"Connector.botChat"}, BotIDs: []string{"b1", "b2"}}
	botFree := &Credential{ID: "tok3", Account: alice, UserID: "u-alice", Permissions: []string{"Connector.botChat"}}
	// OAuth grants reduce to the same credential shape (see oauth.Resolve).
	oboPersonal := &Credential{ID: "obo1", Account: alice, UserID: "u-alice", Permissions: []string{"Bot.chat"}, AllWorkspaces: true}
	oboEnterprise := &Credential{ID: "obo2", Account: acme, UserID: "u-alice", Permissions: []string{"Bot.chat"}, AllWorkspaces: true}
	oboWorkspace := &Credential{ID: "obo3", Account: alice, UserID: "u-alice", Permissions: []string{"Bot.chat"}, Workspaces: []string{wsAlice2.ID}}
	installed := &Credential{ID: "app1", Account: acme, Permissions: []string{"Bot.chat", "Conversation.create"}, AllWorkspaces: true}
	disabled := &Credential{ID: "tok1", Account: alice, UserID: "u-alice", Permissions: []string{"Bot.chat"}, AllWorkspaces: true, Disabled: true}

	tests := []struct {
		name  string
		cred  *Credential
		perm  string // "" = only a valid credential needed
		facts Facts
		want  Code
	}{
		{"unknown credential", nil, "", Facts{SubjectInAccount: true}, Unauthenticated},
		{"valid credential, no permission needed", personalAll, "", Facts{SubjectInAccount: true}, Allowed},
		{"expired at its expiry second", expired, "", Facts{SubjectInAccount: true}, Unauthenticated},
		{"one second before expiry", notYet, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, true)}, Allowed},
		{"revoked", revoked, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, true)}, Unauthenticated},
		{"app deactivated", disabled, "", Facts{SubjectInAccount: true}, Unauthenticated},
		{"expired beats missing permission", expired, "Workspace.list", Facts{SubjectInAccount: true}, Unauthenticated},

		{"personal PAT, all workspaces, own workspace", personalAll, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice2, true)}, Allowed},
		{"personal PAT, all workspaces, enterprise workspace", personalAll, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAcme, true)}, Forbidden},
		{"personal PAT, all workspaces, someone else's workspace", personalAll, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsBob, true)}, Forbidden},
		{"personal PAT lacks the permission", personalAll, "Bot.getMetadata", Facts{SubjectInAccount: true, Target: bot(wsAlice1, true)}, Forbidden},
		{"missing permission beats unknown resource", personalAll, "Bot.getMetadata", Facts{SubjectInAccount: true, Target: &Target{Type: "bot", ID: "x"}}, Forbidden},
		{"unknown resource", personalAll, "Bot.chat", Facts{SubjectInAccount: true, Target: &Target{Type: "bot", ID: "x"}}, NotFound},
		{"permission without a resource", personalAll, "Bot.chat", Facts{SubjectInAccount: true}, Allowed},

		{"selected workspaces, listed", personalSelected, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, true)}, Allowed},
		{"selected workspaces, not listed", personalSelected, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice2, true)}, Forbidden},
		{"selected workspace moved to an enterprise", personalSelected, "Bot.chat",
			Facts{SubjectInAccount: true, Target: bot(store.Workspace{ID: wsAlice1.ID, Owner: acme}, true)}, Forbidden},

		{"enterprise PAT, all workspaces, enterprise workspace", enterpriseAll, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAcme, true)}, Allowed},
		{"enterprise PAT, all workspaces, the user's personal workspace", enterpriseAll, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, true)}, Forbidden},
		{"enterprise PAT, user left the enterprise", enterpriseAll, "Bot.chat", Facts{SubjectInAccount: false, Target: bot(wsAcme, true)}, Unauthenticated},

		{"member removed from the workspace", personalAll, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, false)}, Forbidden},
		{"enterprise PAT, member removed from enterprise workspace", enterpriseAll, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAcme, false)}, Forbidden},
		{"SAT reaches enterprise workspaces without membership", sat, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAcme, false)}, Allowed},
		{"SAT does not reach personal workspaces", sat, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, false)}, Forbidden},

		{"account-level on own account", personalAll, "Conversation.create", Facts{SubjectInAccount: true, Target: account(alice.ID, false)}, Allowed},
		{"account-level on another account", personalAll, "Conversation.create", Facts{SubjectInAccount: true, Target: account(bob.ID, false)}, Forbidden},
		{"account-level on an unknown account", personalAll, "Conversation.create", Facts{SubjectInAccount: true, Target: &Target{Type: "account", ID: "1"}}, NotFound},
		{"enterprise PAT on a personal account, not authorized", enterpriseAll, "Conversation.create", Facts{SubjectInAccount: true, Target: account(alice.ID, false)}, Forbidden},
		{"enterprise PAT on a personal account that authorized it", enterpriseAll, "Conversation.create", Facts{SubjectInAccount: true, Target: account(alice.ID, true)}, Allowed},
		{"bot_id_list allows a listed bot", botLimited, "Connector.botChat", Facts{SubjectInAccount: true, BotID: "b2"}, Allowed},
		{"bot_id_list refuses another bot", botLimited, "Connector.botChat", Facts{SubjectInAccount: true, BotID: "b3"}, Forbidden},
		{"bot_id_list refuses a request naming no bot", botLimited, "Connector.botChat", Facts{SubjectInAccount: true}, Forbidden},
		{"no bot_id_list: any bot", botFree, "Connector.botChat", Facts{SubjectInAccount: true, BotID: "b3"}, Allowed},
		{"OBO in the personal account reaches its workspaces", oboPersonal, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, true)}, Allowed},
		{"OBO in the personal account, not enterprise workspaces", oboPersonal, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAcme, true)}, Forbidden},
		{"OBO in an enterprise reaches its workspaces", oboEnterprise, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAcme, true)}, Allowed},
		{"OBO in an enterprise, user left it", oboEnterprise, "Bot.chat", Facts{SubjectInAccount: false, Target: bot(wsAcme, true)}, Unauthenticated},
		{"workspace-scoped authorize: its workspace", oboWorkspace, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice2, true)}, Allowed},
		{"workspace-scoped authorize: another workspace", oboWorkspace, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAlice1, true)}, Forbidden},
		{"enterprise installation acts without membership", installed, "Bot.chat", Facts{SubjectInAccount: true, Target: bot(wsAcme, false)}, Allowed},
		{"enterprise installation on a personal account, not authorized", installed, "Conversation.create", Facts{SubjectInAccount: true, Target: account(alice.ID, false)}, Forbidden},
		{"personal PAT cannot use another account's authorization", personalAll, "Conversation.create", Facts{SubjectInAccount: true, Target: account(bob.ID, true)}, Forbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *Permission
			if tc.perm != "" {
				p = perm(tc.perm)
			}
			got := Decide(now, tc.cred, p, tc.facts)
			if got.Code != tc.want {
				t.Fatalf("Decide = %d (%s), want %d", got.Code, got.Reason, tc.want)
			}
			if got.OK() != (tc.want == Allowed) || (!got.OK() && got.Reason == "") {
				t.Fatalf("inconsistent decision %+v", got)
			}
		})
	}
}

func BenchmarkDecide(b *testing.B) {
	p, _ := Default().Lookup("Bot.chat")
	c := &Credential{ID: "pat1", Account: alice, UserID: "u", Permissions: []string{"Bot.chat", "Bot.getMetadata", "Conversation.create", "Workspace.list"},
		Workspaces: []string{wsAlice1.ID, wsAlice2.ID}}
	f := Facts{SubjectInAccount: true, Target: bot(wsAlice2, true)}
	b.ReportAllocs()
	for b.Loop() {
		if !Decide(now, c, p, f).OK() {
			b.Fatal("denied")
		}
	}
}

package permission

import (
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

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

func enterprise(id string, admin bool) *Target {
	return &Target{Type: "enterprise", ID: id, Exists: true, SubjectIsAdmin: admin}
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
		Permissions: []string{"Bot.chat", "Conversation.create", "Enterprise.manageMembers"}, AllWorkspaces: true, AuthorizableID: "pat3"}
	sat := &Credential{ID: "sat1", Account: acme, Permissions: []string{"Bot.chat", "Enterprise.manageMembers"}, AllWorkspaces: true}
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
		{"OBO in an enterprise is never authorized for personal resources", oboEnterprise, "Bot.chat", Facts{SubjectInAccount: true, Target: account(alice.ID, true)}, Forbidden},

		{"enterprise-level: an admin's enterprise PAT", enterpriseAll, "Enterprise.manageMembers", Facts{SubjectInAccount: true, Target: enterprise(acme.ID, true)}, Allowed},
		{"enterprise-level: a plain member's enterprise PAT", enterpriseAll, "Enterprise.manageMembers", Facts{SubjectInAccount: true, Target: enterprise(acme.ID, false)}, Forbidden},
		{"enterprise-level: the enterprise's SAT", sat, "Enterprise.manageMembers", Facts{SubjectInAccount: true, Target: enterprise(acme.ID, false)}, Allowed},
		{"enterprise-level: another enterprise", sat, "Enterprise.manageMembers", Facts{SubjectInAccount: true, Target: enterprise("7100000000000000009", false)}, Forbidden},
		{"enterprise-level: a personal PAT", personalAll, "Enterprise.manageMembers", Facts{SubjectInAccount: true, Target: enterprise(acme.ID, true)}, Forbidden},
		{"enterprise-level: no such enterprise", sat, "Enterprise.manageMembers", Facts{SubjectInAccount: true, Target: &Target{Type: "enterprise", ID: "1"}}, NotFound},
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

// TestDecideMigrationStory plays the seed "升级企业版后更新 API 授权" through the
// decision function alone: Alice's personal workspace moves into the
// enterprise Acme, where she is an admin. Nothing in Decide knows about
// migrations: what changes between the phases is the data — the workspace's
// owner, which grants exist, which authorizations the account gave.
func TestDecideMigrationStory(t *testing.T) {
	cat := Default()
	botChat, _ := cat.Lookup("Bot.chat")
	convCreate, _ := cat.Lookup("Conversation.create")
	before := store.Workspace{ID: "7200000000000000009", Owner: alice}
	after := store.Workspace{ID: before.ID, Owner: acme}

	// Credentials as they exist throughout: none of them changes when the
	// workspace moves. Tokens issued before the migration are "in flight".
	perms := []string{"Bot.chat", "Conversation.create"}
	personalPAT := &Credential{ID: "pat-p", Account: alice, UserID: "u-alice", Permissions: perms, AllWorkspaces: true, AuthorizableID: "pat-p"}
	personalPATListed := &Credential{ID: "pat-l", Account: alice, UserID: "u-alice", Permissions: perms, Workspaces: []string{before.ID}, AuthorizableID: "pat-l"}
	enterprisePAT := &Credential{ID: "pat-e", Account: acme, UserID: "u-alice", Permissions: perms, AllWorkspaces: true, AuthorizableID: "pat-e"}
	enterprisePATListed := &Credential{ID: "pat-el", Account: acme, UserID: "u-alice", Permissions: perms, Workspaces: []string{before.ID}, AuthorizableID: "pat-el"}
	appInAccount := &Credential{ID: "tok-a", Account: alice, Permissions: perms, AllWorkspaces: true}
	appInEnterprise := &Credential{ID: "tok-i", Account: acme, Permissions: perms, AllWorkspaces: true, AuthorizableID: "app-jwt"}
	oboPersonal := &Credential{ID: "tok-o", Account: alice, UserID: "u-alice", Permissions: perms, AllWorkspaces: true}
	oboReauthorized := &Credential{ID: "tok-r", Account: acme, UserID: "u-alice", Permissions: perms, AllWorkspaces: true}

	member := func(ws store.Workspace) Facts { return Facts{SubjectInAccount: true, Target: bot(ws, true)} }
	tests := []struct {
		phase string
		cred  *Credential
		facts Facts
		want  Code
	}{
		// Before: personal credentials reach the workspace; enterprise ones do not.
		{"before: personal PAT, all workspaces", personalPAT, member(before), Allowed},
		{"before: personal PAT, the workspace listed", personalPATListed, member(before), Allowed},
		{"before: AppAuth in the account", appInAccount, member(before), Allowed},
		{"before: OBO in the personal account", oboPersonal, member(before), Allowed},
		{"before: enterprise PAT", enterprisePAT, member(before), Forbidden},
		{"before: enterprise installation", appInEnterprise, member(before), Forbidden},
		// During: a token issued before the move, checked after the commit.
		{"during: personal PAT in flight", personalPAT, member(after), Forbidden},
		{"during: OBO token in flight", oboPersonal, member(after), Forbidden},
		// After: the seed's fallback works — personal 4101, enterprise 0.
		{"after: personal PAT, all workspaces", personalPAT, member(after), Forbidden},
		{"after: personal PAT, the workspace listed", personalPATListed, member(after), Forbidden},
		{"after: AppAuth in the account", appInAccount, member(after), Forbidden},
		{"after: enterprise PAT, all workspaces", enterprisePAT, member(after), Allowed},
		{"after: enterprise PAT listing the old ID (it was never an enterprise workspace)", enterprisePATListed, member(after), Allowed},
		{"after: enterprise installation", appInEnterprise, Facts{SubjectInAccount: true, Target: bot(after, false)}, Allowed},
		{"after: OBO in the personal account", oboPersonal, member(after), Forbidden},
		{"after: OBO re-authorized as an enterprise member", oboReauthorized, member(after), Allowed},
		{"after: OBO re-authorized, but not a member of the workspace", oboReauthorized, Facts{SubjectInAccount: true, Target: bot(after, false)}, Forbidden},
		{"after: OBO re-authorized, then left the enterprise", oboReauthorized, Facts{SubjectInAccount: false, Target: bot(after, true)}, Unauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.phase, func(t *testing.T) {
			if got := Decide(now, tc.cred, botChat, tc.facts); got.Code != tc.want {
				t.Fatalf("Decide = %d (%s), want %d", got.Code, got.Reason, tc.want)
			}
		})
	}

	// Personal account resources (account-level permissions on Alice's
	// account), with the authorization off and on.
	accountTests := []struct {
		name       string
		cred       *Credential
		authorized bool
		want       Code
	}{
		{"personal PAT, its own account", personalPAT, false, Allowed},
		{"enterprise PAT, not authorized", enterprisePAT, false, Forbidden},
		{"enterprise PAT, authorized", enterprisePAT, true, Allowed},
		{"enterprise installation, not authorized", appInEnterprise, false, Forbidden},
		{"enterprise installation, authorized", appInEnterprise, true, Allowed},
		{"OBO in the enterprise: never", oboReauthorized, true, Forbidden},
		{"AppAuth in the account: its own account", appInAccount, false, Allowed},
	}
	for _, tc := range accountTests {
		t.Run("account resources: "+tc.name, func(t *testing.T) {
			f := Facts{SubjectInAccount: true, Target: account(alice.ID, tc.authorized)}
			if got := Decide(now, tc.cred, convCreate, f); got.Code != tc.want {
				t.Fatalf("Decide = %d (%s), want %d", got.Code, got.Reason, tc.want)
			}
			// Authorization reaches account-level resources only, never a workspace.
			if tc.authorized && tc.cred.Account == acme {
				if got := Decide(now, tc.cred, botChat, member(before)); got.Code != Forbidden {
					t.Fatalf("an authorized enterprise credential reached a personal workspace: %+v", got)
				}
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

package gotest

// The enterprise upgrade of seed 004 ("升级企业版后更新 API 授权") played end
// to end through the real binary: credentials made in alice's personal
// account reach her workspace until it migrates into the enterprise, the
// enterprise credentials reach it afterwards, and the seed's fallback code
// (personal credential first, on 4100/4101 the enterprise one) keeps working
// across the migration. Then the personal-resource authorization of
// enterprise credentials, and the enterprise members OpenAPI through the Go
// client.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// eworld is the upgrade scenario's data, made with the admin CLI:
//
//	enterprise ent "Acme": boss SuperAdmin, alice Admin, carol Member;
//	  workspace wsE "Acme One" (botE, alice a member): the seed's "new bot in
//	  the enterprise" to try the fallback on before migrating
//	alice: personal workspaces ws "Alpha" (bot, to migrate), ws2 "Beta" (bot2, stays)
//	carol: personal workspace wsC "Carol's"
type eworld struct {
	adm
	alice, aliceAcct, carol, ent string
	ws, ws2, wsE, wsC            string
	bot, bot2, botE              string

	patPersonal token // alice, personal, all workspaces
	patBeta     token // alice, personal, only Beta: not in the checklist
	patEnt      token // alice, in Acme, all workspaces, with Conversation.create

	svc    oapp // alice's Service app: authorized in her account and installed in Acme
	svcKey appKey
	web    oapp // alice's Web app, for OBO grants by consent
}

// cli is the admin CLI for a subtest: its failures end that subtest.
func (w *eworld) cli(t *testing.T) adm { return adm{t: t, db: w.db} }

func buildEnterpriseWorld(t *testing.T, dsn string) *eworld {
	t.Helper()
	start := time.Now()
	w := &eworld{adm: adm{t: t, db: dsn}}
	a := w.adm
	var u struct {
		UserID    string `json:"user_id"`
		AccountID string `json:"account_id"`
	}
	a.jsonIn(testPassword+"\n", &u, "user", "create", "--username", "alice", "--password-stdin", "--nickname", "Alice")
	w.alice, w.aliceAcct = u.UserID, u.AccountID
	a.user("boss")
	w.carol = a.user("carol")
	w.ent = a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	a.changed("enterprise", "add-member", "--enterprise", w.ent, "--user", "alice", "--role", "Admin")
	a.changed("enterprise", "add-member", "--enterprise", w.ent, "--user", "carol", "--role", "Member")

	w.ws = a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	w.ws2 = a.str("workspace_id", "workspace", "create", "--name", "Beta", "--owner", "alice")
	w.wsE = a.str("workspace_id", "workspace", "create", "--name", "Acme One", "--enterprise", w.ent)
	a.changed("workspace", "add-member", "--workspace", w.wsE, "--user", "alice", "--role", "member")
	w.wsC = a.str("workspace_id", "workspace", "create", "--name", "Carol's", "--owner", "carol")
	w.bot = a.str("resource_id", "resource", "create", "--workspace", w.ws, "--type", "bot")
	w.bot2 = a.str("resource_id", "resource", "create", "--workspace", w.ws2, "--type", "bot")
	w.botE = a.str("resource_id", "resource", "create", "--workspace", w.wsE, "--type", "bot")

	chat := []string{"--permission", "Bot.chat", "--permission", "Workspace.list"}
	w.patPersonal = a.createToken("pat", append([]string{"--user", "alice", "--name", "personal", "--days", "30", "--workspaces", "all"}, chat...)...)
	w.patBeta = a.createToken("pat", append([]string{"--user", "alice", "--name", "beta only", "--days", "30", "--workspaces", w.ws2}, chat...)...)
	w.patEnt = a.createToken("pat", append([]string{"--user", "alice", "--name", "enterprise", "--permanent", "--workspaces", "all",
		"--enterprise", w.ent, "--permission", "Conversation.create"}, chat...)...)

	w.svc = a.app("jwt", "Chat Service", "--permission", "Conversation.create")
	w.svcKey = a.genKey(w.svc.ID)
	a.changed("app", "authorize", "--app", w.svc.ID, "--user", "alice", "--workspaces", "all")
	// The seed's share link: an Admin installs the app in the enterprise.
	var inst struct {
		InstallationID string `json:"installation_id"`
	}
	a.json(&inst, "enterprise", "install-app", "--enterprise", w.ent, "--app", w.svc.ID, "--by", "alice")
	if inst.InstallationID == "" {
		t.Fatalf("enterprise install-app printed no installation_id")
	}
	w.web = a.app("web", "Chat Web", "--redirect-uri", redirectURI)
	t.Logf("enterprise world built with the admin CLI in %v", time.Since(start).Round(time.Millisecond))
	return w
}

// TestEnterpriseUpgrade plays seed 004 on each backend.
func TestEnterpriseUpgrade(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runEnterpriseUpgrade(t, b.newDB(t))
		})
	}
}

// TestEnterpriseMembers drives the members OpenAPI (WIRE.md §8.4) with the Go
// client on each backend.
func TestEnterpriseMembers(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runEnterpriseMembers(t, b.newDB(t))
		})
	}
}

// ---------------------------------------------------------------- helpers

// seedFallback is the seed's compatibility code: call with the personal
// credential and, when that is refused with 4100 or 4101, again with the
// enterprise one. It returns which credential answered.
func seedFallback(personal, enterprise string, call func(token string) error) (string, error) {
	err := call(personal)
	if err == nil {
		return "personal", nil
	}
	if client.IsUnauthenticated(err) || client.IsForbidden(err) {
		if err = call(enterprise); err == nil {
			return "enterprise", nil
		}
	}
	return "", err
}

type eenv struct {
	*eworld
	srv *server
	c   *client.Client
}

func botRef(id string) *client.Resource { return &client.Resource{Type: "bot", ID: id} }

// check asks the decision and compares its code (0: allowed) with want; a
// refusal must be a well-formed API error with the matching HTTP status.
func (e *eenv) check(t *testing.T, what, tok, perm string, res *client.Resource, want int) {
	t.Helper()
	allowed, err := e.c.CheckAuthz(ctxT(t), tok, perm, res)
	if got := codeOf(err); got != want || allowed != (want == 0) {
		t.Errorf("%s: %s on %v: allowed=%v code=%d (%v), want code %d", what, perm, res, allowed, got, err, want)
		return
	}
	if err != nil {
		checkAPIError(t, what, err)
	}
}

// settle waits up to revocationBound for a decision to become want: what the
// admin CLI (another process) changed reaches the server through the store's
// revision poll. It reports how long that took.
func (e *eenv) settle(t *testing.T, what, tok, perm string, res *client.Resource, want int) time.Duration {
	t.Helper()
	ctx := ctxT(t)
	d, ok := eventually(revocationBound, func() bool {
		_, err := e.c.CheckAuthz(ctx, tok, perm, res)
		return codeOf(err) == want
	})
	if !ok {
		_, err := e.c.CheckAuthz(ctx, tok, perm, res)
		t.Errorf("%s: %s on %v is %d (%v) after %v, want %d", what, perm, res, codeOf(err), err, d.Round(time.Millisecond), want)
	}
	return d
}

// wsEntry is what a listing says of one workspace.
type wsEntry struct{ typ, ent, role string }

// listing returns the workspaces the token lists, by ID.
func (e *eenv) listing(t *testing.T, what, tok string) map[string]wsEntry {
	t.Helper()
	out := map[string]wsEntry{}
	for ws, err := range e.c.Workspaces(ctxT(t), tok, client.ListWorkspacesRequest{PageSize: 50}) {
		if err != nil {
			t.Errorf("%s: /v1/workspaces: %v", what, err)
			return out
		}
		out[ws.ID] = wsEntry{ws.WorkspaceType, ws.EnterpriseID, ws.RoleType}
	}
	return out
}

// wantListing checks a token lists exactly these workspaces, as described.
func (e *eenv) wantListing(t *testing.T, what, tok string, want map[string]wsEntry) {
	t.Helper()
	got := e.listing(t, what, tok)
	if len(got) != len(want) {
		t.Errorf("%s: /v1/workspaces lists %v, want %v", what, got, want)
		return
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok || g.typ != w.typ || g.ent != w.ent || (w.role != "" && g.role != w.role) {
			t.Errorf("%s: /v1/workspaces lists %v, want %v", what, got, want)
			return
		}
	}
}

// migration is the admin CLI's `workspace migrate` output.
type migration struct {
	Affected []struct {
		Type       string   `json:"type"`
		ID         string   `json:"id"`
		Name       string   `json:"name"`
		Workspaces []string `json:"workspaces"`
	} `json:"affected"`
	Migrated *bool `json:"migrated"`
}

// wantChecklist checks the checklist is exactly the personal PAT, the
// AppAuth grant of the Service app and the OBO grant of the Web app, each
// losing only the migrated workspace. It returns the OBO grant's ID.
func (e *eenv) wantChecklist(t *testing.T, m migration) (oboID string) {
	t.Helper()
	type entry struct{ typ, name string }
	want := map[entry]bool{{"pat", "personal"}: true, {"app_auth", "Chat Service"}: true, {"obo", "Chat Web"}: true}
	if len(m.Affected) != len(want) {
		t.Errorf("checklist has %d entries, want %d (personal PAT, app_auth, obo): %+v", len(m.Affected), len(want), m.Affected)
	}
	for _, a := range m.Affected {
		if !want[entry{a.Type, a.Name}] || a.ID == "" || !slices.Equal(a.Workspaces, []string{e.ws}) {
			t.Errorf("checklist entry %+v: want one of %v with an ID and workspaces [%s]", a, want, e.ws)
		}
		switch a.Type {
		case "pat":
			if a.ID != e.patPersonal.ID {
				t.Errorf("checklist PAT %s, want the personal PAT %s", a.ID, e.patPersonal.ID)
			}
		case "obo":
			oboID = a.ID
		}
	}
	return oboID
}

// ---------------------------------------------------------------- the upgrade

func runEnterpriseUpgrade(t *testing.T, dsn string) {
	w := buildEnterpriseWorld(t, dsn)
	srv := startServer(t, "server", dsn)
	e := &eenv{eworld: w, srv: srv, c: srv.C}
	ctx := ctxT(t)
	start := time.Now()

	// The credentials of the seed, before the migration.
	jwtReq := client.JWTRequest{ClientID: w.svc.ClientID, KeyID: w.svcKey.ID, PrivateKeyPEM: w.svcKey.PrivateKey}
	personalReq, entReq := jwtReq, jwtReq
	// Seed 004: the personal account ID is the UID that /v1/users/me reports.
	me, err := e.c.UsersMe(ctx, w.patPersonal.Token)
	if err != nil || me.UserID != w.alice || w.aliceAcct != w.alice {
		t.Fatalf("users/me = %+v, %v; want user_id = %s = the account ID %s", me, err, w.alice, w.aliceAcct)
	}
	personalReq.AccountID, entReq.EnterpriseID = me.UserID, w.ent
	jwtPersonal, err := e.c.JWTToken(ctx, personalReq)
	if err != nil {
		t.Fatalf("JWT on account/%s/token: %v", w.aliceAcct, err)
	}
	jwtEnt, err := e.c.JWTToken(ctx, entReq)
	if err != nil {
		t.Fatalf("JWT on enterprise_id/%s/token for the installed app: %v", w.ent, err)
	}
	b := newBrowser(t, srv.URL)
	q := authorizeCode(t, b, e.c.OAuthURL(w.web.ClientID, redirectURI, "", nil), "alice", consent{})
	oboPersonal, err := e.c.ExchangeCode(ctx, w.web.ClientID, w.web.Secret, q.Get("code"), redirectURI)
	if err != nil {
		t.Fatalf("OBO code exchange (personal account): %v", err)
	}
	personalWS := map[string]wsEntry{w.ws: {"personal", "", "owner"}, w.ws2: {"personal", "", "owner"}}

	t.Run("before", func(t *testing.T) {
		for _, tc := range []struct{ what, tok string }{
			{"personal PAT", w.patPersonal.Token},
			{"personal JWT token", jwtPersonal.AccessToken},
			{"OBO token (personal account)", oboPersonal.AccessToken},
		} {
			e.check(t, tc.what, tc.tok, "Bot.chat", botRef(w.bot), 0)
			e.check(t, tc.what, tc.tok, "Bot.chat", botRef(w.botE), 4101)
			e.wantListing(t, tc.what, tc.tok, personalWS)
		}
		e.check(t, "enterprise PAT", w.patEnt.Token, "Bot.chat", botRef(w.bot), 4101)
		e.check(t, "enterprise PAT", w.patEnt.Token, "Bot.chat", botRef(w.botE), 0)
		e.check(t, "installed app's enterprise token", jwtEnt.AccessToken, "Bot.chat", botRef(w.bot), 4101)
		e.check(t, "installed app's enterprise token", jwtEnt.AccessToken, "Bot.chat", botRef(w.botE), 0)
		// The seed's step "验证授权逻辑": the fallback reaches the personal
		// bot with the personal credential and a bot made in the enterprise
		// with the enterprise one.
		e.wantFallback(t, "before", w.bot, "personal", w.patPersonal.Token, w.patEnt.Token, jwtPersonal.AccessToken, jwtEnt.AccessToken)
		e.wantFallback(t, "before", w.botE, "enterprise", w.patPersonal.Token, w.patEnt.Token, jwtPersonal.AccessToken, jwtEnt.AccessToken)
	})

	var oboID string
	t.Run("dry run", func(t *testing.T) {
		var m migration
		w.cli(t).json(&m, "workspace", "migrate", "--workspace", w.ws, "--enterprise", w.ent, "--by", "alice", "--dry-run")
		if m.Migrated == nil || *m.Migrated {
			t.Errorf("--dry-run printed migrated %v, want false", m.Migrated)
		}
		oboID = e.wantChecklist(t, m)
		// Nothing moved. A token deleted after the dry run is refused once
		// the server has read a later revision; from then on a moved
		// workspace would show.
		marker := w.cli(t).createToken("pat", "--user", "alice", "--name", "marker", "--days", "1", "--workspaces", "all", "--permission", "Bot.chat")
		e.check(t, "marker PAT", marker.Token, "Bot.chat", botRef(w.bot), 0)
		w.cli(t).changed("pat", "delete", "--id", marker.ID)
		e.settle(t, "marker PAT after delete", marker.Token, "Bot.chat", botRef(w.bot), 4100)
		e.check(t, "personal PAT after the dry run", w.patPersonal.Token, "Bot.chat", botRef(w.bot), 0)
		e.check(t, "enterprise PAT after the dry run", w.patEnt.Token, "Bot.chat", botRef(w.bot), 4101)
		e.wantListing(t, "personal PAT after the dry run", w.patPersonal.Token, personalWS)
		if ev := e.audit(t, "workspace.migrate"); len(ev) != 0 {
			t.Errorf("the dry run wrote audit events: %+v", ev)
		}
	})

	t.Run("migrate", func(t *testing.T) {
		var m migration
		w.cli(t).json(&m, "workspace", "migrate", "--workspace", w.ws, "--enterprise", w.ent, "--by", "alice")
		if m.Migrated == nil || !*m.Migrated {
			t.Errorf("migrate printed migrated %v, want true", m.Migrated)
		}
		e.wantChecklist(t, m)
		d := e.settle(t, "personal PAT after the migration", w.patPersonal.Token, "Bot.chat", botRef(w.bot), 4101)
		t.Logf("the server saw the migration (another process) after %v", d.Round(time.Millisecond))
	})

	t.Run("after", func(t *testing.T) {
		// Personal credentials lose the migrated workspace (4101, HTTP 403) and keep the rest.
		e.check(t, "personal PAT", w.patPersonal.Token, "Bot.chat", botRef(w.bot), 4101)
		e.check(t, "personal PAT, the workspace that stayed", w.patPersonal.Token, "Bot.chat", botRef(w.bot2), 0)
		e.check(t, "Beta-only PAT (not in the checklist)", w.patBeta.Token, "Bot.chat", botRef(w.bot2), 0)
		e.wantListing(t, "personal PAT", w.patPersonal.Token, map[string]wsEntry{w.ws2: {"personal", "", "owner"}})
		e.check(t, "personal JWT token issued before", jwtPersonal.AccessToken, "Bot.chat", botRef(w.bot), 4101)
		again, err := e.c.JWTToken(ctx, personalReq)
		if err != nil {
			t.Fatalf("JWT on account/%s/token after the migration: %v", w.aliceAcct, err)
		}
		e.check(t, "personal JWT token issued after", again.AccessToken, "Bot.chat", botRef(w.bot), 4101)

		// Enterprise credentials with "all workspaces" reach it.
		e.check(t, "enterprise PAT", w.patEnt.Token, "Bot.chat", botRef(w.bot), 0)
		e.check(t, "installed app's enterprise token", jwtEnt.AccessToken, "Bot.chat", botRef(w.bot), 0)
		team := map[string]wsEntry{w.ws: {"team", w.ent, "owner"}, w.wsE: {"team", w.ent, "member"}}
		e.wantListing(t, "enterprise PAT", w.patEnt.Token, team)
		e.wantListing(t, "installed app's enterprise token", jwtEnt.AccessToken,
			map[string]wsEntry{w.ws: {"team", w.ent, ""}, w.wsE: {"team", w.ent, ""}})

		// The seed's code now answers with the enterprise credential, unchanged.
		e.wantFallback(t, "after", w.bot, "enterprise", w.patPersonal.Token, w.patEnt.Token, again.AccessToken, jwtEnt.AccessToken)
		e.wantFallback(t, "after", w.bot2, "personal", w.patPersonal.Token, w.patEnt.Token, again.AccessToken, jwtEnt.AccessToken)
	})

	t.Run("obo re-authorization", func(t *testing.T) {
		e.check(t, "OBO token of the personal account", oboPersonal.AccessToken, "Bot.chat", botRef(w.bot), 4101)
		// The seed's OBO fallback: on 4101, authorize again, as an enterprise member.
		q := authorizeCode(t, b, e.c.OAuthURL(w.web.ClientID, redirectURI, "", nil), "alice", consent{account: "Acme"})
		obo, err := e.c.ExchangeCode(ctx, w.web.ClientID, w.web.Secret, q.Get("code"), redirectURI)
		if err != nil {
			t.Fatalf("OBO code exchange (enterprise account): %v", err)
		}
		e.check(t, "OBO token of the enterprise account", obo.AccessToken, "Bot.chat", botRef(w.bot), 0)
		e.check(t, "OBO token of the enterprise account, a personal bot", obo.AccessToken, "Bot.chat", botRef(w.bot2), 4101)
		e.wantListing(t, "OBO token of the enterprise account", obo.AccessToken,
			map[string]wsEntry{w.ws: {"team", w.ent, "owner"}, w.wsE: {"team", w.ent, "member"}})
		// The personal-account grant is still there and still reaches Beta.
		e.check(t, "OBO token of the personal account, Beta", oboPersonal.AccessToken, "Bot.chat", botRef(w.bot2), 0)
	})

	t.Run("audit", func(t *testing.T) {
		evs := e.audit(t, "workspace.migrate")
		if len(evs) != 1 {
			t.Fatalf("audit list --action workspace.migrate: %d events, want 1: %+v", len(evs), evs)
		}
		ev := evs[0]
		var detail struct {
			Workspaces   []string          `json:"workspaces"`
			FromAccount  string            `json:"from_account"`
			ToEnterprise string            `json:"to_enterprise"`
			Affected     []json.RawMessage `json:"affected"`
		}
		if err := json.Unmarshal(ev.Detail, &detail); err != nil {
			t.Fatalf("audit detail %s: %v", ev.Detail, err)
		}
		if ev.ActorID != w.alice || ev.TargetType != "enterprise" || ev.TargetID != w.ent || ev.At < start.Unix()-1 ||
			!slices.Equal(detail.Workspaces, []string{w.ws}) || detail.FromAccount != w.aliceAcct || detail.ToEnterprise != w.ent ||
			len(detail.Affected) != 3 {
			t.Errorf("audit event %+v (detail %s): want actor alice %s, target enterprise %s, workspaces [%s], from %s, 3 affected",
				ev, ev.Detail, w.alice, w.ent, w.ws, w.aliceAcct)
		}
	})

	t.Run("migrate errors", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			want []string
		}{
			{"by a Member of the enterprise", []string{"--workspace", w.wsC, "--by", "carol"}, []string{"SuperAdmin or Admin", w.ent}},
			{"by a Member, dry run", []string{"--workspace", w.wsC, "--by", "carol", "--dry-run"}, []string{"SuperAdmin or Admin"}},
			{"a workspace that is not the user's", []string{"--workspace", w.wsC, "--by", "alice"}, []string{w.wsC, "not a personal workspace of alice"}},
			{"an already migrated workspace", []string{"--workspace", w.ws, "--by", "alice"}, []string{w.ws, "already in enterprise"}},
			{"an enterprise workspace of the enterprise", []string{"--workspace", w.wsE, "--by", "alice", "--dry-run"}, []string{w.wsE, "already in enterprise"}},
			{"an unknown workspace", []string{"--workspace", "7000000000000000009", "--by", "alice"}, []string{"7000000000000000009", "not found"}},
			{"one bad workspace among good ones moves none", []string{"--workspace", w.ws2, "--workspace", w.wsC, "--by", "alice"}, []string{w.wsC}},
		}
		for _, tt := range tests {
			args := append([]string{"workspace", "migrate", "--enterprise", w.ent}, tt.args...)
			msg := w.cli(t).fail("", args...)
			for _, s := range tt.want {
				if !strings.Contains(msg, s) {
					t.Errorf("%s: stderr %q does not say %q", tt.name, msg, s)
				}
			}
		}
		e.check(t, "personal PAT on Beta after refused migrations", w.patPersonal.Token, "Bot.chat", botRef(w.bot2), 0)
		if evs := e.audit(t, "workspace.migrate"); len(evs) != 1 {
			t.Errorf("refused migrations wrote audit events: %d, want 1", len(evs))
		}
	})

	t.Run("personal resources", func(t *testing.T) {
		acct := &client.Resource{Type: "account", ID: w.aliceAcct}
		// A personal credential acts in its own account.
		e.check(t, "personal JWT token", jwtPersonal.AccessToken, "Conversation.create", acct, 0)

		for _, tc := range []struct {
			what, tok, cred string
			extra           []string
		}{
			{"enterprise PAT", w.patEnt.Token, w.patEnt.ID, nil},
			{"installed app's enterprise token", jwtEnt.AccessToken, w.svc.ID, []string{"--enterprise", w.ent}},
		} {
			e.check(t, tc.what+", not authorized", tc.tok, "Conversation.create", acct, 4101)
			w.cli(t).changed(append([]string{"account", "authorize-enterprise-credential", "--user", "alice", "--credential", tc.cred}, tc.extra...)...)
			d := e.settle(t, tc.what+", authorized", tc.tok, "Conversation.create", acct, 0)
			t.Logf("%s: authorization seen after %v", tc.what, d.Round(time.Millisecond))
			// Account-level permissions only: the personal workspaces stay out of reach.
			e.check(t, tc.what+", authorized, a personal bot", tc.tok, "Bot.chat", botRef(w.bot2), 4101)
			w.cli(t).changed("account", "revoke-enterprise-credential", "--user", "alice", "--credential", tc.cred)
			d = e.settle(t, tc.what+", revoked", tc.tok, "Conversation.create", acct, 4101)
			t.Logf("%s: revocation seen after %v", tc.what, d.Round(time.Millisecond))
			if msg := w.cli(t).fail("", "account", "revoke-enterprise-credential", "--user", "alice", "--credential", tc.cred); !strings.Contains(msg, tc.cred) {
				t.Errorf("revoking twice: stderr %q does not name %s", msg, tc.cred)
			}
		}

		// OBO is never authorizable: neither the Web app nor its grant.
		for _, cred := range []string{w.web.ID, oboID} {
			msg := w.cli(t).fail("", "account", "authorize-enterprise-credential", "--user", "alice", "--credential", cred)
			if !strings.Contains(msg, "not an enterprise PAT you created or a Service app installed") {
				t.Errorf("authorizing OBO credential %s: stderr %q", cred, msg)
			}
		}
		// Only what the user administers: carol (a Member) cannot authorize alice's PAT.
		w.cli(t).fail("", "account", "authorize-enterprise-credential", "--user", "carol", "--credential", w.patEnt.ID)
		e.check(t, "enterprise PAT after refused authorizations", w.patEnt.Token, "Conversation.create", acct, 4101)
	})

	t.Run("uninstall", func(t *testing.T) {
		a := w.cli(t)
		if msg := a.fail("", "enterprise", "uninstall-app", "--enterprise", w.ent, "--app", w.svc.ID, "--by", "carol"); !strings.Contains(msg, "SuperAdmin or Admin") {
			t.Errorf("uninstall by a Member: stderr %q", msg)
		}
		e.check(t, "installed app's enterprise token after a refused uninstall", jwtEnt.AccessToken, "Bot.chat", botRef(w.bot), 0)
		a.changed("enterprise", "uninstall-app", "--enterprise", w.ent, "--app", w.svc.ID, "--by", "alice")
		d := e.settle(t, "enterprise token after uninstall", jwtEnt.AccessToken, "Bot.chat", nil, 4100)
		t.Logf("uninstall seen after %v", d.Round(time.Millisecond))
		_, err := e.c.JWTToken(ctx, entReq)
		wantAuthErr(t, "JWT on enterprise_id path after uninstall", err, client.ErrCodeInvalidGrant)
		// The personal authorization of the same app is untouched.
		e.check(t, "personal JWT token after uninstall", jwtPersonal.AccessToken, "Bot.chat", botRef(w.bot2), 0)
		if evs := e.audit(t, "app.uninstall"); len(evs) != 1 || evs[0].ActorID != w.alice || evs[0].TargetID != w.svc.ID {
			t.Errorf("audit app.uninstall: %v, want one event by alice on the app", evs)
		}
	})
	t.Logf("enterprise upgrade scenario ran in %v", time.Since(start).Round(time.Millisecond))
}

// wantFallback runs the seed's fallback for Bot.chat on bot with the PAT pair
// and with the JWT pair, and checks which credential answered.
func (e *eenv) wantFallback(t *testing.T, when, bot, want string, pat, patEnt, jwt, jwtEnt string) {
	t.Helper()
	ctx := ctxT(t)
	chat := func(tok string) error {
		_, err := e.c.CheckAuthz(ctx, tok, "Bot.chat", botRef(bot))
		return err
	}
	for _, pair := range []struct{ what, personal, enterprise string }{
		{"PATs", pat, patEnt}, {"JWT tokens", jwt, jwtEnt},
	} {
		got, err := seedFallback(pair.personal, pair.enterprise, chat)
		if err != nil || got != want {
			t.Errorf("%s: fallback with %s on bot %s: answered by %q (%v), want %s", when, pair.what, bot, got, err, want)
		}
	}
}

type auditEvent struct {
	ID         string          `json:"id"`
	At         int64           `json:"at"`
	ActorID    string          `json:"actor_id"`
	ActorType  string          `json:"actor_type"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Detail     json.RawMessage `json:"detail"`
}

func (ev auditEvent) String() string {
	return fmt.Sprintf("{%s at %d by %q on %s %s: %s}", ev.Action, ev.At, ev.ActorID, ev.TargetType, ev.TargetID, ev.Detail)
}

func (e *eworld) audit(t *testing.T, action string) []auditEvent {
	t.Helper()
	var out struct {
		Events *[]auditEvent `json:"events"`
	}
	e.cli(t).json(&out, "audit", "list", "--action", action)
	if out.Events == nil {
		t.Fatalf("audit list --action %s: no events array", action)
	}
	return *out.Events
}

// ---------------------------------------------------------------- members API

func runEnterpriseMembers(t *testing.T, dsn string) {
	start := time.Now()
	a := adm{t: t, db: dsn}
	boss, alice, bob := a.user("boss"), a.user("alice"), a.user("bob")
	ent := a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	a.changed("enterprise", "add-member", "--enterprise", ent, "--user", "alice", "--role", "Admin")
	manage := []string{"--permission", "Enterprise.manageMembers", "--permission", "Bot.chat", "--workspaces", "all", "--permanent"}
	patBoss := a.createToken("pat", append([]string{"--user", "boss", "--name", "members", "--enterprise", ent}, manage...)...)
	patPersonal := a.createToken("pat", "--user", "alice", "--name", "personal", "--permanent", "--workspaces", "all", "--permission", "Bot.chat")
	sat := a.createToken("sat", "--enterprise", ent, "--name", "directory sync", "--permanent", "--permission", "Enterprise.manageMembers")
	srv := startServer(t, "server", dsn)
	c, ctx := srv.C, ctxT(t)
	wantCode := func(what string, err error, want int) {
		t.Helper()
		if got := codeOf(err); got != want {
			t.Errorf("%s: code %d (%v), want %d", what, got, err, want)
		} else if err != nil {
			checkAPIError(t, what, err)
		}
	}
	manageRef := &client.Resource{Type: "enterprise", ID: ent}

	// The SuperAdmin's enterprise PAT adds bob as a member.
	wantCode("SuperAdmin adds bob as member", c.AddEnterpriseMembers(ctx, patBoss.Token, ent,
		[]client.EnterpriseMember{{UserID: bob, Role: client.EnterpriseRoleMember}}), 0)
	patBob := a.createToken("pat", append([]string{"--user", "bob", "--name", "bob in acme", "--enterprise", ent}, manage...)...)
	wantCode("a Member's enterprise PAT adds members", c.AddEnterpriseMembers(ctx, patBob.Token, ent,
		[]client.EnterpriseMember{{UserID: alice, Role: client.EnterpriseRoleMember}}), 4101)
	wantCode("a Member's enterprise PAT changes a role", c.UpdateEnterpriseMember(ctx, patBob.Token, ent, bob, client.EnterpriseRoleAdmin), 4101)
	wantCode("a personal PAT", c.AddEnterpriseMembers(ctx, patPersonal.Token, ent,
		[]client.EnterpriseMember{{UserID: bob, Role: client.EnterpriseRoleAdmin}}), 4101)
	wantCode("a personal PAT removes", c.RemoveEnterpriseMember(ctx, patPersonal.Token, ent, bob, boss), 4101)
	wantCode("no token", c.AddEnterpriseMembers(ctx, "", ent, []client.EnterpriseMember{{UserID: bob, Role: client.EnterpriseRoleAdmin}}), 4100)

	// Promotion: bob's own PAT then carries the enterprise permission.
	wantCode("SuperAdmin promotes bob", c.UpdateEnterpriseMember(ctx, patBoss.Token, ent, bob, client.EnterpriseRoleAdmin), 0)
	allowed, err := c.CheckAuthz(ctx, patBob.Token, "Enterprise.manageMembers", manageRef)
	wantCode("bob's PAT as Admin", err, 0)
	if !allowed {
		t.Errorf("bob's PAT as Admin: not allowed")
	}

	// Refusals of the request itself.
	wantCode("bad role on add", c.AddEnterpriseMembers(ctx, patBoss.Token, ent, []client.EnterpriseMember{{UserID: bob, Role: "owner"}}), 4000)
	wantCode("SuperAdmin role on update", c.UpdateEnterpriseMember(ctx, patBoss.Token, ent, bob, "SuperAdmin"), 4000)
	wantCode("no users", c.AddEnterpriseMembers(ctx, patBoss.Token, ent, nil), 4000)
	wantCode("unknown user on add", c.AddEnterpriseMembers(ctx, patBoss.Token, ent,
		[]client.EnterpriseMember{{UserID: "7000000000000000404", Role: client.EnterpriseRoleMember}}), 4200)
	wantCode("unknown user on update", c.UpdateEnterpriseMember(ctx, patBoss.Token, ent, "7000000000000000404", client.EnterpriseRoleMember), 4200)
	wantCode("unknown enterprise", c.AddEnterpriseMembers(ctx, patBoss.Token, "7000000000000000405",
		[]client.EnterpriseMember{{UserID: bob, Role: client.EnterpriseRoleMember}}), 4200)
	wantCode("demote the SuperAdmin", c.UpdateEnterpriseMember(ctx, patBoss.Token, ent, boss, client.EnterpriseRoleMember), 4000)
	wantCode("the SuperAdmin re-added as member", c.AddEnterpriseMembers(ctx, patBoss.Token, ent,
		[]client.EnterpriseMember{{UserID: boss, Role: client.EnterpriseRoleMember}}), 4000)
	wantCode("remove the SuperAdmin", c.RemoveEnterpriseMember(ctx, patBoss.Token, ent, boss, alice), 4000)
	wantCode("remove without receiver", c.RemoveEnterpriseMember(ctx, patBoss.Token, ent, bob, ""), 4000)
	wantCode("remove with the member as their own receiver", c.RemoveEnterpriseMember(ctx, patBoss.Token, ent, bob, bob), 4000)
	wantCode("remove with a receiver outside the enterprise", c.RemoveEnterpriseMember(ctx, patBoss.Token, ent, bob, "7000000000000000404"), 4000)
	allowed, err = c.CheckAuthz(ctx, patBoss.Token, "Enterprise.manageMembers", manageRef)
	wantCode("boss still SuperAdmin", err, 0)
	if !allowed {
		t.Errorf("boss's PAT after refused changes: not allowed")
	}

	// The enterprise's SAT manages members too (no person behind it).
	carol := a.user("carol")
	wantCode("SAT adds carol", c.AddEnterpriseMembers(ctx, sat.Token, ent, []client.EnterpriseMember{{UserID: carol, Role: client.EnterpriseRoleMember}}), 0)

	// Removal, with a receiver: bob's enterprise PAT stops (4100: no longer in its account).
	wantCode("SuperAdmin removes bob", c.RemoveEnterpriseMember(ctx, patBoss.Token, ent, bob, alice), 0)
	d, ok := eventually(revocationBound, func() bool {
		_, err := c.UsersMe(ctx, patBob.Token)
		return codeOf(err) == 4100
	})
	if !ok {
		_, err := c.UsersMe(ctx, patBob.Token)
		t.Errorf("bob's enterprise PAT after his removal: %v after %v, want 4100", err, d)
	}
	_, err = c.CheckAuthz(ctx, patBob.Token, "Bot.chat", nil)
	wantCode("bob's enterprise PAT after his removal", err, 4100)
	wantCode("remove bob again", c.RemoveEnterpriseMember(ctx, patBoss.Token, ent, bob, alice), 4200)

	// Every change is audited with its actor: the SuperAdmin, or "" for the SAT.
	var out struct {
		Events []auditEvent `json:"events"`
	}
	a.json(&out, "audit", "list", "--action", "enterprise.member.remove")
	if len(out.Events) != 1 || out.Events[0].ActorID != boss || out.Events[0].TargetID != ent ||
		!strings.Contains(string(out.Events[0].Detail), bob) || !strings.Contains(string(out.Events[0].Detail), alice) {
		t.Errorf("audit enterprise.member.remove: %+v, want one event by boss naming bob and the receiver alice", out.Events)
	}
	a.json(&out, "audit", "list", "--action", "enterprise.member.put")
	var byBoss, bySAT int
	for _, ev := range out.Events {
		if ev.ActorType == "cli" {
			continue // the set-up's `admin enterprise add-member`
		}
		switch ev.ActorID {
		case boss:
			byBoss++
		case "":
			bySAT++
		}
	}
	if byBoss != 2 || bySAT != 1 {
		t.Errorf("audit enterprise.member.put: %d by boss, %d by the SAT, want 2 and 1: %+v", byBoss, bySAT, out.Events)
	}
	t.Logf("members API scenario ran in %v", time.Since(start).Round(time.Millisecond))
}

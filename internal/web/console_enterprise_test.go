package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
	"github.com/cozeauth/cozeauth/internal/web"
)

// entEnv: alice is SuperAdmin of Acme and owns the personal workspaces
// "Alpha space" (reached by her PAT, her authorized Service app and an OBO
// grant of Demo App) and "Beta space" (reached by nothing); she also has an
// enterprise PAT in Acme. bob is SuperAdmin of Other Corp and owns the
// Service app "Bob Service" (to share) and the personal workspace "Bob
// space", where alice is a member. carol is a Member of Acme.
type entEnv struct {
	*env
	ent         *enterprise.Service
	invalidated *atomic.Int32
	acme, other store.Enterprise
	beta, bobWS store.Workspace
	bob, carol  store.User
	bobApp      store.App // Service, bob's personal account
	aliceSvc    store.App // Service, alice's, authorized for her personal account on Alpha
	alicePAT    store.Credential
	acmePAT     store.Credential // alice's enterprise PAT in Acme
	oboGrant    store.Grant
	inactiveApp store.App // Service, bob's, deactivated
}

func newEntEnv(t *testing.T) *entEnv {
	t.Helper()
	var ent *enterprise.Service
	invalidated := &atomic.Int32{}
	e := newEnv(t, func(h *web.Handler) {
		ent = &enterprise.Service{Store: h.Store.(*sqlstore.DB), OAuth: h.OAuth, Catalog: permission.Default(), Now: time.Now}
		h.Enterprise = ent
		h.Invalidate = func() { invalidated.Add(1) }
	})
	ctx := t.Context()
	ids := &identity.Service{Store: e.store, Now: time.Now}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	bob, err := ids.CreateUser(ctx, "bob", password, "Bob")
	must(err)
	carol, err := ids.CreateUser(ctx, "carol", password, "Carol")
	must(err)
	acme, err := ids.CreateEnterprise(ctx, "Acme", "alice")
	must(err)
	must(ids.AddEnterpriseMember(ctx, acme.ID, "carol", store.RoleMember))
	other, err := ids.CreateEnterprise(ctx, "Other Corp", "bob")
	must(err)
	beta, err := ids.CreateWorkspace(ctx, "Beta space", "alice", "")
	must(err)
	bobWS, err := ids.CreateWorkspace(ctx, "Bob space", "bob", "")
	must(err)
	must(ids.AddWorkspaceMember(ctx, bobWS.ID, "alice", store.WorkspaceRoleMember))

	mkApp := func(owner store.User, name string, perms ...string) store.App {
		a, _, err := e.oauth.CreateApp(ctx, oauth.AppSpec{Owner: owner.Account(), CreatedBy: owner.ID, Type: store.ClientService,
			Name: name, Description: name + " description", Permissions: perms})
		must(err)
		return a
	}
	bobApp := mkApp(bob, "Bob Service", "Bot.chat", "Conversation.create")
	inactive := mkApp(bob, "Bob Old Service", "Bot.chat")
	must(e.oauth.Deactivate(ctx, inactive.ID))
	aliceSvc := mkApp(e.user, "Alice Service", "Bot.chat")
	_, err = e.oauth.AuthorizeApp(ctx, aliceSvc.ID, e.user.ID, false, []string{e.ws.ID})
	must(err)
	now := time.Now().Unix()
	obo, err := e.store.PutGrant(ctx, store.Grant{ID: store.NewID(), AppID: e.app.ID, Kind: store.GrantOBO, UserID: e.user.ID,
		Owner: e.user.Account(), Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{e.ws.ID}, CreatedBy: e.user.ID,
		CreatedAt: now, UpdatedAt: now})
	must(err)

	mgr := &credential.Manager{Store: e.store, Catalog: permission.Default(), Now: time.Now}
	pat, err := mgr.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "alice pat", UserID: e.user.ID,
		Expiry: credential.Expiry{Days: 30}, Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{e.ws.ID}})
	must(err)
	acmePAT, err := mgr.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "acme pat", UserID: e.user.ID, EnterpriseID: acme.ID,
		Expiry: credential.Expiry{Days: 30}, Permissions: []string{"Bot.chat", "Conversation.create"}, AllWorkspaces: true})
	must(err)
	return &entEnv{env: e, ent: ent, invalidated: invalidated, acme: acme, other: other, beta: beta, bobWS: bobWS,
		bob: bob, carol: carol, bobApp: bobApp, aliceSvc: aliceSvc, alicePAT: pat.Credential, acmePAT: acmePAT.Credential,
		oboGrant: obo, inactiveApp: inactive}
}

func (ee *entEnv) installPath(a store.App) string { return "/console/install/" + a.ClientID }

func (ee *entEnv) installationsPath(ent store.Enterprise) string {
	return "/console/enterprises/" + ent.ID + "/installations"
}

func (ee *entEnv) migratePath(ws store.Workspace) string {
	return "/console/workspaces/" + ws.ID + "/migrate"
}

// install installs bob's app in Acme through the service, as alice.
func (ee *entEnv) install() {
	ee.t.Helper()
	if _, err := ee.ent.Install(ee.t.Context(), ee.bobApp.ID, ee.acme.ID, ee.user.ID); err != nil {
		ee.t.Fatal(err)
	}
}

// TestConsoleEnterprisePages: every enterprise page renders in English and
// Chinese for an admin, with the navigation entries.
func TestConsoleEnterprisePages(t *testing.T) {
	ee := newEntEnv(t)
	ee.install()
	b := ee.browser()
	b.signIn()
	for _, tc := range []struct {
		name, path string
		en, zh     []string
	}{
		{"share link", ee.installPath(ee.bobApp),
			[]string{"<h1>Install Bob Service</h1>", "Bob Service description", "Bob (bob) (personal account)", "Service",
				"<code>Conversation.create</code>", `<label for="enterprise">Enterprise</label>`, ">Acme (already installed)</option>",
				"Enterprise · All workspaces", `<button type="submit" class="primary">Install</button>`},
			[]string{"安装 Bob Service", "企业 · 所有工作空间", ">安装</button>", "服务类应用"}},
		{"enterprises", "/console/enterprises",
			[]string{"<h1>Enterprises</h1>", "Acme", `aria-current="page">Enterprises</a>`,
				`href="` + ee.installationsPath(ee.acme) + `" aria-label="App installations of Acme">App installations</a>`},
			[]string{"应用安装管理", "企业 ID"}},
		{"installations", ee.installationsPath(ee.acme),
			[]string{"<h1>App installations: Acme</h1>", "<th scope=\"row\">Bob Service</th>", "<code>Bot.chat</code>",
				"<td>alice</td>", `<time datetime="`, `aria-label="Revoke Bob Service">Revoke</button>`},
			[]string{"应用安装管理：Acme", "安装人", ">撤销</button>"}},
		{"workspaces", "/console/workspaces",
			[]string{"<td>Personal space</td>", `aria-label="Migrate to enterprise: Alpha space">Migrate to enterprise</button>`,
				`action="/console/workspaces/` + ee.ws.ID + `/migrate"`},
			[]string{"个人空间", ">迁移到企业</button>"}},
		{"migrate: choose", ee.migratePath(ee.ws),
			[]string{"<h1>Migrate Alpha space to an enterprise</h1>", `<label for="enterprise">Enterprise</label>`,
				`<option value="` + ee.acme.ID + `">Acme</option>`, `class="primary">Review</button>`},
			[]string{"将 Alpha space 迁移到企业", ">检查</button>"}},
		{"migrate: review", ee.migratePath(ee.ws) + "?enterprise=" + ee.acme.ID,
			[]string{"What loses access", "<th scope=\"row\">alice pat</th>", "<td>Personal access token</td>",
				"<th scope=\"row\">Alice Service</th>", "<td>App authorization (AppAuth)</td>",
				"<th scope=\"row\">Demo App</th>", "<td>User authorization (OBO)</td>", "<td>Alpha space</td>",
				"stop reaching the workspace", "Credentials of Acme with all workspaces", "must authorize them again as members",
				`<input type="hidden" name="enterprise" value="` + ee.acme.ID + `">`, `class="primary danger" aria-describedby="migrate-help" data-busy="Migrating…">Migrate</button>`},
			[]string{"个人访问令牌", "应用授权（AppAuth）", "用户授权（OBO）", ">迁移</button>"}},
		{"migrate: nothing affected", ee.migratePath(ee.beta) + "?enterprise=" + ee.acme.ID,
			[]string{"Nothing loses access", ">Migrate</button>"},
			[]string{"没有凭证会失去访问权限"}},
		{"personal resources", "/console/personal-resources",
			[]string{"<h1>Personal account resource authorization</h1>", "<h2>Acme</h2>",
				"<th scope=\"row\">acme pat</th>", "<td>Enterprise PAT</td>", "<th scope=\"row\">Bob Service</th>", "<td>Installed app</td>",
				"<code>Conversation.create</code>", "Not authorized", `aria-label="Authorize acme pat">Authorize</button>`,
				"account-level resources", `aria-current="page">Personal account resources</a>`},
			[]string{"个人账号资源授权", "企业个人访问令牌", "已安装的应用", "未授权", ">授权</button>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sep := "?"
			if strings.Contains(tc.path, "?") {
				sep = "&"
			}
			en := b.get(tc.path + sep + "lang=en") // the previous case left the language cookie at zh-CN
			wantStatus(t, tc.path, en, http.StatusOK)
			wantNoStore(t, tc.path, en)
			wantBody(t, tc.path, en, append(tc.en, ">Enterprises</a>", ">Personal account resources</a>")...)
			zh := b.get(tc.path + sep + "lang=zh-CN")
			wantStatus(t, tc.path+" zh", zh, http.StatusOK)
			wantBody(t, tc.path+" zh", zh, append(tc.zh, `<html lang="zh-CN">`, ">企业</a>")...)
			for _, english := range []string{">Install</button>", ">Revoke</button>", ">Migrate</button>", ">Authorize</button>",
				"What loses access", "Personal account resource authorization"} {
				if strings.Contains(zh.body, english) {
					t.Errorf("%s in Chinese shows %q", tc.path, english)
				}
			}
		})
	}
	// OBO grants are never authorizable.
	if p := b.get("/console/personal-resources"); strings.Contains(p.body, "Demo App") {
		t.Error("the personal resources page lists an OBO grant")
	}
}

// TestConsoleEnterpriseAccess: what a user may not see is 404; the
// navigation shows the enterprise pages to admins only.
func TestConsoleEnterpriseAccess(t *testing.T) {
	ee := newEntEnv(t)
	ee.install()
	carol := ee.browser()
	carol.loginAs("carol")
	home := carol.get("/console")
	for _, hidden := range []string{">Enterprises</a>", ">Personal account resources</a>"} {
		if strings.Contains(home.body, hidden) {
			t.Errorf("carol's navigation shows %q", hidden)
		}
	}
	alice := ee.browser()
	alice.signIn()
	webApp := ee.app
	for _, tc := range []struct {
		name string
		b    *browser
		path string
	}{
		{"non-admin: enterprises", carol, "/console/enterprises"},
		{"non-admin: installations", carol, ee.installationsPath(ee.acme)},
		{"non-admin: personal resources", carol, "/console/personal-resources"},
		{"non-admin: migrate", carol, ee.migratePath(ee.ws)},
		{"admin of another enterprise", alice, ee.installationsPath(ee.other)},
		{"unknown enterprise", alice, "/console/enterprises/nope/installations"},
		{"workspace of someone else", alice, "/console/workspaces/nope/migrate"},
		{"share link of a web app", alice, "/console/install/" + webApp.ClientID},
		{"share link of a deactivated app", alice, ee.installPath(ee.inactiveApp)},
		{"unknown share link", alice, "/console/install/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.b.get(tc.path)
			wantStatus(t, tc.path, p, http.StatusNotFound)
			if strings.HasPrefix(tc.path, "/console/install/") {
				wantBody(t, tc.path, p, "App not found", "not a Service app")
			}
		})
	}
	// A non-admin may open a share link: it says why they cannot install.
	p := carol.get(ee.installPath(ee.bobApp))
	wantStatus(t, "carol share link", p, http.StatusOK)
	wantBody(t, "carol share link", p, "Bob Service", "You are not a SuperAdmin or Admin of any enterprise")
	if strings.Contains(p.body, `name="enterprise"`) {
		t.Error("a non-admin gets the install form")
	}
	// The share link needs a session and comes back after sign-in.
	anon := ee.browser()
	path := ee.installPath(ee.bobApp)
	if p := anon.get(path); p.location() != "/login?next="+url.QueryEscape(path) {
		t.Errorf("anonymous share link: %d %q", p.status, p.location())
	}
	if p := anon.login("alice", password, path); p.location() != path {
		t.Errorf("sign-in from the share link: Location %q", p.location())
	}
}

// TestConsoleEnterpriseCSRF: every enterprise form is refused without its
// token, and a token of another form does not do.
func TestConsoleEnterpriseCSRF(t *testing.T) {
	ee := newEntEnv(t)
	ee.install()
	b := ee.browser()
	b.signIn()
	otherForm := b.get("/console/tokens").hidden().Get("csrf_token") // a logout token
	for _, path := range []string{
		ee.installPath(ee.bobApp),
		ee.installationsPath(ee.acme) + "/" + ee.bobApp.ID + "/confirm-revoke",
		ee.installationsPath(ee.acme) + "/" + ee.bobApp.ID + "/revoke",
		ee.migratePath(ee.ws),
		"/console/personal-resources/" + ee.acme.ID + "/" + ee.acmePAT.ID + "/authorize",
		"/console/personal-resources/" + ee.acme.ID + "/" + ee.acmePAT.ID + "/revoke",
	} {
		t.Run(path, func(t *testing.T) {
			wantStatus(t, "no token", b.post(path, url.Values{"enterprise": {ee.acme.ID}}), http.StatusForbidden)
			wantStatus(t, "other form's token", b.post(path, url.Values{"csrf_token": {otherForm}, "enterprise": {ee.acme.ID}}), http.StatusForbidden)
		})
	}
	if ws, _ := ee.store.GetWorkspace(t.Context(), ee.ws.ID); ws.Owner != ee.user.Account() {
		t.Error("a forged POST migrated the workspace")
	}
	if gs, _ := ee.store.ListGrants(t.Context(), store.GrantFilter{AppID: ee.bobApp.ID}); len(gs) != 1 {
		t.Error("a forged POST uninstalled the app")
	}
}

func TestConsoleInstall(t *testing.T) {
	ee := newEntEnv(t)
	ctx := t.Context()

	// The owner finds the share link on the app page; other client types have none.
	bob := ee.browser()
	bob.loginAs("bob")
	show := bob.get("/console/apps/" + ee.bobApp.ID)
	wantBody(t, "app page", show, "Share with an enterprise", `<label for="share-link">Share link</label>`,
		`value="http://x/console/install/`+ee.bobApp.ClientID+`"`, `data-copy="share-link" hidden>Copy</button>`)
	alice := ee.browser()
	alice.signIn()
	if p := alice.get("/console/apps/" + ee.app.ID); strings.Contains(p.body, "Share link") {
		t.Error("a web app has a share link")
	}

	path := ee.installPath(ee.bobApp)
	csrf := alice.get(path).hidden().Get("csrf_token")
	for _, tc := range []struct {
		name, enterprise string
	}{
		{"no enterprise", ""},
		{"unknown enterprise", "nope"},
		{"not admin", ee.other.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.post(path+"?lang=en", url.Values{"csrf_token": {csrf}, "enterprise": {tc.enterprise}})
			wantStatus(t, "install", p, http.StatusBadRequest)
			wantBody(t, "install", p, `id="enterprise-error" role="alert">Choose an enterprise you administer.`, `aria-invalid="true"`)
			zh := alice.post(path+"?lang=zh-CN", url.Values{"csrf_token": {csrf}, "enterprise": {tc.enterprise}})
			wantBody(t, "install zh", zh, "请选择你管理的企业。")
		})
	}
	if gs, _ := ee.store.ListGrants(ctx, store.GrantFilter{AppID: ee.bobApp.ID}); len(gs) != 0 {
		t.Fatalf("refused installs stored grants: %+v", gs)
	}
	alice.get("/console?lang=en") // back to English
	// Installing a non-Service app by posting its client ID is 404.
	wantStatus(t, "install a web app", alice.post("/console/install/"+ee.app.ClientID,
		url.Values{"csrf_token": {csrf}, "enterprise": {ee.acme.ID}}), http.StatusNotFound)

	ok := alice.post(path, url.Values{"csrf_token": {csrf}, "enterprise": {ee.acme.ID}})
	wantStatus(t, "install", ok, http.StatusSeeOther)
	if want := ee.installationsPath(ee.acme) + "?done=installed"; ok.location() != want {
		t.Errorf("Location = %q, want %q", ok.location(), want)
	}
	gs, _ := ee.store.ListGrants(ctx, store.GrantFilter{AppID: ee.bobApp.ID, Kind: store.GrantAppAuth})
	if len(gs) != 1 || gs[0].Owner != (store.Owner{Type: store.OwnerEnterprise, ID: ee.acme.ID}) || !gs[0].AllWorkspaces || gs[0].CreatedBy != ee.user.ID {
		t.Fatalf("grants after install = %+v", gs)
	}
	list := alice.get(ok.location())
	wantBody(t, "installations", list, "App installed for all workspaces of the enterprise.", "Bob Service", "<td>alice</td>")

	// Revoke: a confirmation page, then the installation goes and its tokens with it.
	listCSRF := list.hidden().Get("csrf_token")
	base := ee.installationsPath(ee.acme) + "/" + ee.bobApp.ID
	conf := alice.post(base+"/confirm-revoke", url.Values{"csrf_token": {listCSRF}})
	wantStatus(t, "confirm", conf, http.StatusOK)
	wantBody(t, "confirm", conf, "<h1>Revoke Bob Service?</h1>", "its enterprise tokens stop working at once",
		`action="`+base+`/revoke"`, ">Revoke installation</button>", `href="`+ee.installationsPath(ee.acme)+`">Cancel</a>`)
	if gs, _ := ee.store.ListGrants(ctx, store.GrantFilter{AppID: ee.bobApp.ID}); len(gs) != 1 {
		t.Error("the confirmation page revoked the installation")
	}
	before := ee.invalidated.Load()
	rev := alice.post(base+"/revoke", url.Values{"csrf_token": {listCSRF}})
	wantStatus(t, "revoke", rev, http.StatusSeeOther)
	if gs, _ := ee.store.ListGrants(ctx, store.GrantFilter{AppID: ee.bobApp.ID}); len(gs) != 0 {
		t.Errorf("grants after revoke = %+v", gs)
	}
	if ee.invalidated.Load() == before {
		t.Error("revoke did not call Invalidate")
	}
	wantBody(t, "after revoke", alice.get(rev.location()), "Installation revoked.", "No apps are installed in this enterprise.")
	wantStatus(t, "revoke again", alice.post(base+"/revoke", url.Values{"csrf_token": {listCSRF}}), http.StatusNotFound)
	evs, err := ee.store.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "app.install") || !strings.Contains(got, "app.uninstall") {
		t.Errorf("audit actions = %s", got)
	}
}

func TestConsoleMigrate(t *testing.T) {
	ee := newEntEnv(t)
	ctx := t.Context()
	b := ee.browser()
	b.signIn()
	ws := b.get("/console/workspaces")
	if strings.Contains(ws.body, "Migrate to enterprise: Bob space") {
		t.Error("alice may migrate a workspace she does not own")
	}
	path := ee.migratePath(ee.ws)
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"unknown enterprise", path + "?enterprise=nope", http.StatusBadRequest, "Choose an enterprise you administer."},
		{"not admin", path + "?enterprise=" + ee.other.ID, http.StatusBadRequest, "Choose an enterprise you administer."},
		{"workspace not owned", ee.migratePath(ee.bobWS), http.StatusForbidden, "Only the owner of a personal workspace can migrate it."},
		{"workspace not owned, review", ee.migratePath(ee.bobWS) + "?enterprise=" + ee.acme.ID, http.StatusForbidden, "Only the owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.get(tc.path)
			wantStatus(t, tc.path, p, tc.status)
			wantBody(t, tc.path, p, tc.want)
			if strings.Contains(p.body, ">Migrate</button>") {
				t.Error("the page offers Migrate")
			}
		})
	}

	review := b.get(path + "?enterprise=" + ee.acme.ID)
	csrf := review.hidden().Get("csrf_token")
	for _, tc := range []struct {
		name, enterprise, path string
		status                 int
		want                   string
	}{
		{"post: unknown enterprise", "nope", path, http.StatusBadRequest, "Choose an enterprise you administer."},
		{"post: not admin", ee.other.ID, path, http.StatusBadRequest, "Choose an enterprise you administer."},
		{"post: not owner", ee.acme.ID, ee.migratePath(ee.bobWS), http.StatusForbidden, "Only the owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post(tc.path, url.Values{"csrf_token": {csrf}, "enterprise": {tc.enterprise}})
			wantStatus(t, tc.name, p, tc.status)
			wantBody(t, tc.name, p, tc.want)
		})
	}
	if w, _ := ee.store.GetWorkspace(ctx, ee.bobWS.ID); w.Owner != ee.bob.Account() {
		t.Fatal("bob's workspace moved")
	}

	before := ee.invalidated.Load()
	done := b.post(path, url.Values{"csrf_token": {csrf}, "enterprise": {ee.acme.ID}})
	wantStatus(t, "migrate", done, http.StatusSeeOther)
	if want := "/console/workspaces?done=migrated&workspace=" + ee.ws.ID; done.location() != want {
		t.Errorf("Location = %q, want %q", done.location(), want)
	}
	if w, _ := ee.store.GetWorkspace(ctx, ee.ws.ID); w.Owner != (store.Owner{Type: store.OwnerEnterprise, ID: ee.acme.ID}) {
		t.Fatalf("workspace owner after migration = %+v", w.Owner)
	}
	if ee.invalidated.Load() == before {
		t.Error("migrate did not call Invalidate")
	}
	after := b.get(done.location())
	wantBody(t, "after", after, "Workspace Alpha space now belongs to Acme: it is a team space of the enterprise.",
		"<td>Team space</td>", "<td>Acme</td>")
	if strings.Contains(after.body, "Migrate to enterprise: Alpha space") {
		t.Error("a team space still offers migration")
	}
	wantBody(t, "after zh", b.get(done.location()+"&lang=zh-CN"), "工作空间 Alpha space 已迁移到 Acme", "团队空间")

	// Already migrated: the page says so, and a second POST changes nothing.
	wantBody(t, "GET after", b.get(path+"?lang=en"), "This workspace is already in an enterprise.")
	again := b.post(path, url.Values{"csrf_token": {csrf}, "enterprise": {ee.acme.ID}})
	wantStatus(t, "migrate again", again, http.StatusConflict)
	wantBody(t, "migrate again", again, "This workspace is already in an enterprise.")
}

func TestConsolePersonalResources(t *testing.T) {
	ee := newEntEnv(t)
	ee.install()
	ctx := t.Context()
	b := ee.browser()
	b.signIn()
	list := b.get("/console/personal-resources")
	wantStatus(t, "list", list, http.StatusOK)
	if strings.Contains(list.body, "alice pat") {
		t.Error("a personal PAT is listed as authorizable")
	}
	csrf := list.hidden().Get("csrf_token")
	base := "/console/personal-resources/" + ee.acme.ID + "/"
	for _, tc := range []struct {
		name, path string
	}{
		{"unknown credential", base + "nope/authorize"},
		{"personal PAT", base + ee.alicePAT.ID + "/authorize"},
		{"wrong enterprise", "/console/personal-resources/" + ee.other.ID + "/" + ee.acmePAT.ID + "/authorize"},
		{"OBO grant's app", base + ee.app.ID + "/authorize"},
		{"revoke unknown", base + "nope/revoke"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, tc.path, b.post(tc.path, url.Values{"csrf_token": {csrf}}), http.StatusNotFound)
		})
	}
	carol := ee.browser()
	carol.loginAs("carol")
	wantStatus(t, "carol authorizes", carol.post(base+ee.acmePAT.ID+"/authorize",
		url.Values{"csrf_token": {carol.get("/console").hidden().Get("csrf_token")}}), http.StatusForbidden) // her token is for logout
	wantStatus(t, "carol's list", carol.get("/console/personal-resources"), http.StatusNotFound)

	authorized := func() []string {
		as, err := ee.store.ListAccountAuthorizations(ctx, ee.user.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range as {
			ids = append(ids, a.CredentialID)
		}
		return ids
	}
	for _, id := range []string{ee.acmePAT.ID, ee.bobApp.ID} {
		p := b.post(base+id+"/authorize", url.Values{"csrf_token": {csrf}})
		wantStatus(t, "authorize", p, http.StatusSeeOther)
		if p.location() != "/console/personal-resources?done=authorized" {
			t.Errorf("Location = %q", p.location())
		}
	}
	if got := authorized(); len(got) != 2 {
		t.Fatalf("authorizations = %v", got)
	}
	after := b.get("/console/personal-resources?done=authorized")
	wantBody(t, "after authorize", after, "Authorized: the credential reaches your personal account-level resources now.",
		`aria-label="Revoke acme pat">Revoke</button>`, `aria-label="Revoke Bob Service">Revoke</button>`, `<span class="ok">Authorized</span>`)

	wantBody(t, "confirm revoke", b.post(base+ee.acmePAT.ID+"/confirm-revoke", url.Values{"csrf_token": {csrf}}),
		"Revoke the authorization of acme pat?", `action="`+base+ee.acmePAT.ID+`/revoke"`, ">Revoke</button>")
	if got := authorized(); len(got) != 2 {
		t.Fatalf("the confirmation page revoked: %v", got)
	}
	before := ee.invalidated.Load()
	rev := b.post(base+ee.acmePAT.ID+"/revoke", url.Values{"csrf_token": {csrf}})
	wantStatus(t, "revoke", rev, http.StatusSeeOther)
	if got := authorized(); len(got) != 1 || got[0] != ee.bobApp.ID {
		t.Errorf("authorizations after revoke = %v", got)
	}
	if ee.invalidated.Load() == before {
		t.Error("revoke did not call Invalidate")
	}
	wantBody(t, "after revoke", b.get(rev.location()), "Authorization revoked", `aria-label="Authorize acme pat">Authorize</button>`)
	// Revoking what is not authorized (a double click) lands on the list.
	wantStatus(t, "revoke twice", b.post(base+ee.acmePAT.ID+"/revoke", url.Values{"csrf_token": {csrf}}), http.StatusSeeOther)
}

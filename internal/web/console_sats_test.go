package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// satEnv: alice is SuperAdmin of Acme (with workspace "Acme space"), carol a
// Member of Acme, bob SuperAdmin of Other Corp, which has a SAT.
type satEnv struct {
	*env
	acme, other store.Enterprise
	acmeWS      store.Workspace
	otherSAT    store.Credential
	alicePAT    store.Credential
}

func newSATEnv(t *testing.T) *satEnv {
	t.Helper()
	e := newEnv(t)
	ctx := t.Context()
	ids := &identity.Service{Store: e.store, Now: time.Now}
	for _, u := range []string{"bob", "carol"} {
		if _, err := ids.CreateUser(ctx, u, password, u); err != nil {
			t.Fatal(err)
		}
	}
	acme, err := ids.CreateEnterprise(ctx, "Acme", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.AddEnterpriseMember(ctx, acme.ID, "carol", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	ws, err := ids.CreateWorkspace(ctx, "Acme space", "", acme.ID) // alice is not a member: SATs see it anyway
	if err != nil {
		t.Fatal(err)
	}
	other, err := ids.CreateEnterprise(ctx, "Other Corp", "bob")
	if err != nil {
		t.Fatal(err)
	}
	mgr := &credential.Manager{Store: e.store, Catalog: permission.Default(), Now: time.Now}
	sat, err := mgr.Create(ctx, credential.Spec{Kind: store.KindSAT, Name: "other's", EnterpriseID: other.ID,
		UserID: mustUser(t, e, "bob").ID, Expiry: credential.Expiry{Days: 30}, Permissions: []string{"Workspace.list"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	pat, err := mgr.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "alice pat", UserID: e.user.ID,
		Expiry: credential.Expiry{Days: 30}, Permissions: []string{"Workspace.list"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	return &satEnv{env: e, acme: acme, other: other, acmeWS: ws, otherSAT: sat.Credential, alicePAT: pat.Credential}
}

func mustUser(t *testing.T, e *env, name string) store.User {
	t.Helper()
	u, err := e.store.GetUserByUsername(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b *browser) loginAs(name string) {
	b.e.t.Helper()
	if p := b.login(name, password, ""); p.status != http.StatusFound {
		b.e.t.Fatalf("sign-in as %s: status %d\n%s", name, p.status, p.body)
	}
}

func (se *satEnv) satForm(csrf string, tweak ...func(url.Values)) url.Values {
	f := url.Values{"csrf_token": {csrf}, "name": {"ci service"}, "expiration": {"permanent"},
		"account": {"enterprise:" + se.acme.ID}, "perm": {"Workspace.list"}, "workspaces": {"all"}}
	for _, fn := range tweak {
		fn(f)
	}
	return f
}

func TestConsoleSATLifecycle(t *testing.T) {
	se := newSATEnv(t)
	b := se.browser()
	b.signIn()

	home := b.get("/console")
	wantBody(t, "home", home, `<a href="/console/sats">Service access tokens</a>`)

	list := b.get("/console/sats")
	wantStatus(t, "empty list", list, http.StatusOK)
	wantNoStore(t, "empty list", list)
	wantBody(t, "empty list", list, "<h1>Service access tokens</h1>", "<h2>Acme</h2>",
		"This enterprise has no service access tokens yet.", `action="/console/sats/new"`,
		`class="primary">Create token</button>`, `aria-current="page">Service access tokens</a>`)
	if strings.Contains(list.body, "Other Corp") || strings.Contains(list.body, "other&#39;s") {
		t.Error("alice's SAT list shows another enterprise")
	}

	np := b.get("/console/sats/new")
	wantStatus(t, "new", np, http.StatusOK)
	wantBody(t, "new", np, "New service access token", `<label for="name">Name</label>`,
		`<label for="expiration">Expiration</label>`, "<legend>Enterprise</legend>", ">Acme</label>",
		">Acme space</label>", `action="/console/sats"`, `<button type="submit" class="primary">Create</button>`)
	for _, not := range []string{">Personal</label>", ">Alpha space</label>", ">Other Corp</label>"} {
		if strings.Contains(np.body, not) {
			t.Errorf("new SAT form offers %q", not)
		}
	}

	// A validation error keeps what was typed, next to the field.
	bad := b.post("/console/sats", se.satForm(np.hidden().Get("csrf_token"), func(f url.Values) { f.Set("name", "") }))
	wantStatus(t, "create without name", bad, http.StatusBadRequest)
	wantBody(t, "create without name", bad, `id="name-error">Enter a name.</p>`, "<legend>Enterprise</legend>")

	created := b.post("/console/sats", se.satForm(np.hidden().Get("csrf_token")))
	wantStatus(t, "create", created, http.StatusOK)
	wantNoStore(t, "create", created)
	m := tokenInputRE.FindStringSubmatch(created.body)
	if m == nil || !strings.HasPrefix(m[1], credential.PrefixSAT) {
		t.Fatalf("created page shows no SAT:\n%s", created.body)
	}
	wantBody(t, "create", created, `<label for="token">Token</label>`, ">Copy</button>", `href="/console/sats">Back to Service access tokens</a>`)
	c, err := se.store.GetCredentialByHash(t.Context(), credential.Hash(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != store.KindSAT || c.Owner != (store.Owner{Type: store.OwnerEnterprise, ID: se.acme.ID}) || c.Name != "ci service" || c.ExpireAt != 0 {
		t.Errorf("stored SAT = %+v", c)
	}

	list = b.get("/console/sats")
	wantBody(t, "list", list, "ci service", "Never used", "Permanent", `href="/console/sats/`+c.ID+`/edit"`)
	if strings.Contains(list.body, m[1]) {
		t.Error("the list shows the token again")
	}
	if strings.Contains(b.get("/console/tokens").body, "ci service") {
		t.Error("the PAT list shows the SAT")
	}

	// Edit: rename, one selected workspace of the enterprise.
	edit := b.get("/console/sats/" + c.ID + "/edit")
	wantStatus(t, "edit", edit, http.StatusOK)
	wantBody(t, "edit", edit, `value="ci service"`, "<strong>Enterprise: </strong>Acme", `action="/console/sats/`+c.ID+`"`)
	up := b.post("/console/sats/"+c.ID, url.Values{"csrf_token": {edit.hidden().Get("csrf_token")}, "name": {"renamed"},
		"perm": {"Workspace.list"}, "workspaces": {"selected"}, "ws.enterprise:" + se.acme.ID: {se.acmeWS.ID}})
	wantStatus(t, "update", up, http.StatusSeeOther)
	if up.location() != "/console/sats?done=updated" {
		t.Errorf("update: Location = %q", up.location())
	}
	c, _ = se.store.GetCredential(t.Context(), c.ID)
	if c.Name != "renamed" || c.AllWorkspaces || strings.Join(c.WorkspaceIDs, ",") != se.acmeWS.ID {
		t.Errorf("after update: %+v", c)
	}

	// Delete through the confirmation.
	list = b.get("/console/sats")
	conf := b.post("/console/sats/"+c.ID+"/confirm-delete", url.Values{"csrf_token": {list.hidden().Get("csrf_token")}})
	wantStatus(t, "confirm", conf, http.StatusOK)
	wantBody(t, "confirm", conf, "Delete renamed?", ">Delete token</button>", `href="/console/sats"`)
	del := b.post("/console/sats/"+c.ID+"/delete", conf.hidden())
	wantStatus(t, "delete", del, http.StatusSeeOther)
	if _, err := se.store.GetCredential(t.Context(), c.ID); err == nil {
		t.Error("the SAT survived deletion")
	}
	wantBody(t, "after delete", b.get(del.location()), "Token deleted.")
}

func TestConsoleSATAccess(t *testing.T) {
	se := newSATEnv(t)

	// A Member of an enterprise (and a user of none) has no SAT pages.
	carol := se.browser()
	carol.loginAs("carol")
	if home := carol.get("/console"); strings.Contains(home.body, "Service access tokens") {
		t.Error("a Member sees the Service access tokens link")
	}
	carolList := carol.get("/console/tokens")
	for _, tc := range []struct {
		name, method, path string
		form               url.Values
	}{
		{"list", "GET", "/console/sats", nil},
		{"new", "GET", "/console/sats/new", nil},
		{"create", "POST", "/console/sats", nil},
		{"edit another enterprise's SAT", "GET", "/console/sats/" + se.otherSAT.ID + "/edit", nil},
	} {
		t.Run("member "+tc.name, func(t *testing.T) {
			var p page
			if tc.method == "GET" {
				p = carol.get(tc.path)
			} else {
				// With a valid token for the form: the refusal is 404, not CSRF.
				p = carol.post(tc.path, url.Values{"csrf_token": {carolList.hidden().Get("csrf_token")}})
			}
			if tc.method == "GET" {
				wantStatus(t, tc.name, p, http.StatusNotFound)
			} else if p.status != http.StatusNotFound && p.status != http.StatusForbidden {
				t.Errorf("%s: status %d, want 404 or 403", tc.name, p.status)
			}
		})
	}

	alice := se.browser()
	alice.signIn()
	np := alice.get("/console/sats/new")
	create := np.hidden().Get("csrf_token")
	created := alice.post("/console/sats", se.satForm(create))
	m := tokenInputRE.FindStringSubmatch(created.body)
	if m == nil {
		t.Fatalf("create: %s", created.body)
	}
	mine, _ := se.store.GetCredentialByHash(t.Context(), credential.Hash(m[1]))
	del := alice.get("/console/sats").hidden().Get("csrf_token") // the list has a delete button now
	edit := alice.get("/console/sats/" + mine.ID + "/edit")
	editCSRF := edit.hidden().Get("csrf_token")
	patDel := alice.get("/console/tokens").hidden().Get("csrf_token")
	theirs := se.otherSAT.ID
	for _, tc := range []struct {
		name, method, path string
		form               url.Values
		status             int
	}{
		{"create without CSRF", "POST", "/console/sats", se.satForm(""), http.StatusForbidden},
		{"create with the PAT form's token", "POST", "/console/sats", se.satForm(alice.get("/console/tokens/new").hidden().Get("csrf_token")), http.StatusForbidden},
		{"update without CSRF", "POST", "/console/sats/" + mine.ID, url.Values{"name": {"x"}}, http.StatusForbidden},
		{"confirm without CSRF", "POST", "/console/sats/" + mine.ID + "/confirm-delete", nil, http.StatusForbidden},
		{"delete without CSRF", "POST", "/console/sats/" + mine.ID + "/delete", nil, http.StatusForbidden},
		{"delete with the PAT list's token", "POST", "/console/sats/" + mine.ID + "/delete", url.Values{"csrf_token": {patDel}}, http.StatusForbidden},
		{"create in another enterprise", "POST", "/console/sats", se.satForm(create, func(f url.Values) {
			f.Set("account", "enterprise:"+se.other.ID)
		}), http.StatusBadRequest},
		{"edit another enterprise's SAT", "GET", "/console/sats/" + theirs + "/edit", nil, http.StatusNotFound},
		{"update another enterprise's SAT", "POST", "/console/sats/" + theirs,
			url.Values{"csrf_token": {editCSRF}, "name": {"stolen"}, "workspaces": {"all"}}, http.StatusNotFound},
		{"confirm another enterprise's SAT", "POST", "/console/sats/" + theirs + "/confirm-delete", url.Values{"csrf_token": {del}}, http.StatusNotFound},
		{"delete another enterprise's SAT", "POST", "/console/sats/" + theirs + "/delete", url.Values{"csrf_token": {del}}, http.StatusNotFound},
		{"a PAT through the SAT pages", "GET", "/console/sats/" + se.alicePAT.ID + "/edit", nil, http.StatusNotFound},
		{"a SAT through the PAT pages", "GET", "/console/tokens/" + mine.ID + "/edit", nil, http.StatusNotFound},
		{"delete a SAT through the PAT pages", "POST", "/console/tokens/" + mine.ID + "/delete", url.Values{"csrf_token": {patDel}}, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			if tc.method == "GET" {
				p = alice.get(tc.path)
			} else {
				p = alice.post(tc.path, tc.form)
			}
			wantStatus(t, tc.name, p, tc.status)
		})
	}
	if c, err := se.store.GetCredential(t.Context(), theirs); err != nil || c.Name != "other's" {
		t.Errorf("Other Corp's SAT after alice's attempts: %+v, %v", c, err)
	}
	if _, err := se.store.GetCredential(t.Context(), mine.ID); err != nil {
		t.Errorf("alice's SAT after refused posts: %v", err)
	}

	// Demoted to Member: the pages and the SAT are out of reach at once.
	if err := se.store.PutEnterpriseMember(t.Context(), store.EnterpriseMember{EnterpriseID: se.acme.ID, UserID: se.user.ID,
		Role: store.RoleMember, CreatedAt: time.Now().Unix()}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "after demotion", alice.get("/console/sats"), http.StatusNotFound)
	wantStatus(t, "edit after demotion", alice.get("/console/sats/"+mine.ID+"/edit"), http.StatusNotFound)
	if strings.Contains(alice.get("/console").body, "Service access tokens") {
		t.Error("a demoted admin still sees the link")
	}
}

func TestConsoleSATChinese(t *testing.T) {
	se := newSATEnv(t)
	b := se.browser()
	b.signIn()
	p := b.get("/console/sats?lang=zh-CN")
	wantStatus(t, "zh list", p, http.StatusOK)
	wantBody(t, "zh list", p, ">服务访问令牌</a>", "该企业还没有服务访问令牌。")
	wantBody(t, "zh new", b.get("/console/sats/new"), "添加服务访问令牌", "<legend>所属企业</legend>")
}

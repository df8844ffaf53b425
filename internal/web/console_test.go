package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

var tokenInputRE = regexp.MustCompile(`<input id="token" name="token" type="text" readonly value="([^"]+)"`)

// createForm is a valid create-token form; tweak changes it.
func (e *env) createForm(csrf string, tweak ...func(url.Values)) url.Values {
	f := url.Values{"csrf_token": {csrf}, "name": {"ci token"}, "expiration": {"30"},
		"account": {"personal:" + e.user.AccountID}, "perm": {"Workspace.list"}, "workspaces": {"all"}}
	for _, fn := range tweak {
		fn(f)
	}
	return f
}

func wantNoStore(t *testing.T, what string, p page) {
	t.Helper()
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", what, cc)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: CSP = %q", what, csp)
	}
}

func (b *browser) createToken(tweak ...func(url.Values)) (page, string) {
	b.e.t.Helper()
	np := b.get("/console/tokens/new")
	wantStatus(b.e.t, "GET /console/tokens/new", np, http.StatusOK)
	p := b.post("/console/tokens", b.e.createForm(np.hidden().Get("csrf_token"), tweak...))
	m := tokenInputRE.FindStringSubmatch(p.body)
	if m == nil {
		return p, ""
	}
	return p, m[1]
}

func TestConsoleSignInRequired(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, path := range []string{"/console", "/console/tokens", "/console/tokens/new", "/console/tokens/x/edit", "/console/apps"} {
		p := b.get(path)
		wantStatus(t, "GET "+path, p, http.StatusFound)
		if want := "/login?next=" + url.QueryEscape(path); p.location() != want {
			t.Errorf("GET %s: Location = %q, want %q", path, p.location(), want)
		}
	}
	wantStatus(t, "POST without a session", b.post("/console/tokens", e.createForm("x")), http.StatusForbidden)
	if p := b.login("alice", password, ""); p.location() != "/console" {
		t.Errorf("sign-in without next: Location = %q, want /console", p.location())
	}
	home := b.get("/console")
	wantStatus(t, "GET /console", home, http.StatusOK)
	wantNoStore(t, "GET /console", home)
	wantBody(t, "GET /console (getting started)", home, ">Getting started</h2>", `<a href="/console/tokens/new">Create a personal access token</a>`,
		`<a href="/console/apps/new">Create an OAuth app</a>`, ">Try a sample</a>")
	wantBody(t, "GET /console", home, `href="/console/tokens"`, ">Personal access tokens</a>", ">OAuth apps</a>",
		">Authorized apps</a>", ">Workspaces</a>", "Signed in as alice", ">Sign out</button>", ">简体中文</a>",
		`<script src="/static/console.js" defer></script>`)
	apps := b.get("/console/apps")
	wantStatus(t, "GET /console/apps", apps, http.StatusOK)
	wantBody(t, "GET /console/apps", apps, `class="primary">Create app</button>`, `aria-current="page">OAuth apps</a>`)
	wantStatus(t, "GET /console/nope", b.get("/console/nope"), http.StatusNotFound)
}

func TestConsoleTokenLifecycle(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()

	list := b.get("/console/tokens")
	wantStatus(t, "empty list", list, http.StatusOK)
	wantNoStore(t, "empty list", list)
	wantBody(t, "empty list", list, "You have no personal access tokens yet.", `action="/console/tokens/new"`, `class="primary">Create token</button>`)

	np := b.get("/console/tokens/new")
	wantNoStore(t, "new", np)
	wantBody(t, "new", np, `<label for="name">Name</label>`, `<label for="expiration">Expiration</label>`,
		`<option value="30" selected>30 days</option>`, `<option value="custom">Custom date</option>`,
		`<option value="permanent">Permanent</option>`, `<code>Workspace.list</code>`,
		"List the workspaces the credential can reach.", "<legend>Bots</legend>", ">All workspaces</label>",
		`<input type="checkbox" id="permgroup-0" name="perm_group" value="Bot" data-permgroup="permgroup-0">`,
		`<label for="permgroup-0">Select all: Bots</label>`, `data-group="permgroup-0" name="perm" value="Bot.chat"`,
		">Alpha space</label>", ">Personal</label>", `<button type="submit" class="primary">Create</button>`)

	created, tok := b.createToken()
	wantStatus(t, "create", created, http.StatusOK)
	wantNoStore(t, "create", created)
	if !strings.HasPrefix(tok, credential.PrefixPAT) {
		t.Fatalf("created page shows no token input:\n%s", created.body)
	}
	wantBody(t, "create", created, `<label for="token">Token</label>`, "It will not be shown again.", ">Copy</button>")
	c, err := e.store.GetCredentialByHash(t.Context(), credential.Hash(tok))
	if err != nil {
		t.Fatalf("the shown token is not stored: %v", err)
	}
	if c.Name != "ci token" || c.UserID != e.user.ID || !c.AllWorkspaces || strings.Join(c.Permissions, ",") != "Workspace.list" {
		t.Errorf("stored credential = %+v", c)
	}

	list = b.get("/console/tokens")
	wantBody(t, "list", list, "ci token", "Never used", `<time datetime="`, "Workspace.list")
	if strings.Contains(list.body, tok) {
		t.Error("the list shows the token again")
	}
	perm, _ := b.createToken(func(f url.Values) { f.Set("name", "forever"); f.Set("expiration", "permanent") })
	wantStatus(t, "create permanent", perm, http.StatusOK)
	wantBody(t, "list", b.get("/console/tokens"), "Permanent")

	// Edit: rename and switch to one selected workspace.
	edit := b.get("/console/tokens/" + c.ID + "/edit")
	wantStatus(t, "edit", edit, http.StatusOK)
	wantNoStore(t, "edit", edit)
	wantBody(t, "edit", edit, `value="ci token"`, `<button type="submit" class="primary">Save</button>`)
	up := b.post("/console/tokens/"+c.ID, url.Values{"csrf_token": {edit.hidden().Get("csrf_token")}, "name": {"renamed"},
		"perm": {"Workspace.list", "Bot.chat"}, "workspaces": {"selected"}, "ws.personal:" + e.user.AccountID: {e.ws.ID}})
	wantStatus(t, "update", up, http.StatusSeeOther)
	c, _ = e.store.GetCredential(t.Context(), c.ID)
	if c.Name != "renamed" || c.AllWorkspaces || strings.Join(c.WorkspaceIDs, ",") != e.ws.ID || len(c.Permissions) != 2 {
		t.Errorf("after update: %+v", c)
	}
	wantBody(t, "list after update", b.get(up.location()), "renamed", "Token saved.")

	// Delete: the list's button leads to a confirmation, which deletes.
	list = b.get("/console/tokens")
	conf := b.post("/console/tokens/"+c.ID+"/confirm-delete", url.Values{"csrf_token": {list.hidden().Get("csrf_token")}})
	wantStatus(t, "confirm", conf, http.StatusOK)
	wantBody(t, "confirm", conf, "Delete renamed?", ">Delete token</button>")
	if _, err := e.store.GetCredential(t.Context(), c.ID); err != nil {
		t.Fatalf("the confirmation page deleted the token: %v", err)
	}
	del := b.post("/console/tokens/"+c.ID+"/delete", url.Values{"csrf_token": {conf.hidden().Get("csrf_token")}})
	wantStatus(t, "delete", del, http.StatusSeeOther)
	if _, err := e.store.GetCredential(t.Context(), c.ID); err == nil {
		t.Error("the token still exists after delete")
	}
	wantBody(t, "list after delete", b.get(del.location()), "Token deleted.")
}

func TestConsoleTokenCSRFAndOwnership(t *testing.T) {
	e := newEnv(t)
	ids := &identity.Service{Store: e.store, Now: time.Now}
	bob, err := ids.CreateUser(t.Context(), "bob", password, "Bob")
	if err != nil {
		t.Fatal(err)
	}
	mgr := &credential.Manager{Store: e.store, Catalog: permission.Default(), Now: time.Now}
	theirs, err := mgr.Create(t.Context(), credential.Spec{Kind: store.KindPAT, Name: "bob's", UserID: bob.ID,
		Expiry: credential.Expiry{Days: 30}, Permissions: []string{"Workspace.list"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn()
	_, mine := b.createToken()
	mc, _ := e.store.GetCredentialByHash(t.Context(), credential.Hash(mine))
	list := b.get("/console/tokens")
	if strings.Contains(list.body, "bob&#39;s") {
		t.Error("alice's list shows bob's token")
	}
	del := list.hidden().Get("csrf_token")
	np := b.get("/console/tokens/new")
	edit := b.get("/console/tokens/" + mc.ID + "/edit")
	for _, tc := range []struct {
		name   string
		method string
		path   string
		form   url.Values
		status int
	}{
		{"create without CSRF", "POST", "/console/tokens", e.createForm(""), http.StatusForbidden},
		{"create with the delete form's token", "POST", "/console/tokens", e.createForm(del), http.StatusForbidden},
		{"update without CSRF", "POST", "/console/tokens/" + mc.ID, url.Values{"name": {"x"}}, http.StatusForbidden},
		{"confirm without CSRF", "POST", "/console/tokens/" + mc.ID + "/confirm-delete", nil, http.StatusForbidden},
		{"delete without CSRF", "POST", "/console/tokens/" + mc.ID + "/delete", nil, http.StatusForbidden},
		{"edit another user's token", "GET", "/console/tokens/" + theirs.Credential.ID + "/edit", nil, http.StatusNotFound},
		{"update another user's token", "POST", "/console/tokens/" + theirs.Credential.ID,
			url.Values{"csrf_token": {edit.hidden().Get("csrf_token")}, "name": {"stolen"}, "workspaces": {"all"}}, http.StatusNotFound},
		{"confirm another user's token", "POST", "/console/tokens/" + theirs.Credential.ID + "/confirm-delete",
			url.Values{"csrf_token": {del}}, http.StatusNotFound},
		{"delete another user's token", "POST", "/console/tokens/" + theirs.Credential.ID + "/delete",
			url.Values{"csrf_token": {del}}, http.StatusNotFound},
		{"edit a missing token", "GET", "/console/tokens/nope/edit", nil, http.StatusNotFound},
		{"cross-origin create", "POST", "/console/tokens", e.createForm(np.hidden().Get("csrf_token")), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			if tc.method == "GET" {
				p = b.get(tc.path)
			} else {
				var hdr []string
				if strings.HasPrefix(tc.name, "cross-origin") {
					hdr = []string{"Origin", "https://evil.example"}
				}
				p = b.post(tc.path, tc.form, hdr...)
			}
			wantStatus(t, tc.name, p, tc.status)
		})
	}
	if c, err := e.store.GetCredential(t.Context(), theirs.Credential.ID); err != nil || c.Name != "bob's" {
		t.Errorf("bob's token after alice's attempts: %+v, %v", c, err)
	}
	if _, err := e.store.GetCredential(t.Context(), mc.ID); err != nil {
		t.Errorf("alice's token after CSRF-less posts: %v", err)
	}
}

func TestConsoleTokenValidation(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	past := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
	for _, tc := range []struct {
		name  string
		tweak func(url.Values)
		want  []string
	}{
		{"empty name keeps the rest", func(f url.Values) { f.Set("name", "  "); f.Set("expiration", "90"); f.Add("perm", "Bot.chat") },
			[]string{`<p class="error" id="name-error">Enter a name.</p>`, `aria-invalid="true" aria-describedby="name-error"`,
				`<option value="90" selected>`, `name="perm" value="Bot.chat" checked`, `name="perm" value="Workspace.list" checked`}},
		{"long name", func(f url.Values) { f.Set("name", strings.Repeat("n", 101)) },
			[]string{`id="name-error">The name is too long`, `value="` + strings.Repeat("n", 101) + `"`}},
		{"unknown expiration", func(f url.Values) { f.Set("expiration", "7") }, []string{`id="expiration-error">Choose an expiration.`}},
		{"custom date missing", func(f url.Values) { f.Set("expiration", "custom") },
			[]string{`id="expiration-error">Enter the custom date`, `<option value="custom" selected>`}},
		{"custom date in the past", func(f url.Values) { f.Set("expiration", "custom"); f.Set("expire_date", past) },
			[]string{`id="expiration-error">The custom date must be in the future.`, `value="` + past + `"`}},
		{"foreign account", func(f url.Values) { f.Set("account", "enterprise:nope") }, []string{`id="account-error">`}},
		{"selected without workspaces", func(f url.Values) { f.Set("workspaces", "selected"); f.Set("name", "kept name") },
			[]string{`id="workspaces-error">Choose all workspaces`, `value="kept name"`, `value="selected" checked`}},
		{"workspace of nobody", func(f url.Values) {
			f.Set("workspaces", "selected")
			f.Set("ws.personal:"+e.user.AccountID, "no-such-ws")
		}, []string{`id="workspaces-error">`}},
		{"unknown permission", func(f url.Values) { f.Set("perm", "Nope.nope") }, []string{`id="permissions-error">`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, tok := b.createToken(tc.tweak)
			wantStatus(t, tc.name, p, http.StatusBadRequest)
			if tok != "" {
				t.Fatal("a token was shown")
			}
			wantBody(t, tc.name, p, append(tc.want, "The token was not saved.")...)
		})
	}
	creds, _ := e.store.ListCredentials(t.Context(), store.CredentialFilter{UserID: e.user.ID})
	if len(creds) != 0 {
		t.Errorf("%d credentials created by invalid forms", len(creds))
	}
	future := time.Now().UTC().AddDate(0, 0, 10).Format(time.DateOnly)
	p, tok := b.createToken(func(f url.Values) { f.Set("expiration", "custom"); f.Set("expire_date", future) })
	wantStatus(t, "custom date", p, http.StatusOK)
	c, err := e.store.GetCredentialByHash(t.Context(), credential.Hash(tok))
	if err != nil || time.Unix(c.ExpireAt, 0).UTC().Format(time.DateOnly) != future {
		t.Errorf("custom date: %+v, %v; want expiry on %s", c, err, future)
	}
}

func TestConsoleChinese(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	np := b.get("/console/tokens/new?lang=zh-CN")
	wantStatus(t, "zh-CN new", np, http.StatusOK)
	wantBody(t, "zh-CN new", np, `<html lang="zh-CN">`, `<label for="name">名称</label>`, `<label for="expiration">过期时间</label>`,
		"查看凭证可访问的工作空间列表。", ">个人访问令牌</a>", ">所有工作空间</label>", ">创建</button>", ">English</a>",
		"<legend>智能体</legend>", ">全选：智能体</label>", "<legend>会话和消息</legend>", "勾选“全选”即授予该组的全部权限。")
	// The choice is remembered; errors come in the same language.
	p, _ := b.createToken(func(f url.Values) { f.Set("name", "") })
	wantBody(t, "zh-CN error", p, "请输入名称。")
	wantBody(t, "zh-CN list", b.get("/console/tokens"), "你还没有个人访问令牌。", ">添加令牌</button>")
}

// TestConsolePermissionGroups: a group's "select all" box grants the whole
// group without JavaScript, is shown ticked when the whole group is, and an
// unknown group is refused like an unknown permission.
func TestConsolePermissionGroups(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	group := func(name string) []string {
		g, ok := permission.Default().Group(name)
		if !ok {
			t.Fatalf("no group %s", name)
		}
		var out []string
		for _, p := range g.Permissions {
			out = append(out, p.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		tweak  func(url.Values)
		want   []string // stored permissions, sorted; nil: refused
		render []string // on the page of a refused form
	}{
		{"one group", func(f url.Values) { f.Del("perm"); f.Set("perm_group", "Chat") }, group("Chat"), nil},
		{"group and boxes", func(f url.Values) {
			f["perm_group"] = []string{"Chat"}
			f["perm"] = []string{"Bot.chat", "Chat.getChat"}
		},
			append([]string{"Bot.chat"}, group("Chat")...), nil},
		{"two groups", func(f url.Values) { f.Del("perm"); f["perm_group"] = []string{"File", "Chat"} },
			append(group("Chat"), group("File")...), nil},
		{"unknown group", func(f url.Values) { f.Set("perm_group", "Nope") }, nil, []string{`id="permissions-error">`}},
		{"whole group ticked box by box", func(f url.Values) { f.Set("name", ""); f["perm"] = group("File") }, nil,
			[]string{`id="name-error">`, `value="File" data-permgroup="permgroup-3" checked>`, `name="perm" value="File.uploadFile" checked`}},
		{"part of a group", func(f url.Values) { f.Set("name", ""); f["perm"] = group("File")[:1] }, nil,
			[]string{`value="File" data-permgroup="permgroup-3">`, `name="perm" value="File.retrieveFile" checked`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, tok := b.createToken(tc.tweak)
			if tc.want == nil {
				wantStatus(t, tc.name, p, http.StatusBadRequest)
				wantBody(t, tc.name, p, tc.render...)
				return
			}
			c, err := e.store.GetCredentialByHash(t.Context(), credential.Hash(tok))
			if err != nil {
				t.Fatalf("no token stored: %v\n%s", err, p.body)
			}
			slices.Sort(tc.want)
			if got := strings.Join(c.Permissions, ","); got != strings.Join(tc.want, ",") {
				t.Errorf("permissions %s, want %s", got, strings.Join(tc.want, ","))
			}
		})
	}
}

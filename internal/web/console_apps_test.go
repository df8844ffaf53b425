package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/web"
)

var (
	secretInputRE = regexp.MustCompile(`<input id="secret" name="secret" type="text" readonly value="([^"]+)"`)
	secretAreaRE  = regexp.MustCompile(`(?s)<textarea id="secret" name="secret"[^>]*>(.*?)</textarea>`)
	appLinkRE     = regexp.MustCompile(`/console/apps/([0-9]+)\?done=`)
)

// appForm is a valid create-app form for typ; tweak changes it.
func (e *env) appForm(csrf string, typ store.ClientType, tweak ...func(url.Values)) url.Values {
	f := url.Values{"csrf_token": {csrf}, "name": {"my " + string(typ)}, "description": {"an app"},
		"client_type": {string(typ)}, "account": {"personal:" + e.user.AccountID}, "perm": {"Workspace.list"}}
	if oauth.UsesRedirect(typ) {
		f.Set("redirect_uris", "https://a.example/cb\nhttp://127.0.0.1:8080/cb\n")
	}
	for _, fn := range tweak {
		fn(f)
	}
	return f
}

func (b *browser) createApp(typ store.ClientType, tweak ...func(url.Values)) page {
	b.e.t.Helper()
	np := b.get("/console/apps/new")
	wantStatus(b.e.t, "GET /console/apps/new", np, http.StatusOK)
	return b.post("/console/apps", b.e.appForm(np.hidden().Get("csrf_token"), typ, tweak...))
}

// appByName finds alice's app named name.
func (e *env) appByName(name string) store.App {
	e.t.Helper()
	apps, err := e.store.ListAppsByOwner(e.t.Context(), e.user.Account())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range apps {
		if a.Name == name {
			return a
		}
	}
	e.t.Fatalf("no app named %q", name)
	return store.App{}
}

func TestConsoleAppCreate(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()

	np := b.get("/console/apps/new")
	wantNoStore(t, "new app", np)
	wantBody(t, "new app", np, `<legend id="client-type-legend">Client type</legend>`, `role="radiogroup"`,
		">Web backend</label>", "keeps a client secret", "PKCE", ">TV, device or command line</label>", ">Service</label>",
		"signs JWTs", `<label for="name">Name</label>`, `<label for="redirect-uris">Redirect URIs</label>`,
		"<code>Workspace.list</code>", ">Personal</label>", `<button type="submit" class="primary">Create</button>`)

	for _, tc := range []struct {
		name   string
		typ    store.ClientType
		secret bool
		uris   int
	}{
		{"web backend shows its first secret", store.ClientWebBackend, true, 2},
		{"single page", store.ClientSinglePageOrNative, false, 2},
		{"terminal ignores redirect URIs", store.ClientTerminal, false, 0},
		{"service", store.ClientService, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.createApp(tc.typ, func(f url.Values) { f.Set("redirect_uris", "https://a.example/cb\nhttp://127.0.0.1:8080/cb") })
			app := e.appByName("my " + string(tc.typ))
			if app.ClientType != tc.typ || len(app.RedirectURIs) != tc.uris || strings.Join(app.Permissions, ",") != "Workspace.list" ||
				app.Description != "an app" || app.CreatedBy != e.user.ID {
				t.Errorf("stored app = %+v", app)
			}
			if !tc.secret {
				wantStatus(t, "create", p, http.StatusSeeOther)
				if want := "/console/apps/" + app.ID + "?done=created"; p.location() != want {
					t.Errorf("Location = %q, want %q", p.location(), want)
				}
				wantBody(t, "app page", b.get(p.location()), "App created.", app.ClientID)
				return
			}
			wantStatus(t, "create", p, http.StatusOK)
			wantNoStore(t, "create", p)
			m := secretInputRE.FindStringSubmatch(p.body)
			if m == nil || !strings.HasPrefix(m[1], "czs_") {
				t.Fatalf("no secret shown:\n%s", p.body)
			}
			wantBody(t, "create", p, `<label for="secret">Client secret</label>`, "It will not be shown again.", ">Copy</button>", app.ClientID)
			if _, err := e.store.GetAppSecretByHash(t.Context(), app.ID, credential.Hash(m[1])); err != nil {
				t.Errorf("the shown secret is not stored: %v", err)
			}
			show := b.get("/console/apps/" + app.ID)
			if strings.Contains(show.body, m[1]) {
				t.Error("the app page shows the secret again")
			}
			wantBody(t, "app page", show, "czs_…"+m[1][len(m[1])-4:], ">Add secret</button>")
		})
	}

	list := b.get("/console/apps")
	wantBody(t, "list", list, "my WebBackend", "Single-page or native app", "my Service", "Active", "Demo App")
}

func TestConsoleAppCreateErrors(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, tc := range []struct {
		name  string
		tweak func(url.Values)
		want  []string
	}{
		{"no name", func(f url.Values) { f.Set("name", " ") }, []string{`id="name-error">Enter a name.`, `aria-invalid="true"`}},
		{"no client type", func(f url.Values) { f.Del("client_type") }, []string{`id="client-type-error">Choose a client type.`}},
		{"bad redirect URI", func(f url.Values) { f.Set("redirect_uris", "https://ok.example/cb\nhttp://evil.example/cb") },
			[]string{"This redirect URI is not allowed", "<code class=\"detail\">http://evil.example/cb</code>",
				"https://ok.example/cb\nhttp://evil.example/cb</textarea>"}},
		{"no redirect URI", func(f url.Values) { f.Set("redirect_uris", "\n") }, []string{"Enter at least one redirect URI."}},
		{"foreign account", func(f url.Values) { f.Set("account", "enterprise:nope") }, []string{`id="account-error"`}},
		{"unknown permission", func(f url.Values) { f.Add("perm", "Nope.nope") }, []string{`id="permissions-error"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.createApp(store.ClientWebBackend, func(f url.Values) { f.Set("description", "kept text") }, tc.tweak)
			wantStatus(t, "create", p, http.StatusBadRequest)
			wantBody(t, "create", p, append(tc.want, "The app was not saved.", ">kept text</textarea>",
				`value="Workspace.list" checked`)...)
		})
	}
	apps, _ := e.store.ListAppsByOwner(t.Context(), e.user.Account())
	if len(apps) != 2 { // Demo App and TV App
		t.Errorf("%d apps stored after refusals", len(apps))
	}
}

func TestConsoleAppManage(t *testing.T) {
	var invalidated atomic.Int32
	e := newEnv(t, func(h *web.Handler) { h.Invalidate = func() { invalidated.Add(1) } })
	b := e.browser()
	b.signIn()
	path := "/console/apps/" + e.app.ID
	show := b.get(path)
	wantStatus(t, "show", show, http.StatusOK)
	wantNoStore(t, "show", show)
	wantBody(t, "show", show, "Demo App", e.app.ClientID, "Client secrets", ">Add secret</button>", `>Save</button>`,
		">Deactivate</button>", ">Delete app</button>")
	h := show.hidden()
	editCSRF := regexp.MustCompile(`action="` + path + `" novalidate>\s*<input type="hidden" name="csrf_token" value="([^"]+)"`).FindStringSubmatch(show.body)
	if editCSRF == nil {
		t.Fatalf("no edit form:\n%s", show.body)
	}
	actionCSRF := h.Get("csrf_token") // the last form's: an app action
	edit := func(tweak func(url.Values)) page {
		f := url.Values{"csrf_token": {html.UnescapeString(editCSRF[1])}, "name": {"Renamed"}, "description": {"new"},
			"redirect_uris": {"https://new.example/cb"}, "perm": {"Bot.chat"}}
		if tweak != nil {
			tweak(f)
		}
		return b.post(path, f)
	}

	bad := edit(func(f url.Values) { f.Set("redirect_uris", "https://x.example/cb#frag") })
	wantStatus(t, "edit bad URI", bad, http.StatusBadRequest)
	wantBody(t, "edit bad URI", bad, "This redirect URI is not allowed", "https://x.example/cb#frag</textarea>", `value="Renamed"`)
	wantStatus(t, "edit with a create token", b.post(path, url.Values{"csrf_token": {actionCSRF}, "name": {"x"}}), http.StatusForbidden)

	ok := edit(nil)
	wantStatus(t, "edit", ok, http.StatusSeeOther)
	a, _ := e.store.GetApp(t.Context(), e.app.ID)
	if a.Name != "Renamed" || a.Description != "new" || strings.Join(a.RedirectURIs, ",") != "https://new.example/cb" ||
		strings.Join(a.Permissions, ",") != "Bot.chat" {
		t.Errorf("after edit: %+v", a)
	}
	if invalidated.Load() == 0 {
		t.Error("edit did not call Invalidate")
	}
	// The picker's "select all" box grants its whole group, and the page then shows it ticked.
	wantStatus(t, "edit with a group", edit(func(f url.Values) { f.Set("perm_group", "File") }), http.StatusSeeOther)
	a, _ = e.store.GetApp(t.Context(), e.app.ID)
	if got := strings.Join(a.Permissions, ","); got != "Bot.chat,File.retrieveFile,File.uploadFile" {
		t.Errorf("after edit with a group: %s", got)
	}
	wantBody(t, "show after a group", b.get(path), `name="perm_group" value="File" data-permgroup="permgroup-3" checked>`,
		`name="perm_group" value="Bot" data-permgroup="permgroup-0">`, "<legend>Files</legend>")

	// Secrets: add (shown once), list masked, delete.
	added := b.post(path+"/secrets", url.Values{"csrf_token": {actionCSRF}})
	wantStatus(t, "add secret", added, http.StatusOK)
	m := secretInputRE.FindStringSubmatch(added.body)
	if m == nil {
		t.Fatalf("no secret shown:\n%s", added.body)
	}
	secs, _ := e.store.ListAppSecrets(t.Context(), e.app.ID)
	if len(secs) != 1 || secs[0].Hint != m[1][len(m[1])-4:] {
		t.Fatalf("secrets = %+v", secs)
	}
	wantBody(t, "list secrets", b.get(path), "czs_…"+secs[0].Hint, "Delete secret czs_…"+secs[0].Hint)
	// Deleting asks first; for a web app's last secret the page says the app stops getting tokens.
	wantBody(t, "confirm delete last secret", b.post(path+"/secrets/"+secs[0].ID+"/confirm-delete", url.Values{"csrf_token": {actionCSRF}}),
		"Delete client secret czs_…"+secs[0].Hint+"?", "is this app&#39;s last client secret", `action="`+path+"/secrets/"+secs[0].ID+`/delete"`,
		">Delete secret</button>", `href="`+path+`">Cancel</a>`)
	wantStatus(t, "confirm delete unknown secret", b.post(path+"/secrets/nope/confirm-delete", url.Values{"csrf_token": {actionCSRF}}), http.StatusNotFound)
	wantStatus(t, "delete secret", b.post(path+"/secrets/"+secs[0].ID+"/delete", url.Values{"csrf_token": {actionCSRF}}), http.StatusSeeOther)
	if secs, _ := e.store.ListAppSecrets(t.Context(), e.app.ID); len(secs) != 0 {
		t.Errorf("secret not deleted: %+v", secs)
	}
	wantStatus(t, "generate a key on a web app", b.post(path+"/keys/generate", url.Values{"csrf_token": {actionCSRF}}), http.StatusNotFound)

	// Deactivate and delete, each after a confirmation page.
	conf := b.post(path+"/confirm-deactivate", url.Values{"csrf_token": {actionCSRF}})
	wantBody(t, "confirm deactivate", conf, "Deactivate Renamed?", ">Deactivate app</button>")
	wantStatus(t, "deactivate", b.post(path+"/deactivate", url.Values{"csrf_token": {actionCSRF}}), http.StatusSeeOther)
	if a, _ := e.store.GetApp(t.Context(), e.app.ID); a.Active {
		t.Error("app still active")
	}
	deact := b.get(path)
	wantBody(t, "deactivated", deact, "This app is deactivated", ">Reactivate</button>")
	for _, action := range []string{"/secrets\"", "/confirm-deactivate\""} {
		if strings.Contains(deact.body, action) {
			t.Errorf("a deactivated app's page offers %s", action)
		}
	}
	wantStatus(t, "add secret to a deactivated app", b.post(path+"/secrets", url.Values{"csrf_token": {actionCSRF}}), http.StatusConflict)
	if secs, _ := e.store.ListAppSecrets(t.Context(), e.app.ID); len(secs) != 0 {
		t.Errorf("a deactivated app got a secret: %+v", secs)
	}
	// Reactivate: the app is active again and offers its actions.
	react := b.post(path+"/activate", url.Values{"csrf_token": {actionCSRF}})
	wantStatus(t, "reactivate", react, http.StatusSeeOther)
	wantBody(t, "reactivated", b.get(react.location()), "App reactivated.", ">Add secret</button>", ">Deactivate</button>")
	if a, _ := e.store.GetApp(t.Context(), e.app.ID); !a.Active {
		t.Error("app not reactivated")
	}
	wantStatus(t, "deactivate again", b.post(path+"/deactivate", url.Values{"csrf_token": {actionCSRF}}), http.StatusSeeOther)
	wantBody(t, "confirm delete", b.post(path+"/confirm-delete", url.Values{"csrf_token": {actionCSRF}}), "Delete Renamed?")
	del := b.post(path+"/delete", url.Values{"csrf_token": {actionCSRF}})
	wantStatus(t, "delete", del, http.StatusSeeOther)
	if _, err := e.store.GetApp(t.Context(), e.app.ID); err == nil {
		t.Error("app not deleted")
	}
	wantStatus(t, "show deleted", b.get(path), http.StatusNotFound)
	wantBody(t, "list after delete", b.get(del.location()), "App deleted.")
}

func TestConsoleServiceApp(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	p := b.createApp(store.ClientService)
	loc := appLinkRE.FindStringSubmatch(p.location())
	if loc == nil {
		t.Fatalf("create: Location %q", p.location())
	}
	path := "/console/apps/" + loc[1]
	show := b.get(path)
	wantBody(t, "service app", show, "Public keys", `<label for="public-key">Public key (PEM)</label>`, ">Add public key</button>",
		">Generate key pair</button>", ">Authorize for my account</button>")
	if strings.Contains(show.body, "Add secret") {
		t.Error("a Service app offers client secrets")
	}
	csrf := show.hidden().Get("csrf_token")

	gen := b.post(path+"/keys/generate", url.Values{"csrf_token": {csrf}})
	wantStatus(t, "generate", gen, http.StatusOK)
	wantNoStore(t, "generate", gen)
	m := secretAreaRE.FindStringSubmatch(gen.body)
	if m == nil || !strings.Contains(m[1], "BEGIN PRIVATE KEY") {
		t.Fatalf("no private key shown:\n%s", gen.body)
	}
	block, _ := pem.Decode([]byte(html.UnescapeString(m[1])))
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		t.Fatalf("shown key is not PKCS#8: %v", err)
	}
	wantBody(t, "generate", gen, `<label for="secret">Private key</label>`, ">Download</button>", "It will not be shown again")
	keys, _ := e.store.ListAppKeys(t.Context(), loc[1])
	if len(keys) != 1 {
		t.Fatalf("keys = %+v", keys)
	}
	wantBody(t, "generate shows the public key ID (kid)", gen, "Public key ID (the JWT kid)", `id="key-id" name="key_id" type="text" readonly value="`+keys[0].ID+`"`)
	after := b.get(path)
	wantBody(t, "keys listed", after, keys[0].ID)
	if strings.Contains(after.body, "PRIVATE KEY") {
		t.Error("the app page shows the private key")
	}

	// Upload: a private key and junk are refused, with the text kept; a public key is added.
	for _, tc := range []struct {
		name, pem string
		status    int
		want      string
	}{
		{"junk", "not a key", http.StatusBadRequest, "not a key</textarea>"},
		{"private key", html.UnescapeString(m[1]), http.StatusBadRequest, `aria-invalid="true"></textarea>`},
		{"same key again", keys[0].PublicKeyPEM, http.StatusBadRequest, `aria-invalid="true">-----BEGIN PUBLIC KEY-----`},
		{"public key", newPublicPEM(t), http.StatusSeeOther, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post(path+"/keys", url.Values{"csrf_token": {csrf}, "public_key": {tc.pem}})
			wantStatus(t, "upload", p, tc.status)
			if tc.status == http.StatusBadRequest {
				msg := "This is not a usable public key"
				if tc.name == "same key again" {
					msg = "This public key is already registered."
				}
				wantBody(t, "upload", p, msg, tc.want)
				if strings.Contains(p.body, "BEGIN PRIVATE KEY") {
					t.Error("the page echoes a private key")
				}
			}
		})
	}
	if keys, _ = e.store.ListAppKeys(t.Context(), loc[1]); len(keys) != 2 {
		t.Fatalf("keys after upload = %d", len(keys))
	}
	wantStatus(t, "delete key", b.post(path+"/keys/"+keys[0].ID+"/delete", url.Values{"csrf_token": {csrf}}), http.StatusSeeOther)
	if keys, _ = e.store.ListAppKeys(t.Context(), loc[1]); len(keys) != 1 {
		t.Errorf("keys after delete = %d", len(keys))
	}

	// Authorize for my account → an AppAuth grant on all workspaces, shown in Authorized apps.
	wantStatus(t, "authorize", b.post(path+"/authorize", url.Values{"csrf_token": {csrf}}), http.StatusSeeOther)
	gs, _ := e.store.ListGrants(t.Context(), store.GrantFilter{AppID: loc[1], UserID: e.user.ID, Kind: store.GrantAppAuth})
	if len(gs) != 1 || !gs[0].AllWorkspaces {
		t.Fatalf("grants = %+v", gs)
	}
	wantBody(t, "authorized", b.get(path), "Authorized for your personal account.")
	wantBody(t, "authorized list", b.get("/console/authorized"), "my Service", "As itself", "All workspaces")
}

func newPublicPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestConsoleAppAccess: apps of other people and of enterprises the user
// does not administer are 404; apps of enterprises they administer are theirs.
func TestConsoleAppAccess(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ids := &identity.Service{Store: e.store, Now: time.Now}
	if _, err := ids.CreateUser(ctx, "bob", password, "Bob"); err != nil {
		t.Fatal(err)
	}
	member, err := ids.CreateEnterprise(ctx, "Member Corp", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.AddEnterpriseMember(ctx, member.ID, "alice", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	admin, err := ids.CreateEnterprise(ctx, "Admin Corp", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.AddEnterpriseMember(ctx, admin.ID, "alice", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	bob, _ := e.store.GetUserByUsername(ctx, "bob")
	mk := func(name string, owner store.Owner) store.App {
		a, _, err := e.oauth.CreateApp(ctx, oauth.AppSpec{Owner: owner, CreatedBy: bob.ID, Type: store.ClientTerminal, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	bobs := mk("Bob personal", bob.Account())
	memberApp := mk("Member Corp app", store.Owner{Type: store.OwnerEnterprise, ID: member.ID})
	adminApp := mk("Admin Corp app", store.Owner{Type: store.OwnerEnterprise, ID: admin.ID})

	b := e.browser()
	b.signIn()
	list := b.get("/console/apps")
	wantBody(t, "list", list, "Admin Corp app", "Admin Corp")
	for _, hidden := range []string{"Bob personal", "Member Corp app"} {
		if strings.Contains(list.body, hidden) {
			t.Errorf("the list shows %q", hidden)
		}
	}
	wantBody(t, "new", b.get("/console/apps/new"), ">Admin Corp</label>")
	csrf := b.get("/console/apps/" + adminApp.ID).hidden().Get("csrf_token")
	for _, tc := range []struct {
		name, method, path string
		status             int
	}{
		{"admin enterprise app", "GET", "/console/apps/" + adminApp.ID, http.StatusOK},
		{"other's personal app", "GET", "/console/apps/" + bobs.ID, http.StatusNotFound},
		{"member enterprise app", "GET", "/console/apps/" + memberApp.ID, http.StatusNotFound},
		{"missing app", "GET", "/console/apps/nope", http.StatusNotFound},
		{"delete other's app", "POST", "/console/apps/" + bobs.ID + "/delete", http.StatusNotFound},
		{"deactivate member app", "POST", "/console/apps/" + memberApp.ID + "/deactivate", http.StatusNotFound},
		{"delete without CSRF", "POST-nocsrf", "/console/apps/" + adminApp.ID + "/delete", http.StatusForbidden},
		{"authorize an enterprise app", "POST", "/console/apps/" + adminApp.ID + "/authorize", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p page
			switch tc.method {
			case "GET":
				p = b.get(tc.path)
			case "POST":
				p = b.post(tc.path, url.Values{"csrf_token": {csrf}})
			default:
				p = b.post(tc.path, url.Values{})
			}
			wantStatus(t, tc.path, p, tc.status)
		})
	}
	for _, a := range []store.App{bobs, memberApp, adminApp} {
		if got, err := e.store.GetApp(ctx, a.ID); err != nil || !got.Active {
			t.Errorf("%s changed: %+v %v", a.Name, got, err)
		}
	}
}

func TestConsoleAuthorizedRevoke(t *testing.T) {
	var invalidated atomic.Int32
	e := newEnv(t, func(h *web.Handler) { h.Invalidate = func() { invalidated.Add(1) } })
	ctx := t.Context()
	ids := &identity.Service{Store: e.store, Now: time.Now}
	bob, err := ids.CreateUser(ctx, "bob", password, "Bob")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	mine, err := e.store.PutGrant(ctx, store.Grant{ID: store.NewID(), AppID: e.app.ID, Kind: store.GrantOBO, UserID: e.user.ID,
		Owner: e.user.Account(), Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{e.ws.ID}, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := e.store.PutGrant(ctx, store.Grant{ID: store.NewID(), AppID: e.device.ID, Kind: store.GrantOBO, UserID: bob.ID,
		Owner: bob.Account(), Permissions: []string{"Bot.chat"}, AllWorkspaces: true, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	tok := store.OAuthToken{ID: store.NewID(), Hash: credential.Hash("x"), Kind: store.TokenAccess, AppID: e.app.ID,
		GrantID: mine.ID, FamilyID: store.NewID(), ExpiresAt: now + 900, CreatedAt: now}
	if err := e.store.CreateOAuthTokens(ctx, tok); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	b.signIn()
	list := b.get("/console/authorized")
	wantStatus(t, "list", list, http.StatusOK)
	wantNoStore(t, "list", list)
	wantBody(t, "list", list, "Demo App", "On your behalf", "Personal", "Alpha space", "<code>Bot.chat</code>",
		`aria-label="Revoke Demo App">Revoke</button>`)
	if strings.Contains(list.body, "TV App") {
		t.Error("the list shows bob's grant")
	}
	csrf := list.hidden().Get("csrf_token")
	wantBody(t, "confirm revoke", b.post("/console/authorized/"+mine.ID+"/confirm-revoke", url.Values{"csrf_token": {csrf}}),
		"Revoke the authorization of Demo App?", `action="/console/authorized/`+mine.ID+`/revoke"`)
	wantStatus(t, "confirm revoke of bob's grant", b.post("/console/authorized/"+bobs.ID+"/confirm-revoke", url.Values{"csrf_token": {csrf}}), http.StatusNotFound)
	if _, err := e.store.GetGrant(ctx, mine.ID); err != nil {
		t.Fatalf("the confirmation page revoked the grant: %v", err)
	}
	for _, tc := range []struct {
		name   string
		id     string
		form   url.Values
		status int
	}{
		{"no CSRF", mine.ID, url.Values{}, http.StatusForbidden},
		{"other user's grant", bobs.ID, url.Values{"csrf_token": {csrf}}, http.StatusNotFound},
		{"missing grant", "nope", url.Values{"csrf_token": {csrf}}, http.StatusNotFound},
		{"own grant", mine.ID, url.Values{"csrf_token": {csrf}}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, "revoke", b.post("/console/authorized/"+tc.id+"/revoke", tc.form), tc.status)
		})
	}
	if _, err := e.store.GetGrant(ctx, mine.ID); err == nil {
		t.Error("grant not deleted")
	}
	if _, err := e.store.GetGrant(ctx, bobs.ID); err != nil {
		t.Errorf("bob's grant: %v", err)
	}
	if got, err := e.store.GetOAuthTokenByHash(ctx, tok.Hash); err == nil && got.RevokedAt == 0 {
		t.Error("the grant's token is not revoked")
	}
	if invalidated.Load() == 0 {
		t.Error("revoke did not call Invalidate")
	}
	wantBody(t, "after revoke", b.get("/console/authorized?done=revoked"), "Authorization revoked.", "You have not authorized any apps.")
}

func TestConsoleWorkspaces(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	p := b.get("/console/workspaces")
	wantStatus(t, "workspaces", p, http.StatusOK)
	wantBody(t, "workspaces", p, `aria-current="page">Workspaces</a>`, "Alpha space", e.ws.ID, "<td>Owner</td>", "<td>Personal</td>")
	zh := b.get("/console/workspaces?lang=zh-CN")
	wantBody(t, "workspaces zh", zh, "你的角色", "<td>所有者</td>", "<td>个人账号</td>")
	if strings.Contains(p.body, "<form method=\"post\" action=\"/console/workspaces") {
		t.Error("the workspaces page has a form")
	}
}

// TestConsoleAppsChinese: the new pages speak Chinese too.
func TestConsoleAppsChinese(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, path := range []string{"/console/apps", "/console/apps/new", "/console/apps/" + e.app.ID, "/console/authorized"} {
		p := b.get(path + "?lang=zh-CN")
		wantStatus(t, path, p, http.StatusOK)
		for _, en := range []string{"Create app", "Client type", "Add secret", "Authorized apps", "Redirect URIs"} {
			if strings.Contains(p.body, ">"+en+"<") {
				t.Errorf("%s in Chinese shows %q", path, en)
			}
		}
	}
	wantBody(t, "new zh", b.get("/console/apps/new?lang=zh-CN"), "客户端类型", "重定向 URL")
}

// TestConsoleAppEnvAndListActions: the app page lists the environment
// variables the seed snippets read, with this app's values; the app list has
// view, sample and delete actions on each row (issue 12.4).
func TestConsoleAppEnvAndListActions(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, tc := range []struct {
		app  store.App
		want []string
	}{
		{e.app, []string{"export COZE_API_BASE=&#39;http://x&#39;", "export COZE_WEB_OAUTH_CLIENT_ID=&#39;" + e.app.ClientID + "&#39;",
			"export COZE_WEB_OAUTH_CLIENT_SECRET=&#39;&lt;your client secret&gt;&#39;", "export COZE_WEB_OAUTH_REDIRECT_URI=&#39;" + redirectURI + "&#39;"}},
		{e.device, []string{"export COZE_DEVICE_OAUTH_CLIENT_ID=&#39;" + e.device.ClientID + "&#39;"}},
	} {
		wantBody(t, string(tc.app.ClientType), b.get("/console/apps/"+tc.app.ID), tc.want...)
	}
	svc := b.createApp(store.ClientService)
	wantStatus(t, "create service app", svc, http.StatusSeeOther)
	path := svc.location()
	if i := strings.Index(path, "?"); i >= 0 {
		path = path[:i]
	}
	wantBody(t, "service app without a key", b.get(path), "COZE_JWT_OAUTH_PUBLIC_KEY_ID=&#39;&lt;add a public key first&gt;&#39;",
		"COZE_JWT_OAUTH_PRIVATE_KEY_FILE_PATH=&#39;private_key.pem&#39;")
	page := b.get(path)
	gen := b.post(path+"/keys/generate", url.Values{"csrf_token": {formCSRF(t, page, path+"/keys/generate")}})
	wantStatus(t, "generate key", gen, http.StatusOK)
	a := e.appByName("my Service")
	keys, _ := e.store.ListAppKeys(t.Context(), a.ID)
	if len(keys) != 1 {
		t.Fatalf("keys = %v", keys)
	}
	wantBody(t, "service app with a key", b.get(path), "COZE_JWT_OAUTH_PUBLIC_KEY_ID=&#39;"+keys[0].ID+"&#39;",
		"COZE_JWT_OAUTH_CLIENT_ID=&#39;"+a.ClientID+"&#39;")

	list := b.get("/console/apps")
	wantBody(t, "list actions", list, `aria-label="Delete Demo App">Delete</button>`, `action="/console/apps/`+e.app.ID+`/confirm-delete"`,
		`aria-label="Download sample of Demo App"`)
	confirm := b.post("/console/apps/"+e.app.ID+"/confirm-delete", url.Values{"csrf_token": {formCSRF(t, list, "/console/apps/"+e.app.ID+"/confirm-delete")}})
	wantBody(t, "confirm from the list", confirm, "Delete Demo App?")
}

package enterprise_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// world is one process of cozeauth assembled as the server does (one cache
// generation for every cache, the enterprise service invalidating it), over
// a real store, with the seed's cast:
//
//	alice: personal workspaces ws (bot "bot") and other; SuperAdmin of Acme
//	bob:   Admin of Acme with a personal workspace of his own
//	carol: Member of Acme
type world struct {
	t     *testing.T
	ctx   context.Context
	db    *sqlstore.DB
	ids   *identity.Service
	creds *credential.Manager
	oa    *oauth.Service
	ent   *enterprise.Service
	az    *authz.Authorizer

	alice, bob, carol store.User
	acme              store.Enterprise
	ws, other, bobWS  store.Workspace
}

// openStore opens SQLite in a temp dir. (Both backends' share of this — the
// migration's transaction, its compare-and-swap, the cascades — is in the
// store conformance suite; the e2e scenario runs on both.)
func openStore(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := openStore(t)
	ctx := context.Background()
	gen := &cache.Generation{}
	cat := permission.Default()
	w := &world{t: t, ctx: ctx, db: db, ids: &identity.Service{Store: db, Now: time.Now}}
	w.creds = &credential.Manager{Store: db, Catalog: cat, Now: time.Now}
	w.oa = (&oauth.Service{Store: db, Catalog: cat, Lifetimes: oauth.DefaultLifetimes(), PublicURL: "http://auth.test",
		Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Init(gen)
	w.ent = &enterprise.Service{Store: db, OAuth: w.oa, Catalog: cat, Now: time.Now, Changed: gen.Invalidate}
	w.az = &authz.Authorizer{Catalog: cat, Facts: authz.NewFacts(db, gen), Now: time.Now, Others: []authz.TokenResolver{w.oa},
		Verifier: &credential.Verifier{Store: db, Cache: cache.New[string, *credential.Verified](gen, 1000)}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.alice, err = w.ids.CreateUser(ctx, "alice", "password-1", "")
	must(err)
	w.bob, err = w.ids.CreateUser(ctx, "bob", "password-2", "")
	must(err)
	w.carol, err = w.ids.CreateUser(ctx, "carol", "password-3", "")
	must(err)
	w.acme, err = w.ids.CreateEnterprise(ctx, "Acme", "alice")
	must(err)
	must(w.ids.AddEnterpriseMember(ctx, w.acme.ID, "bob", store.RoleAdmin))
	must(w.ids.AddEnterpriseMember(ctx, w.acme.ID, "carol", store.RoleMember))
	w.ws, err = w.ids.CreateWorkspace(ctx, "Alice's space", "alice", "")
	must(err)
	w.other, err = w.ids.CreateWorkspace(ctx, "Alice's other space", "alice", "")
	must(err)
	w.bobWS, err = w.ids.CreateWorkspace(ctx, "Bob's space", "bob", "")
	must(err)
	_, err = w.ids.CreateResource(ctx, w.ws.ID, "bot", "bot")
	must(err)
	return w
}

func (w *world) acmeOwner() store.Owner {
	return store.Owner{Type: store.OwnerEnterprise, ID: w.acme.ID}
}

// pat creates a PAT (in the enterprise when ent is set) and returns its token.
func (w *world) pat(u store.User, ent string, all bool, wsIDs []string, perms ...string) (store.Credential, string) {
	w.t.Helper()
	c, err := w.creds.Create(w.ctx, credential.Spec{Kind: store.KindPAT, Name: "pat", UserID: u.ID, EnterpriseID: ent,
		Expiry: credential.Expiry{Days: 30}, Permissions: perms, AllWorkspaces: all, WorkspaceIDs: wsIDs})
	if err != nil {
		w.t.Fatal(err)
	}
	return c.Credential, c.Token
}

// jwtApp is a Service app owned by owner with a generated key.
type jwtApp struct {
	app  store.App
	kid  string
	priv *rsa.PrivateKey
	n    atomic.Int64
}

func (w *world) jwtApp(owner store.User, perms ...string) *jwtApp {
	w.t.Helper()
	app, _, err := w.oa.CreateApp(w.ctx, oauth.AppSpec{Owner: owner.Account(), CreatedBy: owner.ID, Type: store.ClientService,
		Name: "svc-" + owner.Username, Permissions: perms})
	if err != nil {
		w.t.Fatal(err)
	}
	key, privPEM, err := w.oa.GenerateKey(w.ctx, app.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(privPEM))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		w.t.Fatal(err)
	}
	return &jwtApp{app: app, kid: key.ID, priv: k.(*rsa.PrivateKey)}
}

// token runs the JWT grant on path ("/token", "/account/ID/token",
// "/enterprise_id/ID/token") through the real handler. Safe for concurrent use.
func (w *world) token(a *jwtApp, path string) (string, error) {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": a.app.ClientID, "aud": "auth.test",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": fmt.Sprintf("jti-%d-%d", now.UnixNano(), a.n.Add(1))})
	tok.Header["kid"] = a.kid
	signed, err := tok.SignedString(a.priv)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]any{"grant_type": oauth.GrantTypeJWTBearer})
	req := httptest.NewRequestWithContext(w.ctx, http.MethodPost, "/api/permission/oauth2"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+signed)
	req.Header.Set("Content-Type", "application/json")
	if strings.Contains(path, "/account/") {
		req.SetPathValue("account_id", strings.Split(path, "/")[2])
	}
	if strings.Contains(path, "/enterprise_id/") {
		req.SetPathValue("enterprise_id", strings.Split(path, "/")[2])
	}
	rec := httptest.NewRecorder()
	w.oa.Token(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Code != http.StatusOK {
		return "", fmt.Errorf("token %s: %d %v", path, rec.Code, out)
	}
	return out["access_token"].(string), nil
}

func (w *world) mustToken(a *jwtApp, path string) string {
	w.t.Helper()
	tok, err := w.token(a, path)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// check decides perm on (typ, id) for the bearer token, as the authz check
// endpoint does.
func (w *world) check(token, perm, typ, id string) (permission.Code, error) {
	p, d, err := w.az.Authenticate(w.ctx, token)
	if err != nil || !d.OK() {
		return d.Code, err
	}
	pp, _ := w.az.Catalog.Lookup(perm)
	d, err = w.az.Check(w.ctx, p, pp, &authz.ResourceRef{Type: typ, ID: id}, "")
	return d.Code, err
}

func (w *world) wantCheck(what, token, perm, typ, id string, want permission.Code) {
	w.t.Helper()
	got, err := w.check(token, perm, typ, id)
	if err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
	if got != want {
		w.t.Errorf("%s: %s on %s %s = %d, want %d", what, perm, typ, id, got, want)
	}
}

func (w *world) botChat(what, token string, want permission.Code) {
	w.t.Helper()
	w.wantCheck(what, token, "Bot.chat", "bot", "bot", want)
}

// TestMigrationStory plays the seed page in one process: credentials of every
// kind before and after the move, the checklist, OBO re-authorization and the
// audit event.
func TestMigrationStory(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	personalPAT, personalTok := w.pat(w.alice, "", true, nil, "Bot.chat")
	listedPAT, listedTok := w.pat(w.alice, "", false, []string{w.ws.ID}, "Bot.chat")
	otherPAT, _ := w.pat(w.alice, "", false, []string{w.other.ID}, "Bot.chat")
	_, enterpriseTok := w.pat(w.alice, w.acme.ID, true, nil, "Bot.chat")
	personalApp := w.jwtApp(w.alice, "Bot.chat")
	appGrant, err := w.oa.AuthorizeApp(ctx, personalApp.app.ID, w.alice.ID, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	appTok := w.mustToken(personalApp, "/account/"+w.alice.AccountID+"/token")
	installedApp := w.jwtApp(w.bob, "Bot.chat")
	if _, err := w.ent.Install(ctx, installedApp.app.ID, w.acme.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	installedTok := w.mustToken(installedApp, "/enterprise_id/"+w.acme.ID+"/token")
	obo := w.oboGrant(w.alice, w.alice.Account())

	w.botChat("before: personal PAT", personalTok, permission.Allowed)
	w.botChat("before: personal PAT listing the workspace", listedTok, permission.Allowed)
	w.botChat("before: personal JWT app (account path)", appTok, permission.Allowed)
	w.botChat("before: OBO in the personal account", obo.token, permission.Allowed)
	w.botChat("before: enterprise PAT", enterpriseTok, permission.Forbidden)
	w.botChat("before: enterprise installation", installedTok, permission.Forbidden)

	plan, err := w.ent.PlanMigration(ctx, []string{w.ws.ID}, w.acme.ID, w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]enterprise.Affected{}
	for _, a := range plan.Affected {
		got[a.ID] = a
	}
	for _, want := range []enterprise.Affected{
		{Type: "pat", ID: personalPAT.ID, Workspaces: []string{w.ws.ID}},
		{Type: "pat", ID: listedPAT.ID, Workspaces: []string{w.ws.ID}},
		{Type: "app_auth", ID: appGrant.ID, Workspaces: []string{w.ws.ID}},
		{Type: "obo", ID: obo.grant.ID, Workspaces: []string{w.ws.ID}},
	} {
		a, ok := got[want.ID]
		if !ok || a.Type != want.Type || strings.Join(a.Workspaces, ",") != w.ws.ID {
			t.Errorf("checklist entry for %s %s: %+v (found %v)", want.Type, want.ID, a, ok)
		}
	}
	if _, ok := got[otherPAT.ID]; ok || len(plan.Affected) != 4 {
		t.Errorf("checklist lists credentials that keep their access: %+v", plan.Affected)
	}
	if err := w.ent.Migrate(ctx, plan); err != nil {
		t.Fatal(err)
	}

	w.botChat("after: personal PAT", personalTok, permission.Forbidden)
	w.botChat("after: personal PAT listing the workspace", listedTok, permission.Forbidden)
	w.botChat("after: personal JWT app token issued before", appTok, permission.Forbidden)
	w.botChat("after: personal JWT app token issued after", w.mustToken(personalApp, "/account/"+w.alice.AccountID+"/token"), permission.Forbidden)
	w.botChat("after: OBO in the personal account", obo.token, permission.Forbidden)
	w.botChat("after: enterprise PAT", enterpriseTok, permission.Allowed)
	w.botChat("after: enterprise installation, token issued before", installedTok, permission.Allowed)
	w.botChat("after: enterprise installation, new token", w.mustToken(installedApp, "/enterprise_id/"+w.acme.ID+"/token"), permission.Allowed)
	reauth := w.oboGrant(w.alice, w.acmeOwner())
	w.botChat("after: OBO re-authorized as an enterprise member", reauth.token, permission.Allowed)
	// The migrated workspace is not personal any more: migrating again fails.
	if _, err := w.ent.PlanMigration(ctx, []string{w.ws.ID}, w.acme.ID, w.alice.ID); !errors.Is(err, enterprise.ErrInvalid) {
		t.Errorf("planning a second migration: %v", err)
	}

	events, err := w.db.ListAudit(ctx, store.AuditFilter{Action: "workspace.migrate"})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit: %v %+v", err, events)
	}
	var detail struct {
		Workspaces []string              `json:"workspaces"`
		Affected   []enterprise.Affected `json:"affected"`
	}
	if err := json.Unmarshal([]byte(events[0].Detail), &detail); err != nil || events[0].ActorID != w.alice.ID ||
		strings.Join(detail.Workspaces, ",") != w.ws.ID || len(detail.Affected) != 4 {
		t.Errorf("audit event %+v (%v)", events[0], err)
	}
}

// oboToken is an OBO grant and an access token issued under it.
type oboToken struct {
	grant store.Grant
	token string
}

// oboGrant consents for a PKCE app in account acct (all workspaces) and
// redeems the code, through the service's consent and token endpoints.
func (w *world) oboGrant(u store.User, acct store.Owner) oboToken {
	w.t.Helper()
	app, _, err := w.oa.CreateApp(w.ctx, oauth.AppSpec{Owner: u.Account(), CreatedBy: u.ID, Type: store.ClientSinglePageOrNative,
		Name: "spa", Permissions: []string{"Bot.chat"}, RedirectURIs: []string{"http://127.0.0.1:9/cb"}})
	if err != nil {
		w.t.Fatal(err)
	}
	redirect, err := w.oa.Approve(w.ctx, &oauth.AuthorizeRequest{App: app, RedirectURI: "http://127.0.0.1:9/cb",
		CodeChallenge: "verifier-verifier-verifier-verifier-verifier", ChallengeMethod: "plain"},
		oauth.Choice{UserID: u.ID, Account: acct, AllWorkspaces: true})
	if err != nil {
		w.t.Fatal(err)
	}
	u2, err := url.Parse(redirect)
	if err != nil {
		w.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"grant_type": "authorization_code", "client_id": app.ClientID, "code": u2.Query().Get("code"),
		"redirect_uri": "http://127.0.0.1:9/cb", "code_verifier": "verifier-verifier-verifier-verifier-verifier"})
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(w.ctx, http.MethodPost, "/api/permission/oauth2/token", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w.oa.Token(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		w.t.Fatalf("code exchange: %d %s", rec.Code, rec.Body)
	}
	gs, err := w.db.ListGrants(w.ctx, store.GrantFilter{AppID: app.ID, Kind: store.GrantOBO})
	if err != nil || len(gs) != 1 {
		w.t.Fatalf("grants: %v %v", gs, err)
	}
	return oboToken{grant: gs[0], token: out["access_token"].(string)}
}

func TestPlanMigrationRefuses(t *testing.T) {
	w := newWorld(t)
	shared, err := w.ids.CreateWorkspace(w.ctx, "Alice's shared space", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ids.AddWorkspaceMember(w.ctx, shared.ID, "bob", store.WorkspaceRoleAdmin); err != nil {
		t.Fatal(err)
	}
	entWS, err := w.ids.CreateWorkspace(w.ctx, "team", "", w.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		workspaces []string
		enterprise string
		by         string
		want       error
	}{
		{"no workspace", nil, w.acme.ID, w.alice.ID, enterprise.ErrInvalid},
		{"unknown workspace", []string{"nope"}, w.acme.ID, w.alice.ID, store.ErrNotFound},
		{"unknown enterprise", []string{w.ws.ID}, "nope", w.alice.ID, store.ErrNotFound},
		{"unknown user", []string{w.ws.ID}, w.acme.ID, "nope", store.ErrNotFound},
		{"a plain member of the enterprise", []string{w.ws.ID}, w.acme.ID, w.carol.ID, enterprise.ErrInvalid},
		{"someone else's personal workspace", []string{w.ws.ID}, w.acme.ID, w.bob.ID, enterprise.ErrInvalid},
		{"an admin of the workspace who does not own it", []string{shared.ID}, w.acme.ID, w.bob.ID, enterprise.ErrInvalid},
		{"already an enterprise workspace", []string{entWS.ID}, w.acme.ID, w.alice.ID, enterprise.ErrInvalid},
		{"one good, one not", []string{w.ws.ID, w.bobWS.ID}, w.acme.ID, w.alice.ID, enterprise.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := w.ent.PlanMigration(w.ctx, tc.workspaces, tc.enterprise, tc.by); !errors.Is(err, tc.want) {
				t.Fatalf("PlanMigration: %v, want %v", err, tc.want)
			}
		})
	}
	// Duplicates are one workspace; an empty account has an empty checklist.
	plan, err := w.ent.PlanMigration(w.ctx, []string{w.other.ID, w.other.ID}, w.acme.ID, w.alice.ID)
	if err != nil || len(plan.Workspaces) != 1 || len(plan.Affected) != 0 {
		t.Fatalf("plan %+v, %v", plan, err)
	}
	// A plan gone stale (the workspace moved meanwhile) migrates nothing.
	if err := w.ent.Migrate(w.ctx, plan); err != nil {
		t.Fatal(err)
	}
	if err := w.ent.Migrate(w.ctx, plan); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("stale plan: %v", err)
	}
}

func TestPersonalResourceAuthorization(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	account := w.alice.AccountID
	conv := func(what, tok string, want permission.Code) {
		t.Helper()
		w.wantCheck(what, tok, "Conversation.create", "account", account, want)
	}
	entPAT, entTok := w.pat(w.alice, w.acme.ID, true, nil, "Conversation.create", "Bot.chat")
	bobPAT, _ := w.pat(w.bob, w.acme.ID, true, nil, "Conversation.create")
	personalPAT, _ := w.pat(w.alice, "", true, nil, "Conversation.create")
	app := w.jwtApp(w.bob, "Conversation.create", "Bot.chat")
	if _, err := w.ent.Install(ctx, app.app.ID, w.acme.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	appTok := w.mustToken(app, "/enterprise_id/"+w.acme.ID+"/token")
	obo := w.oboGrant(w.alice, w.acmeOwner())

	list, err := w.ent.Authorizables(ctx, w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, string(a.Kind)+":"+a.ID)
		if a.Authorized || strings.Join(a.Permissions, ",") != "Conversation.create" {
			t.Errorf("authorizable %+v: want unauthorized, account-level permissions only", a)
		}
	}
	if strings.Join(ids, " ") != "pat:"+entPAT.ID+" app:"+app.app.ID {
		t.Errorf("authorizables %v: want alice's enterprise PAT and the installed app, never an OBO grant", ids)
	}

	conv("enterprise PAT, not authorized", entTok, permission.Forbidden)
	conv("installed app, not authorized", appTok, permission.Forbidden)
	for _, tc := range []struct {
		name, user, credential string
	}{
		{"an OBO grant", w.alice.ID, obo.grant.ID},
		{"another admin's PAT", w.alice.ID, bobPAT.ID},
		{"a personal PAT", w.alice.ID, personalPAT.ID},
		{"an app that is not installed", w.alice.ID, w.jwtApp(w.alice, "Conversation.create").app.ID},
		{"a plain member", w.carol.ID, app.app.ID},
	} {
		if err := w.ent.AuthorizeCredential(ctx, tc.user, tc.credential, ""); !errors.Is(err, enterprise.ErrInvalid) {
			t.Errorf("authorizing %s: %v", tc.name, err)
		}
	}
	for _, id := range []string{entPAT.ID, app.app.ID} {
		if err := w.ent.AuthorizeCredential(ctx, w.alice.ID, id, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.ent.AuthorizeCredential(ctx, w.alice.ID, entPAT.ID, ""); err != nil {
		t.Fatalf("authorizing twice: %v", err)
	}
	conv("enterprise PAT, authorized", entTok, permission.Allowed)
	conv("installed app, authorized", appTok, permission.Allowed)
	conv("OBO in the enterprise: never", obo.token, permission.Forbidden)
	w.wantCheck("authorized credential on another account", entTok, "Conversation.create", "account", w.bob.AccountID, permission.Forbidden)
	w.botChat("authorization does not open personal workspaces", entTok, permission.Forbidden)

	if err := w.ent.RevokeCredential(ctx, w.alice.ID, entPAT.ID); err != nil {
		t.Fatal(err)
	}
	conv("enterprise PAT, revoked", entTok, permission.Forbidden)
	conv("installed app, still authorized", appTok, permission.Allowed)
	if err := w.ent.RevokeCredential(ctx, w.alice.ID, entPAT.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
	// Uninstalling takes the app's authorization with it: a reinstall starts
	// unauthorized.
	if err := w.ent.Uninstall(ctx, app.app.ID, w.acme.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ent.Install(ctx, app.app.ID, w.acme.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	conv("reinstalled app", w.mustToken(app, "/enterprise_id/"+w.acme.ID+"/token"), permission.Forbidden)
}

func TestMembers(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	dave, err := w.ids.CreateUser(ctx, "dave", "password-4", "")
	if err != nil {
		t.Fatal(err)
	}
	_, carolTok := w.pat(w.carol, w.acme.ID, true, nil, "Bot.chat")
	teamWS, err := w.ids.CreateWorkspace(ctx, "carol's team space", "", w.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.PutWorkspaceMember(ctx, store.WorkspaceMember{WorkspaceID: teamWS.ID, UserID: w.carol.ID, Role: store.WorkspaceRoleOwner}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"add dave", func() error {
			return w.ent.AddMembers(ctx, w.acme.ID, w.bob.ID, []enterprise.NewMember{{UserID: dave.ID, Role: store.RoleMember}})
		}, nil},
		{"add an unknown user", func() error {
			return w.ent.AddMembers(ctx, w.acme.ID, w.bob.ID, []enterprise.NewMember{{UserID: "nope", Role: store.RoleMember}})
		}, store.ErrNotFound},
		{"add to an unknown enterprise", func() error {
			return w.ent.AddMembers(ctx, "nope", w.bob.ID, []enterprise.NewMember{{UserID: dave.ID, Role: store.RoleMember}})
		}, store.ErrNotFound},
		{"add nobody", func() error { return w.ent.AddMembers(ctx, w.acme.ID, w.bob.ID, nil) }, enterprise.ErrInvalid},
		{"make someone SuperAdmin", func() error {
			return w.ent.AddMembers(ctx, w.acme.ID, w.bob.ID, []enterprise.NewMember{{UserID: dave.ID, Role: store.RoleSuperAdmin}})
		}, enterprise.ErrInvalid},
		{"promote dave", func() error { return w.ent.SetMemberRole(ctx, w.acme.ID, w.bob.ID, dave.ID, store.RoleAdmin) }, nil},
		{"demote the SuperAdmin", func() error { return w.ent.SetMemberRole(ctx, w.acme.ID, w.bob.ID, w.alice.ID, store.RoleMember) }, enterprise.ErrInvalid},
		{"change a non-member", func() error { return w.ent.SetMemberRole(ctx, w.acme.ID, w.bob.ID, "nope", store.RoleMember) }, store.ErrNotFound},
		{"remove the SuperAdmin", func() error { return w.ent.RemoveMember(ctx, w.acme.ID, w.bob.ID, w.alice.ID, w.bob.ID) }, enterprise.ErrInvalid},
		{"remove without a receiver", func() error { return w.ent.RemoveMember(ctx, w.acme.ID, w.bob.ID, w.carol.ID, "") }, enterprise.ErrInvalid},
		{"remove with an outsider as receiver", func() error {
			outsider, err := w.ids.CreateUser(ctx, "erin", "password-5", "")
			if err != nil {
				return err
			}
			return w.ent.RemoveMember(ctx, w.acme.ID, w.bob.ID, w.carol.ID, outsider.ID)
		}, enterprise.ErrInvalid},
		{"remove carol, dave receives", func() error { return w.ent.RemoveMember(ctx, w.acme.ID, w.bob.ID, w.carol.ID, dave.ID) }, nil},
		{"remove carol again", func() error { return w.ent.RemoveMember(ctx, w.acme.ID, w.bob.ID, w.carol.ID, dave.ID) }, store.ErrNotFound},
	}
	for _, st := range steps {
		if err := st.do(); (st.want == nil && err != nil) || (st.want != nil && !errors.Is(err, st.want)) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	if m, err := w.db.GetEnterpriseMember(ctx, w.acme.ID, dave.ID); err != nil || m.Role != store.RoleAdmin {
		t.Errorf("dave: %+v %v", m, err)
	}
	if m, err := w.db.GetWorkspaceMember(ctx, teamWS.ID, dave.ID); err != nil || m.Role != store.WorkspaceRoleOwner {
		t.Errorf("dave did not receive carol's workspace: %+v %v", m, err)
	}
	// carol's enterprise PAT stops at once (she is no longer a member).
	if got, err := w.check(carolTok, "Bot.chat", "bot", "bot"); err != nil || got != permission.Unauthenticated {
		t.Errorf("carol's enterprise PAT after removal: %d %v", got, err)
	}
	all, _ := w.db.ListAudit(ctx, store.AuditFilter{TargetType: "enterprise", TargetID: w.acme.ID})
	var events []store.AuditEvent
	for _, e := range all {
		if e.ActorType != store.ActorSystem { // the fixture's own set-up
			events = append(events, e)
		}
	}
	if len(events) != 3 { // add dave, promote dave, remove carol
		t.Errorf("audit events %+v", events)
	}
}

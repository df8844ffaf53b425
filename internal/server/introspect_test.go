package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// oauthFixture is an app with a grant and tokens made straight in the store.
type oauthFixture struct {
	app    store.App
	grant  store.Grant
	secret string // web apps only
}

// tokenPair is one family's raw access and refresh tokens.
type tokenPair struct {
	access, refresh      string
	accessID, refreshID  string
	family               string
	accessExp, createdAt int64
}

func (e *env) mkApp(t *testing.T, owner store.User, typ store.ClientType, perms []string, redirect ...string) oauthFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Unix()
	a := store.App{ID: store.NewID(), ClientID: store.NewID(), Name: "app " + string(typ), Owner: owner.Account(), CreatedBy: owner.ID,
		ClientType: typ, RedirectURIs: redirect, Permissions: perms, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := e.s.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	f := oauthFixture{app: a}
	if typ == store.ClientWebBackend {
		f.secret = credential.NewToken("czs_")
		if err := e.s.AddAppSecret(ctx, store.AppSecret{ID: store.NewID(), AppID: a.ID, Hash: credential.Hash(f.secret), Hint: "abcd", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// consent makes user's OBO grant of f's app in the user's personal account.
func (e *env) consent(t *testing.T, f oauthFixture, user store.User, perms []string, ws ...string) oauthFixture {
	t.Helper()
	g, err := e.s.PutGrant(context.Background(), store.Grant{ID: store.NewID(), AppID: f.app.ID, Kind: store.GrantOBO, UserID: user.ID,
		Owner: user.Account(), Permissions: perms, AllWorkspaces: len(ws) == 0, WorkspaceIDs: ws, CreatedBy: user.ID, CreatedAt: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	f.grant = g
	return f
}

func (e *env) issue(t *testing.T, f oauthFixture, ttl time.Duration) tokenPair {
	t.Helper()
	return e.issueMinted(t, f, ttl, credential.NewOrderedToken)
}

// issueMinted is issue with tokens made by mint: credential.NewToken made
// the OAuth tokens that earlier versions stored.
func (e *env) issueMinted(t *testing.T, f oauthFixture, ttl time.Duration, mint func(prefix string) string) tokenPair {
	t.Helper()
	now := time.Now().Unix()
	p := tokenPair{access: mint(oauth.PrefixAccess), refresh: mint(oauth.PrefixRefresh),
		accessID: store.NewID(), refreshID: store.NewID(), family: store.NewID(), accessExp: now + int64(ttl.Seconds()), createdAt: now}
	rec := func(id, tok string, kind store.TokenKind, exp int64) store.OAuthToken {
		return store.OAuthToken{ID: id, Hash: credential.Hash(tok), Kind: kind, AppID: f.app.ID, GrantID: f.grant.ID, FamilyID: p.family,
			Permissions: f.grant.Permissions, AllWorkspaces: f.grant.AllWorkspaces, WorkspaceIDs: f.grant.WorkspaceIDs, ExpiresAt: exp, CreatedAt: now}
	}
	if err := e.s.CreateOAuthTokens(context.Background(), rec(p.accessID, p.access, store.TokenAccess, p.accessExp),
		rec(p.refreshID, p.refresh, store.TokenRefresh, now+3600)); err != nil {
		t.Fatal(err)
	}
	return p
}

// raw sends a request and returns the recorder.
func (e *env) raw(method, path, auth, contentType, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

const introspectPath = "/api/cozeauth/v1/oauth2/introspect"

type introspected struct {
	Active        bool     `json:"active"`
	TokenType     string   `json:"token_type"`
	ClientID      string   `json:"client_id"`
	Sub           string   `json:"sub"`
	Exp           int64    `json:"exp"`
	Iat           int64    `json:"iat"`
	Scope         string   `json:"scope"`
	AccountID     string   `json:"account_id"`
	AccountType   string   `json:"account_type"`
	WorkspaceIDs  []string `json:"workspace_ids"`
	AllWorkspaces bool     `json:"all_workspaces"`
}

func (e *env) introspect(t *testing.T, caller, token string, form bool) (int, introspected, string) {
	t.Helper()
	ct, body := "application/json", `{"token":`+jsonString(token)+`}`
	if form {
		ct, body = "application/x-www-form-urlencoded", url.Values{"token": {token}}.Encode()
	}
	rec := e.raw("POST", introspectPath, "Bearer "+caller, ct, body)
	var got introspected
	if rec.Code == http.StatusOK {
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("introspection Cache-Control = %q, want no-store", cc)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("introspection body %q: %v", rec.Body.String(), err)
		}
	}
	return rec.Code, got, rec.Body.String()
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	ids := &identity.Service{Store: e.s, Now: time.Now}
	m := &credential.Manager{Store: e.s, Catalog: permission.Default(), Now: time.Now}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	pat := func(user store.User, enterprise string, perms []string, ws []string, at time.Time) credential.Created {
		t.Helper()
		mm := *m
		mm.Now = func() time.Time { return at }
		kind, uid := store.KindPAT, user.ID
		c, err := mm.Create(ctx, credential.Spec{Kind: kind, Name: "p", UserID: uid, EnterpriseID: enterprise, Expiry: credential.Expiry{Days: 1},
			Permissions: perms, AllWorkspaces: len(ws) == 0, WorkspaceIDs: ws})
		must(err)
		return c
	}
	introspector := pat(e.alice, "", []string{"Token.introspect"}, nil, now).Token
	bob, err := ids.CreateUser(ctx, "bob", "password-2", "Bob")
	must(err)
	bobIntrospector := pat(bob, "", []string{"Token.introspect"}, nil, now).Token
	bobPAT := pat(bob, "", []string{"Bot.chat"}, nil, now)
	expired := pat(e.alice, "", []string{"Bot.chat"}, nil, now.Add(-48*time.Hour)).Token

	acme, err := ids.CreateEnterprise(ctx, "Acme", e.alice.ID)
	must(err)
	sat, err := m.Create(ctx, credential.Spec{Kind: store.KindSAT, Name: "svc", UserID: e.alice.ID, EnterpriseID: acme.ID,
		Expiry: credential.Expiry{Permanent: true}, Permissions: []string{"Bot.chat", "Workspace.list"}, AllWorkspaces: true})
	must(err)
	entIntrospector := pat(e.alice, acme.ID, []string{"Token.introspect"}, nil, now).Token

	// Alice's PKCE app: alice's own consent, and bob's (another tenant,
	// but alice's app).
	spa := e.mkApp(t, e.alice, store.ClientSinglePageOrNative, []string{"Bot.chat", "Workspace.list"}, "http://localhost:3000/cb")
	aliceTokens := e.issue(t, e.consent(t, spa, e.alice, []string{"Workspace.list", "Bot.chat"}, e.ws1.ID), 15*time.Minute)
	legacy := e.issueMinted(t, e.consent(t, spa, e.alice, []string{"Bot.chat"}), 15*time.Minute, credential.NewToken)
	bobTokens := e.issue(t, e.consent(t, spa, bob, []string{"Bot.chat"}), 15*time.Minute)
	// Bob's own app and consent: nothing of alice's.
	bobApp := e.mkApp(t, bob, store.ClientTerminal, []string{"Bot.chat"})
	bobOwn := e.issue(t, e.consent(t, bobApp, bob, []string{"Bot.chat"}), 15*time.Minute)
	revoked := e.issue(t, e.consent(t, spa, e.alice, []string{"Bot.chat"}), 15*time.Minute)
	must(e.s.RevokeTokenFamily(ctx, revoked.family, now.Unix()))
	expiredAccess := e.issue(t, e.consent(t, spa, e.alice, []string{"Bot.chat"}), -time.Minute)
	deact := e.mkApp(t, e.alice, store.ClientTerminal, []string{"Bot.chat"})
	deactTokens := e.issue(t, e.consent(t, deact, e.alice, []string{"Bot.chat"}), 15*time.Minute)
	_, err = e.s.UpdateApp(ctx, deact.app.ID, func(a store.App) (store.App, error) { a.Active = false; return a, nil })
	must(err)
	e.srv.gen.Invalidate()

	narrowRec, err := e.s.GetCredentialByHash(ctx, credential.Hash(e.narrow))
	must(err)
	satRec := sat.Credential
	alicePersonal := e.alice.AccountID

	tests := []struct {
		name   string
		caller string
		token  string
		want   introspected
	}{
		{"own PAT", introspector, e.narrow, introspected{Active: true, TokenType: "pat", Sub: e.alice.ID, Exp: narrowRec.ExpireAt,
			Iat: narrowRec.CreatedAt, Scope: "Bot.chat", AccountID: alicePersonal, AccountType: "personal", WorkspaceIDs: []string{e.ws1.ID}}},
		{"own access token (workspace list)", introspector, aliceTokens.access, introspected{Active: true, TokenType: "access_token",
			ClientID: spa.app.ClientID, Sub: e.alice.ID, Exp: aliceTokens.accessExp, Iat: aliceTokens.createdAt, Scope: "Bot.chat Workspace.list",
			AccountID: alicePersonal, AccountType: "personal", WorkspaceIDs: []string{e.ws1.ID}}},
		{"own refresh token", introspector, aliceTokens.refresh, introspected{Active: true, TokenType: "refresh_token",
			ClientID: spa.app.ClientID, Sub: e.alice.ID, Exp: aliceTokens.createdAt + 3600, Iat: aliceTokens.createdAt, Scope: "Bot.chat Workspace.list",
			AccountID: alicePersonal, AccountType: "personal", WorkspaceIDs: []string{e.ws1.ID}}},
		{"access token stored before ordered tokens", introspector, legacy.access, introspected{Active: true, TokenType: "access_token",
			ClientID: spa.app.ClientID, Sub: e.alice.ID, Exp: legacy.accessExp, Iat: legacy.createdAt, Scope: "Bot.chat",
			AccountID: alicePersonal, AccountType: "personal", WorkspaceIDs: []string{}, AllWorkspaces: true}},
		{"refresh token stored before ordered tokens", introspector, legacy.refresh, introspected{Active: true, TokenType: "refresh_token",
			ClientID: spa.app.ClientID, Sub: e.alice.ID, Exp: legacy.createdAt + 3600, Iat: legacy.createdAt, Scope: "Bot.chat",
			AccountID: alicePersonal, AccountType: "personal", WorkspaceIDs: []string{}, AllWorkspaces: true}},
		{"another tenant's token issued to the caller's app", introspector, bobTokens.access, introspected{Active: true, TokenType: "access_token",
			ClientID: spa.app.ClientID, Sub: bob.ID, Exp: bobTokens.accessExp, Iat: bobTokens.createdAt, Scope: "Bot.chat",
			AccountID: bob.AccountID, AccountType: "personal", WorkspaceIDs: []string{}, AllWorkspaces: true}},
		{"the same seen by its own tenant", bobIntrospector, bobTokens.refresh, introspected{Active: true, TokenType: "refresh_token",
			ClientID: spa.app.ClientID, Sub: bob.ID, Exp: bobTokens.createdAt + 3600, Iat: bobTokens.createdAt, Scope: "Bot.chat",
			AccountID: bob.AccountID, AccountType: "personal", WorkspaceIDs: []string{}, AllWorkspaces: true}},
		{"SAT seen by its enterprise", entIntrospector, sat.Token, introspected{Active: true, TokenType: "sat", Sub: satRec.ID,
			Iat: satRec.CreatedAt, Scope: "Bot.chat Workspace.list", AccountID: acme.ID, AccountType: "enterprise", WorkspaceIDs: []string{}, AllWorkspaces: true}},
		{"other tenant's PAT", introspector, bobPAT.Token, introspected{}},
		{"other tenant's token of its own app", introspector, bobOwn.access, introspected{}},
		{"enterprise SAT seen by a personal credential", introspector, sat.Token, introspected{}},
		{"personal PAT seen by an enterprise credential", entIntrospector, e.narrow, introspected{}},
		{"expired PAT", introspector, expired, introspected{}},
		{"expired access token", introspector, expiredAccess.access, introspected{}},
		{"revoked access token", introspector, revoked.access, introspected{}},
		{"revoked refresh token", introspector, revoked.refresh, introspected{}},
		{"deactivated app", introspector, deactTokens.access, introspected{}},
		{"unknown PAT", introspector, credential.NewToken("pat_"), introspected{}},
		{"unknown access token", introspector, credential.NewOrderedToken(oauth.PrefixAccess), introspected{}},
		{"unknown access token of the earlier form", introspector, credential.NewToken(oauth.PrefixAccess), introspected{}},
		{"malformed", introspector, "not a token", introspected{}},
	}
	for _, tt := range tests {
		for _, form := range []bool{false, true} {
			status, got, body := e.introspect(t, tt.caller, tt.token, form)
			if status != http.StatusOK {
				t.Errorf("%s (form %v): status %d %s", tt.name, form, status, body)
				continue
			}
			if !tt.want.Active && strings.TrimSpace(body) != `{"active":false}` {
				t.Errorf("%s (form %v): body %s, want exactly {\"active\":false}", tt.name, form, body)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s (form %v):\n got  %+v\n want %+v", tt.name, form, got, tt.want)
			}
		}
	}

	// The caller's own credential: Coze errors.
	for _, tt := range []struct {
		name, auth, ct, body string
		status, code         int
	}{
		{"no credential", "", "application/json", `{"token":"x"}`, 401, 4100},
		{"unknown credential", "Bearer " + credential.NewToken("pat_"), "application/json", `{"token":"x"}`, 401, 4100},
		{"expired credential", "Bearer " + expired, "application/json", `{"token":"x"}`, 401, 4100},
		{"credential without Token.introspect", "Bearer " + e.full, "application/json", `{"token":"` + e.narrow + `"}`, 403, 4101},
		{"no token", "Bearer " + introspector, "application/json", `{}`, 400, 4000},
		{"empty body", "Bearer " + introspector, "application/x-www-form-urlencoded", ``, 400, 4000},
		{"bad JSON", "Bearer " + introspector, "application/json", `{"token":`, 400, 4000},
		{"other content type", "Bearer " + introspector, "text/plain", `token=x`, 400, 4000},
	} {
		rec := e.raw("POST", introspectPath, tt.auth, tt.ct, tt.body)
		var env struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &env)
		if rec.Code != tt.status || env.Code != tt.code || env.Msg == "" || rec.Header().Get("X-Tt-Logid") == "" {
			t.Errorf("%s: %d %s, want %d with code %d", tt.name, rec.Code, rec.Body.String(), tt.status, tt.code)
		}
	}
}

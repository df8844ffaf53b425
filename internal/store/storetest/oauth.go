package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runOAuth checks the OAuth storage: apps and what they own, grants, codes,
// device codes, tokens with rotation, JTIs, garbage collection and the revision.
func runOAuth(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"Apps", testApps},
		{"AppSecretsAndKeys", testAppSecretsAndKeys},
		{"DeleteAppCascades", testDeleteAppCascades},
		{"Grants", testGrants},
		{"DeleteGrant", testDeleteGrant},
		{"AuthCodes", testAuthCodes},
		{"AuthCodeFailedExchange", testAuthCodeFailedExchange},
		{"DeviceCodes", testDeviceCodes},
		{"Tokens", testOAuthTokens},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshRetry", testRefreshRetry},
		{"RevokeTokens", testRevokeTokens},
		{"JTI", testJTI},
		{"DeleteExpired", testDeleteExpired},
		{"OAuthRevision", testOAuthRevision},
	})
	t.Run("Concurrency", func(t *testing.T) { runOAuthConcurrency(t, open) })
}

// ---- fixture helpers

func (f *fixture) newApp(owner store.Owner, createdBy string, typ store.ClientType) store.App {
	now := f.tick()
	return store.App{
		ID: store.NewID(), ClientID: store.NewID(), Name: "app " + string(typ), Description: "an app",
		Owner: owner, CreatedBy: createdBy, ClientType: typ,
		RedirectURIs: []string{"https://example.com/cb", "http://127.0.0.1:8080/callback"},
		Permissions:  []string{"Bot.chat", "Workspace.list"},
		Active:       true, CreatedAt: now, UpdatedAt: now,
	}
}

func (f *fixture) app(owner store.Owner, createdBy string, typ store.ClientType) store.App {
	f.t.Helper()
	a := f.newApp(owner, createdBy, typ)
	if err := f.s.CreateApp(f.ctx, a); err != nil {
		f.t.Fatalf("CreateApp: %v", err)
	}
	return a
}

func (f *fixture) grant(g store.Grant) store.Grant {
	f.t.Helper()
	if g.ID == "" {
		g.ID = store.NewID()
	}
	if g.Kind == "" {
		g.Kind = store.GrantOBO
	}
	if g.CreatedAt == 0 {
		g.CreatedAt = f.tick()
		g.UpdatedAt = g.CreatedAt
	}
	got, err := f.s.PutGrant(f.ctx, g)
	if err != nil {
		f.t.Fatalf("PutGrant: %v", err)
	}
	return got
}

// oauthSetup is a user with a web app and an obo grant in the personal account.
type oauthSetup struct {
	user  store.User
	app   store.App
	grant store.Grant
}

func (f *fixture) oauthSetup() oauthSetup {
	f.t.Helper()
	u := f.user("alice")
	a := f.app(u.Account(), u.ID, store.ClientWebBackend)
	g := f.grant(store.Grant{AppID: a.ID, UserID: u.ID, Owner: u.Account(), Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	return oauthSetup{user: u, app: a, grant: g}
}

// newToken returns a token of the family that is not stored yet, valid for an hour.
func (f *fixture) newToken(o oauthSetup, kind store.TokenKind, family string) store.OAuthToken {
	now := f.tick()
	return store.OAuthToken{
		ID: store.NewID(), Hash: tokenHash(string(kind) + store.NewID()), Kind: kind,
		AppID: o.app.ID, GrantID: o.grant.ID, FamilyID: family,
		Permissions: []string{}, BotIDs: []string{},
		ExpiresAt: now + 3600, CreatedAt: now,
	}
}

// tokenPair stores an access and a refresh token of a new family.
func (f *fixture) tokenPair(o oauthSetup) (access, refresh store.OAuthToken) {
	f.t.Helper()
	fam := store.NewID()
	access, refresh = f.newToken(o, store.TokenAccess, fam), f.newToken(o, store.TokenRefresh, fam)
	if err := f.s.CreateOAuthTokens(f.ctx, access, refresh); err != nil {
		f.t.Fatalf("CreateOAuthTokens: %v", err)
	}
	return access, refresh
}

func (f *fixture) getToken(hash string) store.OAuthToken {
	f.t.Helper()
	tok, err := f.s.GetOAuthTokenByHash(f.ctx, hash)
	if err != nil {
		f.t.Fatalf("GetOAuthTokenByHash: %v", err)
	}
	return tok
}

func (f *fixture) checkRevoked(what string, revoked bool, ts ...store.OAuthToken) {
	f.t.Helper()
	for _, tok := range ts {
		got := f.getToken(tok.Hash)
		if (got.RevokedAt != 0) != revoked {
			f.t.Errorf("%s: token %s (%s) RevokedAt = %d, want revoked = %v", what, tok.ID, tok.Kind, got.RevokedAt, revoked)
		}
	}
}

func (f *fixture) newAuthCode(o oauthSetup) store.AuthCode {
	now := f.tick()
	return store.AuthCode{
		Hash: tokenHash("code" + store.NewID()), AppID: o.app.ID, GrantID: o.grant.ID,
		RedirectURI: o.app.RedirectURIs[0], CodeChallenge: "challenge", ChallengeMethod: "S256",
		ExpiresAt: now + 300, CreatedAt: now,
	}
}

// issueTokens is an ExchangeAuthCode issue callback that returns ts.
func issueTokens(ts ...store.OAuthToken) func(store.AuthCode, store.Grant) ([]store.OAuthToken, error) {
	return func(store.AuthCode, store.Grant) ([]store.OAuthToken, error) { return ts, nil }
}

// mustNotIssue is an issue callback for exchanges that must fail before
// issuing (unknown or used codes).
func (f *fixture) mustNotIssue(what string) func(store.AuthCode, store.Grant) ([]store.OAuthToken, error) {
	return func(c store.AuthCode, _ store.Grant) ([]store.OAuthToken, error) {
		f.t.Errorf("%s: issue called for code %+v", what, c)
		return nil, errors.New("issue must not be called")
	}
}

// mustNotRedeem is a PollDevice redeem callback for codes that are not
// approved.
func (f *fixture) mustNotRedeem(what string) func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error) {
	return func(d store.DeviceCode, _ store.Grant) ([]store.OAuthToken, error) {
		f.t.Errorf("%s: redeem called for device code %+v", what, d)
		return nil, errors.New("redeem must not be called")
	}
}

// checkStored checks whether each token is stored (true) or not (false).
func (f *fixture) checkStored(what string, stored bool, ts ...store.OAuthToken) {
	f.t.Helper()
	for _, tok := range ts {
		_, err := f.s.GetOAuthTokenByHash(f.ctx, tok.Hash)
		switch {
		case stored && err != nil:
			f.t.Errorf("%s: token %s (%s): %v, want it stored", what, tok.ID, tok.Kind, err)
		case !stored && !errors.Is(err, store.ErrNotFound):
			f.t.Errorf("%s: token %s (%s): %v, want ErrNotFound", what, tok.ID, tok.Kind, err)
		}
	}
}

func (f *fixture) newDeviceCode(o oauthSetup, userCode string) store.DeviceCode {
	now := f.tick()
	return store.DeviceCode{
		DeviceHash: tokenHash("device" + store.NewID()), UserCode: userCode, AppID: o.app.ID,
		Status: store.DevicePending, ExpiresAt: now + 600, CreatedAt: now,
	}
}

// ---- apps

func wantApp(a store.App) store.App {
	a.RedirectURIs = append([]string{}, a.RedirectURIs...)
	a.Permissions = append([]string{}, a.Permissions...)
	return a
}

func gotApp(a store.App) store.App {
	if a.RedirectURIs == nil {
		a.RedirectURIs = []string{}
	}
	if a.Permissions == nil {
		a.Permissions = []string{}
	}
	return a
}

func testApps(t *testing.T, f *fixture) {
	alice := f.user("alice")
	e := f.enterprise("Acme", alice.ID)
	eOwner := store.Owner{Type: store.OwnerEnterprise, ID: e.ID}
	web := f.app(alice.Account(), alice.ID, store.ClientWebBackend)
	pkce := f.newApp(alice.Account(), alice.ID, store.ClientSinglePageOrNative)
	pkce.RedirectURIs, pkce.Permissions = nil, nil
	if err := f.s.CreateApp(f.ctx, pkce); err != nil {
		t.Fatalf("CreateApp(no lists): %v", err)
	}
	svc := f.app(eOwner, alice.ID, store.ClientService)

	got, err := f.s.GetApp(f.ctx, web.ID)
	if checkErr(t, "GetApp", err, nil) {
		checkEqual(t, "GetApp", gotApp(got), wantApp(web))
	}
	got, err = f.s.GetAppByClientID(f.ctx, svc.ClientID)
	if checkErr(t, "GetAppByClientID", err, nil) {
		checkEqual(t, "GetAppByClientID", gotApp(got), wantApp(svc))
	}
	_, err = f.s.GetApp(f.ctx, store.NewID())
	checkErr(t, "GetApp(unknown)", err, store.ErrNotFound)
	_, err = f.s.GetAppByClientID(f.ctx, store.NewID())
	checkErr(t, "GetAppByClientID(unknown)", err, store.ErrNotFound)

	list, err := f.s.ListAppsByOwner(f.ctx, alice.Account())
	if checkErr(t, "ListAppsByOwner", err, nil) {
		if len(list) != 2 || list[0].ID != web.ID || list[1].ID != pkce.ID {
			t.Errorf("ListAppsByOwner(alice) = %+v, want web then pkce", list)
		}
	}
	list, err = f.s.ListAppsByOwner(f.ctx, eOwner)
	if checkErr(t, "ListAppsByOwner(enterprise)", err, nil) && (len(list) != 1 || list[0].ID != svc.ID) {
		t.Errorf("ListAppsByOwner(enterprise) = %+v, want the service app", list)
	}

	list, err = f.s.ListAppsByClientType(f.ctx, store.ClientSinglePageOrNative)
	if checkErr(t, "ListAppsByClientType(pkce)", err, nil) && (len(list) != 1 || list[0].ID != pkce.ID) {
		t.Errorf("ListAppsByClientType(pkce) = %+v, want the pkce app", list)
	}
	pkce2 := f.app(eOwner, alice.ID, store.ClientSinglePageOrNative)
	list, err = f.s.ListAppsByClientType(f.ctx, store.ClientSinglePageOrNative)
	if checkErr(t, "ListAppsByClientType(pkce, two owners)", err, nil) {
		if len(list) != 2 || list[0].ID != pkce.ID || list[1].ID != pkce2.ID {
			t.Errorf("ListAppsByClientType(pkce) = %+v, want both pkce apps in creation order", list)
		} else {
			checkEqual(t, "ListAppsByClientType record", gotApp(list[1]), wantApp(pkce2))
		}
	}
	list, err = f.s.ListAppsByClientType(f.ctx, store.ClientTerminal)
	if checkErr(t, "ListAppsByClientType(none)", err, nil) && len(list) != 0 {
		t.Errorf("ListAppsByClientType(terminal) = %+v, want none", list)
	}

	// Errors.
	dup := f.newApp(alice.Account(), alice.ID, store.ClientTerminal)
	dup.ClientID = web.ClientID
	checkErr(t, "CreateApp(duplicate client ID)", f.s.CreateApp(f.ctx, dup), store.ErrAlreadyExists)
	dup = f.newApp(alice.Account(), alice.ID, store.ClientTerminal)
	dup.ID = web.ID
	checkErr(t, "CreateApp(duplicate ID)", f.s.CreateApp(f.ctx, dup), store.ErrAlreadyExists)
	bad := f.newApp(alice.Account(), alice.ID, "Mobile")
	checkErr(t, "CreateApp(bad client type)", f.s.CreateApp(f.ctx, bad), store.ErrInvalid)
	bad = f.newApp(store.Owner{Type: store.OwnerPersonal, ID: store.NewID()}, alice.ID, store.ClientTerminal)
	checkErr(t, "CreateApp(unknown owner)", f.s.CreateApp(f.ctx, bad), store.ErrInvalid)

	// Update: mutable fields change, immutable ones do not.
	now := f.tick()
	upd, err := f.s.UpdateApp(f.ctx, web.ID, func(a store.App) (store.App, error) {
		a.Name, a.Active, a.AllowRefreshWithoutSecret = "renamed", false, true
		a.RedirectURIs = []string{"https://example.com/new"}
		a.ClientID, a.Owner, a.CreatedAt = "changed", store.Owner{Type: store.OwnerEnterprise, ID: e.ID}, 1
		a.UpdatedAt = now
		return a, nil
	})
	want := web
	want.Name, want.Active, want.AllowRefreshWithoutSecret, want.RedirectURIs, want.UpdatedAt = "renamed", false, true, []string{"https://example.com/new"}, now
	if checkErr(t, "UpdateApp", err, nil) {
		checkEqual(t, "UpdateApp result", gotApp(upd), wantApp(want))
	}
	got, err = f.s.GetApp(f.ctx, web.ID)
	if checkErr(t, "GetApp after update", err, nil) {
		checkEqual(t, "GetApp after update", gotApp(got), wantApp(want))
	}
	_, err = f.s.UpdateApp(f.ctx, store.NewID(), func(a store.App) (store.App, error) { return a, nil })
	checkErr(t, "UpdateApp(unknown)", err, store.ErrNotFound)
	_, err = f.s.UpdateApp(f.ctx, web.ID, func(a store.App) (store.App, error) { a.ClientType = "bad"; return a, nil })
	checkErr(t, "UpdateApp(bad type)", err, store.ErrInvalid)

	checkErr(t, "DeleteApp", f.s.DeleteApp(f.ctx, web.ID), nil)
	_, err = f.s.GetApp(f.ctx, web.ID)
	checkErr(t, "GetApp after delete", err, store.ErrNotFound)
	checkErr(t, "DeleteApp again", f.s.DeleteApp(f.ctx, web.ID), store.ErrNotFound)
}

func testAppSecretsAndKeys(t *testing.T, f *fixture) {
	alice := f.user("alice")
	a := f.app(alice.Account(), alice.ID, store.ClientWebBackend)
	other := f.app(alice.Account(), alice.ID, store.ClientService)
	s1 := store.AppSecret{ID: store.NewID(), AppID: a.ID, Hash: tokenHash("s1"), Hint: "ab12", CreatedAt: f.tick()}
	s2 := store.AppSecret{ID: store.NewID(), AppID: a.ID, Hash: tokenHash("s2"), Hint: "cd34", Label: "sample 2026-01-02 · 样例", CreatedAt: f.tick()}
	for _, s := range []store.AppSecret{s1, s2} {
		checkErr(t, "AddAppSecret", f.s.AddAppSecret(f.ctx, s), nil)
	}
	checkErr(t, "AddAppSecret(same hash)", f.s.AddAppSecret(f.ctx, store.AppSecret{ID: store.NewID(), AppID: other.ID, Hash: s1.Hash, CreatedAt: f.tick()}), store.ErrAlreadyExists)
	checkErr(t, "AddAppSecret(unknown app)", f.s.AddAppSecret(f.ctx, store.AppSecret{ID: store.NewID(), AppID: store.NewID(), Hash: tokenHash("x"), CreatedAt: f.tick()}), store.ErrInvalid)
	list, err := f.s.ListAppSecrets(f.ctx, a.ID)
	if checkErr(t, "ListAppSecrets", err, nil) {
		checkEqual(t, "ListAppSecrets", list, []store.AppSecret{s1, s2})
	}
	got, err := f.s.GetAppSecretByHash(f.ctx, a.ID, s2.Hash)
	if checkErr(t, "GetAppSecretByHash", err, nil) {
		checkEqual(t, "GetAppSecretByHash", got, s2)
	}
	_, err = f.s.GetAppSecretByHash(f.ctx, other.ID, s2.Hash)
	checkErr(t, "GetAppSecretByHash(other app)", err, store.ErrNotFound)
	checkErr(t, "DeleteAppSecret(other app)", f.s.DeleteAppSecret(f.ctx, other.ID, s1.ID), store.ErrNotFound)
	checkErr(t, "DeleteAppSecret", f.s.DeleteAppSecret(f.ctx, a.ID, s1.ID), nil)
	_, err = f.s.GetAppSecretByHash(f.ctx, a.ID, s1.Hash)
	checkErr(t, "GetAppSecretByHash(deleted)", err, store.ErrNotFound)
	list, err = f.s.ListAppSecrets(f.ctx, a.ID)
	if checkErr(t, "ListAppSecrets after delete", err, nil) {
		checkEqual(t, "ListAppSecrets after delete", list, []store.AppSecret{s2})
	}

	k1 := store.AppKey{ID: "fp-1", AppID: a.ID, PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n", CreatedAt: f.tick()}
	k2 := store.AppKey{ID: "fp-2", AppID: a.ID, PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n", Label: "sample 2026-01-02", CreatedAt: f.tick()}
	for _, k := range []store.AppKey{k1, k2} {
		checkErr(t, "AddAppKey", f.s.AddAppKey(f.ctx, k), nil)
	}
	checkErr(t, "AddAppKey(same kid)", f.s.AddAppKey(f.ctx, k1), store.ErrAlreadyExists)
	sameKidOther := k1
	sameKidOther.AppID = other.ID
	checkErr(t, "AddAppKey(same kid, other app)", f.s.AddAppKey(f.ctx, sameKidOther), nil)
	gk, err := f.s.GetAppKey(f.ctx, a.ID, k2.ID)
	if checkErr(t, "GetAppKey", err, nil) {
		checkEqual(t, "GetAppKey", gk, k2)
	}
	_, err = f.s.GetAppKey(f.ctx, a.ID, "nope")
	checkErr(t, "GetAppKey(unknown)", err, store.ErrNotFound)
	keys, err := f.s.ListAppKeys(f.ctx, a.ID)
	if checkErr(t, "ListAppKeys", err, nil) {
		checkEqual(t, "ListAppKeys", keys, []store.AppKey{k1, k2})
	}
	checkErr(t, "DeleteAppKey", f.s.DeleteAppKey(f.ctx, a.ID, k1.ID), nil)
	checkErr(t, "DeleteAppKey again", f.s.DeleteAppKey(f.ctx, a.ID, k1.ID), store.ErrNotFound)
	if _, err := f.s.GetAppKey(f.ctx, other.ID, k1.ID); err != nil {
		t.Errorf("the other app's key with the same kid went too: %v", err)
	}
}

func testDeleteAppCascades(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	keep := f.app(o.user.Account(), o.user.ID, store.ClientTerminal)
	sec := store.AppSecret{ID: store.NewID(), AppID: o.app.ID, Hash: tokenHash("secret"), Hint: "cret", CreatedAt: f.tick()}
	checkErr(t, "AddAppSecret", f.s.AddAppSecret(f.ctx, sec), nil)
	checkErr(t, "AddAppKey", f.s.AddAppKey(f.ctx, store.AppKey{ID: "kid", AppID: o.app.ID, PublicKeyPEM: "pem", CreatedAt: f.tick()}), nil)
	code := f.newAuthCode(o)
	checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, code), nil)
	dev := f.newDeviceCode(o, "ABCD-EFGH")
	checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, dev), nil)
	access, refresh := f.tokenPair(o)
	jtiTok := f.newToken(o, store.TokenAccess, store.NewID())
	checkErr(t, "CreateOAuthTokensForJTI", f.s.CreateOAuthTokensForJTI(f.ctx, o.app.ID, "jti-1", f.tick()+100, jtiTok), nil)
	keepGrant := f.grant(store.Grant{AppID: keep.ID, UserID: o.user.ID, Owner: o.user.Account(), AllWorkspaces: true})

	checkErr(t, "DeleteApp", f.s.DeleteApp(f.ctx, o.app.ID), nil)
	if l, err := f.s.ListAppSecrets(f.ctx, o.app.ID); err != nil || len(l) != 0 {
		t.Errorf("secrets after DeleteApp: %v, %v", l, err)
	}
	_, err := f.s.GetAppSecretByHash(f.ctx, o.app.ID, sec.Hash)
	checkErr(t, "GetAppSecretByHash after DeleteApp", err, store.ErrNotFound)
	if l, err := f.s.ListAppKeys(f.ctx, o.app.ID); err != nil || len(l) != 0 {
		t.Errorf("keys after DeleteApp: %v, %v", l, err)
	}
	_, err = f.s.GetGrant(f.ctx, o.grant.ID)
	checkErr(t, "GetGrant after DeleteApp", err, store.ErrNotFound)
	_, err = f.s.ExchangeAuthCode(f.ctx, code.Hash, f.tick(), f.mustNotIssue("ExchangeAuthCode after DeleteApp"))
	checkErr(t, "ExchangeAuthCode after DeleteApp", err, store.ErrNotFound)
	_, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, dev.DeviceHash)
	checkErr(t, "GetDeviceCodeByDeviceHash after DeleteApp", err, store.ErrNotFound)
	for _, tok := range []store.OAuthToken{access, refresh, jtiTok} {
		_, err = f.s.GetOAuthTokenByHash(f.ctx, tok.Hash)
		checkErr(t, "GetOAuthTokenByHash after DeleteApp", err, store.ErrNotFound)
	}
	if g, err := f.s.GetGrant(f.ctx, keepGrant.ID); err != nil || g.ID != keepGrant.ID {
		t.Errorf("another app's grant was affected: %v", err)
	}
}

// ---- grants

func testGrants(t *testing.T, f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	e := f.enterprise("Acme", alice.ID)
	eOwner := store.Owner{Type: store.OwnerEnterprise, ID: e.ID}
	w1 := f.workspace("W1", alice.Account(), alice.ID)
	w2 := f.workspace("W2", alice.Account(), alice.ID)
	web := f.app(alice.Account(), alice.ID, store.ClientWebBackend)
	svc := f.app(eOwner, alice.ID, store.ClientService)

	g := store.Grant{ID: store.NewID(), AppID: web.ID, Kind: store.GrantOBO, UserID: alice.ID, Owner: alice.Account(),
		Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{w2.ID, w1.ID, w2.ID}, CreatedAt: f.tick()}
	g.UpdatedAt = g.CreatedAt
	got, err := f.s.PutGrant(f.ctx, g)
	want := g
	want.WorkspaceIDs = sortedIDs(w1.ID, w2.ID)
	if checkErr(t, "PutGrant", err, nil) {
		checkEqual(t, "PutGrant", got, want)
	}
	read, err := f.s.GetGrant(f.ctx, g.ID)
	if checkErr(t, "GetGrant", err, nil) {
		checkEqual(t, "GetGrant", read, want)
	}

	// Upsert: same key, new ID → the stored ID and CreatedAt stay.
	again := store.Grant{ID: store.NewID(), AppID: web.ID, Kind: store.GrantOBO, UserID: alice.ID, Owner: alice.Account(),
		Permissions: []string{"Bot.chat", "Workspace.list"}, AllWorkspaces: true, CreatedAt: f.tick()}
	again.UpdatedAt = again.CreatedAt
	got, err = f.s.PutGrant(f.ctx, again)
	want = g
	want.Permissions, want.AllWorkspaces, want.WorkspaceIDs, want.UpdatedAt = again.Permissions, true, nil, again.UpdatedAt
	if checkErr(t, "PutGrant(upsert)", err, nil) {
		checkEqual(t, "PutGrant(upsert)", got, want)
	}
	_, err = f.s.GetGrant(f.ctx, again.ID)
	checkErr(t, "GetGrant(upsert's unused ID)", err, store.ErrNotFound)

	bobG := f.grant(store.Grant{AppID: web.ID, UserID: bob.ID, Owner: bob.Account(), AllWorkspaces: true})
	install := f.grant(store.Grant{AppID: svc.ID, Kind: store.GrantAppAuth, Owner: eOwner, AllWorkspaces: true})
	personal := f.grant(store.Grant{AppID: svc.ID, Kind: store.GrantAppAuth, UserID: alice.ID, Owner: alice.Account(), AllWorkspaces: true})

	for _, tc := range []struct {
		name   string
		filter store.GrantFilter
		want   []string
	}{
		{"all", store.GrantFilter{}, []string{g.ID, bobG.ID, install.ID, personal.ID}},
		{"by app", store.GrantFilter{AppID: svc.ID}, []string{install.ID, personal.ID}},
		{"by user", store.GrantFilter{UserID: alice.ID}, []string{g.ID, personal.ID}},
		{"by owner", store.GrantFilter{Owner: eOwner}, []string{install.ID}},
		{"by kind", store.GrantFilter{Kind: store.GrantOBO}, []string{g.ID, bobG.ID}},
		{"by user and app", store.GrantFilter{UserID: alice.ID, AppID: web.ID}, []string{g.ID}},
	} {
		list, err := f.s.ListGrants(f.ctx, tc.filter)
		if checkErr(t, "ListGrants "+tc.name, err, nil) {
			ids := make([]string, len(list))
			for i, x := range list {
				ids[i] = x.ID
			}
			checkList(t, "ListGrants "+tc.name, ids, tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		g    store.Grant
	}{
		{"unknown app", store.Grant{AppID: store.NewID(), Kind: store.GrantOBO, UserID: alice.ID, Owner: alice.Account()}},
		{"bad kind", store.Grant{AppID: web.ID, Kind: "x", UserID: alice.ID, Owner: alice.Account()}},
		{"obo without user", store.Grant{AppID: web.ID, Kind: store.GrantOBO, Owner: alice.Account()}},
		{"unknown user", store.Grant{AppID: web.ID, Kind: store.GrantOBO, UserID: store.NewID(), Owner: alice.Account()}},
		{"unknown owner", store.Grant{AppID: web.ID, Kind: store.GrantOBO, UserID: alice.ID, Owner: store.Owner{Type: store.OwnerEnterprise, ID: store.NewID()}}},
		{"unknown workspace", store.Grant{AppID: web.ID, Kind: store.GrantOBO, UserID: bob.ID, Owner: alice.Account(), WorkspaceIDs: []string{store.NewID()}}},
		{"all and a list", store.Grant{AppID: web.ID, Kind: store.GrantOBO, UserID: bob.ID, Owner: alice.Account(), AllWorkspaces: true, WorkspaceIDs: []string{w1.ID}}},
	} {
		tc.g.ID = store.NewID()
		_, err := f.s.PutGrant(f.ctx, tc.g)
		checkErr(t, "PutGrant("+tc.name+")", err, store.ErrInvalid)
	}
	_, err = f.s.GetGrant(f.ctx, store.NewID())
	checkErr(t, "GetGrant(unknown)", err, store.ErrNotFound)
}

func sortedIDs(ids ...string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

func testDeleteGrant(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	other := f.grant(store.Grant{AppID: o.app.ID, Kind: store.GrantAppAuth, UserID: o.user.ID, Owner: o.user.Account(), AllWorkspaces: true})
	access, refresh := f.tokenPair(o)
	oo := o
	oo.grant = other
	otherAccess, _ := f.tokenPair(oo)
	code := f.newAuthCode(o)
	checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, code), nil)
	dev := f.newDeviceCode(o, "WXYZ-1234")
	checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, dev), nil)
	checkErr(t, "ApproveDeviceCode", f.s.ApproveDeviceCode(f.ctx, dev.UserCode, o.grant.ID, f.tick()), nil)

	rev := f.revision()
	checkErr(t, "DeleteGrant", f.s.DeleteGrant(f.ctx, o.grant.ID, f.tick()), nil)
	if got := f.revision(); got <= rev {
		t.Errorf("DeleteGrant did not advance the revision (%d → %d)", rev, got)
	}
	_, err := f.s.GetGrant(f.ctx, o.grant.ID)
	checkErr(t, "GetGrant after delete", err, store.ErrNotFound)
	f.checkRevoked("tokens of the deleted grant", true, access, refresh)
	f.checkRevoked("tokens of another grant", false, otherAccess)
	noRotation := func(store.OAuthToken, store.Grant) (store.Rotation, error) {
		t.Error("RotateRefresh after DeleteGrant issued tokens")
		return store.Rotation{}, errors.New("must not rotate")
	}
	checkErr(t, "RotateRefresh after DeleteGrant", f.rotate(refresh.Hash, f.tick(), noRotation), store.ErrRevoked)
	_, err = f.s.ExchangeAuthCode(f.ctx, code.Hash, f.tick(), f.mustNotIssue("ExchangeAuthCode after DeleteGrant"))
	checkErr(t, "ExchangeAuthCode after DeleteGrant", err, store.ErrNotFound)
	_, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, dev.DeviceHash)
	checkErr(t, "device code approved for the deleted grant", err, store.ErrNotFound)
	checkErr(t, "DeleteGrant again", f.s.DeleteGrant(f.ctx, o.grant.ID, f.tick()), store.ErrNotFound)
}

// ---- authorization codes

func testAuthCodes(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	c := f.newAuthCode(o)
	checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, c), nil)
	checkErr(t, "CreateAuthCode(same hash)", f.s.CreateAuthCode(f.ctx, c), store.ErrAlreadyExists)
	bad := f.newAuthCode(o)
	bad.GrantID = store.NewID()
	checkErr(t, "CreateAuthCode(unknown grant)", f.s.CreateAuthCode(f.ctx, bad), store.ErrInvalid)

	now := f.tick()
	fam := store.NewID()
	access, refresh := f.newToken(o, store.TokenAccess, fam), f.newToken(o, store.TokenRefresh, fam)
	var seen store.AuthCode
	var seenGrant store.Grant
	rev := f.revision()
	got, err := f.s.ExchangeAuthCode(f.ctx, c.Hash, now, func(c store.AuthCode, g store.Grant) ([]store.OAuthToken, error) {
		seen, seenGrant = c, g
		return []store.OAuthToken{access, refresh}, nil
	})
	want := c
	want.UsedAt = now
	checkEqual(t, "code seen by issue", seen, want)
	checkEqual(t, "grant seen by issue", seenGrant, o.grant)
	want.IssuedFamily = fam
	if checkErr(t, "ExchangeAuthCode", err, nil) {
		checkEqual(t, "ExchangeAuthCode", got, want)
	}
	f.checkRevoked("tokens issued by the exchange", false, access, refresh)
	if r := f.revision(); r != rev {
		t.Errorf("a normal exchange moved the revision %d → %d", rev, r)
	}
	unrelatedAccess, _ := f.tokenPair(o)

	// Second use: ErrUsed, and the first use's tokens are revoked.
	rev = f.revision()
	got, err = f.s.ExchangeAuthCode(f.ctx, c.Hash, f.tick(), f.mustNotIssue("second use"))
	checkErr(t, "ExchangeAuthCode(second use)", err, store.ErrUsed)
	if got.IssuedFamily != fam || got.UsedAt != now {
		t.Errorf("second ExchangeAuthCode returned %+v, want the code with the first use's family and time", got)
	}
	f.checkRevoked("family issued by the reused code", true, access, refresh)
	f.checkRevoked("another family", false, unrelatedAccess)
	if r := f.revision(); r <= rev {
		t.Errorf("revoking on code reuse did not advance the revision")
	}
	_, err = f.s.ExchangeAuthCode(f.ctx, tokenHash("unknown"), f.tick(), f.mustNotIssue("unknown code"))
	checkErr(t, "ExchangeAuthCode(unknown)", err, store.ErrNotFound)
}

// testAuthCodeFailedExchange: an exchange whose tokens cannot be issued or
// stored stores none of them.
func testAuthCodeFailedExchange(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	errIssue := errors.New("issue failed")
	existing, _ := f.tokenPair(o)
	for _, tc := range []struct {
		name     string
		tokens   func(fam string) []store.OAuthToken
		issueErr error // returned by issue with the tokens
		want     error
		// consumed: the code stays used, so a later exchange gets ErrUsed.
		consumed bool
	}{
		{
			name:     "issue fails",
			tokens:   func(fam string) []store.OAuthToken { return []store.OAuthToken{f.newToken(o, store.TokenAccess, fam)} },
			issueErr: errIssue, want: errIssue, consumed: true,
		},
		{
			name: "mixed families",
			tokens: func(fam string) []store.OAuthToken {
				return []store.OAuthToken{f.newToken(o, store.TokenAccess, fam), f.newToken(o, store.TokenRefresh, store.NewID())}
			},
			want: store.ErrInvalid,
		},
		{
			name: "duplicate hash",
			tokens: func(fam string) []store.OAuthToken {
				dup := f.newToken(o, store.TokenRefresh, fam)
				dup.Hash = existing.Hash
				return []store.OAuthToken{f.newToken(o, store.TokenAccess, fam), dup}
			},
			want: store.ErrAlreadyExists,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.newAuthCode(o)
			checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, c), nil)
			ts := tc.tokens(store.NewID())
			_, err := f.s.ExchangeAuthCode(f.ctx, c.Hash, f.tick(), func(store.AuthCode, store.Grant) ([]store.OAuthToken, error) {
				return ts, tc.issueErr
			})
			checkErr(t, "ExchangeAuthCode", err, tc.want)
			for _, tok := range ts {
				if tok.Hash == existing.Hash {
					continue
				}
				if _, err := f.s.GetOAuthTokenByHash(f.ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("token %s (%s) of the failed exchange: %v, want ErrNotFound", tok.ID, tok.Kind, err)
				}
			}
			if tc.consumed {
				_, err = f.s.ExchangeAuthCode(f.ctx, c.Hash, f.tick(), f.mustNotIssue("exchange after a failed issue"))
				checkErr(t, "ExchangeAuthCode after a failed issue", err, store.ErrUsed)
			}
		})
	}
	f.checkRevoked("the token whose hash was duplicated", false, existing)
}

// ---- device codes

func testDeviceCodes(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	d := f.newDeviceCode(o, "AAAA-BBBB")
	d.WorkspaceID = "fixed-ws"
	checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, d), nil)
	dup := f.newDeviceCode(o, d.UserCode)
	checkErr(t, "CreateDeviceCode(live user code)", f.s.CreateDeviceCode(f.ctx, dup), store.ErrAlreadyExists)

	got, err := f.s.GetDeviceCodeByUserCode(f.ctx, d.UserCode, f.tick())
	if checkErr(t, "GetDeviceCodeByUserCode", err, nil) {
		checkEqual(t, "GetDeviceCodeByUserCode", got, d)
	}
	_, err = f.s.GetDeviceCodeByUserCode(f.ctx, d.UserCode, d.ExpiresAt)
	checkErr(t, "GetDeviceCodeByUserCode(expired)", err, store.ErrNotFound)
	got, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, d.DeviceHash)
	if checkErr(t, "GetDeviceCodeByDeviceHash", err, nil) {
		checkEqual(t, "GetDeviceCodeByDeviceHash", got, d)
	}

	// Polls return the previous poll time.
	t1 := f.tick()
	got, prev, err := f.s.PollDevice(f.ctx, d.DeviceHash, t1, f.mustNotRedeem("poll #1"))
	if checkErr(t, "PollDevice #1", err, nil) && (prev != 0 || got.LastPolledAt != t1 || got.Status != store.DevicePending) {
		t.Errorf("PollDevice #1 = %+v, prev %d; want LastPolledAt %d, prev 0, pending", got, prev, t1)
	}
	t2 := f.tick()
	got, prev, err = f.s.PollDevice(f.ctx, d.DeviceHash, t2, nil)
	if checkErr(t, "PollDevice #2", err, nil) && (prev != t1 || got.LastPolledAt != t2) {
		t.Errorf("PollDevice #2: prev %d, LastPolledAt %d; want %d, %d", prev, got.LastPolledAt, t1, t2)
	}
	_, _, err = f.s.PollDevice(f.ctx, tokenHash("unknown"), f.tick(), f.mustNotRedeem("unknown"))
	checkErr(t, "PollDevice(unknown)", err, store.ErrNotFound)

	// Approve, once.
	checkErr(t, "ApproveDeviceCode(unknown)", f.s.ApproveDeviceCode(f.ctx, "NOPE-NOPE", o.grant.ID, f.tick()), store.ErrNotFound)
	checkErr(t, "ApproveDeviceCode(expired)", f.s.ApproveDeviceCode(f.ctx, d.UserCode, o.grant.ID, d.ExpiresAt), store.ErrNotFound)
	checkErr(t, "ApproveDeviceCode", f.s.ApproveDeviceCode(f.ctx, d.UserCode, o.grant.ID, f.tick()), nil)
	checkErr(t, "ApproveDeviceCode again", f.s.ApproveDeviceCode(f.ctx, d.UserCode, o.grant.ID, f.tick()), store.ErrUsed)
	checkErr(t, "DenyDeviceCode after approval", f.s.DenyDeviceCode(f.ctx, d.UserCode, f.tick()), store.ErrUsed)
	got, _, err = f.s.PollDevice(f.ctx, d.DeviceHash, f.tick(), nil)
	if checkErr(t, "PollDevice after approval", err, nil) && (got.Status != store.DeviceApproved || got.GrantID != o.grant.ID) {
		t.Errorf("after approval: %+v", got)
	}

	// A failed redemption stores nothing but the poll.
	access, refresh := f.newToken(o, store.TokenAccess, "fam-dev"), f.newToken(o, store.TokenRefresh, "fam-dev")
	errNo := errors.New("no tokens for you")
	tFail := f.tick()
	got, _, err = f.s.PollDevice(f.ctx, d.DeviceHash, tFail, func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error) {
		return nil, errNo
	})
	checkErr(t, "PollDevice(redeem fails)", err, errNo)
	got, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, d.DeviceHash)
	if checkErr(t, "GetDeviceCodeByDeviceHash", err, nil) && (got.Status != store.DeviceApproved || got.LastPolledAt != tFail) {
		t.Errorf("after a failed redemption: %+v, want approved, polled at %d", got, tFail)
	}

	// Redeem, once: the redeemer gets the code and its grant, the tokens are
	// stored and the code is redeemed.
	var gotCode store.DeviceCode
	var gotGrant store.Grant
	got, _, err = f.s.PollDevice(f.ctx, d.DeviceHash, f.tick(), func(c store.DeviceCode, g store.Grant) ([]store.OAuthToken, error) {
		gotCode, gotGrant = c, g
		return []store.OAuthToken{access, refresh}, nil
	})
	if checkErr(t, "PollDevice(redeem)", err, nil) && got.Status != store.DeviceRedeemed {
		t.Errorf("PollDevice(redeem) returned status %s, want redeemed", got.Status)
	}
	if gotCode.DeviceHash != d.DeviceHash || gotCode.Status != store.DeviceApproved || gotGrant.ID != o.grant.ID {
		t.Errorf("redeem got code %+v and grant %s, want the approved code and grant %s", gotCode, gotGrant.ID, o.grant.ID)
	}
	f.checkStored("redeemed device code", true, access, refresh)
	got, _, err = f.s.PollDevice(f.ctx, d.DeviceHash, f.tick(), f.mustNotRedeem("redeemed code"))
	if checkErr(t, "PollDevice(redeemed)", err, nil) && got.Status != store.DeviceRedeemed {
		t.Errorf("after redemption: %+v", got)
	}

	// Approved, but the grant is gone: the code went with it.
	dg := f.newDeviceCode(o, "GGGG-GGGG")
	checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, dg), nil)
	g2 := f.grant(store.Grant{AppID: o.app.ID, UserID: o.user.ID, Owner: o.user.Account(), Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	checkErr(t, "ApproveDeviceCode", f.s.ApproveDeviceCode(f.ctx, dg.UserCode, g2.ID, f.tick()), nil)
	checkErr(t, "DeleteGrant", f.s.DeleteGrant(f.ctx, g2.ID, f.tick()), nil)
	_, _, err = f.s.PollDevice(f.ctx, dg.DeviceHash, f.tick(), f.mustNotRedeem("grant deleted"))
	checkErr(t, "PollDevice(grant deleted)", err, store.ErrNotFound)

	// Deny.
	d2 := f.newDeviceCode(o, "CCCC-DDDD")
	checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, d2), nil)
	checkErr(t, "DenyDeviceCode", f.s.DenyDeviceCode(f.ctx, d2.UserCode, f.tick()), nil)
	got, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, d2.DeviceHash)
	if checkErr(t, "GetDeviceCodeByDeviceHash(denied)", err, nil) && (got.Status != store.DeviceDenied || got.GrantID != "") {
		t.Errorf("after denial: %+v", got)
	}
	got, _, err = f.s.PollDevice(f.ctx, d2.DeviceHash, f.tick(), f.mustNotRedeem("denied code"))
	if checkErr(t, "PollDevice(denied)", err, nil) && got.Status != store.DeviceDenied {
		t.Errorf("poll after denial: %+v", got)
	}

	// An expired code's user code can be drawn again.
	d3 := f.newDeviceCode(o, d.UserCode)
	d3.CreatedAt = d.ExpiresAt
	d3.ExpiresAt = d3.CreatedAt + 600
	checkErr(t, "CreateDeviceCode(user code of an expired code)", f.s.CreateDeviceCode(f.ctx, d3), nil)
	got, err = f.s.GetDeviceCodeByUserCode(f.ctx, d.UserCode, d3.CreatedAt)
	if checkErr(t, "GetDeviceCodeByUserCode(reused user code)", err, nil) && got.DeviceHash != d3.DeviceHash {
		t.Errorf("user code finds %s, want the new code %s", got.DeviceHash, d3.DeviceHash)
	}
}

// ---- tokens

func testOAuthTokens(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	fam := store.NewID()
	access := f.newToken(o, store.TokenAccess, fam)
	access.SessionName, access.Permissions, access.BotIDs = "session-1", []string{"Connector.botChat"}, []string{"bot1", "bot2"}
	checkErr(t, "CreateOAuthTokens", f.s.CreateOAuthTokens(f.ctx, access), nil)
	got, err := f.s.GetOAuthTokenByHash(f.ctx, access.Hash)
	if checkErr(t, "GetOAuthTokenByHash", err, nil) {
		checkEqual(t, "GetOAuthTokenByHash", got, access)
	}
	_, err = f.s.GetOAuthTokenByHash(f.ctx, tokenHash("unknown"))
	checkErr(t, "GetOAuthTokenByHash(unknown)", err, store.ErrNotFound)

	// A pair is all or nothing.
	good := f.newToken(o, store.TokenAccess, fam)
	dup := f.newToken(o, store.TokenRefresh, fam)
	dup.Hash = access.Hash
	checkErr(t, "CreateOAuthTokens(duplicate hash)", f.s.CreateOAuthTokens(f.ctx, good, dup), store.ErrAlreadyExists)
	_, err = f.s.GetOAuthTokenByHash(f.ctx, good.Hash)
	checkErr(t, "first token of a failed pair", err, store.ErrNotFound)
	bad := f.newToken(o, "id_token", fam)
	checkErr(t, "CreateOAuthTokens(bad kind)", f.s.CreateOAuthTokens(f.ctx, bad), store.ErrInvalid)
	bad = f.newToken(o, store.TokenAccess, fam)
	bad.AppID = store.NewID()
	checkErr(t, "CreateOAuthTokens(unknown app)", f.s.CreateOAuthTokens(f.ctx, bad), store.ErrInvalid)
}

func testRefreshRotation(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	a0, r0 := f.tokenPair(o)
	other, _ := f.tokenPair(o)
	a1, r1 := f.newToken(o, store.TokenAccess, a0.FamilyID), f.newToken(o, store.TokenRefresh, a0.FamilyID)

	// A refused rotation (the callback fails: wrong client, expired) changes nothing.
	refused := errors.New("refused by the caller")
	err := f.rotate(r0.Hash, f.tick(), func(old store.OAuthToken, g store.Grant) (store.Rotation, error) {
		if old.Hash != r0.Hash || old.FamilyID != r0.FamilyID {
			t.Errorf("callback saw %+v, want the old refresh token", old)
		}
		checkEqual(t, "grant seen by the rotation callback", g, o.grant)
		return store.Rotation{}, refused
	})
	checkErr(t, "RotateRefresh(callback fails)", err, refused)
	if got := f.getToken(r0.Hash); got.RotatedAt != 0 || got.RevokedAt != 0 {
		t.Errorf("a refused rotation changed the token: %+v", got)
	}

	rev := f.revision()
	now := f.tick()
	checkErr(t, "RotateRefresh", f.rotate(r0.Hash, now, rotateTo(a1, r1)), nil)
	if got := f.revision(); got != rev {
		t.Errorf("a normal rotation moved the revision %d → %d", rev, got)
	}
	if got := f.getToken(r0.Hash); got.RotatedAt != now || got.RevokedAt != 0 {
		t.Errorf("old refresh token after rotation: %+v", got)
	}
	f.checkRevoked("after one rotation", false, a0, a1, r1)

	// Wrong family, access token, unknown.
	a2, r2 := f.newToken(o, store.TokenAccess, store.NewID()), f.newToken(o, store.TokenRefresh, store.NewID())
	checkErr(t, "RotateRefresh(new tokens of another family)", f.rotate(r1.Hash, f.tick(), rotateTo(a2, r2)), store.ErrInvalid)
	if got := f.getToken(r1.Hash); got.RotatedAt != 0 {
		t.Errorf("a failed rotation marked the token rotated: %+v", got)
	}
	checkErr(t, "RotateRefresh(access token)", f.rotate(a1.Hash, f.tick(), rotateTo(a2, r2)), store.ErrNotFound)
	checkErr(t, "RotateRefresh(unknown)", f.rotate(tokenHash("unknown"), f.tick(), rotateTo(a2, r2)), store.ErrNotFound)

	// Reuse of r0: the whole family goes, the new pair included.
	a3, r3 := f.newToken(o, store.TokenAccess, a0.FamilyID), f.newToken(o, store.TokenRefresh, a0.FamilyID)
	checkErr(t, "RotateRefresh(reuse)", f.rotate(r0.Hash, f.tick(), rotateTo(a3, r3)), store.ErrUsed)
	f.checkRevoked("family after reuse", true, a0, r0, a1, r1)
	f.checkRevoked("another family after reuse", false, other)
	_, err = f.s.GetOAuthTokenByHash(f.ctx, r3.Hash)
	checkErr(t, "token offered to the reused rotation", err, store.ErrNotFound)
	if got := f.revision(); got <= rev {
		t.Errorf("revoking on reuse did not advance the revision")
	}
	// r1 is revoked (not rotated).
	checkErr(t, "RotateRefresh(revoked)", f.rotate(r1.Hash, f.tick(), rotateTo(a3, r3)), store.ErrRevoked)
}

// testRefreshRetry: a rotated refresh token presented again within the
// window, while the token it rotated to is unused, gets the kept Retry back
// and changes nothing; later, or once the new token was used, it is reuse.
func testRefreshRetry(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	_, r0 := f.tokenPair(o)
	a1, r1 := f.newToken(o, store.TokenAccess, r0.FamilyID), f.newToken(o, store.TokenRefresh, r0.FamilyID)
	const window = 10
	now := f.tick()
	issue := func(access, refresh store.OAuthToken, retry string) func(store.OAuthToken, store.Grant) (store.Rotation, error) {
		return func(store.OAuthToken, store.Grant) (store.Rotation, error) {
			return store.Rotation{Access: access, Refresh: refresh, Retry: retry}, nil
		}
	}
	got, err := f.s.RotateRefresh(f.ctx, r0.Hash, now, window, issue(a1, r1, "sealed-pair-1"))
	if checkErr(t, "RotateRefresh", err, nil) && got != "" {
		t.Errorf("a first rotation returned retry %q", got)
	}
	a2, r2 := f.newToken(o, store.TokenAccess, r0.FamilyID), f.newToken(o, store.TokenRefresh, r0.FamilyID)
	mustNotIssue := func(store.OAuthToken, store.Grant) (store.Rotation, error) {
		t.Error("a retry called issue")
		return store.Rotation{}, errors.New("no")
	}
	got, err = f.s.RotateRefresh(f.ctx, r0.Hash, now+window, window, mustNotIssue)
	if checkErr(t, "retry within the window", err, nil) && got != "sealed-pair-1" {
		t.Errorf("retry within the window returned %q, want the kept one", got)
	}
	f.checkRevoked("after a retry", false, a1, r1)
	_, err = f.s.GetOAuthTokenByHash(f.ctx, r2.Hash)
	checkErr(t, "nothing new stored by a retry", err, store.ErrNotFound)

	// Once r1 is used, r0 again is reuse even inside the window.
	checkErr(t, "rotate r1", f.rotate(r1.Hash, now+1, rotateTo(a2, r2)), nil)
	_, err = f.s.RotateRefresh(f.ctx, r0.Hash, now+2, window, mustNotIssue)
	checkErr(t, "r0 after r1 was used", err, store.ErrUsed)
	f.checkRevoked("family after reuse", true, a1, r1, a2, r2)

	// Past the window: reuse.
	_, s0 := f.tokenPair(o)
	b1, s1 := f.newToken(o, store.TokenAccess, s0.FamilyID), f.newToken(o, store.TokenRefresh, s0.FamilyID)
	later := f.tick()
	_, err = f.s.RotateRefresh(f.ctx, s0.Hash, later, window, issue(b1, s1, "sealed-pair-2"))
	checkErr(t, "RotateRefresh", err, nil)
	_, err = f.s.RotateRefresh(f.ctx, s0.Hash, later+window+1, window, mustNotIssue)
	checkErr(t, "retry past the window", err, store.ErrUsed)
	f.checkRevoked("family after a late retry", true, b1, s1)
}

func testRevokeTokens(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	other := f.app(o.user.Account(), o.user.ID, store.ClientTerminal)
	og := f.grant(store.Grant{AppID: other.ID, UserID: o.user.ID, Owner: o.user.Account(), AllWorkspaces: true})
	oo := oauthSetup{user: o.user, app: other, grant: og}
	a1, r1 := f.tokenPair(o)
	a2, r2 := f.tokenPair(o)
	a3, r3 := f.tokenPair(oo)

	now := f.tick()
	checkErr(t, "RevokeTokenFamily", f.s.RevokeTokenFamily(f.ctx, a1.FamilyID, now), nil)
	f.checkRevoked("revoked family", true, a1, r1)
	f.checkRevoked("other families", false, a2, r2, a3, r3)
	checkErr(t, "RevokeTokenFamily again", f.s.RevokeTokenFamily(f.ctx, a1.FamilyID, f.tick()), nil)
	if got := f.getToken(a1.Hash); got.RevokedAt != now {
		t.Errorf("revoking again moved RevokedAt from %d to %d", now, got.RevokedAt)
	}
	a4, r4 := f.tokenPair(o)
	checkErr(t, "RevokeOAuthToken", f.s.RevokeOAuthToken(f.ctx, a4.ID, f.tick()), nil)
	f.checkRevoked("revoked access token", true, a4)
	f.checkRevoked("its refresh token and the others", false, r4, a2, r2, a3, r3)
	checkErr(t, "RevokeOAuthToken(unknown)", f.s.RevokeOAuthToken(f.ctx, store.NewID(), f.tick()), nil)
	checkErr(t, "RevokeTokensByGrant", f.s.RevokeTokensByGrant(f.ctx, o.grant.ID, f.tick()), nil)
	f.checkRevoked("grant revoked", true, a2, r2)
	f.checkRevoked("other app", false, a3, r3)
	checkErr(t, "RevokeTokensByApp", f.s.RevokeTokensByApp(f.ctx, other.ID, f.tick()), nil)
	f.checkRevoked("app revoked", true, a3, r3)
}

func testJTI(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	other := f.app(o.user.Account(), o.user.ID, store.ClientService)
	oo := oauthSetup{user: o.user, app: other, grant: f.grant(store.Grant{AppID: other.ID, Kind: store.GrantAppAuth, UserID: o.user.ID, Owner: o.user.Account(), AllWorkspaces: true})}
	exp := f.tick() + 3600
	long := ""
	for range 8 {
		long += "0123456789abcdef"
	}
	tok := func(o oauthSetup) store.OAuthToken { return f.newToken(o, store.TokenAccess, store.NewID()) }
	badKind := tok(o)
	badKind.Kind = "id_token"
	// Steps run in order; a step's tokens are stored exactly when it succeeds.
	for _, st := range []struct {
		name       string
		appID, jti string
		tokens     []store.OAuthToken
		want       error
	}{
		{"first use", o.app.ID, "jti-1", []store.OAuthToken{tok(o)}, nil},
		{"replay", o.app.ID, "jti-1", []store.OAuthToken{tok(o)}, store.ErrAlreadyExists},
		{"same jti, other app", other.ID, "jti-1", []store.OAuthToken{tok(oo)}, nil},
		{"128 chars, no tokens", o.app.ID, long, nil, nil},
		{"unknown app", store.NewID(), "jti-2", nil, store.ErrInvalid},
		{"unknown app, with a token", store.NewID(), "jti-4", []store.OAuthToken{tok(o)}, store.ErrInvalid},
		{"invalid token", o.app.ID, "jti-3", []store.OAuthToken{tok(o), badKind}, store.ErrInvalid},
		{"jti of a failed call is not spent", o.app.ID, "jti-3", []store.OAuthToken{tok(o)}, nil},
	} {
		err := f.s.CreateOAuthTokensForJTI(f.ctx, st.appID, st.jti, exp, st.tokens...)
		checkErr(t, "CreateOAuthTokensForJTI("+st.name+")", err, st.want)
		f.checkStored(st.name, st.want == nil, st.tokens...)
	}
}

func testDeleteExpired(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	now := f.tick() + 1000

	oldCode, liveCode := f.newAuthCode(o), f.newAuthCode(o)
	oldCode.ExpiresAt, liveCode.ExpiresAt = now, now+1
	oldDev, liveDev := f.newDeviceCode(o, "OLD1-OLD1"), f.newDeviceCode(o, "LIVE-LIVE")
	oldDev.ExpiresAt, liveDev.ExpiresAt = now-store.DeviceCodeTombstone, now+300
	// Expired a minute ago: kept as a tombstone so its poller hears expired_token.
	tombDev := f.newDeviceCode(o, "TOMB-TOMB")
	tombDev.ExpiresAt = now - 60
	for _, c := range []store.AuthCode{oldCode, liveCode} {
		checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, c), nil)
	}
	for _, d := range []store.DeviceCode{oldDev, liveDev, tombDev} {
		checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, d), nil)
	}
	checkErr(t, "CreateOAuthTokensForJTI(old)", f.s.CreateOAuthTokensForJTI(f.ctx, o.app.ID, "old", now), nil)
	checkErr(t, "CreateOAuthTokensForJTI(live)", f.s.CreateOAuthTokensForJTI(f.ctx, o.app.ID, "live", now+10), nil)
	fam := store.NewID()
	oldTok, liveTok := f.newToken(o, store.TokenAccess, fam), f.newToken(o, store.TokenRefresh, fam)
	oldTok.ExpiresAt, liveTok.ExpiresAt = now-100, now+1
	checkErr(t, "CreateOAuthTokens", f.s.CreateOAuthTokens(f.ctx, oldTok, liveTok), nil)

	rev := f.revision()
	n, err := f.s.DeleteExpired(f.ctx, now)
	if checkErr(t, "DeleteExpired", err, nil) && n != 4 {
		t.Errorf("DeleteExpired removed %d rows, want 4", n)
	}
	if got := f.revision(); got != rev {
		t.Errorf("DeleteExpired moved the revision %d → %d", rev, got)
	}
	_, err = f.s.ExchangeAuthCode(f.ctx, oldCode.Hash, now, f.mustNotIssue("expired code"))
	checkErr(t, "expired code", err, store.ErrNotFound)
	_, err = f.s.ExchangeAuthCode(f.ctx, liveCode.Hash, now, issueTokens())
	checkErr(t, "live code", err, nil)
	_, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, oldDev.DeviceHash)
	checkErr(t, "expired device code", err, store.ErrNotFound)
	_, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, liveDev.DeviceHash)
	checkErr(t, "live device code", err, nil)
	_, err = f.s.GetDeviceCodeByDeviceHash(f.ctx, tombDev.DeviceHash)
	checkErr(t, "recently expired device code (tombstone)", err, nil)
	checkErr(t, "expired JTI is forgotten", f.s.CreateOAuthTokensForJTI(f.ctx, o.app.ID, "old", now+10), nil)
	checkErr(t, "live JTI is remembered", f.s.CreateOAuthTokensForJTI(f.ctx, o.app.ID, "live", now+10), store.ErrAlreadyExists)
	_, err = f.s.GetOAuthTokenByHash(f.ctx, oldTok.Hash)
	checkErr(t, "expired token", err, store.ErrNotFound)
	_, err = f.s.GetOAuthTokenByHash(f.ctx, liveTok.Hash)
	checkErr(t, "live token", err, nil)
	if _, err := f.s.GetGrant(f.ctx, o.grant.ID); err != nil {
		t.Errorf("DeleteExpired removed the grant: %v", err)
	}
	n, err = f.s.DeleteExpired(f.ctx, now)
	if checkErr(t, "DeleteExpired again", err, nil) && n != 0 {
		t.Errorf("DeleteExpired again removed %d rows, want 0", n)
	}
}

// testOAuthRevision: the revision advances on revocation, deletion and
// deactivation, and not on hot-path writes (tokens, codes, polls, JTIs).
func testOAuthRevision(t *testing.T, f *fixture) {
	alice := f.user("alice")
	s, ctx := f.s, f.ctx
	a := f.newApp(alice.Account(), alice.ID, store.ClientWebBackend)
	o := oauthSetup{user: alice, app: a}
	g := store.Grant{ID: store.NewID(), AppID: a.ID, Kind: store.GrantOBO, UserID: alice.ID, Owner: alice.Account(), AllWorkspaces: true, CreatedAt: f.tick()}
	o.grant = g
	fam := store.NewID()
	access, refresh := f.newToken(o, store.TokenAccess, fam), f.newToken(o, store.TokenRefresh, fam)
	a1, r1 := f.newToken(o, store.TokenAccess, fam), f.newToken(o, store.TokenRefresh, fam)
	code := f.newAuthCode(o)
	codeFam := store.NewID()
	codeAccess, codeRefresh := f.newToken(o, store.TokenAccess, codeFam), f.newToken(o, store.TokenRefresh, codeFam)
	jtiAccess := f.newToken(o, store.TokenAccess, store.NewID())
	dev := f.newDeviceCode(o, "REV0-REV0")
	devAccess := f.newToken(o, store.TokenAccess, store.NewID())
	sec := store.AppSecret{ID: store.NewID(), AppID: a.ID, Hash: tokenHash("sec"), CreatedAt: f.tick()}
	key := store.AppKey{ID: "kid", AppID: a.ID, PublicKeyPEM: "pem", CreatedAt: f.tick()}

	for _, st := range []struct {
		name     string
		do       func() error
		advances bool
	}{
		{"create app", func() error { return s.CreateApp(ctx, a) }, false},
		{"add secret", func() error { return s.AddAppSecret(ctx, sec) }, false},
		{"add key", func() error { return s.AddAppKey(ctx, key) }, false},
		{"put grant", func() error { _, err := s.PutGrant(ctx, g); return err }, true},
		{"create tokens", func() error { return s.CreateOAuthTokens(ctx, access, refresh) }, false},
		{"create code", func() error { return s.CreateAuthCode(ctx, code) }, false},
		{"exchange code", func() error {
			_, err := s.ExchangeAuthCode(ctx, code.Hash, f.tick(), issueTokens(codeAccess, codeRefresh))
			return err
		}, false},
		{"reuse code (revokes)", func() error {
			_, err := s.ExchangeAuthCode(ctx, code.Hash, f.tick(), f.mustNotIssue("reuse code"))
			if !errors.Is(err, store.ErrUsed) {
				return fmt.Errorf("reuse: %v, want ErrUsed", err)
			}
			return nil
		}, true},
		{"create device code", func() error { return s.CreateDeviceCode(ctx, dev) }, false},
		{"poll device", func() error { _, _, err := s.PollDevice(ctx, dev.DeviceHash, f.tick(), nil); return err }, false},
		{"approve device", func() error { return s.ApproveDeviceCode(ctx, dev.UserCode, g.ID, f.tick()) }, false},
		{"redeem device", func() error {
			_, _, err := s.PollDevice(ctx, dev.DeviceHash, f.tick(), func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error) {
				return []store.OAuthToken{devAccess}, nil
			})
			return err
		}, false},
		{"create tokens for jti", func() error { return s.CreateOAuthTokensForJTI(ctx, a.ID, "j", f.tick()+60, jtiAccess) }, false},
		{"rotate refresh", func() error { return f.rotate(refresh.Hash, f.tick(), rotateTo(a1, r1)) }, false},
		{"reads", func() error {
			if _, err := s.GetOAuthTokenByHash(ctx, access.Hash); err != nil {
				return err
			}
			_, err := s.GetAppByClientID(ctx, a.ClientID)
			return err
		}, false},
		{"deactivate app", func() error {
			_, err := s.UpdateApp(ctx, a.ID, func(a store.App) (store.App, error) { a.Active = false; return a, nil })
			return err
		}, true},
		{"revoke one token", func() error { return s.RevokeOAuthToken(ctx, a1.ID, f.tick()) }, true},
		{"revoke family", func() error { return s.RevokeTokenFamily(ctx, fam, f.tick()) }, true},
		{"revoke by grant", func() error { return s.RevokeTokensByGrant(ctx, g.ID, f.tick()) }, true},
		{"revoke by app", func() error { return s.RevokeTokensByApp(ctx, a.ID, f.tick()) }, true},
		{"delete secret", func() error { return s.DeleteAppSecret(ctx, a.ID, sec.ID) }, true},
		{"delete key", func() error { return s.DeleteAppKey(ctx, a.ID, key.ID) }, true},
		{"delete grant", func() error { return s.DeleteGrant(ctx, g.ID, f.tick()) }, true},
		{"delete app", func() error { return s.DeleteApp(ctx, a.ID) }, true},
	} {
		before := f.revision()
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		after := f.revision()
		if st.advances && after <= before {
			t.Errorf("%s did not advance the revision (%d)", st.name, before)
		}
		if !st.advances && after != before {
			t.Errorf("%s moved the revision %d → %d", st.name, before, after)
		}
	}
}

// rotateTo is a RotateRefresh issue callback returning a fixed pair.
func rotateTo(access, refresh store.OAuthToken) func(store.OAuthToken, store.Grant) (store.Rotation, error) {
	return func(store.OAuthToken, store.Grant) (store.Rotation, error) {
		return store.Rotation{Access: access, Refresh: refresh}, nil
	}
}

// rotate is RotateRefresh without a retry window.
func (f *fixture) rotate(hash string, now int64, issue func(store.OAuthToken, store.Grant) (store.Rotation, error)) error {
	_, err := f.s.RotateRefresh(f.ctx, hash, now, 0, issue)
	return err
}

package oauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

type fixture struct {
	t     testing.TB
	s     *Service
	db    *sqlstore.DB
	now   time.Time
	alice store.User
	ws1   store.Workspace
	ws2   store.Workspace
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, now: time.Unix(1_800_000_000, 0)}
	clock := func() time.Time { return f.now }
	f.s = (&Service{Store: db, Catalog: permission.Default(), Lifetimes: DefaultLifetimes(), PublicURL: "http://auth.test:8080",
		Now: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Init(&cache.Generation{})
	ids := &identity.Service{Store: db, Now: clock}
	if f.alice, err = ids.CreateUser(ctx, "alice", "password-1", ""); err != nil {
		t.Fatal(err)
	}
	if f.ws1, err = ids.CreateWorkspace(ctx, "one", "alice", ""); err != nil {
		t.Fatal(err)
	}
	if f.ws2, err = ids.CreateWorkspace(ctx, "two", "alice", ""); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) app(typ store.ClientType, perms ...string) (store.App, string) {
	f.t.Helper()
	spec := AppSpec{Owner: f.alice.Account(), CreatedBy: f.alice.ID, Type: typ, Name: "app", Permissions: perms}
	if typ == store.ClientWebBackend || typ == store.ClientSinglePageOrNative {
		spec.RedirectURIs = []string{"http://127.0.0.1:9/cb"}
	}
	app, secret, err := f.s.CreateApp(context.Background(), spec)
	if err != nil {
		f.t.Fatal(err)
	}
	return app, secret
}

// post calls the /token handler (or device code) and decodes the reply.
func (f *fixture) post(handler http.HandlerFunc, path, bearer string, body any) (int, map[string]any) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", handler)
	mux.HandleFunc("POST /account/{account_id}/token", handler)
	mux.HandleFunc("POST /enterprise_id/{enterprise_id}/token", handler)
	mux.HandleFunc("POST /device/code", handler)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		f.t.Fatalf("%s: body %q: %v", path, rec.Body.String(), err)
	}
	if rec.Code != 200 {
		if out["error"] != out["error_code"] || out["error_message"] == "" || out["code"] != nil || out["msg"] != nil {
			f.t.Fatalf("error body not in the WIRE.md §3.5 shape: %v", out)
		}
	}
	return rec.Code, out
}

func (f *fixture) approve(app store.App, challenge, method string, all bool, ws ...string) string {
	f.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURIs[0]}, "state": {"st"}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", method)
	}
	req, err := f.s.ParseAuthorize(context.Background(), q, "")
	if err != nil {
		f.t.Fatal(err)
	}
	loc, err := f.s.Approve(context.Background(), req, Choice{UserID: f.alice.ID, Account: f.alice.Account(), AllWorkspaces: all, WorkspaceIDs: ws})
	if err != nil {
		f.t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if u.Query().Get("state") != "st" {
		f.t.Fatalf("state not echoed: %s", loc)
	}
	return u.Query().Get("code")
}

func (f *fixture) view(token string) *Principal {
	f.t.Helper()
	p, err := f.s.Resolve(context.Background(), token)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func TestCodeGrant(t *testing.T) {
	f := newFixture(t)
	web, secret := f.app(store.ClientWebBackend, "Bot.chat", "Workspace.list")
	spa, _ := f.app(store.ClientSinglePageOrNative, "Bot.chat")
	exchange := func(app store.App, bearer, code, verifier string) (int, map[string]any) {
		return f.post(f.s.Token, "/token", bearer, map[string]string{"grant_type": "authorization_code", "client_id": app.ClientID,
			"code": code, "redirect_uri": app.RedirectURIs[0], "code_verifier": verifier})
	}
	verifier := "a short verifier" // no length or charset rules (WIRE.md §5)
	tests := []struct {
		name      string
		app       store.App
		bearer    string
		challenge string
		method    string
		verifier  string
		status    int
		errCode   string
	}{
		{"web with secret", web, secret, "", "", "", 200, ""},
		{"web, wrong secret", web, "czs_wrong", "", "", "", 401, "invalid_client"},
		{"web, no secret", web, "", "", "", "", 401, "invalid_client"},
		{"pkce S256", spa, "", s256(verifier), "S256", verifier, 200, ""},
		{"pkce plain", spa, "", verifier, "plain", verifier, 200, ""},
		{"pkce plain label on an S256 challenge (JS SDK)", spa, "", s256(verifier), "plain", verifier, 200, ""},
		{"pkce mismatch", spa, "", s256(verifier), "S256", "other", 400, "invalid_grant"},
		{"pkce verifier missing", spa, "", s256(verifier), "S256", "", 400, "invalid_grant"},
		{"verifier without challenge", web, secret, "", "", verifier, 400, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := f.approve(tc.app, tc.challenge, tc.method, false, f.ws1.ID)
			status, body := exchange(tc.app, tc.bearer, code, tc.verifier)
			if status != tc.status || (tc.errCode != "" && body["error"] != tc.errCode) {
				t.Fatalf("got %d %v", status, body)
			}
			if status == 200 {
				if exp, _ := body["expires_in"].(float64); int64(exp) != f.now.Add(15*time.Minute).Unix() {
					t.Fatalf("expires_in %v is not absolute now+15m", body["expires_in"])
				}
				if tok := body["access_token"].(string); strings.HasPrefix(tok, "pat_") || body["refresh_token"] == "" {
					t.Fatalf("token shape %v", body)
				}
			}
		})
	}

	t.Run("reuse revokes what the first use issued", func(t *testing.T) {
		code := f.approve(web, "", "", false, f.ws1.ID)
		_, first := exchange(web, secret, code, "")
		status, body := exchange(web, secret, code, "")
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("second use: %d %v", status, body)
		}
		p := f.view(first["access_token"].(string))
		if d := permission.Decide(f.now.Unix(), &p.View, nil, permission.Facts{SubjectInAccount: true}); d.Code != permission.Unauthenticated {
			t.Fatalf("first use's token still valid: %+v", d)
		}
	})
	t.Run("redirect_uri required when the authorization request had one", func(t *testing.T) {
		// RFC 6749 §4.1.3. The fixture's authorization requests name it.
		code := f.approve(web, "", "", false, f.ws1.ID)
		status, body := f.post(f.s.Token, "/token", secret, map[string]string{"grant_type": "authorization_code",
			"client_id": web.ClientID, "code": code})
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("exchange without redirect_uri: %d %v", status, body)
		}
	})
	t.Run("redirect_uri may be left out of both", func(t *testing.T) {
		q := url.Values{"response_type": {"code"}, "client_id": {web.ClientID}} // the app's only registered URI
		req, err := f.s.ParseAuthorize(context.Background(), q, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := req.Query().Get("redirect_uri"); got != "" {
			t.Errorf("the consent form would add redirect_uri=%q the client never sent", got)
		}
		loc, err := f.s.Approve(context.Background(), req, Choice{UserID: f.alice.ID, Account: f.alice.Account(), WorkspaceIDs: []string{f.ws1.ID}})
		if err != nil || !strings.HasPrefix(loc, web.RedirectURIs[0]+"?") {
			t.Fatalf("Approve = %q, %v", loc, err)
		}
		u, _ := url.Parse(loc)
		status, body := f.post(f.s.Token, "/token", secret, map[string]string{"grant_type": "authorization_code",
			"client_id": web.ClientID, "code": u.Query().Get("code")})
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, body)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		code := f.approve(web, "", "", false, f.ws1.ID)
		f.now = f.now.Add(5 * time.Minute)
		defer func() { f.now = f.now.Add(-5 * time.Minute) }()
		if status, body := exchange(web, secret, code, ""); status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("got %d %v", status, body)
		}
	})
	t.Run("a wider consent keeps earlier tokens; a narrower one ends them", func(t *testing.T) {
		_, narrow := exchange(web, secret, f.approve(web, "", "", false, f.ws1.ID), "")
		_, wide := exchange(web, secret, f.approve(web, "", "", true), "")
		n, w := f.view(narrow["access_token"].(string)), f.view(wide["access_token"].(string))
		if n.View.AllWorkspaces || len(n.View.Workspaces) != 1 || n.View.Workspaces[0] != f.ws1.ID || !w.View.AllWorkspaces {
			t.Fatalf("narrow %+v wide %+v", n.View, w.View)
		}
		live := func(tok string) bool {
			p := f.view(tok)
			return permission.Decide(f.now.Unix(), &p.View, nil, permission.Facts{SubjectInAccount: true}).OK()
		}
		if !live(narrow["access_token"].(string)) {
			t.Fatal("a wider consent ended the earlier, narrower token")
		}
		// A narrower consent (issue 11.6): the earlier, wider token and its
		// refresh family end, or refreshing would keep the wider scope forever.
		_, narrower := exchange(web, secret, f.approve(web, "", "", false, f.ws2.ID), "")
		if live(wide["access_token"].(string)) {
			t.Error("the wide access token still works after a narrower consent")
		}
		status, body := f.post(f.s.Token, "/token", secret, map[string]string{"grant_type": "refresh_token",
			"client_id": web.ClientID, "refresh_token": wide["refresh_token"].(string)})
		if status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("refreshing the wide family after a narrower consent: %d %v", status, body)
		}
		if n := f.view(narrower["access_token"].(string)); !live(narrower["access_token"].(string)) || len(n.View.Workspaces) != 1 || n.View.Workspaces[0] != f.ws2.ID {
			t.Errorf("the new consent's token: %+v", n.View)
		}
	})
	t.Run("token scope is the grant", func(t *testing.T) {
		code := f.approve(web, "", "", false, f.ws1.ID)
		_, body := exchange(web, secret, code, "")
		p := f.view(body["access_token"].(string))
		if p.View.UserID != f.alice.ID || p.View.AllWorkspaces || len(p.View.Workspaces) != 1 || p.View.Workspaces[0] != f.ws1.ID ||
			strings.Join(p.View.Permissions, ",") != "Bot.chat,Workspace.list" {
			t.Fatalf("view %+v", p.View)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	f := newFixture(t)
	web, secret := f.app(store.ClientWebBackend, "Bot.chat")
	code := f.approve(web, "", "", true)
	_, first := f.post(f.s.Token, "/token", secret, map[string]string{"grant_type": "authorization_code", "client_id": web.ClientID, "code": code, "redirect_uri": web.RedirectURIs[0]})
	refresh := func(bearer, tok string) (int, map[string]any) {
		return f.post(f.s.Token, "/token", bearer, map[string]string{"grant_type": "refresh_token", "client_id": web.ClientID, "refresh_token": tok})
	}
	if status, body := refresh("", first["refresh_token"].(string)); status != 401 || body["error"] != "invalid_client" {
		t.Fatalf("confidential refresh without secret: %d %v", status, body)
	}
	status, second := refresh(secret, first["refresh_token"].(string))
	if status != 200 || second["refresh_token"] == first["refresh_token"] {
		t.Fatalf("rotation: %d %v", status, second)
	}
	// A retry within the window (the client lost the answer) gets the same
	// pair back and revokes nothing (issue 11.15).
	f.now = f.now.Add(f.s.Lifetimes.RefreshRetry)
	if status, again := refresh(secret, first["refresh_token"].(string)); status != 200 ||
		again["access_token"] != second["access_token"] || again["refresh_token"] != second["refresh_token"] {
		t.Fatalf("retry within the window: %d %v, want the same pair as %v", status, again, second)
	}
	if p := f.view(second["access_token"].(string)); p.View.Revoked {
		t.Fatal("a retry revoked the family")
	}
	// Later, it is reuse: the family goes.
	f.now = f.now.Add(time.Second)
	if status, body := refresh(secret, first["refresh_token"].(string)); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", status, body)
	}
	f.s.Init(&cache.Generation{}) // what the revision watcher does: the access token was cached by the check above
	if p := f.view(second["access_token"].(string)); !p.View.Revoked {
		t.Fatal("reuse did not revoke the family")
	}
	if status, _ := refresh(secret, second["refresh_token"].(string)); status != 400 {
		t.Fatal("the family's newest refresh token still works")
	}

	t.Run("no retry once the new token was used, or with the window off", func(t *testing.T) {
		pair := func() map[string]any {
			_, p := f.post(f.s.Token, "/token", secret, map[string]string{"grant_type": "authorization_code", "client_id": web.ClientID,
				"code": f.approve(web, "", "", true), "redirect_uri": web.RedirectURIs[0]})
			return p
		}
		p0 := pair()
		_, p1 := refresh(secret, p0["refresh_token"].(string))
		if status, _ := refresh(secret, p1["refresh_token"].(string)); status != 200 {
			t.Fatal("rotating the new token failed")
		}
		if status, body := refresh(secret, p0["refresh_token"].(string)); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("the first token after its successor was used: %d %v, want reuse", status, body)
		}
		f.s.Lifetimes.RefreshRetry = 0
		defer func() { f.s.Lifetimes.RefreshRetry = DefaultLifetimes().RefreshRetry }()
		q0 := pair()
		refresh(secret, q0["refresh_token"].(string))
		if status, body := refresh(secret, q0["refresh_token"].(string)); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("window off: %d %v, want reuse at once", status, body)
		}
	})
}

func TestDeviceGrant(t *testing.T) {
	f := newFixture(t)
	dev, _ := f.app(store.ClientTerminal, "Bot.chat")
	ctx := context.Background()
	start := func() map[string]any {
		status, body := f.post(f.s.DeviceCode, "/device/code", "", map[string]string{"client_id": dev.ClientID})
		if status != 200 || body["verification_uri"] != "http://auth.test:8080/device" || body["interval"] != float64(5) {
			t.Fatalf("device code: %d %v", status, body)
		}
		return body
	}
	poll := func(dc string) (int, map[string]any) {
		return f.post(f.s.Token, "/token", "", map[string]string{"grant_type": GrantTypeDeviceCode, "client_id": dev.ClientID, "device_code": dc})
	}
	d := start()
	dc := d["device_code"].(string)
	if _, b := poll(dc); b["error"] != "authorization_pending" {
		t.Fatalf("first poll: %v", b)
	}
	f.now = f.now.Add(time.Second)
	if _, b := poll(dc); b["error"] != "slow_down" {
		t.Fatalf("fast poll: %v", b)
	}
	f.now = f.now.Add(5 * time.Second)
	if _, b := poll(dc); b["error"] != "authorization_pending" {
		t.Fatalf("poll after the interval: %v", b)
	}
	p, err := f.s.LookupDevice(ctx, strings.ToLower(strings.ReplaceAll(d["user_code"].(string), "-", " ")))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.ApproveDevice(ctx, p, Choice{UserID: f.alice.ID, Account: f.alice.Account(), AllWorkspaces: true}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(5 * time.Second)
	if status, b := poll(dc); status != 200 || b["refresh_token"] == "" {
		t.Fatalf("approved poll: %d %v", status, b)
	}
	f.now = f.now.Add(5 * time.Second)
	if _, b := poll(dc); b["error"] != "invalid_grant" {
		t.Fatalf("redeemed poll: %v", b)
	}

	denied := start()
	p, _ = f.s.LookupDevice(ctx, denied["user_code"].(string))
	if err := f.s.DenyDevice(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, b := poll(denied["device_code"].(string)); b["error"] != "access_denied" {
		t.Fatalf("denied: %v", b)
	}
	expired := start()
	f.now = f.now.Add(10 * time.Minute)
	if _, b := poll(expired["device_code"].(string)); b["error"] != "expired_token" {
		t.Fatalf("expired: %v", b)
	}
	if _, err := f.s.LookupDevice(ctx, expired["user_code"].(string)); err != ErrUnknownUserCode {
		t.Fatalf("expired user code looked up: %v", err)
	}
	// Garbage collection keeps the expired code as a tombstone, so a client
	// still polling is told expired_token, not invalid_grant (issue 11.14).
	f.now = f.now.Add(time.Hour)
	if _, err := f.db.DeleteExpired(ctx, f.now.Unix()); err != nil {
		t.Fatal(err)
	}
	if _, b := poll(expired["device_code"].(string)); b["error"] != "expired_token" {
		t.Fatalf("expired, after garbage collection: %v", b)
	}

	// A poll whose redemption lost to another poll's is told the code was
	// used (its minted tokens were never stored).
	raced := start()
	f.s.Store = lostRedemption{f.s.Store}
	defer func() { f.s.Store = f.db }()
	if status, b := poll(raced["device_code"].(string)); status != 400 || b["error"] != "invalid_grant" || b["error_description"] != "device code already used" {
		t.Fatalf("a redemption lost to another poll: %d %v", status, b)
	}
}

// lostRedemption is a store whose every poll lost a redemption race.
type lostRedemption struct{ Store }

func (lostRedemption) PollDevice(context.Context, string, int64, func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error)) (store.DeviceCode, int64, error) {
	return store.DeviceCode{}, 0, fmt.Errorf("redeemed by another poll: %w", store.ErrUsed)
}

func TestJWTGrant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc, _ := f.app(store.ClientService, "Bot.chat", "Connector.botChat")
	key, privPEM, err := f.s.GenerateKey(ctx, svc.ID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(privPEM))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("generated key is not PKCS#8: %v", err)
	}
	priv := parsed.(*rsa.PrivateKey)
	jti := 0
	sign := func(mut func(c jwt.MapClaims, h map[string]any)) string {
		jti++
		c := jwt.MapClaims{"iss": svc.ClientID, "aud": "auth.test:8080", "iat": f.now.Unix(), "exp": f.now.Add(time.Hour).Unix(),
			"jti": fmt.Sprintf("jti-%d", jti)}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = key.ID
		if mut != nil {
			mut(c, tok.Header)
		}
		s, err := tok.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	grant := func(path, bearer string, body map[string]any) (int, map[string]any) {
		if body == nil {
			body = map[string]any{}
		}
		body["grant_type"] = GrantTypeJWTBearer
		return f.post(f.s.Token, path, bearer, body)
	}
	if status, b := grant("/token", sign(nil), nil); status != 400 || !strings.Contains(b["error_message"].(string), "not authorized") {
		t.Fatalf("before authorization: %d %v", status, b)
	}
	if _, err := f.s.AuthorizeApp(ctx, svc.ID, f.alice.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	replayed := sign(nil)
	other, _ := rsaKey(t)
	tests := []struct {
		name    string
		path    string
		bearer  string
		body    map[string]any
		status  int
		errCode string
	}{
		{"ok", "/token", replayed, nil, 200, ""},
		{"replayed jti", "/token", replayed, nil, 400, "invalid_grant"},
		{"account path", "/account/" + f.alice.AccountID + "/token", sign(nil), map[string]any{"account_id": json.Number(f.alice.AccountID)}, 200, ""},
		{"account path, mismatching body", "/account/" + f.alice.AccountID + "/token", sign(nil), map[string]any{"account_id": 1}, 400, "invalid_request"},
		{"enterprise not installed", "/enterprise_id/7000000000000000009/token", sign(nil), nil, 400, "invalid_grant"},
		{"no bearer", "/token", "", nil, 401, "invalid_client"},
		{"bad signature", "/token", sign(nil)[:40] + "x" + sign(nil)[41:], nil, 401, "invalid_client"},
		{"signed by another key", "/token", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": svc.ClientID, "aud": "auth.test", "exp": f.now.Add(time.Hour).Unix(), "iat": f.now.Unix(), "jti": "x1"})
			tok.Header["kid"] = key.ID
			s, _ := tok.SignedString(other)
			return s
		}(), nil, 401, "invalid_client"},
		{"unknown kid", "/token", sign(func(_ jwt.MapClaims, h map[string]any) { h["kid"] = "nope" }), nil, 401, "invalid_client"},
		{"alg none", "/token", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": svc.ClientID, "aud": "auth.test", "exp": f.now.Add(time.Hour).Unix(), "jti": "n"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(), nil, 401, "invalid_client"},
		{"HS256 with the public key as secret", "/token", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": svc.ClientID, "aud": "auth.test", "exp": f.now.Add(time.Hour).Unix(), "jti": "h"})
			tok.Header["kid"] = key.ID
			s, _ := tok.SignedString([]byte(key.PublicKeyPEM))
			return s
		}(), nil, 401, "invalid_client"},
		{"expired", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = f.now.Add(-2 * time.Minute).Unix() }), nil, 401, "invalid_client"},
		{"no exp", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") }), nil, 401, "invalid_client"},
		{"exp as a string", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = strconv.FormatInt(f.now.Add(time.Hour).Unix(), 10) }), nil, 401, "invalid_client"},
		{"iat as a string", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["iat"] = strconv.FormatInt(f.now.Unix(), 10) }), nil, 401, "invalid_client"},
		{"exp a year ahead", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = f.now.Add(365 * 24 * time.Hour).Unix() }), nil, 401, "invalid_client"},
		{"exp a day after iat (Go SDK's longest ttl)", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = f.now.Add(86399 * time.Second).Unix() }), nil, 200, ""},
		{"exp far ahead without iat", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { delete(c, "iat"); c["exp"] = f.now.Add(48 * time.Hour).Unix() }), nil, 401, "invalid_client"},
		{"nbf in the future", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["nbf"] = f.now.Add(10 * time.Minute).Unix() }), nil, 401, "invalid_client"},
		{"negative exp", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = -1 }), nil, 401, "invalid_client"},
		{"crit header", "/token", sign(func(_ jwt.MapClaims, h map[string]any) { h["crit"] = []string{"exp"} }), nil, 401, "invalid_client"},
		{"iat in the future", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["iat"] = f.now.Add(10 * time.Minute).Unix() }), nil, 401, "invalid_client"},
		{"wrong aud", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["aud"] = "api.coze.cn" }), nil, 401, "invalid_client"},
		{"aud without port", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["aud"] = "auth.test" }), nil, 200, ""},
		{"no jti", "/token", sign(func(c jwt.MapClaims, _ map[string]any) { delete(c, "jti") }), nil, 401, "invalid_client"},
		{"duration 0", "/token", sign(nil), map[string]any{"duration_seconds": 0}, 400, "invalid_request"},
		{"duration 86400", "/token", sign(nil), map[string]any{"duration_seconds": 86400}, 400, "invalid_request"},
		{"duration 86399", "/token", sign(nil), map[string]any{"duration_seconds": 86399}, 200, ""},
		{"scope null (Python)", "/token", sign(nil), map[string]any{"scope": nil}, 200, ""},
		{"scope with an empty permission list gives none, not all", "/token", sign(nil), map[string]any{"scope": map[string]any{"account_permission": map[string]any{"permission_list": []string{}}}}, 400, "invalid_scope"},
		{"scope with a null permission list does not narrow", "/token", sign(nil), map[string]any{"scope": map[string]any{"account_permission": map[string]any{"permission_list": nil}}}, 200, ""},
		{"scope with undeclared permission", "/token", sign(nil), map[string]any{"scope": map[string]any{"account_permission": map[string]any{"permission_list": []string{"Workspace.list"}}}}, 400, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, b := grant(tc.path, tc.bearer, tc.body)
			if status != tc.status || (tc.errCode != "" && b["error"] != tc.errCode) {
				t.Fatalf("got %d %v", status, b)
			}
			if status == 200 {
				if _, has := b["refresh_token"]; has {
					t.Fatal("JWT grant returned a refresh_token key")
				}
			}
		})
	}
	t.Run("scope narrows permissions and bots", func(t *testing.T) {
		scope := map[string]any{"account_permission": map[string]any{"permission_list": []string{"Connector.botChat"}},
			"attribute_constraint": map[string]any{"connector_bot_chat_attribute": map[string]any{"bot_id_list": []string{"b1"}}}}
		status, b := grant("/token", sign(func(c jwt.MapClaims, _ map[string]any) { c["session_name"] = "user-42" }),
			map[string]any{"scope": scope, "duration_seconds": 60})
		if status != 200 || int64(b["expires_in"].(float64)) != f.now.Unix()+60 {
			t.Fatalf("%d %v", status, b)
		}
		p := f.view(b["access_token"].(string))
		perm, _ := permission.Default().Lookup("Connector.botChat")
		if strings.Join(p.View.Permissions, ",") != "Connector.botChat" || p.Session != "user-42" {
			t.Fatalf("view %+v session %q", p.View, p.Session)
		}
		for bot, want := range map[string]permission.Code{"b1": permission.Allowed, "b2": permission.Forbidden} {
			if d := permission.Decide(f.now.Unix(), &p.View, perm, permission.Facts{SubjectInAccount: true, BotID: bot}); d.Code != want {
				t.Errorf("bot %s: %+v", bot, d)
			}
		}
	})
	t.Run("jti kept until exp + leeway", func(t *testing.T) {
		// A JWT is accepted until exp + leeway, so its jti must be remembered
		// that long, through garbage collection (issue 11.2).
		start := f.now
		defer func() { f.now = start }()
		tok := sign(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = start.Add(time.Minute).Unix() })
		if status, b := grant("/token", tok, nil); status != 200 {
			t.Fatalf("first use: %d %v", status, b)
		}
		f.now = start.Add(time.Minute + jwtLeeway - 2*time.Second)
		if _, err := f.db.DeleteExpired(ctx, f.now.Unix()); err != nil {
			t.Fatal(err)
		}
		if status, b := grant("/token", tok, nil); status != 400 || b["error"] != "invalid_grant" {
			t.Fatalf("replay at exp+%s after garbage collection: %d %v; want invalid_grant", jwtLeeway-2*time.Second, status, b)
		}
	})
	t.Run("deactivated app", func(t *testing.T) {
		if err := f.s.Deactivate(ctx, svc.ID); err != nil {
			t.Fatal(err)
		}
		f.s.Init(&cache.Generation{}) // what the revision watcher does
		if status, b := grant("/token", sign(nil), nil); status != 401 || b["error"] != "invalid_client" {
			t.Fatalf("%d %v", status, b)
		}
	})
}

func rsaKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(randReader{}, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestAppValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	base := AppSpec{Owner: f.alice.Account(), Type: store.ClientWebBackend, Name: "x", RedirectURIs: []string{"https://app.example/cb"}}
	tests := []struct {
		name   string
		mutate func(*AppSpec)
		want   string
	}{
		{"https ok", func(*AppSpec) {}, ""},
		{"http loopback ok", func(s *AppSpec) { s.RedirectURIs = []string{"http://localhost:3000/cb"} }, ""},
		{"http elsewhere", func(s *AppSpec) { s.RedirectURIs = []string{"http://app.example/cb"} }, "loopback"},
		{"wildcard", func(s *AppSpec) { s.RedirectURIs = []string{"https://*.example/cb"} }, "wildcards"},
		{"fragment", func(s *AppSpec) { s.RedirectURIs = []string{"https://app.example/cb#x"} }, "fragment"},
		{"relative", func(s *AppSpec) { s.RedirectURIs = []string{"/cb"} }, "absolute"},
		{"native scheme on web", func(s *AppSpec) { s.RedirectURIs = []string{"com.example.app:/cb"} }, "https"},
		{"native scheme on pkce", func(s *AppSpec) {
			s.Type = store.ClientSinglePageOrNative
			s.RedirectURIs = []string{"com.example.app:/cb"}
		}, ""},
		{"web without redirect", func(s *AppSpec) { s.RedirectURIs = nil }, "redirect URI"},
		{"device with redirect", func(s *AppSpec) { s.Type = store.ClientTerminal }, "does not use"},
		{"bad type", func(s *AppSpec) { s.Type = "Desktop" }, "client type"},
		{"no name", func(s *AppSpec) { s.Name = " " }, "name"},
		{"unknown permission", func(s *AppSpec) { s.Permissions = []string{"Bot.fly"} }, "unknown permission"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := base
			tc.mutate(&spec)
			_, _, err := f.s.CreateApp(ctx, spec)
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	svc, _ := f.app(store.ClientService)
	_, weak := rsaKeyBits(t, 1024)
	for pemText, want := range map[string]string{
		"junk": "not PEM", weak: "at least 2048",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n": "never be uploaded",
	} {
		if _, err := f.s.AddKey(ctx, svc.ID, pemText); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("AddKey: %v, want %q", err, want)
		}
	}
	_, good := rsaKey(t)
	k, err := f.s.AddKey(ctx, svc.ID, good)
	if err != nil || len(k.ID) != 40 {
		t.Fatalf("AddKey = %+v %v", k, err)
	}
	if _, err := f.s.AddKey(ctx, svc.ID, good); err == nil {
		t.Fatal("same key added twice")
	}
}

func TestEnterpriseInstallation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := &identity.Service{Store: f.db, Now: func() time.Time { return f.now }}
	ent, err := ids.CreateEnterprise(ctx, "Acme", "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := ids.CreateUser(ctx, "bob", "password-2", "")
	if err := ids.AddEnterpriseMember(ctx, ent.ID, "bob", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	svc, _ := f.app(store.ClientService, "Bot.chat")
	key, privPEM, err := f.s.GenerateKey(ctx, svc.ID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(privPEM))
	k, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	n := 0
	grant := func() (int, map[string]any) {
		n++
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": svc.ClientID, "aud": "auth.test",
			"iat": f.now.Unix(), "exp": f.now.Add(time.Hour).Unix(), "jti": fmt.Sprintf("ent-%d", n)})
		tok.Header["kid"] = key.ID
		signed, _ := tok.SignedString(k)
		return f.post(f.s.Token, "/enterprise_id/"+ent.ID+"/token", signed, map[string]any{"grant_type": GrantTypeJWTBearer})
	}
	if status, b := grant(); status != 400 || !strings.Contains(b["error_message"].(string), "not installed") {
		t.Fatalf("before installation: %d %v", status, b)
	}
	if _, err := f.s.InstallApp(ctx, svc.ID, ent.ID, bob.ID); err == nil || !strings.Contains(err.Error(), "SuperAdmin or Admin") {
		t.Fatalf("a Member installed the app: %v", err)
	}
	web, _ := f.app(store.ClientWebBackend)
	if _, err := f.s.InstallApp(ctx, web.ID, ent.ID, f.alice.ID); err == nil {
		t.Fatal("a web app was installed")
	}
	if _, err := f.s.InstallApp(ctx, svc.ID, ent.ID, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	status, b := grant()
	if status != 200 {
		t.Fatalf("after installation: %d %v", status, b)
	}
	p := f.view(b["access_token"].(string))
	if p.View.Account != (store.Owner{Type: store.OwnerEnterprise, ID: ent.ID}) || p.View.UserID != "" || !p.View.AllWorkspaces {
		t.Fatalf("installation token view %+v", p.View)
	}
	if err := f.s.UninstallApp(ctx, svc.ID, ent.ID); err != nil {
		t.Fatal(err)
	}
	f.s.Init(&cache.Generation{}) // the uninstall advanced the revision: what the watcher does
	if p := f.view(b["access_token"].(string)); !p.View.Revoked {
		t.Fatal("uninstalling did not revoke the installation's tokens")
	}
	if err := f.s.UninstallApp(ctx, svc.ID, ent.ID); err == nil {
		t.Fatal("uninstalled twice")
	}
}

// TestPersonalConsentDropsEnterprisePermissions: a consent in a personal
// account cannot grant an enterprise-level permission (issue 11.3).
func TestPersonalConsentDropsEnterprisePermissions(t *testing.T) {
	f := newFixture(t)
	web, secret := f.app(store.ClientWebBackend, "Bot.chat", "Enterprise.manageMembers")
	code := f.approve(web, "", "", true)
	status, body := f.post(f.s.Token, "/token", secret, map[string]string{"grant_type": "authorization_code",
		"client_id": web.ClientID, "code": code, "redirect_uri": web.RedirectURIs[0]})
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	if got := f.view(body["access_token"].(string)).View.Permissions; strings.Join(got, ",") != "Bot.chat" {
		t.Errorf("personal token's permissions = %v, want [Bot.chat]", got)
	}
}

// TestFormBodies: RFC 6749 clients send forms; the media type is matched
// case-insensitively and may carry parameters (issue 11.16).
func TestFormBodies(t *testing.T) {
	f := newFixture(t)
	web, secret := f.app(store.ClientWebBackend, "Bot.chat")
	for _, ct := range []string{"application/x-www-form-urlencoded", "Application/X-WWW-Form-URLEncoded; charset=UTF-8"} {
		t.Run(ct, func(t *testing.T) {
			code := f.approve(web, "", "", true)
			form := url.Values{"grant_type": {"authorization_code"}, "client_id": {web.ClientID}, "code": {code},
				"redirect_uri": {web.RedirectURIs[0]}}
			req := httptest.NewRequest("POST", "/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+secret)
			rec := httptest.NewRecorder()
			f.s.Token(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"access_token"`) {
				t.Errorf("form exchange with Content-Type %q: %d %s", ct, rec.Code, rec.Body)
			}
		})
	}
}

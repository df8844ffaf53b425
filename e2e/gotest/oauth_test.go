package gotest

// The four Coze OAuth flows (web, PKCE, device, JWT) and their error cases,
// driven against the real binary with the client package, the browser steps
// done by posting the real HTML forms (browser_test.go).

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/client"
)

// The apps' redirect URI: the browser stops at the redirect and it is never
// requested.
const (
	redirectHost = "127.0.0.1:1"
	redirectURI  = "http://" + redirectHost + "/cb"
	tokenPath    = "/api/permission/oauth2/token"
)

type oapp struct {
	ID       string `json:"app_id"`
	ClientID string `json:"client_id"`
	Secret   string `json:"client_secret"`
}

type appKey struct {
	ID         string `json:"public_key_id"`
	PrivateKey string `json:"private_key"`
}

// oworld is the OAuth tests' data, made with the admin CLI:
//
//	alice: personal workspaces wsA1 "Alpha" (botA1), wsA2 "Beta" (botA2)
//	bob:   personal workspace wsB (botB)
//	enterprise ent "Acme" (boss SuperAdmin, alice Member): wsE1 "Acme One" (botE1, alice a member)
//	apps of alice, each declaring Bot.chat and Workspace.list.
type oworld struct {
	adm
	aliceAcct, bobAcct, ent   string
	wsA1, wsA2, wsE1          string
	botA1, botA2, botB, botE1 string
	// One OBO grant is kept per (app, user, account) and a new consent
	// replaces it, changing what earlier tokens reach; so subtests that
	// consent differently in the same account use different apps.
	web, webWS, webErr, webDoomed oapp
	pkce, device, deviceWS        oapp
	jwtAll, jwtSel, jwtDoomed     oapp
	keyAll, keySel, keyDoomed     appKey
}

var appPerms = []string{"--permission", "Bot.chat", "--permission", "Workspace.list"}

func (a adm) app(typ, name string, extra ...string) oapp {
	a.t.Helper()
	var o oapp
	args := append([]string{"app", "create", "--owner", "alice", "--type", typ, "--name", name}, appPerms...)
	a.json(&o, append(args, extra...)...)
	if o.ID == "" || o.ClientID == "" || (typ == "web") != (o.Secret != "") {
		a.t.Fatalf("app create --type %s: bad output %+v", typ, o)
	}
	return o
}

func (a adm) genKey(appID string) appKey {
	a.t.Helper()
	var k appKey
	a.json(&k, "app", "gen-key", "--app", appID)
	if k.ID == "" || !strings.HasPrefix(k.PrivateKey, "-----BEGIN PRIVATE KEY-----") {
		a.t.Fatalf("app gen-key: bad output %+v", k)
	}
	return k
}

func buildOAuthWorld(t *testing.T, dsn string) *oworld {
	t.Helper()
	start := time.Now()
	w := &oworld{adm: adm{t: t, db: dsn}}
	a := w.adm
	var u struct {
		AccountID string `json:"account_id"`
	}
	a.jsonIn(testPassword+"\n", &u, "user", "create", "--username", "alice", "--password-stdin", "--nickname", "Alice")
	w.aliceAcct = u.AccountID
	a.jsonIn(testPassword+"\n", &u, "user", "create", "--username", "bob", "--password-stdin", "--nickname", "Bob")
	w.bobAcct = u.AccountID
	a.user("boss")
	if w.aliceAcct == "" || w.bobAcct == "" {
		t.Fatal("user create printed no account_id")
	}
	w.ent = a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	a.changed("enterprise", "add-member", "--enterprise", w.ent, "--user", "alice", "--role", "Member")
	w.wsA1 = a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	w.wsA2 = a.str("workspace_id", "workspace", "create", "--name", "Beta", "--owner", "alice")
	wsB := a.str("workspace_id", "workspace", "create", "--name", "Bobs", "--owner", "bob")
	w.wsE1 = a.str("workspace_id", "workspace", "create", "--name", "Acme One", "--enterprise", w.ent)
	a.changed("workspace", "add-member", "--workspace", w.wsE1, "--user", "alice", "--role", "member")
	w.botA1 = a.str("resource_id", "resource", "create", "--workspace", w.wsA1, "--type", "bot")
	w.botA2 = a.str("resource_id", "resource", "create", "--workspace", w.wsA2, "--type", "bot")
	w.botB = a.str("resource_id", "resource", "create", "--workspace", wsB, "--type", "bot")
	w.botE1 = a.str("resource_id", "resource", "create", "--workspace", w.wsE1, "--type", "bot")

	w.web = a.app("web", "Web App", "--redirect-uri", redirectURI)
	w.webWS = a.app("web", "Workspace Web App", "--redirect-uri", redirectURI)
	w.webErr = a.app("web", "Erroneous Web App", "--redirect-uri", redirectURI)
	w.webDoomed = a.app("web", "Doomed Web App", "--redirect-uri", redirectURI)
	w.pkce = a.app("pkce", "SPA", "--redirect-uri", redirectURI)
	w.device = a.app("device", "CLI Tool")
	w.deviceWS = a.app("device", "Workspace CLI Tool")
	w.jwtAll = a.app("jwt", "Service")
	w.jwtSel = a.app("jwt", "Service Alpha")
	w.jwtDoomed = a.app("jwt", "Doomed Service")
	w.keyAll, w.keySel, w.keyDoomed = a.genKey(w.jwtAll.ID), a.genKey(w.jwtSel.ID), a.genKey(w.jwtDoomed.ID)
	a.changed("app", "authorize", "--app", w.jwtAll.ID, "--user", "alice", "--workspaces", "all")
	a.changed("app", "authorize", "--app", w.jwtSel.ID, "--user", "alice", "--workspaces", w.wsA1)
	a.changed("app", "authorize", "--app", w.jwtDoomed.ID, "--user", "alice")
	t.Logf("OAuth world built with the admin CLI in %v", time.Since(start).Round(time.Millisecond))
	return w
}

// TestOAuth runs every flow and error case on one database with three
// servers: main (device poll interval 1 s), short (device codes and access
// tokens live 2 s) and slow (the default 5 s poll interval).
func TestOAuth(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runOAuth(t, b.newDB(t))
		})
	}
}

func runOAuth(t *testing.T, dsn string) {
	w := buildOAuthWorld(t, dsn)
	main := startServer(t, "main", dsn, "--device-poll-interval", "1s")
	short := startServer(t, "short", dsn, "--device-poll-interval", "1s", "--device-code-ttl", "2s", "--access-token-ttl", "2s")
	slow := startServer(t, "slow", dsn)
	fast := client.New(main.URL, client.WithHTTPClient(httpc), client.WithDevicePollInterval(time.Second))
	e := &oenv{oworld: w, main: main, short: short, slow: slow, c: fast}

	t.Run("jwt", e.testJWT)
	t.Run("jwt errors", e.testJWTErrors)
	t.Run("token errors", e.testTokenErrors)
	t.Run("deactivate", e.testDeactivate)
	t.Run("device slow_down", e.testSlowDown)
	t.Run("device expired", e.testDeviceExpired)
	// These need the browser pages.
	t.Run("web", e.testWeb)
	t.Run("web enterprise", e.testWebEnterprise)
	t.Run("workspace variant", e.testWorkspaceVariant)
	t.Run("web errors", e.testWebErrors)
	t.Run("pkce", e.testPKCE)
	t.Run("device", e.testDevice)
	t.Run("access token ttl", e.testAccessTTL)
}

type oenv struct {
	*oworld
	main, short, slow *server
	c                 *client.Client
}

// ---------------------------------------------------------------- checks

// oauthRaw posts a JSON body to path with exactly this Authorization header.
func oauthRaw(t *testing.T, s *server, path, authorization string, body any) rawResp {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return raw(t, http.MethodPost, s.URL+path, authorization, string(b))
}

// wantOAuthError checks the WIRE.md §3.5 shape: the status, JSON, the
// X-Tt-Logid header, error == error_code == code, a non-empty error_message,
// and no code/msg keys.
func wantOAuthError(t *testing.T, what string, r rawResp, status int, code string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Errorf("%s: body is not a JSON object (%v): %s", what, err, r.body)
		return
	}
	var problems []string
	if r.status != status {
		problems = append(problems, "HTTP "+http.StatusText(r.status)+", want "+http.StatusText(status))
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		problems = append(problems, "Content-Type "+ct)
	}
	if r.header.Get("X-Tt-Logid") == "" {
		problems = append(problems, "no X-Tt-Logid header")
	}
	if m["error"] != code || m["error_code"] != code {
		problems = append(problems, "error/error_code are not "+code)
	}
	if s, _ := m["error_message"].(string); s == "" {
		problems = append(problems, "empty error_message")
	}
	for _, k := range []string{"code", "msg", "access_token"} {
		if _, ok := m[k]; ok {
			problems = append(problems, "has key "+k)
		}
	}
	if len(problems) > 0 {
		t.Errorf("%s: %s; body %s", what, strings.Join(problems, ", "), r.body)
	}
}

// wantAuthErr checks a client error is an *AuthError with this code.
func wantAuthErr(t *testing.T, what string, err error, code string) *client.AuthError {
	t.Helper()
	var ae *client.AuthError
	if !errors.As(err, &ae) || ae.Code != code || ae.Message == "" || ae.LogID == "" {
		t.Errorf("%s: got %v (%#v), want an *AuthError %s with a message and log ID", what, err, ae, code)
	}
	return ae
}

// checkToken checks a token response's shape.
func checkToken(t *testing.T, what string, tok *client.OAuthToken, lifetime time.Duration, refresh bool) {
	t.Helper()
	if tok == nil {
		t.Fatalf("%s: no token", what)
	}
	now := time.Now().Unix()
	want := now + int64(lifetime/time.Second)
	switch {
	case tok.AccessToken == "" || strings.HasPrefix(tok.AccessToken, "pat_") || strings.HasPrefix(tok.AccessToken, "sat_"):
		t.Errorf("%s: access token %q (must be non-empty, not pat_/sat_)", what, tok.AccessToken)
	case tok.TokenType != "Bearer":
		t.Errorf("%s: token_type %q", what, tok.TokenType)
	case tok.ExpiresIn < want-5 || tok.ExpiresIn > want+5:
		t.Errorf("%s: expires_in %d, want the absolute time ≈ %d (now + %v)", what, tok.ExpiresIn, want, lifetime)
	case refresh != (tok.RefreshToken != ""):
		t.Errorf("%s: refresh token %q, want one: %v", what, tok.RefreshToken, refresh)
	}
}

// checkReach checks users/me, the listed workspaces and which bots the token
// may chat with.
func (e *oenv) checkReach(t *testing.T, what, tok string, wantWS []string, allowed, denied []string) {
	t.Helper()
	ctx := ctxT(t)
	c := e.main.C
	if u, err := c.UsersMe(ctx, tok); err != nil || u.UserName != "alice" {
		t.Errorf("%s: users/me = %+v, %v; want alice", what, u, err)
	}
	p, err := c.ListWorkspaces(ctx, tok, client.ListWorkspacesRequest{PageNum: 1, PageSize: 50})
	if err != nil {
		t.Errorf("%s: workspaces: %v", what, err)
	} else {
		var got []string
		for _, ws := range p.Workspaces {
			got = append(got, ws.ID)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(wantWS))
		if !slices.Equal(got, want) {
			t.Errorf("%s: workspaces %v, want %v", what, got, want)
		}
	}
	for _, b := range allowed {
		if ok, err := c.CheckAuthz(ctx, tok, "Bot.chat", &client.Resource{Type: "bot", ID: b}); !ok || err != nil {
			t.Errorf("%s: Bot.chat on bot %s: allowed=%v err=%v, want allowed", what, b, ok, err)
		}
	}
	for _, b := range denied {
		if _, err := c.CheckAuthz(ctx, tok, "Bot.chat", &client.Resource{Type: "bot", ID: b}); codeOf(err) != 4101 {
			t.Errorf("%s: Bot.chat on bot %s: %v, want 4101", what, b, err)
		}
	}
	// Not among the app's permissions.
	if _, err := c.CheckAuthz(ctx, tok, "Bot.getMetadata", &client.Resource{Type: "bot", ID: e.botA1}); codeOf(err) != 4101 {
		t.Errorf("%s: Bot.getMetadata (not granted): %v, want 4101", what, err)
	}
}

// wantRevoked waits up to revocationBound for tok to get 4100.
func (e *oenv) wantRevoked(t *testing.T, what, tok string) {
	t.Helper()
	ctx := ctxT(t)
	d, ok := eventually(revocationBound, func() bool {
		_, err := e.main.C.UsersMe(ctx, tok)
		return codeOf(err) == 4100
	})
	if !ok {
		_, err := e.main.C.UsersMe(ctx, tok)
		t.Errorf("%s: the token still answers %v after %v, want 4100", what, err, d.Round(time.Millisecond))
	}
}

// ---------------------------------------------------------------- JWT

func (e *oenv) jwtReq(a oapp, k appKey) client.JWTRequest {
	return client.JWTRequest{ClientID: a.ClientID, KeyID: k.ID, PrivateKeyPEM: k.PrivateKey}
}

func (e *oenv) testJWT(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	tok, err := e.c.JWTToken(ctx, e.jwtReq(e.jwtAll, e.keyAll))
	if err != nil {
		t.Fatalf("JWT grant: %v", err)
	}
	checkToken(t, "JWT", tok, 900*time.Second, false)
	e.checkReach(t, "JWT, all workspaces", tok.AccessToken, []string{e.wsA1, e.wsA2}, []string{e.botA1, e.botA2}, []string{e.botB, e.botE1})

	// The account path, a PKCS#1 key, a longer lifetime.
	req := e.jwtReq(e.jwtAll, e.keyAll)
	req.PrivateKeyPEM = pkcs1(t, e.keyAll.PrivateKey)
	req.AccountID, req.TTL = e.aliceAcct, 2*time.Hour
	tok, err = e.c.JWTToken(ctx, req)
	if err != nil {
		t.Fatalf("JWT grant on account/%s/token: %v", e.aliceAcct, err)
	}
	checkToken(t, "JWT account path", tok, 2*time.Hour, false)
	e.checkReach(t, "JWT account path", tok.AccessToken, []string{e.wsA1, e.wsA2}, []string{e.botA1}, []string{e.botB})

	// coze-py's body: no client_id, "scope": null; coze-js's: no duration (default 900).
	assertion, err := e.c.SignJWT(e.jwtReq(e.jwtAll, e.keyAll))
	if err != nil {
		t.Fatal(err)
	}
	if r := oauthRaw(t, e.main, tokenPath, "Bearer "+assertion, map[string]any{
		"grant_type": client.GrantTypeJWTBearer, "duration_seconds": 600, "scope": nil,
	}); r.status != 200 || !strings.Contains(string(r.body), `"access_token"`) || strings.Contains(string(r.body), "refresh_token") {
		t.Errorf("JWT grant with coze-py's body: HTTP %d %s", r.status, r.body)
	}

	// Lenient aud: the host with or without port; another host is refused.
	for aud, ok := range map[string]bool{"127.0.0.1": true, e.main.URL: true, "evil.example.com": false} {
		req := e.jwtReq(e.jwtAll, e.keyAll)
		req.Audience = aud
		_, err := e.c.JWTToken(ctx, req)
		if ok && err != nil {
			t.Errorf("JWT with aud %q: %v, want accepted", aud, err)
		} else if !ok {
			wantAuthErr(t, "JWT with aud "+aud, err, client.ErrCodeInvalidClient)
		}
	}

	// Authorized for wsA1 only.
	tok, err = e.c.JWTToken(ctx, e.jwtReq(e.jwtSel, e.keySel))
	if err != nil {
		t.Fatalf("JWT grant (selected workspace): %v", err)
	}
	e.checkReach(t, "JWT, workspace Alpha", tok.AccessToken, []string{e.wsA1}, []string{e.botA1}, []string{e.botA2})

	// An account that did not authorize the app, and an enterprise it is not installed in.
	req = e.jwtReq(e.jwtAll, e.keyAll)
	req.AccountID = e.bobAcct
	_, err = e.c.JWTToken(ctx, req)
	wantAuthErr(t, "JWT in bob's account", err, client.ErrCodeInvalidGrant)
	req = e.jwtReq(e.jwtAll, e.keyAll)
	req.EnterpriseID = e.ent
	_, err = e.c.JWTToken(ctx, req)
	if ae := wantAuthErr(t, "JWT on enterprise_id path", err, client.ErrCodeInvalidGrant); ae != nil && !strings.Contains(ae.Message, "not installed") {
		t.Errorf("enterprise path: message %q does not say the app is not installed", ae.Message)
	}
	assertion, err = e.c.SignJWT(req)
	if err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, "JWT on enterprise_id path (wire)", oauthRaw(t, e.main, "/api/permission/oauth2/enterprise_id/"+e.ent+"/token",
		"Bearer "+assertion, map[string]any{"grant_type": client.GrantTypeJWTBearer}), 400, "invalid_grant")
}

func pkcs1(t *testing.T, pkcs8 string) string {
	k, err := client.ParseRSAPrivateKey(pkcs8)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// signWith signs claims with method and key, with header kid.
func signWith(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tk := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tk.Header["kid"] = kid
	}
	s, err := tk.SignedString(key)
	if err != nil {
		t.Fatalf("signing a %s JWT: %v", method.Alg(), err)
	}
	return s
}

func (e *oenv) testJWTErrors(t *testing.T) {
	t.Parallel()
	priv, err := client.ParseRSAPrivateKey(e.keyAll.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	aud := strings.TrimPrefix(e.main.URL, "http://")
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		now := time.Now().Unix()
		c := jwt.MapClaims{"iss": e.jwtAll.ClientID, "aud": aud, "iat": now, "exp": now + 600, "jti": randHex(t)}
		if mod != nil {
			mod(c)
		}
		return c
	}
	body := map[string]any{"grant_type": client.GrantTypeJWTBearer, "duration_seconds": 900}
	post := func(assertion string, body any) rawResp {
		return oauthRaw(t, e.main, tokenPath, "Bearer "+assertion, body)
	}
	none := func() string {
		// kid in the header too, so only the algorithm is wrong.
		tk := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
		tk.Header["kid"] = e.keyAll.ID
		s, err := tk.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name      string
		assertion string
		status    int
		code      string
	}{
		{"bad signature (another key)", signWith(t, jwt.SigningMethodRS256, other, e.keyAll.ID, claims(nil)), 401, "invalid_client"},
		{"unknown kid", signWith(t, jwt.SigningMethodRS256, priv, "no-such-kid", claims(nil)), 401, "invalid_client"},
		{"alg none", none(), 401, "invalid_client"},
		{"HS256 keyed with the public key", signWith(t, jwt.SigningMethodHS256, pubPEM, e.keyAll.ID, claims(nil)), 401, "invalid_client"},
		{"RS256 signed by the key of another app", signWith(t, jwt.SigningMethodRS256, mustKey(t, e.keySel.PrivateKey), e.keySel.ID, claims(nil)), 401, "invalid_client"},
		{"expired exp", signWith(t, jwt.SigningMethodRS256, priv, e.keyAll.ID, claims(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = time.Now().Unix()-3600, time.Now().Unix()-600
		})), 401, "invalid_client"},
		{"no jti", signWith(t, jwt.SigningMethodRS256, priv, e.keyAll.ID, claims(func(c jwt.MapClaims) { delete(c, "jti") })), 401, "invalid_client"},
	}
	for _, tt := range tests {
		wantOAuthError(t, tt.name, post(tt.assertion, body), tt.status, tt.code)
	}

	// The client maps the same answer to *AuthError.
	req := e.jwtReq(e.jwtAll, e.keyAll)
	req.KeyID = "no-such-kid"
	_, err = e.c.JWTToken(ctxT(t), req)
	if ae := wantAuthErr(t, "client: unknown kid", err, client.ErrCodeInvalidClient); ae != nil && ae.HTTPStatus != 401 {
		t.Errorf("client: unknown kid: HTTP %d, want 401", ae.HTTPStatus)
	}

	// A replayed jti: the first use works, the second is refused.
	replay := signWith(t, jwt.SigningMethodRS256, priv, e.keyAll.ID, claims(nil))
	if r := post(replay, body); r.status != 200 {
		t.Errorf("first use of a JWT: HTTP %d %s", r.status, r.body)
	}
	wantOAuthError(t, "replayed jti", post(replay, body), 400, "invalid_grant")

	// duration_seconds out of 1..86399.
	for _, d := range []int{0, 86400, -5} {
		wantOAuthError(t, "duration_seconds "+jsonText(d), post(signWith(t, jwt.SigningMethodRS256, priv, e.keyAll.ID, claims(nil)),
			map[string]any{"grant_type": client.GrantTypeJWTBearer, "duration_seconds": d}), 400, "invalid_request")
	}
	req = e.jwtReq(e.jwtAll, e.keyAll)
	req.TTL = 86400 * time.Second
	_, err = e.c.JWTToken(ctxT(t), req)
	wantAuthErr(t, "client: TTL 86400 s", err, client.ErrCodeInvalidRequest)
	req.TTL = 86399 * time.Second
	if tok, err := e.c.JWTToken(ctxT(t), req); err != nil {
		t.Errorf("TTL 86399 s: %v", err)
	} else {
		checkToken(t, "TTL 86399 s", tok, 86399*time.Second, false)
	}
}

func mustKey(t *testing.T, pemText string) *rsa.PrivateKey {
	k, err := client.ParseRSAPrivateKey(pemText)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randHex(t *testing.T) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ---------------------------------------------------------------- token endpoint errors without a browser

func (e *oenv) testTokenErrors(t *testing.T) {
	t.Parallel()
	// Wrong client secret: 401 invalid_client, before the code is looked at.
	wantOAuthError(t, "wrong client secret", oauthRaw(t, e.main, tokenPath, "Bearer not-the-secret", map[string]any{
		"client_id": e.web.ClientID, "grant_type": "authorization_code", "code": "whatever", "redirect_uri": redirectURI,
	}), 401, "invalid_client")
	_, err := e.c.ExchangeCode(ctxT(t), e.web.ClientID, "not-the-secret", "whatever", redirectURI)
	wantAuthErr(t, "client: wrong secret", err, client.ErrCodeInvalidClient)
	// No secret at all from a confidential client.
	wantOAuthError(t, "web app without its secret", oauthRaw(t, e.main, tokenPath, "Bearer ", map[string]any{
		"client_id": e.web.ClientID, "grant_type": "authorization_code", "code": "whatever", "redirect_uri": redirectURI,
	}), 401, "invalid_client")
	// Unknown code, refresh token and device code.
	wantOAuthError(t, "unknown code", oauthRaw(t, e.main, tokenPath, "Bearer "+e.web.Secret, map[string]any{
		"client_id": e.web.ClientID, "grant_type": "authorization_code", "code": "nope", "redirect_uri": redirectURI,
	}), 400, "invalid_grant")
	wantOAuthError(t, "unknown refresh token", oauthRaw(t, e.main, tokenPath, "", map[string]any{
		"client_id": e.pkce.ClientID, "grant_type": "refresh_token", "refresh_token": "nope",
	}), 400, "invalid_grant")
	wantOAuthError(t, "unknown device code", oauthRaw(t, e.main, tokenPath, "", map[string]any{
		"client_id": e.device.ClientID, "grant_type": client.GrantTypeDeviceCode, "device_code": "nope",
	}), 400, "invalid_grant")
	wantOAuthError(t, "unknown grant type", oauthRaw(t, e.main, tokenPath, "", map[string]any{
		"client_id": e.pkce.ClientID, "grant_type": "password",
	}), 400, "unsupported_grant_type")
	wantOAuthError(t, "device code for a web app", oauthRaw(t, e.main, "/api/permission/oauth2/device/code", "", map[string]any{
		"client_id": e.web.ClientID,
	}), 400, "unauthorized_client")
}

// ---------------------------------------------------------------- deactivation

func (e *oenv) testDeactivate(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	req := e.jwtReq(e.jwtDoomed, e.keyDoomed)
	tok, err := e.c.JWTToken(ctx, req)
	if err != nil {
		t.Fatalf("JWT grant: %v", err)
	}
	if _, err := e.main.C.UsersMe(ctx, tok.AccessToken); err != nil {
		t.Fatalf("users/me before deactivation: %v", err)
	}
	a := adm{t: t, db: e.db}
	a.changed("app", "deactivate", "--app", e.jwtDoomed.ID)
	a.changed("app", "deactivate", "--app", e.webDoomed.ID)
	e.wantRevoked(t, "JWT token of a deactivated app", tok.AccessToken)
	assertion, err := e.c.SignJWT(req)
	if err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, "JWT grant of a deactivated app", oauthRaw(t, e.main, tokenPath, "Bearer "+assertion,
		map[string]any{"grant_type": client.GrantTypeJWTBearer}), 401, "invalid_client")
	wantOAuthError(t, "code exchange of a deactivated web app", oauthRaw(t, e.main, tokenPath, "Bearer "+e.webDoomed.Secret, map[string]any{
		"client_id": e.webDoomed.ClientID, "grant_type": "authorization_code", "code": "whatever", "redirect_uri": redirectURI,
	}), 401, "invalid_client")
}

// ---------------------------------------------------------------- device timing (no browser)

// testSlowDown: against the default 5 s interval, a second poll 1 s after the
// first is told to slow down; the first poll, right after issuance, is not.
func (e *oenv) testSlowDown(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := client.New(e.slow.URL, client.WithHTTPClient(httpc))
	d, err := c.DeviceCode(ctx, e.device.ClientID, "")
	if err != nil {
		t.Fatalf("device code: %v", err)
	}
	if d.Interval != 5 || d.ExpiresIn < time.Now().Unix()+590 || !strings.HasPrefix(d.VerificationURI, e.slow.URL+"/") || strings.Contains(d.VerificationURI, "?") {
		t.Errorf("device code response %+v: want interval 5, absolute expires_in ≈ now+600, verification_uri on the server without query", d)
	}
	_, err = c.PollDeviceToken(ctx, e.device.ClientID, d.DeviceCode, false)
	wantAuthErr(t, "first poll", err, client.ErrCodeAuthorizationPending)
	time.Sleep(time.Second)
	r := oauthRaw(t, e.slow, tokenPath, "", map[string]any{
		"client_id": e.device.ClientID, "grant_type": client.GrantTypeDeviceCode, "device_code": d.DeviceCode,
	})
	wantOAuthError(t, "second poll 1 s later", r, 400, "slow_down")
}

func (e *oenv) testDeviceExpired(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	c := client.New(e.short.URL, client.WithHTTPClient(httpc), client.WithDevicePollInterval(time.Second))
	d, err := c.DeviceCode(ctx, e.device.ClientID, "")
	if err != nil {
		t.Fatalf("device code: %v", err)
	}
	start := time.Now()
	_, err = c.PollDeviceToken(ctx, e.device.ClientID, d.DeviceCode, true)
	wantAuthErr(t, "polling an unapproved device code past its 2 s lifetime", err, client.ErrCodeExpiredToken)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("expired_token came after %v, want ≈ 2 s", el)
	}
	wantOAuthError(t, "expired device code (wire)", oauthRaw(t, e.short, tokenPath, "", map[string]any{
		"client_id": e.device.ClientID, "grant_type": client.GrantTypeDeviceCode, "device_code": d.DeviceCode,
	}), 400, "expired_token")
}

// ---------------------------------------------------------------- browser flows

func (e *oenv) testWeb(t *testing.T) {
	t.Parallel()
	b := newBrowser(t, e.main.URL)
	ctx := ctxT(t)
	authURL := e.c.OAuthURL(e.web.ClientID, redirectURI, "st-42", nil)
	q := authorizeCode(t, b, authURL, "alice", consent{workspaces: []string{"Alpha"}})
	if q.Get("state") != "st-42" || q.Get("code") == "" {
		t.Fatalf("redirect query %v: want code and state st-42", q)
	}
	tok, err := e.c.ExchangeCode(ctx, e.web.ClientID, e.web.Secret, q.Get("code"), redirectURI)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	checkToken(t, "web", tok, 15*time.Minute, true)
	e.checkReach(t, "web, workspace Alpha", tok.AccessToken, []string{e.wsA1}, []string{e.botA1}, []string{e.botA2, e.botB, e.botE1})

	// Refresh rotates: a new pair, both working, with the same reach.
	tok2, err := e.c.Refresh(ctx, e.web.ClientID, e.web.Secret, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	checkToken(t, "refreshed", tok2, 15*time.Minute, true)
	if tok2.AccessToken == tok.AccessToken || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh did not rotate: %+v → %+v", tok, tok2)
	}
	e.checkReach(t, "refreshed", tok2.AccessToken, []string{e.wsA1}, []string{e.botA1}, []string{e.botA2})
	// A confidential client's refresh needs its secret.
	wantOAuthError(t, "web refresh without the secret", oauthRaw(t, e.main, tokenPath, "Bearer ", map[string]any{
		"client_id": e.web.ClientID, "grant_type": "refresh_token", "refresh_token": tok2.RefreshToken,
	}), 401, "invalid_client")
	tok3, err := e.c.Refresh(ctx, e.web.ClientID, e.web.Secret, tok2.RefreshToken)
	if err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	// Reusing a rotated refresh token revokes the whole family.
	wantOAuthError(t, "reused refresh token", oauthRaw(t, e.main, tokenPath, "Bearer "+e.web.Secret, map[string]any{
		"client_id": e.web.ClientID, "grant_type": "refresh_token", "refresh_token": tok.RefreshToken,
	}), 400, "invalid_grant")
	e.wantRevoked(t, "newest access token after refresh reuse", tok3.AccessToken)
	_, err = e.c.Refresh(ctx, e.web.ClientID, e.web.Secret, tok3.RefreshToken)
	wantAuthErr(t, "newest refresh token after refresh reuse", err, client.ErrCodeInvalidGrant)
}

func (e *oenv) testWebEnterprise(t *testing.T) {
	t.Parallel()
	b := newBrowser(t, e.main.URL)
	q := authorizeCode(t, b, e.c.OAuthURL(e.web.ClientID, redirectURI, "", nil), "alice", consent{account: "Acme"})
	if _, ok := q["state"]; ok {
		t.Errorf("an empty state must not be echoed: %v", q)
	}
	tok, err := e.c.ExchangeCode(ctxT(t), e.web.ClientID, e.web.Secret, q.Get("code"), redirectURI)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	e.checkReach(t, "web in enterprise Acme, all workspaces", tok.AccessToken, []string{e.wsE1}, []string{e.botE1}, []string{e.botA1, e.botB})
}

func (e *oenv) testWorkspaceVariant(t *testing.T) {
	t.Parallel()
	authURL := e.c.OAuthURL(e.webWS.ClientID, redirectURI, "ws", &client.AuthURLOptions{WorkspaceID: e.wsA2})
	b := newBrowser(t, e.main.URL)
	p := b.login(b.get(authURL), "alice", testPassword)
	if !p.hasButton("Authorize") {
		t.Fatalf("want the consent page, got:\n%s", p)
	}
	if !strings.Contains(p.body, "Beta") {
		t.Errorf("the consent page does not name the fixed workspace Beta")
	}
	if strings.Contains(p.body, `value="`+e.wsA1+`"`) {
		t.Errorf("the workspace_id variant still offers other workspaces")
	}
	q := redirectQuery(t, b.decide(p, consent{}))
	tok, err := e.c.ExchangeCode(ctxT(t), e.webWS.ClientID, e.webWS.Secret, q.Get("code"), redirectURI)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	e.checkReach(t, "workspace_id/Beta/authorize", tok.AccessToken, []string{e.wsA2}, []string{e.botA2}, []string{e.botA1, e.botE1})

	// The device flow's workspace variant fixes it too.
	d, err := e.c.DeviceCode(ctxT(t), e.deviceWS.ClientID, e.wsA2)
	if err != nil {
		t.Fatalf("workspace device code: %v", err)
	}
	approveDevice(t, b, d.VerificationURL, "alice", consent{})
	dt, err := e.c.PollDeviceToken(ctxT(t), e.deviceWS.ClientID, d.DeviceCode, true)
	if err != nil {
		t.Fatalf("device poll: %v", err)
	}
	e.checkReach(t, "workspace_id/Beta/device/code", dt.AccessToken, []string{e.wsA2}, []string{e.botA2}, []string{e.botA1})
}

func (e *oenv) testWebErrors(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	// An unregistered redirect URI: an error page, never a redirect.
	b := newBrowser(t, e.main.URL)
	p := b.get(e.c.OAuthURL(e.webErr.ClientID, "http://127.0.0.1:1/evil", "s", nil))
	if strings.HasPrefix(p.url.Path, "/login") {
		p = b.login(p, "alice", testPassword)
	}
	if p.location != "" || p.status != http.StatusBadRequest || p.hasButton("Authorize") {
		t.Errorf("unregistered redirect_uri: want a 400 error page and no redirect, got:\n%s", p)
	}

	// Denied consent.
	q := authorizeCode(t, b, e.c.OAuthURL(e.webErr.ClientID, redirectURI, "deny-me", nil), "alice", consent{cancel: true})
	if q.Get("error") != "access_denied" || q.Get("state") != "deny-me" || q.Get("code") != "" {
		t.Errorf("denied consent: redirect query %v, want error=access_denied and state", q)
	}

	// A redirect_uri at /token that differs from the authorization request's.
	q = authorizeCode(t, b, e.c.OAuthURL(e.webErr.ClientID, redirectURI, "", nil), "alice", consent{})
	wantOAuthError(t, "mismatching redirect_uri", oauthRaw(t, e.main, tokenPath, "Bearer "+e.webErr.Secret, map[string]any{
		"client_id": e.webErr.ClientID, "grant_type": "authorization_code", "code": q.Get("code"), "redirect_uri": "http://127.0.0.1:1/other",
	}), 400, "invalid_grant")

	// Code reuse: the second exchange fails and revokes what the first issued.
	q = authorizeCode(t, b, e.c.OAuthURL(e.webErr.ClientID, redirectURI, "", nil), "alice", consent{})
	tok, err := e.c.ExchangeCode(ctx, e.webErr.ClientID, e.webErr.Secret, q.Get("code"), redirectURI)
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	wantOAuthError(t, "code reuse", oauthRaw(t, e.main, tokenPath, "Bearer "+e.webErr.Secret, map[string]any{
		"client_id": e.webErr.ClientID, "grant_type": "authorization_code", "code": q.Get("code"), "redirect_uri": redirectURI,
	}), 400, "invalid_grant")
	e.wantRevoked(t, "access token of a reused code", tok.AccessToken)
	_, err = e.c.Refresh(ctx, e.webErr.ClientID, e.webErr.Secret, tok.RefreshToken)
	wantAuthErr(t, "refresh token of a reused code", err, client.ErrCodeInvalidGrant)
}

func (e *oenv) testPKCE(t *testing.T) {
	t.Parallel()
	b := newBrowser(t, e.main.URL)
	ctx := ctxT(t)
	for _, method := range []string{client.PKCES256, client.PKCEPlain} {
		p, err := e.c.PKCEURL(e.pkce.ClientID, redirectURI, "pk", &client.PKCEOptions{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		q := authorizeCode(t, b, p.URL, "alice", consent{workspaces: []string{"Alpha", "Beta"}})
		tok, err := e.c.ExchangeCodePKCE(ctx, e.pkce.ClientID, q.Get("code"), redirectURI, p.CodeVerifier)
		if err != nil {
			t.Fatalf("%s: PKCE exchange: %v", method, err)
		}
		checkToken(t, "PKCE "+method, tok, 15*time.Minute, true)
		e.checkReach(t, "PKCE "+method, tok.AccessToken, []string{e.wsA1, e.wsA2}, []string{e.botA1, e.botA2}, []string{e.botE1})
		// A public client refreshes without a secret.
		tok2, err := e.c.Refresh(ctx, e.pkce.ClientID, "", tok.RefreshToken)
		if err != nil {
			t.Fatalf("%s: public refresh: %v", method, err)
		}
		checkToken(t, "PKCE refresh", tok2, 15*time.Minute, true)

		// A wrong verifier.
		p, err = e.c.PKCEURL(e.pkce.ClientID, redirectURI, "", &client.PKCEOptions{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		q = authorizeCode(t, b, p.URL, "alice", consent{})
		wantOAuthError(t, "PKCE "+method+" mismatch", oauthRaw(t, e.main, tokenPath, "Bearer ", map[string]any{
			"client_id": e.pkce.ClientID, "grant_type": "authorization_code", "code": q.Get("code"), "redirect_uri": redirectURI,
			"code_verifier": p.CodeVerifier + "x",
		}), 400, "invalid_grant")
	}
}

func (e *oenv) testDevice(t *testing.T) {
	t.Parallel()
	b := newBrowser(t, e.main.URL)
	ctx := ctxT(t)
	d, err := e.c.DeviceCode(ctx, e.device.ClientID, "")
	if err != nil {
		t.Fatalf("device code: %v", err)
	}
	done := make(chan struct{})
	var tok *client.OAuthToken
	var perr error
	go func() { // polls from the start, as an SDK would
		defer close(done)
		tok, perr = e.c.PollDeviceToken(ctx, e.device.ClientID, d.DeviceCode, true)
	}()
	approveDevice(t, b, d.VerificationURL, "alice", consent{})
	<-done
	if perr != nil {
		t.Fatalf("device poll: %v", perr)
	}
	checkToken(t, "device", tok, 15*time.Minute, true)
	e.checkReach(t, "device, all workspaces", tok.AccessToken, []string{e.wsA1, e.wsA2}, []string{e.botA1, e.botA2}, []string{e.botB, e.botE1})
	wantOAuthError(t, "redeemed device code", oauthRaw(t, e.main, tokenPath, "", map[string]any{
		"client_id": e.device.ClientID, "grant_type": client.GrantTypeDeviceCode, "device_code": d.DeviceCode,
	}), 400, "invalid_grant")
	tok2, err := e.c.Refresh(ctx, e.device.ClientID, "", tok.RefreshToken)
	if err != nil {
		t.Fatalf("device refresh: %v", err)
	}
	checkToken(t, "device refresh", tok2, 15*time.Minute, true)

	// Denied on the page: access_denied.
	d, err = e.c.DeviceCode(ctx, e.device.ClientID, "")
	if err != nil {
		t.Fatalf("device code: %v", err)
	}
	approveDevice(t, b, d.VerificationURL, "alice", consent{cancel: true})
	_, err = e.c.PollDeviceToken(ctx, e.device.ClientID, d.DeviceCode, true)
	wantAuthErr(t, "denied device code", err, client.ErrCodeAccessDenied)
	wantOAuthError(t, "denied device code (wire)", oauthRaw(t, e.main, tokenPath, "", map[string]any{
		"client_id": e.device.ClientID, "grant_type": client.GrantTypeDeviceCode, "device_code": d.DeviceCode,
	}), 400, "access_denied")
}

// testAccessTTL: with --access-token-ttl 2s the access token expires while
// its refresh token still works.
func (e *oenv) testAccessTTL(t *testing.T) {
	t.Parallel()
	bS := newBrowser(t, e.short.URL)
	ctx := ctxT(t)
	c := client.New(e.short.URL, client.WithHTTPClient(httpc))
	q := authorizeCode(t, bS, c.OAuthURL(e.webErr.ClientID, redirectURI, "", nil), "alice", consent{})
	tok, err := c.ExchangeCode(ctx, e.webErr.ClientID, e.webErr.Secret, q.Get("code"), redirectURI)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	checkToken(t, "2 s access token", tok, 2*time.Second, true)
	if _, err := c.UsersMe(ctx, tok.AccessToken); err != nil {
		t.Fatalf("users/me with a fresh token: %v", err)
	}
	time.Sleep(time.Until(time.Unix(tok.ExpiresIn, 0)) + 100*time.Millisecond)
	if _, err := c.UsersMe(ctx, tok.AccessToken); codeOf(err) != 4100 {
		t.Errorf("users/me after expires_in: %v, want 4100", err)
	}
	tok2, err := c.Refresh(ctx, e.webErr.ClientID, e.webErr.Secret, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the access token expired: %v", err)
	}
	if _, err := c.UsersMe(ctx, tok2.AccessToken); err != nil {
		t.Errorf("users/me with the refreshed token: %v", err)
	}
}

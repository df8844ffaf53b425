package client

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// recorded is one request the fake OAuth server saw.
type recorded struct {
	path, auth, contentType string
	body                    map[string]any
	at                      time.Time
}

// fakeOAuth answers each request with the next of replies (status, body).
type fakeOAuth struct {
	mu      sync.Mutex
	reqs    []recorded
	replies []reply
}

type reply struct {
	status int
	body   string
}

func (f *fakeOAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), body: m, at: time.Now()})
	rep := reply{200, `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":1900000000}`}
	if len(f.replies) > 0 {
		rep, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Tt-Logid", "log-1")
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func newFake(t *testing.T, replies ...reply) (*fakeOAuth, *Client) {
	f := &fakeOAuth{replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, New(srv.URL, WithDevicePollInterval(20*time.Millisecond))
}

func oauthErrBody(code string) string {
	return `{"error":"` + code + `","error_code":"` + code + `","error_message":"msg ` + code + `","error_description":"msg ` + code + `"}`
}

func TestOAuthURL(t *testing.T) {
	c := New("http://127.0.0.1:8080/")
	u, err := url.Parse(c.OAuthURL("cid", "http://app/cb", "st", nil))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/api/permission/oauth2/authorize" || u.Host != "127.0.0.1:8080" {
		t.Errorf("url %s", u)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != "cid" || q.Get("redirect_uri") != "http://app/cb" || q.Get("state") != "st" {
		t.Errorf("query %v", q)
	}
	if s := c.OAuthURL("cid", "http://app/cb", "", &AuthURLOptions{WorkspaceID: "ws 1"}); !strings.Contains(s, "/api/permission/oauth2/workspace_id/ws%201/authorize?") || strings.Contains(s, "state=") {
		t.Errorf("workspace variant without state: %s", s)
	}
	w := New("https://api.coze.com", WithWWWURL("https://www.coze.com/"))
	if s := w.OAuthURL("cid", "r", "", nil); !strings.HasPrefix(s, "https://www.coze.com/api/permission/oauth2/authorize?") {
		t.Errorf("WithWWWURL: %s", s)
	}
}

func TestPKCEURL(t *testing.T) {
	c := New("http://h")
	p, err := c.PKCEURL("cid", "http://app/cb", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.URL)
	q := u.Query()
	if p.Method != "S256" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != S256Challenge(p.CodeVerifier) || len(p.CodeVerifier) < 43 {
		t.Errorf("S256: %+v %v", p, q)
	}
	// RFC 7636 Appendix B.
	if got := S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("S256Challenge = %s", got)
	}
	p, err = c.PKCEURL("cid", "http://app/cb", "x", &PKCEOptions{Method: PKCEPlain, Verifier: "my verifier"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(p.URL)
	if q := u.Query(); q.Get("code_challenge") != "my verifier" || q.Get("code_challenge_method") != "plain" {
		t.Errorf("plain: %v", q)
	}
	if _, err := c.PKCEURL("c", "r", "", &PKCEOptions{Method: "S512"}); err == nil {
		t.Error("unknown method accepted")
	}
}

func TestTokenRequests(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	tok, err := c.ExchangeCode(ctx, "cid", "sec", "code1", "http://app/cb")
	if err != nil || tok.AccessToken != "at" || tok.RefreshToken != "rt" || tok.ExpiresIn != 1900000000 || tok.TokenType != "Bearer" {
		t.Fatalf("ExchangeCode = %+v, %v", tok, err)
	}
	if _, err := c.ExchangeCodePKCE(ctx, "cid", "code2", "http://app/cb", "ver"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, "cid", "sec", "rt1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, "cid", "", "rt2"); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		auth string
		body map[string]any
	}{
		{"Bearer sec", map[string]any{"client_id": "cid", "grant_type": "authorization_code", "code": "code1", "redirect_uri": "http://app/cb"}},
		{"", map[string]any{"client_id": "cid", "grant_type": "authorization_code", "code": "code2", "redirect_uri": "http://app/cb", "code_verifier": "ver"}},
		{"Bearer sec", map[string]any{"client_id": "cid", "grant_type": "refresh_token", "refresh_token": "rt1"}},
		{"", map[string]any{"client_id": "cid", "grant_type": "refresh_token", "refresh_token": "rt2"}},
	}
	for i, w := range want {
		r := f.reqs[i]
		if r.path != "/api/permission/oauth2/token" || r.auth != w.auth || !strings.HasPrefix(r.contentType, "application/json") {
			t.Errorf("request %d: path %s auth %q ct %q", i, r.path, r.auth, r.contentType)
		}
		if len(r.body) != len(w.body) {
			t.Errorf("request %d: body %v, want %v", i, r.body, w.body)
		}
		for k, v := range w.body {
			if r.body[k] != v {
				t.Errorf("request %d: %s = %v, want %v", i, k, r.body[k], v)
			}
		}
	}
}

func TestAuthErrors(t *testing.T) {
	tests := []struct {
		name     string
		rep      reply
		code     string
		status   int
		apiCode  int
		contains string
	}{
		{"invalid_grant", reply{400, oauthErrBody("invalid_grant")}, "invalid_grant", 400, 0, "msg invalid_grant"},
		{"invalid_client", reply{401, oauthErrBody("invalid_client")}, "invalid_client", 401, 0, "msg invalid_client"},
		{"rfc only", reply{400, `{"error":"invalid_request","error_description":"d"}`}, "invalid_request", 400, 0, "d"},
		{"openapi code", reply{401, `{"code":4100,"msg":"bad token"}`}, "", 401, 4100, "bad token"},
		{"html", reply{502, `<html>`}, "", 502, 0, "not a JSON"},
		{"bare 500", reply{500, `{}`}, "", 500, 0, "Internal Server Error"},
		{"no token", reply{200, `{"token_type":"Bearer"}`}, "", 200, 0, "no access_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFake(t, tt.rep)
			_, err := c.ExchangeCode(context.Background(), "cid", "sec", "c", "r")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q lacks %q", err, tt.contains)
			}
			if tt.apiCode != 0 {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != tt.apiCode || ae.LogID != "log-1" {
					t.Errorf("want *APIError %d, got %#v", tt.apiCode, err)
				}
				return
			}
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("want *AuthError, got %T %v", err, err)
			}
			if ae.Code != tt.code || ae.HTTPStatus != tt.status || (tt.status != 200 && ae.LogID != "log-1") {
				t.Errorf("got %+v", ae)
			}
			if tt.code != "" && !IsAuthError(err, tt.code) {
				t.Errorf("IsAuthError(%s) false", tt.code)
			}
		})
	}
}

func TestDeviceFlow(t *testing.T) {
	f, c := newFake(t,
		reply{200, `{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"http://h/device","expires_in":1900000000,"interval":5}`},
		reply{400, oauthErrBody("authorization_pending")},
		reply{400, oauthErrBody("slow_down")},
		reply{200, `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":1900000000}`},
	)
	ctx := context.Background()
	d, err := c.DeviceCode(ctx, "cid", "ws1")
	if err != nil {
		t.Fatal(err)
	}
	if d.DeviceCode != "dc" || d.UserCode != "ABCD-EFGH" || d.VerificationURL != "http://h/device?user_code=ABCD-EFGH" || d.Interval != 5 {
		t.Errorf("device auth %+v", d)
	}
	if f.reqs[0].path != "/api/permission/oauth2/workspace_id/ws1/device/code" || f.reqs[0].body["client_id"] != "cid" || f.reqs[0].auth != "" {
		t.Errorf("device code request %+v", f.reqs[0])
	}
	start := time.Now()
	tok, err := c.PollDeviceToken(ctx, "cid", "dc", true)
	if err != nil || tok.AccessToken != "at" {
		t.Fatalf("poll = %+v, %v", tok, err)
	}
	if len(f.reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(f.reqs))
	}
	// First poll at once; then 20 ms; after slow_down 20 ms + 5 s.
	if d := f.reqs[1].at.Sub(start); d > 15*time.Millisecond {
		t.Errorf("first poll after %v, want immediately", d)
	}
	if gap := f.reqs[3].at.Sub(f.reqs[2].at); gap < 5*time.Second {
		t.Errorf("gap after slow_down %v, want ≥ 5 s more", gap)
	}
	for _, r := range f.reqs[1:] {
		if r.body["grant_type"] != GrantTypeDeviceCode || r.body["device_code"] != "dc" || r.auth != "" {
			t.Errorf("poll %+v", r)
		}
	}
}

func TestDevicePollTerminal(t *testing.T) {
	for _, code := range []string{"access_denied", "expired_token", "invalid_grant"} {
		_, c := newFake(t, reply{400, oauthErrBody("authorization_pending")}, reply{400, oauthErrBody(code)})
		_, err := c.PollDeviceToken(context.Background(), "cid", "dc", true)
		if !IsAuthError(err, code) {
			t.Errorf("%s: got %v", code, err)
		}
	}
	_, c := newFake(t, reply{400, oauthErrBody("authorization_pending")})
	if _, err := c.PollDeviceToken(context.Background(), "cid", "dc", false); !IsAuthError(err, ErrCodeAuthorizationPending) {
		t.Errorf("single poll: %v", err)
	}
	_, c = newFake(t, reply{400, oauthErrBody("authorization_pending")}, reply{400, oauthErrBody("authorization_pending")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.PollDeviceToken(ctx, "cid", "dc", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ctx: %v", err)
	}
}

func TestJWTToken(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	f, c := newFake(t, reply{200, `{"access_token":"at","token_type":"Bearer","expires_in":1900000000}`}, reply{200, `{"access_token":"at","token_type":"Bearer","expires_in":1900000000}`}, reply{200, `{"access_token":"at","token_type":"Bearer","expires_in":1900000000}`})
	host := strings.TrimPrefix(c.BaseURL(), "http://")
	ctx := context.Background()
	reqs := []JWTRequest{
		{ClientID: "cid", KeyID: "kid1", PrivateKeyPEM: pkcs8},
		{ClientID: "cid", KeyID: "kid1", PrivateKeyPEM: pkcs1, AccountID: "42", TTL: time.Hour, SessionName: "s1",
			Scope: BuildBotChat([]string{"b1"}, nil)},
		{ClientID: "cid", KeyID: "kid1", PrivateKeyPEM: pkcs8, EnterpriseID: "e1", Audience: "api.coze.cn"},
	}
	paths := []string{"/api/permission/oauth2/token", "/api/permission/oauth2/account/42/token", "/api/permission/oauth2/enterprise_id/e1/token"}
	for i, r := range reqs {
		tok, err := c.JWTToken(ctx, r)
		if err != nil || tok.AccessToken != "at" || tok.RefreshToken != "" {
			t.Fatalf("%d: %+v %v", i, tok, err)
		}
		got := f.reqs[i]
		if got.path != paths[i] {
			t.Errorf("%d: path %s", i, got.path)
		}
		raw := strings.TrimPrefix(got.auth, "Bearer ")
		claims := jwt.MapClaims{}
		parsed, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"}))
		if err != nil {
			t.Fatalf("%d: the JWT does not verify: %v", i, err)
		}
		if parsed.Header["kid"] != "kid1" || claims["iss"] != "cid" || claims["jti"] == "" {
			t.Errorf("%d: header %v claims %v", i, parsed.Header, claims)
		}
		wantAud := host
		if r.Audience != "" {
			wantAud = r.Audience
		}
		if claims["aud"] != wantAud {
			t.Errorf("%d: aud %v, want %s", i, claims["aud"], wantAud)
		}
		ttl := int64(claims["exp"].(float64) - claims["iat"].(float64))
		wantTTL := int64(ttlSeconds(r.TTL))
		if ttl != wantTTL || got.body["duration_seconds"] != float64(wantTTL) {
			t.Errorf("%d: exp-iat %d, duration_seconds %v, want %d", i, ttl, got.body["duration_seconds"], wantTTL)
		}
		if got.body["grant_type"] != GrantTypeJWTBearer || got.body["client_id"] != "cid" {
			t.Errorf("%d: body %v", i, got.body)
		}
	}
	if f.reqs[1].body["scope"] == nil || claimsOf(t, f.reqs[1].auth)["session_name"] != "s1" {
		t.Errorf("scope or session_name missing: %v", f.reqs[1].body)
	}
	if _, err := c.JWTToken(ctx, JWTRequest{ClientID: "c", KeyID: "k", PrivateKeyPEM: "junk"}); err == nil {
		t.Error("junk key accepted")
	}
}

func claimsOf(t *testing.T, auth string) jwt.MapClaims {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimPrefix(auth, "Bearer "), claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

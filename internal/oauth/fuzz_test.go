package oauth

// Fuzz targets (issue 11.17). Each asserts properties of the answer, not only
// that the code runs. Run one with
//
//	go test -run '^$' -fuzz '^FuzzTokenRequest$' -fuzztime 30s ./internal/oauth
//
// Crashers the fuzzer finds are kept under testdata/fuzz/<target>/ and run
// as seeds by every plain `go test`.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/store"
)

// fuzzOAuth is a fixture with one app of each client type and a JWT signer
// for the service app.
type fuzzOAuth struct {
	*fixture
	web, pkce, device, svc store.App
	secret                 string
	pub                    *rsa.PublicKey
	sign                   func(jti string) string
}

func newFuzzOAuth(f *testing.F) *fuzzOAuth {
	fx := newFixture(f)
	ctx := context.Background()
	z := &fuzzOAuth{fixture: fx}
	z.web, z.secret = fx.app(store.ClientWebBackend, "Bot.chat", "Workspace.list")
	z.pkce, _ = fx.app(store.ClientSinglePageOrNative, "Bot.chat")
	z.device, _ = fx.app(store.ClientTerminal, "Bot.chat")
	z.svc, _ = fx.app(store.ClientService, "Bot.chat", "Connector.botChat")
	key, privPEM, err := fx.s.GenerateKey(ctx, z.svc.ID)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := fx.s.AuthorizeApp(ctx, z.svc.ID, fx.alice.ID, true, nil); err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode([]byte(privPEM))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		f.Fatal(err)
	}
	priv := parsed.(*rsa.PrivateKey)
	z.pub = &priv.PublicKey
	z.sign = func(jti string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": z.svc.ClientID, "aud": "auth.test",
			"iat": fx.now.Unix(), "exp": fx.now.Add(time.Hour).Unix(), "jti": jti})
		tok.Header["kid"] = key.ID
		s, err := tok.SignedString(priv)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	return z
}

// tokenPaths are the three /token routes.
var tokenPaths = []string{"/token", "/account/%s/token", "/enterprise_id/E1/token"}

func (z *fuzzOAuth) serve(path, contentType, authorization string, body []byte) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", z.s.Token)
	mux.HandleFunc("POST /account/{account_id}/token", z.s.Token)
	mux.HandleFunc("POST /enterprise_id/{enterprise_id}/token", z.s.Token)
	mux.HandleFunc("POST /device/code", z.s.DeviceCode)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

// checkOAuthAnswer asserts what every /token and /device/code answer must
// be: JSON; never a 5xx; an error in the WIRE.md §3.5 shape with a 4xx; a
// success only with a token.
func checkOAuthAnswer(t *testing.T, rec *httptest.ResponseRecorder, want200Field string) map[string]any {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("body is not a JSON object: %q", rec.Body)
	}
	if rec.Code == http.StatusOK {
		if s, _ := out[want200Field].(string); s == "" {
			t.Fatalf("200 without %s: %v", want200Field, out)
		}
		return out
	}
	if rec.Code < 400 || rec.Code > 499 {
		t.Fatalf("status %d", rec.Code)
	}
	code, _ := out["error"].(string)
	msg, _ := out["error_message"].(string)
	if code == "" || out["error_code"] != code || msg == "" || out["code"] != nil || out["msg"] != nil {
		t.Fatalf("error body not in the WIRE.md §3.5 shape: %v", out)
	}
	return out
}

// FuzzTokenRequest sends arbitrary bodies, content types and Authorization
// headers to the /token routes and /device/code.
func FuzzTokenRequest(f *testing.F) {
	z := newFuzzOAuth(f)
	j := func(m map[string]any) []byte { b, _ := json.Marshal(m); return b }
	jsonCT, formCT := "application/json; charset=utf-8", "application/x-www-form-urlencoded"
	seeds := []struct {
		path     uint8
		ct, auth string
		body     []byte
	}{
		{0, jsonCT, "Bearer " + z.secret, j(map[string]any{"grant_type": "authorization_code", "client_id": z.web.ClientID, "code": "x", "redirect_uri": "http://127.0.0.1:9/cb"})},
		{0, jsonCT, "Bearer", j(map[string]any{"grant_type": "authorization_code", "client_id": z.pkce.ClientID, "code": "x", "code_verifier": "abc"})},
		{0, jsonCT, "", j(map[string]any{"grant_type": "refresh_token", "client_id": z.pkce.ClientID, "refresh_token": "czr_x"})},
		{0, jsonCT, "Bearer ", j(map[string]any{"grant_type": GrantTypeDeviceCode, "client_id": z.device.ClientID, "device_code": "x"})},
		{0, jsonCT, "Bearer " + z.sign("seed-1"), j(map[string]any{"grant_type": GrantTypeJWTBearer, "duration_seconds": 600,
			"scope": map[string]any{"account_permission": map[string]any{"permission_list": []string{"Bot.chat"}}}})},
		{1, jsonCT, "Bearer " + z.sign("seed-2"), j(map[string]any{"grant_type": GrantTypeJWTBearer, "account_id": 7351234567890123456})},
		{2, jsonCT, "Bearer " + z.sign("seed-3"), j(map[string]any{"grant_type": GrantTypeJWTBearer, "enterprise_id": "E2"})},
		{0, jsonCT, "Bearer x", j(map[string]any{"grant_type": GrantTypeJWTBearer, "duration_seconds": -1, "scope": "null"})},
		{0, jsonCT, "", []byte(`{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","duration_seconds":1e300,"account_id":"x"}`)},
		{0, formCT, "", []byte("grant_type=refresh_token&client_id=" + z.web.ClientID + "&refresh_token=czr_a")},
		{0, "APPLICATION/X-WWW-FORM-URLENCODED", "Basic abc", []byte("grant_type=%zz")},
		{0, jsonCT, "", []byte(`[]`)},
		{0, jsonCT, "", []byte(``)},
		{0, jsonCT, "", []byte(`{"grant_type":null,"client_id":{}}`)},
		{3, jsonCT, "", j(map[string]any{"client_id": z.device.ClientID})},
		{3, formCT, "", []byte("client_id=" + z.web.ClientID)},
	}
	for _, s := range seeds {
		f.Add(s.path, s.ct, s.auth, s.body)
	}
	f.Fuzz(func(t *testing.T, path uint8, contentType, authorization string, body []byte) {
		p, field := "/device/code", "device_code"
		if i := int(path) % 4; i < 3 {
			p, field = tokenPaths[i], "access_token"
			if i == 1 {
				p = "/account/" + z.alice.AccountID + "/token"
			}
		}
		rec := z.serve(p, contentType, authorization, body)
		out := checkOAuthAnswer(t, rec, field)
		if rec.Code == http.StatusOK && field == "access_token" {
			// The fuzzer cannot know a live code, refresh token or device
			// code, so a token can only come from a JWT signed by the service
			// app's key (a seed).
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.Header.Set("Authorization", authorization)
			if err := z.verifies(bearerCredential(req)); err != nil {
				t.Fatalf("a token without a valid signed JWT (%v): %v", err, out)
			}
		}
	})
}

// verifies checks raw with the service app's public key.
func (z *fuzzOAuth) verifies(raw string) error {
	_, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return z.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return z.now }))
	return err
}

// FuzzJWTBearer uses arbitrary strings as the JWT bearer of the JWT grant:
// never a 5xx, and a token only for a JWT that verifies with the app's key.
func FuzzJWTBearer(f *testing.F) {
	z := newFuzzOAuth(f)
	f.Add(z.sign("seed-a"), []byte(`{"account_permission":{"permission_list":["Bot.chat"]}}`))
	f.Add(z.sign("seed-b"), []byte(`null`))
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", []byte(``))
	f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJ4IiwiZXhwIjoxfQ.AAAA", []byte(`{}`))
	f.Add("a.b.c", []byte(`{"account_permission":{"permission_list":[]}}`))
	f.Add("....", []byte(`{"attribute_constraint":{"connector_bot_chat_attribute":{"bot_id_list":["1"]}}}`))
	f.Fuzz(func(t *testing.T, bearer string, scope []byte) {
		body := map[string]any{"grant_type": GrantTypeJWTBearer}
		if json.Valid(scope) {
			body["scope"] = json.RawMessage(scope)
		}
		b, _ := json.Marshal(body)
		rec := z.serve("/token", "application/json", "Bearer "+bearer, b)
		out := checkOAuthAnswer(t, rec, "access_token")
		if rec.Code != http.StatusOK {
			return
		}
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		if err := z.verifies(bearerCredential(req)); err != nil {
			t.Fatalf("token issued for a JWT that does not verify (%v): %v", err, out)
		}
	})
}

// FuzzJWTScope parses arbitrary scope objects against an app: only the app's
// permissions come out, sorted and unique; "permission_list": [] is refused
// (issue 11.9); every refusal is invalid_scope.
func FuzzJWTScope(f *testing.F) {
	app := store.App{Permissions: []string{"Bot.chat", "Connector.botChat", "Workspace.list"}}
	for _, s := range []string{
		``, `null`, ` null `, `{}`, `[]`, `"x"`,
		`{"account_permission":{"permission_list":["Bot.chat"]}}`,
		`{"account_permission":{"permission_list":["Bot.chat","Bot.chat","Workspace.list"]}}`,
		`{"account_permission":{"permission_list":[]}}`,
		`{"account_permission":{"permission_list":null}}`,
		`{"account_permission":{"permission_list":["Bot.create"]}}`,
		`{"account_permission":null,"attribute_constraint":{"connector_bot_chat_attribute":{"bot_id_list":["b2","b1","b1"]}}}`,
		`{"account_permission":{"permission_list":[1]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sc, err := parseJWTScope(raw, app)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) || oe.Code != "invalid_scope" || oe.Status != http.StatusBadRequest {
				t.Fatalf("refusal is not invalid_scope: %v", err)
			}
			return
		}
		for _, p := range sc.permissions {
			if !slices.Contains(app.Permissions, p) {
				t.Fatalf("scope grants %q, which the app does not declare", p)
			}
		}
		if !slices.IsSorted(sc.permissions) || len(slices.Compact(slices.Clone(sc.permissions))) != len(sc.permissions) {
			t.Fatalf("permissions not sorted and unique: %v", sc.permissions)
		}
		var probe struct {
			AccountPermission *struct {
				PermissionList *[]json.RawMessage `json:"permission_list"`
			} `json:"account_permission"`
		}
		if json.Unmarshal(raw, &probe) == nil && probe.AccountPermission != nil && probe.AccountPermission.PermissionList != nil &&
			len(*probe.AccountPermission.PermissionList) == 0 {
			t.Fatalf("an empty permission_list was accepted: %+v", sc)
		}
	})
}

// FuzzPublicKeyPEM uploads arbitrary text as a JWT public key: accepted only
// as an RSA public key of at least MinRSABits from a public-key PEM block
// (never a private key), which then has a fingerprint; refusals wrap
// ErrInvalidApp (a 400 to the caller, never a 500).
func FuzzPublicKeyPEM(f *testing.F) {
	k2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	k1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	enc := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	pkix2048, _ := x509.MarshalPKIXPublicKey(&k2048.PublicKey)
	pkix1024, _ := x509.MarshalPKIXPublicKey(&k1024.PublicKey)
	priv, _ := x509.MarshalPKCS8PrivateKey(k2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k2048.PublicKey, k2048)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		enc("PUBLIC KEY", pkix2048),
		"  \n" + enc("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k2048.PublicKey)) + "trailing",
		enc("CERTIFICATE", cert),
		enc("PUBLIC KEY", pkix1024),
		enc("PRIVATE KEY", priv),
		enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k2048)),
		enc("PUBLIC KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}),
		"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----",
		"not pem",
	} {
		f.Add(s)
	}
	publicTypes := []string{"PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"}
	f.Fuzz(func(t *testing.T, text string) {
		k, err := parsePublicKey(text)
		if err != nil {
			if !errors.Is(err, ErrInvalidApp) {
				t.Fatalf("refusal does not wrap ErrInvalidApp: %v", err)
			}
			return
		}
		if k == nil || k.N == nil || k.N.BitLen() < MinRSABits {
			t.Fatalf("accepted a key below %d bits", MinRSABits)
		}
		block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
		if block == nil || !slices.Contains(publicTypes, block.Type) {
			t.Fatalf("accepted a key from a %v block", block)
		}
		if _, _, err := fingerprint(k); err != nil {
			t.Fatalf("accepted key has no fingerprint: %v", err)
		}
	})
}

// FuzzRedirectURI registers arbitrary redirect URIs. An accepted one is an
// absolute URL that every parser reads the same way (no userinfo, no
// backslash, no spaces or control characters, no fragment or wildcard), so
// the exact-match comparison at /authorize compares what the browser will
// visit; http only on a loopback host; https with a host; other schemes only
// as a native app's reverse-domain scheme.
func FuzzRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example/cb", "http://127.0.0.1:9/cb", "http://localhost:3000/callback", "http://[::1]/cb",
		"com.example.app:/callback", "https://app.example/cb#frag", "https://*.example/cb", "http://app.example/cb",
		"https:///nohost", "/relative", "javascript:alert(1)", "http://localhost\\@evil.example/",
		"http://evil.example\\@localhost/", "http://user:pass@localhost/cb", "https://app.example/a b",
		"http://127.0.0.1.evil.example/", "HTTP://LOCALHOST/cb", "https://app.example/cb?x=1&y=%2F",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	types := []store.ClientType{store.ClientWebBackend, store.ClientSinglePageOrNative}
	f.Fuzz(func(t *testing.T, raw string, typ uint8) {
		ct := types[int(typ)%len(types)]
		err := checkRedirectURI(ct, raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidApp) {
				t.Fatalf("refusal does not wrap ErrInvalidApp: %v", err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || !u.IsAbs() {
			t.Fatalf("accepted %q, which is not an absolute URL (%v)", raw, perr)
		}
		if u.User != nil || u.Fragment != "" || strings.ContainsAny(raw, "#*\\") ||
			strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			t.Fatalf("accepted %q, which parsers may read differently", raw)
		}
		switch u.Scheme {
		case "https":
			if u.Host == "" {
				t.Fatalf("accepted https %q without a host", raw)
			}
		case "http":
			host := u.Hostname()
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				t.Fatalf("accepted plain http %q on a non-loopback host", raw)
			}
		default:
			if ct != store.ClientSinglePageOrNative || !strings.Contains(u.Scheme, ".") {
				t.Fatalf("accepted scheme %q for a %s app", u.Scheme, ct)
			}
		}
		// Exact match: registering it and presenting the same string works,
		// any other string does not.
		uris, err := CheckRedirectURIs(ct, []string{raw, raw})
		if err != nil || len(uris) != 1 || uris[0] != raw {
			t.Fatalf("CheckRedirectURIs(%q) = %v, %v", raw, uris, err)
		}
	})
}

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

// Per-grant benchmarks through the /token handler on a SQLite store: what one
// token costs in the server, without HTTP transport.

type benchEnv struct {
	s    *Service
	user store.User
	mux  *http.ServeMux
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e := &benchEnv{s: (&Service{Store: db, Catalog: permission.Default(), Lifetimes: DefaultLifetimes(), PublicURL: "http://auth.test",
		Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Init(&cache.Generation{})}
	if e.user, err = (&identity.Service{Store: db, Now: time.Now}).CreateUser(ctx, "bench", "password-1", ""); err != nil {
		b.Fatal(err)
	}
	e.mux = http.NewServeMux()
	e.mux.HandleFunc("POST /token", e.s.Token)
	return e
}

func (e *benchEnv) post(b *testing.B, bearer string, body map[string]any) map[string]any {
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", "/token", strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

func BenchmarkJWTGrant(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	app, _, err := e.s.CreateApp(ctx, AppSpec{Owner: e.user.Account(), Type: store.ClientService, Name: "svc", Permissions: []string{"Bot.chat"}})
	if err != nil {
		b.Fatal(err)
	}
	key, privPEM, err := e.s.GenerateKey(ctx, app.ID)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.s.AuthorizeApp(ctx, app.ID, e.user.ID, true, nil); err != nil {
		b.Fatal(err)
	}
	block, _ := pem.Decode([]byte(privPEM))
	k, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	priv := k.(*rsa.PrivateKey)
	// Sign outside the timed loop: signing is the client's cost.
	jwts := make([]string, b.N)
	for i := range jwts {
		t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": app.ClientID, "aud": "auth.test",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "jti": fmt.Sprintf("bench-%d", i)})
		t.Header["kid"] = key.ID
		if jwts[i], err = t.SignedString(priv); err != nil {
			b.Fatal(err)
		}
	}
	body := map[string]any{"grant_type": GrantTypeJWTBearer, "duration_seconds": 900}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.post(b, jwts[i], body)
	}
}

// webApp makes a WebBackend app and a consent, returning the app and secret.
func (e *benchEnv) webApp(b *testing.B) (store.App, string) {
	app, secret, err := e.s.CreateApp(context.Background(), AppSpec{Owner: e.user.Account(), Type: store.ClientWebBackend, Name: "web",
		RedirectURIs: []string{"http://127.0.0.1:9/cb"}, Permissions: []string{"Bot.chat"}})
	if err != nil {
		b.Fatal(err)
	}
	return app, secret
}

func (e *benchEnv) code(b *testing.B, app store.App) string {
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURIs[0]}}
	req, err := e.s.ParseAuthorize(context.Background(), q, "")
	if err != nil {
		b.Fatal(err)
	}
	loc, err := e.s.Approve(context.Background(), req, Choice{UserID: e.user.ID, Account: e.user.Account(), AllWorkspaces: true})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(loc)
	return u.Query().Get("code")
}

func BenchmarkCodeGrant(b *testing.B) {
	e := newBenchEnv(b)
	app, secret := e.webApp(b)
	codes := make([]string, b.N)
	for i := range codes {
		codes[i] = e.code(b, app)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.post(b, secret, map[string]any{"grant_type": GrantTypeAuthorizationCode, "client_id": app.ClientID,
			"code": codes[i], "redirect_uri": app.RedirectURIs[0]})
	}
}

func BenchmarkRefreshGrant(b *testing.B) {
	e := newBenchEnv(b)
	app, secret := e.webApp(b)
	tok := e.post(b, secret, map[string]any{"grant_type": GrantTypeAuthorizationCode, "client_id": app.ClientID, "code": e.code(b, app),
		"redirect_uri": app.RedirectURIs[0]})
	refresh := tok["refresh_token"].(string)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := e.post(b, secret, map[string]any{"grant_type": GrantTypeRefreshToken, "client_id": app.ClientID, "refresh_token": refresh})
		refresh = out["refresh_token"].(string)
	}
}

func BenchmarkResolveCached(b *testing.B) {
	e := newBenchEnv(b)
	app, secret := e.webApp(b)
	tok := e.post(b, secret, map[string]any{"grant_type": GrantTypeAuthorizationCode, "client_id": app.ClientID, "code": e.code(b, app),
		"redirect_uri": app.RedirectURIs[0]})
	access := tok["access_token"].(string)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.s.Resolve(ctx, access); err != nil {
			b.Fatal(err)
		}
	}
}

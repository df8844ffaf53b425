package oauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/store"
)

// TestRevokeServiceApp: a service app authenticates its revocation with a
// signed JWT, as on /token; the token's record is revoked, nothing else.
func TestRevokeServiceApp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc, _ := f.app(store.ClientService, "Bot.chat")
	other, _ := f.app(store.ClientService, "Bot.chat")
	key, privPEM, err := f.s.GenerateKey(ctx, svc.ID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(privPEM))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sign := func(iss string, exp time.Time) string {
		n++
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": iss, "aud": "auth.test", "iat": f.now.Unix(),
			"exp": exp.Unix(), "jti": fmt.Sprintf("r-%d", n)})
		tok.Header["kid"] = key.ID
		s, err := tok.SignedString(parsed.(*rsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := f.s.AuthorizeApp(ctx, svc.ID, f.alice.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	issue := func() string {
		_, b := f.post(f.s.Token, "/token", sign(svc.ClientID, f.now.Add(time.Hour)), map[string]any{"grant_type": GrantTypeJWTBearer})
		tok, _ := b["access_token"].(string)
		if tok == "" {
			t.Fatalf("JWT grant: %v", b)
		}
		return tok
	}
	revoked := func(tok string) bool {
		rec, err := f.db.GetOAuthTokenByHash(ctx, credential.Hash(tok))
		if err != nil {
			t.Fatal(err)
		}
		return rec.RevokedAt != 0
	}
	for _, tt := range []struct {
		name, clientID string
		bearer         func() string
		status         int
		errCode        string
		revoked        bool
	}{
		{"JWT, no client_id", "", func() string { return sign(svc.ClientID, f.now.Add(time.Hour)) }, 200, "", true},
		{"JWT and its client_id", svc.ClientID, func() string { return sign(svc.ClientID, f.now.Add(time.Hour)) }, 200, "", true},
		{"no JWT", svc.ClientID, func() string { return "" }, 401, "invalid_client", false},
		{"expired JWT", svc.ClientID, func() string { return sign(svc.ClientID, f.now.Add(-time.Hour)) }, 401, "invalid_client", false},
		{"JWT of another issuer than client_id", other.ClientID, func() string { return sign(svc.ClientID, f.now.Add(time.Hour)) }, 401, "invalid_client", false},
		{"a secret-looking bearer without client_id", "", func() string { return "czs_" + strings.Repeat("a", 64) }, 400, "invalid_request", false},
	} {
		tok := issue()
		body, _ := json.Marshal(map[string]string{"client_id": tt.clientID, "token": tok})
		req := httptest.NewRequest("POST", "/api/permission/oauth2/revoke", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if b := tt.bearer(); b != "" {
			req.Header.Set("Authorization", "Bearer "+b)
		}
		rec := httptest.NewRecorder()
		f.s.Revoke(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != tt.status || (tt.errCode != "" && out["error"] != tt.errCode) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, rec.Code, rec.Body.String(), tt.status, tt.errCode)
		}
		if got := revoked(tok); got != tt.revoked {
			t.Errorf("%s: revoked = %v, want %v", tt.name, got, tt.revoked)
		}
	}
	// Each revocation is audited once, with the app as the actor; refused
	// ones are not.
	events, err := f.db.ListAudit(ctx, store.AuditFilter{Action: "token.revoke"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("token.revoke events = %d, want 2: %+v", len(events), events)
	}
	for _, e := range events {
		if e.ActorID != svc.ID || e.ActorType != store.ActorApp || e.TargetType != "app" || e.TargetID != svc.ID ||
			!strings.Contains(e.Detail, `"token_kind":"access"`) {
			t.Errorf("token.revoke event = %+v", e)
		}
	}
}

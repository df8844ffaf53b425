package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

const revokePath = "/api/permission/oauth2/revoke"

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	introspector := e.introspectorPAT(t)
	spa := e.consent(t, e.mkApp(t, e.alice, store.ClientSinglePageOrNative, []string{"Bot.chat"}, "http://localhost:3000/cb"), e.alice, []string{"Bot.chat"})
	web := e.consent(t, e.mkApp(t, e.alice, store.ClientWebBackend, []string{"Bot.chat"}, "http://localhost:8080/cb"), e.alice, []string{"Bot.chat"})
	other := e.consent(t, e.mkApp(t, e.alice, store.ClientTerminal, []string{"Bot.chat"}), e.alice, []string{"Bot.chat"})
	active := func(tok string) bool {
		t.Helper()
		_, got, _ := e.introspect(t, introspector, tok, false)
		return got.Active
	}
	jsonBody := func(v map[string]string) (string, string) {
		b, _ := json.Marshal(v)
		return "application/json", string(b)
	}
	formBody := func(v map[string]string) (string, string) {
		q := url.Values{}
		for k, x := range v {
			q.Set(k, x)
		}
		return "application/x-www-form-urlencoded", q.Encode()
	}

	type check struct {
		tok    func(p tokenPair) string
		active bool
	}
	access := func(p tokenPair) string { return p.access }
	refresh := func(p tokenPair) string { return p.refresh }
	tests := []struct {
		name   string
		app    oauthFixture
		auth   func(f oauthFixture) string
		body   func(f oauthFixture, p tokenPair) map[string]string
		enc    func(map[string]string) (string, string)
		status int
		errc   string // OAuth error code when status is not 200
		after  []check
	}{
		{"refresh token revokes its family", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": p.refresh, "token_type_hint": "refresh_token"}
			}, jsonBody, 200, "", []check{{access, false}, {refresh, false}}},
		{"access token revokes only itself (form body)", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": p.access}
			}, formBody, 200, "", []check{{access, false}, {refresh, true}}},
		{"a wrong hint is ignored", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": p.refresh, "token_type_hint": "access_token"}
			}, jsonBody, 200, "", []check{{access, false}, {refresh, false}}},
		{"web app with its secret", web, func(f oauthFixture) string { return "Bearer " + f.secret },
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": p.refresh}
			}, jsonBody, 200, "", []check{{access, false}, {refresh, false}}},
		{"unknown token", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": credential.NewToken(oauth.PrefixRefresh)}
			}, jsonBody, 200, "", []check{{access, true}, {refresh, true}}},
		{"a PAT is not a client token", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": e.narrow}
			}, jsonBody, 200, "", []check{{access, true}}},
		{"another client's token is left alone", other, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": spa.app.ClientID, "token": p.refresh}
			}, jsonBody, 200, "", []check{{access, true}, {refresh, true}}},
		{"web app without its secret", web, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": p.refresh}
			}, jsonBody, 401, "invalid_client", []check{{access, true}, {refresh, true}}},
		{"web app with a wrong secret", web, func(f oauthFixture) string { return "Bearer " + credential.NewToken("czs_") },
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID, "token": p.refresh}
			}, formBody, 401, "invalid_client", []check{{refresh, true}}},
		{"unknown client", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": store.NewID(), "token": p.refresh}
			}, jsonBody, 401, "invalid_client", []check{{refresh, true}}},
		{"no client_id", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string { return map[string]string{"token": p.refresh} },
			jsonBody, 400, "invalid_request", []check{{refresh, true}}},
		{"no token", spa, nil,
			func(f oauthFixture, p tokenPair) map[string]string {
				return map[string]string{"client_id": f.app.ClientID}
			},
			jsonBody, 400, "invalid_request", []check{{refresh, true}}},
	}
	for _, tt := range tests {
		p := e.issue(t, tt.app, 15*time.Minute)
		auth := ""
		if tt.auth != nil {
			auth = tt.auth(tt.app)
		}
		ct, body := tt.enc(tt.body(tt.app, p))
		rec := e.raw("POST", revokePath, auth, ct, body)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d %s, want %d", tt.name, rec.Code, rec.Body.String(), tt.status)
		}
		var eb struct {
			Error        string `json:"error"`
			ErrorCode    string `json:"error_code"`
			ErrorMessage string `json:"error_message"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &eb)
		if tt.status == http.StatusOK && rec.Body.String() != "{}" {
			t.Errorf("%s: body %q, want {}", tt.name, rec.Body.String())
		}
		if tt.status != http.StatusOK && (eb.Error != tt.errc || eb.ErrorCode != tt.errc || eb.ErrorMessage == "") {
			t.Errorf("%s: error body %s, want %s", tt.name, rec.Body.String(), tt.errc)
		}
		for _, c := range tt.after {
			if got := active(c.tok(p)); got != c.active {
				t.Errorf("%s: afterwards active = %v, want %v", tt.name, got, c.active)
			}
		}
	}
}

func (e *env) introspectorPAT(t *testing.T) string {
	t.Helper()
	m := &credential.Manager{Store: e.s, Catalog: permission.Default(), Now: time.Now}
	c, err := m.Create(context.Background(), credential.Spec{Kind: store.KindPAT, Name: "introspector", UserID: e.alice.ID,
		Expiry: credential.Expiry{Days: 1}, Permissions: []string{"Token.introspect"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	return c.Token
}

package gotest

// RFC 7662 introspection, RFC 7009 revocation and CORS through the real
// binary: two replicas on one database, tokens from the real flows (PKCE and
// web through the HTML pages), PATs and SATs from the admin CLI.

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

const (
	staticOrigin = "https://static.example.com"
	// pkceOrigin is the origin of redirectURI, the PKCE app's redirect URI.
	pkceOrigin = "http://" + redirectHost
)

func TestIntrospectRevokeCORS(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runIntrospect(t, b.newDB(t))
		})
	}
}

// iworld is the data of these tests, made with the admin CLI.
type iworld struct {
	adm
	start                                          int64 // Unix time before anything was made
	aliceID, aliceAcct, bobID, bobAcct, ent, wsA   string
	introspector, bobIntrospector, entIntrospector string // PATs with Token.introspect
	narrow, noPerm, bobPAT, soon                   token  // PATs without it
	sat                                            token
	pkce, web, device                              oapp
	s1, s2                                         *server
}

func runIntrospect(t *testing.T, dsn string) {
	w := &iworld{adm: adm{t: t, db: dsn}, start: time.Now().Unix()}
	a := w.adm
	var u struct {
		UserID    string `json:"user_id"`
		AccountID string `json:"account_id"`
	}
	a.jsonIn(testPassword+"\n", &u, "user", "create", "--username", "alice", "--password-stdin")
	w.aliceID, w.aliceAcct = u.UserID, u.AccountID
	a.jsonIn(testPassword+"\n", &u, "user", "create", "--username", "bob", "--password-stdin")
	w.bobID, w.bobAcct = u.UserID, u.AccountID
	a.user("boss")
	w.ent = a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	w.wsA = a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	a.str("workspace_id", "workspace", "create", "--name", "Bobs", "--owner", "bob")
	introspect := []string{"--days", "30", "--permission", "Token.introspect"}
	w.introspector = a.createToken("pat", append([]string{"--user", "alice", "--name", "rs"}, introspect...)...).Token
	w.bobIntrospector = a.createToken("pat", append([]string{"--user", "bob", "--name", "rs"}, introspect...)...).Token
	w.entIntrospector = a.createToken("pat", append([]string{"--user", "boss", "--enterprise", w.ent, "--name", "rs"}, introspect...)...).Token
	w.narrow = a.createToken("pat", "--user", "alice", "--name", "narrow", "--days", "30", "--permission", "Bot.chat", "--workspaces", w.wsA)
	w.noPerm = a.createToken("pat", "--user", "alice", "--name", "noperm", "--days", "30", "--permission", "Bot.chat", "--workspaces", "all")
	w.bobPAT = a.createToken("pat", "--user", "bob", "--name", "bob", "--days", "30", "--permission", "Bot.chat", "--workspaces", "all")
	w.soon = a.createToken("pat", "--user", "alice", "--name", "soon", "--expires-at", fmt.Sprint(time.Now().Unix()+2), "--permission", "Bot.chat", "--workspaces", "all")
	w.sat = a.createToken("sat", "--enterprise", w.ent, "--name", "svc", "--permanent", "--permission", "Bot.chat", "--workspaces", "all", "--by", "boss")
	w.pkce = a.app("pkce", "SPA", "--redirect-uri", redirectURI)
	w.web = a.app("web", "Site", "--redirect-uri", redirectURI)
	w.device = a.app("device", "TV")

	w.s1 = startServer(t, "s1", dsn, "--cors-origin", staticOrigin)
	w.s2 = startServer(t, "s2", dsn, "--cors-origin", staticOrigin)

	t.Run("introspection", w.testIntrospection)
	t.Run("revocation", w.testRevocation)
	t.Run("cors", w.testCORS)
}

// pkceLogin runs the PKCE flow on s as user and returns the tokens.
func (w *iworld) pkceLogin(t *testing.T, s *server, user string) *client.OAuthToken {
	t.Helper()
	p, err := s.C.PKCEURL(w.pkce.ClientID, redirectURI, "st", nil)
	if err != nil {
		t.Fatal(err)
	}
	q := authorizeCode(t, newBrowser(t, s.URL), p.URL, user, consent{})
	tok, err := s.C.ExchangeCodePKCE(ctxT(t), w.pkce.ClientID, q.Get("code"), redirectURI, p.CodeVerifier)
	if err != nil {
		t.Fatalf("PKCE exchange: %v", err)
	}
	return tok
}

// webLogin runs the web flow on s as alice.
func (w *iworld) webLogin(t *testing.T, s *server) *client.OAuthToken {
	t.Helper()
	q := authorizeCode(t, newBrowser(t, s.URL), s.C.OAuthURL(w.web.ClientID, redirectURI, "st", nil), "alice", consent{})
	tok, err := s.C.ExchangeCode(ctxT(t), w.web.ClientID, w.web.Secret, q.Get("code"), redirectURI)
	if err != nil {
		t.Fatalf("web exchange: %v", err)
	}
	return tok
}

// active introspects tok on s with alice's introspector.
func (w *iworld) active(t *testing.T, s *server, tok string) bool {
	t.Helper()
	got, err := s.C.Introspect(ctxT(t), w.introspector, tok)
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	return got.Active
}

func (w *iworld) testIntrospection(t *testing.T) {
	ctx := ctxT(t)
	c := w.s1.C
	alice := w.pkceLogin(t, w.s1, "alice")
	bob := w.pkceLogin(t, w.s1, "bob")
	deleted := w.createToken("pat", "--user", "alice", "--name", "gone", "--days", "1", "--permission", "Bot.chat", "--workspaces", "all")
	w.changed("pat", "delete", "--id", deleted.ID)
	// The soon-expiring PAT: wait until the server itself refuses it.
	if d, ok := eventually(10*time.Second, func() bool { _, err := c.UsersMe(ctx, w.soon.Token); return codeOf(err) == 4100 }); !ok {
		t.Fatalf("the PAT expiring in 2 s still works after %v", d)
	}
	now := time.Now().Unix()
	near := func(got, want int64) bool { return got >= want-5 && got <= want+5 }

	tests := []struct {
		name, caller, token string
		want                *client.Introspection // nil: inactive
		exp                 int64                 // checked within 5 s (0: absent)
	}{
		{"own PAT", w.introspector, w.narrow.Token, &client.Introspection{Active: true, TokenType: "pat", Sub: w.aliceID,
			Scope: "Bot.chat", AccountID: w.aliceAcct, AccountType: "personal", WorkspaceIDs: []string{w.wsA}}, w.narrow.ExpireAt},
		{"access token", w.introspector, alice.AccessToken, &client.Introspection{Active: true, TokenType: "access_token",
			ClientID: w.pkce.ClientID, Sub: w.aliceID, Scope: "Bot.chat Workspace.list", AccountID: w.aliceAcct, AccountType: "personal",
			WorkspaceIDs: []string{}, AllWorkspaces: true}, alice.ExpiresIn},
		{"refresh token", w.introspector, alice.RefreshToken, &client.Introspection{Active: true, TokenType: "refresh_token",
			ClientID: w.pkce.ClientID, Sub: w.aliceID, Scope: "Bot.chat Workspace.list", AccountID: w.aliceAcct, AccountType: "personal",
			WorkspaceIDs: []string{}, AllWorkspaces: true}, now + 30*24*3600},
		{"SAT, by its enterprise", w.entIntrospector, w.sat.Token, &client.Introspection{Active: true, TokenType: "sat", Sub: w.sat.ID,
			Scope: "Bot.chat", AccountID: w.ent, AccountType: "enterprise", WorkspaceIDs: []string{}, AllWorkspaces: true}, 0},
		{"bob's token of alice's app, by the app owner", w.introspector, bob.AccessToken, &client.Introspection{Active: true,
			TokenType: "access_token", ClientID: w.pkce.ClientID, Sub: w.bobID, Scope: "Bot.chat Workspace.list", AccountID: w.bobAcct,
			AccountType: "personal", WorkspaceIDs: []string{}, AllWorkspaces: true}, bob.ExpiresIn},
		{"other tenant's PAT", w.introspector, w.bobPAT.Token, nil, 0},
		{"other tenant's SAT", w.introspector, w.sat.Token, nil, 0},
		{"alice's token, by bob", w.bobIntrospector, alice.AccessToken, nil, 0},
		{"expired PAT", w.introspector, w.soon.Token, nil, 0},
		{"deleted PAT", w.introspector, deleted.Token, nil, 0},
		{"unknown access token", w.introspector, "czu_" + strings.Repeat("0", 64), nil, 0},
		{"malformed", w.introspector, "hello", nil, 0},
	}
	for _, tt := range tests {
		got, err := c.Introspect(ctx, tt.caller, tt.token)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tt.want == nil {
			if !reflect.DeepEqual(got, &client.Introspection{}) {
				t.Errorf("%s: %+v, want inactive and nothing else", tt.name, got)
			}
			continue
		}
		if (tt.exp == 0) != (got.Exp == 0) || !near(got.Exp, tt.exp) || got.Iat < w.start-1 || got.Iat > now+1 {
			t.Errorf("%s: exp %d iat %d, want exp ≈ %d and iat from %d to %d", tt.name, got.Exp, got.Iat, tt.exp, w.start, now)
		}
		tt.want.Exp, tt.want.Iat = got.Exp, got.Iat
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", tt.name, got, tt.want)
		}
	}

	// The wire: RFC JSON, no-store; the caller's problems are Coze errors.
	r := raw(t, http.MethodPost, w.s1.URL+"/api/cozeauth/v1/oauth2/introspect", "Bearer "+w.introspector, `{"token":"hello"}`)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"active":false}` || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("inactive on the wire: %d %v %s", r.status, r.header, r.body)
	}
	form, err := http.NewRequest(http.MethodPost, w.s1.URL+"/api/cozeauth/v1/oauth2/introspect", strings.NewReader("token="+w.narrow.Token))
	if err != nil {
		t.Fatal(err)
	}
	form.Header.Set("Authorization", "Bearer "+w.introspector)
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := httpc.Do(form); err != nil || resp.StatusCode != 200 {
		t.Errorf("form body: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for _, tt := range []struct {
		name, caller string
		code         int
	}{
		{"missing permission", w.noPerm.Token, 4101},
		{"expired caller", w.soon.Token, 4100},
		{"unknown caller", "pat_" + strings.Repeat("0", 64), 4100},
	} {
		if _, err := c.Introspect(ctx, tt.caller, w.narrow.Token); codeOf(err) != tt.code {
			t.Errorf("%s: %v, want %d", tt.name, err, tt.code)
		}
	}
	r = raw(t, http.MethodPost, w.s1.URL+"/api/cozeauth/v1/oauth2/introspect", "", `{"token":"hello"}`)
	if r.status != 401 || r.env.Code == nil || *r.env.Code != 4100 || r.env.Msg == "" {
		t.Errorf("no credential: %d %s, want 401 with 4100", r.status, r.body)
	}
}

func (w *iworld) testRevocation(t *testing.T) {
	ctx := ctxT(t)
	type pair struct{ access, refresh string }
	login := func() pair {
		tok := w.pkceLogin(t, w.s1, "alice")
		return pair{tok.AccessToken, tok.RefreshToken}
	}
	tests := []struct {
		name       string
		clientID   string
		credential string
		token      func(p pair) string
		err        string // OAuth error code; "" for success
		access     bool   // active afterwards
		refresh    bool
	}{
		{"refresh token revokes its family", w.pkce.ClientID, "", func(p pair) string { return p.refresh }, "", false, false},
		{"access token revokes itself", w.pkce.ClientID, "", func(p pair) string { return p.access }, "", false, true},
		{"unknown token", w.pkce.ClientID, "", func(pair) string { return "czr_" + strings.Repeat("0", 64) }, "", true, true},
		{"another client's token", w.device.ClientID, "", func(p pair) string { return p.refresh }, "", true, true},
		{"a PAT", w.pkce.ClientID, "", func(pair) string { return w.narrow.Token }, "", true, true},
		{"bad client secret", w.web.ClientID, "czs_wrong", func(p pair) string { return p.refresh }, "invalid_client", true, true},
		{"unknown client", "no-such-client", "", func(p pair) string { return p.refresh }, "invalid_client", true, true},
	}
	for _, tt := range tests {
		p := login()
		// Both replicas have seen (and cached) the tokens.
		if !w.active(t, w.s1, p.access) || !w.active(t, w.s2, p.access) || !w.active(t, w.s2, p.refresh) {
			t.Fatalf("%s: fresh tokens are not active", tt.name)
		}
		if _, err := w.s2.C.UsersMe(ctx, p.access); err != nil {
			t.Fatalf("%s: users/me on s2: %v", tt.name, err)
		}
		err := w.s1.C.Revoke(ctx, tt.clientID, tt.credential, tt.token(p))
		if tt.err == "" && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		} else if tt.err != "" {
			wantAuthErr(t, tt.name, err, tt.err)
		}
		// At once on s1; within the revision-poll bound on s2.
		if got := w.active(t, w.s1, p.access); got != tt.access {
			t.Errorf("%s: s1 access active = %v, want %v", tt.name, got, tt.access)
		}
		if got := w.active(t, w.s1, p.refresh); got != tt.refresh {
			t.Errorf("%s: s1 refresh active = %v, want %v", tt.name, got, tt.refresh)
		}
		if !tt.access {
			d, ok := eventually(revocationBound, func() bool {
				_, err := w.s2.C.UsersMe(ctx, p.access)
				return codeOf(err) == 4100 && !w.active(t, w.s2, p.access)
			})
			if !ok {
				t.Errorf("%s: s2 still accepts the revoked access token after %v", tt.name, d)
			}
		} else if !w.active(t, w.s2, p.access) {
			t.Errorf("%s: s2 access token inactive", tt.name)
		}
		if got := w.active(t, w.s2, p.refresh); got != tt.refresh {
			t.Errorf("%s: s2 refresh active = %v, want %v", tt.name, got, tt.refresh)
		}
		// What introspection says is what the token endpoint does.
		_, err = w.s2.C.Refresh(ctx, w.pkce.ClientID, "", p.refresh)
		if (err == nil) != tt.refresh {
			t.Errorf("%s: refresh afterwards: %v, want success %v", tt.name, err, tt.refresh)
		}
	}

	// A web app authenticates with its secret; without it, invalid_client.
	tok := w.webLogin(t, w.s1)
	wantOAuthError(t, "web app without its secret", oauthRaw(t, w.s1, "/api/permission/oauth2/revoke", "",
		map[string]string{"client_id": w.web.ClientID, "token": tok.RefreshToken}), 401, "invalid_client")
	if err := w.s2.C.Revoke(ctx, w.web.ClientID, w.web.Secret, tok.RefreshToken); err != nil {
		t.Fatalf("web revoke: %v", err)
	}
	if w.active(t, w.s2, tok.AccessToken) || w.active(t, w.s1, tok.RefreshToken) {
		t.Error("the web app's family survived its revocation")
	}
	// A form body, a JSON answer.
	p := login()
	req, err := http.NewRequest(http.MethodPost, w.s2.URL+"/api/permission/oauth2/revoke",
		strings.NewReader("client_id="+w.pkce.ClientID+"&token="+p.refresh+"&token_type_hint=refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpc.Do(req)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("form revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if w.active(t, w.s2, p.refresh) {
		t.Error("form revoke left the refresh token active")
	}
}

// preflight sends a CORS preflight and returns the status and headers.
func preflight(t *testing.T, url, origin, method string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-coze-client-user-agent")
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func (w *iworld) testCORS(t *testing.T) {
	for _, tt := range []struct {
		name, path, origin, method string
		allowed                    bool
	}{
		{"token from the PKCE redirect origin", "/api/permission/oauth2/token", pkceOrigin, "POST", true},
		{"users/me from the PKCE redirect origin", "/v1/users/me", pkceOrigin, "GET", true},
		{"revoke from a --cors-origin", "/api/permission/oauth2/revoke", staticOrigin, "POST", true},
		{"chat from a --cors-origin", "/v3/chat", staticOrigin, "POST", true},
		{"device code from the PKCE origin", "/api/permission/oauth2/device/code", pkceOrigin, "POST", true},
		{"token from another origin", "/api/permission/oauth2/token", "https://evil.example.com", "POST", false},
		{"users/me from another origin", "/v1/users/me", "http://127.0.0.1:2", "GET", false},
		{"console", "/console/tokens", pkceOrigin, "POST", false},
		{"login", "/login", pkceOrigin, "POST", false},
		{"consent", "/api/permission/oauth2/authorize", pkceOrigin, "GET", false},
		{"introspection", "/api/cozeauth/v1/oauth2/introspect", pkceOrigin, "POST", false},
	} {
		for _, s := range []*server{w.s1, w.s2} {
			status, h := preflight(t, s.URL+tt.path, tt.origin, tt.method)
			got := h.Get("Access-Control-Allow-Origin")
			if tt.allowed && (status != 204 || got != tt.origin || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Coze-Client-User-Agent")) {
				t.Errorf("%s on %s: %d, Allow-Origin %q, headers %v; want 204 allowing %s", tt.name, s.name, status, got, h, tt.origin)
			}
			if !tt.allowed && (got != "" || status == 204) {
				t.Errorf("%s on %s: %d, Allow-Origin %q; want no CORS", tt.name, s.name, status, got)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s on %s: credentials allowed", tt.name, s.name)
			}
		}
	}
	// The actual request: Allow-Origin and the exposed log ID.
	req, err := http.NewRequest(http.MethodGet, w.s1.URL+"/v1/users/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", pkceOrigin)
	req.Header.Set("Authorization", "Bearer "+w.narrow.Token)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != pkceOrigin ||
		resp.Header.Get("Access-Control-Expose-Headers") != "X-Tt-Logid" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("users/me from the PKCE origin: %d %v", resp.StatusCode, resp.Header)
	}

	// A new PKCE app's origin works on every replica within the bound.
	newOrigin := "http://127.0.0.1:3"
	w.app("pkce", "New SPA", "--redirect-uri", newOrigin+"/callback")
	for _, s := range []*server{w.s1, w.s2} {
		if d, ok := eventually(revocationBound, func() bool {
			status, _ := preflight(t, s.URL+"/api/permission/oauth2/token", newOrigin, "POST")
			return status == 204
		}); !ok {
			t.Errorf("%s: the new PKCE app's origin is still refused after %v", s.name, d)
		}
	}
	// Deactivating the app removes it within the bound.
	w.changed("app", "deactivate", "--app", w.pkce.ID)
	for _, s := range []*server{w.s1, w.s2} {
		if d, ok := eventually(revocationBound, func() bool {
			status, _ := preflight(t, s.URL+"/api/permission/oauth2/token", pkceOrigin, "POST")
			return status == 403
		}); !ok {
			t.Errorf("%s: the deactivated app's origin is still allowed after %v", s.name, d)
		}
	}
}

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

type env struct {
	h        http.Handler
	s        *sqlstore.DB
	srv      *Server
	full     string // PAT: Bot.chat + Workspace.list, all workspaces
	narrow   string // PAT: Bot.chat only, selected workspace ws1
	alice    store.User
	ws1      store.Workspace
	ws2      store.Workspace
	botWS2   string
	narrowID string // the narrow PAT's credential ID
	logs     *lockedBuffer
}

// lockedBuffer is the server's log output in tests.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newEnv(t testing.TB) *env { return newEnvWith(t, func(*config.Config) {}) }

// newEnvWith is newEnv with the configuration changed by set and the store
// opened with opts.
func newEnvWith(t testing.TB, set func(*config.Config), opts ...sqlstore.Option) *env {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "s.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Now
	ids := &identity.Service{Store: s, Now: now}
	m := &credential.Manager{Store: s, Catalog: permission.Default(), Now: now}
	e := &env{s: s}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.alice, err = ids.CreateUser(ctx, "alice", "password-1", "Alice")
	must(err)
	e.ws1, err = ids.CreateWorkspace(ctx, "one", "alice", "")
	must(err)
	e.ws2, err = ids.CreateWorkspace(ctx, "two", "alice", "")
	must(err)
	r, err := ids.CreateResource(ctx, e.ws2.ID, "bot", "")
	must(err)
	e.botWS2 = r.ID
	full, err := m.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "full", UserID: e.alice.ID, Expiry: credential.Expiry{Days: 1},
		Permissions: []string{"Bot.chat", "Workspace.list"}, AllWorkspaces: true})
	must(err)
	narrow, err := m.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "narrow", UserID: e.alice.ID, Expiry: credential.Expiry{Days: 1},
		Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{e.ws1.ID}})
	must(err)
	e.full, e.narrow, e.narrowID = full.Token, narrow.Token, narrow.Credential.ID
	cfg := config.Default()
	cfg.AccessLog = false
	if set != nil {
		set(&cfg)
	}
	e.logs = &lockedBuffer{}
	e.srv, err = New(cfg, s, slog.New(slog.NewJSONHandler(e.logs, nil)))
	must(err)
	e.h = e.srv.Handler()
	return e
}

type reply struct {
	status int
	code   int
	msg    string
	data   json.RawMessage
	logid  string
	header http.Header
}

func (e *env) do(t *testing.T, method, path, auth, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var env struct {
		Code   int             `json:"code"`
		Msg    string          `json:"msg"`
		Data   json.RawMessage `json:"data"`
		Detail struct {
			LogID string `json:"logid"`
		} `json:"detail"`
	}
	if strings.HasPrefix(path, "/metrics") {
		return reply{status: rec.Code, header: rec.Header()}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body.String(), err)
	}
	if !strings.Contains(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s: Content-Type %q", method, path, rec.Header().Get("Content-Type"))
	}
	return reply{status: rec.Code, code: env.Code, msg: env.Msg, data: env.Data, logid: env.Detail.LogID, header: rec.Header()}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	check := func(perm, typ, id string) string {
		return `{"permission":"` + perm + `","resource":{"type":"` + typ + `","id":"` + id + `"}}`
	}
	tests := []struct {
		name, method, path, auth, body string
		status, code                   int
		dataHas                        string
	}{
		{"users/me", "GET", "/v1/users/me", "Bearer " + e.full, "", 200, 0, `"user_name":"alice"`},
		{"lowercase scheme", "GET", "/v1/users/me", "bearer " + e.full, "", 200, 0, `"nick_name":"Alice"`},
		{"duplicate slashes", "GET", "//v1//users/me", "Bearer " + e.full, "", 200, 0, `"avatar_url":"/avatars/` + e.alice.ID + `.svg"`},
		{"no header", "GET", "/v1/users/me", "", "", 401, 4100, ""},
		{"basic scheme", "GET", "/v1/users/me", "Basic " + e.full, "", 401, 4100, ""},
		{"empty bearer", "GET", "/v1/users/me", "Bearer ", "", 401, 4100, ""},
		{"unknown token", "GET", "/v1/users/me", "Bearer pat_" + strings.Repeat("0", 64), "", 401, 4100, ""},
		{"junk token", "GET", "/v1/users/me", "Bearer hello", "", 401, 4100, ""},
		{"workspaces", "GET", "/v1/workspaces", "Bearer " + e.full, "", 200, 0, `"total_count":2`},
		{"workspaces page past end", "GET", "/v1/workspaces?page_num=5&page_size=1", "Bearer " + e.full, "", 200, 0, `"workspaces":[]`},
		{"workspaces without Workspace.list", "GET", "/v1/workspaces", "Bearer " + e.narrow, "", 403, 4101, ""},
		{"negative page", "GET", "/v1/workspaces?page_num=-1", "Bearer " + e.full, "", 400, 4000, ""},
		{"page size too big", "GET", "/v1/workspaces?page_size=51", "Bearer " + e.full, "", 400, 4000, ""},
		{"page size not a number", "GET", "/v1/workspaces?page_size=abc", "Bearer " + e.full, "", 400, 4000, ""},
		{"check allowed", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, check("Bot.chat", "bot", e.botWS2), 200, 0, `"allowed":true`},
		{"check outside selected workspaces", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.narrow, check("Bot.chat", "bot", e.botWS2), 403, 4101, ""},
		// Escapes and unknown members take encoding/json's path instead of the hand decoder's: the same answers.
		{"check allowed (encoding/json path)", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":"Bot.c\u0068at","x":1,"resource":{"type":"bot","id":"` + e.botWS2 + `"}}`, 200, 0, `"allowed":true`},
		{"check outside selected workspaces (encoding/json path)", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.narrow, `{"permission":"Bot.c\u0068at","resource":{"type":"bot","id":"` + e.botWS2 + `"}}`, 403, 4101, ""},
		{"check without a resource (encoding/json path)", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":"Bot.c\u0068at","resource":null}`, 400, 4000, ""},
		{"check unknown bot", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, check("Bot.chat", "bot", "nope"), 404, 4200, ""},
		{"check unknown permission", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":"Bot.fly"}`, 400, 4000, ""},
		{"check missing permission field", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{}`, 400, 4000, ""},
		{"check a workspace-level permission without a resource", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":"Bot.chat"}`, 400, 4000, ""},
		{"check an enterprise-level permission without a resource", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":"Enterprise.manageMembers"}`, 400, 4000, ""},
		{"check an account-level permission without a resource", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":"Workspace.list"}`, 200, 0, `"allowed":true`},
		{"check wrong resource type", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, check("Bot.chat", "workflow", "x"), 400, 4000, ""},
		{"check bad json", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":`, 400, 4000, ""},
		{"check empty body", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, ``, 400, 4000, ""},
		{"check oversized body", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, `{"permission":"` + strings.Repeat("x", 70<<10) + `"}`, 400, 4000, ""},
		{"check own account", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + e.full, check("Workspace.list", "account", e.alice.AccountID), 200, 0, `"allowed":true`},
		{"check unauthenticated first", "POST", "/api/cozeauth/v1/authz/check", "", `{bad`, 401, 4100, ""},
		{"OpenAPI route not in the catalog", "GET", "/v1/nothing", "Bearer " + e.full, "", 403, 4101, ""},
		{"OpenAPI route not in the catalog, unauthenticated first", "GET", "/v1/nothing", "", "", 401, 4100, ""},
		{"catalog route without an upstream", "POST", "/v3/chat", "Bearer " + e.full, `{"bot_id":"` + e.botWS2 + `"}`, 501, 5001, ""},
		{"catalog route refused before the missing upstream", "POST", "/v3/chat", "Bearer " + e.narrow, `{"bot_id":"` + e.botWS2 + `"}`, 403, 4101, ""},
		{"unknown path", "GET", "/nothing", "Bearer " + e.full, "", 404, 4200, ""},
		{"healthz", "GET", "/healthz", "", "", 200, 0, ""},
		{"readyz", "GET", "/readyz", "", "", 200, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, tc.auth, tc.body)
			if r.status != tc.status || r.code != tc.code {
				t.Fatalf("got HTTP %d code %d (%s), want %d / %d", r.status, r.code, r.msg, tc.status, tc.code)
			}
			if r.header.Get("X-Tt-Logid") == "" {
				t.Fatal("no X-Tt-Logid header")
			}
			if tc.code != 0 && (r.msg == "" || r.logid != r.header.Get("X-Tt-Logid")) {
				t.Fatalf("error envelope msg %q logid %q", r.msg, r.logid)
			}
			if !strings.Contains(string(r.data), tc.dataHas) {
				t.Fatalf("data %s lacks %s", r.data, tc.dataHas)
			}
		})
	}
	if r := e.do(t, "GET", "/metrics", "", ""); r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
}

func TestRevocationDropsCache(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.srv.cfg.RevisionPoll = 10 * time.Millisecond
	go e.srv.Run(ctx, mustListen(t))
	if r := e.do(t, "GET", "/v1/users/me", "Bearer "+e.full, ""); r.status != 200 {
		t.Fatalf("before delete: %d", r.status)
	}
	cs, _ := e.s.ListCredentials(ctx, store.CredentialFilter{})
	for _, c := range cs {
		if err := e.s.DeleteCredential(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Second)
	for {
		if r := e.do(t, "GET", "/v1/users/me", "Bearer "+e.full, ""); r.code == 4100 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("deleted PAT still accepted after 1 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDecisionMetrics: /metrics counts OpenAPI decisions by route and code,
// and each refusal logs one line with its reason and the credential's ID,
// never the token (issue 12.13).
func TestDecisionMetrics(t *testing.T) {
	e := newEnv(t)
	unknown := "pat_" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		path, auth string
		code       int
	}{
		{"/v1/users/me", e.full, 0},
		{"/v1/users/me", e.full, 0},
		{"/v1/workspaces", e.narrow, 4101},
		{"/v1/users/me", unknown, 4100},
	} {
		if r := e.do(t, "GET", tc.path, "Bearer "+tc.auth, ""); r.code != tc.code {
			t.Fatalf("GET %s: code %d, want %d", tc.path, r.code, tc.code)
		}
	}
	for _, body := range []string{`{"grant_type":"password"}`, `{"grant_type":"refresh_token","client_id":"nope","refresh_token":"x"}`} {
		req := httptest.NewRequest("POST", "/api/permission/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		e.h.ServeHTTP(httptest.NewRecorder(), req)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`cozeauth_openapi_decisions_total{code="0",route="GET /v1/users/me"} 2`,
		`cozeauth_openapi_decisions_total{code="4101",route="GET /v1/workspaces"} 1`,
		`cozeauth_openapi_decisions_total{code="4100",route="GET /v1/users/me"} 1`,
		`cozeauth_oauth_token_requests_total{grant="other",outcome="unsupported_grant_type"} 1`,
		`cozeauth_oauth_token_requests_total{grant="refresh_token",outcome="invalid_client"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var refused []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request refused" {
			refused = append(refused, m)
		}
	}
	if len(refused) != 2 {
		t.Fatalf("refusal log lines = %v, want 2", refused)
	}
	if r := refused[0]; r["code"] != float64(4101) || r["credential_id"] != e.narrowID || r["reason"] == "" || r["logid"] == "" {
		t.Errorf("4101 line = %v, want credential_id %s and a reason", r, e.narrowID)
	}
	if r := refused[1]; r["code"] != float64(4100) || r["credential_id"] != "" || r["reason"] == "" {
		t.Errorf("4100 line = %v", r)
	}
	for _, tok := range []string{e.full, e.narrow, unknown} {
		if strings.Contains(e.logs.String(), tok) {
			t.Error("a token is in the log")
		}
	}
}

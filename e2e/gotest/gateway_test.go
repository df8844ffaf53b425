package gotest

// The gateway (issue 10 §2, §3) through the real binary in front of a real
// upstream process (e2e/upstream, which records what it receives): the
// upstream sees the upstream credential and the caller's identity, never the
// caller's token or spoofed identity headers; refusals never reach it; the
// resources API and the upstream resolver decide workspace permissions on
// resources cozeauth did not create; streams, uploads, limits, timeouts and
// WebSocket upgrades.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// ---------------------------------------------------------------- the upstream process

var (
	upstreamOnce sync.Once
	upstreamBin  string
	upstreamErr  error
)

// buildUpstream builds e2e/upstream once per test binary.
func buildUpstream(t *testing.T) string {
	t.Helper()
	upstreamOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cozeauth-e2e-upstream-")
		if err != nil {
			upstreamErr = err
			return
		}
		upstreamBin = filepath.Join(dir, "upstream")
		out, err := exec.Command("go", "build", "-o", upstreamBin, "github.com/cozeauth/cozeauth/e2e/upstream").CombinedOutput()
		if err != nil {
			upstreamErr = fmt.Errorf("building e2e/upstream: %v\n%s", err, out)
		}
	})
	if upstreamErr != nil {
		t.Fatal(upstreamErr)
	}
	return upstreamBin
}

type upstreamProc struct {
	t   *testing.T
	URL string
}

type upRecord struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Header  http.Header       `json:"header"`
	Body    string            `json:"body"`
	Bytes   int64             `json:"bytes"`
	Fields  map[string]string `json:"fields"`
	Files   map[string]int64  `json:"files"`
	BodyErr string            `json:"body_err"`
}

// startUpstream runs the test upstream until the test ends.
func startUpstream(t *testing.T) *upstreamProc {
	t.Helper()
	cmd := exec.Command(buildUpstream(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		t.Fatalf("upstream did not print its URL: %q %v", line, err)
	}
	return &upstreamProc{t: t, URL: strings.TrimSpace(line)}
}

func (u *upstreamProc) control(method, path string, body any, out any) {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.URL+path, rd)
	resp, err := httpc.Do(req)
	if err != nil {
		u.t.Fatalf("upstream %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		u.t.Fatalf("upstream %s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			u.t.Fatal(err)
		}
	}
}

func (u *upstreamProc) records() []upRecord {
	u.t.Helper()
	var out struct{ Records []upRecord }
	u.control("GET", "/_upstream/records", nil, &out)
	return out.Records
}

func (u *upstreamProc) count() int {
	u.t.Helper()
	var out struct{ Count int }
	u.control("GET", "/_upstream/count", nil, &out)
	return out.Count
}

// last returns the last record, which must exist.
func (u *upstreamProc) last() upRecord {
	u.t.Helper()
	recs := u.records()
	if len(recs) == 0 {
		u.t.Fatal("the upstream received nothing")
	}
	return recs[len(recs)-1]
}

func (u *upstreamProc) reset()   { u.t.Helper(); u.control("POST", "/_upstream/reset", nil, nil) }
func (u *upstreamProc) release() { u.t.Helper(); u.control("POST", "/_upstream/release", nil, nil) }
func (u *upstreamProc) setSpace(typ, id, space string) {
	u.t.Helper()
	u.control("PUT", "/_upstream/spaces", map[string]string{"type": typ, "id": id, "space_id": space}, nil)
}

// lookups counts the resolver's requests for one resource.
func (u *upstreamProc) lookups(path string) int {
	n := 0
	for _, r := range u.records() {
		if r.Method == "GET" && r.Path == path {
			n++
		}
	}
	return n
}

// ---------------------------------------------------------------- requests

// call sends a request with the given Authorization ("" none) and extra
// headers; a string body is JSON.
func call(t *testing.T, method, u, authorization string, hdr map[string]string, body io.Reader) rawResp {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	r := rawResp{status: resp.StatusCode, header: resp.Header}
	r.body, _ = io.ReadAll(resp.Body)
	r.jsonErr = json.Unmarshal(r.body, &r.env)
	return r
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

var jsonHdr = map[string]string{"Content-Type": "application/json"}

// wantCoze checks a Coze-shaped answer: HTTP status, code, the X-Tt-Logid
// header and, on errors, the same log ID in the body.
func wantCoze(t *testing.T, what string, r rawResp, status, code int) {
	t.Helper()
	switch {
	case r.status != status:
		t.Errorf("%s: HTTP %d, want %d; body %s", what, r.status, status, r.body)
	case r.jsonErr != nil || r.env.Code == nil:
		t.Errorf("%s: not a Coze envelope: %s", what, r.body)
	case *r.env.Code != code:
		t.Errorf("%s: code %d, want %d; body %s", what, *r.env.Code, code, r.body)
	case code != 0 && r.env.Msg == "":
		t.Errorf("%s: empty msg", what)
	case r.header.Get("X-Tt-Logid") == "":
		t.Errorf("%s: no X-Tt-Logid", what)
	case code != 0 && r.header.Get("X-Tt-Logid") != r.env.Detail.LogID:
		// The gateway's own errors; a proxied answer carries the upstream's body.
		t.Errorf("%s: logid %q, header %q", what, r.env.Detail.LogID, r.header.Get("X-Tt-Logid"))
	}
}

func chatBody(bot string, stream bool) io.Reader {
	return jsonBody(map[string]any{"bot_id": bot, "user_id": "end-user", "stream": stream,
		"additional_messages": []map[string]string{{"role": "user", "content": "hello gateway", "content_type": "text"}}})
}

// ---------------------------------------------------------------- the world

type gworld struct {
	adm
	alice, aliceAcct, bob string
	ws, wsB               string // alice's (its ID chosen like an upstream space ID), bob's
	bot, botB             string
	patChat               token // alice: Bot.chat, Bot.getMetadata, Conversation.create; all workspaces
	patList               token // alice: Workspace.list only
	patManage             token // alice: Resource.manage on ws
	patBob                token // bob: Bot.chat, all workspaces
	patSpace              token // alice: Workspace.listBot on ws
	keyFile               string
	up                    *upstreamProc
}

func buildGatewayWorld(t *testing.T, dsn string) *gworld {
	t.Helper()
	w := &gworld{adm: adm{t: t, db: dsn}, up: startUpstream(t)}
	a := w.adm
	var u struct {
		UserID    string `json:"user_id"`
		AccountID string `json:"account_id"`
	}
	a.jsonIn(testPassword+"\n", &u, "user", "create", "--username", "alice", "--password-stdin", "--nickname", "Alice")
	w.alice, w.aliceAcct = u.UserID, u.AccountID
	w.bob = a.user("bob")
	w.ws = a.str("workspace_id", "workspace", "create", "--id", "7390000000000000001", "--name", "Alpha", "--owner", "alice")
	if w.ws != "7390000000000000001" {
		t.Fatalf("workspace create --id: got %s", w.ws)
	}
	a.fail("", "workspace", "create", "--id", w.ws, "--name", "Again", "--owner", "bob")
	w.wsB = a.str("workspace_id", "workspace", "create", "--name", "Bravo", "--owner", "bob")
	w.bot = a.str("resource_id", "resource", "create", "--workspace", w.ws, "--type", "bot", "--id", "bot-alpha")
	w.botB = a.str("resource_id", "resource", "create", "--workspace", w.wsB, "--type", "bot", "--id", "bot-bravo")
	w.up.setSpace("bot", w.bot, w.ws) // the upstream knows its bots
	w.up.setSpace("bot", w.botB, w.wsB)
	w.patChat = a.createToken("pat", "--user", "alice", "--name", "chat", "--days", "30", "--workspaces", "all",
		"--permission", "Bot.chat", "--permission", "Bot.getMetadata", "--permission", "Conversation.create")
	w.patList = a.createToken("pat", "--user", "alice", "--name", "list", "--days", "30", "--permission", "Workspace.list")
	w.patManage = a.createToken("pat", "--user", "alice", "--name", "manage", "--days", "30", "--workspaces", w.ws,
		"--permission", "Resource.manage", "--permission", "Bot.chat")
	w.patSpace = a.createToken("pat", "--user", "alice", "--name", "space", "--days", "30", "--workspaces", w.ws, "--permission", "Workspace.listBot")
	w.patBob = a.createToken("pat", "--user", "bob", "--name", "bob", "--days", "30", "--workspaces", "all", "--permission", "Bot.chat")
	var key [32]byte
	_, _ = rand.Read(key[:])
	w.keyFile = filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(w.keyFile, []byte(hex.EncodeToString(key[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestGateway runs the gateway's end-to-end story on each backend.
func TestGateway(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runGateway(t, b.newDB(t))
		})
	}
}

const staticUpstreamToken = "upstream-static-token"

func runGateway(t *testing.T, dsn string) {
	w := buildGatewayWorld(t, dsn)
	s := startServer(t, "gateway", dsn, "--upstream", w.up.URL, "--upstream-token", staticUpstreamToken,
		"--secret-key-file", w.keyFile, "--upstream-resolve", "bot=/v1/bots/{id}#data.space_id",
		"--upstream-max-body", "1048576")
	bearer := func(tk token) string { return "Bearer " + tk.Token }

	t.Run("identity headers, upstream token, spoofing removed", func(t *testing.T) {
		w.up.reset()
		r := call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), map[string]string{
			"Content-Type": "application/json", "X-Cozeauth-User-Id": "evil", "x-cozeauth-admin": "1", "X-CozeAuth-Workspace-Id": "other",
		}, chatBody(w.bot, false))
		wantCoze(t, "chat", r, 200, 0)
		if len(r.header.Values("X-Tt-Logid")) != 1 {
			t.Errorf("X-Tt-Logid values %v, want only the gateway's", r.header.Values("X-Tt-Logid"))
		}
		rec := w.up.last()
		want := map[string]string{
			"Authorization":              "Bearer " + staticUpstreamToken,
			"X-Cozeauth-User-Id":         w.alice,
			"X-Cozeauth-Account-Id":      w.aliceAcct,
			"X-Cozeauth-Credential-Type": "pat",
			"X-Cozeauth-Credential-Id":   w.patChat.ID,
			"X-Cozeauth-Workspace-Id":    w.ws,
			"X-Cozeauth-App-Id":          "",
			"X-Cozeauth-Admin":           "",
			"X-Tt-Logid":                 r.header.Get("X-Tt-Logid"),
		}
		for k, v := range want {
			if got := strings.Join(rec.Header.Values(k), ","); got != v {
				t.Errorf("upstream header %s = %q, want %q", k, got, v)
			}
		}
		for k, vs := range rec.Header {
			for _, v := range vs {
				if strings.Contains(v, w.patChat.Token) {
					t.Errorf("the caller's token reached the upstream in %s", k)
				}
			}
		}
		if rec.Path != "/v3/chat" || !strings.Contains(rec.Body, `"bot_id":"`+w.bot+`"`) {
			t.Errorf("upstream got %s %s", rec.Path, rec.Body)
		}
	})

	t.Run("OAuth token: app ID and type", func(t *testing.T) {
		var app oapp
		w.adm.json(&app, "app", "create", "--owner", "alice", "--type", "jwt", "--name", "svc", "--permission", "Bot.chat")
		key := w.adm.genKey(app.ID)
		w.adm.changed("app", "authorize", "--app", app.ID, "--user", "alice", "--workspaces", "all")
		tok, err := s.C.JWTToken(ctxT(t), client.JWTRequest{ClientID: app.ClientID, KeyID: key.ID, PrivateKeyPEM: key.PrivateKey})
		if err != nil {
			t.Fatalf("JWT grant: %v", err)
		}
		w.up.reset()
		r := call(t, "POST", s.URL+"/v3/chat", "Bearer "+tok.AccessToken, jsonHdr, chatBody(w.bot, false))
		wantCoze(t, "chat with an OAuth token", r, 200, 0)
		rec := w.up.last()
		if rec.Header.Get("X-Cozeauth-Credential-Type") != "oauth" || rec.Header.Get("X-Cozeauth-App-Id") != app.ID ||
			rec.Header.Get("X-Cozeauth-Account-Id") != w.aliceAcct || rec.Header.Get("Authorization") != "Bearer "+staticUpstreamToken {
			t.Errorf("upstream headers for an OAuth token: %v", rec.Header)
		}
	})

	t.Run("refusals never reach the upstream", func(t *testing.T) {
		w.up.reset()
		cases := []struct {
			name, auth string
			body       io.Reader
			status     int
			code       int
		}{
			{"no token", "", chatBody(w.bot, false), 401, 4100},
			{"unknown token", "Bearer pat_" + strings.Repeat("0", 64), chatBody(w.bot, false), 401, 4100},
			{"malformed header", "Basic abc", chatBody(w.bot, false), 401, 4100},
			{"lacks Bot.chat", bearer(w.patList), chatBody(w.bot, false), 403, 4101},
			{"bob's bot", bearer(w.patChat), chatBody(w.botB, false), 403, 4101},
			{"unknown bot", bearer(w.patChat), chatBody("bot-nobody-knows", false), 404, 4200},
			{"no bot_id", bearer(w.patChat), jsonBody(map[string]any{"user_id": "u"}), 400, 4000},
			{"bot_id twice", bearer(w.patChat), strings.NewReader(`{"bot_id":"` + w.bot + `","BOT_ID":"` + w.botB + `"}`), 400, 4000},
			{"not JSON", bearer(w.patChat), strings.NewReader(`bot_id=1`), 400, 4000},
		}
		for _, c := range cases {
			r := call(t, "POST", s.URL+"/v3/chat", c.auth, jsonHdr, c.body)
			wantCoze(t, c.name, r, c.status, c.code)
		}
		r := call(t, "GET", s.URL+"/v1/bots/"+w.botB, bearer(w.patChat), nil, nil)
		wantCoze(t, "Bot.getMetadata on bob's bot (path)", r, 403, 4101)
		r = call(t, "GET", s.URL+"/v1/bot/get_online_info?bot_id="+w.botB, bearer(w.patChat), nil, nil)
		wantCoze(t, "Bot.getMetadata on bob's bot (query)", r, 403, 4101)
		for _, rec := range w.up.records() {
			if rec.Path != "/v1/bots/bot-nobody-knows" { // the resolver's lookup of the unknown bot
				t.Errorf("a refused request reached the upstream: %s %s", rec.Method, rec.Path)
			}
		}
		// And allowed ones do, in each place a resource ID lives.
		for _, u := range []string{"/v1/bots/" + w.bot, "/v1/bot/get_online_info?bot_id=" + w.bot} {
			r := call(t, "GET", s.URL+u, bearer(w.patChat), nil, nil)
			wantCoze(t, "GET "+u, r, 200, 0)
		}
		r = call(t, "POST", s.URL+"/v1/conversation/create", bearer(w.patChat), jsonHdr, jsonBody(map[string]any{}))
		wantCoze(t, "conversation create (the caller's own account)", r, 200, 0)
		if got := w.up.last().Header.Get("X-Cozeauth-Workspace-Id"); got != "" {
			t.Errorf("account-level route sent X-Cozeauth-Workspace-Id %q", got)
		}
	})

	t.Run("a workspace as the resource", func(t *testing.T) {
		w.up.reset()
		r := call(t, "GET", s.URL+"/v1/bots?workspace_id="+w.ws, bearer(w.patSpace), nil, nil)
		wantCoze(t, "list the bots of a workspace", r, 200, 0)
		if got := w.up.last().Header.Get("X-Cozeauth-Workspace-Id"); got != w.ws {
			t.Errorf("workspace header %q, want %s", got, w.ws)
		}
		wantCoze(t, "another user's workspace", call(t, "GET", s.URL+"/v1/bots?workspace_id="+w.wsB, bearer(w.patSpace), nil, nil), 403, 4101)
		wantCoze(t, "an unknown workspace", call(t, "GET", s.URL+"/v1/bots?workspace_id=no-such", bearer(w.patSpace), nil, nil), 404, 4200)
		wantCoze(t, "an encoded slash", call(t, "GET", s.URL+"/v1/bots/"+w.bot+"%2Fversions", bearer(w.patChat), nil, nil), 400, 4000)
		if n := w.up.count(); n != 1 {
			t.Errorf("the upstream got %d requests, want 1", n)
		}
	})

	t.Run("unlisted routes", func(t *testing.T) {
		w.up.reset()
		r := call(t, "GET", s.URL+"/v1/not/in/catalog", bearer(w.patChat), nil, nil)
		wantCoze(t, "unlisted", r, 403, 4101)
		if !strings.Contains(r.env.Msg, "route not in the permission catalog") {
			t.Errorf("unlisted msg %q", r.env.Msg)
		}
		r = call(t, "GET", s.URL+"/v1/not/in/catalog", "", nil, nil)
		wantCoze(t, "unlisted without a token", r, 401, 4100)
		if n := w.up.count(); n != 0 {
			t.Errorf("unlisted requests reached the upstream %d times", n)
		}
		r = call(t, "GET", s.URL+"/elsewhere", bearer(w.patChat), nil, nil)
		wantCoze(t, "outside the OpenAPI paths", r, 404, 4200)
		// --upstream-allow-unlisted lets authenticated callers through.
		s2 := startServer(t, "gateway-unlisted", dsn, "--upstream", w.up.URL, "--upstream-token", staticUpstreamToken,
			"--upstream-allow-unlisted")
		r = call(t, "GET", s2.URL+"/v1/some/unlisted/route?x=1", bearer(w.patList), nil, nil)
		wantCoze(t, "unlisted allowed", r, 200, 0)
		rec := w.up.last()
		if rec.Path != "/v1/some/unlisted/route" || rec.Query != "x=1" || rec.Header.Get("X-Cozeauth-User-Id") != w.alice ||
			rec.Header.Get("X-Cozeauth-Workspace-Id") != "" {
			t.Errorf("unlisted forwarded as %s?%s with %v", rec.Path, rec.Query, rec.Header)
		}
		wantCoze(t, "unlisted without a token", call(t, "GET", s2.URL+"/v1/some/unlisted/route", "", nil, nil), 401, 4100)

	})

	t.Run("per-user upstream tokens", func(t *testing.T) {
		msg := w.adm.fail("alice-upstream\n", "user", "set-upstream-token", "--user", "alice")
		if !strings.Contains(msg, "secret-key-file") {
			t.Errorf("set-upstream-token without a key: %q", msg)
		}
		bad := filepath.Join(t.TempDir(), "bad.key")
		_ = os.WriteFile(bad, []byte("short"), 0o600)
		w.adm.fail("alice-upstream\n", "user", "set-upstream-token", "--user", "alice", "--secret-key-file", bad)
		w.adm.fail("", "user", "set-upstream-token", "--user", "alice", "--secret-key-file", w.keyFile)
		w.adm.jsonIn("alice-upstream-token\n", nil, "user", "set-upstream-token", "--user", "alice", "--secret-key-file", w.keyFile)
		if _, ok := eventually(5*revocationBound, func() bool {
			call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody(w.bot, false))
			return w.up.last().Header.Get("Authorization") == "Bearer alice-upstream-token"
		}); !ok {
			t.Fatalf("alice's own upstream token was not used: %v", w.up.last().Header.Get("Authorization"))
		}
		call(t, "POST", s.URL+"/v3/chat", bearer(w.patBob), jsonHdr, chatBody(w.botB, false))
		if got := w.up.last().Header.Get("Authorization"); got != "Bearer "+staticUpstreamToken {
			t.Errorf("bob (no token of his own) sent %q upstream", got)
		}
		if strings.Contains(s.stderr.String(), "alice-upstream-token") {
			t.Error("the per-user upstream token is in the server log")
		}
		w.adm.changed("user", "delete-upstream-token", "--user", "alice")
		if _, ok := eventually(5*revocationBound, func() bool {
			call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody(w.bot, false))
			return w.up.last().Header.Get("Authorization") == "Bearer "+staticUpstreamToken
		}); !ok {
			t.Errorf("after delete-upstream-token alice still sends %q", w.up.last().Header.Get("Authorization"))
		}
	})

	t.Run("resources API", func(t *testing.T) {
		reg := func(tk token, body any) rawResp {
			return call(t, "POST", s.URL+"/api/cozeauth/v1/resources", bearer(tk), jsonHdr, jsonBody(body))
		}
		del := func(tk token, body any) rawResp {
			return call(t, "DELETE", s.URL+"/api/cozeauth/v1/resources", bearer(tk), jsonHdr, jsonBody(body))
		}
		newBot := map[string]string{"type": "bot", "id": "bot-registered", "workspace_id": w.ws}
		wantCoze(t, "register without Resource.manage", reg(w.patChat, newBot), 403, 4101)
		wantCoze(t, "register in bob's workspace", reg(w.patManage, map[string]string{"type": "bot", "id": "x", "workspace_id": w.wsB}), 403, 4101)
		wantCoze(t, "register in an unknown workspace", reg(w.patManage, map[string]string{"type": "bot", "id": "x", "workspace_id": "no-such-ws"}), 404, 4200)
		wantCoze(t, "register without id", reg(w.patManage, map[string]string{"type": "bot", "workspace_id": w.ws}), 400, 4000)
		wantCoze(t, "register", reg(w.patManage, newBot), 200, 0)
		wantCoze(t, "register again (idempotent)", reg(w.patManage, newBot), 200, 0)
		r := call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody("bot-registered", false))
		wantCoze(t, "chat with the registered bot", r, 200, 0)
		if got := w.up.last().Header.Get("X-Cozeauth-Workspace-Id"); got != w.ws {
			t.Errorf("workspace header %q, want %s", got, w.ws)
		}
		wantCoze(t, "delete without Resource.manage", del(w.patChat, newBot), 403, 4101)
		wantCoze(t, "delete", del(w.patManage, newBot), 200, 0)
		wantCoze(t, "delete again", del(w.patManage, newBot), 404, 4200)
		r = call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody("bot-registered", false))
		wantCoze(t, "chat with the removed bot", r, 404, 4200)
	})

	t.Run("upstream resolver: cache hits, never misses", func(t *testing.T) {
		w.up.reset()
		w.up.setSpace("bot", "bot-upstream", w.ws)
		w.up.setSpace("bot", "bot-elsewhere", "9999") // a space cozeauth has no workspace for
		for i := range 3 {
			r := call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody("bot-upstream", false))
			wantCoze(t, fmt.Sprintf("chat with an upstream bot (%d)", i), r, 200, 0)
			if got := w.up.last().Header.Get("X-Cozeauth-Workspace-Id"); got != w.ws {
				t.Errorf("workspace header %q, want %s", got, w.ws)
			}
		}
		if n := w.up.lookups("/v1/bots/bot-upstream"); n != 1 {
			t.Errorf("resolver asked %d times about a known bot, want 1 (cached)", n)
		}
		wantCoze(t, "bob with alice's upstream bot", call(t, "POST", s.URL+"/v3/chat", bearer(w.patBob), jsonHdr, chatBody("bot-upstream", false)), 403, 4101)
		for i := range 2 {
			r := call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody("bot-ghost", false))
			wantCoze(t, "chat with a bot neither knows", r, 404, 4200)
			if n := w.up.lookups("/v1/bots/bot-ghost"); n != i+1 {
				t.Errorf("resolver asked %d times about an unknown bot after %d requests (misses are not cached)", n, i+1)
			}
		}
		wantCoze(t, "bot in a space cozeauth does not know", call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody("bot-elsewhere", false)), 404, 4200)
		// A miss is not cached: once the upstream knows the bot, it resolves.
		w.up.setSpace("bot", "bot-ghost", w.ws)
		wantCoze(t, "the ghost bot once the upstream knows it", call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, chatBody("bot-ghost", false)), 200, 0)
	})

	t.Run("SSE: the first event arrives before the upstream's pause ends", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL+"/v3/chat", chatBody(w.bot, true))
		req.Header.Set("Authorization", bearer(w.patChat))
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{}).Do(req) // no client timeout: the stream waits for our release
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		br := bufio.NewReader(resp.Body)
		readEvent := func() string {
			var name string
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("reading the stream: %v (event so far %q)", err, name)
				}
				line = strings.TrimRight(line, "\r\n")
				if line == "" && name != "" {
					return name
				}
				if v, ok := strings.CutPrefix(line, "event:"); ok {
					name = strings.TrimSpace(v)
				}
			}
		}
		// The upstream is paused after its first event until release: reading
		// it here proves the gateway did not buffer.
		if ev := readEvent(); ev != "conversation.chat.created" {
			t.Fatalf("first event %q", ev)
		}
		w.up.release()
		var rest []string
		for {
			ev := readEvent()
			rest = append(rest, ev)
			if ev == "done" {
				break
			}
		}
		want := []string{"conversation.message.delta", "conversation.message.completed", "conversation.chat.completed", "done"}
		if strings.Join(rest, ",") != strings.Join(want, ",") {
			t.Errorf("events after the pause %v, want %v", rest, want)
		}
	})

	t.Run("body limit", func(t *testing.T) {
		w.up.reset()
		big := `{"bot_id":"` + w.bot + `","pad":"` + strings.Repeat("x", 2<<20) + `"}`
		r := call(t, "POST", s.URL+"/v3/chat", bearer(w.patChat), jsonHdr, strings.NewReader(big))
		wantCoze(t, "2 MiB JSON with a length", r, 413, 4000)
		// A chunked body (no length) over the limit is cut while streaming.
		pr, pw := io.Pipe()
		go func() {
			chunk := bytes.Repeat([]byte("y"), 64<<10)
			_, _ = pw.Write([]byte(`{"pad":"`))
			for range 32 {
				if _, err := pw.Write(chunk); err != nil {
					return
				}
			}
			_, _ = pw.Write([]byte(`"}`))
			pw.Close()
		}()
		r = call(t, "POST", s.URL+"/v1/conversation/create", bearer(w.patChat), jsonHdr, io.NopCloser(pr))
		wantCoze(t, "2 MiB chunked stream", r, 413, 4000)
		// Under the limit, a body streams through whole.
		okBody := `{"pad":"` + strings.Repeat("z", 900<<10) + `"}`
		r = call(t, "POST", s.URL+"/v1/conversation/create", bearer(w.patChat), jsonHdr, strings.NewReader(okBody))
		wantCoze(t, "900 KiB body", r, 200, 0)
		// (The cut stream's record may land after this one: search.)
		whole := false
		for _, rec := range w.up.records() {
			whole = whole || (rec.Bytes == int64(len(okBody)) && rec.BodyErr == "")
		}
		if !whole {
			t.Errorf("the upstream never received the %d-byte body whole", len(okBody))
		}
	})

	t.Run("multipart upload streams through", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "notes.txt")
		_, _ = fw.Write(bytes.Repeat([]byte("n"), 300<<10))
		mw.Close()
		r := call(t, "POST", s.URL+"/v1/conversation/create", bearer(w.patChat),
			map[string]string{"Content-Type": mw.FormDataContentType()}, &buf)
		wantCoze(t, "multipart body", r, 200, 0)
		if got := w.up.last().Files["notes.txt"]; got != 300<<10 {
			t.Errorf("upstream saw a file of %d bytes, want %d", got, 300<<10)
		}
	})

	t.Run("WebSocket upgrade", func(t *testing.T) {
		wsKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
		upgrade := func(auth string) (net.Conn, *bufio.Reader, *http.Response) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			// The WebSocket chat (Bot.chat, bot_id in the query).
			fmt.Fprintf(conn, "GET /v1/chat?bot_id=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n", w.bot, wsKey, auth)
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			return conn, br, resp
		}
		w.up.reset()
		_, _, resp := upgrade("")
		if resp.StatusCode != 401 {
			t.Errorf("upgrade without a token: %s", resp.Status)
		}
		_, _, resp = upgrade("Authorization: " + bearer(w.patList) + "\r\n")
		if resp.StatusCode != 403 {
			t.Errorf("upgrade without Bot.chat: %s", resp.Status)
		}
		if n := w.up.count(); n != 0 {
			t.Errorf("refused upgrades reached the upstream %d times", n)
		}
		conn, br, resp := upgrade("Authorization: " + bearer(w.patChat) + "\r\n")
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-Websocket-Accept") == "" {
			t.Fatalf("upgrade: %s %v", resp.Status, resp.Header)
		}
		msg := []byte("\x81\x05hello") // a text frame, echoed byte for byte
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, msg) {
			t.Errorf("echo %q %v, want %q", got, err, msg)
		}
		if rec := w.up.last(); rec.Header.Get("Authorization") != "Bearer "+staticUpstreamToken || rec.Header.Get("X-Cozeauth-User-Id") != w.alice ||
			rec.Header.Get("X-Cozeauth-Workspace-Id") != w.ws {
			t.Errorf("upgrade reached the upstream with %v", rec.Header)
		}
	})

	t.Run("upstream timeout, down, absent", func(t *testing.T) {
		slow := startServer(t, "gateway-slow", dsn, "--upstream", w.up.URL, "--upstream-timeout", "300ms")
		r := call(t, "GET", slow.URL+"/v1/bots/"+w.bot+"?_block=1", bearer(w.patChat), nil, nil)
		wantCoze(t, "upstream never answers", r, 504, 5004)
		w.up.release()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		downURL := "http://" + ln.Addr().String()
		ln.Close()
		down := startServer(t, "gateway-down", dsn, "--upstream", downURL)
		wantCoze(t, "upstream down", call(t, "GET", down.URL+"/v1/bots/"+w.bot, bearer(w.patChat), nil, nil), 502, 5002)
		none := startServer(t, "gateway-none", dsn)
		wantCoze(t, "no upstream, allowed", call(t, "GET", none.URL+"/v1/bots/"+w.bot, bearer(w.patChat), nil, nil), 501, 5001)
		wantCoze(t, "no upstream, refused first", call(t, "GET", none.URL+"/v1/bots/"+w.botB, bearer(w.patChat), nil, nil), 403, 4101)
	})

}

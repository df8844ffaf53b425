package gotest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fullAuditEvent is one item of `admin audit list`.
type fullAuditEvent struct {
	ID           string          `json:"id"`
	At           int64           `json:"at"`
	ActorID      string          `json:"actor_id"`
	ActorType    string          `json:"actor_type"`
	Action       string          `json:"action"`
	TargetType   string          `json:"target_type"`
	TargetID     string          `json:"target_id"`
	EnterpriseID string          `json:"enterprise_id"`
	IP           string          `json:"ip"`
	LogID        string          `json:"logid"`
	Detail       json.RawMessage `json:"detail"`
}

type auditPage struct {
	Events     []fullAuditEvent `json:"events"`
	NextBefore string           `json:"next_before"`
}

func (a adm) auditList(args ...string) auditPage {
	a.t.Helper()
	var p auditPage
	a.json(&p, append([]string{"audit", "list"}, args...)...)
	return p
}

// TestAuditLog runs a realistic flow through the admin CLI and the real
// server, then checks that `audit list` shows every change in order, with
// its actor, client IP and log ID, that its filters and cursor work, and
// that no event holds a secret, token or password (issue 11.18).
func TestAuditLog(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runAuditLog(t, b.newDB(t))
		})
	}
}

var secretLikeRE = regexp.MustCompile(`(pat|sat|czs|czu|czr|czc|czd)_[0-9A-Za-z]{8,}|[0-9a-f]{64}|BEGIN [A-Z ]*KEY`)

func runAuditLog(t *testing.T, dsn string) {
	a := adm{t: t, db: dsn}
	start := time.Now().Unix()
	var secrets []string
	alice, bob := a.user("alice"), a.user("bob")
	ent := a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "alice")
	a.changed("enterprise", "add-member", "--enterprise", ent, "--user", "bob", "--role", "Member")
	ws := a.str("workspace_id", "workspace", "create", "--name", "Team", "--enterprise", ent)
	a.changed("workspace", "add-member", "--workspace", ws, "--user", "bob", "--role", "member")
	a.changed("workspace", "remove-member", "--workspace", ws, "--user", "bob")
	var res map[string]any
	a.json(&res, "resource", "create", "--workspace", ws, "--type", "bot", "--id", "bot-1")
	pat := a.createToken("pat", "--user", "alice", "--name", "cli pat", "--days", "30", "--workspaces", "all", "--permission", "Bot.chat")
	a.json(&res, "pat", "update", "--id", pat.ID, "--name", "renamed")
	a.changed("pat", "delete", "--id", pat.ID)
	sat := a.createToken("sat", "--enterprise", ent, "--name", "svc", "--permanent", "--workspaces", "all", "--permission", "Bot.chat")
	secrets = append(secrets, pat.Token, sat.Token, testPassword)
	var app struct {
		AppID        string `json:"app_id"`
		ClientSecret string `json:"client_secret"`
	}
	a.json(&app, "app", "create", "--owner", "alice", "--type", "web", "--name", "Web", "--redirect-uri", "https://app.example/cb",
		"--permission", "Bot.chat")
	var sec struct {
		SecretID     string `json:"secret_id"`
		ClientSecret string `json:"client_secret"`
	}
	a.json(&sec, "app", "add-secret", "--app", app.AppID)
	a.changed("app", "delete-secret", "--app", app.AppID, "--secret-id", sec.SecretID)
	var jwt struct {
		AppID string `json:"app_id"`
	}
	a.json(&jwt, "app", "create", "--enterprise", ent, "--type", "jwt", "--name", "Svc", "--permission", "Bot.chat")
	var key struct {
		KeyID      string `json:"public_key_id"`
		PrivateKey string `json:"private_key"`
	}
	a.json(&key, "app", "gen-key", "--app", jwt.AppID)
	a.changed("app", "delete-key", "--app", jwt.AppID, "--public-key-id", key.KeyID)
	a.changed("app", "deactivate", "--app", app.AppID)
	a.changed("app", "delete", "--app", app.AppID)
	secrets = append(secrets, app.ClientSecret, sec.ClientSecret, key.PrivateKey)
	// A change that fails leaves no event.
	a.fail("", "pat", "delete", "--id", "no-such-token")

	// Through the server: a failed and a successful sign-in, a PAT made in
	// the console.
	srv := startServer(t, "server", dsn)
	c, csrf := signInClient(t, srv, "127.0.0.7")
	if code, err := postLogin(ctxT(t), c, srv, csrf, "alice", "not the password"); err != nil || code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %v", code, err)
	}
	secrets = append(secrets, "not the password")
	if code, err := postLogin(ctxT(t), c, srv, csrf, "alice", testPassword); err != nil || code != http.StatusFound {
		t.Fatalf("sign-in: %d %v", code, err)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	// The form's token is the page's last (the first is the sign-out form's).
	ms := csrfFieldRE.FindAllStringSubmatch(get("/console/tokens/new"), -1)
	if ms == nil {
		t.Fatal("no csrf_token on the new-token page")
	}
	m := ms[len(ms)-1]
	var aliceAccount string
	var users struct {
		Users []struct {
			ID        string `json:"user_id"`
			AccountID string `json:"account_id"`
		} `json:"users"`
	}
	a.json(&users, "user", "list")
	for _, u := range users.Users {
		if u.ID == alice {
			aliceAccount = u.AccountID
		}
	}
	form := url.Values{"csrf_token": {m[1]}, "name": {"console pat"}, "expiration": {"30"},
		"account": {"personal:" + aliceAccount}, "perm": {"Workspace.list"}, "workspaces": {"all"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/console/tokens", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The PAT is shown once, on the page the POST redirects to (PRG).
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("console PAT creation: %d, want 303", resp.StatusCode)
	}
	body := get(resp.Header.Get("Location"))
	if tm := regexp.MustCompile(`name="token" type="text" readonly value="([^"]+)"`).FindStringSubmatch(body); tm != nil {
		secrets = append(secrets, string(tm[1]))
	} else {
		t.Fatalf("console PAT created page has no token\n%s", tail(body))
	}

	all := a.auditList("--limit", "0")
	var got []string
	for i := len(all.Events) - 1; i >= 0; i-- {
		got = append(got, all.Events[i].Action)
	}
	want := []string{"user.create", "user.create", "enterprise.create", "enterprise.member.put", "workspace.create",
		"workspace.member.put", "workspace.member.remove", "resource.create", "pat.create", "pat.update", "pat.delete",
		"sat.create", "app.create", "app.secret.create", "app.secret.create", "app.secret.delete", "app.create",
		"app.key.create", "app.key.delete", "app.deactivate", "app.delete", "signin.failure", "signin.success", "pat.create"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit list, oldest first =\n  %v\nwant\n  %v", got, want)
	}
	for _, e := range all.Events {
		http := e.Action == "signin.failure" || e.Action == "signin.success" || (e.Action == "pat.create" && e.IP != "")
		switch {
		case http:
			if e.IP != "127.0.0.7" || e.LogID == "" {
				t.Errorf("%s: ip %q logid %q, want 127.0.0.7 and a log ID", e.Action, e.IP, e.LogID)
			}
			if e.Action != "signin.failure" && (e.ActorID != alice || e.ActorType != "user") {
				t.Errorf("%s: actor %q/%q, want alice", e.Action, e.ActorID, e.ActorType)
			}
		default:
			if e.ActorType != "cli" || e.ActorID != "" || e.IP != "" {
				t.Errorf("%s: actor %q/%q ip %q, want the CLI", e.Action, e.ActorID, e.ActorType, e.IP)
			}
		}
		if e.At < start-1 {
			t.Errorf("%s: at %d before the test started (%d)", e.Action, e.At, start)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(string(e.Detail)+e.TargetID, s) {
				t.Errorf("%s holds a secret: %s", e.Action, e.Detail)
			}
		}
		if s := secretLikeRE.FindString(string(e.Detail) + " " + e.TargetID); s != "" {
			t.Errorf("%s: secret-looking %q in %s", e.Action, s, e.Detail)
		}
		if e.Action == "sat.create" && e.EnterpriseID != ent {
			t.Errorf("sat.create: enterprise %q, want %q", e.EnterpriseID, ent)
		}
	}

	// Filters and the cursor.
	if p := a.auditList("--action", "pat.", "--limit", "0"); len(p.Events) != 4 {
		t.Errorf("--action pat.: %d events, want 4", len(p.Events))
	}
	if p := a.auditList("--actor", alice, "--limit", "0"); len(p.Events) != 2 {
		t.Errorf("--actor alice: %d events, want 2 (sign-in, console PAT)", len(p.Events))
	}
	if p := a.auditList("--target-type", "user", "--target-id", bob); len(p.Events) != 1 || p.Events[0].Action != "user.create" {
		t.Errorf("--target-type user --target-id bob: %+v", p.Events)
	}
	if p := a.auditList("--since", strconv.FormatInt(time.Now().Unix()+3600, 10)); len(p.Events) != 0 {
		t.Errorf("--since in an hour: %d events", len(p.Events))
	}
	if p := a.auditList("--until", time.Unix(start-3600, 0).UTC().Format(time.RFC3339)); len(p.Events) != 0 {
		t.Errorf("--until an hour ago: %d events", len(p.Events))
	}
	var paged []string
	for before := ""; ; {
		args := []string{"--limit", "7"}
		if before != "" {
			args = append(args, "--before", before)
		}
		p := a.auditList(args...)
		for _, e := range p.Events {
			paged = append(paged, e.ID)
		}
		if p.NextBefore == "" {
			break
		}
		before = p.NextBefore
	}
	if len(paged) != len(all.Events) {
		t.Errorf("paging by 7 gave %d events, want %d", len(paged), len(all.Events))
	}
	for i := range paged {
		if i < len(all.Events) && paged[i] != all.Events[i].ID {
			t.Errorf("page order differs at %d", i)
			break
		}
	}
	if msg := a.fail("", "audit", "list", "--since", "yesterday"); !strings.Contains(msg, "RFC 3339") {
		t.Errorf("bad --since: %q", msg)
	}

	// The console page shows alice her events.
	page := get("/console/audit")
	if !strings.Contains(page, "signin.success") || !strings.Contains(page, "127.0.0.7") {
		t.Errorf("/console/audit does not show alice's sign-in")
	}
}

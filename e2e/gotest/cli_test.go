package gotest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCLIBadInput: every refused admin command exits non-zero with one line
// on stderr that names the problem, and changes nothing.
func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	a := adm{t: t, db: sqliteDB(t)}
	alice := a.user("alice")
	a.user("boss")
	ent := a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	ws := a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	sat := a.createToken("sat", "--enterprise", ent, "--name", "svc", "--days", "1")
	past := strconv.FormatInt(time.Now().Unix()-10, 10)

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  []string // stderr contains each (case-insensitive)
	}{
		{name: "--days 7 is not a preset", args: []string{"pat", "create", "--user", "alice", "--name", "p", "--days", "7"}, want: []string{"7", "days"}},
		{name: "no expiry", args: []string{"pat", "create", "--user", "alice", "--name", "p"}, want: []string{"days", "permanent"}},
		{name: "two expiries", args: []string{"pat", "create", "--user", "alice", "--name", "p", "--days", "1", "--permanent"}, want: []string{"days", "permanent"}},
		{name: "expiry in the past", args: []string{"pat", "create", "--user", "alice", "--name", "p", "--expires-at", past}, want: []string{past}},
		{name: "unknown permission", args: []string{"pat", "create", "--user", "alice", "--name", "p", "--days", "1", "--permission", "Bot.fly"}, want: []string{"Bot.fly"}},
		{name: "unknown workspace", args: []string{"pat", "create", "--user", "alice", "--name", "p", "--days", "1", "--workspaces", "7000000000000000001"}, want: []string{"7000000000000000001"}},
		{name: "empty workspace in the list", args: []string{"pat", "create", "--user", "alice", "--name", "p", "--days", "1", "--workspaces", ws + ",,"}, want: []string{"workspace"}},
		{name: "unknown user", args: []string{"pat", "create", "--user", "nobody", "--name", "p", "--days", "1"}, want: []string{"nobody"}},
		{name: "enterprise PAT of a non-member", args: []string{"pat", "create", "--user", "alice", "--name", "p", "--days", "1", "--enterprise", ent}, want: []string{"member"}},
		{name: "no name", args: []string{"pat", "create", "--user", "alice", "--days", "1"}, want: []string{"name"}},
		{name: "pat delete of a SAT", args: []string{"pat", "delete", "--id", sat.ID}, want: []string{sat.ID}},
		{name: "pat delete of an unknown id", args: []string{"pat", "delete", "--id", "123"}, want: []string{"123"}},
		{name: "workspace without owner", args: []string{"workspace", "create", "--name", "W"}, want: []string{"owner"}},
		{name: "workspace with both owners", args: []string{"workspace", "create", "--name", "W", "--owner", "alice", "--enterprise", ent}, want: []string{"owner", "enterprise"}},
		{name: "workspace of an unknown user", args: []string{"workspace", "create", "--name", "W", "--owner", "nobody"}, want: []string{"nobody"}},
		{name: "user created twice", stdin: testPassword + "\n", args: []string{"user", "create", "--username", "alice", "--password-stdin"}, want: []string{"alice"}},
		{name: "short password", stdin: "short\n", args: []string{"user", "create", "--username", "carol", "--password-stdin"}, want: []string{"password"}},
		{name: "unknown enterprise role", args: []string{"enterprise", "add-member", "--enterprise", ent, "--user", "alice", "--role", "Boss"}, want: []string{"Boss"}},
		{name: "unknown workspace role", args: []string{"workspace", "add-member", "--workspace", ws, "--user", "boss", "--role", "owner-ish"}, want: []string{"owner-ish"}},
		{name: "SAT without enterprise", args: []string{"sat", "create", "--name", "s", "--days", "1"}, want: []string{"enterprise"}},
		{name: "unknown flag", args: []string{"pat", "list", "--user", "alice", "--frobnicate"}, want: []string{"frobnicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := adm{t: t, db: a.db}
			msg := a.fail(tt.stdin, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
					t.Errorf("stderr %q does not name %q", msg, w)
				}
			}
		})
	}

	// Nothing was created by the refused commands.
	if ps := a.pats(alice); len(ps) != 0 {
		t.Errorf("pat list after refused creates: %+v, want none", ps)
	}
	var sats struct {
		Items []listing `json:"service_access_tokens"`
	}
	a.json(&sats, "sat", "list", "--enterprise", ent)
	if len(sats.Items) != 1 {
		t.Errorf("sat list = %+v, want only the one SAT (pat delete must not delete it)", sats.Items)
	}
	var users struct {
		Users []map[string]any `json:"users"`
	}
	a.json(&users, "user", "list")
	if len(users.Users) != 2 {
		t.Errorf("user list has %d users, want 2 (alice, boss)", len(users.Users))
	}
}

// TestCLIMissingDatabase: a --db that does not exist is refused (a typo used
// to print {"users":[]}, exit 0 and leave a new empty file) unless the
// command is migrate or --create is given; a created file is 0600 (issue
// 11.5, 11.12).
func TestCLIMissingDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	typo := filepath.Join(dir, "cozaeuth.db")
	r := runCLI(t, "", "admin", "--db", typo, "user", "list")
	if r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("admin on a missing database: %s; want a one-line error and a non-zero exit", r)
	}
	if _, err := os.Stat(typo); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("admin on a missing database left a file behind: %v", err)
	}
	fresh := filepath.Join(dir, "fresh.db")
	if r := runCLI(t, "", "migrate", "--db", fresh); r.code != 0 {
		t.Fatalf("migrate on a new file: %s", r)
	}
	if r := runCLI(t, "", "admin", "--db", fresh, "user", "list"); r.code != 0 || !strings.Contains(r.stdout, `"users"`) {
		t.Errorf("admin on the migrated database: %s", r)
	}
	created := filepath.Join(dir, "created.db")
	if r := runCLI(t, "", "admin", "--db", created, "--create", "user", "list"); r.code != 0 {
		t.Errorf("admin --create: %s", r)
	}
	for _, p := range []string{fresh, created} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", filepath.Base(p), err, info.Mode().Perm())
		}
	}
}

// TestCLIContract: the admin CLI keeps the README's contract (issue 12.11):
// an unknown or incomplete command fails with one line, --app takes an app ID
// or a client ID, --enterprise an ID or an exact name, roles any case and
// either spelling, --expires-at a date, RFC 3339 or Unix seconds, pat create
// defaults to all workspaces, and a deactivated app can be reactivated.
func TestCLIContract(t *testing.T) {
	t.Parallel()
	a := adm{t: t, db: sqliteDB(t)}
	a.user("alice")
	a.user("boss")
	ent := a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	dup1 := a.str("enterprise_id", "enterprise", "create", "--name", "Twin", "--super-admin", "boss")
	dup2 := a.str("enterprise_id", "enterprise", "create", "--name", "Twin", "--super-admin", "boss")
	var app struct {
		AppID    string `json:"app_id"`
		ClientID string `json:"client_id"`
	}
	a.json(&app, "app", "create", "--owner", "alice", "--type", "jwt", "--name", "svc")

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			want []string
		}{
			{"unknown top-level command", []string{"frobnicate"}, []string{"frobnicate"}},
			{"group without subcommand", []string{"workspace"}, []string{"workspace", "subcommand"}},
			{"unknown subcommand", []string{"app", "fly"}, []string{"fly"}},
			{"unknown app", []string{"app", "keys", "--app", "nope"}, []string{"nope"}},
			{"unknown enterprise name", []string{"sat", "list", "--enterprise", "Nowhere"}, []string{"Nowhere"}},
			{"ambiguous enterprise name", []string{"sat", "list", "--enterprise", "Twin"}, []string{"ambiguous", dup1, dup2}},
			{"bad --expires-at", []string{"pat", "create", "--user", "alice", "--name", "p", "--expires-at", "next week"}, []string{"expires-at"}},
			{"unknown role", []string{"enterprise", "add-member", "--enterprise", ent, "--user", "alice", "--role", "enterprise_king"}, []string{"enterprise_king"}},
			{"resource type not in the catalog", []string{"resource", "create", "--workspace", "nowhere", "--type", "robot"}, []string{"robot", "bot", "workflow"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				msg := adm{t: t, db: a.db}.fail("", tt.args...)
				for _, w := range tt.want {
					if !strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
						t.Errorf("stderr %q does not name %q", msg, w)
					}
				}
			})
		}
	})

	t.Run("roles", func(t *testing.T) {
		for _, tt := range []struct{ in, want string }{
			{"enterprise_admin", "Admin"}, {"ADMIN", "Admin"}, {"member", "Member"}, {"Enterprise_Member", "Member"}, {"guest", "Guest"},
		} {
			var m struct {
				Role string `json:"role"`
			}
			a.json(&m, "enterprise", "add-member", "--enterprise", "Acme", "--user", "alice", "--role", tt.in)
			if m.Role != tt.want {
				t.Errorf("--role %s: printed role %q, want %q", tt.in, m.Role, tt.want)
			}
		}
	})

	t.Run("lists", func(t *testing.T) {
		var es struct {
			Enterprises []struct {
				ID   string `json:"enterprise_id"`
				Name string `json:"name"`
			} `json:"enterprises"`
		}
		a.json(&es, "enterprise", "list")
		if len(es.Enterprises) != 3 {
			t.Errorf("enterprise list = %+v, want 3", es.Enterprises)
		}
		a.changed("workspace", "create", "--name", "Mine", "--owner", "alice")
		a.changed("workspace", "create", "--name", "Theirs", "--enterprise", "Acme")
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"workspace", "list"}, "Mine Theirs"},
			{[]string{"workspace", "list", "--owner", "alice"}, "Mine"},
			{[]string{"workspace", "list", "--enterprise", "Acme"}, "Theirs"},
		} {
			var ws struct {
				Workspaces []struct {
					Name string `json:"name"`
				} `json:"workspaces"`
			}
			a.json(&ws, tt.args...)
			var names []string
			for _, w := range ws.Workspaces {
				if w.Name == "Mine" || w.Name == "Theirs" {
					names = append(names, w.Name)
				}
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("%v: %q, want %q", tt.args, got, tt.want)
			}
		}
	})

	t.Run("expires-at", func(t *testing.T) {
		date := time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)
		endOfDay, _ := time.Parse(time.DateOnly, date)
		rfc := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
		for _, tt := range []struct {
			in   string
			want int64
		}{
			{date, endOfDay.Add(24*time.Hour - time.Second).Unix()},
			{rfc.Format(time.RFC3339), rfc.Unix()},
			{strconv.FormatInt(rfc.Unix()+60, 10), rfc.Unix() + 60},
		} {
			tk := a.createToken("pat", "--user", "alice", "--name", "p "+tt.in, "--expires-at", tt.in)
			if tk.ExpireAt != tt.want {
				t.Errorf("--expires-at %s: expire_at %d, want %d", tt.in, tk.ExpireAt, tt.want)
			}
		}
	})

	t.Run("pat create defaults to all workspaces", func(t *testing.T) {
		var tk struct {
			ID string `json:"id"`
		}
		a.json(&tk, "pat", "create", "--user", "alice", "--name", "default scope", "--days", "1")
		for _, p := range a.pats("alice") {
			if p.ID == tk.ID && p.WorkspaceMode != "all" {
				t.Errorf("pat created without --workspaces: %+v, want all workspaces", p)
			}
		}
	})

	t.Run("user update, set-password, delete", func(t *testing.T) {
		var u struct {
			Nickname  string `json:"nickname"`
			AvatarURL string `json:"avatar_url"`
		}
		a.json(&u, "user", "update", "--user", "alice", "--nickname", "Ali", "--avatar-url", "https://example.com/ali.png")
		if u.Nickname != "Ali" || u.AvatarURL != "https://example.com/ali.png" {
			t.Errorf("user update printed %+v", u)
		}
		a.jsonIn("a new password\n", nil, "user", "set-password", "--user", "alice", "--password-stdin")
		carol := a.user("carol")
		a.changed("workspace", "create", "--name", "Carol's", "--owner", "carol")
		a.createToken("pat", "--user", "carol", "--name", "c", "--days", "1")
		for _, tc := range []struct {
			name string
			args []string
			want []string
		}{
			{"update without a change", []string{"user", "update", "--user", "alice"}, []string{"nickname", "avatar-url"}},
			{"bad avatar", []string{"user", "update", "--user", "alice", "--avatar-url", "javascript:alert(1)"}, []string{"avatar"}},
			{"delete without --yes", []string{"user", "delete", "--user", "carol"}, []string{"--yes", "1 personal workspace", "1 token"}},
			{"delete an enterprise member", []string{"user", "delete", "--user", "boss", "--yes"}, []string{"enterprise"}},
			{"delete an unknown user", []string{"user", "delete", "--user", "nobody", "--yes"}, []string{"nobody"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				msg := adm{t: t, db: a.db}.fail("", tc.args...)
				for _, w := range tc.want {
					if !strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
						t.Errorf("stderr %q does not name %q", msg, w)
					}
				}
			})
		}
		var d struct {
			UserID     string `json:"user_id"`
			Deleted    bool   `json:"deleted"`
			Workspaces int    `json:"workspaces_deleted"`
			Tokens     int    `json:"tokens_deleted"`
		}
		a.json(&d, "user", "delete", "--user", "carol", "--yes")
		if d.UserID != carol || !d.Deleted || d.Workspaces != 1 || d.Tokens != 1 {
			t.Errorf("user delete printed %+v", d)
		}
		adm{t: t, db: a.db}.fail("", "pat", "list", "--user", "carol")
	})

	t.Run("--app by client ID; deactivate and activate", func(t *testing.T) {
		for _, tt := range []struct {
			cmd    string
			active bool
		}{{"deactivate", false}, {"activate", true}} {
			var out struct {
				AppID  string `json:"app_id"`
				Active bool   `json:"active"`
			}
			a.json(&out, "app", tt.cmd, "--app", app.ClientID)
			if out.AppID != app.AppID || out.Active != tt.active {
				t.Errorf("app %s --app <client id>: %+v, want app %s active=%v", tt.cmd, out, app.AppID, tt.active)
			}
		}
	})
}

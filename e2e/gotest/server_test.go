package gotest

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// TestLastUsed: last-use times are batched in memory, written every
// --last-used-flush, and flushed on SIGTERM.
func TestLastUsed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flush string
		// stop: SIGTERM right after the use; the time must be written on the way out.
		stop bool
	}{
		{name: "periodic flush", flush: "200ms"},
		{name: "flush on SIGTERM", flush: "1h", stop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn := sqliteDB(t)
			a := adm{t: t, db: dsn}
			a.user("alice")
			pat := a.createToken("pat", "--user", "alice", "--name", "p", "--days", "1")
			lastUsed := func() int64 {
				l, ok := find(a.pats("alice"), pat.ID)
				if !ok {
					t.Fatalf("pat list does not show PAT %s", pat.ID)
				}
				return l.LastUsedAt
			}
			if got := lastUsed(); got != -1 {
				t.Fatalf("last_used_at of an unused PAT = %d, want -1", got)
			}
			srv := startServer(t, "server", dsn, "--last-used-flush", tt.flush)
			before := time.Now().Unix()
			if _, err := srv.C.UsersMe(ctxT(t), pat.Token); err != nil {
				t.Fatal(err)
			}
			var got int64
			if tt.stop {
				srv.stop()
				got = lastUsed()
			} else {
				d, ok := eventually(5*time.Second, func() bool { got = lastUsed(); return got != -1 })
				if !ok {
					t.Fatalf("last_used_at still -1 %v after a use with --last-used-flush %s", d, tt.flush)
				}
				t.Logf("last_used_at written %v after the use", d.Round(time.Millisecond))
			}
			if got < before || got > time.Now().Unix() {
				t.Errorf("last_used_at = %d, want the time of the use (%d…now)", got, before)
			}
		})
	}
}

// devBanner waits for the banner `serve --dev` prints and returns it with
// the PAT it names.
func devBanner(t *testing.T, srv *server) (out, tok string) {
	t.Helper()
	// The banner is printed before the server listens; give the pipe a moment.
	eventually(2*time.Second, func() bool {
		out = srv.stdout.String()
		tok = regexp.MustCompile(`pat_[0-9A-Za-z_-]+`).FindString(out)
		return tok != "" && strings.Count(out, "curl ") >= 1
	})
	if tok == "" {
		t.Fatalf("serve --dev printed no PAT:\n%s", out)
	}
	return out, tok
}

// TestDevMode: `serve --dev` seeds demo data and prints the console URL, the
// demo sign-in and a working PAT with curl lines; a restart reuses the PAT
// (kept 0600 beside the database); a non-loopback address is refused.
func TestDevMode(t *testing.T) {
	t.Parallel()
	db := sqliteDB(t)
	srv := startServer(t, "dev server", db, "--dev")
	out, tok := devBanner(t, srv)
	for _, want := range []string{srv.URL + "/console", "demo / demo-password", "kept in " + db + ".dev-pat"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(db + ".dev-pat"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dev PAT file: %v, %v; want mode 0600", fi, err)
	}
	// A person opening the address lands in the console.
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Get(srv.URL + "/"); err != nil {
		t.Errorf("GET /: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/console" {
			t.Errorf("GET / = %d → %q, want 302 → /console", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	curls := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "curl ") {
			curls++
			if !strings.Contains(line, srv.URL) || !strings.Contains(line, tok) {
				t.Errorf("curl line does not use the server URL %s and the PAT: %s", srv.URL, line)
			}
		}
	}
	if curls == 0 {
		t.Errorf("serve --dev printed no curl lines:\n%s", out)
	}
	ctx := ctxT(t)
	u, err := srv.C.UsersMe(ctx, tok)
	if err != nil || u.UserName == "" {
		t.Fatalf("dev PAT on /v1/users/me: %+v, %v", u, err)
	}
	p, err := srv.C.ListWorkspaces(ctx, tok, client.ListWorkspacesRequest{})
	if err != nil || p.TotalCount < 1 {
		t.Errorf("dev PAT on /v1/workspaces: %+v, %v", p, err)
	}
	t.Logf("dev user %q with %d workspace(s)", u.UserName, p.TotalCount)

	srv.stop()
	again := startServer(t, "dev server restarted", db, "--dev")
	out2, tok2 := devBanner(t, again)
	if tok2 != tok || !strings.Contains(out2, "reused from") {
		t.Errorf("restart printed PAT %s, want the first one %s reused:\n%s", tok2, tok, out2)
	}
	if _, err := again.C.UsersMe(ctx, tok2); err != nil {
		t.Errorf("reused dev PAT: %v", err)
	}

	res := runCLI(t, "", "serve", "--dev", "--addr", "0.0.0.0:0", "--db", sqliteDB(t))
	if res.code == 0 || !strings.Contains(res.stderr, "not a loopback address") || strings.Contains(res.stdout, "pat_") {
		t.Errorf("--dev on 0.0.0.0 must be refused before seeding:\n%v", res)
	}
}

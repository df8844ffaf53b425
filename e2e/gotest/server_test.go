package gotest

import (
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

// TestDevMode: `serve --dev` seeds demo data and prints a working PAT with
// curl lines.
func TestDevMode(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "dev server", sqliteDB(t), "--dev")
	// The banner is printed before the server listens; give the pipe a moment.
	var out, tok string
	eventually(2*time.Second, func() bool {
		out = srv.stdout.String()
		tok = regexp.MustCompile(`pat_[0-9A-Za-z_-]+`).FindString(out)
		return tok != "" && strings.Count(out, "curl ") >= 1
	})
	if tok == "" {
		t.Fatalf("serve --dev printed no PAT:\n%s", out)
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
}

package gotest

import (
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// TestReplicas runs two server processes on one database, as replicas behind
// a load balancer would: a PAT works on both, and a revocation made with the
// CLI reaches both within a second.
func TestReplicas(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runReplicas(t, b.newDB(t))
		})
	}
}

func runReplicas(t *testing.T, dsn string) {
	a := adm{t: t, db: dsn}
	a.user("alice")
	ws := a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	bot := &client.Resource{Type: "bot", ID: a.str("resource_id", "resource", "create", "--workspace", ws, "--type", "bot")}
	pat := a.createToken("pat", "--user", "alice", "--name", "shared", "--days", "1", "--workspaces", "all", "--permission", "Bot.chat")

	replicas := []*server{startServer(t, "replica-1", dsn), startServer(t, "replica-2", dsn)}
	ctx := ctxT(t)
	for _, r := range replicas {
		if _, err := r.C.UsersMe(ctx, pat.Token); err != nil {
			t.Fatalf("%s: users/me: %v", r.name, err)
		}
		if ok, err := r.C.CheckAuthz(ctx, pat.Token, "Bot.chat", bot); !ok || err != nil {
			t.Fatalf("%s: check: allowed=%v err=%v", r.name, ok, err)
		}
	}

	// A PAT created while both run (after each may have cached facts) works on both.
	late := a.createToken("pat", "--user", "alice", "--name", "late", "--days", "1", "--workspaces", "all", "--permission", "Bot.chat")
	for _, r := range replicas {
		d, ok := eventually(revocationBound, func() bool {
			allowed, err := r.C.CheckAuthz(ctx, late.Token, "Bot.chat", bot)
			return allowed && err == nil
		})
		if !ok || d > 50*time.Millisecond {
			t.Logf("%s: a PAT created while running was accepted after %v (ok=%v)", r.name, d, ok)
		}
		if !ok {
			t.Errorf("%s: a PAT created while running is not accepted within %v", r.name, revocationBound)
		}
	}

	// Revoke through the CLI; both replicas must answer 4100 within 1 s.
	cliStart := time.Now()
	a.changed("pat", "delete", "--id", pat.ID)
	cliDone := time.Now()
	var wg sync.WaitGroup
	delays := make([]time.Duration, len(replicas))
	oks := make([]bool, len(replicas))
	for i, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, oks[i] = eventually(revocationBound+500*time.Millisecond, func() bool {
				_, err := r.C.CheckAuthz(ctx, pat.Token, "Bot.chat", bot)
				return client.IsUnauthenticated(err)
			})
			delays[i] = time.Since(cliDone)
		}()
	}
	wg.Wait()
	for i, r := range replicas {
		t.Logf("%s: revocation seen %v after `pat delete` exited (CLI took %v)", r.name,
			delays[i].Round(time.Millisecond), cliDone.Sub(cliStart).Round(time.Millisecond))
		if !oks[i] || delays[i] > revocationBound {
			t.Errorf("%s: deleted PAT not refused with 4100 within %v (ok=%v after %v)", r.name, revocationBound, oks[i], delays[i])
		}
	}
	// The other PAT is untouched on both.
	for _, r := range replicas {
		if _, err := r.C.UsersMe(ctx, late.Token); err != nil {
			t.Errorf("%s: the PAT that was not deleted: %v", r.name, err)
		}
	}
	for _, r := range replicas {
		r.stop()
	}
}

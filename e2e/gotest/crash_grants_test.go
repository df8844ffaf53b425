package gotest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// TestKillDuringGrantBurst: kill -9 the server while clients are getting
// tokens; after a restart on the same database, every token a client
// received works (issue 13.2): a grant is answered only after its
// transaction commits. On SQLite and PostgreSQL.
func TestKillDuringGrantBurst(t *testing.T) {
	for _, b := range []struct {
		name string
		db   func(*testing.T) string
	}{{"sqlite", sqliteDB}, {"postgres", postgresDB}} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.db(t)
			a := adm{t: t, db: dsn}
			a.user("alice")
			app := a.app("jwt", "burst")
			key := a.genKey(app.ID)
			a.changed("app", "authorize", "--app", app.ID, "--user", "alice", "--workspaces", "all")
			// No rate limit: the burst is the point.
			srv := startServer(t, "burst", dsn, "--token-rate-limit", "0", "--token-client-rate-limit", "0")

			var mu sync.Mutex
			var received []string
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						tok, err := srv.C.JWTToken(ctx, client.JWTRequest{ClientID: app.ClientID, KeyID: key.ID, PrivateKeyPEM: key.PrivateKey})
						if err != nil {
							return // the server is gone
						}
						mu.Lock()
						received = append(received, tok.AccessToken)
						mu.Unlock()
					}
				}()
			}
			// Kill once the burst is well under way, with requests in flight.
			if _, ok := eventually(30*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(received) >= 200
			}); !ok {
				t.Fatalf("only %d tokens in 30 s", len(received))
			}
			srv.kill()
			wg.Wait()
			mu.Lock()
			got := append([]string(nil), received...)
			mu.Unlock()

			again := startServer(t, "after kill -9", dsn)
			lost := 0
			for _, tok := range got {
				if r := raw(t, http.MethodGet, again.URL+"/v1/users/me", "Bearer "+tok, ""); r.status != http.StatusOK {
					lost++
				}
			}
			if lost > 0 {
				t.Errorf("%d of the %d tokens clients received before kill -9 do not work after the restart", lost, len(got))
			}
			t.Logf("%d tokens received before kill -9; all work after the restart", len(got))
		})
	}
}

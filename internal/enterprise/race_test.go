package enterprise_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// TestMigrationRace races a migration with token issuance (JWT grants on the
// account path, new PATs) and verification in one process. Once Migrate has
// returned, no personal credential — issued before, during or after — may
// reach the migrated workspace, and the enterprise PAT must; before the
// migration began the enterprise PAT must not. Run with -race.
func TestMigrationRace(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	app := w.jwtApp(w.alice, "Bot.chat")
	if _, err := w.oa.AuthorizeApp(ctx, app.app.ID, w.alice.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	_, enterpriseTok := w.pat(w.alice, w.acme.ID, true, nil, "Bot.chat")
	_, personalTok := w.pat(w.alice, "", true, nil, "Bot.chat")

	// phase: 0 before the migration starts, 1 while it runs, 2 after it returned.
	var phase atomic.Int32
	var tokens sync.Map // personal token → struct{}
	tokens.Store(personalTok, struct{}{})
	// A check is "before" when it ended before the migration began and
	// "after" when it began after Migrate returned; checks overlapping the
	// migration may go either way.
	type observation struct {
		phase    int32 // 0: before, 2: after, 1: overlapping
		personal bool
		code     permission.Code
	}
	var mu sync.Mutex
	var seen []observation
	observe := func(tok string, personal bool) {
		began := phase.Load()
		code, err := w.check(tok, "Bot.chat", "bot", "bot")
		if err != nil {
			t.Errorf("check: %v", err)
			return
		}
		p := int32(1)
		if ended := phase.Load(); ended == 0 {
			p = 0
		} else if began == 2 {
			p = 2
		}
		mu.Lock()
		seen = append(seen, observation{p, personal, code})
		mu.Unlock()
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	// loop runs step on its own goroutine until stop, or until step fails
	// (steps report with t.Errorf: t.Fatal must stay on the test goroutine).
	loop := func(step func() bool) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !step() {
					return
				}
			}
		})
	}
	// Issuers: JWT tokens in alice's personal account, and personal PATs.
	loop(func() bool {
		tok, err := w.token(app, "/account/"+w.alice.AccountID+"/token")
		if err != nil {
			t.Errorf("issuing a JWT token: %v", err)
			return false
		}
		tokens.Store(tok, struct{}{})
		return true
	})
	loop(func() bool {
		c, err := w.creds.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "racer", UserID: w.alice.ID,
			Expiry: credential.Expiry{Days: 1}, Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
		if err != nil {
			t.Errorf("creating a PAT: %v", err)
			return false
		}
		tokens.Store(c.Token, struct{}{})
		return true
	})
	// Verifiers: every personal token seen so far, and the enterprise PAT.
	for range 3 {
		loop(func() bool {
			tokens.Range(func(k, _ any) bool {
				observe(k.(string), true)
				return true
			})
			observe(enterpriseTok, false)
			return true
		})
	}

	time.Sleep(150 * time.Millisecond)
	plan, err := w.ent.PlanMigration(ctx, []string{w.ws.ID}, w.acme.ID, w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	phase.Store(1)
	if err := w.ent.Migrate(ctx, plan); err != nil {
		t.Fatal(err)
	}
	phase.Store(2)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	// Tokens issued at any time, checked once more now.
	tokens.Range(func(k, _ any) bool {
		observe(k.(string), true)
		return true
	})
	counts := map[[2]int32]int{}
	for _, o := range seen {
		key := [2]int32{o.phase, int32(o.code)}
		if o.personal {
			counts[key]++
		}
		switch {
		case o.phase == 2 && o.personal && o.code != permission.Forbidden:
			t.Errorf("after the migration a personal credential got %d", o.code)
		case o.phase == 2 && !o.personal && o.code != permission.Allowed:
			t.Errorf("after the migration the enterprise PAT got %d", o.code)
		case o.phase == 0 && o.personal && o.code != permission.Allowed:
			t.Errorf("before the migration a personal credential got %d", o.code)
		case o.phase == 0 && !o.personal && o.code != permission.Forbidden:
			t.Errorf("before the migration the enterprise PAT got %d", o.code)
		}
	}
	if counts[[2]int32{0, 0}] == 0 || counts[[2]int32{2, int32(permission.Forbidden)}] == 0 {
		t.Fatalf("the race did not exercise both sides: %v", counts)
	}
	n := 0
	tokens.Range(func(_, _ any) bool { n++; return true })
	t.Logf("%d personal tokens issued, %d checks; personal checks by (phase, code): %v", n, len(seen), counts)
}

package storetest

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runSessions checks browser sessions: create, get until expiry, delete,
// garbage collection, and that none of it moves the revision.
func runSessions(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"CreateGet", testSessionCreateGet},
		{"Invalid", testSessionInvalid},
		{"Expiry", testSessionExpiry},
		{"Delete", testSessionDelete},
		{"DeleteExpired", testSessionDeleteExpired},
		{"Flash", testSessionFlash},
		{"FlashTakenOnce", testSessionFlashTakenOnce},
		{"DeleteUserSessions", testDeleteUserSessions},
	})
}

func (f *fixture) session(userID string, ttl int64) store.Session {
	f.t.Helper()
	now := f.tick()
	se := store.Session{IDHash: tokenHash("session " + store.NewID()), UserID: userID,
		CSRFSecret: tokenHash("csrf " + store.NewID()), CreatedAt: now, ExpiresAt: now + ttl}
	if err := f.s.CreateSession(f.ctx, se); err != nil {
		f.t.Fatalf("CreateSession: %v", err)
	}
	return se
}

func testSessionCreateGet(t *testing.T, f *fixture) {
	u := f.user("alice")
	rev := f.revision()
	se := f.session(u.ID, 3600)
	if got := f.revision(); got != rev {
		t.Errorf("CreateSession moved the revision %d → %d", rev, got)
	}
	got, err := f.s.GetSession(f.ctx, se.IDHash, se.CreatedAt)
	if checkErr(t, "GetSession", err, nil) {
		checkEqual(t, "GetSession", got, se)
	}
	_, err = f.s.GetSession(f.ctx, tokenHash("unknown"), se.CreatedAt)
	checkErr(t, "GetSession(unknown)", err, store.ErrNotFound)
	// The same ID hash twice is refused.
	err = f.s.CreateSession(f.ctx, se)
	checkErr(t, "CreateSession(duplicate)", err, store.ErrAlreadyExists)
}

func testSessionInvalid(t *testing.T, f *fixture) {
	u := f.user("alice")
	now := f.tick()
	for _, tc := range []struct {
		name string
		se   store.Session
	}{
		{"no ID hash", store.Session{UserID: u.ID, CSRFSecret: "s", CreatedAt: now, ExpiresAt: now + 1}},
		{"no user", store.Session{IDHash: tokenHash("a"), CSRFSecret: "s", CreatedAt: now, ExpiresAt: now + 1}},
		{"no CSRF secret", store.Session{IDHash: tokenHash("b"), UserID: u.ID, CreatedAt: now, ExpiresAt: now + 1}},
		{"unknown user", store.Session{IDHash: tokenHash("c"), UserID: store.NewID(), CSRFSecret: "s", CreatedAt: now, ExpiresAt: now + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, "CreateSession", f.s.CreateSession(f.ctx, tc.se), store.ErrInvalid)
		})
	}
}

func testSessionExpiry(t *testing.T, f *fixture) {
	u := f.user("alice")
	se := f.session(u.ID, 100)
	for _, tc := range []struct {
		name string
		now  int64
		want error
	}{
		{"just created", se.CreatedAt, nil},
		{"a second before expiry", se.ExpiresAt - 1, nil},
		{"at expiry", se.ExpiresAt, store.ErrNotFound},
		{"after expiry", se.ExpiresAt + 1000, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.GetSession(f.ctx, se.IDHash, tc.now)
			checkErr(t, "GetSession", err, tc.want)
		})
	}
}

func testSessionDelete(t *testing.T, f *fixture) {
	u := f.user("alice")
	a, b := f.session(u.ID, 3600), f.session(u.ID, 3600)
	checkErr(t, "DeleteSession", f.s.DeleteSession(f.ctx, a.IDHash), nil)
	_, err := f.s.GetSession(f.ctx, a.IDHash, a.CreatedAt)
	checkErr(t, "GetSession(deleted)", err, store.ErrNotFound)
	checkErr(t, "DeleteSession again", f.s.DeleteSession(f.ctx, a.IDHash), store.ErrNotFound)
	// The user's other session is untouched.
	_, err = f.s.GetSession(f.ctx, b.IDHash, b.CreatedAt)
	checkErr(t, "GetSession(other)", err, nil)
}

func testSessionDeleteExpired(t *testing.T, f *fixture) {
	u := f.user("alice")
	short1, short2 := f.session(u.ID, 10), f.session(u.ID, 20)
	long := f.session(u.ID, 1000)
	now := short2.ExpiresAt // short2 expires exactly now: it goes too
	rev := f.revision()
	n, err := f.s.DeleteExpiredSessions(f.ctx, now)
	if checkErr(t, "DeleteExpiredSessions", err, nil) && n != 2 {
		t.Errorf("DeleteExpiredSessions removed %d rows, want 2", n)
	}
	if got := f.revision(); got != rev {
		t.Errorf("DeleteExpiredSessions moved the revision %d → %d", rev, got)
	}
	for _, se := range []store.Session{short1, short2} {
		// Read with an old clock: the row itself must be gone.
		_, err := f.s.GetSession(f.ctx, se.IDHash, se.CreatedAt)
		checkErr(t, "GetSession(collected)", err, store.ErrNotFound)
	}
	_, err = f.s.GetSession(f.ctx, long.IDHash, now)
	checkErr(t, "GetSession(live)", err, nil)
	n, err = f.s.DeleteExpiredSessions(f.ctx, now)
	if checkErr(t, "DeleteExpiredSessions again", err, nil) && n != 0 {
		t.Errorf("DeleteExpiredSessions again removed %d rows, want 0", n)
	}
}

// testSessionFlash: a flash is taken once, belongs to its session, and a new
// one replaces the old.
func testSessionFlash(t *testing.T, f *fixture) {
	u := f.user("alice")
	a, b := f.session(u.ID, 3600), f.session(u.ID, 3600)
	rev := f.revision()
	take := func(what, idHash, want string) {
		t.Helper()
		got, err := f.s.TakeSessionFlash(f.ctx, idHash)
		if checkErr(t, what, err, nil) && got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	take("TakeSessionFlash before any", a.IDHash, "")
	checkErr(t, "SetSessionFlash", f.s.SetSessionFlash(f.ctx, a.IDHash, "one"), nil)
	checkErr(t, "SetSessionFlash again", f.s.SetSessionFlash(f.ctx, a.IDHash, "two"), nil)
	take("TakeSessionFlash of another session", b.IDHash, "")
	take("TakeSessionFlash", a.IDHash, "two")
	take("TakeSessionFlash twice", a.IDHash, "")
	take("TakeSessionFlash of no session", tokenHash("unknown"), "")
	checkErr(t, "SetSessionFlash of no session", f.s.SetSessionFlash(f.ctx, tokenHash("unknown"), "x"), store.ErrNotFound)
	if got := f.revision(); got != rev {
		t.Errorf("flashes moved the revision %d → %d", rev, got)
	}
	// The session itself is unchanged by its flash.
	got, err := f.s.GetSession(f.ctx, a.IDHash, a.CreatedAt)
	if checkErr(t, "GetSession", err, nil) {
		checkEqual(t, "GetSession", got, a)
	}
}

// testSessionFlashTakenOnce: of concurrent takers exactly one gets the flash.
func testSessionFlashTakenOnce(t *testing.T, f *fixture) {
	u := f.user("alice")
	se := f.session(u.ID, 3600)
	for round := range 5 {
		checkErr(t, "SetSessionFlash", f.s.SetSessionFlash(f.ctx, se.IDHash, "secret"), nil)
		var got atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				v, err := f.s.TakeSessionFlash(f.ctx, se.IDHash)
				if err != nil {
					t.Errorf("TakeSessionFlash: %v", err)
				}
				if v == "secret" {
					got.Add(1)
				}
			})
		}
		wg.Wait()
		if n := got.Load(); n != 1 {
			t.Errorf("round %d: %d concurrent takers got the flash, want 1", round, n)
		}
	}
}

func testDeleteUserSessions(t *testing.T, f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	keep, other1, other2 := f.session(alice.ID, 3600), f.session(alice.ID, 3600), f.session(alice.ID, 3600)
	bobs := f.session(bob.ID, 3600)
	n, err := f.s.DeleteUserSessions(f.ctx, alice.ID, keep.IDHash)
	if err != nil || n != 2 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 2", n, err)
	}
	now := f.tick()
	for _, tc := range []struct {
		name string
		se   store.Session
		live bool
	}{{"kept", keep, true}, {"other 1", other1, false}, {"other 2", other2, false}, {"bob's", bobs, true}} {
		_, err := f.s.GetSession(f.ctx, tc.se.IDHash, now)
		if live := err == nil; live != tc.live {
			t.Errorf("%s session: live = %v (%v), want %v", tc.name, live, err, tc.live)
		}
	}
	if n, err := f.s.DeleteUserSessions(f.ctx, alice.ID, ""); err != nil || n != 1 {
		t.Errorf("DeleteUserSessions keeping none = %d, %v; want 1", n, err)
	}
}

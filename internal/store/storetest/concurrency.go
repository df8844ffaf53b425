package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runConcurrency checks what several server processes writing one database at
// once rely on: read-modify-write loses nothing, unique keys stay unique,
// upserts do not fail on each other, readers never see half an update.
func runConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"UpdateCredentialLosesNothing", testConcurrentUpdates},
		{"UniqueKeys", testConcurrentUniqueKeys},
		{"PutSameMember", testConcurrentPutMember},
		{"DeleteAndTouch", testConcurrentDeleteTouch},
		{"RevisionLosesNothing", testConcurrentRevision},
		{"ReadsSeeWholeUpdates", testConcurrentReads},
	})
}

const (
	workers = 8
	rounds  = 20
)

// parallel runs fn(0) … fn(n-1) on n goroutines released together and waits
// for all of them. fn must report failures with t.Errorf, never t.Fatal.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func counterName(n int) string { return "n=" + strconv.Itoa(n) }

func parseCounter(name string) (int, error) {
	return strconv.Atoi(strings.TrimPrefix(name, "n="))
}

// testConcurrentUpdates has workers × rounds updates increment a counter kept
// in the name; with a real read-modify-write transaction none is lost. The
// workspace list flips with the counter, so updates also rewrite the
// credential's workspace rows on top of each other.
func testConcurrentUpdates(t *testing.T, f *fixture) {
	alice := f.user("alice")
	wsA := f.workspace("A", alice.Account(), alice.ID)
	wsB := f.workspace("B", alice.Account(), alice.ID)
	workspacesFor := func(n int) []string {
		if n%2 == 0 {
			return []string{wsA.ID}
		}
		return []string{wsA.ID, wsB.ID}
	}
	c := f.credential(store.Credential{UserID: alice.ID, Owner: alice.Account(), Name: counterName(0), WorkspaceIDs: workspacesFor(0)})

	var mu sync.Mutex
	seen := map[int]bool{}
	parallel(workers, func(int) {
		for range rounds {
			got, err := f.s.UpdateCredential(f.ctx, c.ID, func(old store.Credential) (store.Credential, error) {
				n, err := parseCounter(old.Name)
				if err != nil {
					return old, err
				}
				old.Name = counterName(n + 1)
				old.WorkspaceIDs = workspacesFor(n + 1)
				return old, nil
			})
			if err != nil {
				t.Errorf("UpdateCredential: %v", err)
				return
			}
			n, err := parseCounter(got.Name)
			if err != nil {
				t.Errorf("UpdateCredential returned name %q: %v", got.Name, err)
				return
			}
			mu.Lock()
			if seen[n] {
				t.Errorf("two updates both produced counter %d", n)
			}
			seen[n] = true
			mu.Unlock()
		}
	})

	want := c
	want.Name = counterName(workers * rounds)
	want.WorkspaceIDs = workspacesFor(workers * rounds)
	checkCredential(t, "credential after concurrent updates", f.getCredential(c.ID), want)
	if len(seen) != workers*rounds {
		t.Errorf("%d distinct counter values returned, want %d", len(seen), workers*rounds)
	}
}

// testConcurrentUniqueKeys has every worker create a record with the same key:
// exactly one succeeds, the others get ErrAlreadyExists.
func testConcurrentUniqueKeys(t *testing.T, f *fixture) {
	alice := f.user("alice")
	users := make([]store.User, workers)
	sameAccount := make([]store.User, workers)
	creds := make([]store.Credential, workers)
	workspaces := make([]store.Workspace, workers)
	enterprises := make([]store.Enterprise, workers)
	wsID, entID, hash := store.NewID(), store.NewID(), tokenHash("pat_"+store.NewID())
	for i := range workers {
		users[i] = f.newUser("same")
		sameAccount[i] = f.newUser(fmt.Sprintf("account%d", i))
		sameAccount[i].ID = sameAccount[0].ID // the account ID is the user ID
		sameAccount[i].AccountID = sameAccount[0].AccountID
		creds[i] = f.newCredential(store.Credential{TokenHash: hash, UserID: alice.ID, Owner: alice.Account()})
		workspaces[i] = f.newWorkspace(fmt.Sprintf("ws%d", i), alice.Account())
		workspaces[i].ID = wsID
		enterprises[i] = store.Enterprise{ID: entID, Name: fmt.Sprintf("ent%d", i), CreatedAt: f.tick()}
	}

	for _, tc := range []struct {
		name   string
		create func(i int) error
		check  func(t *testing.T)
	}{
		{"username", func(i int) error { return f.s.CreateUser(f.ctx, users[i]) }, func(t *testing.T) {
			u, err := f.s.GetUserByUsername(f.ctx, "same")
			if checkErr(t, "GetUserByUsername", err, nil) && !slices.Contains(users, u) {
				t.Errorf("stored user %+v is none of those created", u)
			}
		}},
		{"account ID", func(i int) error { return f.s.CreateUser(f.ctx, sameAccount[i]) }, func(t *testing.T) {
			_, err := f.s.GetUserByAccountID(f.ctx, sameAccount[0].AccountID)
			checkErr(t, "GetUserByAccountID", err, nil)
		}},
		{"token hash", func(i int) error { return f.s.CreateCredential(f.ctx, creds[i]) }, func(t *testing.T) {
			cs, err := f.s.ListCredentials(f.ctx, store.CredentialFilter{})
			if checkErr(t, "ListCredentials", err, nil) && len(cs) != 1 {
				t.Errorf("%d credentials stored, want 1", len(cs))
			}
		}},
		{"workspace ID with owner member", func(i int) error {
			w := workspaces[i]
			return f.s.CreateWorkspace(f.ctx, w, &store.WorkspaceMember{WorkspaceID: w.ID, UserID: alice.ID, Role: store.WorkspaceRoleOwner, CreatedAt: w.CreatedAt})
		}, func(t *testing.T) {
			mws, err := f.s.ListMemberWorkspaces(f.ctx, alice.ID)
			if checkErr(t, "ListMemberWorkspaces", err, nil) && len(mws) != 1 {
				t.Errorf("alice is a member of %d workspaces, want 1", len(mws))
			}
		}},
		{"enterprise ID with super admin", func(i int) error { return f.s.CreateEnterprise(f.ctx, enterprises[i], alice.ID) }, func(t *testing.T) {
			ms, err := f.s.ListUserEnterprises(f.ctx, alice.ID)
			if checkErr(t, "ListUserEnterprises", err, nil) && len(ms) != 1 {
				t.Errorf("alice is a member of %d enterprises, want 1", len(ms))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ok, exists atomic.Int32
			parallel(workers, func(i int) {
				switch err := tc.create(i); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrAlreadyExists):
					exists.Add(1)
				default:
					t.Errorf("create %d: %v, want nil or ErrAlreadyExists", i, err)
				}
			})
			if ok.Load() != 1 || exists.Load() != workers-1 {
				t.Errorf("%d succeeded and %d got ErrAlreadyExists, want 1 and %d", ok.Load(), exists.Load(), workers-1)
			}
			tc.check(t)
		})
	}
}

// testConcurrentPutMember has workers put the same new member at once, as two
// admins adding the same person would: "add or change the role" must not fail
// because another put won the race to insert.
func testConcurrentPutMember(t *testing.T, f *fixture) {
	root := f.user("root")
	e := f.enterprise("Acme", root.ID)
	w := f.workspace("Home", root.Account(), root.ID)
	entRoles := []store.EnterpriseRole{store.RoleAdmin, store.RoleMember, store.RoleGuest}
	wsRoles := []store.WorkspaceRole{store.WorkspaceRoleAdmin, store.WorkspaceRoleMember}

	for r := range 5 {
		u := f.user(fmt.Sprintf("user%d", r))
		at := f.tick()
		parallel(workers, func(i int) {
			if err := f.s.PutEnterpriseMember(f.ctx, store.EnterpriseMember{EnterpriseID: e.ID, UserID: u.ID, Role: entRoles[i%len(entRoles)], CreatedAt: at}); err != nil {
				t.Errorf("PutEnterpriseMember %d: %v", i, err)
			}
			if err := f.s.PutWorkspaceMember(f.ctx, store.WorkspaceMember{WorkspaceID: w.ID, UserID: u.ID, Role: wsRoles[i%len(wsRoles)], CreatedAt: at}); err != nil {
				t.Errorf("PutWorkspaceMember %d: %v", i, err)
			}
		})
		em, err := f.s.GetEnterpriseMember(f.ctx, e.ID, u.ID)
		if checkErr(t, "GetEnterpriseMember", err, nil) && !slices.Contains(entRoles, em.Role) {
			t.Errorf("enterprise role %q is none of those put", em.Role)
		}
		wm, err := f.s.GetWorkspaceMember(f.ctx, w.ID, u.ID)
		if checkErr(t, "GetWorkspaceMember", err, nil) && !slices.Contains(wsRoles, wm.Role) {
			t.Errorf("workspace role %q is none of those put", wm.Role)
		}
	}
	ms, err := f.s.ListEnterpriseMembers(f.ctx, e.ID)
	if checkErr(t, "ListEnterpriseMembers", err, nil) && len(ms) != 6 {
		t.Errorf("%d enterprise members, want 6", len(ms))
	}
}

// testConcurrentDeleteTouch deletes credentials while last-used batches for
// them are flushed: touching a deleted credential is not an error, and each
// credential is deleted exactly once.
func testConcurrentDeleteTouch(t *testing.T, f *fixture) {
	alice := f.user("alice")
	w := f.workspace("Home", alice.Account(), alice.ID)
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = f.credential(store.Credential{UserID: alice.ID, Owner: alice.Account(), WorkspaceIDs: []string{w.ID}}).ID
	}
	batches := make([]map[string]int64, rounds)
	for r := range batches {
		at := f.tick()
		batches[r] = make(map[string]int64, n)
		for _, id := range ids {
			batches[r][id] = at
		}
	}

	var deleted [n]atomic.Int32
	parallel(workers, func(i int) {
		if i%2 == 1 {
			for r, b := range batches {
				if err := f.s.TouchCredentials(f.ctx, b); err != nil {
					t.Errorf("TouchCredentials worker %d batch %d: %v", i, r, err)
				}
			}
			return
		}
		// Deleters start at different credentials so they collide.
		for k := range n {
			j := (k + i*n/workers) % n
			switch err := f.s.DeleteCredential(f.ctx, ids[j]); {
			case err == nil:
				deleted[j].Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("DeleteCredential: %v, want nil or ErrNotFound", err)
			}
		}
	})
	for j, id := range ids {
		if got := deleted[j].Load(); got != 1 {
			t.Errorf("credential %d deleted %d times, want 1", j, got)
		}
		_, err := f.s.GetCredential(f.ctx, id)
		checkErr(t, "GetCredential after delete", err, store.ErrNotFound)
	}
	cs, err := f.s.ListCredentials(f.ctx, store.CredentialFilter{})
	if checkErr(t, "ListCredentials", err, nil) && len(cs) != 0 {
		t.Errorf("%d credentials left, want 0", len(cs))
	}
}

// testConcurrentRevision has workers update their own credentials at once:
// every security-relevant write advances the shared revision; none is lost.
func testConcurrentRevision(t *testing.T, f *fixture) {
	alice := f.user("alice")
	ids := make([]string, workers)
	for i := range ids {
		ids[i] = f.credential(store.Credential{UserID: alice.ID, Owner: alice.Account()}).ID
	}
	before := f.revision()
	parallel(workers, func(i int) {
		for r := range rounds {
			_, err := f.s.UpdateCredential(f.ctx, ids[i], func(c store.Credential) (store.Credential, error) {
				c.Name = fmt.Sprintf("worker %d round %d", i, r)
				return c, nil
			})
			if err != nil {
				t.Errorf("UpdateCredential: %v", err)
			}
		}
	})
	if after := f.revision(); after < before+workers*rounds {
		t.Errorf("revision %d → %d after %d updates, want it to advance by at least %d", before, after, workers*rounds, workers*rounds)
	}
}

// testConcurrentReads reads a credential while it flips between two states
// that differ in name, permissions and workspaces: every read must return one
// of the two whole, never old permissions with new workspaces.
func testConcurrentReads(t *testing.T, f *fixture) {
	alice := f.user("alice")
	wsA := f.workspace("A", alice.Account(), alice.ID)
	wsB := f.workspace("B", alice.Account(), alice.ID)
	wsC := f.workspace("C", alice.Account(), alice.ID)
	c := f.credential(store.Credential{
		UserID: alice.ID, Owner: alice.Account(), Name: "state A",
		Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{wsA.ID},
	})
	stateA := wantCredential(c)
	stateB := c
	stateB.Name, stateB.Permissions, stateB.WorkspaceIDs = "state B", []string{"Bot.publish", "Workspace.listWorkspace"}, []string{wsB.ID, wsC.ID}
	stateB = wantCredential(stateB)
	isWhole := func(got store.Credential) bool {
		got = gotCredential(got)
		return reflectEqual(got, stateA) || reflectEqual(got, stateB)
	}

	done := make(chan struct{})
	parallel(workers, func(i int) {
		if i == 0 {
			defer close(done)
			for r := range 2 * rounds {
				next := stateA
				if r%2 == 0 {
					next = stateB
				}
				if _, err := f.s.UpdateCredential(f.ctx, c.ID, func(store.Credential) (store.Credential, error) { return next, nil }); err != nil {
					t.Errorf("UpdateCredential: %v", err)
					return
				}
			}
			return
		}
		for {
			select {
			case <-done:
				return
			default:
			}
			var got store.Credential
			var err error
			if i%2 == 0 {
				got, err = f.s.GetCredential(f.ctx, c.ID)
			} else {
				got, err = f.s.GetCredentialByHash(f.ctx, c.TokenHash)
			}
			if err != nil {
				t.Errorf("read during updates: %v", err)
				return
			}
			if !isWhole(got) {
				t.Errorf("read during updates returned a mix of two states: %+v", got)
				return
			}
		}
	})
}

// Package storetest is the conformance suite every store.Store backend runs
// (after dex's storage/conformance): SQLite and PostgreSQL are held to one set of
// expectations, so neither can drift from the other unnoticed.
//
// The suite is split like dex's: CRUD (crud.go), transactions — atomicity and
// the revision counter (transactions.go) — and concurrency (concurrency.go),
// plus the pool part (pool.go): no request may need a second connection while
// its transaction holds one.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Run runs the whole suite. open must return a fresh, empty, migrated store and
// close it in a t.Cleanup; Run calls it once per subtest, so subtests share no
// rows. openPool is open with a pool of at most conns connections (the
// pool part, pool.go).
func Run(t *testing.T, open func(t *testing.T) store.Store, openPool func(t *testing.T, conns int) store.Store) {
	t.Helper()
	t.Run("CRUD", func(t *testing.T) { runCRUD(t, open) })
	t.Run("Transactions", func(t *testing.T) { runTransactions(t, open) })
	t.Run("Concurrency", func(t *testing.T) { runConcurrency(t, open) })
	t.Run("OAuth", func(t *testing.T) { runOAuth(t, open) })
	t.Run("Sessions", func(t *testing.T) { runSessions(t, open) })
	t.Run("Enterprise", func(t *testing.T) { runEnterprise(t, open) })
	t.Run("Pool", func(t *testing.T) { runPool(t, openPool) })
	t.Run("Gateway", func(t *testing.T) { runGateway(t, open) })
}

type subTest struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// runTests runs each test as a subtest on its own fresh store.
func runTests(t *testing.T, open func(t *testing.T) store.Store, tests []subTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newFixture(t, open(t)))
		})
	}
}

// baseTime is where the fixture's clock starts; the suite never reads the wall
// clock.
const baseTime int64 = 1_700_000_000

// fixture is a store plus a fixed, strictly increasing clock and helpers that
// create valid records or fail the test.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	s     store.Store
	clock *int64
}

func newFixture(t *testing.T, s store.Store) *fixture {
	now := baseTime
	return &fixture{t: t, ctx: t.Context(), s: s, clock: &now}
}

// sub returns the fixture for a subtest: same store and clock, but failures
// go to t (FailNow must run on the subtest's own goroutine).
func (f *fixture) sub(t *testing.T) *fixture {
	return &fixture{t: t, ctx: f.ctx, s: f.s, clock: f.clock}
}

// tick advances the clock by a second, so records made one after another have
// distinct, increasing times. Only the test's goroutine may call it.
func (f *fixture) tick() int64 {
	*f.clock++
	return *f.clock
}

// newUser returns a valid user that is not stored yet.
func (f *fixture) newUser(username string) store.User {
	id := store.NewID()
	return store.User{
		ID:           id,
		Username:     username,
		Nickname:     "Nick " + username,
		AvatarURL:    "https://example.com/avatars/" + username + ".png",
		PasswordHash: "$2a$10$hash-of-" + username,
		AccountID:    id,
		CreatedAt:    f.tick(),
	}
}

func (f *fixture) user(username string) store.User {
	f.t.Helper()
	u := f.newUser(username)
	if err := f.s.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("CreateUser(%q): %v", username, err)
	}
	return u
}

// enterprise creates an enterprise; superAdmin may be "".
func (f *fixture) enterprise(name, superAdmin string) store.Enterprise {
	f.t.Helper()
	e := store.Enterprise{ID: store.NewID(), Name: name, CreatedAt: f.tick()}
	if err := f.s.CreateEnterprise(f.ctx, e, superAdmin); err != nil {
		f.t.Fatalf("CreateEnterprise(%q): %v", name, err)
	}
	return e
}

func (f *fixture) newWorkspace(name string, owner store.Owner) store.Workspace {
	return store.Workspace{
		ID:        store.NewID(),
		Name:      name,
		IconURL:   "https://example.com/icons/" + name + ".png",
		Owner:     owner,
		CreatedAt: f.tick(),
	}
}

// workspace creates a workspace; when ownerUser is not "" that user becomes its
// owner member in the same call.
func (f *fixture) workspace(name string, owner store.Owner, ownerUser string) store.Workspace {
	f.t.Helper()
	w := f.newWorkspace(name, owner)
	var m *store.WorkspaceMember
	if ownerUser != "" {
		m = &store.WorkspaceMember{WorkspaceID: w.ID, UserID: ownerUser, Role: store.WorkspaceRoleOwner, CreatedAt: w.CreatedAt}
	}
	if err := f.s.CreateWorkspace(f.ctx, w, m); err != nil {
		f.t.Fatalf("CreateWorkspace(%q): %v", name, err)
	}
	return w
}

func (f *fixture) putWorkspaceMember(workspaceID, userID string, role store.WorkspaceRole) store.WorkspaceMember {
	f.t.Helper()
	m := store.WorkspaceMember{WorkspaceID: workspaceID, UserID: userID, Role: role, CreatedAt: f.tick()}
	if err := f.s.PutWorkspaceMember(f.ctx, m); err != nil {
		f.t.Fatalf("PutWorkspaceMember(%+v): %v", m, err)
	}
	return m
}

func (f *fixture) putEnterpriseMember(enterpriseID, userID string, role store.EnterpriseRole) store.EnterpriseMember {
	f.t.Helper()
	m := store.EnterpriseMember{EnterpriseID: enterpriseID, UserID: userID, Role: role, CreatedAt: f.tick()}
	if err := f.s.PutEnterpriseMember(f.ctx, m); err != nil {
		f.t.Fatalf("PutEnterpriseMember(%+v): %v", m, err)
	}
	return m
}

// newCredential completes c (which must name a UserID and an Owner) into a
// valid credential that is not stored yet: empty ID, token hash, kind and name
// are filled in, zero times are set from the clock.
func (f *fixture) newCredential(c store.Credential) store.Credential {
	if c.ID == "" {
		c.ID = store.NewID()
	}
	if c.TokenHash == "" {
		c.TokenHash = tokenHash("pat_" + store.NewID())
	}
	if c.Kind == "" {
		c.Kind = store.KindPAT
	}
	if c.Name == "" {
		c.Name = "credential " + c.ID
	}
	if c.CreatedAt == 0 {
		c.CreatedAt = f.tick()
	}
	if c.UpdatedAt == 0 {
		c.UpdatedAt = c.CreatedAt
	}
	return c
}

func (f *fixture) credential(c store.Credential) store.Credential {
	f.t.Helper()
	c = f.newCredential(c)
	if err := f.s.CreateCredential(f.ctx, c); err != nil {
		f.t.Fatalf("CreateCredential(%q): %v", c.Name, err)
	}
	return c
}

func (f *fixture) revision() int64 {
	f.t.Helper()
	r, err := f.s.Revision(f.ctx)
	if err != nil {
		f.t.Fatalf("Revision: %v", err)
	}
	return r
}

// getCredential reads a credential that must exist.
func (f *fixture) getCredential(id string) store.Credential {
	f.t.Helper()
	c, err := f.s.GetCredential(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetCredential(%s): %v", id, err)
	}
	return c
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// checkErr reports whether err matches want (nil means success expected) and
// records a test error when it does not.
func checkErr(t *testing.T, what string, err, want error) bool {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: unexpected error: %v", what, err)
			return false
		}
		return true
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
		return false
	}
	return true
}

func reflectEqual[T any](a, b T) bool { return reflect.DeepEqual(a, b) }

func checkEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflectEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// checkList compares lists, treating nil and empty as equal.
func checkList[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	checkEqual(t, what, got, want)
}

// wantCredential is what reading c back must return: workspace IDs sorted and
// without duplicates, nil slices as empty ones.
func wantCredential(c store.Credential) store.Credential {
	c.Permissions = append([]string{}, c.Permissions...)
	ws := append([]string{}, c.WorkspaceIDs...)
	slices.Sort(ws)
	c.WorkspaceIDs = slices.Compact(ws)
	return c
}

// gotCredential turns nil slices into empty ones and changes nothing else, so
// an unsorted result still fails.
func gotCredential(c store.Credential) store.Credential {
	if c.Permissions == nil {
		c.Permissions = []string{}
	}
	if c.WorkspaceIDs == nil {
		c.WorkspaceIDs = []string{}
	}
	return c
}

func checkCredential(t *testing.T, what string, got, want store.Credential) {
	t.Helper()
	checkEqual(t, what, gotCredential(got), wantCredential(want))
}

// credentialIDs returns the IDs of cs in order.
func credentialIDs(cs []store.Credential) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

package credential

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

var fixedNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func TestExpiryResolve(t *testing.T) {
	now := fixedNow
	tests := []struct {
		name    string
		e       Expiry
		want    int64
		wantErr string
	}{
		{"1 day", Expiry{Days: 1}, now.Unix() + 86400, ""},
		{"365 days", Expiry{Days: 365}, now.Unix() + 365*86400, ""},
		{"permanent", Expiry{Permanent: true}, 0, ""},
		{"custom", Expiry{At: now.Unix() + 10}, now.Unix() + 10, ""},
		{"7 days not offered", Expiry{Days: 7}, 0, "not offered"},
		{"negative days", Expiry{Days: -1}, 0, "not offered"},
		{"custom in the past", Expiry{At: now.Unix()}, 0, "not in the future"},
		{"nothing chosen", Expiry{}, 0, "choose an expiry"},
		{"two chosen", Expiry{Days: 30, Permanent: true}, 0, "only one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.e.Resolve(now)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(PrefixPAT), NewToken(PrefixPAT)
	if a == b || !strings.HasPrefix(a, "pat_") || len(a) != 68 || !wellFormed(a) {
		t.Fatalf("tokens %q %q", a, b)
	}
	if k, ok := KindOf(NewToken(PrefixSAT)); !ok || k != store.KindSAT {
		t.Fatalf("KindOf(sat) = %v %v", k, ok)
	}
	if _, ok := KindOf("Bearer x"); ok {
		t.Fatal("KindOf accepted junk")
	}
	if wellFormed("pat_" + strings.Repeat("g", 64)) {
		t.Fatal("wellFormed accepted non-hex")
	}
	if Hash(a) == Hash(b) || !HashesEqual(Hash(a), Hash(a)) || HashesEqual(Hash(a), Hash(b)) {
		t.Fatal("hashing")
	}
}

type fixture struct {
	s        *sqlstore.DB
	m        *Manager
	alice    store.User
	bob      store.User
	ws1, ws2 store.Workspace
	entWS    store.Workspace
	ent      store.Enterprise
}

func newFixture(t testing.TB, opts ...sqlstore.Option) *fixture {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "c.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ids := &identity.Service{Store: s, Now: func() time.Time { return fixedNow }}
	f := &fixture{s: s, m: &Manager{Store: s, Catalog: permission.Default(), Now: func() time.Time { return fixedNow }}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.alice, err = ids.CreateUser(ctx, "alice", "password-1", "")
	must(err)
	f.bob, err = ids.CreateUser(ctx, "bob", "password-2", "")
	must(err)
	f.ws1, err = ids.CreateWorkspace(ctx, "one", "alice", "")
	must(err)
	f.ws2, err = ids.CreateWorkspace(ctx, "two", "bob", "")
	must(err)
	f.ent, err = ids.CreateEnterprise(ctx, "Acme", "alice")
	must(err)
	f.entWS, err = ids.CreateWorkspace(ctx, "team", "", f.ent.ID)
	must(err)
	return f
}

func TestManagerCreate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	days30 := Expiry{Days: 30}
	tests := []struct {
		name    string
		spec    Spec
		wantErr string
		owner   store.Owner
	}{
		{"personal PAT, all workspaces", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Bot.chat"}, AllWorkspaces: true}, "", f.alice.Account()},
		{"personal PAT, selected", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{f.ws1.ID}}, "", f.alice.Account()},
		{"enterprise PAT", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, EnterpriseID: f.ent.ID, Expiry: days30,
			Permissions: []string{"Bot.chat"}, AllWorkspaces: true}, "", store.Owner{Type: store.OwnerEnterprise, ID: f.ent.ID}},
		{"SAT", Spec{Kind: store.KindSAT, Name: "svc", EnterpriseID: f.ent.ID, Expiry: Expiry{Permanent: true},
			Permissions: []string{"Bot.chat"}, AllWorkspaces: true}, "", store.Owner{Type: store.OwnerEnterprise, ID: f.ent.ID}},
		{"no name", Spec{Kind: store.KindPAT, UserID: f.alice.ID, Expiry: days30}, "name is required", store.Owner{}},
		{"unknown permission", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Bot.fly"}}, "unknown permission", store.Owner{}},
		{"workspace permission without workspaces", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Bot.chat"}}, "workspace option", store.Owner{}},
		{"someone else's workspace", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{f.ws2.ID}}, "does not belong", store.Owner{}},
		{"enterprise workspace in a personal PAT", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{f.entWS.ID}}, "does not belong", store.Owner{}},
		{"enterprise workspace the user is not in", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, EnterpriseID: f.ent.ID,
			Expiry: days30, Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{f.entWS.ID}}, "not a member of workspace", store.Owner{}},
		{"unknown workspace", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Bot.chat"}, WorkspaceIDs: []string{"123"}}, "not found", store.Owner{}},
		{"enterprise the user is not in", Spec{Kind: store.KindPAT, Name: "a", UserID: f.bob.ID, EnterpriseID: f.ent.ID,
			Expiry: days30}, "not a member", store.Owner{}},
		{"SAT without enterprise", Spec{Kind: store.KindSAT, Name: "a", Expiry: days30}, "belongs to an enterprise", store.Owner{}},
		{"SAT by a non-admin", Spec{Kind: store.KindSAT, Name: "a", UserID: f.bob.ID, EnterpriseID: f.ent.ID, Expiry: days30}, "only an admin", store.Owner{}},
		{"enterprise-level permission in a personal PAT", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: days30,
			Permissions: []string{"Enterprise.manageMembers"}}, "enterprise-level", store.Owner{}},
		{"bad expiry", Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: Expiry{Days: 2}}, "not offered", store.Owner{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := f.s.ListCredentials(ctx, store.CredentialFilter{})
			got, err := f.m.Create(ctx, tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				after, _ := f.s.ListCredentials(ctx, store.CredentialFilter{})
				if len(after) != len(before) {
					t.Fatal("a failed create wrote a credential")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := f.s.GetCredentialByHash(ctx, Hash(got.Token))
			if err != nil {
				t.Fatal(err)
			}
			if stored.Owner != tc.owner || stored.ID != got.Credential.ID || strings.Contains(stored.TokenHash, got.Token[4:]) {
				t.Fatalf("stored %+v", stored)
			}
		})
	}
}

func TestManagerUpdateAndVerify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.m.Create(ctx, Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: Expiry{Days: 1},
		Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	gen := &cache.Generation{}
	lu := NewLastUsed(f.s, nil)
	v := &Verifier{Store: f.s, Cache: cache.New[string, *Verified](gen, 10), LastUsed: lu}
	got, err := v.Verify(ctx, c.Token, fixedNow.Unix())
	if err != nil || got.View.UserID != f.alice.ID || !got.View.AllWorkspaces {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "pat_", c.Token + "0", "sat_" + c.Token[4:], strings.ToUpper(c.Token)} {
		if _, err := v.Verify(ctx, bad, 0); !errors.Is(err, ErrUnknownToken) {
			t.Errorf("Verify(%q) = %v, want ErrUnknownToken", bad, err)
		}
	}
	name := "renamed"
	perms := []string{"Bot.chat", "Workspace.list"}
	ws := []string{f.ws1.ID}
	up, err := f.m.Update(ctx, c.Credential.ID, Change{Name: &name, Permissions: &perms, WorkspaceIDs: &ws})
	if err != nil || up.Name != "renamed" || up.AllWorkspaces || len(up.WorkspaceIDs) != 1 || len(up.Permissions) != 2 {
		t.Fatalf("Update = %+v, %v", up, err)
	}
	bad := []string{"Nope.x"}
	if _, err := f.m.Update(ctx, c.Credential.ID, Change{Permissions: &bad}); err == nil {
		t.Fatal("Update accepted an unknown permission")
	}
	if err := lu.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.s.GetCredential(ctx, c.Credential.ID)
	if stored.LastUsedAt != fixedNow.Unix() || stored.Name != "renamed" {
		t.Fatalf("stored %+v", stored)
	}
	if err := f.m.Delete(ctx, c.Credential.ID); err != nil {
		t.Fatal(err)
	}
	gen.Invalidate()
	if _, err := v.Verify(ctx, c.Token, 0); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("deleted token verified: %v", err)
	}
	if err := f.m.Delete(ctx, c.Credential.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
}

// TestManagerUpdateOnOneConnection: Update validates workspaces and
// memberships, which reads the store; it must not do so inside the update's
// transaction, or on a pool of one connection it waits for itself forever (and
// under load, with every connection held so, nothing proceeds).
func TestManagerUpdateOnOneConnection(t *testing.T) {
	f := newFixture(t, sqlstore.MaxConns(1))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := f.m.Create(ctx, Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: Expiry{Days: 1},
		Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	ws := []string{f.ws1.ID}
	up, err := f.m.Update(ctx, c.Credential.ID, Change{WorkspaceIDs: &ws})
	if err != nil || up.AllWorkspaces || len(up.WorkspaceIDs) != 1 {
		t.Fatalf("Update on a pool of one connection = %+v, %v (a deadline here means it waited for a second connection)", up, err)
	}
}

// changingStore renames the credential right after Update first reads it,
// as a concurrent edit would.
type changingStore struct {
	Store
	once bool
}

func (s *changingStore) GetCredential(ctx context.Context, id string) (store.Credential, error) {
	c, err := s.Store.GetCredential(ctx, id)
	if err == nil && !s.once {
		s.once = true
		_, err = s.Store.UpdateCredential(ctx, id, func(c store.Credential) (store.Credential, error) {
			c.Name = "renamed meanwhile"
			return c, nil
		})
	}
	return c, err
}

// TestManagerUpdateConcurrentEdit: a change made between Update's validation
// and its write is kept, not overwritten with what Update read.
func TestManagerUpdateConcurrentEdit(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c, err := f.m.Create(ctx, Spec{Kind: store.KindPAT, Name: "a", UserID: f.alice.ID, Expiry: Expiry{Days: 1},
		Permissions: []string{"Bot.chat"}, AllWorkspaces: true})
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{Store: &changingStore{Store: f.s}, Catalog: f.m.Catalog, Now: f.m.Now}
	ws := []string{f.ws1.ID}
	up, err := m.Update(ctx, c.Credential.ID, Change{WorkspaceIDs: &ws})
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "renamed meanwhile" || up.AllWorkspaces || len(up.WorkspaceIDs) != 1 {
		t.Fatalf("Update after a concurrent rename = %+v; want the rename kept and the workspace set", up)
	}
}

package authz_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

type authzFixture struct {
	az    *authz.Authorizer
	token string
	perm  *permission.Permission
	bot   authz.ResourceRef
}

// newAuthzFixture wires an Authorizer the way internal/server does, over a
// SQLite store with one user, one workspace holding a bot, and a PAT that may
// chat with bots in that workspace.
func newAuthzFixture(b *testing.B) *authzFixture {
	b.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now().Unix()
	u := store.User{ID: store.NewID(), Username: "bench", Nickname: "Bench", CreatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	ws := store.Workspace{ID: store.NewID(), Name: "bench", Owner: u.Account(), CreatedAt: now}
	if err := s.CreateWorkspace(ctx, ws, &store.WorkspaceMember{WorkspaceID: ws.ID, UserID: u.ID, Role: store.WorkspaceRoleOwner, CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if err := s.CreateResource(ctx, store.Resource{Type: "bot", ID: "bench-bot", WorkspaceID: ws.ID, CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	cat := permission.Default()
	m := &credential.Manager{Store: s, Catalog: cat, Now: time.Now}
	created, err := m.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "bench", UserID: u.ID,
		Expiry: credential.Expiry{Days: 30}, Permissions: []string{"Bot.chat", "Bot.getMetadata", "Workspace.list"},
		WorkspaceIDs: []string{ws.ID}})
	if err != nil {
		b.Fatal(err)
	}
	gen := &cache.Generation{}
	az := &authz.Authorizer{
		Catalog: cat,
		Verifier: &credential.Verifier{
			Store:    s,
			Cache:    cache.New[string, *credential.Verified](gen, 200_000),
			LastUsed: credential.NewLastUsed(s, slog.New(slog.NewTextHandler(io.Discard, nil))),
		},
		Facts: authz.NewFacts(s, gen),
		Now:   time.Now,
	}
	perm, ok := cat.Lookup("Bot.chat")
	if !ok {
		b.Fatal("catalog lacks Bot.chat")
	}
	return &authzFixture{az: az, token: created.Token, perm: perm, bot: authz.ResourceRef{Type: "bot", ID: "bench-bot"}}
}

// authorize is what a guarded route does per request: authenticate the
// bearer token, then check the permission on the resource.
func (f *authzFixture) authorize(ctx context.Context) error {
	p, d, err := f.az.Authenticate(ctx, f.token)
	if err != nil {
		return err
	}
	if !d.OK() {
		return errDenied(d)
	}
	d, err = f.az.Check(ctx, p, f.perm, &f.bot, "")
	if err != nil {
		return err
	}
	if !d.OK() {
		return errDenied(d)
	}
	return nil
}

type errDenied permission.Decision

func (e errDenied) Error() string { return "denied: " + e.Reason }

// BenchmarkAuthenticateCheck: Authenticate + Check of Bot.chat on a bot,
// with the credential and every fact already cached (the steady state).
func BenchmarkAuthenticateCheck(b *testing.B) {
	f := newAuthzFixture(b)
	ctx := context.Background()
	if err := f.authorize(ctx); err != nil { // fills the caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.authorize(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is the part every bearer route pays, /v1/users/me
// included.
func BenchmarkAuthenticate(b *testing.B) {
	f := newAuthzFixture(b)
	ctx := context.Background()
	if err := f.authorize(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, d, err := f.az.Authenticate(ctx, f.token); err != nil || !d.OK() {
			b.Fatal(err, d)
		}
	}
}

package credential_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// benchPATs is how many PATs the benchmark store holds. The cold benchmark
// reads a different one each iteration, so the lookup goes through the
// token_hash index of a table of this size.
const benchPATs = 10_000

// benchSample is how many of the stored tokens the benchmarks cycle through.
const benchSample = 1_000

type verifyFixture struct {
	gen      *cache.Generation
	verifier *credential.Verifier
	tokens   []string // benchSample valid tokens; tokens[0] was made by Manager.Create
}

// newVerifyFixture builds a SQLite store in b.TempDir with benchPATs PATs and
// a Verifier wired as internal/server wires it (cache, last-use batcher that
// is never flushed here).
func newVerifyFixture(b *testing.B) *verifyFixture {
	b.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	u := store.User{ID: store.NewID(), Username: "bench", Nickname: "Bench", CreatedAt: now.Unix()}
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	ws := store.Workspace{ID: store.NewID(), Name: "bench", Owner: u.Account(), CreatedAt: now.Unix()}
	if err := s.CreateWorkspace(ctx, ws, &store.WorkspaceMember{WorkspaceID: ws.ID, UserID: u.ID, Role: store.WorkspaceRoleOwner, CreatedAt: now.Unix()}); err != nil {
		b.Fatal(err)
	}
	m := &credential.Manager{Store: s, Catalog: permission.Default(), Now: time.Now}
	perms := []string{"Bot.chat", "Bot.getMetadata", "Conversation.create", "Workspace.list"}
	created, err := m.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "bench", UserID: u.ID,
		Expiry: credential.Expiry{Days: 30}, Permissions: perms, WorkspaceIDs: []string{ws.ID}})
	if err != nil {
		b.Fatal(err)
	}
	f := &verifyFixture{gen: &cache.Generation{}, tokens: []string{created.Token}}
	// The rest go in through the store directly: Manager.Create validates
	// against the catalog and memberships on every call, which only slows the
	// setup. Half select the workspace (one credential_workspaces row), half
	// take all workspaces, as the shapes the store holds.
	for i := 1; i < benchPATs; i++ {
		tok := credential.NewToken(credential.PrefixPAT)
		c := created.Credential
		c.ID, c.Name, c.TokenHash = store.NewID(), "filler", credential.Hash(tok)
		if i%2 == 0 {
			c.AllWorkspaces, c.WorkspaceIDs = true, nil
		}
		if err := s.CreateCredential(ctx, c); err != nil {
			b.Fatal(err)
		}
		if len(f.tokens) < benchSample {
			f.tokens = append(f.tokens, tok)
		}
	}
	f.verifier = &credential.Verifier{
		Store:    s,
		Cache:    cache.New[string, *credential.Verified](f.gen, 200_000),
		LastUsed: credential.NewLastUsed(s, slog.New(slog.NewTextHandler(io.Discard, nil))),
	}
	return f
}

// BenchmarkVerifyCold: every iteration invalidates the cache first, so
// Verify hashes the token and reads the credential (and its workspaces) from
// SQLite, as on the first request after a revision change.
func BenchmarkVerifyCold(b *testing.B) {
	f := newVerifyFixture(b)
	ctx := context.Background()
	now := time.Now().Unix()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.gen.Invalidate()
		if _, err := f.verifier.Verify(ctx, f.tokens[i%len(f.tokens)], now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkVerifyCached: the steady state of a busy server; Verify hashes the
// token and finds it in the cache.
func BenchmarkVerifyCached(b *testing.B) {
	f := newVerifyFixture(b)
	ctx := context.Background()
	now := time.Now().Unix()
	for _, tok := range f.tokens {
		if _, err := f.verifier.Verify(ctx, tok, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.verifier.Verify(ctx, f.tokens[i%len(f.tokens)], now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkVerifyCachedParallel is the cached path under concurrency: it
// shows contention on the cache's lock and on the last-use batcher's mutex.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	f := newVerifyFixture(b)
	ctx := context.Background()
	now := time.Now().Unix()
	for _, tok := range f.tokens {
		if _, err := f.verifier.Verify(ctx, tok, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := f.verifier.Verify(ctx, f.tokens[i%len(f.tokens)], now); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkHash is the one piece of work every verification does, cached or
// not: SHA-256 of the token and its hex encoding.
func BenchmarkHash(b *testing.B) {
	tok := credential.NewToken(credential.PrefixPAT)
	b.ReportAllocs()
	for b.Loop() {
		_ = credential.Hash(tok)
	}
}

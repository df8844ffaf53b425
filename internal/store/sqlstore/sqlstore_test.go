package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
	"github.com/cozeauth/cozeauth/internal/store/storetest"
)

// postgresEnv names the server the PostgreSQL tests use, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. Its user must be
// allowed to create databases: every subtest gets its own.
const postgresEnv = "COZEAUTH_TEST_POSTGRES_URL"

// backend makes fresh, empty databases and returns the DSN sqlstore opens them
// with; they are removed when the test ends.
type backend struct {
	name  string
	newDB func(t *testing.T) string
}

func sqliteBackend() backend {
	return backend{name: "sqlite", newDB: func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "cozeauth.db")
	}}
}

// postgresBackend connects to the server named by COZEAUTH_TEST_POSTGRES_URL.
// Without it the test is skipped, except in CI, where nothing may be skipped.
func postgresBackend(t *testing.T) backend {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run the PostgreSQL tests (see scripts/pg-test.sh)", postgresEnv)
		}
		t.Skipf("%s is not set; skipping the PostgreSQL tests (set it to a postgres:// URL of a user that may create databases)", postgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", postgresEnv, err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(t.Context()); err != nil {
		t.Fatalf("connect to %s: %v", postgresEnv, err)
	}

	return backend{name: "postgres", newDB: func(t *testing.T) string {
		t.Helper()
		b := make([]byte, 8)
		rand.Read(b)
		name := "cozeauth_test_" + hex.EncodeToString(b)
		if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
			t.Fatalf("create database %s: %v", name, err)
		}
		// Registered first, so it runs after the cleanups that close the store.
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name); err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
		})
		dbURL := *u
		dbURL.Path = "/" + name
		return dbURL.String()
	}}
}

// openStore opens (and migrates) a fresh database of b, closed when t ends.
func openStore(t *testing.T, b backend, opts ...sqlstore.Option) *sqlstore.DB {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), b.newDB(t), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func runConformance(t *testing.T, b backend) {
	open := func(t *testing.T) store.Store { return openStore(t, b) }
	storetest.Run(t, open, func(t *testing.T, conns int) store.Store { return openStore(t, b, sqlstore.MaxConns(conns)) })
	// sqlstore's grants read optimistically (stmt.go, gatedWrite).
	t.Run("GrantRaces", func(t *testing.T) { storetest.RunGrantRaces(t, open) })
}

func TestSQLite(t *testing.T) { runConformance(t, sqliteBackend()) }

func TestPostgres(t *testing.T) { runConformance(t, postgresBackend(t)) }

// forEachBackend runs fn against SQLite and, when configured, PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteBackend()) })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresBackend(t)) })
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dsn     string
		dialect sqlstore.Dialect
		path    string // SQLite: the file the driver DSN must name
		wantErr bool
	}{
		{name: "absolute file path", dsn: "/var/lib/cozeauth/cozeauth.db", dialect: sqlstore.SQLite, path: "/var/lib/cozeauth/cozeauth.db"},
		{name: "relative file path", dsn: "cozeauth.db", dialect: sqlstore.SQLite, path: "cozeauth.db"},
		{name: "sqlite prefix", dsn: "sqlite:/tmp/cozeauth.db", dialect: sqlstore.SQLite, path: "/tmp/cozeauth.db"},
		{name: "sqlite prefix, relative", dsn: "sqlite:data/cozeauth.db", dialect: sqlstore.SQLite, path: "data/cozeauth.db"},
		{name: "postgres", dsn: "postgres://cozeauth:secret@db.example.com:5432/cozeauth?sslmode=require", dialect: sqlstore.Postgres},
		{name: "postgresql", dsn: "postgresql://cozeauth@localhost/cozeauth", dialect: sqlstore.Postgres},
		{name: "empty", dsn: "", wantErr: true},
		{name: "sqlite prefix without a path", dsn: "sqlite:", wantErr: true},
		{name: "mysql", dsn: "mysql://x", wantErr: true},
		{name: "other scheme", dsn: "redis://localhost:6379", wantErr: true},
		{name: "postgres with a bad port", dsn: "postgres://localhost:notaport/cozeauth", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dialect, driverDSN, err := sqlstore.ParseDSN(tc.dsn)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseDSN(%q) = %v, %q; want an error", tc.dsn, dialect, driverDSN)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", tc.dsn, err)
			}
			if dialect != tc.dialect {
				t.Errorf("ParseDSN(%q) dialect = %v, want %v", tc.dsn, dialect, tc.dialect)
			}
			if tc.dialect == sqlstore.Postgres {
				if driverDSN != tc.dsn {
					t.Errorf("ParseDSN(%q) driver DSN = %q, want it unchanged", tc.dsn, driverDSN)
				}
				return
			}
			// The SQLite driver DSN names the file and sets what the store
			// relies on: foreign keys, WAL, a busy timeout, and writers that
			// lock at BEGIN.
			file, query, _ := strings.Cut(driverDSN, "?")
			if file != "file:"+tc.path {
				t.Errorf("ParseDSN(%q) driver DSN names %q, want %q", tc.dsn, file, "file:"+tc.path)
			}
			q, err := url.ParseQuery(query)
			if err != nil {
				t.Fatalf("driver DSN query %q: %v", query, err)
			}
			if got := q.Get("_txlock"); got != "immediate" {
				t.Errorf("_txlock = %q, want immediate", got)
			}
			pragmas := strings.Join(q["_pragma"], " ")
			for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout("} {
				if !strings.Contains(pragmas, p) {
					t.Errorf("pragmas %q lack %s", pragmas, p)
				}
			}
		})
	}
}

// TestDefaultPostgresConns: 4 connections per CPU, never fewer than 8 (so
// a 2-core replica keeps 8, and an 8-core one the 32 of earlier releases).
func TestDefaultPostgresConns(t *testing.T) {
	for _, tc := range []struct{ cpus, want int }{{1, 8}, {2, 8}, {3, 12}, {8, 32}, {64, 256}} {
		if got := sqlstore.DefaultPostgresConns(tc.cpus); got != tc.want {
			t.Errorf("DefaultPostgresConns(%d) = %d, want %d", tc.cpus, got, tc.want)
		}
	}
}

func TestDialectString(t *testing.T) {
	if got := sqlstore.SQLite.String(); got != "sqlite" {
		t.Errorf("SQLite.String() = %q", got)
	}
	if got := sqlstore.Postgres.String(); got != "postgres" {
		t.Errorf("Postgres.String() = %q", got)
	}
}

func TestMigrate(t *testing.T) {
	if sqlstore.LatestVersion() < 1 {
		t.Fatalf("LatestVersion() = %d, want at least 1", sqlstore.LatestVersion())
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Run("Open migrates", func(t *testing.T) {
			s := openStore(t, b)
			checkVersion(t, s)
			if rev, err := s.Revision(t.Context()); err != nil || rev != 0 {
				t.Errorf("Revision of a new database = %d, %v; want 0", rev, err)
			}
		})

		t.Run("twice", func(t *testing.T) {
			ctx := t.Context()
			s := openStore(t, b)
			if err := s.CreateUser(ctx, store.User{ID: store.NewID(), Username: "alice", CreatedAt: 1}); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			for i := range 2 {
				if err := s.Migrate(ctx); err != nil {
					t.Fatalf("Migrate #%d on a migrated database: %v", i+1, err)
				}
			}
			checkVersion(t, s)
			// Re-running did not reset anything.
			users, err := s.ListUsers(ctx)
			if err != nil || len(users) != 1 {
				t.Errorf("ListUsers after re-migrating = %d users, %v; want 1", len(users), err)
			}
		})

		t.Run("reopen", func(t *testing.T) {
			ctx := t.Context()
			dsn := b.newDB(t)
			for i := range 2 {
				s, err := sqlstore.Open(ctx, dsn)
				if err != nil {
					t.Fatalf("Open #%d: %v", i+1, err)
				}
				checkVersion(t, s)
				s.Close()
			}
		})

		// Two processes starting at once on an empty database: both must
		// succeed and the schema must be applied once.
		t.Run("concurrently", func(t *testing.T) {
			ctx := t.Context()
			dsn := b.newDB(t)
			const n = 2
			stores := make([]*sqlstore.DB, n)
			for i := range stores {
				s, err := sqlstore.Connect(ctx, dsn)
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				t.Cleanup(func() { s.Close() })
				stores[i] = s
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i, s := range stores {
				wg.Go(func() {
					<-start
					errs[i] = s.Migrate(ctx)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("concurrent Migrate #%d: %v", i+1, err)
				}
			}
			for _, s := range stores {
				checkVersion(t, s)
			}
			if rev, err := stores[0].Revision(ctx); err != nil || rev != 0 {
				t.Errorf("Revision after concurrent migrations = %d, %v; want 0", rev, err)
			}
		})
	})
}

func checkVersion(t *testing.T, s *sqlstore.DB) {
	t.Helper()
	v, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatalf("SchemaVersion: %v", err)
	}
	if want := sqlstore.LatestVersion(); v != want {
		t.Errorf("SchemaVersion = %d, want LatestVersion() = %d", v, want)
	}
}

func TestOpenDialect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b)
		if got := s.Dialect().String(); got != b.name {
			t.Errorf("Dialect() = %s, want %s", got, b.name)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

// TestMigrateAccountIsUser builds a database as release 9 left it — each user
// with a separate random personal account ID — and checks that migration 10
// makes every reference name the user's ID and keeps the old ID as an alias.
func TestMigrateAccountIsUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, err := sqlstore.Connect(ctx, b.newDB(t))
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.MigrateTo(ctx, 9); err != nil {
			t.Fatalf("MigrateTo(9): %v", err)
		}
		const uid, oldAcct, otherUID, entID = "1001", "2002", "1003", "3003"
		rows := []struct {
			q    string
			args []any
		}{
			{"INSERT INTO users (id, username, nickname, avatar_url, password_hash, account_id, created_at) VALUES (?, 'alice', 'Alice', '', 'h', ?, 1)", []any{uid, oldAcct}},
			{"INSERT INTO users (id, username, nickname, avatar_url, password_hash, account_id, created_at) VALUES (?, 'bob', 'Bob', '', 'h', ?, 1)", []any{otherUID, "2004"}},
			{"INSERT INTO enterprises (id, name, created_at) VALUES (?, 'Acme', 1)", []any{entID}},
			{"INSERT INTO workspaces (id, name, icon_url, owner_type, owner_id, created_at) VALUES ('w1', 'Personal', '', 'personal', ?, 1)", []any{oldAcct}},
			{"INSERT INTO workspaces (id, name, icon_url, owner_type, owner_id, created_at) VALUES ('w2', 'Team', '', 'enterprise', ?, 1)", []any{entID}},
			{"INSERT INTO credentials (id, kind, name, token_hash, user_id, owner_type, owner_id, permissions, all_workspaces, expire_at, created_at, updated_at, last_used_at) VALUES ('c1', 'pat', 'p', 'hash1', ?, 'personal', ?, '[]', 1, 0, 1, 1, 0)", []any{uid, oldAcct}},
			{"INSERT INTO credentials (id, kind, name, token_hash, user_id, owner_type, owner_id, permissions, all_workspaces, expire_at, created_at, updated_at, last_used_at) VALUES ('c2', 'pat', 'p', 'hash2', ?, 'enterprise', ?, '[]', 1, 0, 1, 1, 0)", []any{uid, entID}},
			{"INSERT INTO oauth_apps (id, client_id, name, description, owner_type, owner_id, created_by, client_type, redirect_uris, permissions, active, allow_refresh_without_secret, created_at, updated_at) VALUES ('a1', 'cid1', 'app', '', 'personal', ?, ?, 'jwt', '[]', '[]', 1, 0, 1, 1)", []any{oldAcct, uid}},
			{"INSERT INTO oauth_grants (id, app_id, kind, user_id, owner_type, owner_id, permissions, all_workspaces, workspace_ids, created_at, updated_at) VALUES ('g1', 'a1', 'app_auth', '', 'personal', ?, '[]', 1, '[]', 1, 1)", []any{oldAcct}},
			{"INSERT INTO resources (type, id, workspace_id, account_id, created_at) VALUES ('voice', 'v1', '', ?, 1)", []any{oldAcct}},
			{"INSERT INTO account_authorizations (account_id, credential_id, kind, enterprise_id, created_by, created_at) VALUES (?, 'c2', 'pat', ?, ?, 1)", []any{oldAcct, entID, uid}},
			{"INSERT INTO audit_events (id, at, actor_id, action, target_type, target_id, detail) VALUES ('e1', 1, ?, 'account.authorize', 'account', ?, '{}')", []any{uid, oldAcct}},
		}
		for _, r := range rows {
			if err := s.Exec(ctx, r.q, r.args...); err != nil {
				t.Fatalf("%s: %v", r.q, err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		checkVersion(t, s)

		me := store.Owner{Type: store.OwnerPersonal, ID: uid}
		u, err := s.GetUserByAccountID(ctx, uid)
		if err != nil || u.ID != uid || u.AccountID != uid {
			t.Errorf("GetUserByAccountID(user ID) = %+v, %v; want alice with account ID = user ID", u, err)
		}
		if _, err := s.GetUserByAccountID(ctx, oldAcct); err == nil {
			t.Errorf("GetUserByAccountID(old account ID) succeeded; the old ID is only an alias now")
		}
		if u, err := s.GetUserByAccountAlias(ctx, oldAcct); err != nil || u.ID != uid {
			t.Errorf("GetUserByAccountAlias(old) = %+v, %v; want alice", u, err)
		}
		if u, err := s.GetUser(ctx, otherUID); err != nil || u.AccountID != otherUID {
			t.Errorf("bob = %+v, %v; want account ID = user ID", u, err)
		}
		if w, err := s.GetWorkspace(ctx, "w1"); err != nil || w.Owner != me {
			t.Errorf("personal workspace = %+v, %v; want owner %v", w, err, me)
		}
		if w, err := s.GetWorkspace(ctx, "w2"); err != nil || w.Owner.ID != entID {
			t.Errorf("enterprise workspace = %+v, %v; want it left alone", w, err)
		}
		if c, err := s.GetCredential(ctx, "c1"); err != nil || c.Owner != me {
			t.Errorf("personal PAT = %+v, %v; want owner %v", c, err, me)
		}
		if c, err := s.GetCredential(ctx, "c2"); err != nil || c.Owner.ID != entID {
			t.Errorf("enterprise PAT = %+v, %v; want it left alone", c, err)
		}
		if a, err := s.GetApp(ctx, "a1"); err != nil || a.Owner != me {
			t.Errorf("app = %+v, %v; want owner %v", a, err, me)
		}
		if gs, err := s.ListGrants(ctx, store.GrantFilter{Owner: me}); err != nil || len(gs) != 1 || gs[0].ID != "g1" {
			t.Errorf("grants of the account = %+v, %v; want g1", gs, err)
		}
		if r, err := s.GetResource(ctx, "voice", "v1"); err != nil || r.AccountID != uid {
			t.Errorf("resource = %+v, %v; want account %s", r, err, uid)
		}
		if _, err := s.GetAccountAuthorization(ctx, uid, "c2"); err != nil {
			t.Errorf("account authorization under the user ID: %v", err)
		}
		if es, err := s.ListAudit(ctx, store.AuditFilter{TargetType: "account", TargetID: uid}); err != nil || len(es) != 1 {
			t.Errorf("audit events about the account = %+v, %v; want e1", es, err)
		}
	})
}

// TestOpenClaimsIDNode: each Open of a database takes the next ID node from
// its counter, so processes sharing the database make different IDs.
func TestOpenClaimsIDNode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		node := func() int64 {
			id, err := strconv.ParseInt(store.NewID(), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return id >> 12 & 1023
		}
		dsn := b.newDB(t)
		var nodes []int64
		for range 3 {
			s, err := sqlstore.Open(t.Context(), dsn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			nodes = append(nodes, node())
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		if nodes[1] != (nodes[0]+1)%1024 || nodes[2] != (nodes[1]+1)%1024 {
			t.Errorf("nodes of three opens: %v, want consecutive", nodes)
		}
	})
}

// TestDeleteExpiredInChunks: DeleteExpired removes a backlog larger than a
// chunk (and one of exactly two chunks) to the last row, counts every row,
// and leaves what is live.
func TestDeleteExpiredInChunks(t *testing.T) {
	sqlstore.SetGCChunk(t, 7)
	forEachBackend(t, func(t *testing.T, b backend) {
		s, ctx := openStore(t, b), t.Context()
		const now = int64(1_800_000_000)
		id := store.NewID()
		u := store.User{ID: id, AccountID: id, Username: "alice", CreatedAt: 1}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		app := store.App{ID: store.NewID(), ClientID: store.NewID(), Name: "gc", Owner: u.Account(),
			CreatedBy: u.ID, ClientType: store.ClientTerminal, RedirectURIs: []string{}, Permissions: []string{}, Active: true}
		if err := s.CreateApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		jti := func(i int, exp int64) error {
			return s.CreateOAuthTokensForJTI(ctx, app.ID, "jti-"+strconv.Itoa(i), exp)
		}
		for i := range 30 { // 4 chunks and 2 rows
			if err := jti(i, now-int64(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := jti(100, now+1); err != nil {
			t.Fatal(err)
		}
		var live store.OAuthToken
		for i := range 15 { // 14 expired: exactly 2 chunks
			tok := store.OAuthToken{ID: store.NewID(), Hash: "gc-" + store.NewID(), Kind: store.TokenAccess, AppID: app.ID,
				GrantID: "g", FamilyID: store.NewID(), Permissions: []string{}, BotIDs: []string{}, ExpiresAt: now - int64(i), CreatedAt: now - 3600}
			if i == 14 {
				tok.ExpiresAt, live = now+60, tok
			}
			if err := s.CreateOAuthTokens(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.DeleteExpired(ctx, now); err != nil || n != 44 {
			t.Fatalf("DeleteExpired = %d, %v; want 44 rows (30 JTIs, 14 tokens)", n, err)
		}
		for i := range 30 {
			if err := jti(i, now+1); err != nil {
				t.Errorf("expired JTI %d is still remembered: %v", i, err)
			}
		}
		if err := jti(100, now+1); !errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("live JTI: %v, want ErrAlreadyExists", err)
		}
		if _, err := s.GetOAuthTokenByHash(ctx, live.Hash); err != nil {
			t.Errorf("live token: %v", err)
		}
		if n, err := s.DeleteExpired(ctx, now); err != nil || n != 0 {
			t.Errorf("DeleteExpired again = %d, %v; want 0", n, err)
		}
	})
}

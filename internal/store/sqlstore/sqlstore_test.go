package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
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
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, b) },
		func(t *testing.T, conns int) store.Store { return openStore(t, b, sqlstore.MaxConns(conns)) })
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
			if err := s.CreateUser(ctx, store.User{ID: store.NewID(), Username: "alice", AccountID: store.NewID(), CreatedAt: 1}); err != nil {
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

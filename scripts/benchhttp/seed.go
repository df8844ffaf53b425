package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// database is one fresh database a run seeds and serves from.
type database struct {
	label   string
	dialect sqlstore.Dialect
	dsn     string // what `cozeauth serve --db` gets
	path    string // SQLite file; "" for PostgreSQL
	drop    func(context.Context) error
}

// createDatabase makes an empty database: a SQLite file in dir, or, when
// pgAdmin (a PostgreSQL URL) is set, a new database on that server, dropped
// again by drop.
func createDatabase(ctx context.Context, pgAdmin, dir, label string) (*database, error) {
	if pgAdmin == "" {
		path := filepath.Join(dir, label+".db")
		return &database{label: label, dialect: sqlstore.SQLite, dsn: "sqlite:" + path, path: path,
			drop: func(context.Context) error {
				var errs []error
				for _, suffix := range []string{"", "-wal", "-shm"} {
					if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
						errs = append(errs, err)
					}
				}
				return errors.Join(errs...)
			}}, nil
	}
	u, err := url.Parse(pgAdmin)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL URL: %w", err)
	}
	admin, err := sql.Open("pgx", pgAdmin)
	if err != nil {
		return nil, err
	}
	admin.SetMaxOpenConns(1)
	// label is [a-z0-9_] (made by this program), so the name needs no quoting.
	name := fmt.Sprintf("cozeauth_bench_%d_%s", os.Getpid(), label)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &database{label: label, dialect: sqlstore.Postgres, dsn: u.String(),
		drop: func(ctx context.Context) error {
			defer admin.Close()
			if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				// PostgreSQL < 13 has no FORCE; every server is stopped by now.
				if _, err2 := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err2 != nil {
					return fmt.Errorf("drop database %s: %w", name, errors.Join(err, err2))
				}
			}
			return nil
		}}, nil
}

// openRaw opens the database with database/sql directly, bypassing the store.
func (d *database) openRaw() (*sql.DB, error) {
	dialect, driverDSN, err := sqlstore.ParseDSN(d.dsn)
	if err != nil {
		return nil, err
	}
	driver := "sqlite"
	if dialect == sqlstore.Postgres {
		driver = "pgx"
	}
	return sql.Open(driver, driverDSN)
}

// seeded is what seeding leaves behind.
type seeded struct {
	n      int           // PATs stored in total
	token  string        // the load PAT, created by credential.Manager
	bot    string        // a bot in the load PAT's workspace (the check endpoint's resource)
	sample []string      // tokens of some filler PATs, for lookup timings
	took   time.Duration // seeding time
	// lookupP50, lookupP99: GetCredentialByHash of stored PATs (see lookupTimes).
	lookupP50, lookupP99 time.Duration
}

// benchPerms are the permissions of every seeded PAT.
var benchPerms = []string{"Bot.chat", "Bot.getMetadata", "Conversation.create", "Workspace.list"}

// seed fills a fresh database with n PATs: one made through credential.Manager
// (its token drives the load) and n-1 filler PATs inserted in bulk with rows
// shaped as sqlstore.CreateCredential writes them, owned by a few filler users
// made through the store API.
func seed(ctx context.Context, d *database, n int, logf func(string, ...any)) (*seeded, error) {
	if n < 1 {
		return nil, fmt.Errorf("need at least 1 PAT, got %d", n)
	}
	start := time.Now()
	s, err := sqlstore.Open(ctx, d.dsn) // creates the schema
	if err != nil {
		return nil, err
	}
	defer s.Close()

	ids := &identity.Service{Store: s, Now: time.Now}
	u, err := ids.CreateUser(ctx, "bench", "bench-password", "Bench User")
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	ws, err := ids.CreateWorkspace(ctx, "Bench workspace", u.ID, "")
	if err != nil {
		return nil, fmt.Errorf("create workspace: %w", err)
	}
	bot, err := ids.CreateResource(ctx, ws.ID, "bot", "")
	if err != nil {
		return nil, fmt.Errorf("create bot: %w", err)
	}
	m := &credential.Manager{Store: s, Catalog: permission.Default(), Now: time.Now}
	pat, err := m.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "bench load", UserID: u.ID,
		Expiry: credential.Expiry{Days: 30}, Permissions: benchPerms, WorkspaceIDs: []string{ws.ID}})
	if err != nil {
		return nil, fmt.Errorf("create PAT: %w", err)
	}

	// Filler owners: one user with a personal workspace per 10,000 PATs (at
	// most 100), so the user and owner indexes hold realistic spreads.
	nOwners := min(max((n-1+9_999)/10_000, 1), 100)
	owners := make([]fillerOwner, 0, nOwners)
	for i := range nOwners {
		now := time.Now().Unix()
		id := store.NewID()
		fu := store.User{ID: id, Username: fmt.Sprintf("filler%03d", i), Nickname: "Filler " + strconv.Itoa(i),
			PasswordHash: "-", AccountID: id, CreatedAt: now} // a personal account's ID is its user's ID
		if err := s.CreateUser(ctx, fu); err != nil {
			return nil, fmt.Errorf("create filler user: %w", err)
		}
		fw := store.Workspace{ID: store.NewID(), Name: "Filler " + strconv.Itoa(i), Owner: fu.Account(), CreatedAt: now}
		if err := s.CreateWorkspace(ctx, fw, &store.WorkspaceMember{WorkspaceID: fw.ID, UserID: fu.ID,
			Role: store.WorkspaceRoleOwner, CreatedAt: now}); err != nil {
			return nil, fmt.Errorf("create filler workspace: %w", err)
		}
		owners = append(owners, fillerOwner{user: fu, workspace: fw.ID})
	}

	sample, err := bulkInsertPATs(ctx, d, n-1, owners, pat.Credential.Permissions, logf)
	if err != nil {
		return nil, err
	}
	if err := settle(ctx, d); err != nil {
		return nil, err
	}
	var stored int
	raw, err := d.openRaw()
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	if err := raw.QueryRowContext(ctx, "SELECT COUNT(*) FROM credentials WHERE kind = 'pat'").Scan(&stored); err != nil {
		return nil, err
	}
	if stored != n {
		return nil, fmt.Errorf("seeded %d PATs, want %d", stored, n)
	}
	return &seeded{n: n, token: pat.Token, bot: bot.ID, sample: sample, took: time.Since(start)}, nil
}

type fillerOwner struct {
	user      store.User
	workspace string
}

const (
	rowsPerStmt = 500    // 13 parameters a row: 6,500 per statement, under both backends' limits
	rowsPerTx   = 50_000 // large transactions: one commit per 50,000 rows
	sampleSize  = 5_000
)

// bulkInsertPATs inserts n PATs with multi-row INSERTs on one connection. Each
// row is what CreateCredential would write: a fresh ID, a real token's hash,
// the JSON permission list, and for every other row a selected workspace in
// credential_workspaces instead of all workspaces. It returns up to
// sampleSize of the tokens.
func bulkInsertPATs(ctx context.Context, d *database, n int, owners []fillerOwner, perms []string, logf func(string, ...any)) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	raw, err := d.openRaw()
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if d.dialect == sqlstore.SQLite {
		// Seeding only: this connection skips fsync and uses 512 MiB of page
		// cache. The server opens its own connections with the store's settings.
		for _, p := range []string{"PRAGMA synchronous = OFF", "PRAGMA cache_size = -524288"} {
			if _, err := conn.ExecContext(ctx, p); err != nil {
				return nil, err
			}
		}
	}
	permsJSON, err := json.Marshal(perms)
	if err != nil {
		return nil, err
	}
	ph := placeholders(d.dialect)
	credQuery := func(rows int) string {
		return "INSERT INTO credentials (id, kind, name, token_hash, user_id, owner_type, owner_id, permissions, all_workspaces, expire_at, created_at, updated_at, last_used_at) VALUES " + ph(rows, 13)
	}
	wsQueries := map[int]string{}
	wsQuery := func(rows int) string {
		q, ok := wsQueries[rows]
		if !ok {
			q = "INSERT INTO credential_workspaces (credential_id, workspace_id) VALUES " + ph(rows, 2)
			wsQueries[rows] = q
		}
		return q
	}
	fullCred := credQuery(rowsPerStmt)

	var sample []string
	credArgs := make([]any, 0, 13*rowsPerStmt)
	wsArgs := make([]any, 0, 2*rowsPerStmt)
	now := time.Now().Unix()
	expire := now + 30*24*3600
	start, lastLog := time.Now(), time.Now()
	for done := 0; done < n; {
		txRows := min(rowsPerTx, n-done)
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		credStmt, err := tx.PrepareContext(ctx, fullCred)
		if err != nil {
			tx.Rollback()
			return nil, err
		}
		for inTx := 0; inTx < txRows; {
			rows := min(rowsPerStmt, txRows-inTx)
			credArgs, wsArgs = credArgs[:0], wsArgs[:0]
			for j := range rows {
				i := done + inTx + j
				o := owners[i%len(owners)]
				tok := credential.NewToken(credential.PrefixPAT)
				if len(sample) < sampleSize && i%max(n/sampleSize, 1) == 0 {
					sample = append(sample, tok)
				}
				id := store.NewID()
				all := int64(i % 2)
				credArgs = append(credArgs, id, string(store.KindPAT), "filler "+strconv.Itoa(i), credential.Hash(tok),
					o.user.ID, string(store.OwnerPersonal), o.user.AccountID, string(permsJSON), all, expire, now, now, int64(0))
				if all == 0 {
					wsArgs = append(wsArgs, id, o.workspace)
				}
			}
			var err error
			if rows == rowsPerStmt {
				_, err = credStmt.ExecContext(ctx, credArgs...)
			} else {
				_, err = tx.ExecContext(ctx, credQuery(rows), credArgs...)
			}
			if err == nil && len(wsArgs) > 0 {
				_, err = tx.ExecContext(ctx, wsQuery(len(wsArgs)/2), wsArgs...)
			}
			if err != nil {
				credStmt.Close()
				tx.Rollback()
				return nil, fmt.Errorf("bulk insert: %w", err)
			}
			inTx += rows
		}
		credStmt.Close()
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		done += txRows
		if time.Since(lastLog) > 5*time.Second || done == n {
			lastLog = time.Now()
			el := time.Since(start)
			logf("  %s: %d/%d filler PATs (%.0f rows/s)", d.label, done, n, float64(done)/el.Seconds())
		}
	}
	return sample, nil
}

// placeholders returns a function producing "(?, ?), (?, ?)" (SQLite) or
// "($1, $2), ($3, $4)" (PostgreSQL) for rows × cols parameters.
func placeholders(dialect sqlstore.Dialect) func(rows, cols int) string {
	return func(rows, cols int) string {
		var b strings.Builder
		n := 0
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				n++
				if dialect == sqlstore.Postgres {
					b.WriteString("$" + strconv.Itoa(n))
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
		}
		return b.String()
	}
}

// settle leaves the database as a long-running one would be: SQLite's WAL
// checkpointed into the main file; PostgreSQL's tables vacuumed and analyzed,
// so autovacuum does not start in the middle of a measurement.
func settle(ctx context.Context, d *database) error {
	raw, err := d.openRaw()
	if err != nil {
		return err
	}
	defer raw.Close()
	if d.dialect == sqlstore.SQLite {
		_, err = raw.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	} else {
		_, err = raw.ExecContext(ctx, "VACUUM ANALYZE")
	}
	return err
}

// lookupTimes measures the cold path's database part: GetCredentialByHash of
// stored filler PATs through the store, one at a time. It returns p50 and p99.
func lookupTimes(ctx context.Context, d *database, tokens []string) (p50, p99 time.Duration, err error) {
	if len(tokens) == 0 {
		return 0, 0, nil
	}
	s, err := sqlstore.Connect(ctx, d.dsn)
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	// One pass to warm connections and the page cache the way a running
	// server's would be, then the measured pass.
	times := make([]time.Duration, 0, len(tokens))
	for pass := range 2 {
		for _, tok := range tokens {
			h := credential.Hash(tok)
			t0 := time.Now()
			if _, err := s.GetCredentialByHash(ctx, h); err != nil {
				return 0, 0, fmt.Errorf("lookup of a seeded PAT: %w", err)
			}
			if pass == 1 {
				times = append(times, time.Since(t0))
			}
		}
	}
	slices.Sort(times)
	return times[len(times)/2], times[len(times)*99/100], nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Dialect is the SQL flavour of a backend.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is the SQL store. It is safe for concurrent use.
type DB struct {
	db *sql.DB
	// rev is a pool of one connection of its own for Revision: the revision
	// poll must not fail for want of a connection when every connection of db
	// is busy, since a failed poll drops every cache (and makes the load
	// worse).
	rev     *sql.DB
	dialect Dialect
	queries sync.Map // query with ? placeholders → dialect form
	stmts   sync.Map // dialect query → *sql.Stmt (stmt.go)
	nstmts  atomic.Int64
	prepMu  sync.Mutex // guards closed and prepWG.Add
	prepWG  sync.WaitGroup
	closed  bool
	now     func() time.Time
	file    *sqliteFile // SQLite: the file opened at start
	// writer (SQLite only) is the queue of write transactions, committed in
	// batches by one goroutine (writer.go).
	writer *writer
}

var _ store.Store = (*DB)(nil)

// ParseDSN tells which backend a DSN names: "postgres://…" or "postgresql://…"
// is PostgreSQL; "sqlite:PATH" or a plain file path is SQLite. It returns the
// driver name and the driver's own DSN.
func ParseDSN(dsn string) (Dialect, string, error) {
	switch {
	case dsn == "":
		return 0, "", errors.New("empty database DSN")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := pgconn.ParseConfig(dsn); err != nil {
			return 0, "", fmt.Errorf("invalid PostgreSQL DSN: %w", err)
		}
		return Postgres, dsn, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if strings.Contains(path, "://") {
		return 0, "", fmt.Errorf("unsupported database DSN %q: want a file path, sqlite:PATH or postgres://…", dsn)
	}
	if path == "" {
		return 0, "", errors.New("empty SQLite path")
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)", "temp_store(MEMORY)",
		// The writer's checkpointer copies the WAL into the database in the
		// background (writer.go); SQLite's own checkpoint, run by the
		// committing writer, is only the backstop should the WAL reach
		// 40 MB anyway.
		"wal_autocheckpoint(10000)"} {
		q.Add("_pragma", p)
	}
	// Writers take the lock at BEGIN, so read-modify-write transactions never
	// fail half-way with SQLITE_BUSY on upgrade.
	q.Set("_txlock", "immediate")
	return SQLite, "file:" + path + "?" + q.Encode(), nil
}

// Option configures Open and Connect.
type Option func(*options)

type options struct {
	maxConns  int
	mustExist bool
}

// defaultSQLiteConns is SQLite's default pool size: it serialises writers
// anyway.
const defaultSQLiteConns = 8

// defaultPostgresConns is PostgreSQL's default pool size for a process that
// may run cpus goroutines at once: 4 per CPU, at least 8. More connections
// than the process can keep busy only add backends competing for the CPUs
// and for the same index pages: on 2 cores, 8 connections gave more grants
// per second than 32 (medians of 3 interleaved rounds of bench-grants at 64
// clients: JWT +15%, code +9%, refresh +1%, device +24%) and a lower p99.
// PostgreSQL serves several replicas, each with its own pool.
func defaultPostgresConns(cpus int) int { return max(8, 4*cpus) }

// MaxConns bounds the connection pool to n connections (n < 1: the
// default, 8 on SQLite; on PostgreSQL 4 per CPU (GOMAXPROCS), at least 8).
// The revision counter is read on one more connection of its own. On SQLite
// with n > 1 the write loop keeps one of the n for itself.
func MaxConns(n int) Option {
	return func(o *options) { o.maxConns = n }
}

// Open connects to the database named by dsn and applies pending migrations.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	s, err := Connect(ctx, dsn, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.claimIDNode(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// claimIDNode takes the next ID node from the database's counter for the
// IDs this process makes (store.NewID).
func (s *DB) claimIDNode(ctx context.Context) error {
	var node int64
	err := s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		return mapErr(tx.QueryRowContext(ctx, "UPDATE id_nodes SET next = next + 1 WHERE id = 1 RETURNING next").Scan(&node))
	})
	if err != nil {
		return fmt.Errorf("claim an ID node: %w", err)
	}
	store.SetIDNode(node)
	return nil
}

// Connect connects without migrating; Migrate must have been run.
func Connect(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dialect, driverDSN, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	driver := "sqlite"
	var file *sqliteFile
	if dialect == Postgres {
		driver = "pgx"
	} else {
		if file, err = ensureSQLiteFile(sqlitePath(dsn), o.mustExist); err != nil {
			return nil, err
		}
		// The file exists now: no connection may create one (SQLite URI
		// mode=rw), so a file deleted while serving is not silently
		// replaced by an empty database.
		driverDSN += "&mode=rw"
	}
	n := o.maxConns
	if n < 1 {
		n = defaultSQLiteConns
		if dialect == Postgres {
			n = defaultPostgresConns(runtime.GOMAXPROCS(0))
		}
	}
	db, err := sql.Open(driver, driverDSN)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dialect, err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	rev, err := sql.Open(driver, driverDSN)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", dialect, err)
	}
	rev.SetMaxOpenConns(1)
	rev.SetMaxIdleConns(1)
	s := &DB{db: db, rev: rev, dialect: dialect, now: time.Now, file: file}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, p := range []*sql.DB{db, rev} {
		if err := p.PingContext(pctx); err != nil {
			db.Close()
			rev.Close()
			return nil, fmt.Errorf("connect to %s: %w", dialect, err)
		}
	}
	if dialect == SQLite {
		s.writer = newWriter(n)
		go s.writeLoop()
		go s.checkpointLoop()
	}
	return s, nil
}

// Dialect returns the backend's SQL flavour.
func (s *DB) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.db.PingContext(ctx)
}

// bound applies the call timeout ctx carries (store.WithCallTimeout) to one
// store call: the call's deadline is the earlier of ctx's own and now plus
// the timeout, whether it waits for a pooled connection or for a query.
// Every exported method that takes a context starts with it (see
// TestEveryCallIsBounded). The returned cancel records on ctx that the bound
// ran out (store.CallTimedOut), so the request is answered 503 and counted.
func (s *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	d := store.CallTimeout(ctx)
	if d <= 0 {
		return ctx, func() {}
	}
	bctx, cancel := context.WithTimeoutCause(ctx, d, store.ErrUnavailable)
	return bctx, func() {
		if errors.Is(context.Cause(bctx), store.ErrUnavailable) {
			store.MarkCallTimedOut(ctx)
		}
		cancel()
	}
}

// unavailable wraps err with store.ErrUnavailable when ctx's call bound ran
// out: a transaction whose context ends is rolled back under it, and what
// its statements then report ("transaction has already been committed or
// rolled back", "interrupted") would not say why.
func unavailable(ctx context.Context, err error) error {
	if err != nil && !errors.Is(err, store.ErrUnavailable) && errors.Is(context.Cause(ctx), store.ErrUnavailable) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// Close closes the prepared statements and the connection pool.
func (s *DB) Close() error {
	if s.writer != nil {
		s.closeWriter()
	}
	s.closeStmts()
	return errors.Join(s.db.Close(), s.rev.Close())
}

// q returns query in the backend's placeholder syntax. Queries are written with
// '?' placeholders; PostgreSQL wants $1, $2, … . Our queries contain no '?'
// inside string literals.
func (s *DB) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	s.queries.Store(query, out)
	return out
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in a transaction, commits when it returns nil and rolls back
// otherwise. When bump is set the revision advances in the same transaction,
// and the audit event ctx carries (store.WithAudit) commits or rolls back
// with it. On SQLite the transaction goes to the writer (writer.go) and may
// commit together with others; fn gets the context to run its statements
// with.
func (s *DB) inTx(ctx context.Context, bump bool, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.writer != nil {
		return s.submit(ctx, bump, fn)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(ctx, mapErr(err))
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	done, err := s.runJob(ctx, tx, &writeJob{bump: bump, fn: fn})
	if err != nil {
		return unavailable(ctx, err)
	}
	err = unavailable(ctx, mapErr(tx.Commit()))
	done(err == nil)
	return err
}

// mapErr turns driver constraint errors into the store's sentinel errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", store.ErrAlreadyExists, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK:
			return fmt.Errorf("%w: %v", store.ErrInvalid, err)
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%w: %v", store.ErrAlreadyExists, err)
		case "23503", "23502", "23514":
			return fmt.Errorf("%w: %v", store.ErrInvalid, err)
		}
	}
	return err
}

// Revision returns the current revision counter. It reads on a connection
// of its own (rev), so the revision poll answers while every connection of
// the pool is busy.
func (s *DB) Revision(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var v int64
	err := s.rev.QueryRowContext(ctx, "SELECT value FROM revision WHERE id = 1").Scan(&v)
	return v, mapErr(err)
}

package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Prepared statements. modernc.org/sqlite parses every statement that is not
// prepared, which was about a quarter of a token grant's CPU; database/sql
// keeps a prepared statement per connection and binds it to a transaction's
// connection (Tx.StmtContext). Queries are cached by their text, so only
// fixed texts are cached; dynamic ones (IN lists) pass through.

// maxStmts bounds the cache; beyond it statements run unprepared.
const maxStmts = 256

// prepared returns the cached statement for query, or nil after starting its
// preparation in the background. Preparing needs a connection of its own; a
// transaction waiting for one while other connections wait for its write lock
// would deadlock, so callers run the statement unprepared this once.
func (s *DB) prepared(query string) *sql.Stmt {
	if v, ok := s.stmts.Load(query); ok {
		return v.(*sql.Stmt)
	}
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if s.closed || s.nstmts.Add(1) > maxStmts {
		if !s.closed {
			s.nstmts.Add(-1)
		}
		return nil
	}
	s.prepWG.Add(1)
	go func() {
		defer s.prepWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := s.db.PrepareContext(ctx, query)
		if err != nil {
			s.nstmts.Add(-1)
			return
		}
		if _, loaded := s.stmts.LoadOrStore(query, st); loaded {
			st.Close()
			s.nstmts.Add(-1)
		}
	}()
	return nil
}

// txExec is tx.ExecContext through a prepared statement.
func (s *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.prepared(query); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow is tx.QueryRowContext through a prepared statement.
func (s *DB) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.prepared(query); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// dbExec runs one write statement through a prepared statement: in a
// transaction of its own when ctx carries an audit event (one transaction
// for both) and always on SQLite, where every write goes to the writer.
func (s *DB) dbExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s.writer != nil || store.PendingAuditFrom(ctx) != nil {
		var res sql.Result
		err := s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) (err error) {
			res, err = s.txExec(ctx, tx, query, args...)
			return err
		})
		return res, err
	}
	if st := s.prepared(query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

// rowReader reads one row: s.dbQueryRow, or txRows(tx).
type rowReader func(ctx context.Context, query string, args ...any) *sql.Row

// txRows reads rows in tx.
func (s *DB) txRows(tx *sql.Tx) rowReader {
	return func(ctx context.Context, query string, args ...any) *sql.Row {
		return s.txQueryRow(ctx, tx, query, args...)
	}
}

// dbQueryRow is s.db.QueryRowContext through a prepared statement.
func (s *DB) dbQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.prepared(query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// closeStmts stops new preparations, waits for running ones and closes
// every prepared statement.
func (s *DB) closeStmts() {
	s.prepMu.Lock()
	s.closed = true
	s.prepMu.Unlock()
	s.prepWG.Wait()
	s.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		s.stmts.Delete(k)
		return true
	})
	s.nstmts.Store(0)
}

// stmt is one write statement with '?' placeholders; its zero value is
// none.
type stmt struct {
	query string
	args  []any
}

// execAll runs write statements in tx. On PostgreSQL they go in one round
// trip, as one statement (joinStmts); on SQLite one after the other. That is
// a round trip less per statement for a token grant, whose statements were
// most of its cost on PostgreSQL.
func (s *DB) execAll(ctx context.Context, tx *sql.Tx, stmts ...stmt) error {
	live := liveStmts(stmts)
	if s.dialect == Postgres && len(live) > 1 {
		live = []stmt{joinStmts(live)}
	}
	for _, st := range live {
		if _, err := s.txExec(ctx, tx, s.q(st.query), st.args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// execAlone is execAll in a transaction of its own; on PostgreSQL the one
// statement is that transaction.
func (s *DB) execAlone(ctx context.Context, stmts ...stmt) error {
	live := liveStmts(stmts)
	switch {
	case len(live) == 0:
		return nil
	case s.dialect == Postgres:
		st := joinStmts(live)
		_, err := s.dbExec(ctx, s.q(st.query), st.args...)
		return unavailable(ctx, mapErr(err))
	}
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error { return s.execAll(ctx, tx, live...) })
}

func liveStmts(stmts []stmt) []stmt {
	live := stmts[:0:0]
	for _, st := range stmts {
		if st.query != "" {
			live = append(live, st)
		}
	}
	return live
}

// joinStmts makes one PostgreSQL statement of several: all but the last in
// a WITH, which runs each whether or not it is referenced. They run on one
// snapshot, none seeing another's changes, so they must touch different
// rows; one failing fails them all.
func joinStmts(stmts []stmt) stmt {
	if len(stmts) == 1 {
		return stmts[0]
	}
	var b strings.Builder
	var args []any
	last := len(stmts) - 1
	for i, st := range stmts[:last] {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "s%d AS (%s) ", i, st.query)
		args = append(args, st.args...)
	}
	b.WriteString(stmts[last].query)
	return stmt{b.String(), append(args, stmts[last].args...)}
}

// Optimistic grants. A code exchange, device redemption or refresh reads
// its row with the grant (withGrant, without a lock, outside a transaction),
// mints the tokens, and stores them with gatedWrite: an UPDATE of that row
// that names in its WHERE the state it was read in, and the tokens' INSERT,
// which happens only if that UPDATE changed the row. On PostgreSQL that is
// one statement, so a grant takes two round trips where a transaction took
// four or five (BEGIN, a locked read, the grant, the writes, COMMIT); on
// SQLite the read runs on a reader, concurrently, and the writer, which all
// writes queue for, runs only the writes. When the row changed in between
// (another exchange, poll or rotation of the same row: rare, and never of
// one client's own sequential requests) nothing is written and the grant
// runs again as the transaction that locks the row, which decides as before
// (reuse, retry, revoked).

// errStale is a gate's UPDATE that changed no row.
var errStale = errors.New("the row changed since it was read")

// gatedWrite runs gate, an UPDATE of one row, and stores ts only if it
// changed that row, atomically. It reports whether it did (false: the row
// had changed, nothing was written).
func (s *DB) gatedWrite(ctx context.Context, gate stmt, ts []store.OAuthToken) (bool, error) {
	// On SQLite, and when ctx carries an audit event (stored in the same
	// transaction), a transaction that stops after a gate that changed
	// nothing; on PostgreSQL otherwise, one statement.
	if s.dialect != Postgres || store.PendingAuditFrom(ctx) != nil {
		ins, err := insertTokens(ts)
		if err != nil {
			return false, err
		}
		err = s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
			res, err := s.txExec(ctx, tx, s.q(gate.query), gate.args...)
			if err != nil {
				return mapErr(err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return cmp.Or(err, errStale)
			}
			return s.execAll(ctx, tx, ins)
		})
		if errors.Is(err, errStale) {
			return false, nil
		}
		return err == nil, err
	}
	query := "WITH gate AS (" + gate.query + " RETURNING 1)"
	args := slices.Clip(gate.args)
	if len(ts) > 0 {
		ins, err := insertTokensWhere(ts, "EXISTS (SELECT 1 FROM gate)")
		if err != nil {
			return false, err
		}
		query += ", ins AS (" + ins.query + ")"
		args = append(args, ins.args...)
	}
	query = s.q(query + " SELECT count(*) FROM gate")
	var n int
	err := unavailable(ctx, mapErr(s.dbQueryRow(ctx, query, args...).Scan(&n)))
	return n == 1 && err == nil, err
}

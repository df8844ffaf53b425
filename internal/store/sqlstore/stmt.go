package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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

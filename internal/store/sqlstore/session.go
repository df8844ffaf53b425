package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Sessions are not security facts any cache holds, so none of these methods
// advances the revision: a deleted session is simply not found next time.

func (s *DB) CreateSession(ctx context.Context, se store.Session) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if se.IDHash == "" || se.UserID == "" || se.CSRFSecret == "" {
		return fmt.Errorf("%w: session needs an ID hash, a user and a CSRF secret", store.ErrInvalid)
	}
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO sessions (id_hash, user_id, csrf_secret, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"),
			se.IDHash, se.UserID, se.CSRFSecret, se.CreatedAt, se.ExpiresAt)
		return mapErr(err)
	})
}

func (s *DB) GetSession(ctx context.Context, idHash string, now int64) (store.Session, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var se store.Session
	err := s.dbQueryRow(ctx, s.q("SELECT id_hash, user_id, csrf_secret, created_at, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?"),
		idHash, now).Scan(&se.IDHash, &se.UserID, &se.CSRFSecret, &se.CreatedAt, &se.ExpiresAt)
	return se, mapErr(err)
}

func (s *DB) DeleteSession(ctx context.Context, idHash string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("DELETE FROM sessions WHERE id_hash = ?"), idHash)
	})
}

func (s *DB) DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	err := s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, s.q("DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?"), userID, keep)
		if err != nil {
			return mapErr(err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

func (s *DB) DeleteExpiredSessions(ctx context.Context, now int64) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res, err := s.dbExec(ctx, s.q("DELETE FROM sessions WHERE expires_at <= ?"), now)
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

func (s *DB) SetSessionFlash(ctx context.Context, idHash, flash string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("UPDATE sessions SET flash = ? WHERE id_hash = ?"), flash, idHash)
	})
}

func (s *DB) TakeSessionFlash(ctx context.Context, idHash string) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var flash string
	err := s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		err := s.txQueryRow(ctx, tx, s.q("SELECT flash FROM sessions WHERE id_hash = ?"), idHash).Scan(&flash)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && flash == "") {
			flash = ""
			return nil
		}
		if err != nil {
			return mapErr(err)
		}
		// Only the taker whose UPDATE clears this very flash gets it.
		res, err := s.txExec(ctx, tx, s.q("UPDATE sessions SET flash = '' WHERE id_hash = ? AND flash = ?"), idHash, flash)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			flash = ""
			return err
		}
		return nil
	})
	return flash, err
}

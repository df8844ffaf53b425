package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Codes, device codes, tokens, JTIs and their garbage collection. Creating,
// consuming, polling and rotating are hot paths and do not advance the
// revision; anything that revokes does.

// ---- authorization codes

const authCodeCols = "hash, app_id, grant_id, redirect_uri, code_challenge, challenge_method, expires_at, created_at, used_at, issued_family"

func scanAuthCode(row scanner) (store.AuthCode, error) {
	return scanRecord[store.AuthCode, authCodeRow](row)
}

// authCodeRow holds the columns of authCodeCols as scanned.
type authCodeRow struct{ c store.AuthCode }

func (r *authCodeRow) dest() []any {
	c := &r.c
	return []any{&c.Hash, &c.AppID, &c.GrantID, &c.RedirectURI, &c.CodeChallenge, &c.ChallengeMethod,
		&c.ExpiresAt, &c.CreatedAt, &c.UsedAt, &c.IssuedFamily}
}

func (r *authCodeRow) parse() (store.AuthCode, error) { return r.c, nil }

func (s *DB) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if c.Hash == "" || c.AppID == "" || c.GrantID == "" {
		return fmt.Errorf("%w: authorization code needs a hash, an app and a grant", store.ErrInvalid)
	}
	_, err := s.dbExec(ctx, s.q("INSERT INTO oauth_auth_codes ("+authCodeCols+", reused_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '', 0)"),
		c.Hash, c.AppID, c.GrantID, c.RedirectURI, c.CodeChallenge, c.ChallengeMethod, c.ExpiresAt, c.CreatedAt)
	return mapErr(err)
}

func (s *DB) ExchangeAuthCode(ctx context.Context, hash string, now int64, issue func(store.AuthCode, store.Grant) ([]store.OAuthToken, error)) (store.AuthCode, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	c, g, err := withGrant[store.AuthCode, authCodeRow](ctx, s, s.dbQueryRow, false, "oauth_auth_codes", authCodeCols, "hash", hash)
	if err == nil && c.UsedAt == 0 && g.ID != "" {
		c.UsedAt = now
		ts, issueErr := issue(c, g)
		gate := stmt{"UPDATE oauth_auth_codes SET used_at = ? WHERE hash = ? AND used_at = 0", []any{now, hash}}
		if issueErr != nil {
			ts = nil // the code stays consumed; nothing is stored
		} else if len(ts) > 0 {
			if err := oneFamily(ts); err != nil {
				return store.AuthCode{}, err
			}
			c.IssuedFamily = ts[0].FamilyID
			gate = stmt{"UPDATE oauth_auth_codes SET used_at = ?, issued_family = ? WHERE hash = ? AND used_at = 0", []any{now, c.IssuedFamily, hash}}
		}
		if ok, err := s.gatedWrite(ctx, gate, ts); err != nil || ok {
			if err != nil {
				return store.AuthCode{}, err
			}
			return c, issueErr
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.AuthCode{}, err
	}
	return s.exchangeAuthCodeTx(ctx, hash, now, issue)
}

// exchangeAuthCodeTx is ExchangeAuthCode in one transaction, which locks the
// code: for a code used before, gone, or used by another exchange between
// the optimistic read and write.
func (s *DB) exchangeAuthCodeTx(ctx context.Context, hash string, now int64, issue func(store.AuthCode, store.Grant) ([]store.OAuthToken, error)) (store.AuthCode, error) {
	var out store.AuthCode
	var reused bool
	var issueErr error
	err := s.inTxRetry(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		reused, issueErr = false, nil
		// The conditional UPDATE is the atomic step: of concurrent exchanges
		// exactly one changes the row (PostgreSQL re-checks used_at after
		// waiting for the row lock, which the winner holds until its tokens
		// and family are committed; SQLite serialises writers).
		var err error
		out, err = scanAuthCode(s.txQueryRow(ctx, tx, s.q("UPDATE oauth_auth_codes SET used_at = ? WHERE hash = ? AND used_at = 0 RETURNING "+authCodeCols), now, hash))
		if errors.Is(err, store.ErrNotFound) { // used before, or no such code
			if out, err = scanAuthCode(s.txQueryRow(ctx, tx, s.q("SELECT "+authCodeCols+" FROM oauth_auth_codes WHERE hash = ?"), hash)); err != nil {
				return err
			}
			// reuse: revoke what the first use issued
			reused = true
			if _, err := s.txExec(ctx, tx, s.q("UPDATE oauth_auth_codes SET reused_at = ? WHERE hash = ? AND reused_at = 0"), now, hash); err != nil {
				return mapErr(err)
			}
			if out.IssuedFamily != "" {
				if err := s.revokeTx(ctx, tx, "family_id", out.IssuedFamily, now); err != nil {
					return err
				}
				return s.bumpTx(ctx, tx)
			}
			return nil
		}
		if err != nil {
			return err
		}
		// The grant is read here, in the transaction: issue must not need a
		// connection of its own while this one is held. A code's grant
		// exists (deleting a grant deletes its codes).
		g, err := s.getGrant(ctx, tx, out.GrantID)
		if err != nil {
			return fmt.Errorf("grant of an authorization code: %w", err)
		}
		ts, err := issue(out, g)
		if err != nil {
			issueErr = err // commit: the code stays consumed
			return nil
		}
		if len(ts) == 0 {
			return nil
		}
		if err := oneFamily(ts); err != nil {
			return err
		}
		ins, err := insertTokens(ts)
		if err != nil {
			return err
		}
		out.IssuedFamily = ts[0].FamilyID
		return s.execAll(ctx, tx, ins, stmt{"UPDATE oauth_auth_codes SET issued_family = ? WHERE hash = ?", []any{ts[0].FamilyID, hash}})
	})
	switch {
	case err != nil:
		return store.AuthCode{}, err
	case reused:
		return out, fmt.Errorf("authorization code: %w", store.ErrUsed)
	}
	return out, issueErr
}

// oneFamily checks that the tokens of one exchange share a family.
func oneFamily(ts []store.OAuthToken) error {
	for _, t := range ts {
		if t.FamilyID != ts[0].FamilyID {
			return fmt.Errorf("%w: tokens of one exchange share a family", store.ErrInvalid)
		}
	}
	return nil
}

// ---- device codes

const deviceCols = "device_hash, user_code, app_id, workspace_id, grant_id, status, expires_at, created_at, last_polled_at"

func scanDevice(row scanner) (store.DeviceCode, error) {
	return scanRecord[store.DeviceCode, deviceRow](row)
}

// deviceRow holds the columns of deviceCols as scanned.
type deviceRow struct{ d store.DeviceCode }

func (r *deviceRow) dest() []any {
	d := &r.d
	return []any{&d.DeviceHash, &d.UserCode, &d.AppID, &d.WorkspaceID, &d.GrantID, &d.Status, &d.ExpiresAt, &d.CreatedAt, &d.LastPolledAt}
}

func (r *deviceRow) parse() (store.DeviceCode, error) { return r.d, nil }

func (s *DB) CreateDeviceCode(ctx context.Context, d store.DeviceCode) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if d.DeviceHash == "" || d.UserCode == "" || d.AppID == "" {
		return fmt.Errorf("%w: device code needs a hash, a user code and an app", store.ErrInvalid)
	}
	if d.Status == "" {
		d.Status = store.DevicePending
	}
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		// User codes are short: free the one of an expired request.
		if _, err := s.txExec(ctx, tx, s.q("DELETE FROM oauth_device_codes WHERE user_code = ? AND expires_at <= ?"), d.UserCode, d.CreatedAt); err != nil {
			return mapErr(err)
		}
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO oauth_device_codes ("+deviceCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			d.DeviceHash, d.UserCode, d.AppID, d.WorkspaceID, d.GrantID, string(d.Status), d.ExpiresAt, d.CreatedAt, d.LastPolledAt)
		return mapErr(err)
	})
}

func (s *DB) GetDeviceCodeByUserCode(ctx context.Context, userCode string, now int64) (store.DeviceCode, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanDevice(s.dbQueryRow(ctx, s.q("SELECT "+deviceCols+" FROM oauth_device_codes WHERE user_code = ? AND expires_at > ?"), userCode, now))
}

func (s *DB) GetDeviceCodeByDeviceHash(ctx context.Context, deviceHash string) (store.DeviceCode, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanDevice(s.dbQueryRow(ctx, s.q("SELECT "+deviceCols+" FROM oauth_device_codes WHERE device_hash = ?"), deviceHash))
}

func (s *DB) decideDevice(ctx context.Context, userCode, grantID string, status store.DeviceStatus, now int64) error {
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, s.q("UPDATE oauth_device_codes SET status = ?, grant_id = ? WHERE user_code = ? AND status = ? AND expires_at > ?"),
			string(status), grantID, userCode, string(store.DevicePending), now)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var st string
		if err := s.txQueryRow(ctx, tx, s.q("SELECT status FROM oauth_device_codes WHERE user_code = ? AND expires_at > ?"), userCode, now).Scan(&st); err != nil {
			return mapErr(err)
		}
		return fmt.Errorf("device code is %s: %w", st, store.ErrUsed)
	})
}

func (s *DB) ApproveDeviceCode(ctx context.Context, userCode, grantID string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if grantID == "" {
		return fmt.Errorf("%w: approving a device code needs a grant", store.ErrInvalid)
	}
	return s.decideDevice(ctx, userCode, grantID, store.DeviceApproved, now)
}

func (s *DB) DenyDeviceCode(ctx context.Context, userCode string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.decideDevice(ctx, userCode, "", store.DeviceDenied, now)
}

func (s *DB) PollDevice(ctx context.Context, deviceHash string, now int64, redeem func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error)) (store.DeviceCode, int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	d, g, err := withGrant[store.DeviceCode, deviceRow](ctx, s, s.dbQueryRow, false, "oauth_device_codes", deviceCols, "device_hash", deviceHash)
	minted := false // redeem was called
	if err == nil && (d.Status != store.DeviceApproved || g.ID != "") {
		prev := d.LastPolledAt
		// The poll counts only if the code is as read: of concurrent polls
		// one sees the other's time, for slow_down.
		const where = " WHERE device_hash = ? AND status = ? AND last_polled_at = ?"
		gate := stmt{"UPDATE oauth_device_codes SET last_polled_at = ?" + where, []any{now, deviceHash, string(d.Status), prev}}
		var ts []store.OAuthToken
		var redeemErr error
		if redeem != nil && d.Status == store.DeviceApproved {
			minted = true
			if ts, redeemErr = redeem(d, g); redeemErr != nil {
				ts = nil // stores nothing but the poll
			} else {
				gate = stmt{"UPDATE oauth_device_codes SET last_polled_at = ?, status = ?" + where,
					[]any{now, string(store.DeviceRedeemed), deviceHash, string(d.Status), prev}}
			}
		}
		if ok, err := s.gatedWrite(ctx, gate, ts); err != nil || ok {
			if err != nil {
				return store.DeviceCode{}, 0, err
			}
			d.LastPolledAt = now
			if minted && redeemErr == nil {
				d.Status = store.DeviceRedeemed
			}
			return d, prev, redeemErr
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.DeviceCode{}, 0, err
	}
	if !minted {
		return s.pollDeviceTx(ctx, deviceHash, now, redeem)
	}
	// Another poll changed the code in between, and the tokens redeem
	// minted were not stored. If that poll redeemed the code, this one must
	// not answer as if it had (its caller holds those tokens).
	again := false
	d, prev, err := s.pollDeviceTx(ctx, deviceHash, now, func(d store.DeviceCode, g store.Grant) ([]store.OAuthToken, error) {
		again = true
		return redeem(d, g)
	})
	if err == nil && d.Status == store.DeviceRedeemed && !again {
		return store.DeviceCode{}, 0, fmt.Errorf("device code redeemed by another poll: %w", store.ErrUsed)
	}
	return d, prev, err
}

// pollDeviceTx is PollDevice in one transaction, which locks the code: for
// a code gone, or polled by another between the optimistic read and write.
func (s *DB) pollDeviceTx(ctx context.Context, deviceHash string, now int64, redeem func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error)) (store.DeviceCode, int64, error) {
	var d store.DeviceCode
	var prev int64
	var redeemErr error
	err := s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		redeemErr = nil
		var err error
		if d, err = scanDevice(s.txQueryRow(ctx, tx, s.q("SELECT "+deviceCols+" FROM oauth_device_codes WHERE device_hash = ?"+s.forUpdate()), deviceHash)); err != nil {
			return err
		}
		prev = d.LastPolledAt
		d.LastPolledAt = now
		polled := func() error {
			_, err := s.txExec(ctx, tx, s.q("UPDATE oauth_device_codes SET last_polled_at = ? WHERE device_hash = ?"), now, deviceHash)
			return mapErr(err)
		}
		if redeem == nil || d.Status != store.DeviceApproved {
			return polled()
		}
		// Read here for redeem, which must not use a connection of its own.
		// Deleting a grant deletes its device codes: it exists.
		g, err := s.getGrant(ctx, tx, d.GrantID)
		if err != nil {
			return err
		}
		ts, err := redeem(d, g)
		if err != nil {
			redeemErr = err
			return polled()
		}
		ins, err := insertTokens(ts)
		if err != nil {
			return err
		}
		// The row is locked (PostgreSQL) or the writer is ours (SQLite):
		// it is still approved.
		d.Status = store.DeviceRedeemed
		return s.execAll(ctx, tx, ins, stmt{"UPDATE oauth_device_codes SET last_polled_at = ?, status = ? WHERE device_hash = ?",
			[]any{now, string(store.DeviceRedeemed), deviceHash}})
	})
	if err != nil {
		return store.DeviceCode{}, 0, err
	}
	return d, prev, redeemErr
}

// ---- tokens

const tokenCols = "id, hash, kind, app_id, grant_id, family_id, session_name, permissions, bot_ids, all_workspaces, workspace_ids, expires_at, created_at, revoked_at, rotated_at"

func scanToken(row scanner) (store.OAuthToken, error) {
	return scanRecord[store.OAuthToken, tokenRow](row)
}

// tokenRow holds the columns of tokenCols as scanned.
type tokenRow struct {
	t                store.OAuthToken
	perms, bots, wss string
	all              int64
}

func (r *tokenRow) dest() []any {
	t := &r.t
	return []any{&t.ID, &t.Hash, &t.Kind, &t.AppID, &t.GrantID, &t.FamilyID, &t.SessionName, &r.perms, &r.bots,
		&r.all, &r.wss, &t.ExpiresAt, &t.CreatedAt, &t.RevokedAt, &t.RotatedAt}
}

func (r *tokenRow) parse() (store.OAuthToken, error) {
	t := r.t
	t.AllWorkspaces = r.all != 0
	if err := unmarshalList("token "+t.ID, r.perms, &t.Permissions); err != nil {
		return t, err
	}
	if err := unmarshalList("token "+t.ID, r.wss, &t.WorkspaceIDs); err != nil {
		return t, err
	}
	return t, unmarshalList("token "+t.ID, r.bots, &t.BotIDs)
}

// withGrant reads the row of table whose key column is v (cols: the
// columns R scans) with the grant its grant_id names, in one round trip; a
// row without a grant (none yet, or deleted) comes with a zero grant. With
// lock (in a transaction: read is txRows) the row is locked on PostgreSQL;
// read is s.dbQueryRow for the optimistic read, outside any transaction (on
// SQLite by a reader, not the writer).
func withGrant[T any, R any, P record[T, R]](ctx context.Context, s *DB, read rowReader, lock bool, table, cols, key, v string) (T, store.Grant, error) {
	var r R
	var gr grantRow
	forUpdate, forUpdateOfT := "", ""
	if lock {
		forUpdate, forUpdateOfT = s.forUpdate(), s.forUpdate("t")
	}
	err := read(ctx, s.q("SELECT "+qualify("t", cols)+", "+qualify("g", grantCols)+" FROM "+table+
		" t JOIN oauth_grants g ON g.id = t.grant_id WHERE t."+key+" = ?"+forUpdateOfT), v).Scan(append(P(&r).dest(), gr.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) { // no such row, or no grant
		row, err := scanRecord[T, R, P](read(ctx, s.q("SELECT "+cols+" FROM "+table+" WHERE "+key+" = ?"+forUpdate), v))
		return row, store.Grant{}, err
	}
	if err != nil {
		var zero T
		return zero, store.Grant{}, mapErr(err)
	}
	row, err := P(&r).parse()
	if err != nil {
		return row, store.Grant{}, err
	}
	g, err := gr.parse()
	return row, g, err
}

// insertTokens is the one multi-row INSERT that stores ts (a grant issues
// one or two tokens: one statement instead of two); with no tokens it is an
// empty statement, which execAll skips.
func insertTokens(ts []store.OAuthToken) (stmt, error) {
	if len(ts) == 0 {
		return stmt{}, nil
	}
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	args, err := tokenArgs(ts)
	if err != nil {
		return stmt{}, err
	}
	query := "INSERT INTO oauth_tokens (" + tokenCols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", len(ts)), ", ")
	return stmt{query, args}, nil
}

// insertTokensWhere is insertTokens storing ts only where cond holds
// (PostgreSQL: an INSERT … SELECT, whose VALUES name the types of the
// integer columns, which PostgreSQL would otherwise take for text).
func insertTokensWhere(ts []store.OAuthToken, cond string) (stmt, error) {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"
	args, err := tokenArgs(ts)
	if err != nil {
		return stmt{}, err
	}
	query := "INSERT INTO oauth_tokens (" + tokenCols + ") SELECT * FROM (VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", len(ts)), ", ") + ") AS v WHERE " + cond
	return stmt{query, args}, nil
}

// tokenArgs checks ts and returns their values in the order of tokenCols.
func tokenArgs(ts []store.OAuthToken) ([]any, error) {
	args := make([]any, 0, 15*len(ts))
	for _, t := range ts {
		switch {
		case t.ID == "" || t.Hash == "" || t.AppID == "" || t.GrantID == "" || t.FamilyID == "":
			return nil, fmt.Errorf("%w: token needs an ID, a hash, an app, a grant and a family", store.ErrInvalid)
		case t.Kind != store.TokenAccess && t.Kind != store.TokenRefresh:
			return nil, fmt.Errorf("%w: token kind %q", store.ErrInvalid, t.Kind)
		}
		perms, err := marshalList(t.Permissions)
		if err != nil {
			return nil, err
		}
		bots, err := marshalList(t.BotIDs)
		if err != nil {
			return nil, err
		}
		wss, err := marshalList(t.WorkspaceIDs)
		if err != nil {
			return nil, err
		}
		args = append(args, t.ID, t.Hash, string(t.Kind), t.AppID, t.GrantID, t.FamilyID, t.SessionName, perms, bots,
			boolInt(t.AllWorkspaces), wss, t.ExpiresAt, t.CreatedAt, t.RevokedAt, t.RotatedAt)
	}
	return args, nil
}

func (s *DB) CreateOAuthTokens(ctx context.Context, ts ...store.OAuthToken) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ins, err := insertTokens(ts)
	if err != nil {
		return err
	}
	return s.execAlone(ctx, ins)
}

func (s *DB) CreateOAuthTokensForJTI(ctx context.Context, appID, jti string, jtiExpiresAt int64, ts ...store.OAuthToken) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if appID == "" || jti == "" {
		return fmt.Errorf("%w: jti needs an app and a value", store.ErrInvalid)
	}
	ins, err := insertTokens(ts)
	if err != nil {
		return err
	}
	// A jti already used fails the whole: its tokens are not stored.
	return s.execAlone(ctx, stmt{"INSERT INTO oauth_jtis (app_id, jti, expires_at) VALUES (?, ?, ?)", []any{appID, jti, jtiExpiresAt}}, ins)
}

func (s *DB) GetOAuthTokenByHash(ctx context.Context, hash string) (store.OAuthToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanToken(s.dbQueryRow(ctx, s.q("SELECT "+tokenCols+" FROM oauth_tokens WHERE hash = ?"), hash))
}

var errReuse = errors.New("refresh token reused")

func (s *DB) RotateRefresh(ctx context.Context, oldHash string, now, retryWindow int64, issue func(store.OAuthToken, store.Grant) (store.Rotation, error)) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	old, g, err := withGrant[store.OAuthToken, tokenRow](ctx, s, s.dbQueryRow, false, "oauth_tokens", tokenCols, "hash", oldHash)
	if err == nil && old.Kind == store.TokenRefresh && old.RotatedAt == 0 && old.RevokedAt == 0 && g.ID != "" {
		rot, err := issue(old, g)
		if err != nil {
			return "", err // nothing changes
		}
		if err := checkRotation(old, rot); err != nil {
			return "", err
		}
		gate := stmt{"UPDATE oauth_tokens SET rotated_at = ?, retry_blob = ?, rotated_to = ? WHERE hash = ? AND rotated_at = 0 AND revoked_at = 0",
			[]any{now, rot.Retry, rot.Refresh.Hash, oldHash}}
		if ok, err := s.gatedWrite(ctx, gate, []store.OAuthToken{rot.Access, rot.Refresh}); err != nil || ok {
			return "", err
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return s.rotateRefreshTx(ctx, oldHash, now, retryWindow, issue)
}

// rotateRefreshTx is RotateRefresh in one transaction, which locks the
// token: for a token rotated, revoked or gone, and for one rotated or
// revoked by another between the optimistic read and write.
func (s *DB) rotateRefreshTx(ctx context.Context, oldHash string, now, retryWindow int64, issue func(store.OAuthToken, store.Grant) (store.Rotation, error)) (string, error) {
	reused := false
	var issueErr error
	var retry string
	err := s.inTxRetry(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		reused, issueErr, retry = false, nil, ""
		// Concurrent rotators of one token queue on its row lock (PostgreSQL;
		// SQLite serialises writers anyway): the first rotates, the others
		// then see it rotated, which is reuse.
		old, g, err := withGrant[store.OAuthToken, tokenRow](ctx, s, s.txRows(tx), true, "oauth_tokens", tokenCols, "hash", oldHash)
		if err != nil {
			return err
		}
		switch {
		case old.Kind != store.TokenRefresh:
			return fmt.Errorf("not a refresh token: %w", store.ErrNotFound)
		case old.RotatedAt != 0:
			if old.RevokedAt == 0 && retryWindow > 0 && now-old.RotatedAt <= retryWindow {
				r, err := s.retryOf(ctx, tx, oldHash)
				if err != nil || r != "" {
					retry = r
					return err
				}
			}
			// Reuse (even after an earlier reuse revoked it): revoke the
			// family and commit that, then report ErrUsed.
			reused = true
			if err := s.revokeTx(ctx, tx, "family_id", old.FamilyID, now); err != nil {
				return err
			}
			return s.bumpTx(ctx, tx)
		case old.RevokedAt != 0:
			return fmt.Errorf("refresh token: %w", store.ErrRevoked)
		}
		// The grant was read with the token for issue, which must not use a
		// connection of its own.
		if g.ID == "" {
			return fmt.Errorf("refresh token's grant was deleted: %w", store.ErrRevoked)
		}
		rot, err := issue(old, g)
		if err != nil {
			issueErr = err
			return err // roll back: nothing changes
		}
		if err := checkRotation(old, rot); err != nil {
			return err
		}
		ins, err := insertTokens([]store.OAuthToken{rot.Access, rot.Refresh})
		if err != nil {
			return err
		}
		return s.execAll(ctx, tx, ins, stmt{"UPDATE oauth_tokens SET rotated_at = ?, retry_blob = ?, rotated_to = ? WHERE hash = ?",
			[]any{now, rot.Retry, rot.Refresh.Hash, oldHash}})
	})
	switch {
	case issueErr != nil:
		return "", issueErr
	case err == nil && reused:
		return "", fmt.Errorf("%w: %w", errReuse, store.ErrUsed)
	}
	return retry, err
}

// checkRotation checks what issue returned for rotating old.
func checkRotation(old store.OAuthToken, rot store.Rotation) error {
	if rot.Access.FamilyID != old.FamilyID || rot.Refresh.FamilyID != old.FamilyID {
		return fmt.Errorf("%w: rotated tokens must stay in family %s", store.ErrInvalid, old.FamilyID)
	}
	if rot.Access.Kind != store.TokenAccess || rot.Refresh.Kind != store.TokenRefresh {
		return fmt.Errorf("%w: rotation issues an access and a refresh token", store.ErrInvalid)
	}
	return nil
}

// retryOf returns the Retry kept with a rotated refresh token when the token
// it rotated to is still unused and not revoked (so the first answer can
// still be the client's latest), else "".
func (s *DB) retryOf(ctx context.Context, tx *sql.Tx, oldHash string) (string, error) {
	var retry, child string
	if err := s.txQueryRow(ctx, tx, s.q("SELECT retry_blob, rotated_to FROM oauth_tokens WHERE hash = ?"), oldHash).Scan(&retry, &child); err != nil {
		return "", mapErr(err)
	}
	if retry == "" || child == "" {
		return "", nil
	}
	var rotated, revoked int64
	err := s.txQueryRow(ctx, tx, s.q("SELECT rotated_at, revoked_at FROM oauth_tokens WHERE hash = ?"), child).Scan(&rotated, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", mapErr(err)
	}
	if rotated != 0 || revoked != 0 {
		return "", nil
	}
	return retry, nil
}

// revokeTx revokes the tokens whose col equals v. On PostgreSQL it first
// locks them in ID order: concurrent revokers of overlapping sets (every loser
// of a refresh race revokes the same family) would otherwise lock rows in
// whatever order their plans visit them and deadlock.
func (s *DB) revokeTx(ctx context.Context, tx *sql.Tx, col, v string, now int64) error {
	if s.dialect == Postgres {
		if _, err := s.txExec(ctx, tx, s.q("SELECT id FROM oauth_tokens WHERE "+col+" = ? AND revoked_at = 0 ORDER BY id FOR UPDATE"), v); err != nil {
			return mapErr(err)
		}
	}
	_, err := s.txExec(ctx, tx, s.q("UPDATE oauth_tokens SET revoked_at = ? WHERE "+col+" = ? AND revoked_at = 0"), now, v)
	return mapErr(err)
}

func (s *DB) revoke(ctx context.Context, col, v string, now int64) error {
	return s.inTxRetry(ctx, true, func(ctx context.Context, tx *sql.Tx) error { return s.revokeTx(ctx, tx, col, v, now) })
}

func (s *DB) RevokeOAuthToken(ctx context.Context, id string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.revoke(ctx, "id", id, now)
}

func (s *DB) RevokeTokenFamily(ctx context.Context, familyID string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.revoke(ctx, "family_id", familyID, now)
}

func (s *DB) RevokeTokensByGrant(ctx context.Context, grantID string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.revoke(ctx, "grant_id", grantID, now)
}

func (s *DB) RevokeTokensByApp(ctx context.Context, appID string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.revoke(ctx, "app_id", appID, now)
}

// ---- GC

// gcChunk is how many rows one DELETE of DeleteExpired removes at most.
// Each chunk commits on its own, so a backlog (a burst of grants expiring
// together, a server that was down for a day) never holds SQLite's one writer
// for longer than a chunk takes, nor grows the WAL and the writer's memory
// with one huge transaction.
var gcChunk = 100

func (s *DB) DeleteExpired(ctx context.Context, now int64) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// Each chunk names its rows by their physical address (SQLite's rowid,
	// PostgreSQL's ctid: a TID scan for ANY(ARRAY(…))), found through the
	// expiry index.
	chunk := "rowid IN (SELECT rowid FROM %[1]s WHERE expires_at <= ? LIMIT ?)"
	if s.dialect == Postgres {
		chunk = "ctid = ANY(ARRAY(SELECT ctid FROM %[1]s WHERE expires_at <= ? LIMIT ?))"
	}
	var total int64
	for _, d := range []struct {
		table  string
		cutoff int64
	}{
		{"oauth_auth_codes", now}, {"oauth_device_codes", now - store.DeviceCodeTombstone},
		{"oauth_jtis", now}, {"oauth_tokens", now},
	} {
		query := s.q(fmt.Sprintf("DELETE FROM %[1]s WHERE "+chunk+" AND expires_at <= ?", d.table))
		for {
			n, err := s.deleteChunk(ctx, query, d.cutoff)
			total += n
			if err != nil {
				return total, err
			}
			if n < int64(gcChunk) {
				break
			}
		}
	}
	return total, nil
}

// deleteChunk runs one chunk of DeleteExpired.
func (s *DB) deleteChunk(ctx context.Context, query string, cutoff int64) (int64, error) {
	var n int64
	err := s.inTxRetry(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, query, cutoff, gcChunk, cutoff)
		if err != nil {
			return mapErr(err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

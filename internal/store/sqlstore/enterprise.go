package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cozeauth/cozeauth/internal/store"
)

// ---- personal account resource authorizations

const accountAuthCols = "account_id, credential_id, kind, enterprise_id, created_by, created_at"

func scanAccountAuth(row scanner) (store.AccountAuthorization, error) {
	var a store.AccountAuthorization
	err := row.Scan(&a.AccountID, &a.CredentialID, &a.Kind, &a.EnterpriseID, &a.CreatedBy, &a.CreatedAt)
	return a, mapErr(err)
}

func (s *DB) PutAccountAuthorization(ctx context.Context, a store.AccountAuthorization) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	switch {
	case a.AccountID == "" || a.CredentialID == "" || a.EnterpriseID == "" || a.CreatedBy == "":
		return fmt.Errorf("%w: an account authorization needs an account, a credential, an enterprise and who made it", store.ErrInvalid)
	case a.Kind != store.AccountAuthPAT && a.Kind != store.AccountAuthApp:
		return fmt.Errorf("%w: account authorization kind %q", store.ErrInvalid, a.Kind)
	}
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, store.Owner{Type: store.OwnerPersonal, ID: a.AccountID}); err != nil {
			return err
		}
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO account_authorizations ("+accountAuthCols+") VALUES (?, ?, ?, ?, ?, ?) "+
			"ON CONFLICT (account_id, credential_id) DO NOTHING"),
			a.AccountID, a.CredentialID, string(a.Kind), a.EnterpriseID, a.CreatedBy, a.CreatedAt)
		return mapErr(err)
	})
}

func (s *DB) GetAccountAuthorization(ctx context.Context, accountID, credentialID string) (store.AccountAuthorization, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanAccountAuth(s.dbQueryRow(ctx, s.q("SELECT "+accountAuthCols+" FROM account_authorizations WHERE account_id = ? AND credential_id = ?"),
		accountID, credentialID))
}

func (s *DB) ListAccountAuthorizations(ctx context.Context, accountID string) ([]store.AccountAuthorization, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+accountAuthCols+" FROM account_authorizations WHERE account_id = ? ORDER BY created_at, credential_id"), accountID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.AccountAuthorization
	for rows.Next() {
		a, err := scanAccountAuth(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) DeleteAccountAuthorization(ctx context.Context, accountID, credentialID string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("DELETE FROM account_authorizations WHERE account_id = ? AND credential_id = ?"), accountID, credentialID)
	})
}

// deleteAccountAuthorizationsOf removes every authorization of a credential
// (a PAT or an app) that is going away.
func (s *DB) deleteAccountAuthorizationsOf(ctx context.Context, tx *sql.Tx, credentialID string) error {
	_, err := s.txExec(ctx, tx, s.q("DELETE FROM account_authorizations WHERE credential_id = ?"), credentialID)
	return mapErr(err)
}

// ---- audit log

const auditCols = "id, at, actor_id, actor_type, action, target_type, target_id, enterprise_id, ip, logid, detail"

func validAudit(e store.AuditEvent) error {
	if e.ID == "" || e.Action == "" || e.TargetType == "" || e.TargetID == "" {
		return fmt.Errorf("%w: an audit event needs an ID, an action and a target", store.ErrInvalid)
	}
	if !json.Valid([]byte(e.Detail)) || !strings.HasPrefix(strings.TrimSpace(e.Detail), "{") {
		return fmt.Errorf("%w: audit detail must be a JSON object", store.ErrInvalid)
	}
	return nil
}

func (s *DB) appendAuditTx(ctx context.Context, q querier, e store.AuditEvent) error {
	if err := validAudit(e); err != nil {
		return err
	}
	if e.ActorType == "" {
		e.ActorType = store.ActorFrom(ctx).Type
		if e.ActorID != "" {
			e.ActorType = store.ActorUser
		}
	}
	_, err := q.ExecContext(ctx, s.q("INSERT INTO audit_events ("+auditCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		e.ID, e.At, e.ActorID, e.ActorType, e.Action, e.TargetType, e.TargetID, e.EnterpriseID, e.IP, e.LogID, e.Detail)
	return mapErr(err)
}

// appendPendingAudit appends the event pending on ctx (store.WithAudit) in
// tx; the returned func reports the transaction's outcome.
func (s *DB) appendPendingAudit(ctx context.Context, tx *sql.Tx) (func(committed bool), error) {
	p := store.PendingAuditFrom(ctx)
	if p == nil {
		return func(bool) {}, nil
	}
	e, ok := p.Take()
	if !ok {
		return func(bool) {}, nil
	}
	if err := s.appendAuditTx(ctx, tx, e); err != nil {
		p.Done(false)
		return nil, err
	}
	return p.Done, nil
}

func (s *DB) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.appendAuditTx(ctx, s.db, e)
}

func (s *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"actor_id", f.ActorID}, {"target_type", f.TargetType}, {"target_id", f.TargetID}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		// A prefix: escape LIKE's wildcards (actions are dotted words, but
		// the filter comes from users).
		esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(f.Action)
		where, args = append(where, `action LIKE ? ESCAPE '\'`), append(args, esc+"%")
	case f.Action != "":
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Since != 0 {
		where, args = append(where, "at >= ?"), append(args, f.Since)
	}
	if f.Until != 0 {
		where, args = append(where, "at <= ?"), append(args, f.Until)
	}
	if f.Before != "" {
		var at int64
		if err := s.db.QueryRowContext(ctx, s.q("SELECT at FROM audit_events WHERE id = ?"), f.Before).Scan(&at); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("%w: unknown audit cursor %q", store.ErrInvalid, f.Before)
			}
			return nil, mapErr(err)
		}
		where, args = append(where, "(at < ? OR (at = ? AND id < ?))"), append(args, at, at, f.Before)
	}
	if v := f.Visible; v != nil {
		or := []string{"actor_id = ?", "(target_type = 'user' AND target_id = ?)"}
		args = append(args, v.UserID, v.UserID)
		if len(v.EnterpriseIDs) > 0 {
			or = append(or, "enterprise_id IN (?"+strings.Repeat(", ?", len(v.EnterpriseIDs)-1)+")")
			for _, id := range v.EnterpriseIDs {
				args = append(args, id)
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	query := "SELECT " + auditCols + " FROM audit_events"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY at DESC, id DESC"
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorType, &e.Action, &e.TargetType, &e.TargetID,
			&e.EnterpriseID, &e.IP, &e.LogID, &e.Detail); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// ---- enterprise operations

func (s *DB) MigrateWorkspaces(ctx context.Context, ids []string, from, to store.Owner, audit store.AuditEvent) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	switch {
	case len(ids) == 0:
		return fmt.Errorf("%w: no workspaces to migrate", store.ErrInvalid)
	case !from.Valid() || !to.Valid() || from == to:
		return fmt.Errorf("%w: a migration needs two different accounts", store.ErrInvalid)
	}
	if err := validAudit(audit); err != nil {
		return err
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, to); err != nil {
			return err
		}
		for _, id := range ids {
			// A compare-and-swap on the owner: a concurrent migration or
			// deletion of the same workspace makes this one fail whole.
			res, err := s.txExec(ctx, tx, s.q("UPDATE workspaces SET owner_type = ?, owner_id = ? WHERE id = ? AND owner_type = ? AND owner_id = ?"),
				string(to.Type), to.ID, id, string(from.Type), from.ID)
			if err != nil {
				return mapErr(err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n != 1 {
				return fmt.Errorf("%w: workspace %q is not (or no longer) owned by %s account %s", store.ErrInvalid, id, from.Type, from.ID)
			}
		}
		return s.appendAuditTx(ctx, tx, audit)
	})
}

func (s *DB) RemoveEnterpriseMember(ctx context.Context, enterpriseID, userID, receiverID string, audit store.AuditEvent) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if userID == receiverID {
		return fmt.Errorf("%w: the receiver of a removed member's workspaces must be someone else", store.ErrInvalid)
	}
	if err := validAudit(audit); err != nil {
		return err
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := s.txQueryRow(ctx, tx, s.q("SELECT COUNT(*) FROM enterprise_members WHERE enterprise_id = ? AND user_id = ?"),
			enterpriseID, receiverID).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: receiver %q is not a member of enterprise %q", store.ErrInvalid, receiverID, enterpriseID)
		}
		if err := s.deleteEnterpriseMemberTx(ctx, tx, enterpriseID, userID); err != nil {
			return err
		}
		// The receiver owns what the member owned (an upsert: the receiver
		// may already be a member of those workspaces).
		owned := "SELECT m.workspace_id FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id " +
			"WHERE w.owner_type = ? AND w.owner_id = ? AND m.user_id = ?"
		if _, err := s.txExec(ctx, tx, s.q("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) "+
			"SELECT workspace_id, ?, ?, ? FROM ("+owned+" AND m.role = ?) o WHERE true "+
			"ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role"),
			receiverID, string(store.WorkspaceRoleOwner), audit.At,
			string(store.OwnerEnterprise), enterpriseID, userID, string(store.WorkspaceRoleOwner)); err != nil {
			return mapErr(err)
		}
		if _, err := s.txExec(ctx, tx, s.q("DELETE FROM workspace_members WHERE user_id = ? AND workspace_id IN ("+
			"SELECT id FROM workspaces WHERE owner_type = ? AND owner_id = ?)"),
			userID, string(store.OwnerEnterprise), enterpriseID); err != nil {
			return mapErr(err)
		}
		return s.appendAuditTx(ctx, tx, audit)
	})
}

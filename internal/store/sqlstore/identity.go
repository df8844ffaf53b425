package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cozeauth/cozeauth/internal/store"
)

const userCols = "id, username, nickname, avatar_url, password_hash, account_id, created_at"

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.Username, &u.Nickname, &u.AvatarURL, &u.PasswordHash, &u.AccountID, &u.CreatedAt)
	return u, mapErr(err)
}

func (s *DB) CreateUser(ctx context.Context, u store.User) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if u.ID == "" || u.Username == "" {
		return fmt.Errorf("%w: user needs an ID and a username", store.ErrInvalid)
	}
	if u.AccountID == "" {
		u.AccountID = u.ID
	}
	if u.AccountID != u.ID {
		return fmt.Errorf("%w: a personal account's ID is its user's ID", store.ErrInvalid)
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO users ("+userCols+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
			u.ID, u.Username, u.Nickname, u.AvatarURL, u.PasswordHash, u.AccountID, u.CreatedAt)
		return mapErr(err)
	})
}

func (s *DB) getUserBy(ctx context.Context, col, v string) (store.User, error) {
	return scanUser(s.dbQueryRow(ctx, s.q("SELECT "+userCols+" FROM users WHERE "+col+" = ?"), v))
}

func (s *DB) GetUser(ctx context.Context, id string) (store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getUserBy(ctx, "id", id)
}

func (s *DB) GetUserByUsername(ctx context.Context, username string) (store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getUserBy(ctx, "username", username)
}

func (s *DB) GetUserByAccountID(ctx context.Context, accountID string) (store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getUserBy(ctx, "account_id", accountID)
}

func (s *DB) GetUserByAccountAlias(ctx context.Context, alias string) (store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanUser(s.dbQueryRow(ctx, s.q("SELECT "+userCols+" FROM users WHERE id = (SELECT user_id FROM account_aliases WHERE id = ?)"), alias))
}

func (s *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, "SELECT "+userCols+" FROM users ORDER BY created_at, id")
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// ---- enterprises ----

func (s *DB) CreateEnterprise(ctx context.Context, e store.Enterprise, superAdmin string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if e.ID == "" || e.Name == "" {
		return fmt.Errorf("%w: enterprise needs an ID and a name", store.ErrInvalid)
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, s.q("INSERT INTO enterprises (id, name, created_at) VALUES (?, ?, ?)"),
			e.ID, e.Name, e.CreatedAt); err != nil {
			return mapErr(err)
		}
		if superAdmin == "" {
			return nil
		}
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO enterprise_members (enterprise_id, user_id, role, created_at) VALUES (?, ?, ?, ?)"),
			e.ID, superAdmin, string(store.RoleSuperAdmin), e.CreatedAt)
		return mapErr(err)
	})
}

func (s *DB) ListEnterprises(ctx context.Context) ([]store.Enterprise, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, "SELECT id, name, created_at FROM enterprises ORDER BY created_at, id")
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []store.Enterprise{}
	for rows.Next() {
		var e store.Enterprise
		if err := rows.Scan(&e.ID, &e.Name, &e.CreatedAt); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) GetEnterprise(ctx context.Context, id string) (store.Enterprise, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var e store.Enterprise
	err := s.dbQueryRow(ctx, s.q("SELECT id, name, created_at FROM enterprises WHERE id = ?"), id).
		Scan(&e.ID, &e.Name, &e.CreatedAt)
	return e, mapErr(err)
}

func (s *DB) PutEnterpriseMember(ctx context.Context, m store.EnterpriseMember) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !m.Role.Valid() {
		return fmt.Errorf("%w: enterprise role %q", store.ErrInvalid, m.Role)
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		// One upsert, not UPDATE-then-INSERT: on PostgreSQL two concurrent puts
		// of a new member would both find nothing to update and one INSERT
		// would fail. A role change keeps the original created_at.
		if _, err := s.txExec(ctx, tx, s.q("INSERT INTO enterprise_members (enterprise_id, user_id, role, created_at) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT (enterprise_id, user_id) DO UPDATE SET role = excluded.role"),
			m.EnterpriseID, m.UserID, string(m.Role), m.CreatedAt); err != nil {
			return mapErr(err)
		}
		if m.Role.IsAdmin() {
			return nil
		}
		// Personal-resource authorizations are an admin's: a demoted member's end.
		_, err := s.txExec(ctx, tx, s.q("DELETE FROM account_authorizations WHERE enterprise_id = ? AND created_by = ?"), m.EnterpriseID, m.UserID)
		return mapErr(err)
	})
}

func (s *DB) DeleteEnterpriseMember(ctx context.Context, enterpriseID, userID string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		return s.deleteEnterpriseMemberTx(ctx, tx, enterpriseID, userID)
	})
}

// deleteEnterpriseMemberTx removes the membership and what the user held as
// a member: the personal-resource authorizations they gave the enterprise's
// credentials, their enterprise PATs, and the OBO grants they gave in the
// enterprise (tokens revoked). Suspending them instead would bring them back
// if the user were added again, even as a Guest.
func (s *DB) deleteEnterpriseMemberTx(ctx context.Context, tx *sql.Tx, enterpriseID, userID string) error {
	if err := execOne(ctx, tx, s.q("DELETE FROM enterprise_members WHERE enterprise_id = ? AND user_id = ?"), enterpriseID, userID); err != nil {
		return err
	}
	ent := string(store.OwnerEnterprise)
	pats := "SELECT id FROM credentials WHERE kind = ? AND owner_type = ? AND owner_id = ? AND user_id = ?"
	obo := "SELECT id FROM oauth_grants WHERE kind = ? AND owner_type = ? AND owner_id = ? AND user_id = ?"
	patArgs := []any{string(store.KindPAT), ent, enterpriseID, userID}
	oboArgs := []any{string(store.GrantOBO), ent, enterpriseID, userID}
	for _, st := range []struct {
		query string
		args  []any
	}{
		{"DELETE FROM account_authorizations WHERE enterprise_id = ? AND created_by = ?", []any{enterpriseID, userID}},
		{"DELETE FROM account_authorizations WHERE credential_id IN (" + pats + ")", patArgs},
		{"DELETE FROM credentials WHERE id IN (" + pats + ")", patArgs},
		{"UPDATE oauth_tokens SET revoked_at = ? WHERE revoked_at = 0 AND grant_id IN (" + obo + ")", append([]any{s.now().Unix()}, oboArgs...)},
		{"DELETE FROM oauth_device_codes WHERE grant_id IN (" + obo + ")", oboArgs},
		{"DELETE FROM oauth_grants WHERE id IN (" + obo + ")", oboArgs},
	} {
		if _, err := s.txExec(ctx, tx, s.q(st.query), st.args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

const enterpriseMemberCols = "enterprise_id, user_id, role, created_at"

func scanEnterpriseMember(row interface{ Scan(...any) error }) (store.EnterpriseMember, error) {
	var m store.EnterpriseMember
	var role string
	err := row.Scan(&m.EnterpriseID, &m.UserID, &role, &m.CreatedAt)
	m.Role = store.EnterpriseRole(role)
	return m, mapErr(err)
}

func (s *DB) GetEnterpriseMember(ctx context.Context, enterpriseID, userID string) (store.EnterpriseMember, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanEnterpriseMember(s.db.QueryRowContext(ctx,
		s.q("SELECT "+enterpriseMemberCols+" FROM enterprise_members WHERE enterprise_id = ? AND user_id = ?"), enterpriseID, userID))
}

func (s *DB) listEnterpriseMembers(ctx context.Context, where, arg string) ([]store.EnterpriseMember, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+enterpriseMemberCols+" FROM enterprise_members WHERE "+where+" = ? ORDER BY created_at, enterprise_id, user_id"), arg)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.EnterpriseMember
	for rows.Next() {
		m, err := scanEnterpriseMember(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) ListEnterpriseMembers(ctx context.Context, enterpriseID string) ([]store.EnterpriseMember, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.listEnterpriseMembers(ctx, "enterprise_id", enterpriseID)
}

func (s *DB) ListUserEnterprises(ctx context.Context, userID string) ([]store.EnterpriseMember, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.listEnterpriseMembers(ctx, "user_id", userID)
}

// ---- workspaces ----

const workspaceCols = "w.id, w.name, w.icon_url, w.owner_type, w.owner_id, w.created_at"

func scanWorkspace(dst *store.Workspace, extra ...any) []any {
	return append([]any{&dst.ID, &dst.Name, &dst.IconURL, &dst.Owner.Type, &dst.Owner.ID, &dst.CreatedAt}, extra...)
}

func (s *DB) CreateWorkspace(ctx context.Context, w store.Workspace, owner *store.WorkspaceMember) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if w.ID == "" || w.Name == "" || !w.Owner.Valid() {
		return fmt.Errorf("%w: workspace needs an ID, a name and an owner", store.ErrInvalid)
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, w.Owner); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, s.q("INSERT INTO workspaces (id, name, icon_url, owner_type, owner_id, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
			w.ID, w.Name, w.IconURL, string(w.Owner.Type), w.Owner.ID, w.CreatedAt); err != nil {
			return mapErr(err)
		}
		if owner == nil {
			return nil
		}
		if !owner.Role.Valid() {
			return fmt.Errorf("%w: workspace role %q", store.ErrInvalid, owner.Role)
		}
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)"),
			w.ID, owner.UserID, string(owner.Role), owner.CreatedAt)
		return mapErr(err)
	})
}

// checkOwner makes sure an Owner names an existing account: the owner columns
// are polymorphic, so no foreign key can.
func (s *DB) checkOwner(ctx context.Context, q querier, o store.Owner) error {
	var query string
	switch o.Type {
	case store.OwnerPersonal:
		query = "SELECT COUNT(*) FROM users WHERE account_id = ?"
	case store.OwnerEnterprise:
		query = "SELECT COUNT(*) FROM enterprises WHERE id = ?"
	default:
		return fmt.Errorf("%w: owner type %q", store.ErrInvalid, o.Type)
	}
	var n int
	if err := q.QueryRowContext(ctx, s.q(query), o.ID).Scan(&n); err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: no %s account %q", store.ErrInvalid, o.Type, o.ID)
	}
	return nil
}

func (s *DB) GetWorkspace(ctx context.Context, id string) (store.Workspace, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var w store.Workspace
	err := s.dbQueryRow(ctx, s.q("SELECT "+workspaceCols+" FROM workspaces w WHERE w.id = ?"), id).Scan(scanWorkspace(&w)...)
	return w, mapErr(err)
}

func (s *DB) ListWorkspacesByOwner(ctx context.Context, owner store.Owner) ([]store.Workspace, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+workspaceCols+" FROM workspaces w WHERE w.owner_type = ? AND w.owner_id = ? ORDER BY w.created_at, w.id"),
		string(owner.Type), owner.ID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Workspace
	for rows.Next() {
		var w store.Workspace
		if err := rows.Scan(scanWorkspace(&w)...); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, w)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) PutWorkspaceMember(ctx context.Context, m store.WorkspaceMember) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if !m.Role.Valid() {
		return fmt.Errorf("%w: workspace role %q", store.ErrInvalid, m.Role)
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		// An upsert for the reason given in PutEnterpriseMember.
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role"),
			m.WorkspaceID, m.UserID, string(m.Role), m.CreatedAt)
		return mapErr(err)
	})
}

func (s *DB) DeleteWorkspaceMember(ctx context.Context, workspaceID, userID string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?"), workspaceID, userID)
	})
}

func (s *DB) GetWorkspaceMember(ctx context.Context, workspaceID, userID string) (store.WorkspaceMember, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var m store.WorkspaceMember
	var role string
	err := s.dbQueryRow(ctx, s.q("SELECT workspace_id, user_id, role, created_at FROM workspace_members WHERE workspace_id = ? AND user_id = ?"),
		workspaceID, userID).Scan(&m.WorkspaceID, &m.UserID, &role, &m.CreatedAt)
	m.Role = store.WorkspaceRole(role)
	return m, mapErr(err)
}

func (s *DB) ListMemberWorkspaces(ctx context.Context, userID string) ([]store.MemberWorkspace, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+workspaceCols+", m.role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = ? ORDER BY w.created_at, w.id"), userID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.MemberWorkspace
	for rows.Next() {
		var mw store.MemberWorkspace
		var role string
		if err := rows.Scan(scanWorkspace(&mw.Workspace, &role)...); err != nil {
			return nil, mapErr(err)
		}
		mw.Role = store.WorkspaceRole(role)
		out = append(out, mw)
	}
	return out, mapErr(rows.Err())
}

// ---- resources ----

func (s *DB) CreateResource(ctx context.Context, r store.Resource) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if r.Type == "" || r.ID == "" || (r.WorkspaceID == "") == (r.AccountID == "") {
		return fmt.Errorf("%w: resource needs a type, an ID and exactly one of workspace and account", store.ErrInvalid)
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if r.WorkspaceID != "" {
			var n int
			if err := s.txQueryRow(ctx, tx, s.q("SELECT COUNT(*) FROM workspaces WHERE id = ?"), r.WorkspaceID).Scan(&n); err != nil {
				return mapErr(err)
			}
			if n == 0 {
				return fmt.Errorf("%w: no workspace %q", store.ErrInvalid, r.WorkspaceID)
			}
		} else if err := s.checkAccount(ctx, tx, r.AccountID); err != nil {
			return err
		}
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO resources (type, id, workspace_id, account_id, created_at) VALUES (?, ?, ?, ?, ?)"),
			r.Type, r.ID, r.WorkspaceID, r.AccountID, r.CreatedAt)
		return mapErr(err)
	})
}

// checkAccount accepts a personal account ID or an enterprise ID.
func (s *DB) checkAccount(ctx context.Context, q querier, id string) error {
	if s.checkOwner(ctx, q, store.Owner{Type: store.OwnerPersonal, ID: id}) == nil {
		return nil
	}
	return s.checkOwner(ctx, q, store.Owner{Type: store.OwnerEnterprise, ID: id})
}

func (s *DB) GetResource(ctx context.Context, typ, id string) (store.Resource, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var r store.Resource
	err := s.dbQueryRow(ctx, s.q("SELECT type, id, workspace_id, account_id, created_at FROM resources WHERE type = ? AND id = ?"), typ, id).
		Scan(&r.Type, &r.ID, &r.WorkspaceID, &r.AccountID, &r.CreatedAt)
	return r, mapErr(err)
}

func (s *DB) DeleteResource(ctx context.Context, typ, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("DELETE FROM resources WHERE type = ? AND id = ?"), typ, id)
	})
}

// ---- upstream tokens ----

func (s *DB) PutUpstreamToken(ctx context.Context, userID, sealed string, at int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if userID == "" || sealed == "" {
		return fmt.Errorf("%w: an upstream token needs a user and a sealed value", store.ErrInvalid)
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := s.txQueryRow(ctx, tx, s.q("SELECT COUNT(*) FROM users WHERE id = ?"), userID).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: no user %q", store.ErrNotFound, userID)
		}
		res, err := s.txExec(ctx, tx, s.q("UPDATE upstream_tokens SET sealed = ?, updated_at = ? WHERE user_id = ?"), sealed, at, userID)
		if err != nil {
			return mapErr(err)
		}
		if k, err := res.RowsAffected(); err != nil || k > 0 {
			return err
		}
		_, err = s.txExec(ctx, tx, s.q("INSERT INTO upstream_tokens (user_id, sealed, updated_at) VALUES (?, ?, ?)"), userID, sealed, at)
		return mapErr(err)
	})
}

func (s *DB) GetUpstreamToken(ctx context.Context, userID string) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var sealed string
	err := s.dbQueryRow(ctx, s.q("SELECT sealed FROM upstream_tokens WHERE user_id = ?"), userID).Scan(&sealed)
	return sealed, mapErr(err)
}

func (s *DB) DeleteUpstreamToken(ctx context.Context, userID string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("DELETE FROM upstream_tokens WHERE user_id = ?"), userID)
	})
}

// execOne runs a DELETE or UPDATE that must affect exactly one row (else
// ErrNotFound).
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *DB) UpdateUser(ctx context.Context, id string, update func(store.User) (store.User, error)) (store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var out store.User
	// The revision advances: the OpenAPI caches a user's profile.
	err := s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockRow(ctx, tx, "users", "id", id); err != nil {
			return err
		}
		old, err := scanUser(tx.QueryRowContext(ctx, s.q("SELECT "+userCols+" FROM users WHERE id = ?"), id))
		if err != nil {
			return err
		}
		nu, err := update(old)
		if err != nil {
			return err
		}
		nu.ID, nu.Username, nu.AccountID, nu.CreatedAt = old.ID, old.Username, old.AccountID, old.CreatedAt
		if nu.PasswordHash == "" {
			return fmt.Errorf("%w: a user needs a password hash", store.ErrInvalid)
		}
		if err := execOne(ctx, tx, s.q("UPDATE users SET nickname = ?, avatar_url = ?, password_hash = ? WHERE id = ?"),
			nu.Nickname, nu.AvatarURL, nu.PasswordHash, id); err != nil {
			return err
		}
		out = nu
		return nil
	})
	return out, err
}

func (s *DB) DeleteUser(ctx context.Context, id string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	personal := string(store.OwnerPersonal)
	return s.inTxRetry(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockRow(ctx, tx, "users", "id", id); err != nil {
			return err
		}
		var ents int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM enterprise_members WHERE user_id = ?"), id).Scan(&ents); err != nil {
			return mapErr(err)
		}
		if ents > 0 {
			return fmt.Errorf("%w: the user belongs to %d enterprise(s); remove them from each first (their enterprise workspaces go to a receiver)", store.ErrInvalid, ents)
		}
		steps := []struct {
			query string
			args  []any
		}{
			// The OAuth authorizations the user gave, or that act in their
			// account: tokens revoked (kept as revoked rows), then gone.
			{"UPDATE oauth_tokens SET revoked_at = ? WHERE revoked_at = 0 AND grant_id IN " +
				"(SELECT id FROM oauth_grants WHERE user_id = ? OR (owner_type = ? AND owner_id = ?))", []any{now, id, personal, id}},
			{"DELETE FROM oauth_device_codes WHERE grant_id IN (SELECT id FROM oauth_grants WHERE user_id = ? OR (owner_type = ? AND owner_id = ?))", []any{id, personal, id}},
			{"DELETE FROM oauth_grants WHERE user_id = ? OR (owner_type = ? AND owner_id = ?)", []any{id, personal, id}},
			// The personal account's apps; their secrets, keys, grants,
			// codes and tokens go by cascade.
			{"DELETE FROM account_authorizations WHERE credential_id IN (SELECT id FROM oauth_apps WHERE owner_type = ? AND owner_id = ?)", []any{personal, id}},
			{"DELETE FROM oauth_apps WHERE owner_type = ? AND owner_id = ?", []any{personal, id}},
			// The user's PATs.
			{"DELETE FROM account_authorizations WHERE account_id = ? OR credential_id IN (SELECT id FROM credentials WHERE user_id = ?)", []any{id, id}},
			{"DELETE FROM credentials WHERE user_id = ? OR (owner_type = ? AND owner_id = ?)", []any{id, personal, id}},
			// The personal workspaces and their resources; other members'
			// tokens stop listing them.
			{"DELETE FROM resources WHERE account_id = ? OR workspace_id IN (SELECT id FROM workspaces WHERE owner_type = ? AND owner_id = ?)", []any{id, personal, id}},
			{"DELETE FROM credential_workspaces WHERE workspace_id IN (SELECT id FROM workspaces WHERE owner_type = ? AND owner_id = ?)", []any{personal, id}},
			{"DELETE FROM workspaces WHERE owner_type = ? AND owner_id = ?", []any{personal, id}},
		}
		for _, st := range steps {
			if _, err := s.txExec(ctx, tx, s.q(st.query), st.args...); err != nil {
				return mapErr(err)
			}
		}
		// Sessions, memberships, the upstream token and account aliases go
		// by cascade.
		return execOne(ctx, tx, s.q("DELETE FROM users WHERE id = ?"), id)
	})
}

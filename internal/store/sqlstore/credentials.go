package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cozeauth/cozeauth/internal/store"
)

const credentialCols = "id, kind, name, token_hash, user_id, owner_type, owner_id, permissions, all_workspaces, expire_at, created_at, updated_at, last_used_at"

func validCredential(c store.Credential) error {
	switch {
	case c.ID == "" || c.TokenHash == "" || c.Name == "":
		return fmt.Errorf("%w: credential needs an ID, a name and a token hash", store.ErrInvalid)
	case c.Kind != store.KindPAT && c.Kind != store.KindSAT:
		return fmt.Errorf("%w: credential kind %q", store.ErrInvalid, c.Kind)
	case !c.Owner.Valid():
		return fmt.Errorf("%w: credential owner %+v", store.ErrInvalid, c.Owner)
	case c.AllWorkspaces && len(c.WorkspaceIDs) > 0:
		return fmt.Errorf("%w: credential with all workspaces cannot also list workspaces", store.ErrInvalid)
	}
	return nil
}

func (s *DB) CreateCredential(ctx context.Context, c store.Credential) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := validCredential(c); err != nil {
		return err
	}
	perms, err := json.Marshal(nonNil(c.Permissions))
	if err != nil {
		return err
	}
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, c.Owner); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, s.q("INSERT INTO credentials ("+credentialCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			c.ID, string(c.Kind), c.Name, c.TokenHash, c.UserID, string(c.Owner.Type), c.Owner.ID, string(perms),
			boolInt(c.AllWorkspaces), c.ExpireAt, c.CreatedAt, c.UpdatedAt, c.LastUsedAt); err != nil {
			return mapErr(err)
		}
		return s.putCredentialWorkspaces(ctx, tx, c.ID, c.WorkspaceIDs)
	})
}

func (s *DB) putCredentialWorkspaces(ctx context.Context, tx *sql.Tx, id string, workspaces []string) error {
	if _, err := s.txExec(ctx, tx, s.q("DELETE FROM credential_workspaces WHERE credential_id = ?"), id); err != nil {
		return mapErr(err)
	}
	seen := map[string]bool{}
	for _, w := range workspaces {
		if seen[w] {
			continue
		}
		seen[w] = true
		var n int
		if err := s.txQueryRow(ctx, tx, s.q("SELECT COUNT(*) FROM workspaces WHERE id = ?"), w).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: no workspace %q", store.ErrInvalid, w)
		}
		if _, err := s.txExec(ctx, tx, s.q("INSERT INTO credential_workspaces (credential_id, workspace_id) VALUES (?, ?)"), id, w); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// scanCredential scans credentialCols and then extra.
func (s *DB) scanCredential(row interface{ Scan(...any) error }, extra ...any) (store.Credential, error) {
	var c store.Credential
	var kind, perms string
	var all int64
	err := row.Scan(append([]any{&c.ID, &kind, &c.Name, &c.TokenHash, &c.UserID, &c.Owner.Type, &c.Owner.ID, &perms, &all,
		&c.ExpireAt, &c.CreatedAt, &c.UpdatedAt, &c.LastUsedAt}, extra...)...)
	if err != nil {
		return c, mapErr(err)
	}
	c.Kind = store.CredentialKind(kind)
	c.AllWorkspaces = all != 0
	if err := json.Unmarshal([]byte(perms), &c.Permissions); err != nil {
		return c, fmt.Errorf("credential %s: corrupt permissions: %w", c.ID, err)
	}
	return c, nil
}

// loadWorkspaceIDs fills WorkspaceIDs for the given credentials with one query.
func (s *DB) loadWorkspaceIDs(ctx context.Context, q querier, cs []store.Credential) error {
	if len(cs) == 0 {
		return nil
	}
	idx := make(map[string]int, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		idx[c.ID] = i
		args[i] = c.ID
	}
	query := "SELECT credential_id, workspace_id FROM credential_workspaces WHERE credential_id IN (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cs)), ", ") + ") ORDER BY credential_id, workspace_id"
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, wid string
		if err := rows.Scan(&cid, &wid); err != nil {
			return mapErr(err)
		}
		i := idx[cid]
		cs[i].WorkspaceIDs = append(cs[i].WorkspaceIDs, wid)
	}
	return mapErr(rows.Err())
}

// getCredential reads the credential and its workspace list in one statement:
// two statements would each see their own snapshot (on both backends), so a
// concurrent update could be returned half old, half new — old permissions
// with new workspaces.
func (s *DB) getCredential(ctx context.Context, q querier, col, v string) (store.Credential, error) {
	rows, err := q.QueryContext(ctx, s.q("SELECT "+credentialCols+", COALESCE(cw.workspace_id, '') FROM credentials c "+
		"LEFT JOIN credential_workspaces cw ON cw.credential_id = c.id WHERE c."+col+" = ? ORDER BY cw.workspace_id"), v)
	if err != nil {
		return store.Credential{}, mapErr(err)
	}
	defer rows.Close()
	var c store.Credential
	found := false
	for rows.Next() {
		var wid string
		row, err := s.scanCredential(rows, &wid)
		if err != nil {
			return store.Credential{}, err
		}
		if !found {
			c, found = row, true
		}
		if wid != "" {
			c.WorkspaceIDs = append(c.WorkspaceIDs, wid)
		}
	}
	if err := rows.Err(); err != nil {
		return store.Credential{}, mapErr(err)
	}
	if !found {
		return store.Credential{}, store.ErrNotFound
	}
	return c, nil
}

func (s *DB) GetCredential(ctx context.Context, id string) (store.Credential, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getCredential(ctx, s.db, "id", id)
}

func (s *DB) GetCredentialByHash(ctx context.Context, tokenHash string) (store.Credential, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getCredential(ctx, s.db, "token_hash", tokenHash)
}

func (s *DB) ListCredentials(ctx context.Context, f store.CredentialFilter) ([]store.Credential, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var where []string
	var args []any
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if f.UserID != "" {
		where = append(where, "user_id = ?")
		args = append(args, f.UserID)
	}
	if f.Owner.Type != "" {
		where = append(where, "owner_type = ? AND owner_id = ?")
		args = append(args, string(f.Owner.Type), f.Owner.ID)
	}
	query := "SELECT " + credentialCols + " FROM credentials"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY created_at DESC, id"), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	var out []store.Credential
	for rows.Next() {
		c, err := s.scanCredential(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	for start := 0; start < len(out); start += 500 {
		end := min(start+500, len(out))
		if err := s.loadWorkspaceIDs(ctx, s.db, out[start:end]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *DB) UpdateCredential(ctx context.Context, id string, update func(store.Credential) (store.Credential, error)) (store.Credential, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var out store.Credential
	err := s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if s.dialect == Postgres {
			// READ COMMITTED reads take no lock: without this two updates read
			// the same record and the later write loses the earlier one.
			// SQLite's BEGIN IMMEDIATE already serialises writers.
			if _, err := s.txExec(ctx, tx, s.q("SELECT id FROM credentials WHERE id = ? FOR UPDATE"), id); err != nil {
				return mapErr(err)
			}
		}
		old, err := s.getCredential(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		nc, err := update(old)
		if err != nil {
			return err
		}
		nc.ID, nc.Kind, nc.TokenHash, nc.CreatedAt = old.ID, old.Kind, old.TokenHash, old.CreatedAt
		if err := validCredential(nc); err != nil {
			return err
		}
		if nc.Owner != old.Owner {
			if err := s.checkOwner(ctx, tx, nc.Owner); err != nil {
				return err
			}
		}
		perms, err := json.Marshal(nonNil(nc.Permissions))
		if err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, s.q("UPDATE credentials SET name = ?, user_id = ?, owner_type = ?, owner_id = ?, permissions = ?, all_workspaces = ?, expire_at = ?, updated_at = ?, last_used_at = ? WHERE id = ?"),
			nc.Name, nc.UserID, string(nc.Owner.Type), nc.Owner.ID, string(perms), boolInt(nc.AllWorkspaces), nc.ExpireAt, nc.UpdatedAt, nc.LastUsedAt, id); err != nil {
			return mapErr(err)
		}
		if err := s.putCredentialWorkspaces(ctx, tx, id, nc.WorkspaceIDs); err != nil {
			return err
		}
		sort.Strings(nc.WorkspaceIDs)
		nc.WorkspaceIDs = slices.Compact(nc.WorkspaceIDs) // stored de-duplicated
		out = nc
		return nil
	})
	return out, err
}

func (s *DB) DeleteCredential(ctx context.Context, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, s.q("DELETE FROM credential_workspaces WHERE credential_id = ?"), id); err != nil {
			return mapErr(err)
		}
		if err := s.deleteAccountAuthorizationsOf(ctx, tx, id); err != nil {
			return err
		}
		return execOne(ctx, tx, s.q("DELETE FROM credentials WHERE id = ?"), id)
	})
}

// TouchCredentials only moves last_used_at forward, so batches flushed by
// several processes in any order keep the latest time.
func (s *DB) TouchCredentials(ctx context.Context, lastUsed map[string]int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if len(lastUsed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(lastUsed))
	for id := range lastUsed {
		ids = append(ids, id)
	}
	sort.Strings(ids) // a fixed lock order avoids deadlocks between flushers on PostgreSQL
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := s.txExec(ctx, tx, s.q("UPDATE credentials SET last_used_at = ? WHERE id = ? AND last_used_at < ?"),
				lastUsed[id], id, lastUsed[id]); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

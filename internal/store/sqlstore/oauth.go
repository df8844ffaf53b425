package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cozeauth/cozeauth/internal/store"
)

// OAuth storage: apps, secrets, keys, grants (this file), codes and tokens
// (oauth_tokens.go).

type scanner interface{ Scan(...any) error }

func marshalList(l []string) (string, error) {
	b, err := json.Marshal(nonNil(l))
	return string(b), err
}

func unmarshalList(what, s string, dst *[]string) error {
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		return fmt.Errorf("%s: corrupt list: %w", what, err)
	}
	if len(*dst) == 0 {
		*dst = nil // an empty list reads back as written by Go code: nil
	}
	return nil
}

// bumpTx advances the revision inside tx (for transactions that decide only
// half-way whether they are security-relevant).
func (s *DB) bumpTx(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE revision SET value = value + 1 WHERE id = 1")
	return mapErr(err)
}

// inTxRetry is inTx retried (a few times) when PostgreSQL aborts the
// transaction as a deadlock victim or on a serialization failure. Revocations
// lock token sets that can overlap with other revocations and rotations; the
// lock order is made consistent where it can be (revokeTx), and this covers
// the rest. fn must be safe to run again (it is: everything rolled back).
func (s *DB) inTxRetry(ctx context.Context, bump bool, fn func(ctx context.Context, tx *sql.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, bump, fn)
		var pe *pgconn.PgError
		if attempt < 4 && errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
			continue
		}
		return err
	}
}

// lockRow takes a row lock on PostgreSQL for a read-modify-write; SQLite's
// BEGIN IMMEDIATE already serialises writers.
func (s *DB) lockRow(ctx context.Context, tx *sql.Tx, table, col, v string) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := s.txExec(ctx, tx, s.q("SELECT 1 FROM "+table+" WHERE "+col+" = ? FOR UPDATE"), v)
	return mapErr(err)
}

// forUpdate ends a SELECT of a read-modify-write: its row lock on
// PostgreSQL, in the same round trip as the read; of the tables named, when
// the SELECT joins others.
func (s *DB) forUpdate(of ...string) string {
	switch {
	case s.dialect != Postgres:
		return ""
	case len(of) > 0:
		return " FOR UPDATE OF " + strings.Join(of, ", ")
	}
	return " FOR UPDATE"
}

// qualify prefixes each column of cols ("a, b") with alias: "t.a, t.b".
func qualify(alias, cols string) string {
	return alias + "." + strings.ReplaceAll(cols, ", ", ", "+alias+".")
}

// ---- apps

const appCols = "id, client_id, name, description, owner_type, owner_id, created_by, client_type, redirect_uris, permissions, active, allow_refresh_without_secret, created_at, updated_at"

func validApp(a store.App) error {
	switch {
	case a.ID == "" || a.ClientID == "" || a.Name == "":
		return fmt.Errorf("%w: app needs an ID, a client ID and a name", store.ErrInvalid)
	case !a.ClientType.Valid():
		return fmt.Errorf("%w: client type %q", store.ErrInvalid, a.ClientType)
	case !a.Owner.Valid():
		return fmt.Errorf("%w: app owner %+v", store.ErrInvalid, a.Owner)
	}
	return nil
}

func scanApp(row scanner) (store.App, error) {
	var a store.App
	var uris, perms string
	var active, allow int64
	if err := row.Scan(&a.ID, &a.ClientID, &a.Name, &a.Description, &a.Owner.Type, &a.Owner.ID, &a.CreatedBy, &a.ClientType,
		&uris, &perms, &active, &allow, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return a, mapErr(err)
	}
	a.Active, a.AllowRefreshWithoutSecret = active != 0, allow != 0
	if err := unmarshalList("app "+a.ID, uris, &a.RedirectURIs); err != nil {
		return a, err
	}
	return a, unmarshalList("app "+a.ID, perms, &a.Permissions)
}

func (s *DB) CreateApp(ctx context.Context, a store.App) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := validApp(a); err != nil {
		return err
	}
	uris, err := marshalList(a.RedirectURIs)
	if err != nil {
		return err
	}
	perms, err := marshalList(a.Permissions)
	if err != nil {
		return err
	}
	return s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, a.Owner); err != nil {
			return err
		}
		_, err := s.txExec(ctx, tx, s.q("INSERT INTO oauth_apps ("+appCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			a.ID, a.ClientID, a.Name, a.Description, string(a.Owner.Type), a.Owner.ID, a.CreatedBy, string(a.ClientType),
			uris, perms, boolInt(a.Active), boolInt(a.AllowRefreshWithoutSecret), a.CreatedAt, a.UpdatedAt)
		return mapErr(err)
	})
}

func (s *DB) getApp(ctx context.Context, q querier, col, v string) (store.App, error) {
	return scanApp(q.QueryRowContext(ctx, s.q("SELECT "+appCols+" FROM oauth_apps WHERE "+col+" = ?"), v))
}

func (s *DB) GetApp(ctx context.Context, id string) (store.App, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getApp(ctx, s.db, "id", id)
}

func (s *DB) GetAppByClientID(ctx context.Context, clientID string) (store.App, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getApp(ctx, s.db, "client_id", clientID)
}

func (s *DB) ListAppsByOwner(ctx context.Context, owner store.Owner) ([]store.App, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.listApps(ctx, "owner_type = ? AND owner_id = ?", string(owner.Type), owner.ID)
}

func (s *DB) ListAppsByClientType(ctx context.Context, t store.ClientType) ([]store.App, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.listApps(ctx, "client_type = ?", string(t))
}

func (s *DB) listApps(ctx context.Context, where string, args ...any) ([]store.App, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+appCols+" FROM oauth_apps WHERE "+where+" ORDER BY created_at, id"), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) UpdateApp(ctx context.Context, id string, update func(store.App) (store.App, error)) (store.App, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var out store.App
	err := s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockRow(ctx, tx, "oauth_apps", "id", id); err != nil {
			return err
		}
		old, err := s.getApp(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		na, err := update(old)
		if err != nil {
			return err
		}
		na.ID, na.ClientID, na.Owner, na.CreatedBy, na.CreatedAt = old.ID, old.ClientID, old.Owner, old.CreatedBy, old.CreatedAt
		if err := validApp(na); err != nil {
			return err
		}
		uris, err := marshalList(na.RedirectURIs)
		if err != nil {
			return err
		}
		perms, err := marshalList(na.Permissions)
		if err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, s.q("UPDATE oauth_apps SET name = ?, description = ?, client_type = ?, redirect_uris = ?, permissions = ?, active = ?, allow_refresh_without_secret = ?, updated_at = ? WHERE id = ?"),
			na.Name, na.Description, string(na.ClientType), uris, perms, boolInt(na.Active), boolInt(na.AllowRefreshWithoutSecret), na.UpdatedAt, id); err != nil {
			return mapErr(err)
		}
		out = na
		return nil
	})
	return out, err
}

func (s *DB) DeleteApp(ctx context.Context, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// Foreign keys cascade to secrets, keys, grants, codes, tokens and JTIs.
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.deleteAccountAuthorizationsOf(ctx, tx, id); err != nil {
			return err
		}
		return execOne(ctx, tx, s.q("DELETE FROM oauth_apps WHERE id = ?"), id)
	})
}

// ---- secrets

func (s *DB) AddAppSecret(ctx context.Context, sec store.AppSecret) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if sec.ID == "" || sec.AppID == "" || sec.Hash == "" {
		return fmt.Errorf("%w: app secret needs an ID, an app and a hash", store.ErrInvalid)
	}
	_, err := s.dbExec(ctx, s.q("INSERT INTO oauth_app_secrets (id, app_id, hash, hint, label, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
		sec.ID, sec.AppID, sec.Hash, sec.Hint, sec.Label, sec.CreatedAt)
	return mapErr(err)
}

const secretCols = "id, app_id, hash, hint, label, created_at"

func scanSecret(row scanner) (store.AppSecret, error) {
	var sec store.AppSecret
	err := row.Scan(&sec.ID, &sec.AppID, &sec.Hash, &sec.Hint, &sec.Label, &sec.CreatedAt)
	return sec, mapErr(err)
}

func (s *DB) ListAppSecrets(ctx context.Context, appID string) ([]store.AppSecret, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+secretCols+" FROM oauth_app_secrets WHERE app_id = ? ORDER BY created_at, id"), appID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.AppSecret
	for rows.Next() {
		sec, err := scanSecret(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) GetAppSecretByHash(ctx context.Context, appID, hash string) (store.AppSecret, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanSecret(s.dbQueryRow(ctx, s.q("SELECT "+secretCols+" FROM oauth_app_secrets WHERE app_id = ? AND hash = ?"), appID, hash))
}

func (s *DB) DeleteAppSecret(ctx context.Context, appID, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("DELETE FROM oauth_app_secrets WHERE app_id = ? AND id = ?"), appID, id)
	})
}

// ---- keys

func (s *DB) AddAppKey(ctx context.Context, k store.AppKey) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if k.ID == "" || k.AppID == "" || k.PublicKeyPEM == "" {
		return fmt.Errorf("%w: app key needs an ID, an app and a PEM", store.ErrInvalid)
	}
	_, err := s.dbExec(ctx, s.q("INSERT INTO oauth_app_keys (app_id, id, public_key_pem, label, created_at) VALUES (?, ?, ?, ?, ?)"),
		k.AppID, k.ID, k.PublicKeyPEM, k.Label, k.CreatedAt)
	return mapErr(err)
}

const keyCols = "id, app_id, public_key_pem, label, created_at"

func scanKey(row scanner) (store.AppKey, error) {
	var k store.AppKey
	err := row.Scan(&k.ID, &k.AppID, &k.PublicKeyPEM, &k.Label, &k.CreatedAt)
	return k, mapErr(err)
}

func (s *DB) GetAppKey(ctx context.Context, appID, kid string) (store.AppKey, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanKey(s.dbQueryRow(ctx, s.q("SELECT "+keyCols+" FROM oauth_app_keys WHERE app_id = ? AND id = ?"), appID, kid))
}

func (s *DB) ListAppKeys(ctx context.Context, appID string) ([]store.AppKey, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+keyCols+" FROM oauth_app_keys WHERE app_id = ? ORDER BY created_at, id"), appID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.AppKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) DeleteAppKey(ctx context.Context, appID, kid string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx, s.q("DELETE FROM oauth_app_keys WHERE app_id = ? AND id = ?"), appID, kid)
	})
}

// ---- grants

const grantCols = "id, app_id, kind, user_id, owner_type, owner_id, permissions, all_workspaces, workspace_ids, created_by, created_at, updated_at"

func scanGrant(row scanner) (store.Grant, error) { return scanRecord[store.Grant, grantRow](row) }

// record is a row's columns as scanned (grantRow, tokenRow): dest is what
// Scan fills, parse the record made of it.
type record[T any, R any] interface {
	*R
	dest() []any
	parse() (T, error)
}

// scanRecord scans one row into an R and parses it.
func scanRecord[T any, R any, P record[T, R]](row scanner) (T, error) {
	var r R
	if err := row.Scan(P(&r).dest()...); err != nil {
		var zero T
		return zero, mapErr(err)
	}
	return P(&r).parse()
}

// grantRow holds the columns of grantCols as scanned.
type grantRow struct {
	g         store.Grant
	perms, ws string
	all       int64
}

func (r *grantRow) dest() []any {
	g := &r.g
	return []any{&g.ID, &g.AppID, &g.Kind, &g.UserID, &g.Owner.Type, &g.Owner.ID, &r.perms, &r.all, &r.ws, &g.CreatedBy, &g.CreatedAt, &g.UpdatedAt}
}

func (r *grantRow) parse() (store.Grant, error) {
	g := r.g
	g.AllWorkspaces = r.all != 0
	if err := unmarshalList("grant "+g.ID, r.perms, &g.Permissions); err != nil {
		return g, err
	}
	return g, unmarshalList("grant "+g.ID, r.ws, &g.WorkspaceIDs)
}

func (s *DB) PutGrant(ctx context.Context, g store.Grant) (store.Grant, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	switch {
	case g.ID == "" || g.AppID == "":
		return g, fmt.Errorf("%w: grant needs an ID and an app", store.ErrInvalid)
	case g.Kind != store.GrantOBO && g.Kind != store.GrantAppAuth:
		return g, fmt.Errorf("%w: grant kind %q", store.ErrInvalid, g.Kind)
	case g.Kind == store.GrantOBO && g.UserID == "":
		return g, fmt.Errorf("%w: an obo grant needs a user", store.ErrInvalid)
	case !g.Owner.Valid():
		return g, fmt.Errorf("%w: grant owner %+v", store.ErrInvalid, g.Owner)
	case g.AllWorkspaces && len(g.WorkspaceIDs) > 0:
		return g, fmt.Errorf("%w: grant with all workspaces cannot also list workspaces", store.ErrInvalid)
	}
	ws := slices.Clone(g.WorkspaceIDs)
	slices.Sort(ws)
	ws = slices.Compact(ws)
	perms, err := marshalList(g.Permissions)
	if err != nil {
		return g, err
	}
	wsJSON, err := marshalList(ws)
	if err != nil {
		return g, err
	}
	var out store.Grant
	err = s.inTx(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, g.Owner); err != nil {
			return err
		}
		if g.UserID != "" {
			var n int
			if err := s.txQueryRow(ctx, tx, s.q("SELECT COUNT(*) FROM users WHERE id = ?"), g.UserID).Scan(&n); err != nil {
				return mapErr(err)
			}
			if n == 0 {
				return fmt.Errorf("%w: no user %q", store.ErrInvalid, g.UserID)
			}
		}
		for _, w := range ws {
			var n int
			if err := s.txQueryRow(ctx, tx, s.q("SELECT COUNT(*) FROM workspaces WHERE id = ?"), w).Scan(&n); err != nil {
				return mapErr(err)
			}
			if n == 0 {
				return fmt.Errorf("%w: no workspace %q", store.ErrInvalid, w)
			}
		}
		// ON CONFLICT … DO UPDATE is atomic on both backends, so concurrent
		// puts of the same key never fail on each other.
		if _, err := s.txExec(ctx, tx, s.q("INSERT INTO oauth_grants ("+grantCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "+
			"ON CONFLICT (app_id, kind, owner_type, owner_id, user_id) DO UPDATE SET permissions = excluded.permissions, "+
			"all_workspaces = excluded.all_workspaces, workspace_ids = excluded.workspace_ids, created_by = excluded.created_by, "+
			"updated_at = excluded.updated_at"),
			g.ID, g.AppID, string(g.Kind), g.UserID, string(g.Owner.Type), g.Owner.ID, perms, boolInt(g.AllWorkspaces), wsJSON,
			g.CreatedBy, g.CreatedAt, g.UpdatedAt); err != nil {
			return mapErr(err)
		}
		var err error
		out, err = scanGrant(s.txQueryRow(ctx, tx, s.q("SELECT "+grantCols+" FROM oauth_grants WHERE app_id = ? AND kind = ? AND owner_type = ? AND owner_id = ? AND user_id = ?"),
			g.AppID, string(g.Kind), string(g.Owner.Type), g.Owner.ID, g.UserID))
		return err
	})
	return out, err
}

func (s *DB) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return scanGrant(s.dbQueryRow(ctx, s.q("SELECT "+grantCols+" FROM oauth_grants WHERE id = ?"), id))
}

// getGrant is GetGrant inside tx.
func (s *DB) getGrant(ctx context.Context, tx *sql.Tx, id string) (store.Grant, error) {
	return scanGrant(s.txQueryRow(ctx, tx, s.q("SELECT "+grantCols+" FROM oauth_grants WHERE id = ?"), id))
}

func (s *DB) ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var where []string
	var args []any
	if f.AppID != "" {
		where, args = append(where, "app_id = ?"), append(args, f.AppID)
	}
	if f.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.Owner.Type != "" {
		where, args = append(where, "owner_type = ? AND owner_id = ?"), append(args, string(f.Owner.Type), f.Owner.ID)
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	query := "SELECT " + grantCols + " FROM oauth_grants"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY created_at, id"), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err())
}

func (s *DB) DeleteGrant(ctx context.Context, id string, now int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.inTxRetry(ctx, true, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.revokeTx(ctx, tx, "grant_id", id, now); err != nil {
			return err
		}
		// An enterprise installation takes the personal-resource
		// authorizations of its app in that enterprise with it.
		if _, err := s.txExec(ctx, tx, s.q("DELETE FROM account_authorizations WHERE kind = ? AND (credential_id, enterprise_id) IN "+
			"(SELECT app_id, owner_id FROM oauth_grants WHERE id = ? AND kind = ? AND owner_type = ?)"),
			string(store.AccountAuthApp), id, string(store.GrantAppAuth), string(store.OwnerEnterprise)); err != nil {
			return mapErr(err)
		}
		if _, err := s.txExec(ctx, tx, s.q("DELETE FROM oauth_device_codes WHERE grant_id = ?"), id); err != nil {
			return mapErr(err)
		}
		// Authorization codes go by cascade.
		return execOne(ctx, tx, s.q("DELETE FROM oauth_grants WHERE id = ?"), id)
	})
}

// Package identity manages people, enterprises, workspaces and resources:
// the validated operations on top of the store that the admin CLI, the
// console and the dev seed share.
package identity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cozeauth/cozeauth/internal/store"
)

// ErrInvalid marks a request that names something wrong; its message is for the caller.
var ErrInvalid = errors.New("invalid request")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Store is what identity operations need.
type Store interface {
	store.Users
	store.Enterprises
	store.Workspaces
	store.Resources
	DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error)
}

// Service validates and performs identity operations.
type Service struct {
	Store Store
	Now   func() time.Time
	// ResourceTypes, when set, are the only types CreateResource accepts
	// (permission.Catalog.ResourceTypes).
	ResourceTypes []string
}

var (
	usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	idRE       = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 8

// CreateUser creates a user with a personal account.
func (s *Service) CreateUser(ctx context.Context, username, password, nickname string) (store.User, error) {
	if !usernameRE.MatchString(username) {
		return store.User{}, invalid("username %q: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit", username)
	}
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return store.User{}, invalid("password must be at least %d characters", MinPasswordLen)
	}
	nickname, err := checkNickname(nickname, username)
	if err != nil {
		return store.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	id := store.NewID()
	u := store.User{ID: id, Username: username, Nickname: nickname, PasswordHash: hash,
		AccountID: id, CreatedAt: s.Now().Unix()}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, u.CreatedAt, "user.create", "user", u.ID, "",
		map[string]any{"username": u.Username, "account_id": u.AccountID}))
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.User{}, invalid("username %q is taken", username)
		}
		return store.User{}, err
	}
	return u, nil
}

// ResolveUser finds a user by ID or username.
func (s *Service) ResolveUser(ctx context.Context, ref string) (store.User, error) {
	if ref == "" {
		return store.User{}, invalid("a user is required")
	}
	u, err := s.Store.GetUser(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.Store.GetUserByUsername(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("%w: user %q not found", store.ErrNotFound, ref)
	}
	return u, err
}

func checkName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid("a %s name is required", what)
	}
	if utf8.RuneCountInString(name) > 100 {
		return "", invalid("%s name is longer than 100 characters", what)
	}
	return name, nil
}

// CreateEnterprise creates an enterprise with superAdmin as its SuperAdmin.
func (s *Service) CreateEnterprise(ctx context.Context, name, superAdminRef string) (store.Enterprise, error) {
	name, err := checkName("enterprise", name)
	if err != nil {
		return store.Enterprise{}, err
	}
	u, err := s.ResolveUser(ctx, superAdminRef)
	if err != nil {
		return store.Enterprise{}, err
	}
	e := store.Enterprise{ID: store.NewID(), Name: name, CreatedAt: s.Now().Unix()}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, e.CreatedAt, "enterprise.create", "enterprise", e.ID, e.ID,
		map[string]any{"name": e.Name, "super_admin": u.ID}))
	return e, s.Store.CreateEnterprise(ctx, e, u.ID)
}

// GetEnterprise returns an enterprise or a not-found error naming it.
func (s *Service) GetEnterprise(ctx context.Context, id string) (store.Enterprise, error) {
	e, err := s.Store.GetEnterprise(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, fmt.Errorf("%w: enterprise %q not found", store.ErrNotFound, id)
	}
	return e, err
}

// AddEnterpriseMember adds a user to an enterprise (or changes their role).
// SuperAdmin is given at creation only.
func (s *Service) AddEnterpriseMember(ctx context.Context, enterpriseID, userRef string, role store.EnterpriseRole) error {
	if role != store.RoleAdmin && role != store.RoleMember && role != store.RoleGuest {
		return invalid("role %q: want Admin, Member or Guest", role)
	}
	if _, err := s.GetEnterprise(ctx, enterpriseID); err != nil {
		return err
	}
	u, err := s.ResolveUser(ctx, userRef)
	if err != nil {
		return err
	}
	if m, err := s.Store.GetEnterpriseMember(ctx, enterpriseID, u.ID); err == nil && m.Role == store.RoleSuperAdmin {
		return invalid("user %q is the enterprise's SuperAdmin; their role cannot be changed here", userRef)
	}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, s.Now().Unix(), "enterprise.member.put", "enterprise", enterpriseID, enterpriseID,
		map[string]any{"user_id": u.ID, "role": role}))
	return s.Store.PutEnterpriseMember(ctx, store.EnterpriseMember{EnterpriseID: enterpriseID, UserID: u.ID, Role: role, CreatedAt: s.Now().Unix()})
}

// CreateWorkspace creates a workspace owned by a user's personal account
// (who becomes its owner member) or by an enterprise.
func (s *Service) CreateWorkspace(ctx context.Context, name, ownerRef, enterpriseID string) (store.Workspace, error) {
	return s.CreateWorkspaceWithID(ctx, "", name, ownerRef, enterpriseID)
}

// CreateWorkspaceWithID is CreateWorkspace with a chosen ID (generated when
// empty), so a workspace can carry the ID of the upstream's space.
func (s *Service) CreateWorkspaceWithID(ctx context.Context, id, name, ownerRef, enterpriseID string) (store.Workspace, error) {
	name, err := checkName("workspace", name)
	if err != nil {
		return store.Workspace{}, err
	}
	if (ownerRef == "") == (enterpriseID == "") {
		return store.Workspace{}, invalid("a workspace is owned by either a user or an enterprise: give exactly one")
	}
	if id == "" {
		id = store.NewID()
	} else if !idRE.MatchString(id) {
		return store.Workspace{}, invalid("workspace id %q: use up to 128 letters, digits, '_', '.', ':' or '-'", id)
	} else if _, err := s.Store.GetWorkspace(ctx, id); err == nil {
		return store.Workspace{}, invalid("a workspace with id %q already exists", id)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, err
	}
	now := s.Now().Unix()
	w := store.Workspace{ID: id, Name: name, CreatedAt: now}
	var owner *store.WorkspaceMember
	if ownerRef != "" {
		u, err := s.ResolveUser(ctx, ownerRef)
		if err != nil {
			return store.Workspace{}, err
		}
		w.Owner = u.Account()
		owner = &store.WorkspaceMember{WorkspaceID: w.ID, UserID: u.ID, Role: store.WorkspaceRoleOwner, CreatedAt: now}
	} else {
		if _, err := s.GetEnterprise(ctx, enterpriseID); err != nil {
			return store.Workspace{}, err
		}
		w.Owner = store.Owner{Type: store.OwnerEnterprise, ID: enterpriseID}
	}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, now, "workspace.create", "workspace", w.ID, enterpriseID,
		map[string]any{"name": w.Name, "owner_type": w.Owner.Type, "owner_id": w.Owner.ID}))
	if err := s.Store.CreateWorkspace(ctx, w, owner); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.Workspace{}, invalid("a workspace with id %q already exists", id)
		}
		return store.Workspace{}, err
	}
	return w, nil
}

// GetWorkspace returns a workspace or a not-found error naming it.
func (s *Service) GetWorkspace(ctx context.Context, id string) (store.Workspace, error) {
	w, err := s.Store.GetWorkspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return w, fmt.Errorf("%w: workspace %q not found", store.ErrNotFound, id)
	}
	return w, err
}

// AddWorkspaceMember adds a user to a workspace (or changes their role). A
// member of an enterprise workspace must be a member of the enterprise.
func (s *Service) AddWorkspaceMember(ctx context.Context, workspaceID, userRef string, role store.WorkspaceRole) error {
	if role != store.WorkspaceRoleAdmin && role != store.WorkspaceRoleMember {
		return invalid("role %q: want admin or member", role)
	}
	w, err := s.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return err
	}
	u, err := s.ResolveUser(ctx, userRef)
	if err != nil {
		return err
	}
	if m, err := s.Store.GetWorkspaceMember(ctx, workspaceID, u.ID); err == nil && m.Role == store.WorkspaceRoleOwner {
		return invalid("user %q owns workspace %q; the owner's role cannot be changed", userRef, workspaceID)
	}
	if w.Owner.Type == store.OwnerEnterprise {
		if _, err := s.Store.GetEnterpriseMember(ctx, w.Owner.ID, u.ID); errors.Is(err, store.ErrNotFound) {
			return invalid("user %q is not a member of enterprise %q, which owns workspace %q", userRef, w.Owner.ID, workspaceID)
		} else if err != nil {
			return err
		}
	}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, s.Now().Unix(), "workspace.member.put", "workspace", workspaceID,
		enterpriseOf(w.Owner), map[string]any{"user_id": u.ID, "role": role}))
	return s.Store.PutWorkspaceMember(ctx, store.WorkspaceMember{WorkspaceID: workspaceID, UserID: u.ID, Role: role, CreatedAt: s.Now().Unix()})
}

// RemoveWorkspaceMember removes a member; the owner cannot be removed.
func (s *Service) RemoveWorkspaceMember(ctx context.Context, workspaceID, userRef string) error {
	w, err := s.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return err
	}
	u, err := s.ResolveUser(ctx, userRef)
	if err != nil {
		return err
	}
	m, err := s.Store.GetWorkspaceMember(ctx, workspaceID, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: user %q is not a member of workspace %q", store.ErrNotFound, userRef, workspaceID)
	} else if err != nil {
		return err
	}
	if m.Role == store.WorkspaceRoleOwner {
		return invalid("user %q owns workspace %q and cannot be removed", userRef, workspaceID)
	}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, s.Now().Unix(), "workspace.member.remove", "workspace", workspaceID,
		enterpriseOf(w.Owner), map[string]any{"user_id": u.ID, "role": m.Role}))
	return s.Store.DeleteWorkspaceMember(ctx, workspaceID, u.ID)
}

// CreateResource registers a resource in a workspace; id is generated when empty.
func (s *Service) CreateResource(ctx context.Context, workspaceID, typ, id string) (store.Resource, error) {
	if s.ResourceTypes != nil && !slices.Contains(s.ResourceTypes, typ) {
		return store.Resource{}, invalid("resource type %q: want one of the catalog's: %s", typ, strings.Join(s.ResourceTypes, ", "))
	}
	if !idRE.MatchString(typ) || typ == "account" || typ == "enterprise" {
		return store.Resource{}, invalid("resource type %q: want a word such as bot or workflow", typ)
	}
	if id == "" {
		id = store.NewID()
	} else if !idRE.MatchString(id) {
		return store.Resource{}, invalid("resource id %q: use up to 128 letters, digits, '_', '.', ':' or '-'", id)
	}
	w, err := s.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return store.Resource{}, err
	}
	r := store.Resource{Type: typ, ID: id, WorkspaceID: workspaceID, CreatedAt: s.Now().Unix()}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, r.CreatedAt, "resource.create", typ, id, enterpriseOf(w.Owner),
		map[string]any{"workspace_id": workspaceID}))
	if err := s.Store.CreateResource(ctx, r); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.Resource{}, invalid("a %s with id %q already exists", typ, id)
		}
		return store.Resource{}, err
	}
	return r, nil
}

// enterpriseOf is the enterprise an owner is, or "" for a personal account.
func enterpriseOf(o store.Owner) string {
	if o.Type == store.OwnerEnterprise {
		return o.ID
	}
	return ""
}

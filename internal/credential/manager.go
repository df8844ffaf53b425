package credential

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// ErrInvalid marks a request that names something wrong (bad expiry, unknown
// permission or workspace, …); its message is meant for the caller.
var ErrInvalid = errors.New("invalid credential request")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ExpiryDays are the preset lifetimes a credential may be created with.
var ExpiryDays = []int{1, 30, 90, 180, 365}

// Expiry is how long a credential lives: one preset of ExpiryDays, a custom
// Unix time, or permanent. Exactly one must be set.
type Expiry struct {
	Days      int
	At        int64
	Permanent bool
}

// Resolve returns the expiry as a Unix time (0 = permanent).
func (e Expiry) Resolve(now time.Time) (int64, error) {
	set := 0
	if e.Days != 0 {
		set++
	}
	if e.At != 0 {
		set++
	}
	if e.Permanent {
		set++
	}
	switch {
	case set == 0:
		return 0, invalid("choose an expiry: days (%s), a custom expire_at, or permanent", daysList())
	case set > 1:
		return 0, invalid("choose only one of days, expire_at and permanent")
	case e.Permanent:
		return 0, nil
	case e.Days != 0:
		if !slices.Contains(ExpiryDays, e.Days) {
			return 0, invalid("expiry of %d days is not offered; choose one of %s", e.Days, daysList())
		}
		return now.Add(time.Duration(e.Days) * 24 * time.Hour).Unix(), nil
	default:
		if e.At <= now.Unix() {
			return 0, invalid("expire_at %d is not in the future", e.At)
		}
		return e.At, nil
	}
}

func daysList() string {
	s := make([]string, len(ExpiryDays))
	for i, d := range ExpiryDays {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, ", ")
}

// Spec describes a credential to create.
type Spec struct {
	Kind store.CredentialKind
	Name string
	// UserID: for a PAT the person who owns it (required); for a SAT the admin
	// who created it (optional).
	UserID string
	// EnterpriseID: a PAT created in an enterprise; required for a SAT.
	EnterpriseID  string
	Expiry        Expiry
	Permissions   []string
	AllWorkspaces bool
	WorkspaceIDs  []string
}

// Created is a new credential and its token, which is shown once and never
// stored.
type Created struct {
	Credential store.Credential
	Token      string
}

// Store is what the manager needs from storage.
type Store interface {
	store.Users
	store.Enterprises
	store.Workspaces
	store.Credentials
}

// Manager creates, changes and deletes PATs and SATs, validating every request
// against the catalog and the current memberships.
type Manager struct {
	Store   Store
	Catalog *permission.Catalog
	Now     func() time.Time
}

const maxNameRunes = 100

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalid("a name is required")
	case utf8.RuneCountInString(name) > maxNameRunes:
		return "", invalid("name is longer than %d characters", maxNameRunes)
	}
	return name, nil
}

// Create mints a credential per spec.
func (m *Manager) Create(ctx context.Context, spec Spec) (Created, error) {
	now := m.Now()
	name, err := checkName(spec.Name)
	if err != nil {
		return Created{}, err
	}
	expireAt, err := spec.Expiry.Resolve(now)
	if err != nil {
		return Created{}, err
	}
	c := store.Credential{
		ID: store.NewID(), Kind: spec.Kind, Name: name, UserID: spec.UserID,
		ExpireAt: expireAt, CreatedAt: now.Unix(), UpdatedAt: now.Unix(),
	}
	var prefix string
	switch spec.Kind {
	case store.KindPAT:
		prefix = PrefixPAT
		if spec.UserID == "" {
			return Created{}, invalid("a personal access token needs a user")
		}
		u, err := m.Store.GetUser(ctx, spec.UserID)
		if err != nil {
			return Created{}, notFound(err, "user %q", spec.UserID)
		}
		c.Owner = u.Account()
		if spec.EnterpriseID != "" {
			if err := m.checkEnterpriseMember(ctx, spec.EnterpriseID, spec.UserID); err != nil {
				return Created{}, err
			}
			c.Owner = store.Owner{Type: store.OwnerEnterprise, ID: spec.EnterpriseID}
		}
	case store.KindSAT:
		prefix = PrefixSAT
		if spec.EnterpriseID == "" {
			return Created{}, invalid("a service access token belongs to an enterprise")
		}
		if _, err := m.Store.GetEnterprise(ctx, spec.EnterpriseID); err != nil {
			return Created{}, notFound(err, "enterprise %q", spec.EnterpriseID)
		}
		if spec.UserID != "" {
			mem, err := m.Store.GetEnterpriseMember(ctx, spec.EnterpriseID, spec.UserID)
			if err != nil || !mem.Role.IsAdmin() {
				return Created{}, invalid("only an admin of enterprise %q can create its service access tokens", spec.EnterpriseID)
			}
		}
		c.Owner = store.Owner{Type: store.OwnerEnterprise, ID: spec.EnterpriseID}
	default:
		return Created{}, invalid("unknown credential kind %q", spec.Kind)
	}
	if err := m.setScope(ctx, &c, spec.Permissions, spec.AllWorkspaces, spec.WorkspaceIDs); err != nil {
		return Created{}, err
	}
	token := NewToken(prefix)
	c.TokenHash = Hash(token)
	ctx = store.WithAudit(ctx, auditEvent(ctx, now.Unix(), c, "create", map[string]any{"name": c.Name,
		"user_id": c.UserID, "permissions": c.Permissions, "all_workspaces": c.AllWorkspaces,
		"workspace_ids": c.WorkspaceIDs, "expire_at": c.ExpireAt}))
	if err := m.Store.CreateCredential(ctx, c); err != nil {
		return Created{}, err
	}
	return Created{Credential: c, Token: token}, nil
}

func (m *Manager) checkEnterpriseMember(ctx context.Context, enterpriseID, userID string) error {
	if _, err := m.Store.GetEnterprise(ctx, enterpriseID); err != nil {
		return notFound(err, "enterprise %q", enterpriseID)
	}
	if _, err := m.Store.GetEnterpriseMember(ctx, enterpriseID, userID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalid("user %q is not a member of enterprise %q", userID, enterpriseID)
		}
		return err
	}
	return nil
}

// setScope validates permissions and workspaces and stores them on c. Listed
// workspaces must belong to the credential's account and, for a PAT, have its
// user as a member.
func (m *Manager) setScope(ctx context.Context, c *store.Credential, perms []string, all bool, workspaces []string) error {
	perms, err := m.Catalog.Validate(perms)
	if err != nil {
		return invalid("%v", err)
	}
	if all && len(workspaces) > 0 {
		return invalid("choose either all workspaces or a list of workspaces")
	}
	needsWorkspaces := false
	for _, p := range perms {
		pp, _ := m.Catalog.Lookup(p)
		switch {
		case pp.Level == permission.LevelWorkspace:
			needsWorkspaces = true
		case pp.Level == permission.LevelEnterprise && c.Owner.Type != store.OwnerEnterprise:
			// It could never be used: an enterprise-level permission passes
			// only for a credential of that enterprise.
			return invalid("%s is an enterprise-level permission; a credential of a personal account cannot carry it (create it in the enterprise)", p)
		}
	}
	if needsWorkspaces && !all && len(workspaces) == 0 {
		return invalid("workspace permissions need a workspace option: all workspaces or a list of workspaces")
	}
	var ids []string
	for _, id := range workspaces {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		ws, err := m.Store.GetWorkspace(ctx, id)
		if err != nil {
			return notFound(err, "workspace %q", id)
		}
		if ws.Owner != c.Owner {
			return invalid("workspace %q does not belong to the account this credential is created in", id)
		}
		if c.Kind == store.KindPAT {
			if _, err := m.Store.GetWorkspaceMember(ctx, id, c.UserID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return invalid("user %q is not a member of workspace %q", c.UserID, id)
				}
				return err
			}
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	c.Permissions, c.AllWorkspaces, c.WorkspaceIDs = perms, all, ids
	return nil
}

// Change describes an edit; nil fields stay as they are.
type Change struct {
	Name          *string
	Permissions   *[]string
	AllWorkspaces *bool
	WorkspaceIDs  *[]string
}

// Update renames a credential or changes its permissions and workspaces.
//
// The change is worked out and validated first (which reads workspaces and
// memberships), then written by UpdateCredential, whose callback runs inside
// a transaction holding a connection and so must not read the store (with
// every pooled connection held by such a transaction, nothing would
// proceed). If the credential changed in between, Update starts over.
func (m *Manager) Update(ctx context.Context, id string, ch Change) (store.Credential, error) {
	detail := map[string]any{}
	if ch.Name != nil {
		detail["name"] = *ch.Name
	}
	if ch.Permissions != nil {
		detail["permissions"] = *ch.Permissions
	}
	if ch.AllWorkspaces != nil {
		detail["all_workspaces"] = *ch.AllWorkspaces
	}
	if ch.WorkspaceIDs != nil {
		detail["workspace_ids"] = *ch.WorkspaceIDs
	}
	for attempt := 1; ; attempt++ {
		cur, err := m.Store.GetCredential(ctx, id)
		if err != nil {
			return store.Credential{}, notFound(err, "credential %q", id)
		}
		next, err := m.changed(ctx, cur, ch)
		if err != nil {
			return store.Credential{}, err
		}
		// A fresh event each attempt: one rolled back by a retry is not written.
		actx := store.WithAudit(ctx, auditEvent(ctx, m.Now().Unix(), cur, "update", detail))
		out, err := m.Store.UpdateCredential(actx, id, func(c store.Credential) (store.Credential, error) {
			if !sameEditable(c, cur) {
				return c, errChangedMeanwhile
			}
			c.Name, c.Permissions, c.AllWorkspaces, c.WorkspaceIDs = next.Name, next.Permissions, next.AllWorkspaces, next.WorkspaceIDs
			c.UpdatedAt = m.Now().Unix()
			return c, nil
		})
		if errors.Is(err, errChangedMeanwhile) && attempt < maxUpdateAttempts {
			continue
		}
		return out, err
	}
}

// errChangedMeanwhile: the credential changed between Update's validation
// and its write.
var errChangedMeanwhile = errors.New("the credential changed meanwhile; try again")

const maxUpdateAttempts = 5

// changed returns c with ch applied and its scope validated.
func (m *Manager) changed(ctx context.Context, c store.Credential, ch Change) (store.Credential, error) {
	if ch.Name != nil {
		name, err := checkName(*ch.Name)
		if err != nil {
			return c, err
		}
		c.Name = name
	}
	perms, all, ws := c.Permissions, c.AllWorkspaces, c.WorkspaceIDs
	if ch.Permissions != nil {
		perms = *ch.Permissions
	}
	if ch.AllWorkspaces != nil {
		all = *ch.AllWorkspaces
		if all {
			ws = nil
		}
	}
	if ch.WorkspaceIDs != nil {
		ws = *ch.WorkspaceIDs
		if ch.AllWorkspaces == nil {
			all = false
		}
	}
	if err := m.setScope(ctx, &c, perms, all, ws); err != nil {
		return c, err
	}
	return c, nil
}

// sameEditable reports whether a and b agree on everything Update reads to
// work out a change.
func sameEditable(a, b store.Credential) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.UserID == b.UserID && a.Owner == b.Owner &&
		a.AllWorkspaces == b.AllWorkspaces && slices.Equal(a.Permissions, b.Permissions) &&
		slices.Equal(a.WorkspaceIDs, b.WorkspaceIDs)
}

// Delete revokes a credential by removing it.
func (m *Manager) Delete(ctx context.Context, id string) error {
	c, err := m.Store.GetCredential(ctx, id)
	if err != nil {
		return notFound(err, "credential %q", id)
	}
	ctx = store.WithAudit(ctx, auditEvent(ctx, m.Now().Unix(), c, "delete", map[string]any{"name": c.Name, "user_id": c.UserID}))
	if err := m.Store.DeleteCredential(ctx, id); err != nil {
		return notFound(err, "credential %q", id)
	}
	return nil
}

// notFound turns store.ErrNotFound into a message naming what was missing.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s not found", store.ErrNotFound, fmt.Sprintf(format, args...))
	}
	return err
}

// auditEvent records a change of c: action "pat.create", "sat.delete", … on
// target (kind, ID), in the credential's enterprise if it has one.
func auditEvent(ctx context.Context, at int64, c store.Credential, verb string, detail map[string]any) store.AuditEvent {
	ent := ""
	if c.Owner.Type == store.OwnerEnterprise {
		ent = c.Owner.ID
	}
	return store.NewAuditEvent(ctx, at, string(c.Kind)+"."+verb, string(c.Kind), c.ID, ent, detail)
}

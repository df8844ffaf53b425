package enterprise

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cozeauth/cozeauth/internal/store"
)

// ParseRole reads an enterprise role in any case and in either spelling: the
// console's and CLI's (SuperAdmin, Admin, Member, Guest) or the members
// OpenAPI's (enterprise_admin, …; WIRE.md §8.4). enterprise_admin is Admin.
func ParseRole(role string) (store.EnterpriseRole, error) {
	r := strings.ToLower(strings.TrimSpace(role))
	r = strings.TrimPrefix(r, "enterprise_")
	switch strings.ReplaceAll(r, "_", "") {
	case "superadmin":
		return store.RoleSuperAdmin, nil
	case "admin":
		return store.RoleAdmin, nil
	case "member":
		return store.RoleMember, nil
	case "guest":
		return store.RoleGuest, nil
	}
	return "", invalid("role %q: use Admin, Member or Guest (enterprise_admin, enterprise_member)", role)
}

// WireRole maps the roles of the members OpenAPI (WIRE.md §8.4) to ours, with
// ParseRole's leniency. SuperAdmin and Guest are not assignable there.
func WireRole(role string) (store.EnterpriseRole, error) {
	r, err := ParseRole(role)
	if err == nil && (r == store.RoleAdmin || r == store.RoleMember) {
		return r, nil
	}
	return "", invalid("role %q: use enterprise_admin or enterprise_member", role)
}

// NewMember is one user to add, with the role.
type NewMember struct {
	UserID string
	Role   store.EnterpriseRole
}

// AddMembers adds users to the enterprise (or changes the role of those
// already in it, except a SuperAdmin's). Every user must exist; nothing is
// added when one does not. The actor (of this and the other members calls)
// is recorded in the audit log: the credential's user, or "" for the
// enterprise's SAT or installed app; the caller has already been allowed
// Enterprise.manageMembers by the decision function.
func (s *Service) AddMembers(ctx context.Context, enterpriseID, actor string, ms []NewMember) error {
	if _, err := s.enterprise(ctx, enterpriseID); err != nil {
		return err
	}
	if len(ms) == 0 {
		return invalid("name at least one user to add")
	}
	for _, m := range ms {
		if _, err := s.user(ctx, m.UserID); err != nil {
			return err
		}
		if err := s.checkChangeable(ctx, enterpriseID, m.UserID, m.Role); err != nil {
			return err
		}
	}
	for _, m := range ms {
		actx := s.withAudit(ctx, actor, "enterprise.member.put", "enterprise", enterpriseID,
			map[string]any{"user_id": m.UserID, "role": m.Role})
		if err := s.Store.PutEnterpriseMember(actx, store.EnterpriseMember{EnterpriseID: enterpriseID, UserID: m.UserID,
			Role: m.Role, CreatedAt: s.Now().Unix()}); err != nil {
			return err
		}
	}
	s.changed()
	return nil
}

// checkChangeable refuses roles the members API cannot give and changes to a
// SuperAdmin (who is changed only by the enterprise's own tools).
func (s *Service) checkChangeable(ctx context.Context, enterpriseID, userID string, role store.EnterpriseRole) error {
	if role != store.RoleAdmin && role != store.RoleMember && role != "" {
		return invalid("role %q cannot be given here", role)
	}
	cur, err := s.Store.GetEnterpriseMember(ctx, enterpriseID, userID)
	if err == nil && cur.Role == store.RoleSuperAdmin {
		return invalid("user %q is the SuperAdmin of enterprise %q and cannot be changed or removed here", userID, enterpriseID)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// SetMemberRole changes a member's role.
func (s *Service) SetMemberRole(ctx context.Context, enterpriseID, actor, userID string, role store.EnterpriseRole) error {
	if _, err := s.member(ctx, enterpriseID, userID); err != nil {
		return err
	}
	if err := s.checkChangeable(ctx, enterpriseID, userID, role); err != nil {
		return err
	}
	return s.AddMembers(ctx, enterpriseID, actor, []NewMember{{UserID: userID, Role: role}})
}

func (s *Service) member(ctx context.Context, enterpriseID, userID string) (store.EnterpriseMember, error) {
	if _, err := s.enterprise(ctx, enterpriseID); err != nil {
		return store.EnterpriseMember{}, err
	}
	m, err := s.Store.GetEnterpriseMember(ctx, enterpriseID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return m, fmt.Errorf("%w: user %q is not a member of enterprise %q", store.ErrNotFound, userID, enterpriseID)
	}
	return m, err
}

// RemoveMember removes a member; the workspaces they owned in the enterprise
// go to receiverID, a member of the enterprise. Their enterprise credentials
// stop at once (the decision needs the user to be a member).
func (s *Service) RemoveMember(ctx context.Context, enterpriseID, actor, userID, receiverID string) error {
	if _, err := s.member(ctx, enterpriseID, userID); err != nil {
		return err
	}
	if err := s.checkChangeable(ctx, enterpriseID, userID, ""); err != nil {
		return err
	}
	if receiverID == "" {
		return invalid("receiver_user_id is required: the member's workspaces go to them")
	}
	if _, err := s.member(ctx, enterpriseID, receiverID); err != nil {
		return invalid("receiver %q is not a member of enterprise %q", receiverID, enterpriseID)
	}
	ev := s.audit(ctx, actor, "enterprise.member.remove", "enterprise", enterpriseID,
		map[string]any{"user_id": userID, "receiver_user_id": receiverID})
	if err := s.Store.RemoveEnterpriseMember(ctx, enterpriseID, userID, receiverID, ev); err != nil {
		return err
	}
	s.changed()
	return nil
}

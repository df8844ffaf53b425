package permission

import (
	"slices"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Code is the Coze API code of a decision (WIRE.md §7).
type Code int

const (
	Allowed         Code = 0
	Unauthenticated Code = 4100 // missing, unknown, expired, revoked or deactivated credential
	Forbidden       Code = 4101 // lacks the permission, the workspace or the account
	NotFound        Code = 4200 // the resource does not exist
)

// Credential is any bearer credential (PAT, SAT, OAuth token) as the decision
// sees it.
type Credential struct {
	ID string
	// Account is the account the credential belongs to; "all workspaces" means
	// all workspaces owned by this account.
	Account store.Owner
	// UserID is the person the credential acts for; empty when it acts as a
	// service or an app (then reach is bounded by the account alone).
	UserID        string
	Permissions   []string // sorted
	AllWorkspaces bool
	Workspaces    []string // sorted; only when !AllWorkspaces
	ExpireAt      int64    // Unix seconds; 0 = permanent
	Revoked       bool
	Disabled      bool // its app or identity is deactivated
	// BotIDs, when non-empty, limits Connector.botChat to these bots (the
	// JWT scope's attribute_constraint.connector_bot_chat_attribute).
	BotIDs []string
	// AuthorizableID is the ID under which a personal account can authorize
	// this enterprise credential to reach its account-level resources: a
	// PAT's own ID, or the app ID of an enterprise installation's token.
	// Empty for credentials that cannot be authorized so (OBO tokens, SATs).
	AuthorizableID string
}

// BotConstrained is the permission that a credential's BotIDs limit.
const BotConstrained = "Connector.botChat"

// Has reports whether the credential carries the permission.
func (c *Credential) Has(name string) bool {
	_, ok := slices.BinarySearch(c.Permissions, name)
	return ok
}

// Live reports whether the credential is usable at now (Unix seconds).
func (c *Credential) Live(now int64) bool {
	return !c.Revoked && !c.Disabled && (c.ExpireAt == 0 || now < c.ExpireAt)
}

// Reaches reports whether the credential's workspace scope includes ws: the
// workspace must belong to the credential's account (a personal credential
// never reaches an enterprise workspace and vice versa), and be listed or
// covered by "all workspaces".
func (c *Credential) Reaches(ws store.Workspace) bool {
	if ws.Owner != c.Account {
		return false
	}
	if c.AllWorkspaces {
		return true
	}
	_, ok := slices.BinarySearch(c.Workspaces, ws.ID)
	return ok
}

// Target describes the resource a request acts on, with the facts about it
// that the decision needs, gathered from the store.
type Target struct {
	Type string
	ID   string
	// Exists is false when no such resource (or account) exists.
	Exists bool
	// Workspace holds the resource's workspace for workspace-level resources.
	Workspace store.Workspace
	// SubjectIsMember: the credential's user is a member of Workspace.
	SubjectIsMember bool
	// AccountID is the owning account for account-level targets.
	AccountID string
	// AccountAuthorized: the owner of AccountID authorized this (enterprise)
	// credential to reach their personal account-level resources.
	AccountAuthorized bool
	// SubjectIsAdmin: for enterprise-level targets, the credential's user is
	// a SuperAdmin or Admin of the enterprise.
	SubjectIsAdmin bool
}

// Facts are the current memberships the decision depends on.
type Facts struct {
	// SubjectInAccount: for a credential acting for a user in an enterprise, the
	// user is still a member of that enterprise. Always true for personal accounts
	// and for credentials without a user.
	SubjectInAccount bool
	// Target is nil when the request names no resource: then only the
	// credential's validity and the permission are checked.
	Target *Target
	// BotID is the bot a Connector.botChat request is about ("" if none).
	BotID string
}

// Decision is the outcome of Decide, with a reason for logs and error messages.
type Decision struct {
	Code   Code
	Reason string
}

// OK reports whether access is allowed.
func (d Decision) OK() bool { return d.Code == Allowed }

// Decide is the authorization decision of PRODUCT.md. It is a pure function of
// the credential, the permission (nil: only a valid credential is needed), the
// facts and the time.
func Decide(now int64, c *Credential, p *Permission, f Facts) Decision {
	// 1. The credential itself.
	if c == nil {
		return Decision{Unauthenticated, "unknown credential"}
	}
	switch {
	case c.Revoked:
		return Decision{Unauthenticated, "credential revoked"}
	case c.Disabled:
		return Decision{Unauthenticated, "credential's app or identity is deactivated"}
	case c.ExpireAt != 0 && now >= c.ExpireAt:
		return Decision{Unauthenticated, "credential expired"}
	case !f.SubjectInAccount:
		return Decision{Unauthenticated, "credential's user is no longer a member of its account"}
	}
	if p == nil {
		return Decision{Allowed, ""}
	}
	// 2. The permission.
	if !c.Has(p.Name) {
		return Decision{Forbidden, "credential lacks permission " + p.Name}
	}
	if p.Name == BotConstrained && len(c.BotIDs) > 0 && !slices.Contains(c.BotIDs, f.BotID) {
		return Decision{Forbidden, "credential's " + BotConstrained + " is limited to other bots"}
	}
	t := f.Target
	if t == nil {
		return Decision{Allowed, ""}
	}
	// 5 (checked here: nothing below means anything without the resource).
	if !t.Exists {
		return Decision{NotFound, t.Type + " " + t.ID + " not found"}
	}
	switch p.Level {
	case LevelWorkspace:
		// 3. Workspace scope and current membership.
		if !c.Reaches(t.Workspace) {
			return Decision{Forbidden, "credential does not reach workspace " + t.Workspace.ID}
		}
		if c.UserID != "" && !t.SubjectIsMember {
			return Decision{Forbidden, "user is not a member of workspace " + t.Workspace.ID}
		}
	case LevelAccount:
		// 4. The account's own resources, or an account that authorized this
		// enterprise credential.
		if t.AccountID != c.Account.ID && !(c.Account.Type == store.OwnerEnterprise && c.AuthorizableID != "" && t.AccountAuthorized) {
			return Decision{Forbidden, "credential does not act in account " + t.AccountID}
		}
	case LevelEnterprise:
		// The enterprise's own credentials; one acting for a person needs that
		// person to administer the enterprise.
		if c.Account != (store.Owner{Type: store.OwnerEnterprise, ID: t.ID}) {
			return Decision{Forbidden, "credential does not act in enterprise " + t.ID}
		}
		if c.UserID != "" && !t.SubjectIsAdmin {
			return Decision{Forbidden, "user is not an admin of enterprise " + t.ID}
		}
	}
	return Decision{Allowed, ""}
}

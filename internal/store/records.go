package store

// OwnerType says what kind of account owns a workspace or a credential.
type OwnerType string

const (
	// OwnerPersonal: a user's personal account; Owner.ID is the account ID.
	OwnerPersonal OwnerType = "personal"
	// OwnerEnterprise: an enterprise; Owner.ID is the enterprise ID.
	OwnerEnterprise OwnerType = "enterprise"
)

// Owner is an account: a personal account or an enterprise. Workspaces and
// credentials belong to exactly one. "All workspaces" on a credential means all
// workspaces whose Owner equals the credential's Owner.
type Owner struct {
	Type OwnerType
	ID   string
}

// Valid reports whether the owner names a known account type and an ID.
func (o Owner) Valid() bool {
	return (o.Type == OwnerPersonal || o.Type == OwnerEnterprise) && o.ID != ""
}

// User is a person. Each user has one personal account, whose ID (AccountID)
// is the user's ID, as the user's UID is on Coze.
type User struct {
	ID           string
	Username     string
	Nickname     string
	AvatarURL    string
	PasswordHash string
	AccountID    string
	CreatedAt    int64
}

// Account returns the user's personal account as an Owner.
func (u User) Account() Owner { return Owner{Type: OwnerPersonal, ID: u.AccountID} }

// EnterpriseRole is a member's role in an enterprise.
type EnterpriseRole string

const (
	RoleSuperAdmin EnterpriseRole = "SuperAdmin"
	RoleAdmin      EnterpriseRole = "Admin"
	RoleMember     EnterpriseRole = "Member"
	RoleGuest      EnterpriseRole = "Guest"
)

// Valid reports whether r is one of the four enterprise roles.
func (r EnterpriseRole) Valid() bool {
	switch r {
	case RoleSuperAdmin, RoleAdmin, RoleMember, RoleGuest:
		return true
	}
	return false
}

// IsAdmin reports whether the role administers the enterprise.
func (r EnterpriseRole) IsAdmin() bool { return r == RoleSuperAdmin || r == RoleAdmin }

// Enterprise is an organization whose members act in its workspaces.
type Enterprise struct {
	ID        string
	Name      string
	CreatedAt int64
}

// EnterpriseMember is one user's membership in one enterprise.
type EnterpriseMember struct {
	EnterpriseID string
	UserID       string
	Role         EnterpriseRole
	CreatedAt    int64
}

// WorkspaceRole is a member's role in a workspace (WIRE.md §8.2 role_type).
type WorkspaceRole string

const (
	WorkspaceRoleOwner  WorkspaceRole = "owner"
	WorkspaceRoleAdmin  WorkspaceRole = "admin"
	WorkspaceRoleMember WorkspaceRole = "member"
)

// Valid reports whether r is one of the three workspace roles.
func (r WorkspaceRole) Valid() bool {
	return r == WorkspaceRoleOwner || r == WorkspaceRoleAdmin || r == WorkspaceRoleMember
}

// Workspace is owned by one personal account or one enterprise.
type Workspace struct {
	ID        string
	Name      string
	IconURL   string
	Owner     Owner
	CreatedAt int64
}

// WorkspaceMember is one user's membership in one workspace.
type WorkspaceMember struct {
	WorkspaceID string
	UserID      string
	Role        WorkspaceRole
	CreatedAt   int64
}

// MemberWorkspace is a workspace seen from one member: the workspace and the
// member's role in it.
type MemberWorkspace struct {
	Workspace
	Role WorkspaceRole
}

// Resource is a typed object (bot, workflow, …) living in a workspace, or an
// account-level object (conversation, voice, …) belonging to an account; exactly
// one of WorkspaceID and AccountID is set.
type Resource struct {
	Type        string
	ID          string
	WorkspaceID string
	AccountID   string
	CreatedAt   int64
}

// CredentialKind says how a credential was issued.
type CredentialKind string

const (
	// KindPAT is a personal access token (pat_…), created by a user.
	KindPAT CredentialKind = "pat"
	// KindSAT is a service access token (sat_…) of an enterprise service identity.
	KindSAT CredentialKind = "sat"
)

// Credential is a long-lived bearer credential (PAT or SAT). Only the hash of
// its token is stored.
type Credential struct {
	ID   string
	Kind CredentialKind
	Name string
	// TokenHash is the hex SHA-256 of the full token string.
	TokenHash string
	// UserID is the person who created the credential. For a PAT it is also the
	// subject the credential acts as; a SAT acts as its service identity.
	UserID string
	// Owner is the account the credential belongs to.
	Owner Owner
	// Permissions are catalog permission names (account, workspace and
	// enterprise level together).
	Permissions   []string
	AllWorkspaces bool
	WorkspaceIDs  []string
	// ExpireAt is a Unix time in seconds; 0 means permanent.
	ExpireAt   int64
	CreatedAt  int64
	UpdatedAt  int64
	LastUsedAt int64 // 0: never used
}

// CredentialFilter selects credentials to list. Zero fields match everything.
type CredentialFilter struct {
	Kind   CredentialKind
	UserID string
	Owner  Owner
}

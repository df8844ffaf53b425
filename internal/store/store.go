package store

import "context"

// Users stores people and their personal accounts.
type Users interface {
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByUsername(ctx context.Context, username string) (User, error)
	GetUserByAccountID(ctx context.Context, accountID string) (User, error)
	// GetUserByAccountAlias finds the user whose personal account had the ID
	// alias before a user's account ID became their user ID (migration 0010).
	GetUserByAccountAlias(ctx context.Context, alias string) (User, error)
	// ListUsers lists users by creation time, then ID.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser applies fn to the stored user in one transaction; fn may
	// change the nickname, avatar URL and password hash (not the ID, the
	// username or the account ID).
	UpdateUser(ctx context.Context, id string, fn func(User) (User, error)) (User, error)
	// DeleteUser deletes a user who belongs to no enterprise (ErrInvalid
	// otherwise), with their personal account: its workspaces and their
	// resources, its PATs and apps (with everything those hold), the OAuth
	// authorizations the user gave (their tokens revoked) and the user's
	// sessions, memberships and upstream token; revoked tokens record now.
	// The audit log keeps its history.
	DeleteUser(ctx context.Context, id string, now int64) error
}

// Enterprises stores enterprises and their members.
type Enterprises interface {
	// CreateEnterprise creates the enterprise and makes superAdmin its
	// SuperAdmin in one transaction.
	CreateEnterprise(ctx context.Context, e Enterprise, superAdmin string) error
	GetEnterprise(ctx context.Context, id string) (Enterprise, error)
	// ListEnterprises lists every enterprise by creation time, then ID.
	ListEnterprises(ctx context.Context) ([]Enterprise, error)
	// PutEnterpriseMember adds a member or changes the role of an existing one.
	PutEnterpriseMember(ctx context.Context, m EnterpriseMember) error
	DeleteEnterpriseMember(ctx context.Context, enterpriseID, userID string) error
	GetEnterpriseMember(ctx context.Context, enterpriseID, userID string) (EnterpriseMember, error)
	// ListEnterpriseMembers and ListUserEnterprises order by creation time.
	ListEnterpriseMembers(ctx context.Context, enterpriseID string) ([]EnterpriseMember, error)
	ListUserEnterprises(ctx context.Context, userID string) ([]EnterpriseMember, error)
}

// Workspaces stores workspaces and their members.
type Workspaces interface {
	// CreateWorkspace creates the workspace and, when owner is non-nil, its
	// first member, in one transaction.
	CreateWorkspace(ctx context.Context, w Workspace, owner *WorkspaceMember) error
	GetWorkspace(ctx context.Context, id string) (Workspace, error)
	// ListWorkspacesByOwner orders by creation time, then ID.
	ListWorkspacesByOwner(ctx context.Context, owner Owner) ([]Workspace, error)
	PutWorkspaceMember(ctx context.Context, m WorkspaceMember) error
	DeleteWorkspaceMember(ctx context.Context, workspaceID, userID string) error
	GetWorkspaceMember(ctx context.Context, workspaceID, userID string) (WorkspaceMember, error)
	// ListMemberWorkspaces lists the workspaces userID is a member of, ordered
	// by creation time then ID.
	ListMemberWorkspaces(ctx context.Context, userID string) ([]MemberWorkspace, error)
}

// Resources stores typed objects in workspaces or accounts.
type Resources interface {
	CreateResource(ctx context.Context, r Resource) error
	GetResource(ctx context.Context, typ, id string) (Resource, error)
	// DeleteResource removes a resource; it advances the revision.
	DeleteResource(ctx context.Context, typ, id string) error
}

// UpstreamTokens stores users' own credentials for the gateway's upstream,
// sealed by the caller (the store never sees them in the clear).
type UpstreamTokens interface {
	// PutUpstreamToken sets or replaces a user's sealed token; it advances
	// the revision so every process drops its cached copy.
	PutUpstreamToken(ctx context.Context, userID, sealed string, at int64) error
	GetUpstreamToken(ctx context.Context, userID string) (sealed string, err error)
	DeleteUpstreamToken(ctx context.Context, userID string) error
}

// Credentials stores PATs and SATs by token hash.
type Credentials interface {
	CreateCredential(ctx context.Context, c Credential) error
	GetCredential(ctx context.Context, id string) (Credential, error)
	GetCredentialByHash(ctx context.Context, tokenHash string) (Credential, error)
	// ListCredentials lists the newest first.
	ListCredentials(ctx context.Context, f CredentialFilter) ([]Credential, error)
	// UpdateCredential runs update on the current record inside a transaction
	// and stores what it returns; ID, Kind, TokenHash and CreatedAt cannot change.
	UpdateCredential(ctx context.Context, id string, update func(Credential) (Credential, error)) (Credential, error)
	DeleteCredential(ctx context.Context, id string) error
	// TouchCredentials records last-used times in one batch; it is not a
	// security-relevant change and does not advance the revision.
	TouchCredentials(ctx context.Context, lastUsed map[string]int64) error
}

// Revisions exposes a counter that advances on every security-relevant change
// (credential deleted, membership removed, …), so server processes sharing the
// database can drop their caches promptly.
type Revisions interface {
	Revision(ctx context.Context) (int64, error)
}

// Store is everything a backend provides. Feature packages take the small
// interfaces above; only wiring code holds a whole Store.
type Store interface {
	Users
	Enterprises
	Workspaces
	Resources
	Credentials
	Revisions
	OAuth
	Sessions
	AccountAuthorizations
	Audit
	EnterpriseOps
	UpstreamTokens
	Ping(ctx context.Context) error
	Close() error
}

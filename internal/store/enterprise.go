package store

import "context"

// AccountAuthKind says what kind of enterprise credential an account
// authorized.
type AccountAuthKind string

const (
	// AccountAuthPAT: an enterprise PAT (CredentialID is the PAT's ID).
	AccountAuthPAT AccountAuthKind = "pat"
	// AccountAuthApp: a Service app installed in the enterprise (CredentialID
	// is the app's ID); every token of that installation is covered.
	AccountAuthApp AccountAuthKind = "app"
)

// AccountAuthorization lets an enterprise credential reach the account-level
// resources of a personal account ("personal account resource
// authorization"). There is at most one per (AccountID, CredentialID).
type AccountAuthorization struct {
	AccountID    string // the personal account
	CredentialID string
	Kind         AccountAuthKind
	EnterpriseID string // the enterprise the credential acts in
	CreatedBy    string // the user who authorized (the account's owner)
	CreatedAt    int64
}

// AccountAuthorizations stores personal account resource authorizations.
// Adding one does not advance the revision (nothing loses access); deleting
// does. They also end with their credential (DeleteCredential, DeleteApp, the
// enterprise installation's DeleteGrant) and when the user who gave them
// leaves the enterprise or stops administering it (DeleteEnterpriseMember,
// RemoveEnterpriseMember, PutEnterpriseMember with a non-admin role).
type AccountAuthorizations interface {
	// PutAccountAuthorization creates the authorization; an existing one is
	// left as it is (no error).
	PutAccountAuthorization(ctx context.Context, a AccountAuthorization) error
	GetAccountAuthorization(ctx context.Context, accountID, credentialID string) (AccountAuthorization, error)
	// ListAccountAuthorizations orders by creation time, then credential ID.
	ListAccountAuthorizations(ctx context.Context, accountID string) ([]AccountAuthorization, error)
	DeleteAccountAuthorization(ctx context.Context, accountID, credentialID string) error
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID           string
	At           int64
	ActorID      string // the user who acted ("" for the CLI or the system)
	ActorType    string // ActorUser, ActorCLI or ActorSystem ("" is read as system)
	Action       string // dotted, e.g. "workspace.migrate", "pat.create", "signin.failure"
	TargetType   string
	TargetID     string
	EnterpriseID string // the enterprise the target belongs to, "" for personal ones
	IP           string // client IP of the HTTP request, "" otherwise
	LogID        string // the request's log ID, "" otherwise
	Detail       string // a JSON object ("{}" when there is nothing more); never a secret
}

// AuditFilter selects audit events. Zero fields match everything; Limit 0
// means no limit.
type AuditFilter struct {
	ActorID    string
	TargetType string
	TargetID   string
	Action     string // an exact action, or a prefix ending in "." ("pat." matches every PAT action)
	Since      int64  // At >= Since when non-zero
	Until      int64  // At <= Until when non-zero
	// Before is a pagination cursor: the ID of the last event of the
	// previous page; only events listed after it are returned.
	Before string
	// Visible, when non-nil, keeps only the events its user may see.
	Visible *AuditVisibility
	Limit   int
}

// AuditVisibility is who may read which events: a user sees the events they
// made, the events about them (target user), and every event of the
// enterprises they administer.
type AuditVisibility struct {
	UserID        string
	EnterpriseIDs []string
}

// Audit stores the audit log. Appending does not advance the revision.
type Audit interface {
	AppendAudit(ctx context.Context, e AuditEvent) error
	// ListAudit lists the newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// EnterpriseOps are the multi-record changes of the enterprise upgrade, each
// one transaction that also appends its audit event and advances the
// revision.
type EnterpriseOps interface {
	// MigrateWorkspaces moves the workspaces, with the resources that live in
	// them, from one account to another. Every workspace must still be owned
	// by from, else nothing moves and the error wraps ErrInvalid (someone
	// moved or deleted one meanwhile).
	MigrateWorkspaces(ctx context.Context, ids []string, from, to Owner, audit AuditEvent) error
	// RemoveEnterpriseMember removes userID from the enterprise and from its
	// workspaces; the workspaces userID owned go to receiverID (who must be
	// a member of the enterprise and becomes their owner), and the
	// authorizations userID's account gave the enterprise's credentials end.
	RemoveEnterpriseMember(ctx context.Context, enterpriseID, userID, receiverID string, audit AuditEvent) error
}
